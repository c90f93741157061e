"""Drills (AQ/T 9007-2019): plans, scheduled runs, reminders with RSVP, drill mode through the real dispatch
pipeline, records and evaluations (AQ/T 9009-2015), and the turnout times drills measure.

The rules, in one place:

* **Runs.** A plan is one-off or repeats every N weeks or months from its first start (months step by calendar
  month in Beijing time and clamp to the month's end: 31 Jan + 1 month = 28/29 Feb). Runs are rows, made
  ahead for the next `HORIZON` by `schedule_runs` (on every plan change and on every tick of the reminder job).
* **Reminders.** Each participant of a run is owed one reminder per offset (default 7 days, 1 day, 2 hours
  before). Reminder rows are claimed by the leading worker (`FOR UPDATE SKIP LOCKED` on the participant row on
  PostgreSQL; a conditional `UPDATE … WHERE status = 'pending'` on every backend) and written to the SMS
  outbox in the same transaction, so each is queued exactly once, across restarts and racing workers.
* **Missed reminders** (the worker was down when some came due): of a participant's overdue reminders only
  the latest is sent, and only while the run is still at least `MIN_LEAD` away; every other overdue reminder
  is marked `missed`. So a long outage produces at most one reminder per person, never a late burst, and a
  reminder that could no longer help (the drill has started or is about to) is not sent at all.
* **RSVP.** Every participant has a 4-character reply code (dispatch codes have 3 while fewer than 2,000 are
  open, so the two never collide); "R7K2 1" means attending, "R7K2 2" or "请假" means not.
  `apply_rsvp` reads one inbound SMS; rescue.services.inbound calls it for replies that answer no
  open dispatch, before flagging them for the dispatcher.
* **Drill mode.** Starting a run creates an incident with `drill = True` (rescue.services.incidents) and
  dispatches the participating teams through rescue.services.dispatches, so every SMS carries 【演练】 after
  the signature. Drills stay out of real statistics (rescue.services.statistics).
* **Turnout update.** Time to muster (from the page to the team reporting mustered: its assignment's
  `on_scene_dt`, or a time recorded by the evaluator) is the measured turnout time. The team's `turnout_min`
  becomes an exponentially weighted average: new = (1 − 0.3)·old + 0.3·measured, where the measurement is
  first bounded to [old / 3, 3·old + 10] (one bad drill cannot swing it) and the result to [1, 120] minutes.
  It is applied once per team per run, when the run is recorded as held.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contacts import DrillReminder, ReplyKind, compose_reminder, make_reply_code, parse_reply
from rescue.clock import CHINA, local
from rescue.db import begin_write
from rescue.dispatch import assignments, dispatches
from rescue.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from rescue.messaging import queue
from rescue.messaging.gateway import AlertSettings
from rescue.models import (
    Assignment,
    DrillParticipant,
    DrillPlan,
    DrillReminderRow,
    DrillRun,
    DrillTeamResult,
    Enterprise,
    InboundMessage,
    Incident,
    IncidentType,
    OutboxMessage,
    RectificationItem,
    Role,
    Team,
    User,
)
from rescue.models.drills import (
    DRILL_CONTENT_NAMES,
    DRILL_FORM_NAMES,
    DRILL_PURPOSE_NAMES,
    PLAN_LEVEL_NAMES,
    RUN_STATUS_NAMES,
    DrillContent,
    DrillForm,
    DrillPurpose,
    DrillRunStatus,
    PlanLevel,
    RectificationStatus,
    ReminderStatus,
    RepeatUnit,
    Rsvp,
)
from rescue.models.enums import OPEN_ASSIGNMENT_STATUSES, AssignmentStatus, IncidentStatus
from rescue.registry.recipients import enterprise_recipients, sms_phone
from rescue.validation import parse, partial

log = logging.getLogger(__name__)

DEFAULT_OFFSETS_MIN = (7 * 24 * 60, 24 * 60, 120)
MAX_OFFSET_MIN = 30 * 24 * 60
HORIZON = timedelta(days=45)  # runs are made this far ahead (longer than the largest reminder offset)
MIN_LEAD = timedelta(minutes=30)  # a late reminder is still sent only if the drill is at least this far away
RSVP_CODE_LENGTH = 4
DRILL_TASK = "演练集结"
# the turnout rule (see the module docstring)
TURNOUT_ALPHA = 0.3
TURNOUT_MIN, TURNOUT_MAX = 1.0, 120.0
RATINGS = ("excellent", "good", "pass", "fail")
RATING_NAMES = {"excellent": "优秀", "good": "良好", "pass": "合格", "fail": "不合格"}


# -- input -----------------------------------------------------------------------------------------


class PlanIn(BaseModel):
    """A drill plan as the API takes it."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=2, max_length=40, description="演练名称 (短信中使用, 宜简短)")
    enterprise_id: int = Field(description="组织单位 (企业)")
    content: DrillContent = Field(description="comprehensive 综合演练 / single 单项演练")
    form: DrillForm = Field(description="tabletop 桌面演练 / live 实战演练")
    purpose: DrillPurpose = Field(description="inspection 检验性 / demonstration 示范性 / research 研究性")
    plan_level: PlanLevel = Field(description="comprehensive_plan 综合预案 / special_plan 专项预案 / onsite_plan 现场处置方案")
    incident_type: str = Field(min_length=1, max_length=64, description="情景事件类型代码")
    place: str = Field(min_length=1, max_length=30, description="演练地点 (短信中使用)")
    lat: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False, description="默认为组织单位位置")
    lon: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)
    muster_point: str = Field("", max_length=30)
    scenario: str = Field("", max_length=5000, description="情景与脚本")
    starts_at: AwareDatetime = Field(description="首次开始时间 (带时区, 如 2026-06-10T09:00:00+08:00)")
    duration_min: int = Field(120, ge=10, le=24 * 60)
    repeat: RepeatUnit = Field(RepeatUnit.none, description="none 一次 / weeks 每N周 / months 每N月")
    repeat_interval: int = Field(1, ge=1, le=24)
    repeat_count: int | None = Field(None, ge=1, le=100, description="共举行次数")
    repeat_until: date | None = None
    reminder_offsets_min: list[int] = Field(list(DEFAULT_OFFSETS_MIN), max_length=5,
                                            description="提前提醒的分钟数, 默认 7 天、1 天、2 小时")
    team_ids: list[int] = Field([], max_length=50, description="参演队伍")
    enterprise_ids: list[int] = Field([], max_length=50, description="参演企业 (组织单位自动参加)")

    @field_validator("reminder_offsets_min")
    @classmethod
    def _offsets(cls, v):
        if any(not 10 <= x <= MAX_OFFSET_MIN for x in v):
            msg = f"每个提醒应在开始前 10–{MAX_OFFSET_MIN} 分钟之间"
            raise ValueError(msg)
        if len(set(v)) != len(v):
            msg = "提醒时间重复"
            raise ValueError(msg)
        return sorted(v, reverse=True)

    @field_validator("team_ids", "enterprise_ids")
    @classmethod
    def _unique(cls, v):
        return list(dict.fromkeys(v))


PlanPatch = partial(PlanIn)


class RectificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: int | None = Field(None, description="更新已有整改项时给出")
    description: str = Field(min_length=2, max_length=300)
    owner: str = Field(min_length=1, max_length=100, description="责任人/责任部门")
    due_date: date
    status: RectificationStatus = RectificationStatus.open
    done_date: date | None = None


class TeamRecordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    team_id: int
    mustered_at: AwareDatetime | None = Field(None, description="集结完毕时间 (覆盖短信回复的到达时间)")
    acknowledged_at: AwareDatetime | None = None
    present: int | None = Field(None, ge=0, le=10000, description="到场人数")


class AttendanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    participant_id: int
    attended: bool


class RecordIn(BaseModel):
    """The record of a run: held or cancelled, actual times, attendance and the evaluation."""

    model_config = ConfigDict(extra="forbid")
    run_id: int | None = Field(None, description="默认为进行中的一次, 其次为最近一次待举行的")
    status: DrillRunStatus = Field(description="held 已举行 / cancelled 已取消")
    cancel_reason: str = Field("", max_length=200)
    actual_start: AwareDatetime | None = None
    actual_end: AwareDatetime | None = None
    headcount: int | None = Field(None, ge=0, le=100000, description="参演人数")
    teams: list[TeamRecordIn] = Field([], max_length=50)
    attendance: list[AttendanceIn] = Field([], max_length=500)
    evaluation: str = Field("", max_length=10000, description="评估结论 (AQ/T 9009)")
    rating: str | None = Field(None, description="excellent 优秀 / good 良好 / pass 合格 / fail 不合格")
    findings: list[str] = Field([], max_length=100, description="发现的问题")
    rectifications: list[RectificationIn] = Field([], max_length=100)

    @field_validator("status")
    @classmethod
    def _final(cls, v):
        if v not in (DrillRunStatus.held, DrillRunStatus.cancelled):
            msg = "应为 held 或 cancelled"
            raise ValueError(msg)
        return v

    @field_validator("rating")
    @classmethod
    def _rating(cls, v):
        if v is not None and v not in RATINGS:
            msg = "应为 " + ", ".join(RATINGS)
            raise ValueError(msg)
        return v


# -- time ------------------------------------------------------------------------------------------


def occurrence(plan: DrillPlan, k: int) -> datetime:
    """The start of the k-th run of `plan` (k = 0 is the first), in UTC."""
    first = plan.starts_dt.astimezone(CHINA)
    if plan.repeat_unit == RepeatUnit.months:
        moment = first + relativedelta(months=plan.repeat_interval * k)
    elif plan.repeat_unit == RepeatUnit.weeks:
        moment = first + timedelta(weeks=plan.repeat_interval * k)
    else:
        moment = first
    return moment.astimezone(UTC)


def occurrences(plan: DrillPlan, *, start: datetime, end: datetime) -> list[tuple[int, datetime]]:
    """(k, start) of every run of `plan` starting in [start, end)."""
    out = []
    limit = 1 if plan.repeat_unit == RepeatUnit.none else (plan.repeat_count or 10_000)
    for k in range(limit):
        moment = occurrence(plan, k)
        if plan.repeat_until is not None and moment.astimezone(CHINA).date() > plan.repeat_until:
            break
        if moment >= end:
            break
        if moment >= start:
            out.append((k, moment))
    return out


# -- plans -----------------------------------------------------------------------------------------


def _check_owner(actor: User | None, enterprise_id: int) -> None:
    if actor is None or actor.role == Role.command_center:
        return
    if actor.role == Role.enterprise_admin and actor.enterprise_id == enterprise_id:
        return
    raise ForbiddenError("只能管理本企业的演练")


def get_plan(session: Session, plan_id: int, actor: User | None = None) -> DrillPlan:
    """A plan the actor may read: enterprise admins see those they organise or take part in."""
    plan = session.get(DrillPlan, plan_id)
    if plan is None or (actor is not None and not _may_read(actor, plan)):
        raise NotFoundError("演练计划不存在")
    return plan


def _may_read(actor: User, plan: DrillPlan) -> bool:
    if actor.role != Role.enterprise_admin:
        return True
    return plan.enterprise_id == actor.enterprise_id or actor.enterprise_id in {e.id for e in plan.enterprises} \
        or actor.enterprise_id in {t.enterprise_id for t in plan.teams}


def list_plans(session: Session, actor: User, *, enterprise_id: int | None = None, active: bool | None = None,
               limit: int = 50, offset: int = 0) -> tuple[list[DrillPlan], int]:
    stmt = select(DrillPlan)
    if enterprise_id is not None:
        stmt = stmt.where(DrillPlan.enterprise_id == enterprise_id)
    if active is not None:
        stmt = stmt.where(DrillPlan.active.is_(active))
    rows = [p for p in session.scalars(stmt.order_by(DrillPlan.starts_dt, DrillPlan.id)) if _may_read(actor, p)]
    return rows[offset: offset + limit], len(rows)


def _apply_plan(session: Session, plan: DrillPlan, obj: BaseModel, given: set[str], actor: User | None) -> None:
    errors: dict[str, str] = {}
    if "enterprise_id" in given:
        enterprise = session.get(Enterprise, obj.enterprise_id)
        if enterprise is None:
            errors["enterprise_id"] = "企业不存在"
        else:
            try:
                _check_owner(actor, enterprise.id)
            except ForbiddenError:
                errors["enterprise_id"] = "只能为本企业制定演练计划"
            plan.enterprise_id = enterprise.id
            plan.enterprise = enterprise
    if "incident_type" in given:
        if session.get(IncidentType, obj.incident_type) is None:
            errors["incident_type"] = f"未知的事件类型: {obj.incident_type}"
        else:
            plan.incident_type_code = obj.incident_type
    if "team_ids" in given:
        teams = [session.get(Team, i) for i in obj.team_ids]
        missing = [i for i, t in zip(obj.team_ids, teams, strict=True) if t is None]
        if missing:
            errors["team_ids"] = "队伍不存在: " + ", ".join(map(str, missing))
        elif actor is not None and actor.role == Role.enterprise_admin and any(
                t.enterprise_id != actor.enterprise_id for t in teams):
            errors["team_ids"] = "企业只能安排本企业的队伍参演; 联合演练请由指挥中心安排"
        else:
            plan.teams = teams
    if "enterprise_ids" in given:
        found = [session.get(Enterprise, i) for i in obj.enterprise_ids]
        missing = [i for i, e in zip(obj.enterprise_ids, found, strict=True) if e is None]
        if missing:
            errors["enterprise_ids"] = "企业不存在: " + ", ".join(map(str, missing))
        else:
            plan.enterprises = found
    simple = {"name": "name", "content": "content", "form": "form", "purpose": "purpose", "plan_level": "plan_level",
              "place": "place", "muster_point": "muster_point", "scenario": "scenario", "duration_min": "duration_min",
              "repeat": "repeat_unit", "repeat_interval": "repeat_interval", "repeat_count": "repeat_count",
              "repeat_until": "repeat_until", "reminder_offsets_min": "reminder_offsets_min", "lat": "lat", "lon": "lon"}
    for key, column in simple.items():
        if key in given:
            setattr(plan, column, getattr(obj, key))
    if "starts_at" in given:
        plan.starts_dt = obj.starts_at
    if plan.lat is None or plan.lon is None:
        if plan.enterprise is not None:
            plan.lat, plan.lon = plan.enterprise.lat, plan.enterprise.lon
    if errors:
        raise ValidationError(errors)


def create_plan(session: Session, data: dict, *, actor: User | None, now: datetime) -> DrillPlan:
    """Validate and add a plan and its first runs with their reminders (flushed; the caller commits)."""
    obj = parse(PlanIn, data)
    if obj.starts_at < now - timedelta(minutes=1) and obj.repeat == RepeatUnit.none:
        raise ValidationError({"starts_at": "一次性演练的开始时间不能早于现在"})
    plan = DrillPlan(created_by=actor.username if actor else "system", created_dt=now, updated_dt=now,
                     repeat_unit=RepeatUnit.none, repeat_interval=1)
    _apply_plan(session, plan, obj, set(PlanIn.model_fields), actor)
    session.add(plan)
    session.flush()
    schedule_runs(session, plan, now=now)
    return plan


def update_plan(session: Session, plan: DrillPlan, data: dict, *, actor: User | None, now: datetime) -> DrillPlan:
    """Change a plan; runs not yet started that no longer fit are dropped and remade with new reminders."""
    _check_owner(actor, plan.enterprise_id)
    obj = parse(PlanPatch, data)
    given = set(obj.model_fields_set)
    _apply_plan(session, plan, obj, given, actor)
    plan.updated_dt = now
    session.flush()
    timing = {"starts_at", "repeat", "repeat_interval", "repeat_count", "repeat_until", "reminder_offsets_min",
              "team_ids", "enterprise_ids", "enterprise_id"}
    if given & timing:
        for run in list(plan.runs):
            if run.status == DrillRunStatus.scheduled and run.scheduled_dt > now:
                session.delete(run)  # its participants and reminders go with it
        session.flush()
        session.expire(plan, ["runs"])
    schedule_runs(session, plan, now=now)
    return plan


def cancel_plan(session: Session, plan: DrillPlan, *, actor: User | None, now: datetime) -> DrillPlan:
    """Deactivate a plan: future runs are cancelled and their reminders never go out; records stay."""
    _check_owner(actor, plan.enterprise_id)
    plan.active = False
    plan.updated_dt = now
    for run in plan.runs:
        if run.status == DrillRunStatus.scheduled and run.scheduled_dt > now:
            _cancel_run(session, run, reason="计划已取消", now=now)
    session.flush()
    return plan


def _cancel_run(session: Session, run: DrillRun, *, reason: str, now: datetime) -> None:
    run.status = DrillRunStatus.cancelled
    run.cancel_reason = reason
    session.execute(update(DrillReminderRow).where(DrillReminderRow.run_id == run.id,
                                                   DrillReminderRow.status == ReminderStatus.pending)
                    .values(status=ReminderStatus.cancelled, handled_dt=now, note=reason[:100]))


# -- runs, participants, reminders -------------------------------------------------------------------


def schedule_runs(session: Session, plan: DrillPlan, *, now: datetime) -> list[DrillRun]:
    """Make the runs of `plan` starting within `HORIZON` (from now) that do not exist yet, with participants
    and reminders. Idempotent; returns the new runs."""
    if not plan.active:
        return []
    existing = {r.scheduled_dt for r in plan.runs}
    made = []
    for k, moment in occurrences(plan, start=now, end=now + HORIZON):
        if moment in existing:
            continue
        run = DrillRun(plan=plan, sequence=k, scheduled_dt=moment, status=DrillRunStatus.scheduled, created_dt=now)
        session.add(run)
        session.flush()
        add_participants(session, run, now=now)
        made.append(run)
    return made


def _rsvp_codes_in_use(session: Session) -> set[str]:
    codes = set(session.scalars(select(DrillParticipant.reply_code).join(DrillRun).where(
        DrillRun.status.in_((DrillRunStatus.scheduled, DrillRunStatus.running)))))
    return codes | assignments.open_reply_codes(session)


def add_participants(session: Session, run: DrillRun, *, now: datetime) -> list[DrillParticipant]:
    """Who is told about `run` (each team's first pageable person, each enterprise's safety manager),
    with a reply code each and one reminder per offset."""
    plan = run.plan
    people: list[tuple[str, str, int | None, int | None, int | None]] = []
    for team in plan.teams:
        chain = assignments.team_chain(session, team, now=now)
        if chain:
            people.append((f"{chain[0].name}", chain[0].phone, team.id, None, chain[0].contact_id))
    enterprise_ids = [plan.enterprise_id, *[e.id for e in plan.enterprises if e.id != plan.enterprise_id]]
    for enterprise_id in enterprise_ids:
        for contact in enterprise_recipients(session, enterprise_id):
            people.append((contact.name, sms_phone(contact.phone), None, enterprise_id, contact.id))
    taken = _rsvp_codes_in_use(session)
    seen = {p.phone for p in run.participants}
    made = []
    for name, phone, team_id, enterprise_id, contact_id in people:
        if phone in seen:
            continue
        seen.add(phone)
        code = _new_code(taken)
        participant = DrillParticipant(run=run, name=name[:100], phone=phone, team_id=team_id, enterprise_id=enterprise_id,
                                       contact_id=contact_id, reply_code=code, rsvp=Rsvp.pending)
        session.add(participant)
        session.flush()
        for offset in plan.reminder_offsets_min or []:
            session.add(DrillReminderRow(run_id=run.id, participant_id=participant.id, offset_min=int(offset),
                                         due_dt=run.scheduled_dt - timedelta(minutes=int(offset)),
                                         status=ReminderStatus.pending))
        made.append(participant)
    session.flush()
    return made


def _new_code(taken: set[str]) -> str:
    for _ in range(1000):
        code = make_reply_code(RSVP_CODE_LENGTH)
        if code not in taken:
            taken.add(code)
            return code
    msg = "no free RSVP code"
    raise ConflictError(msg)


def plan_runs(session_factory, *, now: datetime) -> int:
    """Make the runs entering the horizon of every active plan (each plan in its own transaction). Returns how many."""
    made = 0
    with session_factory() as session:
        plan_ids = session.scalars(select(DrillPlan.id).where(DrillPlan.active.is_(True))).all()
    for plan_id in plan_ids:
        with session_factory() as session:
            begin_write(session)
            stmt = select(DrillPlan).where(DrillPlan.id == plan_id)
            if session.get_bind().dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            plan = session.scalars(stmt).first()
            if plan is None:
                continue  # another worker is on it
            try:
                made += len(schedule_runs(session, plan, now=now))
                session.commit()
            except IntegrityError:
                session.rollback()  # another process made the same run first (SQLite has no row locks)
    return made


@dataclass
class ReminderResult:
    queued: list[int] = field(default_factory=list)
    missed: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    runs_made: int = 0


def _settle(session: Session, reminder_id: int, status: ReminderStatus, *, now: datetime, note: str = "") -> bool:
    """Move one reminder out of pending; False if someone else did first."""
    result = session.execute(update(DrillReminderRow).where(DrillReminderRow.id == reminder_id,
                                                            DrillReminderRow.status == ReminderStatus.pending)
                             .values(status=status, handled_dt=now, note=note[:100]))
    return result.rowcount == 1


def send_due_reminders(session_factory, gateway=None, *, now: datetime, settings=None, limit: int = 500) -> ReminderResult:
    """The job: queue every due drill reminder exactly once (see the module docstring for missed ones)."""
    settings = settings or AlertSettings()
    result = ReminderResult(runs_made=plan_runs(session_factory, now=now))
    with session_factory() as session:
        begin_write(session)
        due = select(DrillReminderRow.participant_id).where(DrillReminderRow.status == ReminderStatus.pending,
                                                            DrillReminderRow.due_dt <= now)
        stmt = select(DrillParticipant).where(DrillParticipant.id.in_(due)).order_by(DrillParticipant.id).limit(limit)
        if session.get_bind().dialect.name == "postgresql":
            # one participant's reminders are decided together, by one worker
            stmt = stmt.with_for_update(skip_locked=True, of=DrillParticipant)
        for participant in session.scalars(stmt).all():
            # a fresh read after the lock: a worker that held it has committed by now
            rows = session.execute(select(DrillReminderRow.id, DrillReminderRow.due_dt).where(
                DrillReminderRow.participant_id == participant.id, DrillReminderRow.status == ReminderStatus.pending,
                DrillReminderRow.due_dt <= now).order_by(DrillReminderRow.due_dt, DrillReminderRow.id)).all()
            if not rows:
                continue
            run = participant.run
            if run.status != DrillRunStatus.scheduled or not run.plan.active:
                for rid, _ in rows:
                    if _settle(session, rid, ReminderStatus.cancelled, now=now, note="演练已开始、已记录或已取消"):
                        result.cancelled.append(rid)
                continue
            *earlier, (latest_id, _) = rows
            for rid, _ in earlier:
                if _settle(session, rid, ReminderStatus.missed, now=now, note="停机期间错过, 已由更近的提醒取代"):
                    result.missed.append(rid)
            if run.scheduled_dt - now < MIN_LEAD:
                if _settle(session, latest_id, ReminderStatus.missed, now=now, note="距开始不足30分钟, 不再提醒"):
                    result.missed.append(latest_id)
                continue
            if _settle(session, latest_id, ReminderStatus.queued, now=now):
                row = _queue_reminder(session, participant, run, settings=settings, now=now)
                session.flush()
                session.execute(update(DrillReminderRow).where(DrillReminderRow.id == latest_id).values(outbox_id=row.id))
                result.queued.append(latest_id)
        session.commit()
    return result


def reminder_text(run: DrillRun, participant: DrillParticipant, *, signature: str) -> str:
    plan = run.plan
    composed = compose_reminder(DrillReminder(drill_name=plan.name, starts_at=run.scheduled_dt, place=plan.place,
                                              reply_code=participant.reply_code, muster_point=plan.muster_point),
                                signature=signature)
    return composed.text


def _queue_reminder(session: Session, participant: DrillParticipant, run: DrillRun, *, settings, now: datetime) -> OutboxMessage:
    text = reminder_text(run, participant, signature=settings.signature)
    return queue.enqueue(session, to_phone=participant.phone, body=text, purpose="reminder", now=now,
                             contact_id=participant.contact_id, recipient_name=participant.name,
                             reply_code=participant.reply_code)


# -- RSVP ------------------------------------------------------------------------------------------


def _participant_for(session: Session, phone: str, code: str | None) -> DrillParticipant | None:
    upcoming = (DrillRunStatus.scheduled, DrillRunStatus.running)
    stmt = select(DrillParticipant).join(DrillRun).where(DrillRun.status.in_(upcoming))
    if code:
        return session.scalars(stmt.where(DrillParticipant.reply_code == code).order_by(DrillParticipant.id.desc())).first()
    found = session.scalars(stmt.where(DrillParticipant.phone == phone)).all()
    return found[0] if len(found) == 1 else None


def apply_rsvp(session: Session, record: InboundMessage, *, now: datetime) -> DrillParticipant | None:
    """Read an inbound SMS as an RSVP to a drill; returns the participant it answered for, else None."""
    reply = parse_reply(record.body)
    if reply.kind not in (ReplyKind.ACCEPT, ReplyKind.DECLINE):
        return None
    participant = _participant_for(session, record.from_phone, reply.code)
    if participant is None:
        return None
    participant.rsvp = Rsvp.yes if reply.kind == ReplyKind.ACCEPT else Rsvp.no
    participant.rsvp_dt = now
    record.outcome = "rsvp"
    record.needs_review = False
    record.reviewed_by = "drills"
    record.reviewed_dt = now
    return participant


# -- drill mode --------------------------------------------------------------------------------------


def _pick_run(session: Session, plan: DrillPlan, run_id: int | None, *, now: datetime) -> DrillRun:
    if run_id is not None:
        run = session.get(DrillRun, run_id)
        if run is None or run.plan_id != plan.id:
            raise NotFoundError("演练场次不存在")
        return run
    scheduled = [r for r in plan.runs if r.status == DrillRunStatus.scheduled and abs(r.scheduled_dt - now) <= timedelta(hours=12)]
    if scheduled:
        return min(scheduled, key=lambda r: abs(r.scheduled_dt - now))
    run = DrillRun(plan=plan, sequence=-1, scheduled_dt=now, status=DrillRunStatus.scheduled, created_dt=now)
    session.add(run)
    session.flush()
    return run


def start_run(session: Session, network, plan: DrillPlan, *, actor: User | None, now: datetime, area,
              settings=None, run_id: int | None = None) -> DrillRun:
    """Start a run in drill mode: a drill incident, dispatched to the participating teams by the real pipeline
    (assignments and their 【演练】 SMS in the outbox; flushed, the caller commits)."""
    from rescue.dispatch import incidents  # the incident service builds on the road network

    _check_owner(actor, plan.enterprise_id)
    if not plan.teams:
        raise ValidationError({"team_ids": "演练没有参演队伍, 无法按演练模式调派"})
    run = _pick_run(session, plan, run_id, now=now)
    if run.status != DrillRunStatus.scheduled:
        raise ConflictError(f"该场次{RUN_STATUS_NAMES[run.status.value]}, 不能开始")
    incident = incidents.create_incident(session, network, {
        "type": plan.incident_type_code, "level": "general", "lat": plan.lat, "lon": plan.lon, "place": plan.place,
        "description": f"【演练】{plan.name}。{plan.scenario}"[:5000], "drill": True,
    }, area=area, actor=actor, now=now)
    need_by_cap = {n.capability_code: n.id for n in incident.needs if n.capability_code}
    resources = []
    for team in plan.teams:
        need_id = next((need_by_cap[c] for c in team.capabilities if c in need_by_cap), None)
        resources.append({"kind": "team", "id": team.id, "need_id": need_id, "quantity": 1, "eta_s": None, "via": ""})
    dispatch = dispatches.create_dispatch(
        session, incident, resources=resources, acks_needed=len(resources), max_waves=1, muster_point=plan.muster_point,
        task=DRILL_TASK, note=f"演练: {plan.name}", actor=actor, settings=settings, now=now)
    run.status = DrillRunStatus.running
    run.incident_id = incident.id
    run.started_dt = now
    run.actual_start_dt = run.actual_start_dt or now
    session.execute(update(DrillReminderRow).where(DrillReminderRow.run_id == run.id,
                                                   DrillReminderRow.status == ReminderStatus.pending)
                    .values(status=ReminderStatus.cancelled, handled_dt=now, note="演练已开始"))
    for assignment in dispatch.assignments:
        team = session.get(Team, assignment.resource_id)
        session.add(DrillTeamResult(run=run, team_id=team.id, assignment_id=assignment.id, notified_dt=assignment.created_dt,
                                    turnout_before_min=team.turnout_min))
    session.flush()
    return run


def bounded_measurement(old_min: float, measured_min: float) -> float:
    return min(max(measured_min, old_min / 3), old_min * 3 + 10)


def updated_turnout(old_min: float, measured_min: float) -> float:
    """The team's new turnout time after a drill measured `measured_min` (see the module docstring)."""
    new = (1 - TURNOUT_ALPHA) * old_min + TURNOUT_ALPHA * bounded_measurement(old_min, measured_min)
    return round(min(max(new, TURNOUT_MIN), TURNOUT_MAX), 1)


def measure(session: Session, run: DrillRun) -> None:
    """Fill each team's times from its drill assignment (times set by the evaluator are kept)."""
    for result in run.results:
        assignment = session.get(Assignment, result.assignment_id) if result.assignment_id else None
        if assignment is not None:
            result.notified_dt = result.notified_dt or assignment.created_dt
            result.acknowledged_dt = result.acknowledged_dt or assignment.acknowledged_dt
            result.mustered_dt = result.mustered_dt or assignment.on_scene_dt
        if result.notified_dt and result.acknowledged_dt:
            result.ack_s = max(0.0, (result.acknowledged_dt - result.notified_dt).total_seconds())
        if result.notified_dt and result.mustered_dt:
            result.muster_s = max(0.0, (result.mustered_dt - result.notified_dt).total_seconds())


def _default_run(plan: DrillPlan, *, now: datetime) -> DrillRun:
    running = [r for r in plan.runs if r.status == DrillRunStatus.running]
    if running:
        return running[-1]
    past = [r for r in plan.runs if r.status == DrillRunStatus.scheduled and r.scheduled_dt <= now + timedelta(hours=12)]
    if past:
        return past[-1]
    upcoming = [r for r in plan.runs if r.status == DrillRunStatus.scheduled]
    if upcoming:
        return upcoming[0]
    msg = "没有可记录的演练场次"
    raise ConflictError(msg)


def record_run(session: Session, plan: DrillPlan, data: dict, *, actor: User | None, now: datetime) -> DrillRun:
    """Record a run as held (times, attendance, measurements, turnout update, evaluation) or cancelled."""
    _check_owner(actor, plan.enterprise_id)
    obj = parse(RecordIn, data)
    run = session.get(DrillRun, obj.run_id) if obj.run_id is not None else _default_run(plan, now=now)
    if run is None or run.plan_id != plan.id:
        raise NotFoundError("演练场次不存在")
    errors: dict[str, str] = {}
    if obj.status == DrillRunStatus.cancelled and run.status == DrillRunStatus.held:
        errors["status"] = "已举行的演练不能改为取消"
    if obj.actual_start and obj.actual_end and obj.actual_end < obj.actual_start:
        errors["actual_end"] = "结束时间早于开始时间"
    if obj.status == DrillRunStatus.held and (obj.actual_start or run.actual_start_dt or run.scheduled_dt) > now + timedelta(minutes=5):
        errors["actual_start"] = "尚未开始的演练不能记录为已举行"
    participants = {p.id: p for p in run.participants}
    for i, item in enumerate(obj.attendance):
        if item.participant_id not in participants:
            errors[f"attendance.{i}.participant_id"] = "不是该场次的参演人员"
    results = {r.team_id: r for r in run.results}
    for i, item in enumerate(obj.teams):
        if item.team_id not in results and item.team_id not in {t.id for t in plan.teams}:
            errors[f"teams.{i}.team_id"] = "不是该演练的参演队伍"
    existing = {r.id: r for r in run.rectifications}
    for i, item in enumerate(obj.rectifications):
        if item.id is not None and item.id not in existing:
            errors[f"rectifications.{i}.id"] = "整改项不存在"
    if errors:
        raise ValidationError(errors)
    incident = session.get(Incident, run.incident_id) if run.incident_id else None
    if obj.status == DrillRunStatus.cancelled:
        _cancel_run(session, run, reason=obj.cancel_reason or "已取消", now=now)
        if incident is not None:
            _close_drill_incident(session, incident, AssignmentStatus.cancelled, now=now)
    else:
        run.status = DrillRunStatus.held
        run.actual_start_dt = obj.actual_start or run.actual_start_dt or run.scheduled_dt
        run.actual_end_dt = obj.actual_end or run.actual_end_dt or now
        for item in obj.teams:
            result = results.get(item.team_id)
            if result is None:
                team = session.get(Team, item.team_id)
                result = DrillTeamResult(run=run, team_id=team.id, notified_dt=run.actual_start_dt,
                                         turnout_before_min=team.turnout_min)
                session.add(result)
                results[item.team_id] = result
            if item.mustered_at is not None:
                result.mustered_dt = item.mustered_at
            if item.acknowledged_at is not None:
                result.acknowledged_dt = item.acknowledged_at
            if item.present is not None:
                result.present = item.present
        session.flush()
        measure(session, run)
        for result in run.results:
            if result.muster_s is not None and result.turnout_after_min is None:
                team = session.get(Team, result.team_id)
                result.turnout_before_min = team.turnout_min
                team.turnout_min = updated_turnout(team.turnout_min, result.muster_s / 60)
                result.turnout_after_min = team.turnout_min
        if incident is not None:
            _close_drill_incident(session, incident, AssignmentStatus.released, now=now)
    for item in obj.attendance:
        participants[item.participant_id].attended = item.attended
    if "headcount" in obj.model_fields_set:
        run.headcount = obj.headcount
    if "evaluation" in obj.model_fields_set:
        run.evaluation = obj.evaluation
    if "rating" in obj.model_fields_set:
        run.rating = obj.rating
    if "findings" in obj.model_fields_set:
        run.findings = [f.strip() for f in obj.findings if f.strip()]
    for item in obj.rectifications:
        row = existing.get(item.id) if item.id is not None else None
        if row is None:
            row = RectificationItem(run=run)
            session.add(row)
        row.description, row.owner, row.due_date, row.status = item.description, item.owner, item.due_date, item.status
        row.done_date = item.done_date or (now.astimezone(CHINA).date() if item.status == RectificationStatus.done else None)
    run.recorded_by = actor.username if actor else "system"
    run.recorded_dt = now
    session.flush()
    return run


def _close_drill_incident(session: Session, incident: Incident, final: AssignmentStatus, *, now: datetime) -> None:
    """End the drill in the dispatch pipeline: open assignments released (or cancelled), incident closed."""
    open_rows = session.scalars(select(Assignment).where(Assignment.incident_id == incident.id,
                                                         Assignment.status.in_(OPEN_ASSIGNMENT_STATUSES))).all()
    for assignment in open_rows:
        status = final
        if final == AssignmentStatus.released and assignment.status == AssignmentStatus.notified:
            status = AssignmentStatus.cancelled  # never answered: nothing to release
        assignments.set_status(session, assignment, status, now=now, message="演练结束", actor="drills")
    if incident.status != IncidentStatus.closed:
        incident.status = IncidentStatus.closed
        incident.closed_dt = now


# -- statistics ----------------------------------------------------------------------------------------


# -- output ------------------------------------------------------------------------------------------


def serialize_plan(session: Session, plan: DrillPlan, *, now: datetime) -> dict:
    upcoming = [r for r in plan.runs if r.status == DrillRunStatus.scheduled and r.scheduled_dt >= now]
    held = [r for r in plan.runs if r.status == DrillRunStatus.held]
    return {
        "id": plan.id, "name": plan.name, "enterprise_id": plan.enterprise_id,
        "enterprise": plan.enterprise.name if plan.enterprise else None,
        "content": plan.content.value, "content_name": DRILL_CONTENT_NAMES[plan.content.value],
        "form": plan.form.value, "form_name": DRILL_FORM_NAMES[plan.form.value],
        "purpose": plan.purpose.value, "purpose_name": DRILL_PURPOSE_NAMES[plan.purpose.value],
        "plan_level": plan.plan_level.value, "plan_level_name": PLAN_LEVEL_NAMES[plan.plan_level.value],
        "incident_type": plan.incident_type_code, "incident_type_name": plan.incident_type.name if plan.incident_type else None,
        "place": plan.place, "lat": plan.lat, "lon": plan.lon, "muster_point": plan.muster_point, "scenario": plan.scenario,
        "starts_at": local(plan.starts_dt), "duration_min": plan.duration_min, "repeat": plan.repeat_unit.value,
        "repeat_interval": plan.repeat_interval, "repeat_count": plan.repeat_count,
        "repeat_until": plan.repeat_until.isoformat() if plan.repeat_until else None,
        "reminder_offsets_min": list(plan.reminder_offsets_min or []),
        "team_ids": [t.id for t in plan.teams], "teams": [t.name for t in plan.teams],
        "enterprise_ids": [e.id for e in plan.enterprises], "active": plan.active, "demo": plan.demo,
        "next_run_at": local(upcoming[0].scheduled_dt) if upcoming else None,
        "last_held_at": local(max(r.actual_start_dt or r.scheduled_dt for r in held)) if held else None,
        "runs": [serialize_run_brief(r) for r in plan.runs],
    }


def serialize_run_brief(run: DrillRun) -> dict:
    return {"id": run.id, "sequence": run.sequence, "scheduled_at": local(run.scheduled_dt), "status": run.status.value,
            "status_name": RUN_STATUS_NAMES[run.status.value], "incident_id": run.incident_id}


def serialize_run(session: Session, run: DrillRun) -> dict:
    reminders = session.scalars(select(DrillReminderRow).where(DrillReminderRow.run_id == run.id)
                                .order_by(DrillReminderRow.due_dt, DrillReminderRow.id)).all()
    return {
        **serialize_run_brief(run), "plan_id": run.plan_id, "drill": True,
        "started_at": local(run.started_dt), "actual_start": local(run.actual_start_dt), "actual_end": local(run.actual_end_dt),
        "cancel_reason": run.cancel_reason or None, "headcount": run.headcount, "evaluation": run.evaluation,
        "rating": run.rating, "rating_name": RATING_NAMES.get(run.rating or ""), "findings": list(run.findings or []),
        "recorded_by": run.recorded_by, "recorded_at": local(run.recorded_dt),
        "participants": [{"id": p.id, "name": p.name, "phone": p.phone, "team_id": p.team_id, "enterprise_id": p.enterprise_id,
                          "reply_code": p.reply_code, "rsvp": p.rsvp.value, "rsvp_at": local(p.rsvp_dt), "attended": p.attended}
                         for p in run.participants],
        "reminders": [{"id": r.id, "participant_id": r.participant_id, "offset_min": r.offset_min, "due_at": local(r.due_dt),
                       "status": r.status.value, "outbox_id": r.outbox_id, "note": r.note or None} for r in reminders],
        "teams": [{"team_id": r.team_id, "team": r.team.name if r.team else None, "assignment_id": r.assignment_id,
                   "notified_at": local(r.notified_dt), "acknowledged_at": local(r.acknowledged_dt),
                   "mustered_at": local(r.mustered_dt), "ack_s": r.ack_s, "muster_s": r.muster_s, "present": r.present,
                   "turnout_before_min": r.turnout_before_min, "turnout_after_min": r.turnout_after_min} for r in run.results],
        "rectifications": [{"id": r.id, "description": r.description, "owner": r.owner, "due_date": r.due_date.isoformat(),
                            "status": r.status.value, "done_date": r.done_date.isoformat() if r.done_date else None}
                           for r in run.rectifications],
    }


# -- seed ----------------------------------------------------------------------------------------------


def seed_drills(session: Session, rows: list[dict], ids: dict[str, dict[str, int]], *, now: datetime) -> int:
    """Load seed plans (times relative to `now`: `starts_in_days`, `held_days_ago`) and their held records."""
    count = 0
    for row in rows:
        starts = (now + timedelta(days=row.get("starts_in_days", 0))).astimezone(CHINA)
        hh, mm = (int(x) for x in row.get("local_time", "09:00").split(":"))
        starts = starts.replace(hour=hh, minute=mm, second=0, microsecond=0)
        data = {k: v for k, v in row.items() if k in PlanIn.model_fields}
        data["enterprise_id"] = ids["enterprises"][row["enterprise"]]
        data["team_ids"] = [ids["teams"][k] for k in row.get("teams", [])]
        data["enterprise_ids"] = [ids["enterprises"][k] for k in row.get("enterprises", [])]
        data["starts_at"] = starts.isoformat()
        obj = parse(PlanIn, data)
        plan = DrillPlan(created_by="seed", created_dt=now, updated_dt=now, demo=True, repeat_unit=RepeatUnit.none,
                         repeat_interval=1)
        _apply_plan(session, plan, obj, set(PlanIn.model_fields), None)
        session.add(plan)
        session.flush()
        for held in row.get("held", []):
            when = (now - timedelta(days=held["days_ago"])).astimezone(CHINA).replace(hour=hh, minute=mm, second=0,
                                                                                      microsecond=0)
            run = DrillRun(plan=plan, sequence=-1, scheduled_dt=when, status=DrillRunStatus.held, actual_start_dt=when,
                           actual_end_dt=when + timedelta(minutes=plan.duration_min), headcount=held.get("headcount"),
                           evaluation=held.get("evaluation", ""), rating=held.get("rating"), findings=held.get("findings", []),
                           recorded_by="seed", recorded_dt=when + timedelta(days=1), created_dt=now)
            session.add(run)
            for item in held.get("rectifications", []):
                run.rectifications.append(RectificationItem(
                    description=item["description"], owner=item["owner"],
                    due_date=(when + timedelta(days=item.get("due_in_days", 30))).date(),
                    status=RectificationStatus(item.get("status", "open"))))
        session.flush()
        schedule_runs(session, plan, now=now)
        count += 1
    return count
