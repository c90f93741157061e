"""The hazardous substances table (data in substances.json): names, hazards and the capabilities they call for.

Critical quantities (临界量, tonnes) are those of GB 18218-2018 table 1 as recalled, not checked against the
published text [U]; they are shown as a guide, never used to refuse a record.
"""

import json
from functools import cache
from pathlib import Path

DATA = Path(__file__).with_name("substances.json")


@cache
def table() -> dict[str, dict]:
    """code → substance entry, in file order."""
    return {s["code"]: s for s in json.loads(DATA.read_text(encoding="utf-8"))}


@cache
def _names() -> dict[str, str]:
    out = {}
    for code, s in table().items():
        for name in (code, s["name"], *s.get("aliases", ())):
            out[name.casefold()] = code
    return out


def resolve(name_or_code: str) -> str | None:
    """The code of a substance given by code, Chinese name or alias (None: unknown)."""
    return _names().get(str(name_or_code).strip().casefold())


def label(code: str) -> str:
    entry = table().get(code)
    return entry["name"] if entry else code
