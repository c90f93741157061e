"""Hazard sources: substances from the table, field errors, incidents pre-filled at a source, coverage per source."""

from geopy.distance import distance

SITE = (38.5560, 106.1290)  # inside 宁夏石化's plant (demo)
SOURCE = {
    "name": "液氯储罐区 (测试)",
    "level": "grade1",
    "lat": SITE[0],
    "lon": SITE[1],
    "place": "宁夏石化厂区",
    "substances": [{"code": "液氯", "quantity_t": 40}, {"code": "ammonia", "quantity_t": 5}],
}


def _offset(km_north: float) -> tuple[float, float]:
    p = distance(kilometers=km_north).destination(SITE, bearing=0)
    return p.latitude, p.longitude


def test_hazard_source_keeps_substances_by_code(api):
    a = api("enterprise-a")
    res = a.post("/api/v1/hazard-sources", json=SOURCE)
    assert res.status_code == 201, res.json
    src = res.json
    assert [s["code"] for s in src["substances"]] == ["chlorine", "ammonia"]
    assert src["substances"][0]["name"] == "氯气" and "剧毒" in src["substances"][0]["hazards"]
    assert src["level_name"] == "一级"
    assert src["capabilities"][:2] == ["hazmat_leak_control", "gas_protection"] and "ammonia_leak_control" in src["capabilities"]
    assert api("enterprise-b").get(f"/api/v1/hazard-sources/{src['id']}").status_code == 404
    assert api("regulator").get(f"/api/v1/hazard-sources/{src['id']}").status_code == 200
    assert api("regulator").patch(f"/api/v1/hazard-sources/{src['id']}", json={"name": "x"}).status_code == 403
    table = a.get("/api/v1/hazard-sources/substances").json["items"]
    assert {"chlorine", "ammonia", "lpg", "hydrogen_sulphide", "benzene", "coal_gas"} <= {s["code"] for s in table}


def test_bad_hazard_sources_are_field_errors(api):
    a = api("enterprise-a")
    res = a.post(
        "/api/v1/hazard-sources",
        json={
            "name": "上海某罐区",
            "level": "五级",
            "lat": 31.23,
            "lon": 121.47,
            "substances": [{"code": "unobtainium", "quantity_t": 3}, {"code": "苯", "quantity_t": -1}],
        },
    )
    assert res.status_code == 422
    fields = res.json["fields"]
    assert "超出服务区域" in fields["lat"] and "超出服务区域" in fields["lon"]
    assert "level" in fields
    assert "未知的危险物质" in fields["substances.0.code"]
    assert "substances.1.quantity_t" in fields
    assert a.post("/api/v1/hazard-sources", json=SOURCE | {"substances": []}).status_code == 422


def test_incident_at_a_hazard_source_is_prefilled(api):
    a, cc = api("enterprise-a"), api("dispatcher")
    src = a.post("/api/v1/hazard-sources", json=SOURCE).json
    # chosen from the list: position, type, needs and description come from the source
    res = cc.post("/api/v1/incidents", json={"hazard_source_id": src["id"], "level": "较大"})
    assert res.status_code == 201, res.json
    inc = cc.get(f"/api/v1/incidents/{res.json['id']}").json
    assert inc["type"] == "chem_toxic_gas_leak"
    assert (inc["lat"], inc["lon"]) == SITE
    caps = [n["capability"] for n in inc["needs"] if n["capability"]]
    assert {"hazmat_leak_control", "gas_protection", "ammonia_leak_control"} <= set(caps)
    assert "液氯储罐区" in inc["description"] and "氯气 40 吨" in inc["description"]

    # placed by coordinates 300 m away: the type's template plus what the substances call for
    lat, lon = _offset(0.3)
    near = cc.post("/api/v1/incidents", json={"type": "warehouse_fire", "level": "一般", "lat": lat, "lon": lon}).json
    caps = [n["capability"] for n in cc.get(f"/api/v1/incidents/{near['id']}").json["needs"] if n["capability"]]
    assert caps[:3] == ["firefighting", "earthmoving", "environmental_monitoring"]  # the template first
    assert "hazmat_leak_control" in caps
    # 2 km away: the template alone
    lat, lon = _offset(2.0)
    far = cc.post("/api/v1/incidents", json={"type": "warehouse_fire", "level": "一般", "lat": lat, "lon": lon}).json
    caps = [n["capability"] for n in cc.get(f"/api/v1/incidents/{far['id']}").json["needs"] if n["capability"]]
    assert caps == ["firefighting", "earthmoving", "environmental_monitoring"]

    res = cc.post("/api/v1/incidents", json={"hazard_source_id": 10**8, "level": "较大"})
    assert res.status_code == 422 and "hazard_source_id" in res.json["fields"]
    res = cc.post("/api/v1/incidents", json={"hazard_source_id": "x", "level": "较大"})
    assert res.status_code == 422 and "hazard_source_id" in res.json["fields"]


def test_coverage_per_hazard_source(api):
    a = api("enterprise-a")
    src = a.post("/api/v1/hazard-sources", json=SOURCE).json
    report = api("regulator").get("/api/v1/hazard-sources/coverage?minutes=120").json
    item = next(i for i in report["items"] if i["id"] == src["id"])
    assert [n["capability"] for n in item["needs"]] == src["capabilities"]
    reached = [n for n in item["needs"] if n["arrival_s"] is not None]
    assert reached, item
    for n in item["needs"]:
        assert n["met"] == (n["arrival_s"] is not None and n["arrival_s"] <= 120 * 60)
    # within one minute nothing can arrive (every resource needs its turnout): a 一级 source is a gap
    tight = api("regulator").get("/api/v1/hazard-sources/coverage?minutes=1").json
    assert src["id"] in [g["id"] for g in tight["gaps"]]
    assert api("regulator").get("/api/v1/hazard-sources/coverage?minutes=0").status_code == 422
    # an enterprise sees only its own sources
    assert src["id"] not in [i["id"] for i in api("enterprise-b").get("/api/v1/hazard-sources/coverage").json["items"]]


def test_demo_seed_has_readiness_records(api):
    regulator = api("regulator")
    sources = regulator.get("/api/v1/hazard-sources").json["items"]
    assert {"液化石油气球罐区", "氯碱液氯储存区"} <= {s["name"] for s in sources} and all(s["demo"] for s in sources)
    plans = regulator.get("/api/v1/emergency-plans").json["items"]
    assert any(p["filing_state"] == "returned" and p["filing_comment"] for p in plans)
    assert any(p["evaluation_overdue"] for p in plans)  # the 2021 comprehensive plan of a hazardous-chemicals firm
    assert api("enterprise-a").get("/api/v1/certificates?expiring=1").json["total"] >= 1
    assert api("dispatcher").get("/api/v1/deployments/rates").json["person_hour"] == 120
