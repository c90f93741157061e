"""Dispatch ranks from a snapshot of the registry kept per registry revision: every writer's change
(the service, a hand-made SQL fix, another process) moves the revision, so the next ranking sees it;
nothing else does, so the snapshot is reused between changes."""

import re

from sqlalchemy import create_engine, text

from rescue.db import utcnow
from rescue.dispatch import resources
from rescue.models.registry import registry_revision
from rescue.readiness.certificates import CERTIFICATE_FACT_TABLES
from tests.dispatch.conftest import A


def _teams(api):
    inc = api.post("/api/v1/incidents", json={"type": "tiny_leak", "level": "较大", "lat": A[0], "lon": A[1]})
    assert inc.status_code == 201, inc.json
    ranking = api.get(f"/api/v1/incidents/{inc.json['id']}/candidates?explain=1")
    assert ranking.status_code == 200, ranking.json
    need = next(n for n in ranking.json["needs"] if n["capability"] == "hazmat_leak_control")
    return [c["name"] for c in need["candidates"]], {x["name"]: x["reasons"] for x in need["excluded"]}, need


def _triggered_tables(engine) -> set[str]:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            sql = "SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname = 'registry_revision_bump'"
            return {r[0] for r in conn.execute(text(sql))}
        rows = conn.execute(text("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")).all()
        found: dict[str, set[str]] = {}
        for table, name in rows:
            if name.startswith("registry_revision_"):
                found.setdefault(table, set()).add(name.rsplit("_", 1)[1])
        return {t for t, events in found.items() if events == {"insert", "update", "delete"}}


def test_every_table_the_snapshot_reads_moves_the_revision(tiny_app):
    engine = tiny_app.extensions["db"].engine
    read = set()
    for stmt in resources.READS:
        sql = str(stmt.compile(dialect=engine.dialect))
        read |= set(re.findall(r"(?:FROM|JOIN) (\w+)", sql))
    assert read | set(CERTIFICATE_FACT_TABLES) == set(resources.WATCHED_TABLES)
    assert _triggered_tables(engine) == set(resources.WATCHED_TABLES)


def test_a_change_by_any_writer_is_seen_by_the_next_ranking(tiny, tiny_app, world):
    api = tiny()
    names, _, _ = _teams(api)
    assert names[:2] == ["队伍T1", "队伍T2"]
    # a hand-made fix on another connection, as a DBA or another process would make it
    other = create_engine(tiny_app.extensions["db"].engine.url)
    with other.begin() as conn:
        conn.execute(text("UPDATE teams SET status = 'out_of_service' WHERE id = :i"), {"i": world.ids["T1"]})
        conn.execute(text("UPDATE capabilities SET name = '泄漏处置(改)' WHERE code = 'hazmat_leak_control'"))
    other.dispose()
    names, excluded, need = _teams(api)
    assert names[0] == "队伍T2" and "队伍T1" not in names and "队伍T1" in excluded
    assert need["name"] == "泄漏处置(改)"  # the capability's new name too


def test_the_snapshot_is_kept_until_the_registry_changes(tiny, tiny_app, world, tiny_session):
    api = tiny()
    _teams(api)
    first = resources.snapshot(tiny_session, now=utcnow())
    tiny_session.rollback()
    # incidents, assignments and rankings are not registry changes: the same snapshot serves
    _teams(api)
    assert resources.snapshot(tiny_session, now=utcnow()) is first
    tiny_session.rollback()
    assert api.patch(f"/api/v1/teams/{world.ids['T2']}", json={"turnout_min": 3}).status_code == 200
    second = resources.snapshot(tiny_session, now=utcnow())
    assert second is not first and second.revision[1] > first.revision[1]
    t2 = next(r for r in second.by_code["team"]["hazmat_leak_control"] if r.id == world.ids["T2"])
    assert t2.turnout_min == 3


def test_one_transaction_moves_the_revision_once_on_postgresql_and_a_rollback_not_at_all(tiny_app, world, tiny_session):
    s = tiny_session
    before = s.execute(registry_revision.select()).one().value
    s.rollback()
    s.execute(text("UPDATE teams SET headcount = 7"))
    s.execute(text("UPDATE experts SET title = '高级工程师'"))
    # uncommitted rows of one's own are read afresh and never cached
    mine = resources.snapshot(s, now=utcnow())
    assert all(r.headcount == 7 for rows in mine.by_code["team"].values() for r in rows)
    s.rollback()
    again = resources.snapshot(s, now=utcnow())
    assert all(r.headcount != 7 for rows in again.by_code["team"].values() for r in rows)
    assert s.execute(registry_revision.select()).one().value == before
    s.rollback()
    s.execute(text("UPDATE teams SET headcount = 8"))
    s.execute(text("UPDATE experts SET title = '教授'"))
    s.commit()
    after = s.execute(registry_revision.select()).one().value
    if s.get_bind().dialect.name == "postgresql":
        assert after == before + 1  # once per transaction, at commit
    else:
        assert after > before  # SQLite: once per row changed
