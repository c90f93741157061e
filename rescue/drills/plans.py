"""Drill plans (AQ/T 9007-2019): create, change and cancel them, when their runs fall, and the runs made ahead.

* **Runs.** A plan is one-off or repeats every N weeks or months from its first start (months step by calendar
  month in Beijing time and clamp to the month's end: 31 Jan + 1 month = 28/29 Feb). Runs are rows, made
  ahead for the next `HORIZON` by `schedule_runs` (on every plan change and on every tick of the reminder job,
  see rescue.drills.reminders), each with its participants (an RSVP code each) and one reminder row per offset.
* Enterprise admins manage the plans their enterprise organises and read those it takes part in.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rescue.clock import CHINA
from rescue.dispatch import assignments
from rescue.drills import rsvp
from rescue.drills.schemas import PlanIn, PlanPatch
from rescue.errors import ForbiddenError, NotFoundError, ValidationError
from rescue.models import (
    DrillParticipant,
    DrillPlan,
    DrillReminderRow,
    DrillRun,
    EmergencyPlan,
    Enterprise,
    IncidentType,
    Role,
    Team,
    User,
)
from rescue.models.drills import DrillRunStatus, ReminderStatus, RepeatUnit, Rsvp
from rescue.registry.recipients import enterprise_recipients, sms_phone
from rescue.validation import parse_partly

HORIZON = timedelta(days=45)  # runs are made this far ahead (longer than the largest reminder offset)


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


def check_owner(actor: User | None, enterprise_id: int) -> None:
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
    return (
        plan.enterprise_id == actor.enterprise_id
        or actor.enterprise_id in {e.id for e in plan.enterprises}
        or actor.enterprise_id in {t.enterprise_id for t in plan.teams}
    )


def list_plans(
    session: Session,
    actor: User,
    *,
    enterprise_id: int | None = None,
    active: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[DrillPlan], int]:
    stmt = select(DrillPlan)
    if enterprise_id is not None:
        stmt = stmt.where(DrillPlan.enterprise_id == enterprise_id)
    if active is not None:
        stmt = stmt.where(DrillPlan.active.is_(active))
    rows = [p for p in session.scalars(stmt.order_by(DrillPlan.starts_dt, DrillPlan.id)) if _may_read(actor, p)]
    return rows[offset : offset + limit], len(rows)


def _may_invite(actor: User | None, owners: list[int | None]) -> bool:
    """An enterprise invites only its own teams and itself (their people get reminders and show up in the run);
    a joint drill with other enterprises or government teams is the command center's to organise."""
    if actor is None or actor.role != Role.enterprise_admin:
        return True
    return all(owner == actor.enterprise_id for owner in owners)


def apply_plan(session: Session, plan: DrillPlan, obj: BaseModel, given: set[str], actor: User | None) -> None:
    errors: dict[str, str] = {}
    if "enterprise_id" in given:
        enterprise = session.get(Enterprise, obj.enterprise_id)
        if enterprise is None:
            errors["enterprise_id"] = "企业不存在"
        else:
            try:
                check_owner(actor, enterprise.id)
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
        elif not _may_invite(actor, [t.enterprise_id for t in teams]):
            errors["team_ids"] = "企业只能安排本企业的队伍参演; 联合演练请由指挥中心安排"
        else:
            plan.teams = teams
    if "enterprise_ids" in given:
        found = [session.get(Enterprise, i) for i in obj.enterprise_ids]
        missing = [i for i, e in zip(obj.enterprise_ids, found, strict=True) if e is None]
        if missing:
            errors["enterprise_ids"] = "企业不存在: " + ", ".join(map(str, missing))
        elif not _may_invite(actor, [e.id for e in found]):
            errors["enterprise_ids"] = "企业只能邀请本企业参演; 联合演练请由指挥中心安排"
        else:
            plan.enterprises = found
    simple = {
        "name": "name",
        "content": "content",
        "form": "form",
        "purpose": "purpose",
        "plan_level": "plan_level",
        "place": "place",
        "muster_point": "muster_point",
        "scenario": "scenario",
        "duration_min": "duration_min",
        "repeat": "repeat_unit",
        "repeat_interval": "repeat_interval",
        "repeat_count": "repeat_count",
        "repeat_until": "repeat_until",
        "reminder_offsets_min": "reminder_offsets_min",
        "lat": "lat",
        "lon": "lon",
    }
    for key, column in simple.items():
        if key in given:
            setattr(plan, column, getattr(obj, key))
    if "starts_at" in given:
        plan.starts_dt = obj.starts_at
    if "emergency_plan_id" in given:
        plan.emergency_plan_id = obj.emergency_plan_id
    if given & {"emergency_plan_id", "enterprise_id"} and plan.emergency_plan_id is not None:
        linked = session.get(EmergencyPlan, plan.emergency_plan_id)
        if linked is None or linked.enterprise_id != plan.enterprise_id:
            errors["emergency_plan_id"] = "应急预案不存在或不属于组织单位"
    if plan.lat is None or plan.lon is None:
        if plan.enterprise is not None:
            plan.lat, plan.lon = plan.enterprise.lat, plan.enterprise.lon
    if errors:
        raise ValidationError(errors)


def create_plan(session: Session, data: dict, *, actor: User | None, now: datetime) -> DrillPlan:
    """Validate and add a plan and its first runs with their reminders (flushed; the caller commits)."""
    obj, errors = parse_partly(PlanIn, data)
    if obj is None:
        raise ValidationError(errors)
    # with bad fields, the valid ones given are still checked (references, the start): every bad field at once
    bad = {k.split(".")[0] for k in errors}
    given = {k for k in data if k in PlanIn.model_fields} - bad if errors else set(PlanIn.model_fields)
    once = "repeat" not in bad and obj.repeat in (None, RepeatUnit.none)
    if "starts_at" in given and once and obj.starts_at < now - timedelta(minutes=1):
        errors["starts_at"] = "一次性演练的开始时间不能早于现在"
    plan = DrillPlan(
        created_by=actor.username if actor else "system",
        created_dt=now,
        updated_dt=now,
        repeat_unit=RepeatUnit.none,
        repeat_interval=1,
    )
    try:
        apply_plan(session, plan, obj, given, actor)
    except ValidationError as exc:
        errors = exc.fields | errors
    if errors:
        raise ValidationError(errors)
    session.add(plan)
    session.flush()
    schedule_runs(session, plan, now=now)
    return plan


def update_plan(session: Session, plan: DrillPlan, data: dict, *, actor: User | None, now: datetime) -> DrillPlan:
    """Change a plan; runs not yet started that no longer fit are dropped and remade with new reminders."""
    check_owner(actor, plan.enterprise_id)
    obj, errors = parse_partly(PlanPatch, data)
    if obj is None:
        raise ValidationError(errors)
    given = set(obj.model_fields_set)
    try:
        apply_plan(session, plan, obj, given, actor)  # on bad fields the caller rolls the changes back
    except ValidationError as exc:
        errors = exc.fields | errors
    if errors:
        raise ValidationError(errors)
    plan.updated_dt = now
    session.flush()
    timing = {
        "starts_at",
        "repeat",
        "repeat_interval",
        "repeat_count",
        "repeat_until",
        "reminder_offsets_min",
        "team_ids",
        "enterprise_ids",
        "enterprise_id",
    }
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
    check_owner(actor, plan.enterprise_id)
    plan.active = False
    plan.updated_dt = now
    for run in plan.runs:
        if run.status == DrillRunStatus.scheduled and run.scheduled_dt > now:
            cancel_run(session, run, reason="计划已取消", now=now)
    session.flush()
    return plan


def cancel_run(session: Session, run: DrillRun, *, reason: str, now: datetime) -> None:
    run.status = DrillRunStatus.cancelled
    run.cancel_reason = reason
    session.execute(
        update(DrillReminderRow)
        .where(DrillReminderRow.run_id == run.id, DrillReminderRow.status == ReminderStatus.pending)
        .values(status=ReminderStatus.cancelled, handled_dt=now, note=reason[:100])
    )


def get_run(session: Session, plan: DrillPlan, run_id: int) -> DrillRun:
    """Run `run_id` of `plan`."""
    run = session.get(DrillRun, run_id)
    if run is None or run.plan_id != plan.id:
        raise NotFoundError("演练场次不存在")
    return run


def form_choices(session: Session, actor: User | None = None) -> dict[str, list[tuple]]:
    """What a plan form offers: incident types (code, name), teams (id, "team (enterprise)"), enterprises (id, name);
    an enterprise admin is offered only its own teams and enterprise."""
    teams = (
        select(Team.id, Team.name, Enterprise.name)
        .outerjoin(Enterprise, Enterprise.id == Team.enterprise_id)
        .order_by(Enterprise.name, Team.name)
    )
    enterprises = select(Enterprise.id, Enterprise.name).order_by(Enterprise.name)
    if actor is not None and actor.role == Role.enterprise_admin:
        teams = teams.where(Team.enterprise_id == actor.enterprise_id)
        enterprises = enterprises.where(Enterprise.id == actor.enterprise_id)
    return {
        "incident_types": session.execute(select(IncidentType.code, IncidentType.name).order_by(IncidentType.code)).all(),
        "teams": [(tid, f"{name} ({ent})" if ent else name) for tid, name, ent in session.execute(teams)],
        "enterprises": session.execute(enterprises).all(),
    }


# -- runs and participants ---------------------------------------------------------------------------


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
    taken = rsvp.codes_in_use(session)
    seen = {p.phone for p in run.participants}
    made = []
    for name, phone, team_id, enterprise_id, contact_id in people:
        if phone in seen:
            continue
        seen.add(phone)
        code = rsvp.new_code(taken)
        participant = DrillParticipant(
            run=run,
            name=name[:100],
            phone=phone,
            team_id=team_id,
            enterprise_id=enterprise_id,
            contact_id=contact_id,
            reply_code=code,
            rsvp=Rsvp.pending,
        )
        session.add(participant)
        session.flush()
        for offset in plan.reminder_offsets_min or []:
            session.add(
                DrillReminderRow(
                    run_id=run.id,
                    participant_id=participant.id,
                    offset_min=int(offset),
                    due_dt=run.scheduled_dt - timedelta(minutes=int(offset)),
                    status=ReminderStatus.pending,
                )
            )
        made.append(participant)
    session.flush()
    return made
