"""Every page, opened by every role, with an existing id and a missing one: the page or a Chinese 403/404 page
with the usual frame, never a 500 (the error page once used the signed-in user after its session was closed)."""

import re

import pytest
from sqlalchemy import select

from rescue.models import Team, User
from tests.pages.test_pages import csrf_of, sign_in

PAGE_BLUEPRINTS = {"accounts", "dashboard", "console", "portal", "regulator"}
ROLES = ("dispatcher", "regulator", "enterprise-a")
MESSAGES = {403: "无权访问", 404: "不存在"}
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}  # what a browser sends


def _paths(app, record_id: int) -> list[tuple[str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in PAGE_BLUEPRINTS:
            continue
        path = re.sub(r"<any\(([^)]*)\):\w+>", lambda m: m.group(1).split(",")[0].strip().strip('"'), rule.rule)
        path = re.sub(r"<(?:\w+:)?\w+>", str(record_id), path)
        out.extend((method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"}))
    return out


@pytest.mark.parametrize("username", ROLES)
def test_no_page_gives_a_500_to_any_role(app, client, username):
    sign_in(client, username)
    token = csrf_of(client.get("/account/password").text)
    checked = {403: 0, 404: 0}
    for record_id in (1, 987654):
        for method, path in _paths(app, record_id):
            if path in ("/logout", "/account/password") and method == "POST":
                continue  # would end the session this test goes on with
            res = client.open(path, method=method, data={"csrf_token": token}, headers=HTML)
            assert res.status_code < 500, (username, method, path, res.status_code)
            if res.status_code in MESSAGES:
                assert MESSAGES[res.status_code] in res.text, (username, method, path)
                assert "退出" in res.text  # the page frame knows who is signed in
                checked[res.status_code] += 1
    if username != "regulator":  # the regulator opens no record pages at all
        assert checked[404] > 0
    if username != "dispatcher":
        assert checked[403] > 0


def test_another_role_gets_the_chinese_403_page(client):
    sign_in(client, "enterprise-a")
    res = client.get("/console/", headers=HTML)
    assert res.status_code == 403
    assert "403 · 当前角色无权访问此页面" in res.text and "企业管理员" in res.text


def test_a_missing_or_foreign_record_gets_the_chinese_404_page(client, session):
    sign_in(client, "enterprise-a")
    assert "不存在" in client.get("/portal/teams/987654/edit", headers=HTML).text
    other = session.scalar(select(User.enterprise_id).where(User.username == "enterprise-b"))
    theirs = session.scalars(select(Team.id).where(Team.enterprise_id == other)).first()
    res = client.get(f"/portal/teams/{theirs}/edit", headers=HTML)
    assert res.status_code == 404 and "救援队伍不存在" in res.text
