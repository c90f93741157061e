"""Legal duties and certification (industry, six-monthly drills, backbone, verified, national/provincial level)
are set by the command center only: an enterprise admin gets 403 naming the fields, and the portal does not offer them."""

import pytest
from sqlalchemy import select

from rescue.models import Enterprise, Team, User
from tests.registry.test_crud import NEW


def _own(session, username="enterprise-a"):
    enterprise_id = session.scalar(select(User.enterprise_id).where(User.username == username))
    team = session.scalars(select(Team).where(Team.enterprise_id == enterprise_id).order_by(Team.id)).first()
    return session.get(Enterprise, enterprise_id), team


@pytest.mark.parametrize(("field", "value"), [("industry", "other"), ("drill_every_6_months", "flip")])
def test_an_enterprise_cannot_switch_off_its_legal_duties(api, session, field, value):
    enterprise, _ = _own(session)
    if value == "flip":
        value = not enterprise.drill_every_6_months
    before = getattr(enterprise, field)
    res = api("enterprise-a").patch(f"/api/v1/enterprises/{enterprise.id}", json={field: value, "address": "新地址"})
    assert res.status_code == 403, res.json
    assert res.json["fields"] == {field: "只能由指挥中心设置"}
    session.expire_all()
    assert getattr(session.get(Enterprise, enterprise.id), field) == before
    assert session.get(Enterprise, enterprise.id).address != "新地址"
    assert api("dispatcher").patch(f"/api/v1/enterprises/{enterprise.id}", json={field: value}).status_code == 200


@pytest.mark.parametrize(
    ("field", "value"), [("backbone", True), ("verified", True), ("level", "national"), ("level", "provincial")]
)
def test_an_enterprise_cannot_certify_its_own_team(api, session, field, value):
    _, team = _own(session)
    if isinstance(value, bool):
        api("dispatcher").patch(f"/api/v1/teams/{team.id}", json={field: False})
    a = api("enterprise-a")
    res = a.patch(f"/api/v1/teams/{team.id}", json={field: value})
    assert res.status_code == 403 and res.json["fields"] == {field: "只能由指挥中心设置"}
    created = a.post("/api/v1/teams", json=NEW["teams"] | {field: value})
    assert created.status_code == 403 and created.json["fields"] == {field: "只能由指挥中心设置"}
    assert a.get(f"/api/v1/teams?q={NEW['teams']['name']}").json["total"] == 0
    assert api("dispatcher").patch(f"/api/v1/teams/{team.id}", json={field: value}).json[field] == value


def test_unchanged_values_and_other_fields_pass(api, session):
    """An exported sheet re-imported, or a form sent back unchanged, carries these fields with their current values."""
    enterprise, team = _own(session)
    a = api("enterprise-a")
    res = a.patch(
        f"/api/v1/teams/{team.id}",
        json={"backbone": team.backbone, "verified": team.verified, "level": team.level.value, "headcount": 33},
    )
    assert res.status_code == 200 and res.json["headcount"] == 33
    res = a.patch(f"/api/v1/enterprises/{enterprise.id}", json={"industry": enterprise.industry.value, "address": "x路1号"})
    assert res.status_code == 200
    # a national team stays national, and the enterprise cannot take that away either
    api("dispatcher").patch(f"/api/v1/teams/{team.id}", json={"level": "national"})
    assert a.patch(f"/api/v1/teams/{team.id}", json={"level": "national", "headcount": 34}).status_code == 200
    assert a.patch(f"/api/v1/teams/{team.id}", json={"level": "city"}).json["fields"] == {"level": "只能由指挥中心设置"}


def test_bad_input_and_reserved_fields_are_reported_together(api, session):
    _, team = _own(session)
    res = api("enterprise-a").patch(f"/api/v1/teams/{team.id}", json={"backbone": not team.backbone, "headcount": -1})
    assert res.status_code == 422 and set(res.json["fields"]) == {"backbone", "headcount"}


def test_the_portal_offers_these_fields_to_the_command_center_only(client, session):
    from tests.pages.test_pages import sign_in

    _, team = _own(session)
    sign_in(client, "enterprise-a")
    for path in ("/portal/teams/new", f"/portal/teams/{team.id}/edit"):
        form = client.get(path).text
        assert 'name="backbone"' not in form and 'name="verified"' not in form, path
        assert 'value="national"' not in form and 'value="provincial"' not in form, path
        assert 'value="county"' in form
    assert 'value="provincial"' not in client.get("/portal/depots/new").text
    client.post("/logout", data={"csrf_token": _csrf(client.get("/portal/").text)})
    sign_in(client, "dispatcher")
    form = client.get("/portal/teams/new").text
    assert 'name="backbone"' in form and 'value="national"' in form
    # the owner is chosen by name from a list, never typed as a number
    enterprise, _ = _own(session)
    assert '<select name="enterprise_id" id="f-enterprise_id">' in form
    assert f'<option value="{enterprise.id}">{enterprise.name}</option>' in form


def _csrf(html: str) -> str:
    from tests.pages.test_pages import csrf_of

    return csrf_of(html)


def test_an_import_cannot_certify_either(api):
    import io

    header = ["name", "level", "team_type", "capabilities", "lat", "lon", "backbone"]
    rows = [header, ["自封骨干队", "national", "综合", "firefighting", "38.5", "106.2", "true"]]
    data = "\n".join(",".join(r) for r in rows).encode()
    a = api("enterprise-a")
    res = a.post("/api/v1/teams/import", data={"file": (io.BytesIO(data), "t.csv")}, content_type="multipart/form-data")
    assert res.status_code == 422
    assert {(e["row"], e["field"], e["reason"]) for e in res.json["rows"]} == {
        (2, "level", "只能由指挥中心设置"),
        (2, "backbone", "只能由指挥中心设置"),
    }
    assert a.get("/api/v1/teams?q=自封骨干队").json["total"] == 0
