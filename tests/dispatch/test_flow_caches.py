"""What the create → candidates → plan flow keeps between requests, and why none of it can be stale.

- The registry's own reasons and blockers of each resource are kept with the registry snapshot
  (``Snapshot.derived``): a registry edit by any writer is a new revision, so a new snapshot and new
  reasons; what depends on the clock (freshness, inspections due) is judged per request.
- The main roads of a route are kept by the route's edges: a function of the edges alone on a
  network that never changes under its ``ActiveRoads``.
- Creating an incident stores its needs in one statement, so a create costs the same statements
  whatever the number of needs.
"""

from datetime import timedelta

from sqlalchemy import create_engine, event, text

from rescue.db import utcnow
from rescue.dispatch import candidates, incidents, resources
from rescue.roads.network import ActiveRoads, main_roads
from rescue.web.extensions import get_roads, get_session
from tests.dispatch.conftest import A


def _incident(api, **body):
    res = api.post("/api/v1/incidents", json={"type": "tiny_leak", "level": "较大", "lat": A[0], "lon": A[1]} | body)
    assert res.status_code == 201, res.json
    return res.json


def _reasons(api, incident_id) -> dict[str, list[str]]:
    ranking = api.get(f"/api/v1/incidents/{incident_id}/candidates?explain=1")
    assert ranking.status_code == 200, ranking.json
    out = {}
    for need in ranking.json["needs"]:
        for c in need["candidates"]:
            out[c["name"]] = c["reasons"]
        for x in need["excluded"]:
            out[x["name"]] = x["reasons"]
    return out


def test_reasons_kept_with_the_snapshot_follow_every_registry_edit(tiny, tiny_app, world):
    api = tiny()
    inc = _incident(api)["id"]
    before = _reasons(api, inc)
    assert "具备能力: 危化品泄漏处置" in before["队伍T1"] and "20人" in before["队伍T1"]
    assert before["检测仪E1"][:2] == ["具备能力: 气体检测, 2件", "随队伍T1出动"]
    assert before["专家X1"][0] == "专业领域: 化工工艺安全"
    assert _reasons(api, inc) == before  # nothing changed: the same reasons
    # edits by another writer (a hand-made fix on another connection), nothing through the service
    other = create_engine(tiny_app.extensions["db"].engine.url)
    with other.begin() as conn:
        conn.execute(text("UPDATE capabilities SET name = '泄漏处置(改)' WHERE code = 'hazmat_leak_control'"))
        conn.execute(text("UPDATE teams SET headcount = 35, name = '队伍T1改' WHERE id = :i"), {"i": world.ids["T1"]})
        conn.execute(text("UPDATE equipment SET quantity = 4 WHERE id = :i"), {"i": world.ids["E1"]})
        conn.execute(text("UPDATE experts SET title = '教授' WHERE id = :i"), {"i": world.ids["X1"]})
        conn.execute(text("UPDATE experts SET remote_ok = :f WHERE id = :i"), {"i": world.ids["X2"], "f": False})
    other.dispose()
    after = _reasons(api, inc)
    assert "队伍T1" not in after
    assert "具备能力: 泄漏处置(改)" in after["队伍T1改"] and "35人" in after["队伍T1改"]
    assert after["检测仪E1"][:2] == ["具备能力: 气体检测, 4件", "随队伍T1改出动"]
    assert after["专家X1"][0] == "专业领域: 化工工艺安全 (教授)"
    assert "可远程会商, 无需到场" in before["专家X2"] and "可远程会商, 无需到场" not in after["专家X2"]


def test_what_depends_on_the_clock_is_judged_per_request_from_the_same_snapshot(tiny, tiny_app, world):
    api = tiny()
    inc = _incident(api)["id"]
    today = utcnow().date()
    # E1 is inspected every 30 days and was last inspected today: serviceable now, overdue in 100 days
    with tiny_app.extensions["db"].engine.begin() as conn:
        conn.execute(
            text("UPDATE equipment SET inspection_interval_days = 30, last_inspection_on = :d WHERE id = :i"),
            {"d": today, "i": world.ids["E1"]},
        )
    now, later = utcnow(), utcnow() + timedelta(days=100)
    with tiny_app.test_request_context():
        session, roads = get_session(), get_roads()
        incident = incidents.get_incident(session, inc)
        first = candidates.rank_candidates(session, roads, incident, explain=True, now=now)
        snap = resources.snapshot(session, now=now)
        second = candidates.rank_candidates(session, roads, incident, explain=True, now=later)
        assert resources.snapshot(session, now=later) is snap  # the same snapshot, so the same kept reasons

    def by_name(ranking):
        out = {}
        for need in ranking["needs"]:
            out |= {c["name"]: (c["reasons"], c["stale"]) for c in need["candidates"]}
            out |= {x["name"]: (x["reasons"], None) for x in need["excluded"]}
        return out

    a, b = by_name(first), by_name(second)
    assert a["队伍T1"][1] is False and b["队伍T1"][1] is True  # confirmed today: unconfirmed 100 days on
    assert any("未确认" in r for r in b["队伍T1"][0]) and not any("未确认" in r for r in a["队伍T1"][0])
    assert a["检测仪E1"][1] is not None  # a candidate now
    assert b["检测仪E1"][1] is None and any("超期未检验" in r for r in b["检测仪E1"][0])  # overdue later


def test_main_roads_are_kept_by_route_and_each_network_keeps_its_own(tiny_app):
    with tiny_app.app_context():
        roads = get_roads()
    net = roads.net
    ref_of = [str(net.refs[c]) for c in net.ref_code.tolist()]  # edge → its ref ("G6")
    g6 = [e for e, ref in enumerate(ref_of) if ref == "G6"]
    g20 = [e for e, ref in enumerate(ref_of) if ref == "G20"]
    assert roads.via(g6) == main_roads(net, g6) == ["G6"]
    got = roads.via(tuple(g6))
    got.append("X")  # a caller changing its list changes nothing kept
    assert roads.via(g6) == ["G6"]
    assert roads.via(g20 + g6) == main_roads(net, g20 + g6) and roads.via([]) == []
    fresh = ActiveRoads(net)  # a network loaded anew gets a new ActiveRoads: nothing is shared
    assert fresh._vias == {} and fresh.via(g6) == ["G6"]


def _statements(engine, run) -> list[str]:
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return seen


def test_creating_an_incident_costs_the_same_statements_whatever_its_needs(tiny, tiny_app):
    api = tiny()
    engine = tiny_app.extensions["db"].engine
    few = [{"capability": "hazmat_leak_control", "quantity": 1}, {"supply_code": "2010201", "quantity": 2}]
    many = [
        {"capability": "hazmat_leak_control", "quantity": 2},
        {"capability": "gas_detection", "quantity": 3, "unit": "item"},
        {"supply_code": "2010201", "quantity": 5},
        {"capability": "chemical_process_safety", "quantity": 1, "unit": "person"},
        {"capability": "medical_first_aid", "quantity": 1},
        {"supply_code": "2010201", "quantity": 1, "unit": "件"},
    ]
    _incident(api, needs=few)  # first compiles
    made = {}
    small = _statements(engine, lambda: made.setdefault("few", _incident(api, needs=few)))
    large = _statements(engine, lambda: made.setdefault("many", _incident(api, needs=many)))
    assert len(large) == len(small)
    assert sum(s.lstrip().upper().startswith("INSERT INTO INCIDENT_NEEDS") for s in large) == 1
    # the needs as stored: in order, with their ids, units filled in (the lot's unit, or the one given)
    body = made["many"]
    stored = api.get(f"/api/v1/incidents/{body['id']}").json["needs"]
    assert stored == body["needs"]
    assert [(n["capability"], n["supply_code"], n["quantity"], n["unit"]) for n in stored] == [
        ("hazmat_leak_control", None, 2.0, "team"),
        ("gas_detection", None, 3.0, "item"),
        (None, "2010201", 5.0, "套"),
        ("chemical_process_safety", None, 1.0, "person"),
        ("medical_first_aid", None, 1.0, "team"),
        (None, "2010201", 1.0, "件"),
    ]
    assert len({n["id"] for n in stored}) == 6 and [n["name"] for n in stored][2] == "重型防化服"
