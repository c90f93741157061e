"""Ranking through the API on the tiny network: known arrival times, turnout, one-way roads, exclusions."""

import pytest

from routing import wgs84_to_gcj02
from tests.dispatch.conftest import A, C


def _incident(api, **over):
    body = {"type": "tiny_leak", "level": "较大", "lat": A[0], "lon": A[1], "description": "测试"} | over
    res = api.post("/api/v1/incidents", json=body)
    assert res.status_code == 201, res.json
    return res.json


def _need(ranking, **match):
    return next(n for n in ranking["needs"] if all(n.get(k) == v for k, v in match.items()))


def test_create_incident_defaults_to_the_type_template(tiny):
    inc = _incident(tiny())
    assert inc["number"].startswith("NX-") and inc["number"].endswith("-0001")
    assert inc["level"] == "larger" and inc["level_name"] == "较大"
    assert inc["place"] == "甲镇"  # the nearest named place labels coordinates
    needs = [(n["capability"] or n["supply_code"], n["quantity"], n["unit"]) for n in inc["needs"]]
    assert needs == [
        ("hazmat_leak_control", 2, "team"),
        ("gas_detection", 3, "item"),
        ("chemical_process_safety", 1, "person"),
        ("2010201", 10, "套"),
    ]
    assert _incident(tiny())["number"].endswith("-0002")


def test_teams_ranked_by_turnout_plus_travel_to_the_incident(tiny):
    api = tiny()
    inc = _incident(api)
    res = api.get(f"/api/v1/incidents/{inc['id']}/candidates?k=5")
    assert res.status_code == 200, res.json
    teams = _need(res.json, capability="hazmat_leak_control")["candidates"]
    # T1 at C: 300 s turnout + 400 s (C→B→A; the fast one-way runs A→C only), before T2 at B: 600 + 200
    assert [c["name"] for c in teams] == ["队伍T1", "队伍T2", "队伍T5"]
    t1, t2 = teams[0], teams[1]
    assert t1["eta_s"] == pytest.approx(700, abs=0.5) and t1["turnout_s"] == 300 and t1["travel_s"] == pytest.approx(400, abs=0.5)
    assert t1["distance_m"] == pytest.approx(8000, abs=1)
    assert t2["eta_s"] == pytest.approx(800, abs=0.5)
    assert t1["via"] == "G6" and t1["via_refs"] == ["G6"]
    assert t1["route"]["type"] == "LineString" and t1["route"]["coordinates"][0] == pytest.approx([C[1], C[0]], abs=1e-6)
    assert any("出动准备 5 分钟" in r for r in t1["reasons"])
    # T5 would arrive first (200 s) but is unconfirmed for 200 days: it comes last, flagged
    assert teams[2]["stale"] is True and teams[2]["eta_s"] == pytest.approx(200, abs=0.5)
    assert any("未确认" in r for r in teams[2]["reasons"])


def test_one_way_road_used_when_driving_its_way(tiny):
    api = tiny()
    # an incident at C: T1 is there; from A (nobody) … T2 at B drives B→C 200 s; routes endpoint both ways
    there = api.get(f"/api/v1/routes?from={A[0]},{A[1]}&to={C[0]},{C[1]}").json
    back = api.get(f"/api/v1/routes?from={C[0]},{C[1]}&to={A[0]},{A[1]}").json
    assert there["travel_s"] == pytest.approx(100, abs=0.5) and there["via"] == ["G20"]
    assert back["travel_s"] == pytest.approx(400, abs=0.5) and back["via"] == ["G6"]
    assert back["distance_m"] == pytest.approx(8000, abs=1) and back["route"]["type"] == "LineString"


def test_explain_lists_excluded_resources_with_reasons(tiny):
    api = tiny()
    inc = _incident(api)
    ranking = api.get(f"/api/v1/incidents/{inc['id']}/candidates?explain=1").json
    teams = _need(ranking, capability="hazmat_leak_control")
    why = {e["name"]: " ".join(e["reasons"]) for e in teams["excluded"]}
    assert "执行任务中" in why["队伍T3"] and "停用" in why["队伍T4"]
    assert [d["name"] for d in teams["demoted"]] == ["队伍T5"]
    lots = _need(ranking, supply_code="2010201")
    lot_why = " ".join(r for e in lots["excluded"] for r in e["reasons"])
    assert "已过期" in lot_why and "库存为零" in lot_why
    items = _need(ranking, capability="gas_detection")
    assert any("故障停用" in r for e in items["excluded"] for r in e["reasons"])
    experts = _need(ranking, capability="chemical_process_safety")
    assert any("忙碌" in r for e in experts["excluded"] for r in e["reasons"])
    assert "excluded" not in api.get(f"/api/v1/incidents/{inc['id']}/candidates").json["needs"][0]


def test_supplies_summed_across_depots_in_arrival_order(tiny):
    api = tiny()
    inc = _incident(api)
    lots = _need(api.get(f"/api/v1/incidents/{inc['id']}/candidates").json, supply_code="2010201")
    assert [(c["amount"], c["cumulative"]) for c in lots["candidates"]] == [(6, 6), (10, 16)]
    assert [c["eta_s"] for c in lots["candidates"]] == pytest.approx([2000, 2200], abs=0.5)  # 30 min loading
    assert lots["covered_eta_s"] == pytest.approx(2200, abs=0.5)


def test_equipment_moves_with_its_team_or_from_its_depot(tiny):
    api = tiny()
    inc = _incident(api)
    items = _need(api.get(f"/api/v1/incidents/{inc['id']}/candidates").json, capability="gas_detection")["candidates"]
    assert [(c["name"], c["amount"]) for c in items] == [("检测仪E1", 2), ("检测仪E2", 2)]
    assert items[0]["eta_s"] == pytest.approx(700, abs=0.5)  # T1's turnout + drive
    assert items[1]["eta_s"] == pytest.approx(2000, abs=0.5)  # depot loading + drive


def test_experts_remote_consultation_first(tiny):
    api = tiny()
    inc = _incident(api)
    experts = _need(api.get(f"/api/v1/incidents/{inc['id']}/candidates").json, capability="chemical_process_safety")["candidates"]
    assert [(c["name"], c["remote"]) for c in experts] == [("专家X2", True), ("专家X1", False)]
    assert experts[0]["eta_s"] == 600 and any("远程会商" in r for r in experts[0]["reasons"])
    assert experts[1]["eta_s"] == pytest.approx(2200, abs=0.5)


def test_place_name_and_gcj02_input(tiny):
    api = tiny()
    by_name = _incident(api, lat=None, lon=None, place="丙园区")
    assert (by_name["lat"], by_name["lon"]) == C and by_name["place"] == "丙园区"
    glat, glon = wgs84_to_gcj02(*A)
    assert abs(glat - A[0]) + abs(glon - A[1]) > 1e-3  # the offset is real
    conv = _incident(api, lat=glat, lon=glon, crs="gcj02")
    assert conv["lat"] == pytest.approx(A[0], abs=1e-5) and conv["lon"] == pytest.approx(A[1], abs=1e-5)


def test_far_off_scene_is_stored_and_ranked_with_its_off_road_leg(tiny):
    api = tiny()
    # 21 km north of the nearest road, inside the service area: stored, not refused
    res = api.post("/api/v1/incidents", json={"type": "tiny_leak", "level": "general", "lat": 37.2, "lon": 106.05})
    assert res.status_code == 201, res.json
    ranking = api.get(f"/api/v1/incidents/{res.json['id']}/candidates")
    assert ranking.status_code == 200, ranking.json
    assert ranking.json["scene_offroad_m"] > 20_000
    assert any("需越野/徒步接近" in w for w in ranking.json["warnings"])
    teams = _need(ranking.json, capability="hazmat_leak_control")["candidates"]
    assert teams and all(c["offroad_m"] > 20_000 for c in teams)
    # the route point-to-point endpoint still names a point too far from any road
    res = api.get("/api/v1/routes?from=37.2,106.05&to=37.0,106.0")
    assert res.status_code == 422 and "道路" in res.json["fields"]["from"]


def test_validation_reports_every_bad_field(tiny):
    api = tiny()
    res = api.post(
        "/api/v1/incidents",
        json={
            "type": "nope",
            "level": "huge",
            "lat": 10.0,
            "lon": 200.0,
            "needs": [{"capability": "flying", "quantity": 1}, {"supply_code": "12", "quantity": -1}],
        },
    )
    assert res.status_code == 422
    f = res.json["fields"]
    assert {"type", "level", "lat", "lon", "needs.0.capability"} <= set(f)
    assert any(k.startswith("needs.1") for k in f)
    assert "服务区域" in f["lat"] and "未知" in f["type"]
    res = api.post("/api/v1/incidents", json={"type": "tiny_leak", "level": "一般", "place": "不存在的地方"})
    assert res.status_code == 422 and "找不到地名" in res.json["fields"]["place"]
    res = api.get("/api/v1/incidents/1/candidates?k=0&explain=maybe")
    assert res.status_code == 422 and set(res.json["fields"]) == {"k", "explain"}


def test_edit_needs_and_close(tiny):
    api = tiny()
    inc = _incident(api)
    res = api.patch(f"/api/v1/incidents/{inc['id']}", json={"needs": [{"capability": "medical_first_aid", "quantity": 1}]})
    assert res.status_code == 200 and [n["capability"] for n in res.json["needs"]] == ["medical_first_aid"]
    ranking = api.get(f"/api/v1/incidents/{inc['id']}/candidates").json
    assert [c["name"] for c in ranking["needs"][0]["candidates"]] == ["队伍T1", "队伍T2"]
    res = api.patch(f"/api/v1/incidents/{inc['id']}", json={"status": "closed"})
    assert res.json["status"] == "closed" and res.json["closed_at"]
    assert api.get("/api/v1/incidents?status=closed").json["total"] == 1
    assert api.get("/api/v1/incidents?status=open").json["total"] == 0
    res = api.patch(f"/api/v1/incidents/{inc['id']}", json={"needs": [{"capability": "zzz"}], "level": "x"})
    assert res.status_code == 422 and {"needs.0.capability", "level"} <= set(res.json["fields"])
