"""A regulator sees the overdue list; a responder opens the SMS link on a phone-sized screen and accepts."""

import re

import pytest

from tests.browser.conftest import TIMEOUT_MS, login, shot

pytestmark = pytest.mark.browser


def test_regulator_sees_overdue_drills_stale_data_and_audit(page, live):
    login(page, live, "regulator")
    assert page.url.endswith("/regulator/compliance")
    rows = page.locator("#overdue-table tbody tr.overdue")
    assert rows.count() >= 1
    assert int(page.inner_text("#overdue-total")) == rows.count()
    assert page.locator(".bars .bar-row").count() >= 2  # by city and by industry
    shot(page, "regulator-compliance")
    page.click("nav.mainnav a:has-text('数据时效')")
    page.wait_for_selector("h1:has-text('未确认')")
    shot(page, "regulator-stale")
    page.click("nav.mainnav a:has-text('审计日志')")
    page.wait_for_selector("#audit")
    shot(page, "regulator-audit")
    page.click("nav.mainnav a:has-text('覆盖缺口')")
    page.wait_for_function("() => document.querySelectorAll('#coverage-capability option').length > 1")
    page.select_option("#coverage-capability", "mine_rescue")
    page.fill("#coverage-minutes", "45")
    page.click("#coverage-form button[type=submit]")
    page.wait_for_function("() => /个地点/.test(document.getElementById('coverage-summary').textContent)", timeout=30_000)
    shot(page, "regulator-coverage")
    assert not page.js_errors, page.js_errors


def test_responder_page_on_a_phone(browser, live_factory):
    live = live_factory(RESPONDER_LINKS=1)
    with live.app.test_client() as client:
        token = client.post("/api/v1/tokens", json={"username": "dispatcher", "password": "ningxia-demo"}).json["token"]
        auth = {"Authorization": f"Bearer {token}"}
        incident = client.post(
            "/api/v1/incidents",
            json={"type": "confined_space_asphyxiation", "level": "larger", "lat": 38.4872, "lon": 106.2309, "drill": True},
            headers=auth,
        )
        assert incident.status_code == 201, incident.json
        incident_id = incident.json["id"]
        assert client.post(f"/api/v1/incidents/{incident_id}/dispatches", json={}, headers=auth).status_code == 201
        messages = client.get(f"/api/v1/incidents/{incident_id}/messages", headers=auth).json["items"]
    link = next(m for m in (re.search(r"https?://\S+/r/[\w-]+", x.get("text", "")) for x in messages) if m).group(0)
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    context.set_default_timeout(TIMEOUT_MS)
    phone = context.new_page()
    try:
        phone.goto(link)
        assert "【演练】" in phone.inner_text("body")
        assert phone.locator("button:has-text('接受')").is_visible()
        width = phone.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, "no sideways scrolling on a phone"
        shot(phone, "responder-phone")
        phone.click("button:has-text('接受')")
        phone.wait_for_selector("text=已记录")
        shot(phone, "responder-accepted")
    finally:
        context.close()
