"""One pass over the pages with a Chinese user's eye, in a real browser: docs, console, record, responder, menu, map."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from rescue.db import utcnow
from rescue.models import Incident, ResponderToken
from tests.browser.conftest import TIMEOUT_MS, login, shot

pytestmark = pytest.mark.browser
YINCHUAN = (38.4872, 106.2309)
ISO_T = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def api_token(client, username="dispatcher") -> dict:
    token = client.post("/api/v1/tokens", json={"username": username, "password": "ningxia-demo"}).json["token"]
    return {"Authorization": f"Bearer {token}"}


def new_incident(live, *, dispatch: bool = False, **fields) -> tuple[int, list[dict]]:
    with live.app.test_client() as client:
        auth = api_token(client)
        body = {"type": "confined_space_asphyxiation", "level": "larger", "lat": YINCHUAN[0], "lon": YINCHUAN[1]} | fields
        res = client.post("/api/v1/incidents", json=body, headers=auth)
        assert res.status_code == 201, res.json
        messages = []
        if dispatch:
            assert client.post(f"/api/v1/incidents/{res.json['id']}/dispatches", json={}, headers=auth).status_code == 201
            messages = client.get(f"/api/v1/incidents/{res.json['id']}/messages", headers=auth).json["items"]
        return res.json["id"], messages


def test_api_docs_render_every_tag(page, live):
    login(page, live, "dispatcher")
    tags = {t["name"] for t in page.request.get(live.url + "/api/v1/openapi.json").json()["tags"]}
    assert len(tags) > 20
    page.goto(live.url + "/api/v1/docs")
    page.wait_for_selector(".opblock-tag")
    page.wait_for_function(f"() => document.querySelectorAll('.opblock-tag').length >= {len(tags)}")
    shown = set(page.eval_on_selector_all(".opblock-tag", "els => els.map((e) => e.dataset.tag)"))
    assert shown == tags
    # a tag opens to its operations
    page.click("#operations-tag-teams")
    page.wait_for_selector(".opblock-summary-path[data-path='/api/v1/teams']")
    shot(page, "api-docs-all-tags")
    assert not page.js_errors, page.js_errors


def click_map_at(page, lat, lon):
    point = page.evaluate(
        "([lat, lon]) => { const p = window.rescueMap.latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }", [lat, lon]
    )
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + point[0], box["y"] + point[1])


def test_console_marker_counters_confirmation_and_printable_record(page, live):
    incident_id, _ = new_incident(live, description="受限空间内 2 人昏迷")
    login(page, live, "dispatcher")
    page.wait_for_selector(f"#incident-list li[data-id='{incident_id}']")
    page.wait_for_load_state("networkidle")
    # a new incident's point is set, then an existing incident's marker is clicked: the point stays
    click_map_at(page, 38.0, 106.0)
    lat, lon = page.input_value("#lat"), page.input_value("#lon")
    page.evaluate("([lat, lon]) => { window.rescueMap.setView([lat, lon], 10); }", list(YINCHUAN))
    page.wait_for_timeout(400)
    click_map_at(page, *YINCHUAN)
    page.wait_for_selector(f"#incident-list li.selected[data-id='{incident_id}']")
    assert (page.input_value("#lat"), page.input_value("#lon")) == (lat, lon)

    # one-click dispatch asks first, with the number of SMS and their recipients
    page.wait_for_selector("#candidates tr.candidate", timeout=30_000)
    page.click("#dispatch-button")
    page.wait_for_selector("dialog.confirm-dialog[open]")
    summary = page.inner_text("dialog.confirm-dialog")
    assert re.search(r"发送 \d+ 条短信", summary), summary
    page.click("dialog.confirm-dialog [data-confirm-cancel]")
    page.wait_for_timeout(500)
    assert page.locator("#assignments tr.assignment").count() == 0  # cancelled: nothing sent
    page.click("#dispatch-button")
    page.click("dialog.confirm-dialog [data-confirm-ok]")
    page.wait_for_selector("#assignments tr.assignment")
    n = page.locator("#assignments tr.assignment").count()
    counters = page.inner_text("#assignment-counts")
    assert f"已通知 {n} / {n}" in counters and f"已接受 0 / {n}" in counters and "到场" in counters, counters
    assert "分钟" in page.locator("#assignments td.eta").first.inner_text()
    contact = page.locator("#assignments td.contact a.tel").first
    assert contact.get_attribute("href").startswith("tel:+86")
    assert re.fullmatch(r"1\d{2} \d{4} \d{4}|0\d{2,3}-\d{7,8}", contact.inner_text()), contact.inner_text()
    timeline = page.inner_text("#timeline")
    assert "sms_sent" not in timeline and "dispatched" not in timeline
    shot(page, "console-counters", full_page=False)

    # the printable dispatch record: incident, needs, who was sent, times in Beijing time
    href = page.get_attribute("#record-link", "href")
    page.goto(live.url + href)
    record = page.inner_text("#dispatch-record")
    assert "应急资源调派记录" in record and "受限空间内 2 人昏迷" in record
    assert page.locator("#record-needs tbody tr").count() >= 1
    assert page.locator(".record-assignments tbody tr").count() == n
    assert not ISO_T.search(record), record
    page.emulate_media(media="print")
    assert not page.locator(".topbar").is_visible()
    shot(page, "dispatch-record-print")
    assert not page.js_errors, page.js_errors


def test_a_typed_place_name_with_several_matches_asks_which(page, live):
    login(page, live, "dispatcher")
    page.wait_for_function("() => document.querySelectorAll('#type option').length > 1")
    # an empty form: every missing field at once, in a form's words (no "至少 1 个字符" under a select)
    page.click("#create-incident")
    page.wait_for_selector("[data-field=type] .error-text")
    assert page.inner_text("[data-field=type] .error-text") == "请选择事件类型"
    errors = page.inner_text("#incident-form")
    assert "至少" not in errors and "ISO" not in errors, errors
    page.fill("#place-q", "宁东")
    page.select_option("#type", "confined_space_asphyxiation")
    page.click("#create-incident")
    page.wait_for_selector("[data-field=place] .error-text")
    assert "请在列表中选择" in page.inner_text("[data-field=place] .error-text")
    assert "null" not in page.inner_text("#place-results")
    choices = page.locator("#place-results button.place-choice")
    assert choices.count() == 3
    # key sites (chemical parks, mines) come first
    assert "基地" in choices.first.inner_text() or "园区" in choices.first.inner_text()
    with live.session() as s:
        assert s.scalars(select(Incident)).all() == []
    shot(page, "console-place-choice", full_page=False)
    choices.nth(2).click()
    assert page.input_value("#lat") != ""
    page.click("#create-incident")
    page.wait_for_selector("#incident-list li.selected")


def test_navigation_behind_a_menu_button_at_390px(browser, live):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        login(page, live, "regulator")
        assert not page.locator("nav.mainnav").is_visible()
        page.click("#nav-toggle")
        link = page.locator("nav.mainnav a:has-text('审计日志')")
        assert link.is_visible()
        shot(page, "menu-390", full_page=False)
        link.click()
        page.wait_for_selector("#audit")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    finally:
        context.close()


def test_responder_buttons_follow_the_state_and_an_expired_link_says_so(browser, live_factory):
    live = live_factory(RESPONDER_LINKS=True, COMMAND_PHONE="0951-5010100")
    _, messages = new_incident(live, dispatch=True)
    link = next(m for m in (re.search(r"https?://\S+/r/[\w-]+", x.get("text", "")) for x in messages) if m).group(0)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    phone = context.new_page()
    errors = []
    phone.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        phone.goto(link)
        call = phone.locator("a.button-call")
        assert call.get_attribute("href") == "tel:+869515010100" and "0951-5010100" in call.inner_text()
        phone.wait_for_selector("#route-map .leaflet-interactive")
        shot(phone, "responder-notified")
        for button, status in (("接受", "accepted"), ("出发", "en_route"), ("到达现场", "on_scene")):
            phone.click(f"form.buttons button:has-text('{button}')")
            phone.wait_for_selector(f"#status[data-status={status}]")
        assert phone.locator("form.buttons").count() == 0
        assert "已到场" in phone.inner_text("body")
        shot(phone, "responder-on-scene")
        with live.session() as s:
            for row in s.scalars(select(ResponderToken)):
                row.expires_dt = utcnow() - timedelta(minutes=1)
            s.commit()
        res = phone.goto(link)
        assert res.status == 410
        assert "链接已过期" in phone.inner_text("h1")
        shot(phone, "responder-expired")
        assert not errors, errors
    finally:
        context.close()


def test_offline_map_names_places_has_a_legend_and_one_notice_for_unreachable_tiles(page, live_factory):
    live = live_factory(MAP_TILE_URL="http://127.0.0.1:9/{z}/{x}/{y}.png")
    console_errors = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    login(page, live, "dispatcher")
    page.wait_for_selector(".map-legend")
    page.wait_for_selector(".map-notice")
    assert page.locator(".map-notice").count() == 1
    assert "推荐路线" in page.inner_text(".map-legend")
    page.wait_for_function("() => document.querySelectorAll('.place-label').length > 3")
    labels = page.eval_on_selector_all(".place-label", "els => els.map((e) => e.textContent)")
    assert "银川市" in labels
    page.evaluate("() => { window.rescueMap.setView([38.1, 106.6], 11); }")
    page.wait_for_function("() => [...document.querySelectorAll('.place-label')].some((e) => e.textContent.includes('宁东'))")
    page.evaluate("() => { window.rescueMap.setZoom(3); }")
    assert page.evaluate("() => window.rescueMap.getZoom()") >= 6  # stays on Ningxia
    page.wait_for_timeout(500)
    assert len(console_errors) <= 1, console_errors
    shot(page, "map-legend-notice", full_page=False)
