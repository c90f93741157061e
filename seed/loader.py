"""Load the Ningxia seed data into a database once, through the same services and checks as the API."""

import json
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from rescue.accounts import accounts
from rescue.db import utcnow
from rescue.models import AppState
from rescue.registry import registry
from rescue.registry.kinds import KINDS

DATA = Path(__file__).parent / "data"
SEEDED_KEY = "seeded_at"
# file, kind, {field in the file: kind whose key it names}
ORDER = (
    ("capabilities.json", "capabilities", {}),
    ("incident_types.json", "incident-types", {}),
    ("enterprises.json", "enterprises", {}),
    ("depots.json", "depots", {"enterprise": "enterprises"}),
    ("teams.json", "teams", {"enterprise": "enterprises"}),
    ("experts.json", "experts", {"enterprise": "enterprises"}),
    ("equipment.json", "equipment", {"team": "teams", "depot": "depots"}),
    ("supplies.json", "supplies", {"depot": "depots"}),
    ("contacts.json", "contacts", {"team": "teams", "enterprise": "enterprises"}),
)
# fields of the files that are not record fields
_FILE_ONLY = {"key", "verified_note", "source", "confirmed_days_ago"}


@dataclass
class SeedResult:
    seeded: bool
    counts: dict[str, int] = field(default_factory=dict)
    # the demo's past incident (number), when one was played
    past_incident: str = ""

    def summary(self) -> str:
        if not self.seeded:
            return "种子数据此前已加载, 未重复加载"
        text = "已加载种子数据: " + ", ".join(f"{KINDS[k].label} {n}" for k, n in self.counts.items())
        if self.past_incident:
            text += f"; 演示用历史事件 {self.past_incident} (已结案, 含完整时间线)"
        return text


def load_file(name: str) -> list[dict]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def seed(session: Session, *, area, demo: bool, data_dir: Path | None = None, past_incident: bool | None = None) -> SeedResult:
    """Load every seed file in one transaction unless this database was seeded before (never twice).

    In demo mode (or with `past_incident`) a closed past incident is played too (seed/story.py), so a trainee
    has a timeline to learn from; never outside demo mode by default, where it would count as a real incident.
    """
    if session.get(AppState, SEEDED_KEY) is not None:
        if demo:
            accounts.ensure_demo_users(session)
        return SeedResult(seeded=False)
    now = utcnow()
    ids: dict[str, dict[str, int]] = {}
    result = SeedResult(seeded=True)
    for filename, kind_name, refs in ORDER:
        kind = KINDS[kind_name]
        rows = json.loads(((data_dir or DATA) / filename).read_text(encoding="utf-8"))
        keys = ids.setdefault(kind_name, {})
        context = registry.validation_context(session, area)
        for row in rows:
            values = {k: v for k, v in row.items() if k not in _FILE_ONLY and k not in refs}
            for ref_field, ref_kind in refs.items():
                if row.get(ref_field) is not None:
                    values[f"{ref_field}_id"] = ids[ref_kind][row[ref_field]]
            record = registry.create_record(session, kind, None, values, area=area, now=now, context=context)
            if row.get("confirmed_days_ago"):  # demo data: some records not confirmed for months (数据时效)
                record.last_confirmed_dt = now - timedelta(days=row["confirmed_days_ago"])
            if "key" in row:
                keys[row["key"]] = record.id
        result.counts[kind_name] = len(rows)
    # response cards and drill plans link the records above by their keys (same transaction)
    from rescue import drills
    from rescue.cards import cards

    cards.seed_cards(session, json.loads(((data_dir or DATA) / "cards.json").read_text(encoding="utf-8")), ids, now=now)
    drills.seed_drills(session, json.loads(((data_dir or DATA) / "drills.json").read_text(encoding="utf-8")), ids, now=now)
    readiness_file = (data_dir or DATA) / "readiness.json"
    if readiness_file.exists():
        # (not imported as `demo`: that name is the argument saying whether this is demo mode)
        from rescue.readiness import demo as readiness_demo

        readiness_demo.seed_readiness(session, json.loads(readiness_file.read_text(encoding="utf-8")), ids, area=area, now=now)
    session.add(AppState(key=SEEDED_KEY, value=now.isoformat()))
    if demo:
        accounts.ensure_demo_users(session)
    session.flush()
    if demo if past_incident is None else past_incident:
        from rescue.messaging.gateway import AlertSettings
        from seed import story

        settings = AlertSettings(card_short=cards.short_for)  # dispatch SMS worded as the app words them
        played = story.play(session, ids, area=area, now=now, settings=settings)
        result.past_incident = played.number
        session.flush()
    return result
