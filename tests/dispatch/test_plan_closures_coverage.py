"""Plan, road closures, coverage with exclude, roles, the roads import command and the Ningxia default."""

from datetime import timedelta

import pytest
from sqlalchemy import update

from rescue.db import utcnow
from rescue.models import RoadClosure
from tests.dispatch.conftest import A, B


def _incident(api, **over):
    body = {"type": "tiny_leak", "level": "major", "lat": A[0], "lon": A[1]} | over
    res = api.post("/api/v1/incidents", json=body)
    assert res.status_code == 201, res.json
    return res.json


def _teams(api, incident_id):
    ranking = api.get(f"/api/v1/incidents/{incident_id}/candidates").json
    need = next(n for n in ranking["needs"] if n["capability"] == "hazmat_leak_control")
    return [c["name"] for c in need["candidates"]], need


def test_plan_covers_every_need(tiny, world):
    api = tiny()
    inc = _incident(api)
    res = api.post(f"/api/v1/incidents/{inc['id']}/plan")
    assert res.status_code == 200, res.json
    plan = res.json
    assert plan["uncovered"] == []
    chosen = {(a["kind"], a["name"], a["quantity"]) for a in plan["assignments"]}
    # confirmed teams before the stale one; equipment 2 + 1; the remote expert; the 10 suits in one
    # load from D2 (2200 s: no later than 6 + 4 from D1 and D2, with one truck fewer)
    assert {("team", "队伍T1", 1), ("team", "队伍T2", 1)} <= chosen
    assert ("team", "队伍T5", 1) not in chosen
    assert [a["id"] for a in plan["assignments"] if a["kind"] == "supply"] == [world.ids["L2"]]
    assert {("equipment", "检测仪E1", 2), ("equipment", "检测仪E2", 1)} <= chosen
    assert ("expert", "专家X2", 1) in chosen
    assert plan["makespan_s"] == pytest.approx(2200, abs=0.5)
    assert all({"need_id", "kind", "id", "name", "quantity", "eta_s"} <= set(a) for a in plan["assignments"])
    # 14 suits: split across depots, the last lot only partly
    inc = _incident(api, needs=[{"supply_code": "2010201", "quantity": 14}])
    plan = api.post(f"/api/v1/incidents/{inc['id']}/plan").json
    assert sorted((a["id"], a["quantity"]) for a in plan["assignments"]) == sorted([(world.ids["L1"], 6), (world.ids["L2"], 8)])


def test_plan_lists_uncovered_needs(tiny):
    api = tiny()
    inc = _incident(api, needs=[{"capability": "hazmat_leak_control", "quantity": 5}, {"supply_code": "2010201", "quantity": 40}])
    plan = api.post(f"/api/v1/incidents/{inc['id']}/plan").json
    short = {(u["capability"] or u["supply_code"]): u["shortfall"] for u in plan["uncovered"]}
    # T1, T2 and (unconfirmed) T5 can go: 2 teams short; 16 suits in stock: 24 short
    assert short == {"hazmat_leak_control": 2, "2010201": 24}
    assert {p["name"] for p in plan["partial"]} >= {"队伍T1", "队伍T2", "队伍T5"}


def _team_rows(api, incident_id):
    return {c["name"]: c for c in _teams(api, incident_id)[1]["candidates"]}


def test_closures_change_the_ranking_and_expire(tiny, tiny_session):
    api = tiny()
    inc = _incident(api)
    assert _teams(api, inc["id"])[0][:2] == ["队伍T1", "队伍T2"]
    res = api.post("/api/v1/road-closures", json={"reason": "塌方", "lat": B[0], "lon": B[1], "radius_m": 500, "hours": 2})
    assert res.status_code == 201, res.json
    closure = res.json
    assert closure["active"] and closure["kind"] == "impassable" and closure["closed_edges"] == 4  # A–B and B–C, both ways
    # B is cut off and C reaches A only through B: no road leads to A any more, so the teams come
    # straight across country (the shortcut at the off-road speed), flagged, later than by road
    rows = _team_rows(api, inc["id"])
    assert list(rows) == ["队伍T2", "队伍T1", "队伍T5"]
    for row in rows.values():
        assert row["direct"] and row["distance_m"] == 0 and row["via"] == ""
        assert any("需越野/徒步接近" in w for w in row["warnings"])
    assert rows["队伍T2"]["eta_s"] > 800 and rows["队伍T1"]["eta_s"] > 700
    assert api.get("/api/v1/road-closures").json["total"] == 1
    # it expires: back to the roads on the next ranking
    tiny_session.execute(update(RoadClosure).values(expires_dt=utcnow() - timedelta(minutes=1)))
    tiny_session.commit()
    assert _teams(api, inc["id"])[0][:2] == ["队伍T1", "队伍T2"]
    assert not _team_rows(api, inc["id"])["队伍T1"]["direct"]
    assert api.get("/api/v1/road-closures").json["total"] == 0


def test_closure_lifted_and_polygon(tiny):
    api = tiny()
    inc = _incident(api)
    square = [[106.04, 36.99], [106.06, 36.99], [106.06, 37.005], [106.04, 37.005], [106.04, 36.99]]
    res = api.post(
        "/api/v1/road-closures", json={"reason": "危化品泄漏警戒区", "polygon": {"type": "Polygon", "coordinates": [square]}}
    )
    assert res.status_code == 201 and res.json["closed_edges"] == 4
    assert res.json["closed"]["type"] == "MultiLineString" and len(res.json["closed"]["coordinates"]) == 2
    assert all(row["direct"] for row in _team_rows(api, inc["id"]).values())  # only across country
    assert api.delete(f"/api/v1/road-closures/{res.json['id']}").status_code == 200
    assert api.delete(f"/api/v1/road-closures/{res.json['id']}").status_code == 409
    assert _teams(api, inc["id"])[0][:2] == ["队伍T1", "队伍T2"]
    assert not any(row["direct"] for row in _team_rows(api, inc["id"]).values())
    bad = api.post("/api/v1/road-closures", json={"reason": "", "lat": 10, "lon": 106.0})
    assert bad.status_code == 422 and "reason" in bad.json["fields"]
    bad = api.post("/api/v1/road-closures", json={"reason": "x", "lat": 37.0, "lon": 106.0})
    assert bad.status_code == 422 and "radius_m" in bad.json["fields"]


def test_coverage_with_exclude(tiny, world):
    api = tiny("ent")  # enterprise admins may read coverage
    res = api.get("/api/v1/coverage?capability=medical_first_aid&minutes=12")
    assert res.status_code == 200, res.json
    by = {i["name"]: i for i in res.json["items"]}
    assert set(by) == {"乙县", "丙园区"}  # county seats and key sites, not towns
    assert by["乙县"]["arrival_s"] == pytest.approx(700, abs=0.5) and by["乙县"]["met"]
    assert by["丙园区"]["arrival_s"] == pytest.approx(300, abs=0.5)
    assert by["乙县"]["source"]["name"] == "队伍T1"
    t1 = world.ids["T1"]
    res = api.get(f"/api/v1/coverage?capability=medical_first_aid&minutes=12&exclude=team:{t1}")
    # without T1, T2 (600 + 200 s) misses the 12-minute target at both
    assert sorted(res.json["lost"]) == ["丙园区", "乙县"] and res.json["met"] == 0
    geo = api.get("/api/v1/coverage?capability=medical_first_aid&minutes=12&format=geojson")
    assert geo.status_code == 200 and geo.json["type"] == "FeatureCollection" and len(geo.json["features"]) == 2
    bad = api.get("/api/v1/coverage?capability=nope&minutes=0&exclude=teams12")
    assert bad.status_code == 422 and set(bad.json["fields"]) == {"capability", "minutes", "exclude"}


def test_roles(tiny):
    cc, reg, ent = tiny("cc"), tiny("reg"), tiny("ent")
    inc = _incident(cc)
    assert reg.get("/api/v1/incidents").status_code == 200
    assert reg.get(f"/api/v1/incidents/{inc['id']}/candidates").status_code == 200
    assert (
        reg.post("/api/v1/incidents", json={"type": "tiny_leak", "level": "general", "lat": A[0], "lon": A[1]}).status_code == 403
    )
    assert reg.post(f"/api/v1/incidents/{inc['id']}/plan").status_code == 403
    assert reg.patch(f"/api/v1/incidents/{inc['id']}", json={"status": "closed"}).status_code == 403
    for path in ("/api/v1/incidents", f"/api/v1/incidents/{inc['id']}", f"/api/v1/incidents/{inc['id']}/candidates"):
        assert ent.get(path).status_code == 403
    assert ent.get(f"/api/v1/routes?from={A[0]},{A[1]}&to={B[0]},{B[1]}").status_code == 200
    assert ent.get("/api/v1/roads.geojson").status_code == 200
    assert ent.get("/api/v1/places?q=丙").json["items"][0]["name"] == "丙园区"
    assert ent.post("/api/v1/road-closures", json={"reason": "x", "lat": B[0], "lon": B[1], "radius_m": 100}).status_code == 403
    assert reg.post("/api/v1/road-closures", json={"reason": "x", "lat": B[0], "lon": B[1], "radius_m": 100}).status_code == 403


def test_roads_geojson_is_cached_and_attributed(tiny):
    api = tiny()
    res = api.get("/api/v1/roads.geojson")
    assert res.status_code == 200 and res.mimetype == "application/geo+json"
    body = res.json
    assert len(body["features"]) == 4  # A–B, B–C (both ways merged), A→M, M→C
    assert "OpenStreetMap" in body["attribution"]
    again = api.get("/api/v1/roads.geojson", headers={"If-None-Match": res.headers["ETag"]})
    assert again.status_code == 304


OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="test">
  <node id="1" lat="38.000" lon="106.000"/>
  <node id="2" lat="38.000" lon="106.010"/>
  <node id="3" lat="38.000" lon="106.020"/>
  <node id="4" lat="38.010" lon="106.010"/>
  <node id="9" lat="38.050" lon="106.050"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="primary"/><tag k="ref" v="S101"/></way>
  <way id="11"><nd ref="3"/><nd ref="4"/><nd ref="1"/><tag k="highway" v="residential"/><tag k="oneway" v="yes"/></way>
  <way id="12"><nd ref="9"/><nd ref="4"/><tag k="highway" v="footway"/></way>
</osm>
"""


def test_roads_import_cli_makes_the_active_network(backend, templates, tmp_path):
    from rescue.web.extensions import get_roads
    from tests.conftest import make_app

    osm = tmp_path / "small.osm"
    osm.write_text(OSM, encoding="utf-8")
    url = templates.copy(backend, seeded=False)
    app = make_app(url, tmp_path)
    result = app.test_cli_runner().invoke(args=["roads", "import", str(osm), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "4 个节点" in result.output and "6 条有向路段" in result.output
    assert (tmp_path / "instance" / "roads" / "active.npz").exists()
    app.extensions["db"].engine.dispose()
    again = make_app(url, tmp_path)  # the next start uses it
    with again.app_context():
        net = get_roads().net
        assert (net.n_nodes, net.n_edges) == (4, 4 + 2)  # 1–2–3 both ways, 3→4→1 one-way; the footway left out
    again.extensions["db"].engine.dispose()
    bad = tmp_path / "bad.osm"
    bad.write_text("<osm>", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["roads", "import", str(bad), "--no-progress"])
    assert result.exit_code != 0 and "无法导入" in result.output


def test_coverage_map_png(tiny_app, world, tmp_path):
    out = tmp_path / "cover.png"
    result = tiny_app.test_cli_runner().invoke(
        args=["coverage-map", "--capability", "medical_first_aid", "--minutes", "12", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "2 处达标" in result.output


def test_ningxia_default_hazmat_incident_at_ningdong(api):
    dispatcher = api("dispatcher")
    res = dispatcher.post(
        "/api/v1/incidents",
        json={"type": "chem_toxic_gas_leak", "level": "较大", "place": "宁东", "description": "储罐区氯气泄漏"},
    )
    assert res.status_code == 201, res.json
    inc = res.json
    assert inc["place"] == "宁东镇" and len(inc["needs"]) >= 5
    ranking = dispatcher.get(f"/api/v1/incidents/{inc['id']}/candidates?k=5").json
    hazmat = next(n for n in ranking["needs"] if n["capability"] == "hazmat_leak_control")["candidates"]
    first = hazmat[0]
    assert "宁东" in first["name"] or "灵武" in first["name"] or "宁东" in first["owner"]
    # a team at the scene goes straight there (the off-road shortcut); one further off names its roads
    assert first["eta_s"] < 3600 and (first["via"] or (first["direct"] and first["offroad_m"] < 2000))
    assert any(c["via"] for c in hazmat)
    assert [c["eta_s"] for c in hazmat] == sorted(c["eta_s"] for c in hazmat if not c["stale"]) + [
        c["eta_s"] for c in hazmat if c["stale"]
    ]
    plan = dispatcher.post(f"/api/v1/incidents/{inc['id']}/plan").json
    assert plan["assignments"] and plan["makespan_s"] > 0
    covered = {a["need_id"] for a in plan["assignments"]}
    assert all(n["id"] in covered or n["id"] in {u["need_id"] for u in plan["uncovered"]} for n in inc["needs"])
