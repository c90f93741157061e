"""Closures by kind, cut at their boundary; the scene inside a closure; off-road legs and the shortcut.

The tiny world (tests/dispatch/conftest.py): A(37.00,106.00) ─G6 200 s─ B(37.00,106.05) ─G6 200 s─ C,
one-way A→M→C; T1 at C (turnout 5 min), T2 at B (10 min), T5 at B (0 min, unconfirmed). Road edges
are 4,000 m long on 4,440 m of straight line, so closed metres scale by 4000/4440.
"""

import json
from pathlib import Path

import pytest

from rescue.dispatch import candidates
from rescue.models import Incident
from rescue.web.extensions import get_roads
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
        assert (
            candidates.route_note(session, get_roads(), incident, "supply", world.ids["L1"])
            == "途经交通管制: 交警管制 (应急车辆可通行)"
        )
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
    assert {e["name"] for e in explained["excluded"] if any("道路不通" in r for r in e["reasons"])} == {
        "队伍T1",
        "队伍T2",
        "队伍T5",
    }
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


def test_places_page_and_search_every_match(tiny):
    api = tiny()
    all_places = api.get("/api/v1/places?limit=2").json
    assert all_places["total"] == 3 and len(all_places["items"]) == 2 and all_places["items"][0]["name"] == "丙园区"
    rest = api.get("/api/v1/places?limit=2&offset=2").json
    assert rest["offset"] == 2 and len(rest["items"]) == 1
    names = {p["name"] for p in all_places["items"] + rest["items"]}
    assert names == {"甲镇", "乙县", "丙园区"}
    assert api.get("/api/v1/places?q=县").json["total"] == 1
    assert api.get("/api/v1/places?offset=-1").status_code == 422


def test_ningxia_places_search_finds_every_name_containing_the_text(api):
    dispatcher = api("dispatcher")
    found = dispatcher.get("/api/v1/places?q=宁东&limit=50").json
    names = [p["name"] for p in found["items"]]
    seeded = json.loads((Path(__file__).resolve().parents[2] / "seed" / "data" / "places.json").read_text(encoding="utf-8"))
    containing = {p["name"] for p in (seeded["places"] if isinstance(seeded, dict) else seeded) if "宁东" in p["name"]}
    assert len(containing) >= 2 and containing <= set(names) and found["total"] == len(names)
    assert found["items"][0]["kind"] == "key_site"  # key sites first
    whole = dispatcher.get("/api/v1/places?limit=100").json
    pages = [
        p["name"]
        for off in range(0, whole["total"], 20)
        for p in dispatcher.get(f"/api/v1/places?limit=20&offset={off}").json["items"]
    ]
    assert len(pages) == whole["total"] == len(set(pages)) > 50  # every place can be listed


def test_health_names_the_active_network(tiny, tiny_app):
    client = tiny()
    body = client.get("/health").json
    assert body["roads"]["file"] == "tiny.graphml" and body["roads"]["nodes"] == 4 and body["roads"]["edges"] == 6
    assert body["roads"]["built_at"]
    assert body["roads"]["index"]["state"] in {"building", "ready"}  # the ranking index, built in the background
    with tiny_app.app_context():
        net = get_roads().net
    net._cache["hierarchy_thread"].join(60)
    index = client.get("/health").json["roads"]["index"]
    assert index["state"] == "ready" and index["shortcuts"] >= 0 and index["build_s"] >= 0


def _geojson(path, coords):
    feature = {"type": "Feature", "properties": {"highway": "primary"}, "geometry": {"type": "LineString", "coordinates": coords}}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    return path


def test_roads_import_refuses_a_network_outside_the_area_or_swapped(tiny_app, tmp_path):
    cases = {
        "颠倒": [[38.47, 106.27], [38.48, 106.30], [38.49, 106.33]],  # [lat, lon] instead of [lon, lat]
        "不在服务区域": [[121.47, 31.23], [121.50, 31.24], [121.52, 31.25]],
    }  # Shanghai
    for i, (why, coords) in enumerate(cases.items()):
        path = _geojson(tmp_path / f"roads{i}.geojson", coords + coords[::-1][1:])
        result = tiny_app.test_cli_runner().invoke(args=["roads", "import", str(path), "--no-progress"])
        assert result.exit_code != 0 and why in result.output, result.output
    assert not (tmp_path / "instance" / "roads" / "active.npz").exists()
    ok = _geojson(tmp_path / "ok.geojson", [[106.27, 38.47], [106.30, 38.48], [106.33, 38.49]])
    result = tiny_app.test_cli_runner().invoke(args=["roads", "import", str(ok), "--no-progress"])
    assert result.exit_code == 0, result.output


def test_records_far_from_the_network_are_flagged_for_their_owners(tiny, world):
    api = tiny()
    world.team("T7", (37.2, 106.05), 5, ["hazmat_leak_control"])  # 21 km north of the roads
    world.s.commit()
    items = api.get("/api/v1/data-quality/far-from-roads").json["items"]
    assert [(i["kind"], i["name"]) for i in items] == [("team", "队伍T7")]
    assert items[0]["offroad_m"] > 20_000 and "请核对坐标" in items[0]["reason"]
    # an enterprise admin sees only the records of its own enterprise (T7 belongs to none)
    assert tiny("ent").get("/api/v1/data-quality/far-from-roads").json["items"] == []
    # and the ranking leaves it out with the same reason
    iid = _incident(api, *A)
    explained, _ = _need(api, iid, explain=1)
    assert any("距最近道路" in r for e in explained["excluded"] if e["name"] == "队伍T7" for r in e["reasons"])


def _dispatch(api, world, iid, need_id, *teams):
    for t in teams:
        contact = {"name": f"{t}队长", "phone": f"1395100{world.ids[t]:04d}", "role": "commander", "team_id": world.ids[t]}
        assert api.post("/api/v1/contacts", json=contact).status_code == 201
    res = api.post(
        f"/api/v1/incidents/{iid}/dispatches",
        json={"resources": [{"kind": "team", "id": world.ids[t], "need_id": need_id} for t in teams]},
    )
    assert res.status_code == 201, res.json
    return res.json


def test_needs_say_why_they_are_empty_and_how_much_is_dispatched(tiny, world, tiny_session):
    from sqlalchemy import update

    from rescue.models import Assignment

    api = tiny()
    iid = _incident(api, *A)
    need, _ = _need(api, iid)
    assert need["dispatched"] is None and need["empty_reason"] is None
    _dispatch(api, world, iid, need["need_id"], "T1")
    need, _ = _need(api, iid)
    assert need["dispatched"] == "已调派 1/2" and "队伍T1" not in _by_name(need)
    # T1 declines: offered again, but marked and after every other team (not silently #1)
    tiny_session.execute(update(Assignment).where(Assignment.resource_id == world.ids["T1"]).values(status="declined"))
    tiny_session.commit()
    need, _ = _need(api, iid)
    assert [c["name"] for c in need["candidates"]] == ["队伍T2", "队伍T5", "队伍T1"]
    t1 = _by_name(need)["队伍T1"]
    assert t1["declined"] and any("已拒绝本事件" in r for r in t1["reasons"])
    assert need["dispatched"] is None  # a declined call-out serves nothing
    # every capable team busy: a second incident's need says so, the first shows what was sent
    _dispatch(api, world, iid, need["need_id"], "T2", "T5")
    need, _ = _need(api, iid)
    assert need["dispatched"] == "已调派 2/2" and need["empty_reason"] is None
    other = _incident(api, *C)
    free, _ = _need(api, other)
    # T1 declined the first incident, not this one: offered unmarked
    assert [(c["name"], c["declined"]) for c in free["candidates"]] == [("队伍T1", False)]
    _dispatch(api, world, other, free["need_id"], "T1")
    third = _incident(api, *B)
    busy, _ = _need(api, third)
    assert busy["candidates"] == [] and "3 个正在执行任务" in busy["empty_reason"]
    assert "2 个不可用" in busy["empty_reason"]  # T3 committed, T4 out of service
    # a capability nobody has
    none = _incident(api, *A, needs=[{"capability": "medical_first_aid", "quantity": 1, "unit": "person"}])
    nobody, _ = _need(api, none, capability="medical_first_aid")
    assert nobody["candidates"] == [] and nobody["empty_reason"] == "登记中没有具备该能力的资源"
