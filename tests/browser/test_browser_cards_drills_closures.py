"""In a real browser: an enterprise admin edits a response card and plans, starts and records a drill; a dispatcher
draws a road closure on the map and lifts it."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from rescue.clock import CHINA
from rescue.db import utcnow
from rescue.models import RoadClosure
from tests.browser.conftest import login, shot

pytestmark = pytest.mark.browser


def test_enterprise_admin_edits_a_card_and_sees_it_needs_reprinting(page, live):
    login(page, live, "enterprise-a")
    page.goto(live.url + "/portal/cards")
    page.wait_for_selector("#cards tbody tr")
    shot(page, "portal-cards")
    page.click("#cards tbody tr:has-text('NXSH-CZK-001') a:has-text('查看')")
    page.wait_for_selector("#print-status")
    # printing (the PDF link) records a print; then an edit makes a new version and flags the paper card
    pdf = page.request.get(live.url + page.locator("#print-pdf").get_attribute("href"))
    assert pdf.ok and pdf.body()[:4] == b"%PDF"
    page.reload()
    assert "岗位上的卡片是最新的" in page.locator("#print-status").inner_text()
    page.click("#edit-card")
    page.fill("#f-steps", "")
    page.click("#save-card")
    assert "至少 1 项" in page.locator("[data-field=steps] .error-text").inner_text()
    shot(page, "portal-card-form-errors")
    page.fill("#f-steps", "发现泄漏，立即报告班长\n关闭进料阀\n佩戴空气呼吸器\n上风向撤离")
    page.select_option("select[name='reporting-0-contact_id']", index=1)
    page.click("#save-card")
    page.wait_for_selector(".flash.success")
    assert "已保存为第2版" in page.locator(".flash.success").inner_text()
    assert "打印后已变更" in page.locator("#print-status").inner_text()
    shot(page, "portal-card-changed-since-printed")
    assert not page.js_errors


def test_enterprise_admin_plans_starts_and_records_a_drill(page, live):
    login(page, live, "enterprise-a")
    page.goto(live.url + "/portal/drills/new")
    page.fill("#f-name", "常减压装置泄漏演练")
    page.select_option("#f-incident_type", "chem_tank_fire")
    page.fill("#f-place", "常减压装置")
    page.fill("#f-muster_point", "中控楼前")
    start = (utcnow() + timedelta(days=3)).astimezone(CHINA)
    page.fill("#f-starts_at", start.strftime("%Y-%m-%dT%H:%M"))
    page.select_option("#f-repeat", "months")
    page.fill("#f-repeat_interval", "6")
    page.locator("#f-team_ids label", has_text="中国石油宁夏石化公司").first.locator("input").check()
    shot(page, "portal-drill-form")
    page.click("#save-drill")
    page.wait_for_load_state("networkidle")
    assert page.locator("#upcoming-runs").count(), page.locator(".form-error, .error-text, .field-errors").all_inner_texts()
    assert "每6个月" in page.locator("#plan-facts").inner_text()
    shot(page, "portal-drill-plan")
    page.click("#start-drill")
    page.wait_for_selector("dialog.confirm-dialog[open]")
    assert "开始演练" in page.inner_text("dialog.confirm-dialog")
    page.click("dialog.confirm-dialog [data-confirm-ok]")
    page.wait_for_selector("#record-form")
    assert page.locator("#drill-banner").is_visible()
    page.fill("#f-headcount", "18")
    page.select_option("#f-rating", "pass")
    page.fill("#f-findings", "警戒范围偏小")
    page.fill("input[name='rect-0-description']", "扩大警戒范围并复训")
    page.fill("input[name='rect-0-owner']", "安全环保部")
    page.fill("input[name='rect-0-due_date']", (start.date() + timedelta(days=30)).isoformat())
    page.click("#save-record")
    page.wait_for_selector(".flash.success")
    assert "已举行" in page.locator("h1").inner_text()
    assert page.locator("#rectifications input[value='扩大警戒范围并复训']").count() == 1
    shot(page, "portal-drill-run-recorded")
    assert not page.js_errors


def test_dispatcher_draws_a_closure_and_lifts_it(page, live):
    login(page, live, "dispatcher")
    page.goto(live.url + "/console/closures")
    page.wait_for_selector("#closure-map.leaflet-container")
    page.wait_for_load_state("networkidle")
    box = page.locator("#closure-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.4)
    assert page.input_value("#c-lat") and page.input_value("#c-lon")  # point mode: the click is the centre
    page.check("input[name=shape][value=polygon]")
    for fx, fy in ((0.3, 0.25), (0.65, 0.25), (0.65, 0.6), (0.3, 0.6)):
        page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
    assert "4 个顶点" in page.inner_text("#draw-status")
    assert '"Polygon"' in page.input_value("#c-polygon")
    page.fill("#c-reason", "<b>塌方</b>")
    page.fill("#c-hours", "12")
    page.wait_for_timeout(300)
    shot(page, "console-closure-drawn")
    page.click("#create-closure")
    page.wait_for_load_state("networkidle")
    if page.locator("#closure-error").count():  # the click missed every road: draw a polygon over the capital
        pytest.fail(page.locator("#closure-error").inner_text())
    assert page.locator("#closures tbody tr", has_text="<b>塌方</b>").count() == 1  # shown as text
    assert page.locator("#closures tbody tr", has_text="道路中断").count() == 1
    page.wait_for_selector("#closure-map path.closed-road.closed-impassable", state="attached")  # the closed stretches
    page.wait_for_timeout(500)
    shot(page, "console-closures")
    page.click("#closures button[data-lift]")
    page.wait_for_selector("dialog.confirm-dialog[open]")
    assert "解除" in page.inner_text("dialog.confirm-dialog")
    page.click("dialog.confirm-dialog [data-confirm-ok]")
    page.wait_for_selector(".flash.success")
    with live.session() as s:
        assert s.scalars(select(RoadClosure)).one().lifted_dt is not None
    assert not page.js_errors
