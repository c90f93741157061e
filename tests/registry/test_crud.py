"""Create, read, update, delete and list every kind of registry record through the API."""

import pytest

# a valid new record of every kind (references filled in by the test)
NEW = {
    "enterprises": {
        "name": "宁夏测试化工有限公司",
        "credit_code": "91640000MA76XXXX0",
        "industry": "hazardous_chemicals",
        "city": "银川市",
        "county": "灵武市",
        "lat": 38.1,
        "lon": 106.5,
    },
    "depots": {"name": "测试储备库", "level": "county", "lat": 38.3, "lon": 106.2, "contact_phone": "0951-5012345"},
    "teams": {
        "name": "测试危化救援队",
        "level": "county",
        "team_type": "hazmat",
        "capabilities": ["hazmat_leak_control"],
        "lat": 38.48,
        "lon": 106.28,
        "headcount": 12,
        "turnout_min": 5,
        "commander_phone": "13951001234",
    },
    "experts": {"name": "张测试", "fields": ["hazmat_leak_control"], "phone": "+86 139 5100 4321", "lat": 38.5, "lon": 106.3},
    "equipment": {"name": "测试泡沫消防车", "capabilities": ["firefighting"], "quantity": 2},
    "supplies": {"code": "2010101", "name": "测试防化服", "unit": "套", "quantity": 40},
    "contacts": {"name": "李联络", "phone": "13951005678", "role": "liaison"},
    "capabilities": {"code": "test_capability", "name": "测试能力"},
    "incident-types": {
        "code": "test_type",
        "name": "测试事件",
        "industry": "fire",
        "requirements": [{"capability": "firefighting", "quantity": 2}],
    },
}
KEY = {"capabilities": "code", "incident-types": "code"}


def _valid_credit_code():
    from rescue.codes import credit_check_char

    first = "91640000MA76TEXX0"
    return first + credit_check_char(first)


def new_record(api, kind):
    data = dict(NEW[kind])
    if kind == "enterprises":
        data["credit_code"] = _valid_credit_code()
    if kind in {"equipment", "supplies"}:
        depots = api.get("/api/v1/depots?limit=1").json["items"]
        data["depot_id"] = depots[0]["id"]
        data["enterprise_id"] = depots[0]["enterprise_id"]
    return data


@pytest.mark.parametrize("kind", list(NEW))
def test_crud_round_trip(api, kind):
    d = api("dispatcher")
    res = d.post(f"/api/v1/{kind}", json=new_record(d, kind))
    assert res.status_code == 201, res.json
    key = res.json[KEY.get(kind, "id")]
    got = d.get(f"/api/v1/{kind}/{key}")
    assert got.status_code == 200
    assert got.json["name"] == NEW[kind]["name"]
    patch = d.patch(f"/api/v1/{kind}/{key}", json={"name": "改名后"})
    assert patch.status_code == 200, patch.json
    assert d.get(f"/api/v1/{kind}/{key}").json["name"] == "改名后"
    assert d.delete(f"/api/v1/{kind}/{key}").status_code == 204
    assert d.get(f"/api/v1/{kind}/{key}").status_code == 404


def test_normalised_values_are_stored(api):
    d = api("dispatcher")
    res = d.post("/api/v1/teams", json=NEW["teams"])
    assert res.json["commander_phone"] == "+8613951001234"
    assert res.json["status"] == "available" and res.json["backbone"] is False


def test_dispatcher_sees_the_eight_backbone_teams(api):
    res = api("dispatcher").get("/api/v1/teams?backbone=true")
    assert res.status_code == 200
    assert res.json["total"] == 8
    names = [t["name"] for t in res.json["items"]]
    assert any("宁夏石化" in n for n in names) and any("宁煤" in n for n in names)
    assert all(
        {"id", "lat", "lon", "capabilities", "turnout_min", "status", "backbone", "verified", "enterprise_id"} <= set(t)
        for t in res.json["items"]
    )


def test_filters_sort_and_pagination(api):
    d = api("dispatcher")
    all_teams = d.get("/api/v1/teams?limit=500").json
    assert all_teams["total"] == len(all_teams["items"])
    mine = d.get("/api/v1/teams?capability=mine_rescue").json
    assert mine["total"] > 0 and all("mine_rescue" in t["capabilities"] for t in mine["items"])
    page = d.get("/api/v1/teams?limit=5&offset=5&sort=-name").json
    assert page["limit"] == 5 and page["offset"] == 5 and len(page["items"]) == 5
    names = [t["name"] for t in d.get("/api/v1/teams?limit=10&sort=-name").json["items"]]
    assert names[5:] == [t["name"] for t in page["items"]]
    county = d.get("/api/v1/teams", query_string={"county": "灵武市"}).json
    assert county["total"] > 0 and all(t["county"] == "灵武市" for t in county["items"])
    text = d.get("/api/v1/teams", query_string={"q": "石化"}).json
    assert text["total"] > 0 and all("石化" in (t["name"] + t["place"] + t["commander_name"]) for t in text["items"])


def test_near_filter_uses_geodesic_distance(api):
    d = api("dispatcher")
    near = d.get("/api/v1/teams?near=38.48,106.28&radius_km=15&sort=distance").json
    far = d.get("/api/v1/teams?near=38.48,106.28&radius_km=500").json
    assert 0 < near["total"] < far["total"]
    from geopy.distance import geodesic

    dists = [geodesic((38.48, 106.28), (t["lat"], t["lon"])).km for t in near["items"]]
    assert all(x <= 15 for x in dists) and dists == sorted(dists)
    equipment = d.get("/api/v1/equipment?near=38.48,106.28&radius_km=15").json
    assert all(geodesic((38.48, 106.28), (e["lat"], e["lon"])).km <= 15 for e in equipment["items"])


def test_every_change_is_audited(api, session):
    from sqlalchemy import select

    from rescue.models import AuditEntry

    d = api("dispatcher")
    team = d.post("/api/v1/teams", json=NEW["teams"]).json
    d.patch(f"/api/v1/teams/{team['id']}", json={"headcount": 20})
    d.delete(f"/api/v1/teams/{team['id']}")
    session.expire_all()
    rows = session.scalars(
        select(AuditEntry).where(AuditEntry.kind == "teams", AuditEntry.record_id == team["id"]).order_by(AuditEntry.id)
    ).all()
    assert [r.action for r in rows] == ["create", "update", "delete"]
    assert rows[1].changes == {"headcount": [12, 20]}
    assert {r.username for r in rows} == {"dispatcher"}


def test_freshness_lists_stale_records_and_confirm_clears_them(api, session):
    from datetime import timedelta

    from sqlalchemy import update

    from rescue.db import utcnow
    from rescue.models import Team, User

    ent_id = session.query(User).filter_by(username="enterprise-a").one().enterprise_id
    session.execute(update(Team).where(Team.enterprise_id == ent_id).values(last_confirmed_dt=utcnow() - timedelta(days=200)))
    session.commit()
    reg = api("regulator").get("/api/v1/freshness?days=90").json
    group = next(g for g in reg["items"] if g["enterprise_id"] == ent_id)
    assert group["count"] >= 1 and all(r["days"] >= 199 for r in group["records"])
    a = api("enterprise-a")
    assert a.post(f"/api/v1/enterprises/{ent_id}/confirm").status_code == 200
    after = api("regulator").get("/api/v1/freshness?days=90").json
    assert all(g["enterprise_id"] != ent_id for g in after["items"])


def test_delete_of_a_referenced_record_is_a_conflict(api):
    d = api("dispatcher")
    depot = d.get("/api/v1/supplies?limit=1").json["items"][0]["depot_id"]
    res = d.delete(f"/api/v1/depots/{depot}")
    assert res.status_code == 409
    assert d.get(f"/api/v1/depots/{depot}").status_code == 200


def test_openapi_document_comes_from_the_schemas(client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/teams" in doc["paths"] and "post" in doc["paths"]["/api/v1/teams"]
    team_in = doc["components"]["schemas"]["TeamIn"]
    assert "capabilities" in team_in["required"] and team_in["additionalProperties"] is False
    assert client.get("/api/v1/docs").status_code == 200
    js = client.get("/api/v1/docs/static/swagger-ui-bundle.js")
    assert js.status_code == 200
    js.close()
