"""Bad input gets a clear 422 naming every bad field at once, 413 when too large, and never a 500."""

import random

import pytest
from sqlalchemy import func, select

from rescue.models import AuditEntry, Team
from tests.registry.test_crud import NEW


def test_every_bad_team_field_is_reported_at_once(api, session):
    before = session.scalar(select(func.count()).select_from(Team))
    res = api("dispatcher").post(
        "/api/v1/teams",
        json={
            "name": "",
            "level": "galactic",
            "team_type": "hazmat",
            "capabilities": ["hazmat_leak_control", "teleport"],
            "lat": 31.2,
            "lon": 121.5,
            "headcount": -3,
            "turnout_min": "soon",
            "commander_phone": "12345",
            "colour": "red",
            "backbone": "maybe",
        },
    )
    assert res.status_code == 422
    body = res.json
    assert body["error"] == "validation" and body["message"]
    assert body["fields"] == {
        "name": "至少 1 个字符",
        "level": "取值应为: national, provincial, city, county, enterprise, social",
        "capabilities": "未知的能力代码: teleport",
        "lat": "超出服务区域 (纬度应在 34.8–39.9 之间)",
        "lon": "超出服务区域 (经度应在 103.6–108.2 之间)",
        "headcount": "不能小于 0",
        "turnout_min": "应为数字",
        "commander_phone": body["fields"]["commander_phone"],
        "colour": "未知字段",
        "backbone": "应为是/否 (true/false)",
    }
    assert body["fields"]["commander_phone"]
    assert session.scalar(select(func.count()).select_from(Team)) == before


@pytest.mark.parametrize(
    ("kind", "data", "field", "reason"),
    [
        ("supplies", {"code": "2000101"}, "code", "物资编码各级代码不能为00"),
        ("supplies", {"code": "4010101"}, "code", "物资编码大类应为1、2或3"),
        ("supplies", {"code": "20101"}, "code", "物资编码应为7位数字(1+2+2+2)"),
        ("supplies", {"quantity": -1}, "quantity", "不能小于 0"),
        ("enterprises", {"credit_code": "91640000MA76TEXX01"}, "credit_code", "统一社会信用代码校验位错误"),
        ("enterprises", {"credit_code": "9164"}, "credit_code", "统一社会信用代码应为18位"),
        ("experts", {"phone": "not a phone"}, "phone", None),
        ("equipment", {"quantity": 1.5}, "quantity", "应为整数"),
        ("equipment", {"next_inspection": "next tuesday"}, "next_inspection", "日期格式应为 YYYY-MM-DD"),
    ],
)
def test_field_rules(api, kind, data, field, reason):
    from tests.registry.test_crud import new_record

    d = api("dispatcher")
    res = d.post(f"/api/v1/{kind}", json=new_record(d, kind) | data)
    assert res.status_code == 422
    assert field in res.json["fields"]
    if reason:
        assert res.json["fields"][field] == reason


def test_patch_reports_bad_fields_and_may_not_blank_required_ones(api):
    d = api("dispatcher")
    team = d.get("/api/v1/teams?limit=1").json["items"][0]
    res = d.patch(f"/api/v1/teams/{team['id']}", json={"name": None, "capabilities": ["nope"], "lat": 50})
    assert res.status_code == 422
    assert set(res.json["fields"]) == {"name", "capabilities", "lat"}
    assert res.json["fields"]["name"] == "不能为空"
    assert d.get(f"/api/v1/teams/{team['id']}").json == team


def test_bad_query_parameters_are_named(api):
    res = api("dispatcher").get("/api/v1/teams?limit=0&offset=x&near=abc&colour=red&sort=secret&backbone=perhaps")
    assert res.status_code == 422
    assert set(res.json["fields"]) == {"limit", "offset", "near", "colour", "sort", "backbone"}


def test_not_json_and_oversized_bodies(api, app):
    d = api("dispatcher")
    res = d.post("/api/v1/teams", data="name=x", content_type="application/x-www-form-urlencoded")
    assert res.status_code == 422 and "_body" in res.json["fields"]
    assert d.post("/api/v1/teams", json=[1, 2]).status_code == 422
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    res = d.post("/api/v1/teams", data=big, content_type="application/json")
    assert res.status_code == 413 and res.json["error"] == "too_large"


def test_unknown_paths_and_ids(api):
    d = api("dispatcher")
    assert d.get("/api/v1/teams/999999").status_code == 404
    assert d.get("/api/v1/teams/abc").status_code == 422
    assert d.get("/api/v1/nothing").status_code == 404
    assert d.get("/api/v1/nothing").json["error"] == "not_found"


def _garbage(rng: random.Random):
    choices = [
        None,
        True,
        -1,
        0,
        10**12,
        1.5,
        float("1e308"),
        "",
        "x" * 500,
        "<script>",
        [],
        [1, "a"],
        {"a": 1},
        "2026-13-45",
        "中文",
    ]
    return rng.choice(choices)


@pytest.mark.parametrize("kind", list(NEW))
def test_random_garbage_never_causes_a_500(api, kind, session):
    d = api("dispatcher")
    rng = random.Random(kind)
    fields = list(NEW[kind]) + ["enterprise_id", "team_id", "depot_id", "status", "id"]
    audits = session.scalar(select(func.count()).select_from(AuditEntry))
    existing = d.get(f"/api/v1/{kind}?limit=1").json["items"][0]
    key = existing.get("id", existing.get("code"))
    for _ in range(25):
        body = {f: _garbage(rng) for f in rng.sample(fields, rng.randint(1, len(fields)))}
        for res in (d.post(f"/api/v1/{kind}", json=body), d.patch(f"/api/v1/{kind}/{key}", json=body)):
            assert res.status_code in {200, 201, 403, 409, 422}, (body, res.json)
            assert set(res.json) >= ({"error", "message", "fields"} if res.status_code >= 400 else {"name"})
    assert session.scalar(select(func.count()).select_from(AuditEntry)) >= audits
