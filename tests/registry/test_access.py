"""Roles are enforced on every endpoint; an enterprise admin sees and changes only its own records."""

import pytest
from sqlalchemy import func, select

from rescue.models import Team, User
from tests.registry.test_crud import NEW, new_record

PUBLIC = {"/api/v1/tokens", "/api/v1/openapi.json", "/api/v1/docs", "/api/v1/docs/static/<path:filename>"}
# opened by an unguessable key printed on the card (QR code): without the key it is not found
KEYED = {"/api/v1/cards/<int:card_id>/live"}


def _concrete(rule: str) -> str:
    import re

    path = re.sub(r"<any\(([^)]*)\):\w+>", lambda m: m.group(1).split(",")[0].strip().strip('"'), rule)
    return re.sub(r"<(?:\w+:)?\w+>", "1", path)


def test_every_api_endpoint_requires_sign_in(app, client):
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or rule.rule in PUBLIC:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            res = client.open(_concrete(rule.rule), method=method, json={})
            if rule.rule in KEYED:
                assert res.status_code == 404, rule.rule
                continue
            assert res.status_code == 401, (method, rule.rule, res.status_code)
            assert res.json["error"] == "unauthorized"
            checked += 1
    assert checked >= 8


def test_forged_or_expired_tokens_are_refused(client, session):
    assert client.get("/api/v1/teams", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/api/v1/teams", headers={"Authorization": "Basic abc"}).status_code == 401
    res = client.post("/api/v1/tokens", json={"username": "dispatcher", "password": "wrong"})
    assert res.status_code == 401 and res.json["message"] == "用户名或密码错误"


def test_tokens_are_stored_hashed(client, session):
    from rescue.models import ApiToken

    token = client.post("/api/v1/tokens", json={"username": "regulator", "password": "ningxia-demo"}).json["token"]
    hashes = list(session.scalars(select(ApiToken.token_hash)))
    assert token not in hashes and len(hashes) == 1 and len(hashes[0]) == 64


@pytest.mark.parametrize("kind", list(NEW))
def test_regulator_reads_everything_and_changes_nothing(api, kind):
    r, d = api("regulator"), api("dispatcher")
    assert r.get(f"/api/v1/{kind}").status_code == 200
    data = new_record(d, kind)
    assert r.post(f"/api/v1/{kind}", json=data).status_code == 403
    first = r.get(f"/api/v1/{kind}?limit=1").json["items"][0]
    key = first.get("id", first.get("code"))
    assert r.patch(f"/api/v1/{kind}/{key}", json={"name": "x"}).status_code == 403
    assert r.delete(f"/api/v1/{kind}/{key}").status_code == 403
    assert r.get(f"/api/v1/{kind}/{key}").json["name"] == first["name"]


def _enterprise(session, username):
    return session.scalar(select(User.enterprise_id).where(User.username == username))


@pytest.mark.parametrize("kind", ["teams", "experts", "equipment", "supplies", "depots", "contacts"])
def test_enterprise_admin_sees_only_its_own_records(api, session, kind):
    mine = _enterprise(session, "enterprise-a")
    items = api("enterprise-a").get(f"/api/v1/{kind}?limit=500").json["items"]
    assert all(i["enterprise_id"] == mine for i in items)
    everything = api("dispatcher").get(f"/api/v1/{kind}?limit=500").json
    assert everything["total"] > len(items)


def test_enterprise_admin_cannot_touch_another_enterprises_records(api, session):
    other = _enterprise(session, "enterprise-b")
    team = session.scalars(select(Team).where(Team.enterprise_id == other)).first()
    a = api("enterprise-a")
    assert a.get(f"/api/v1/teams/{team.id}").status_code == 404
    assert a.patch(f"/api/v1/teams/{team.id}", json={"headcount": 1}).status_code == 404
    assert a.delete(f"/api/v1/teams/{team.id}").status_code == 404
    assert a.get(f"/api/v1/enterprises/{other}").status_code == 404
    assert a.patch(f"/api/v1/enterprises/{other}", json={"address": "x"}).status_code == 404
    assert a.post(f"/api/v1/enterprises/{other}/confirm").status_code == 404
    res = a.post("/api/v1/teams", json=NEW["teams"] | {"enterprise_id": other})
    assert res.status_code == 403
    session.expire_all()
    assert session.get(Team, team.id).headcount == team.headcount
    assert session.scalar(select(func.count()).select_from(Team).where(Team.name == NEW["teams"]["name"])) == 0


def test_enterprise_admin_creates_records_for_its_own_enterprise(api, session):
    mine = _enterprise(session, "enterprise-a")
    a = api("enterprise-a")
    res = a.post("/api/v1/teams", json=NEW["teams"])
    assert res.status_code == 201 and res.json["enterprise_id"] == mine
    team_id = res.json["id"]
    assert a.patch(f"/api/v1/teams/{team_id}", json={"status": "off_duty"}).json["status"] == "off_duty"
    # equipment must be kept by one of its own teams
    other_team = session.scalars(select(Team).where(Team.enterprise_id != mine, Team.enterprise_id.is_not(None))).first()
    bad = a.post("/api/v1/equipment", json={"name": "x", "team_id": other_team.id})
    assert bad.status_code == 422 and bad.json["fields"]["team_id"] == "属于其他企业"
    assert a.post("/api/v1/equipment", json={"name": "自有装备", "team_id": team_id}).status_code == 201


def test_enterprise_admin_cannot_change_shared_reference_data(api):
    a = api("enterprise-a")
    assert a.post("/api/v1/capabilities", json=NEW["capabilities"]).status_code == 403
    assert (
        a.patch(
            "/api/v1/incident-types/" + a.get("/api/v1/incident-types?limit=1").json["items"][0]["code"], json={"name": "x"}
        ).status_code
        == 403
    )
    assert a.post("/api/v1/enterprises", json=NEW["enterprises"]).status_code == 403
