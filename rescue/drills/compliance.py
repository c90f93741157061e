"""Drill compliance: the cadence each enterprise must keep, who is due soon or overdue, reminders and the .xlsx export.

Rules ([U] wording of the law, see DOMAIN.md):

* `six_months` — 《生产安全事故应急条例》第八条: enterprises of high-risk industries (`drill_every_6_months`,
  defaulted from `SIX_MONTH_DRILL_INDUSTRIES`) hold a drill of any kind at least every 6 months;
* `yearly_plan` — 《生产安全事故应急预案管理办法》第三十三条: every enterprise holds a drill of its
  comprehensive or a special plan (综合/专项应急预案) at least once every 12 months;
* `onsite_plan` — the same article: an on-site disposal plan (现场处置方案) drill at least every 6 months.

A drill counts for the enterprise that organised it and for every enterprise taking part. A rule is `overdue`
when its due date (last held drill + period) has passed or no drill is on record, `due_soon` within
`DUE_SOON_DAYS`, else `ok`. Enterprises' safety managers are reminded once 30 days and once 7 days before a
due date and once in the first week after it has passed (only the most urgent stage is sent if the worker was
away; an enterprise overdue for longer, or with no drill on record, is followed up from the regulator's list).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contacts.templating import ComplianceNotice, render_message
from rescue.clock import CHINA
from rescue.db import begin_write
from rescue.drills.schemas import ComplianceReportOut
from rescue.messaging import queue
from rescue.messaging.gateway import AlertSettings
from rescue.models import DrillPlan, DrillRun, Enterprise, NoticeLog, Role, User
from rescue.models.drills import DrillRunStatus, PlanLevel
from rescue.models.enums import INDUSTRY_NAMES
from rescue.registry.recipients import enterprise_recipients, sms_phone

DUE_SOON_DAYS = 30
# an "overdue" SMS goes out only in the first days after the due date; long-overdue enterprises (or ones with no
# drill on record) are the regulator's list to follow up, not a stream of texts
OVERDUE_NOTICE_DAYS = 7
REMINDER_STAGES = ((30, "d30"), (7, "d7"))


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    basis: str
    months: int
    levels: tuple[PlanLevel, ...] | None  # None: any drill counts
    all_enterprises: bool


RULES = (
    Rule("six_months", "每半年至少演练一次", "《生产安全事故应急条例》第八条", 6, None, False),
    Rule(
        "yearly_plan",
        "综合或专项应急预案演练每年至少一次",
        "《生产安全事故应急预案管理办法》第三十三条",
        12,
        (PlanLevel.comprehensive_plan, PlanLevel.special_plan),
        True,
    ),
    Rule(
        "onsite_plan",
        "现场处置方案演练每半年至少一次",
        "《生产安全事故应急预案管理办法》第三十三条",
        6,
        (PlanLevel.onsite_plan,),
        True,
    ),
)
STATUS_NAMES = {"ok": "正常", "due_soon": "即将到期", "overdue": "已逾期"}
_ORDER = {"ok": 0, "due_soon": 1, "overdue": 2}


def rules_for(enterprise: Enterprise) -> list[Rule]:
    return [r for r in RULES if r.all_enterprises or enterprise.drill_every_6_months]


def held_drills(session: Session) -> dict[int, list[tuple[date, PlanLevel]]]:
    """Per enterprise, the (local date, plan level) of every drill held that it organised or took part in."""
    out: dict[int, list[tuple[date, PlanLevel]]] = {}
    runs = session.scalars(select(DrillRun).join(DrillPlan).where(DrillRun.status == DrillRunStatus.held)).all()
    for run in runs:
        plan = run.plan
        day = (run.actual_start_dt or run.scheduled_dt).astimezone(CHINA).date()
        who = {plan.enterprise_id, *(e.id for e in plan.enterprises)}
        for enterprise_id in who:
            out.setdefault(enterprise_id, []).append((day, plan.plan_level))
    return out


def _rule_state(rule: Rule, held: list[tuple[date, PlanLevel]], today: date) -> dict:
    days = [d for d, level in held if rule.levels is None or level in rule.levels]
    last = max(days) if days else None
    due = last + relativedelta(months=rule.months) if last else None
    if due is None or due < today:
        status = "overdue"
    elif (due - today).days <= DUE_SOON_DAYS:
        status = "due_soon"
    else:
        status = "ok"
    return {
        "rule": rule.code,
        "name": rule.name,
        "basis": rule.basis,
        "period_months": rule.months,
        "last_held": last.isoformat() if last else None,
        "due_date": due.isoformat() if due else None,
        "days_left": (due - today).days if due else None,
        "status": status,
        "status_name": STATUS_NAMES[status],
    }


def evaluate(
    session: Session,
    *,
    now: datetime,
    actor: User | None = None,
    city: str | None = None,
    industry: str | None = None,
    status: str | None = None,
) -> list[dict]:
    """Every enterprise (an enterprise admin: their own) with the state of each rule that applies to it."""
    today = now.astimezone(CHINA).date()
    stmt = select(Enterprise).order_by(Enterprise.city, Enterprise.industry, Enterprise.id)
    if actor is not None and actor.role == Role.enterprise_admin:
        stmt = stmt.where(Enterprise.id == actor.enterprise_id)
    if city:
        stmt = stmt.where(Enterprise.city == city)
    if industry:
        stmt = stmt.where(Enterprise.industry == industry)
    held = held_drills(session)
    out = []
    for enterprise in session.scalars(stmt):
        states = [_rule_state(rule, held.get(enterprise.id, []), today) for rule in rules_for(enterprise)]
        worst = max((s["status"] for s in states), key=_ORDER.__getitem__, default="ok")
        if status and worst != status:
            continue
        out.append(
            {
                "enterprise_id": enterprise.id,
                "enterprise": enterprise.name,
                "city": enterprise.city,
                "county": enterprise.county,
                "industry": enterprise.industry.value,
                "industry_name": INDUSTRY_NAMES.get(enterprise.industry.value, enterprise.industry.value),
                "drill_every_6_months": enterprise.drill_every_6_months,
                "status": worst,
                "status_name": STATUS_NAMES[worst],
                "rules": states,
            }
        )
    return out


def summarize(items: list[dict]) -> dict:
    """Counts of ok / due_soon / overdue enterprises by city and by industry."""

    def count(key):
        groups: dict[str, dict[str, int]] = {}
        for item in items:
            group = groups.setdefault(item[key], {"ok": 0, "due_soon": 0, "overdue": 0})
            group[item["status"]] += 1
        return groups

    totals = {"ok": 0, "due_soon": 0, "overdue": 0}
    for item in items:
        totals[item["status"]] += 1
    return {"totals": totals, "by_city": count("city"), "by_industry": count("industry_name")}


def report(session: Session, *, now: datetime, actor: User | None = None, **filters) -> dict:
    """Every enterprise's state, those due soon and overdue, and the counts by city and industry."""
    items = evaluate(session, now=now, actor=actor, **filters)
    return ComplianceReportOut(
        as_of=now.astimezone(CHINA).date().isoformat(),
        due_soon_days=DUE_SOON_DAYS,
        summary=summarize(items),
        due_soon=[i for i in items if i["status"] == "due_soon"],
        overdue=[i for i in items if i["status"] == "overdue"],
        items=items,
    ).model_dump(mode="json")


def to_xlsx(items: list[dict], *, now: datetime) -> bytes:
    """The regulator's export: one row per enterprise and rule, and the counts by city and industry."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = "演练合规"
    head = ["企业", "城市", "区县", "行业", "总体状态", "要求", "依据", "最近演练", "到期日", "剩余天数", "状态"]
    ws.append(head)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    fills = {"overdue": PatternFill("solid", fgColor="F8CBAD"), "due_soon": PatternFill("solid", fgColor="FFE699")}
    for item in items:
        for rule in item["rules"]:
            ws.append(
                [
                    item["enterprise"],
                    item["city"],
                    item["county"],
                    item["industry_name"],
                    item["status_name"],
                    rule["name"],
                    rule["basis"],
                    _day(rule["last_held"]),
                    _day(rule["due_date"]),
                    rule["days_left"],
                    rule["status_name"],
                ]
            )
            if rule["status"] in fills:
                ws.cell(ws.max_row, len(head)).fill = fills[rule["status"]]
    for column, width in zip("ABCDEFGHIJK", (34, 10, 10, 12, 10, 34, 34, 12, 12, 10, 10), strict=True):
        ws.column_dimensions[column].width = width
    ws.freeze_panes = "A2"
    summary = summarize(items)
    for title, key in (("按城市", "by_city"), ("按行业", "by_industry")):
        sheet = wb.create_sheet(title)
        sheet.append([title[1:], "正常", "即将到期", "已逾期"])
        for name, counts in sorted(summary[key].items()):
            sheet.append([name, counts["ok"], counts["due_soon"], counts["overdue"]])
    info = wb.create_sheet("说明")
    info.append(["统计日期", now.astimezone(CHINA).date()])
    info.append(["即将到期", f"{DUE_SOON_DAYS}天内到期"])
    for rule in RULES:
        info.append([rule.name, rule.basis])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _day(value: str | None):
    return date.fromisoformat(value) if value else None


# -- reminders -------------------------------------------------------------------------------------------


def _stage(state: dict) -> str | None:
    if state["status"] == "overdue":
        late = -state["days_left"] if state["days_left"] is not None else None
        return "overdue" if late is not None and late <= OVERDUE_NOTICE_DAYS else None
    days_left = state["days_left"]
    stage = None
    for days, name in REMINDER_STAGES:
        if days_left is not None and days_left <= days:
            stage = name  # the most urgent stage reached wins; earlier ones are never sent late
    return stage


COMPLIANCE_KINDS = {"six_months": "半年度演练", "yearly_plan": "年度预案演练", "onsite_plan": "半年度现场处置演练"}


def compliance_notice(enterprise: Enterprise, state: dict) -> ComplianceNotice:
    """What the compliance SMS of one rule says (rendered from the `compliance` template)."""
    due = date.fromisoformat(state["due_date"]) if state["due_date"] is not None else None
    return ComplianceNotice(enterprise.name, COMPLIANCE_KINDS[state["rule"]], due, overdue=state["status"] == "overdue")


def notice_text(enterprise: Enterprise, state: dict, *, signature: str) -> str:
    """The compliance SMS as the phone shows it."""
    return render_message(compliance_notice(enterprise, state), signature=signature, max_segments=1).text


def send_compliance_reminders(session_factory, gateway=None, *, now: datetime, settings=None) -> int:
    """The job: remind enterprises before (and once when) a drill falls overdue; each notice once. Returns how many."""
    settings = settings or AlertSettings()
    sent = 0
    with session_factory() as session:
        items = [i for i in evaluate(session, now=now) if i["status"] != "ok"]
    for item in items:
        for state in item["rules"]:
            stage = _stage(state)
            if stage is None:
                continue
            key = f"compliance:{item['enterprise_id']}:{state['rule']}:{state['due_date'] or 'none'}:{stage}"
            with session_factory() as session:
                begin_write(session)
                if session.scalar(select(NoticeLog.id).where(NoticeLog.key == key)) is not None:
                    continue
                enterprise = session.get(Enterprise, item["enterprise_id"])
                recipients = enterprise_recipients(session, enterprise.id)
                log = NoticeLog(key=key, kind="compliance", outcome="sent" if recipients else "skipped", created_dt=now)
                session.add(log)
                try:
                    session.flush()  # the unique key: a racing worker loses here
                except IntegrityError:
                    session.rollback()
                    continue
                notice = compliance_notice(enterprise, state)
                for contact in recipients:
                    row = queue.enqueue_notice(
                        session,
                        notice,
                        signature=settings.signature,
                        to_phone=sms_phone(contact.phone),
                        purpose="notice",
                        now=now,
                        contact_id=contact.id,
                        recipient_name=contact.name,
                    )
                    session.flush()
                    log.outbox_id = log.outbox_id or row.id
                session.commit()
                sent += bool(recipients)
    return sent
