"""Signing out ends the session on the server; tokens can be revoked; deactivating a user or changing their
password ends every session and token they have."""

from sqlalchemy import select

from rescue.accounts import accounts
from rescue.models import User
from tests.pages.test_pages import PASSWORD, csrf_of, sign_in


def _cookie(client) -> str:
    return client.get_cookie("session").value


def test_a_signed_out_cookie_no_longer_works(client):
    sign_in(client, "dispatcher")
    assert client.get("/console/").status_code == 200
    stolen = _cookie(client)
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/console/").text)})
    assert client.get("/console/").status_code == 302
    client.set_cookie("session", stolen)  # replayed after sign-out (copied, or kept by a shared computer)
    res = client.get("/console/")
    assert res.status_code == 302 and res.location.startswith("/login")
    assert client.get("/api/v1/teams").status_code == 401


def test_signing_out_ends_only_that_session(app, client):
    other = app.test_client()
    sign_in(client, "dispatcher")
    sign_in(other, "dispatcher")
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/console/").text)})
    assert other.get("/console/").status_code == 200


def test_a_token_can_be_revoked(api, client):
    d, second = api("dispatcher"), api("dispatcher")
    assert d.get("/api/v1/teams?limit=1").status_code == 200
    assert d.delete("/api/v1/tokens/current").status_code == 204
    res = d.get("/api/v1/teams?limit=1")
    assert res.status_code == 401 and res.json["message"] == "令牌无效或已过期"
    assert d.delete("/api/v1/tokens/current").status_code == 401
    assert second.get("/api/v1/teams?limit=1").status_code == 200  # other tokens stay


def _user(session, username) -> User:
    return session.scalar(select(User).where(User.username == username))


def test_deactivating_a_user_revokes_tokens_and_sessions_for_good(app, api, client, session):
    token = api("enterprise-a")
    sign_in(client, "enterprise-a")
    user = _user(session, "enterprise-a")
    accounts.set_active(session, user, False)
    session.commit()
    assert token.get("/api/v1/teams?limit=1").status_code == 401
    assert client.get("/portal/").status_code == 302
    accounts.set_active(session, user, True)
    session.commit()
    # reactivated: the old credentials stay dead, new ones work
    assert token.get("/api/v1/teams?limit=1").status_code == 401
    assert client.get("/portal/").status_code == 302
    assert api("enterprise-a").get("/api/v1/teams?limit=1").status_code == 200


def test_changing_the_password_revokes_tokens_and_sessions(app, api, client, session):
    token = api("enterprise-b")
    sign_in(client, "enterprise-b")
    accounts.set_password(session, _user(session, "enterprise-b"), "a-new-password-2026")
    session.commit()
    assert token.get("/api/v1/teams?limit=1").status_code == 401
    assert client.get("/portal/").status_code == 302
    refused = client.post("/api/v1/tokens", json={"username": "enterprise-b", "password": PASSWORD})
    assert refused.status_code == 401
    fresh = client.post("/api/v1/tokens", json={"username": "enterprise-b", "password": "a-new-password-2026"})
    assert fresh.status_code == 201


def test_a_signed_in_user_changes_their_password_on_a_page(client, session):
    sign_in(client, "regulator")
    form = client.get("/account/password")
    assert form.status_code == 200 and "修改密码" in form.text
    bad = client.post(
        "/account/password",
        data={"csrf_token": csrf_of(form.text), "current": "wrong", "new": "another-pass-2026", "repeat": "another-pass-2026"},
    )
    assert bad.status_code == 422 and "当前密码不正确" in bad.text
    ok = client.post(
        "/account/password",
        data={"csrf_token": csrf_of(form.text), "current": PASSWORD, "new": "another-pass-2026", "repeat": "another-pass-2026"},
    )
    assert ok.status_code == 302 and ok.location.startswith("/login")
    assert client.get("/regulator/compliance").status_code == 302  # signed out everywhere, this browser too
    token = csrf_of(client.get("/login").text)
    res = client.post("/login", data={"username": "regulator", "password": "another-pass-2026", "csrf_token": token})
    assert res.status_code == 302 and res.location == "/regulator/compliance"
