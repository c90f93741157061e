"""Portal pages for response cards and drill plans: forms through the services, versions, print status, runs."""

import re
from datetime import timedelta

from sqlalchemy import select

from rescue.clock import CHINA
from rescue.db import utcnow
from rescue.models import ContactPerson, DrillPlan, Enterprise, Incident, ResponseCard, Team
from rescue.web import formatting
from tests.pages.test_pages import XSS, csrf_of, sign_in

ENTERPRISE_A = "中国石油宁夏石化公司"


def _ids(session):
    ent = session.scalars(select(Enterprise).where(Enterprise.name == ENTERPRISE_A)).one()
    contact = next(
        c
        for c in session.scalars(select(ContactPerson).order_by(ContactPerson.id))
        if c.enterprise_id == ent.id or (c.team and c.team.enterprise_id == ent.id)
    )
    team = session.scalars(select(Team).where(Team.enterprise_id == ent.id).order_by(Team.id)).first()
    return ent, contact, team


def _card_form(token, contact_id, **overrides):
    form = {
        "csrf_token": token,
        "number": "PG-001",
        "post": "装置操作工",
        "area": "常减压装置",
        "incident_types": "chem_tank_fire",
        "steps": "发现泄漏，报告班长\n关闭进料阀\n佩戴空气呼吸器\n上风向撤离",
        "risks": "火灾爆炸",
        "prohibitions": "严禁无防护进入",
        "review_date": "2027-06-30",
        "reporting-0-label": "班长",
        "reporting-0-contact_id": str(contact_id),
        "reporting-0-phone": "",
        "reporting-1-label": "火警",
        "reporting-1-contact_id": "",
        "reporting-1-phone": "119",
        "reporting-2-label": "",
        "reporting-2-contact_id": "",
        "reporting-2-phone": "",
        "ppe-0-item": "空气呼吸器",
        "ppe-0-equipment_id": "",
        "ppe-0-depot_id": "",
        "ppe-0-location": "中控室",
        "ppe-1-item": "",
        "ppe-1-equipment_id": "",
        "ppe-1-depot_id": "",
        "ppe-1-location": "",
        "evacuation_route": "东侧通道",
        "assembly_point": "中控楼前",
        "owner_contact_id": "",
        "short": "",
    }
    return form | overrides


def test_card_form_creates_versions_and_tracks_printing(client, session):
    _, contact, _ = _ids(session)
    sign_in(client, "enterprise-a")
    listing = client.get("/portal/cards")
    assert listing.status_code == 200 and "NXSH-CZK-001" in listing.text
    form = client.get("/portal/cards/new")
    assert f'value="{contact.id}"' in form.text  # the enterprise's contacts are offered for the reporting chain
    token = csrf_of(form.text)
    assert client.post("/portal/cards/new", data=_card_form("", contact.id)).status_code == 400  # no CSRF token

    bad = client.post("/portal/cards/new", data=_card_form(token, contact.id, post="", steps="", **{"reporting-1-phone": "abc"}))
    assert bad.status_code == 422
    assert "提交的数据有误" in bad.text or "error" in bad.text
    assert 'data-field="post"' in bad.text and "至少 1 个字符" in bad.text  # the API's wording next to the input
    assert "电话号码格式不正确" in bad.text

    res = client.post("/portal/cards/new", data=_card_form(token, contact.id, post=XSS))
    assert res.status_code == 302, res.text
    card_id = int(res.location.rstrip("/").split("/")[-1])
    page = client.get(res.location)
    assert XSS not in page.text and "&lt;script&gt;" in page.text
    assert formatting.phone(contact.phone) in page.text and "尚未打印" in page.text and "第1版" in page.text
    assert f"/api/v1/cards/{card_id}.pdf" in page.text

    pdf = client.get(f"/api/v1/cards/{card_id}.pdf?version=1")  # the page's print link, with the session
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert "岗位上的卡片是最新的" in client.get(res.location).text

    edit = client.get(f"/portal/cards/{card_id}/edit")
    assert "关闭进料阀" in edit.text and 'name="reporting-0-contact_id"' in edit.text
    saved = client.post(f"/portal/cards/{card_id}/edit", data=_card_form(csrf_of(edit.text), contact.id, post="装置班长"))
    assert saved.status_code == 302
    after = client.get(saved.location)
    assert "打印后已变更" in after.text and "已有新版本 v2" in after.text
    assert "第2版" in after.text and f"/portal/cards/{card_id}?version=1" in after.text
    old = client.get(f"/portal/cards/{card_id}?version=1")
    assert "旧版本" in old.text and "&lt;script&gt;" in old.text
    session.rollback()
    assert session.get(ResponseCard, card_id).current_version == 2
    assert "打印后已变更" in client.get("/portal/cards").text


def test_card_links_are_checked_against_the_enterprise(client, session):
    ent, _, _ = _ids(session)
    other = next(c for c in session.scalars(select(ContactPerson)) if c.enterprise_id not in (None, ent.id))
    sign_in(client, "enterprise-a")
    token = csrf_of(client.get("/portal/cards/new").text)
    res = client.post("/portal/cards/new", data=_card_form(token, other.id))
    assert res.status_code == 422 and "联系人不存在或不属于本企业" in res.text
    assert 'id="reporting"' in res.text


def _drill_form(token, team_id, **overrides):
    start = (utcnow() + timedelta(days=10)).astimezone(CHINA)
    form = {
        "csrf_token": token,
        "name": "罐区火灾演练",
        "content": "single",
        "form": "live",
        "purpose": "inspection",
        "plan_level": "onsite_plan",
        "incident_type": "chem_tank_fire",
        "place": "罐区",
        "muster_point": "东门",
        "lat": "",
        "lon": "",
        "scenario": "储罐泄漏着火",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "duration_min": "90",
        "repeat": "months",
        "repeat_interval": "6",
        "repeat_count": "",
        "repeat_until": "",
        "reminder_offsets_min": ["10080", "1440"],
        "team_ids": [str(team_id)],
    }
    return form | overrides


def test_drill_plan_form_start_and_record(client, session):
    _, _, team = _ids(session)
    sign_in(client, "enterprise-a")
    assert client.get("/portal/drills").status_code == 200
    token = csrf_of(client.get("/portal/drills/new").text)
    bad = client.post("/portal/drills/new", data=_drill_form(token, team.id, name="x", starts_at="", reminder_offsets_min=["5"]))
    assert bad.status_code == 422
    assert "至少 2 个字符" in bad.text and "必填" in bad.text

    res = client.post("/portal/drills/new", data=_drill_form(token, team.id, name=XSS))
    assert res.status_code == 302, res.text
    plan_id = int(res.location.rstrip("/").split("/")[-1])
    page = client.get(res.location)
    assert "&lt;script&gt;" in page.text and XSS not in page.text
    assert "每6个月" in page.text and "提前7天" in page.text and "提前1天" in page.text
    assert page.text.count("查看/记录") >= 1  # the upcoming run

    edit = client.get(f"/portal/drills/{plan_id}/edit")
    saved = client.post(f"/portal/drills/{plan_id}/edit", data=_drill_form(csrf_of(edit.text), team.id, name="罐区火灾演练"))
    assert saved.status_code == 302

    started = client.post(f"/portal/drills/{plan_id}/start", data={"csrf_token": token})
    assert started.status_code == 302 and "/runs/" in started.location
    run_page = client.get(started.location)
    assert (
        'id="drill-banner"' in run_page.text
        and 'id="drill-banner" class="drill-banner" role="status" hidden' not in run_page.text
    )
    assert team.name in run_page.text and "【演练】" in run_page.text
    session.rollback()
    plan = session.get(DrillPlan, plan_id)
    run = next(r for r in plan.runs if r.status.value == "running")
    assert session.get(Incident, run.incident_id).drill

    run_id = run.id
    now = utcnow().astimezone(CHINA)
    form = {
        "csrf_token": token,
        "status": "held",
        "cancel_reason": "",
        "actual_start": (now - timedelta(minutes=40)).strftime("%Y-%m-%dT%H:%M"),
        "actual_end": now.strftime("%Y-%m-%dT%H:%M"),
        "headcount": "25",
        "rating": "good",
        "team_ids": str(team.id),
        f"acknowledged-{team.id}": "",
        f"mustered-{team.id}": now.strftime("%Y-%m-%dT%H:%M"),
        f"present-{team.id}": "12",
        "evaluation": "响应及时",
        "findings": "警戒范围偏小\n通讯不畅",
        "rect-0-id": "",
        "rect-0-description": "扩大警戒范围",
        "rect-0-owner": "安全科",
        "rect-0-due_date": "2026-12-31",
        "rect-0-status": "open",
        "rect-1-id": "",
        "rect-1-description": "",
        "rect-1-owner": "",
        "rect-1-due_date": "",
        "rect-1-status": "open",
    }
    bad = client.post(f"/portal/drills/{plan_id}/runs/{run_id}/record", data=form | {"rect-0-due_date": "", "headcount": "-1"})
    assert bad.status_code == 422 and "不能小于 0" in bad.text
    done = client.post(f"/portal/drills/{plan_id}/runs/{run_id}/record", data=form)
    assert done.status_code == 302, done.text
    shown = client.get(done.location).text
    assert "已举行" in shown and "扩大警戒范围" in shown and "警戒范围偏小" in shown and "良好" in shown
    session.rollback()
    run = session.get(type(run), run_id)
    assert run.status.value == "held" and run.headcount == 25 and run.rectifications[0].owner == "安全科"
    assert run.results[0].turnout_after_min is not None


def test_portal_tabs_and_other_enterprises_cards_are_not_found(client, session):
    sign_in(client, "enterprise-b")
    page = client.get("/portal/cards")
    assert "应急处置卡" in page.text and "演练计划" in page.text
    card = session.scalars(select(ResponseCard).where(ResponseCard.number == "NXSH-CZK-001")).first()
    assert client.get(f"/portal/cards/{card.id}").status_code == 404
    assert client.get(f"/portal/cards/{card.id}/edit").status_code == 404
    token = csrf_of(page.text)
    assert client.post(f"/portal/cards/{card.id}/edit", data={"csrf_token": token}).status_code == 404
    assert re.search(r"NXSH-CZK-001", page.text) is None
