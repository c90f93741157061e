"""An enterprise admin in a real browser: edit a team, upload a spreadsheet with one bad row, hostile names shown as text."""

import csv
import io

import pytest
from sqlalchemy import func, select

from rescue.models import Team, User
from tests.browser.conftest import login, shot

pytestmark = pytest.mark.browser
XSS = "<script>alert(1)</script>"


def team_count(live, enterprise_id):
    with live.session() as s:
        return s.scalar(select(func.count()).select_from(Team).where(Team.enterprise_id == enterprise_id))


def enterprise_of(live, username):
    with live.session() as s:
        return s.scalar(select(User.enterprise_id).where(User.username == username))


def test_enterprise_admin_edits_a_team_and_sees_validation(page, live):
    login(page, live, "enterprise-a")
    assert page.url.endswith("/portal/")
    shot(page, "portal-overview")
    page.click("a.tile:has-text('救援队伍')")
    page.wait_for_selector("#records tbody tr")
    shot(page, "portal-teams")
    page.click("#records tbody tr:first-child a:has-text('编辑')")
    # a bad value is reported next to its input with the API's wording, nothing is saved
    page.fill("#f-headcount", "-3")
    page.fill("#f-lat", "99")
    page.click("button:has-text('保存')")
    assert page.locator("[data-field=headcount] .error-text").inner_text() == "不能小于 0"
    assert "超出服务区域" in page.locator("[data-field=lat] .error-text").inner_text()
    shot(page, "portal-team-form-errors")
    page.fill("#f-headcount", "42")
    page.fill("#f-lat", "38.1")
    page.click("button:has-text('保存')")
    page.wait_for_selector(".flash.success")
    assert "已保存救援队伍" in page.locator(".flash.success").inner_text()
    assert page.locator("#records tbody td", has_text="42").count() >= 1
    assert not page.js_errors


def test_enterprise_admin_uploads_a_sheet_with_one_bad_row(page, live):
    login(page, live, "enterprise-a")
    enterprise_id = enterprise_of(live, "enterprise-a")
    before = team_count(live, enterprise_id)
    page.goto(live.url + "/portal/teams")
    # the template comes from the API with the signed-in session
    template = page.request.get(live.url + "/api/v1/teams/template.csv")
    assert template.ok
    header = next(csv.reader(io.StringIO(template.text().lstrip("\ufeff"))))
    values = {
        "名称": "导入测试救援队",
        "级别": "企业",
        "队伍类型": "危化品救援",
        "能力 (多个用 、 分隔)": "灭火、气体防护",  # capabilities by name, as the drop-down offers them
        "纬度": "38.10",
        "经度": "106.50",
        "人数": "12",
    }
    good = [values.get(h, "") for h in header]
    bad = [(values | {"纬度": "99", "名称": "坏行队伍"}).get(h, "") for h in header]
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, good, bad])
    page.set_input_files(
        "input[type=file]", files=[{"name": "teams.csv", "mimeType": "text/csv", "buffer": buffer.getvalue().encode("utf-8")}]
    )
    page.click("button:has-text('上传导入')")
    page.wait_for_selector("#import-errors")
    rows = page.locator("#import-errors tbody tr")
    assert rows.count() == 1
    assert rows.first.locator("td").nth(0).inner_text() == "3"  # the header is row 1
    assert rows.first.locator("td").nth(1).inner_text() == "纬度"
    assert "超出服务区域" in rows.first.locator("td").nth(2).inner_text()
    assert "未导入任何记录" in page.locator("#import-message").inner_text()
    assert team_count(live, enterprise_id) == before  # all or nothing
    page.locator("#spreadsheet").scroll_into_view_if_needed()
    shot(page, "portal-import-errors")
    assert not page.js_errors


def test_hostile_team_name_is_shown_as_text(page, live):
    enterprise_id = enterprise_of(live, "enterprise-a")
    with live.session() as s:
        team = s.scalars(select(Team).where(Team.enterprise_id == enterprise_id)).first()
        team.name = XSS
        s.commit()
    login(page, live, "enterprise-a")
    page.goto(live.url + "/portal/teams?q=script")
    cell = page.locator("#records tbody td", has_text=XSS)
    assert cell.count() == 1
    assert cell.first.inner_text() == XSS
    page.click("#records tbody tr:first-child a:has-text('编辑')")
    assert page.input_value("#f-name") == XSS
    assert XSS in page.locator("h1").inner_text()
    page.goto(live.url + "/portal/")
    page.wait_for_load_state("networkidle")
    shot(page, "portal-hostile-name")
    assert page.dialogs == []
    assert not page.js_errors


def test_confirm_data_is_current(page, live):
    login(page, live, "enterprise-a")
    page.click("#confirm-data")
    page.wait_for_selector("dialog.confirm-dialog[open]")
    assert "条记录" in page.inner_text("dialog.confirm-dialog")
    page.click("dialog.confirm-dialog [data-confirm-ok]")
    page.wait_for_selector(".flash.success")
    assert "为最新" in page.locator(".flash.success").inner_text()
    assert page.locator("text=全部数据都在有效期内").count() == 1
