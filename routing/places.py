"""Gazetteer: find a named place (city, county seat, town, site) and its WGS-84 point."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Place:
    """A named place; ``lat``/``lon`` in WGS-84 degrees; ``verified`` False for unconfirmed points."""

    name: str
    lat: float
    lon: float
    kind: str
    aliases: tuple[str, ...] = ()
    county: str = ""
    prefecture: str = ""
    verified: bool = False
    extra: dict = field(default_factory=dict, compare=False, repr=False)


def _norm(text: str) -> str:
    # full-width brackets/spaces and case differences should not defeat a lookup
    return unicodedata.normalize("NFKC", text).strip().lower().replace(" ", "")


# administrative suffixes people leave out ("灵武" for 灵武市), longest first
_SUFFIXES = ("回族自治县", "自治县", "市", "县", "区", "镇", "乡")


class Gazetteer:
    """Name lookup: exact name, alias, name without suffix, then prefix and substring matches."""

    def __init__(self, places: list[Place]) -> None:
        self.places = list(places)
        self._exact: dict[str, list[Place]] = {}
        for p in self.places:
            keys = {_norm(p.name), *(_norm(a) for a in p.aliases)}
            for key in list(keys):
                for suffix in _SUFFIXES:
                    if key.endswith(suffix) and len(key) > len(suffix) + 1:
                        keys.add(key[: -len(suffix)])
                        break
            for key in keys:
                self._exact.setdefault(key, []).append(p)

    @classmethod
    def from_json(cls, path: str | Path) -> Gazetteer:
        """Read a list of places, or {"places": [...]}, each {name, lat, lon, kind, aliases, ...}."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls.from_records(data["places"] if isinstance(data, dict) else data)

    @classmethod
    def from_records(cls, items: list[dict]) -> Gazetteer:
        """Build from dicts {name, lat, lon, kind, aliases, county, prefecture, verified, ...}."""
        known = {"name", "lat", "lon", "kind", "aliases", "county", "prefecture", "verified"}
        return cls(
            [
                Place(
                    name=d["name"], lat=float(d["lat"]), lon=float(d["lon"]), kind=d.get("kind", ""),
                    aliases=tuple(d.get("aliases", ())), county=d.get("county", ""),
                    prefecture=d.get("prefecture", ""), verified=bool(d.get("verified", False)),
                    extra={k: v for k, v in d.items() if k not in known},
                )
                for d in items
            ]
        )

    # kinds that win a tie between equally good matches: a city beats a site named after it
    _RANK = {"prefecture_city": 0, "county": 1, "town": 2, "key_site": 3}

    def _best(self, places: list[Place]) -> Place:
        return min(places, key=lambda p: (self._RANK.get(p.kind, 9), len(p.name)))

    def find(self, query: str) -> Place | None:
        """Return the best place for ``query`` or None ("灵武" finds 灵武市)."""
        matches = self.search(query, limit=1)
        return matches[0] if matches else None

    def search(self, query: str, *, limit: int = 10) -> list[Place]:
        """Return places matching ``query``, best first: exact/alias, prefix, then substring."""
        q = _norm(query)
        if not q:
            return []
        if q in self._exact:
            exact = sorted(self._exact[q], key=lambda p: (self._RANK.get(p.kind, 9), len(p.name)))
            return exact[:limit]
        scored = []
        for key, places in self._exact.items():
            if key.startswith(q):
                score = 1
            elif q.startswith(key) and len(key) >= 2:
                score = 2  # "孟家湾红卫" still finds 孟家湾
            elif q in key:
                score = 3
            else:
                continue
            for p in places:
                scored.append((score, self._RANK.get(p.kind, 9), -len(key) if score == 2 else len(p.name), p.name, p))
        scored.sort(key=lambda s: s[:4])
        out, seen = [], set()
        for *_, p in scored:
            if p.name not in seen:
                seen.add(p.name)
                out.append(p)
        return out[:limit]
