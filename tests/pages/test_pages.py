"""Pages through the Flask test client: sign-in, CSRF, escaping, role-aware navigation and access."""

import re

import pytest
from sqlalchemy import select

from rescue.models import Team, User

PASSWORD = "ningxia-demo"
XSS = "<script>alert(1)</script>"


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client, username):
    token = csrf_of(client.get("/login").text)
    res = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert res.status_code == 302, res.text
    return res


@pytest.fixture
def signed_in(client):
    def go(username):
        sign_in(client, username)
        return client

    return go


def test_pages_need_a_session_and_redirect_to_sign_in(client):
    for path in ("/", "/console/", "/portal/", "/portal/teams", "/regulator/compliance", "/regulator/audit"):
        res = client.get(path)
        assert res.status_code == 302
        assert res.location.startswith("/login?next=")


def test_sign_in_lands_on_the_role_home_and_rejects_bad_passwords(client):
    token = csrf_of(client.get("/login").text)
    bad = client.post("/login", data={"username": "dispatcher", "password": "wrong", "csrf_token": token})
    assert bad.status_code == 401
    assert "用户名或密码错误" in bad.text
    assert sign_in(client, "dispatcher").location == "/console/"


def test_next_is_followed_only_within_the_site(client):
    token = csrf_of(client.get("/login").text)
    res = client.post(
        "/login", data={"username": "regulator", "password": PASSWORD, "csrf_token": token, "next": "//evil.example/x"}
    )
    assert res.location == "/regulator/compliance"
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/regulator/stale").text)})
    token = csrf_of(client.get("/login").text)
    res = client.post(
        "/login", data={"username": "regulator", "password": PASSWORD, "csrf_token": token, "next": "/regulator/audit"}
    )
    assert res.location == "/regulator/audit"


def test_forms_without_csrf_token_are_refused(client):
    assert client.post("/login", data={"username": "dispatcher", "password": PASSWORD}).status_code == 400
    sign_in(client, "enterprise-a")
    res = client.post("/portal/confirm", data={})
    assert res.status_code == 400
    assert "CSRF" in res.text


def test_api_session_calls_need_the_csrf_header(signed_in):
    client = signed_in("enterprise-a")
    token = csrf_of(client.get("/portal/").text)
    assert client.get("/api/v1/teams").status_code == 200  # reading is safe
    refused = client.post("/api/v1/teams", json={})
    assert refused.status_code == 403
    assert refused.json["error"] == "forbidden"
    checked = client.post("/api/v1/teams", json={}, headers={"X-CSRFToken": token})
    assert checked.status_code == 422  # past the CSRF check, into validation


def test_bearer_tokens_need_no_csrf(api):
    res = api("enterprise-a").post("/api/v1/teams", json={})
    assert res.status_code == 422


def test_navigation_follows_the_role(signed_in):
    client = signed_in("enterprise-a")
    html = client.get("/portal/").text
    assert "企业资源" in html and "指挥调度台" not in html and "审计日志" not in html
    assert client.get("/console/").status_code == 403
    assert client.get("/regulator/audit").status_code == 403


def test_regulator_navigation_and_pages(signed_in):
    client = signed_in("regulator")
    html = client.get("/regulator/stale").text
    assert "演练合规" in html and "审计日志" in html and "指挥调度台" not in html
    for path in ("/regulator/compliance", "/regulator/stale", "/regulator/coverage", "/regulator/audit", "/"):
        assert client.get(path).status_code == 200, path
    assert client.get("/portal/").status_code == 403
    assert client.get("/console/").status_code == 403


def test_command_center_sees_everything(signed_in):
    client = signed_in("dispatcher")
    for path in ("/console/", "/portal/", "/portal/teams", "/regulator/compliance", "/regulator/audit", "/"):
        assert client.get(path).status_code == 200, path


def test_user_content_is_escaped(signed_in, session):
    team = session.scalars(select(Team).where(Team.enterprise_id.is_not(None))).first()
    team.name = XSS
    owner = session.scalar(select(User).where(User.enterprise_id == team.enterprise_id))
    session.commit()
    client = signed_in(owner.username) if owner else signed_in("dispatcher")
    html = client.get("/portal/teams?q=script").text
    assert XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    html = client.get(f"/portal/teams/{team.id}/edit").text
    assert XSS not in html


def test_edit_form_shows_the_api_messages_next_to_inputs(signed_in):
    client = signed_in("enterprise-a")
    listing = client.get("/portal/teams").text
    team_id = re.search(r"/portal/teams/(\d+)/edit", listing).group(1)
    form = client.get(f"/portal/teams/{team_id}/edit").text
    res = client.post(
        f"/portal/teams/{team_id}/edit",
        data={
            "csrf_token": csrf_of(form),
            "name": "x",
            "level": "enterprise",
            "team_type": "t",
            "capabilities": ["firefighting"],
            "lat": "38.1",
            "lon": "106.5",
            "headcount": "-1",
            "duty_phone": "12",
        },
    )
    assert res.status_code == 422
    errors = {}
    for chunk in res.text.split('data-field="')[1:]:
        found = re.search(r'<p class="error-text" role="alert">([^<]+)</p>', chunk)
        if found:
            errors[chunk.split('"', 1)[0]] = found.group(1)
    assert errors["headcount"] == "不能小于 0"
    assert "duty_phone" in errors


def test_creating_a_record_from_the_form(signed_in, session):
    client = signed_in("enterprise-a")
    form = client.get("/portal/depots/new").text
    res = client.post(
        "/portal/depots/new",
        data={"csrf_token": csrf_of(form), "name": "测试储备库", "level": "enterprise", "lat": "38.2", "lon": "106.3"},
    )
    assert res.status_code == 302, res.text
    assert "测试储备库" in client.get("/portal/depots").text


def test_other_enterprises_records_are_not_found(signed_in, session):
    admin_b = session.scalar(select(User).where(User.username == "enterprise-b"))
    team_id = session.scalars(select(Team.id).where(Team.enterprise_id == admin_b.enterprise_id)).first()
    session.rollback()  # end the read before the app writes (SQLite)
    client = signed_in("enterprise-a")
    assert client.get(f"/portal/teams/{team_id}/edit").status_code == 404


def test_audit_log_lists_changes(signed_in):
    client = signed_in("enterprise-a")
    client.post("/portal/confirm", data={"csrf_token": csrf_of(client.get("/portal/").text)})
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/portal/").text)})
    html = signed_in("regulator").get("/regulator/audit").text
    assert "enterprise-a" in html and "确认" in html
