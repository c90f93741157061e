"""Readiness in a real browser: an enterprise registers a plan, uploads its PDF and files it; the regulator accepts it."""

import pytest
from sqlalchemy import select

from rescue.models import EmergencyPlan, HazardSource
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


def test_hazard_source_form_and_the_regulators_map(page, live):
    login(page, live, "enterprise-a")
    page.goto(live.url + "/readiness/")
    form = page.locator("#hazard-form")
    # a bad form comes back with every invalid field listed and the values typed
    form.locator("input[name=name]").fill("")
    form.locator("input[name=lat]").fill("31.2")
    form.locator("input[name=lon]").fill("121.5")
    form.locator("select[name=substance_0]").select_option("chlorine")
    form.locator("input[name=quantity_0]").fill("-1")
    form.locator("button[type=submit]").click()
    errors = page.locator("#hazard-sources .form-error").inner_text()
    for expected in ("名称", "纬度", "经度", "危险物质第1行 在线量 (吨)"):
        assert expected in errors
    assert page.locator("#hazard-form input[name=lat]").input_value() == "31.2"
    form = page.locator("#hazard-form")
    form.locator("input[name=name]").fill("液氯储罐区 (浏览器)")
    form.locator("select[name=level]").select_option("grade1")
    form.locator("input[name=lat]").fill("38.5560")
    form.locator("input[name=lon]").fill("106.1290")
    form.locator("input[name=quantity_0]").fill("40")
    form.locator("select[name=substance_1]").select_option("ammonia")
    form.locator("input[name=quantity_1]").fill("5")
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".flash:has-text('已登记重大危险源')")
    row = page.locator("#hazard-table tr", has_text="液氯储罐区 (浏览器)")
    assert "氯气 40.0吨" in row.inner_text() and "一级" in row.inner_text()
    with live.session() as s:
        source_id = s.scalar(select(HazardSource.id).where(HazardSource.name == "液氯储罐区 (浏览器)"))

    page.click("button:has-text('退出')")
    login(page, live, "regulator")
    page.goto(live.url + "/readiness/regulator?minutes=1")  # in one minute nothing arrives: a gap
    page.wait_for_function(f"window.hazardMarkers && window.hazardMarkers[{source_id}]")
    assert page.evaluate(f"window.hazardMarkers[{source_id}].options.gap") is True
    assert page.evaluate(f"window.hazardMarkers[{source_id}].options.fillColor") == "#c62828"
    tip = page.evaluate(f"window.hazardMarkers[{source_id}].getTooltip().getContent()().textContent")
    assert "液氯储罐区 (浏览器)" in tip and "一级" in tip
    assert "液氯储罐区 (浏览器)" in page.locator("#hazard-gap-table").inner_text()
    shot(page, "readiness-hazard-map")
    assert page.js_errors == []
