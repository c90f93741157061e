"""Readiness in a real browser: an enterprise registers a plan, uploads its PDF and files it; the regulator accepts it."""

import pytest
from sqlalchemy import select

from rescue.models import EmergencyPlan
from tests.browser.conftest import login, shot
from tests.readiness.conftest import make_pdf

pytestmark = pytest.mark.browser


def test_plan_is_filed_and_accepted(page, live, tmp_path):
    login(page, live, "enterprise-a")
    page.click("nav.mainnav a:has-text('应急准备')")
    page.wait_for_selector("#plan-form")
    page.select_option("#plan-form select[name=level]", "special_plan")
    page.fill("#plan-form input[name=title]", "苯罐区泄漏火灾专项应急预案")
    page.fill("#plan-form input[name=review_date]", "2026-06-01")
    page.click("#plan-form button[type=submit]")
    row = page.locator("#plan-table tr", has_text="苯罐区泄漏火灾专项应急预案")
    assert "草稿" in row.inner_text()
    doc = tmp_path / "苯罐区预案.pdf"
    doc.write_bytes(make_pdf("benzene plan"))
    row.locator("input[type=file]").set_input_files(str(doc))
    row.locator("button:has-text('上传')").click()
    page.wait_for_selector(".flash:has-text('预案文件已上传')")
    row = page.locator("#plan-table tr", has_text="苯罐区泄漏火灾专项应急预案")
    row.locator("button:has-text('报备')").click()
    page.wait_for_selector(".flash:has-text('已提交监管部门备案')")
    shot(page, "readiness-enterprise")
    with live.session() as s:
        plan_id = s.scalar(select(EmergencyPlan.id).where(EmergencyPlan.title == "苯罐区泄漏火灾专项应急预案"))

    page.click("button:has-text('退出')")
    login(page, live, "regulator")
    page.goto(live.url + "/readiness/regulator")
    pending = page.locator(f"#pending-plans tr[data-plan-id='{plan_id}']")
    assert "苯罐区泄漏火灾专项应急预案" in pending.inner_text()
    pending.locator("button[value=accept]").click()
    page.wait_for_selector(".flash:has-text('已备案')")
    shot(page, "readiness-regulator")
    with live.session() as s:
        assert s.get(EmergencyPlan, plan_id).filing_state.value == "accepted"
    assert page.js_errors == []
