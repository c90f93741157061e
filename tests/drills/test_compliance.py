"""Compliance rules: six-monthly drills for high-risk industries, a yearly comprehensive/special plan drill and a
six-monthly on-site drill for everyone; the report, the .xlsx export and the reminders."""

import io
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from rescue.drills import compliance
from rescue.models import DrillPlan, DrillRun, Enterprise, NoticeLog, OutboxMessage
from rescue.models.drills import DrillRunStatus
from tests.drills.conftest import T0, enterprise, fresh, make_plan


def _held(session, plan, days_ago):
    when = T0 - timedelta(days=days_ago)
    session.add(DrillRun(plan=plan, sequence=-1, scheduled_dt=when, actual_start_dt=when, status=DrillRunStatus.held))
    session.commit()


def _state(session, name, now=T0):
    item = next(i for i in compliance.evaluate(session, now=now) if i["enterprise"] == name)
    return item["status"], {r["rule"]: r["status"] for r in item["rules"]}


def test_rules(app, session):
    name = "中国石油宁夏石化公司"
    assert enterprise(session, name).drill_every_6_months
    # a clean slate for this enterprise: only the drills made here count
    for plan in session.scalars(select(DrillPlan).where(DrillPlan.enterprise_id == enterprise(session, name).id)):
        session.delete(plan)
    session.commit()
    assert _state(session, name) == ("overdue", {"six_months": "overdue", "yearly_plan": "overdue", "onsite_plan": "overdue"})
    special = make_plan(session, plan_level="special_plan", starts_at=(T0 + timedelta(days=300)).isoformat())
    _held(session, special, 150)  # counts for the six-month rule and the yearly plan rule, not the on-site one
    assert _state(session, name) == ("overdue", {"six_months": "ok", "yearly_plan": "ok", "onsite_plan": "overdue"})
    onsite = make_plan(session, name="现场处置演练", plan_level="onsite_plan", starts_at=(T0 + timedelta(days=300)).isoformat())
    _held(session, onsite, 170)  # due in about 13 days; the six-month rule counts the later special drill (33 days)
    assert _state(session, name) == ("due_soon", {"six_months": "ok", "yearly_plan": "ok", "onsite_plan": "due_soon"})
    assert _state(session, name, now=T0 + timedelta(days=20))[0] == "overdue"
    _held(session, onsite, 10)
    assert _state(session, name) == ("ok", {"six_months": "ok", "yearly_plan": "ok", "onsite_plan": "ok"})
    assert _state(session, name, now=T0 + timedelta(days=230))[1]["yearly_plan"] == "overdue"  # 150 + 230 > 365


def test_six_month_rule_only_for_high_risk_industries(app, session):
    power = session.scalars(select(Enterprise).where(Enterprise.industry == "power")).first()
    assert not power.drill_every_6_months
    item = next(i for i in compliance.evaluate(session, now=T0) if i["enterprise_id"] == power.id)
    assert [r["rule"] for r in item["rules"]] == ["yearly_plan", "onsite_plan"]


def test_participating_enterprises_count(app, session):
    other = enterprise(session, "国家能源集团宁夏煤业有限责任公司")
    plan = make_plan(
        session, plan_level="onsite_plan", enterprise_ids=[other.id], starts_at=(T0 + timedelta(days=300)).isoformat()
    )
    _held(session, plan, 1)
    item = next(i for i in compliance.evaluate(session, now=T0) if i["enterprise_id"] == other.id)
    assert {r["rule"]: r["status"] for r in item["rules"]}["onsite_plan"] == "ok"


def test_report_by_city_and_industry_and_export(app, api, session):
    regulator = api("regulator")
    res = regulator.get("/api/v1/drills/compliance")
    assert res.status_code == 200
    body = res.json
    assert body["overdue"] and body["summary"]["by_city"]["银川市"]["overdue"] >= 1
    assert sum(body["summary"]["totals"].values()) == len(body["items"])
    assert all(i["city"] == "中卫市" for i in regulator.get("/api/v1/drills/compliance?city=中卫市").json["items"])
    chem = regulator.get("/api/v1/drills/compliance?industry=hazardous_chemicals").json["items"]
    assert chem and all(i["industry"] == "hazardous_chemicals" for i in chem)
    assert regulator.get("/api/v1/drills/compliance?industry=bakery").status_code == 422
    xlsx = regulator.get("/api/v1/drills/compliance?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(xlsx.data))
    assert wb.sheetnames[:3] == ["演练合规", "按城市", "按行业"]
    assert wb["演练合规"]["A1"].value == "企业" and wb["演练合规"].max_row > len(body["items"])
    own = api("enterprise-a").get("/api/v1/drills/compliance").json["items"]
    assert [i["enterprise"] for i in own] == ["中国石油宁夏石化公司"]
    assert api("enterprise-a").get("/api/v1/drills/compliance?format=xlsx").status_code == 403


def test_reminders_before_overdue_are_sent_once(app, session):
    factory = app.extensions["db"].session_factory
    name = "中国石油宁夏石化公司"
    for plan in session.scalars(select(DrillPlan).where(DrillPlan.enterprise_id == enterprise(session, name).id)):
        session.delete(plan)
    session.commit()
    plan = make_plan(session, plan_level="special_plan", starts_at=(T0 + timedelta(days=300)).isoformat())
    _held(session, plan, 160)  # six-month rule due in ~22 days: the 30-day reminder
    onsite = make_plan(session, name="现场处置", plan_level="onsite_plan", starts_at=(T0 + timedelta(days=300)).isoformat())
    _held(session, onsite, 165)
    compliance.send_compliance_reminders(factory, now=T0)
    compliance.send_compliance_reminders(factory, now=T0 + timedelta(hours=1))
    fresh(session)
    ent = enterprise(session, name)
    keys = sorted(session.scalars(select(NoticeLog.key).where(NoticeLog.key.like(f"compliance:{ent.id}:%"))))
    assert [k.split(":")[2] + ":" + k.rsplit(":", 1)[1] for k in keys] == ["onsite_plan:d30", "six_months:d30"]
    compliance.send_compliance_reminders(factory, now=T0 + timedelta(days=20))  # 7-day stage
    compliance.send_compliance_reminders(factory, now=T0 + timedelta(days=26))  # overdue (in its first week)
    compliance.send_compliance_reminders(factory, now=T0 + timedelta(days=27))
    compliance.send_compliance_reminders(factory, now=T0 + timedelta(days=60))  # long overdue: no more texts
    fresh(session)
    keys = sorted(session.scalars(select(NoticeLog.key).where(NoticeLog.key.like(f"compliance:{ent.id}:six_months:%"))))
    assert [k.rsplit(":", 1)[1] for k in keys] == ["d30", "d7", "overdue"]
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.purpose == "notice", OutboxMessage.body.like(f"%{name}%半年度演练%"))
    ).all()
    assert len(rows) == 3 and "已于" in rows[-1].body
