"""Closures by kind, cut at their boundary; the scene inside a closure; off-road legs and the shortcut.

The tiny world (tests/dispatch/conftest.py): A(37.00,106.00) ─G6 200 s─ B(37.00,106.05) ─G6 200 s─ C,
one-way A→M→C; T1 at C (turnout 5 min), T2 at B (10 min), T5 at B (0 min, unconfirmed). Road edges
are 4,000 m long on 4,440 m of straight line, so closed metres scale by 4000/4440.
"""

import pytest

from rescue.dispatch import candidates
from rescue.models import Incident
from routing import haversine_m
from tests.dispatch.conftest import A, B, C

SCALE = 4000.0 / float(haversine_m(*A, *B))  # road metres per metre of straight edge


def _incident(api, lat, lon, **over):
    res = api.post("/api/v1/incidents", json={"type": "tiny_leak", "level": "major", "lat": lat, "lon": lon} | over)
    assert res.status_code == 201, res.json
    return res.json["id"]


def _need(api, iid, capability="hazmat_leak_control", **query):
    q = "&".join(f"{k}={v}" for k, v in query.items())
    ranking = api.get(f"/api/v1/incidents/{iid}/candidates?{q}")
    assert ranking.status_code == 200, ranking.json
    return next(n for n in ranking.json["needs"] if n["capability"] == capability), ranking.json


def _by_name(need):
    return {c["name"]: c for c in need["candidates"]}


def _close(api, lat, lon, radius_m, kind=None, reason="塌方"):
    body = {"reason": reason, "lat": lat, "lon": lon, "radius_m": radius_m} | ({"kind": kind} if kind else {})
    res = api.post("/api/v1/road-closures", json=body)
    assert res.status_code == 201, res.json
    return res.json


def test_closure_answers_its_kind_closed_metres_and_stretches(tiny):
    api = tiny()
    got = _close(api, 37.0, 106.03, 300)  # on A–B, 670 m from the one-way A→M
    assert got["kind"] == "impassable" and got["kind_name"] == "道路中断" and got["blocks"] is True
    # 600 m of the A–B road (both directions counted once), cut at the circle
    assert got["closed_m"] == pytest.approx(600 * SCALE, rel=0.005)
    (line,) = got["closed"]["coordinates"]
    assert got["closed"]["type"] == "MultiLineString"
    assert sorted(p[0] for p in line) == pytest.approx([106.03 - 0.00338, 106.03 + 0.00338], abs=5e-5)
    tc = _close(api, *B, 500, kind="traffic_control", reason="交警管制")
    assert tc["kind_name"] == "交通管制" and tc["blocks"] is False and tc["closed_m"] == pytest.approx(1000 * SCALE, rel=0.005)
    listed = {c["id"]: c for c in api.get("/api/v1/road-closures").json["items"]}
    assert listed[tc["id"]]["closed"] == tc["closed"] and listed[got["id"]]["kind"] == "impassable"
    bad = api.post("/api/v1/road-closures", json={"reason": "x", "lat": 37.0, "lon": 106.03, "radius_m": 300, "kind": "blocked"})
    assert bad.status_code == 422 and "kind" in bad.json["fields"]
    nothing = api.post("/api/v1/road-closures", json={"reason": "x", "lat": 37.5, "lon": 106.5, "radius_m": 300})
    assert nothing.status_code == 422 and "radius_m" in nothing.json["fields"]


def test_a_point_on_the_open_side_of_a_closed_edge_is_still_reached(tiny):
    api = tiny()
    iid = _incident(api, 37.0, 106.03)  # on A–B, 0.4 of the edge from B
    before = _by_name(_need(api, iid)[0])
    assert before["队伍T1"]["eta_s"] == pytest.approx(300 + 200 + 80, abs=1)  # C→B, then 0.4 × 200 s
    _close(api, 37.0, 106.01, 300)  # 300 m near A: the whole edge used to be shut
    after = _by_name(_need(api, iid)[0])
    for name in ("队伍T1", "队伍T2"):
        assert after[name]["eta_s"] == pytest.approx(before[name]["eta_s"], abs=0.5)
        assert not after[name]["direct"] and after[name]["via"] == "G6"


def test_traffic_control_leaves_routes_alone_and_is_noted(tiny, tiny_app, world):
    api = tiny()
    iid = _incident(api, *A)
    far_side = _incident(api, *C)  # T1 is at C: no road driven, no note
    _close(api, *B, 500, kind="traffic_control", reason="交警管制")
    t1 = _by_name(_need(api, iid)[0])["队伍T1"]
    assert t1["eta_s"] == pytest.approx(700, abs=0.5) and not t1["direct"] and t1["via"] == "G6"
    assert any("途经交通管制: 交警管制 (应急车辆可通行)" in r for r in t1["reasons"])
    # the note the dispatch SMS adds
    from rescue.web.extensions import get_roads

    with tiny_app.app_context(), tiny_app.extensions["db"].session_factory() as session:
        incident = session.get(Incident, iid)
        note = candidates.route_note(session, get_roads(), incident, "team", world.ids["T1"])
        assert note == "途经交通管制: 交警管制 (应急车辆可通行)"
        assert candidates.route_note(session, get_roads(), incident, "supply", world.ids["L1"]) == "途经交通管制: 交警管制 (应急车辆可通行)"
        assert candidates.route_note(session, get_roads(), session.get(Incident, far_side), "team", world.ids["T1"]) == ""


def test_the_final_approach_into_a_closure_around_the_scene_is_never_blocked(tiny):
    api = tiny()
    iid = _incident(api, *B)
    _close(api, *B, 500)  # impassable, the scene in the middle
    need, ranking = _need(api, iid)
    rows = _by_name(need)
    assert any("封闭区内" in w for w in ranking["warnings"])
    t1 = rows["队伍T1"]
    assert t1["eta_s"] == pytest.approx(300 + 200, abs=0.5) and not t1["direct"]
    assert t1["enters_closure_m"] == pytest.approx(500 * SCALE, rel=0.01)
    assert any("路线进入封闭区" in r for r in t1["reasons"])
    # T2 is at the scene: from == to is 0 s of travel
    assert rows["队伍T2"]["eta_s"] == pytest.approx(600, abs=0.5) and rows["队伍T2"]["travel_s"] == 0


def test_behind_a_closure_the_need_says_so(capped):
    api = capped
    iid = _incident(api, *A)
    _close(api, *B, 500)  # cuts A off from B and C; straight legs of 4.4 and 8.9 km exceed the 3 km limit
    need, _ = _need(api, iid)
    assert need["candidates"] == [] and "道路封闭阻断" in need["empty_reason"]
    explained, _ = _need(api, iid, explain=1)
    assert {e["name"] for e in explained["excluded"] if any("道路不通" in r for r in e["reasons"])} == {"队伍T1", "队伍T2", "队伍T5"}
    plan = api.post(f"/api/v1/incidents/{iid}/plan").json
    short = next(u for u in plan["uncovered"] if u["capability"] == "hazmat_leak_control")
    assert short["shortfall"] == 2 and "道路封闭阻断" in short["reason"]


def test_offroad_shortcut_and_distances_that_add_up(tiny, world):
    api = tiny()
    scene = (37.03, 106.0)  # 3.3 km north of A, off every road
    world.team("T8", (37.03, 106.006), 0, ["hazmat_leak_control"])  # 533 m east of the scene
    world.team("T9", scene, 0, ["hazmat_leak_control"])  # at the scene
    world.s.commit()
    iid = _incident(api, *scene)
    need, ranking = _need(api, iid, k=10)
    rows = _by_name(need)
    assert rows["队伍T9"]["eta_s"] == 0 and rows["队伍T9"]["direct"]
    t8 = rows["队伍T8"]
    assert t8["direct"] and t8["eta_s"] == pytest.approx(533 / (20 / 3.6), abs=2)  # not 2 × 3.3 km to the road and back
    assert t8["distance_m"] == 0 and t8["offroad_m"] == pytest.approx(533, abs=2)
    for c in rows.values():
        if c["direct"]:
            continue
        d, o = c["distance_m"], c["offroad_m"]
        assert o == pytest.approx(ranking["scene_offroad_m"], abs=0.2)  # the teams stand on the road
        assert any(f"({(d + o) / 1000:.1f} km: 道路 {d / 1000:.1f} km + 越野 {o / 1000:.1f} km" in r for r in c["reasons"])
        assert any("其中越野" in r and "分钟" in r for r in c["reasons"])
