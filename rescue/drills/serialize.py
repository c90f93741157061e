"""Drill plans and runs as the API returns them (shaped by the response schemas of rescue.drills.schemas)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from rescue.clock import local
from rescue.drills.runs import measure
from rescue.drills.schemas import RATING_NAMES, DrillPlanOut, DrillRunBriefOut, DrillRunOut
from rescue.models import DrillPlan, DrillReminderRow, DrillRun
from rescue.models.drills import (
    DRILL_CONTENT_NAMES,
    DRILL_FORM_NAMES,
    DRILL_PURPOSE_NAMES,
    PLAN_LEVEL_NAMES,
    RUN_STATUS_NAMES,
    DrillRunStatus,
)


def serialize_plan(session: Session, plan: DrillPlan, *, now: datetime) -> dict:
    """A plan with its runs in brief, its next run and when it was last held."""
    upcoming = [r for r in plan.runs if r.status == DrillRunStatus.scheduled and r.scheduled_dt >= now]
    held = [r for r in plan.runs if r.status == DrillRunStatus.held]
    return DrillPlanOut(
        id=plan.id,
        name=plan.name,
        enterprise_id=plan.enterprise_id,
        enterprise=plan.enterprise.name if plan.enterprise else None,
        content=plan.content,
        content_name=DRILL_CONTENT_NAMES[plan.content.value],
        form=plan.form,
        form_name=DRILL_FORM_NAMES[plan.form.value],
        purpose=plan.purpose,
        purpose_name=DRILL_PURPOSE_NAMES[plan.purpose.value],
        plan_level=plan.plan_level,
        plan_level_name=PLAN_LEVEL_NAMES[plan.plan_level.value],
        emergency_plan_id=plan.emergency_plan_id,
        incident_type=plan.incident_type_code,
        incident_type_name=plan.incident_type.name if plan.incident_type else None,
        place=plan.place,
        lat=plan.lat,
        lon=plan.lon,
        muster_point=plan.muster_point,
        scenario=plan.scenario,
        starts_at=local(plan.starts_dt),
        duration_min=plan.duration_min,
        repeat=plan.repeat_unit,
        repeat_interval=plan.repeat_interval,
        repeat_count=plan.repeat_count,
        repeat_until=plan.repeat_until.isoformat() if plan.repeat_until else None,
        reminder_offsets_min=list(plan.reminder_offsets_min or []),
        team_ids=[t.id for t in plan.teams],
        teams=[t.name for t in plan.teams],
        enterprise_ids=[e.id for e in plan.enterprises],
        active=plan.active,
        demo=plan.demo,
        next_run_at=local(upcoming[0].scheduled_dt) if upcoming else None,
        last_held_at=local(max(r.actual_start_dt or r.scheduled_dt for r in held)) if held else None,
        runs=[_run_brief(r) for r in plan.runs],
    ).model_dump(mode="json")


def _brief_fields(run: DrillRun) -> dict:
    return {
        "id": run.id,
        "sequence": run.sequence,
        "scheduled_at": local(run.scheduled_dt),
        "status": run.status,
        "status_name": RUN_STATUS_NAMES[run.status.value],
        "incident_id": run.incident_id,
    }


def _run_brief(run: DrillRun) -> DrillRunBriefOut:
    return DrillRunBriefOut(**_brief_fields(run))


def serialize_run(session: Session, run: DrillRun) -> dict:
    """A run in full: participants and their RSVPs, reminders, each team's times, the evaluation and rectifications."""
    reminders = session.scalars(
        select(DrillReminderRow).where(DrillReminderRow.run_id == run.id).order_by(DrillReminderRow.due_dt, DrillReminderRow.id)
    ).all()
    return DrillRunOut(
        **_brief_fields(run),
        plan_id=run.plan_id,
        drill=True,
        started_at=local(run.started_dt),
        actual_start=local(run.actual_start_dt),
        actual_end=local(run.actual_end_dt),
        cancel_reason=run.cancel_reason or None,
        headcount=run.headcount,
        evaluation=run.evaluation,
        rating=run.rating,
        rating_name=RATING_NAMES.get(run.rating or ""),
        findings=list(run.findings or []),
        recorded_by=run.recorded_by,
        recorded_at=local(run.recorded_dt),
        participants=[
            {
                "id": p.id,
                "name": p.name,
                "phone": p.phone,
                "team_id": p.team_id,
                "enterprise_id": p.enterprise_id,
                "reply_code": p.reply_code,
                "rsvp": p.rsvp,
                "rsvp_at": local(p.rsvp_dt),
                "attended": p.attended,
            }
            for p in run.participants
        ],
        reminders=[
            {
                "id": r.id,
                "participant_id": r.participant_id,
                "offset_min": r.offset_min,
                "due_at": local(r.due_dt),
                "status": r.status,
                "outbox_id": r.outbox_id,
                "note": r.note or None,
            }
            for r in reminders
        ],
        teams=[
            {
                "team_id": r.team_id,
                "team": r.team.name if r.team else None,
                "assignment_id": r.assignment_id,
                "notified_at": local(r.notified_dt),
                "acknowledged_at": local(r.acknowledged_dt),
                "mustered_at": local(r.mustered_dt),
                "ack_s": r.ack_s,
                "muster_s": r.muster_s,
                "present": r.present,
                "turnout_before_min": r.turnout_before_min,
                "turnout_after_min": r.turnout_after_min,
            }
            for r in run.results
        ],
        rectifications=[
            {
                "id": r.id,
                "description": r.description,
                "owner": r.owner,
                "due_date": r.due_date.isoformat(),
                "status": r.status,
                "done_date": r.done_date.isoformat() if r.done_date else None,
            }
            for r in run.rectifications
        ],
    ).model_dump(mode="json")


def serialize_measured_run(session: Session, run: DrillRun) -> dict:
    """The run with each team's times measured so far (a running drill shows them; only recording stores them:
    the caller rolls the session back)."""
    measure(session, run)
    return serialize_run(session, run)
