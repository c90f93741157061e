"""Recording a run (AQ/T 9009-2015): held or cancelled, actual times, attendance, each team's measured times (and
the turnout update they feed), the evaluation, findings and rectification items."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from rescue.clock import CHINA
from rescue.dispatch import assignments
from rescue.drills.plans import cancel_run, check_owner, get_run
from rescue.drills.runs import measure, updated_turnout
from rescue.drills.schemas import RecordIn
from rescue.errors import ConflictError, ValidationError
from rescue.models import Assignment, DrillPlan, DrillRun, DrillTeamResult, Incident, RectificationItem, Team, User
from rescue.models.drills import DrillRunStatus, RectificationStatus
from rescue.models.enums import OPEN_ASSIGNMENT_STATUSES, AssignmentStatus, IncidentStatus
from rescue.validation import parse_partly


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
    check_owner(actor, plan.enterprise_id)
    # the schema and the checks against the run together: every bad field at once
    obj, errors = parse_partly(RecordIn, data)
    if obj is None:
        raise ValidationError(errors)
    run = get_run(session, plan, obj.run_id) if obj.run_id is not None else _default_run(plan, now=now)
    if obj.status == DrillRunStatus.cancelled and run.status == DrillRunStatus.held:
        errors.setdefault("status", "已举行的演练不能改为取消")
    if obj.actual_start and obj.actual_end and obj.actual_end < obj.actual_start:
        errors.setdefault("actual_end", "结束时间早于开始时间")
    if obj.status == DrillRunStatus.held and (obj.actual_start or run.actual_start_dt or run.scheduled_dt) > now + timedelta(
        minutes=5
    ):
        errors.setdefault("actual_start", "尚未开始的演练不能记录为已举行")
    participants = {p.id: p for p in run.participants}
    for i, item in enumerate(obj.attendance or []):
        if item.participant_id not in participants:
            errors.setdefault(f"attendance.{i}.participant_id", "不是该场次的参演人员")
    results = {r.team_id: r for r in run.results}
    for i, item in enumerate(obj.teams or []):
        if item.team_id not in results and item.team_id not in {t.id for t in plan.teams}:
            errors.setdefault(f"teams.{i}.team_id", "不是该演练的参演队伍")
    existing = {r.id: r for r in run.rectifications}
    for i, item in enumerate(obj.rectifications or []):
        if item.id is not None and item.id not in existing:
            errors.setdefault(f"rectifications.{i}.id", "整改项不存在")
    if errors:
        raise ValidationError(errors)
    incident = session.get(Incident, run.incident_id) if run.incident_id else None
    if obj.status == DrillRunStatus.cancelled:
        cancel_run(session, run, reason=obj.cancel_reason or "已取消", now=now)
        if incident is not None:
            close_drill_incident(session, incident, AssignmentStatus.cancelled, now=now)
    else:
        run.status = DrillRunStatus.held
        run.actual_start_dt = obj.actual_start or run.actual_start_dt or run.scheduled_dt
        run.actual_end_dt = obj.actual_end or run.actual_end_dt or now
        for item in obj.teams:
            result = results.get(item.team_id)
            if result is None:
                team = session.get(Team, item.team_id)
                result = DrillTeamResult(
                    run=run, team_id=team.id, notified_dt=run.actual_start_dt, turnout_before_min=team.turnout_min
                )
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
            close_drill_incident(session, incident, AssignmentStatus.released, now=now)
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


def close_drill_incident(session: Session, incident: Incident, final: AssignmentStatus, *, now: datetime) -> None:
    """End the drill in the dispatch pipeline: open assignments released (or cancelled), incident closed."""
    open_rows = session.scalars(
        select(Assignment).where(Assignment.incident_id == incident.id, Assignment.status.in_(OPEN_ASSIGNMENT_STATUSES))
    ).all()
    for assignment in open_rows:
        status = final
        if final == AssignmentStatus.released and assignment.status == AssignmentStatus.notified:
            status = AssignmentStatus.cancelled  # never answered: nothing to release
        assignments.set_status(session, assignment, status, now=now, message="演练结束", actor="drills")
    if incident.status != IncidentStatus.closed:
        incident.status = IncidentStatus.closed
        incident.closed_dt = now
