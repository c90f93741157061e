"""Drill mode: starting a run sends it through the real dispatch pipeline, and the turnout times drills measure.

* **Drill mode.** Starting a run creates an incident with `drill = True` (rescue.dispatch.incidents) and
  dispatches the participating teams through rescue.dispatch.dispatches, so every SMS carries 【演练】 after
  the signature. Drills stay out of real statistics (rescue.dispatch.statistics).
* **Turnout update.** Time to muster (from the page to the team reporting mustered: its assignment's
  `on_scene_dt`, or a time recorded by the evaluator) is the measured turnout time. The team's `turnout_min`
  becomes an exponentially weighted average: new = (1 − 0.3)·old + 0.3·measured, where the measurement is
  first bounded to [old / 3, 3·old + 10] (one bad drill cannot swing it) and the result to [1, 120] minutes.
  It is applied once per team per run, when the run is recorded as held (rescue.drills.records).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from rescue.dispatch import dispatches, incidents
from rescue.drills.plans import check_owner, get_run
from rescue.errors import ConflictError, ValidationError
from rescue.models import Assignment, DrillPlan, DrillReminderRow, DrillRun, DrillTeamResult, Team, User
from rescue.models.drills import RUN_STATUS_NAMES, DrillRunStatus, ReminderStatus

DRILL_TASK = "演练集结"
TURNOUT_ALPHA = 0.3
TURNOUT_MIN, TURNOUT_MAX = 1.0, 120.0


def _pick_run(session: Session, plan: DrillPlan, run_id: int | None, *, now: datetime) -> DrillRun:
    if run_id is not None:
        return get_run(session, plan, run_id)
    scheduled = [
        r for r in plan.runs if r.status == DrillRunStatus.scheduled and abs(r.scheduled_dt - now) <= timedelta(hours=12)
    ]
    if scheduled:
        return min(scheduled, key=lambda r: abs(r.scheduled_dt - now))
    run = DrillRun(plan=plan, sequence=-1, scheduled_dt=now, status=DrillRunStatus.scheduled, created_dt=now)
    session.add(run)
    session.flush()
    return run


def start_run(
    session: Session,
    network,
    plan: DrillPlan,
    *,
    actor: User | None,
    now: datetime,
    area,
    settings=None,
    run_id: int | None = None,
) -> DrillRun:
    """Start a run in drill mode: a drill incident, dispatched to the participating teams by the real pipeline
    (assignments and their 【演练】 SMS in the outbox; flushed, the caller commits)."""
    check_owner(actor, plan.enterprise_id)
    if not plan.teams:
        raise ValidationError({"team_ids": "演练没有参演队伍, 无法按演练模式调派"})
    run = _pick_run(session, plan, run_id, now=now)
    if run.status != DrillRunStatus.scheduled:
        raise ConflictError(f"该场次{RUN_STATUS_NAMES[run.status.value]}, 不能开始")
    incident = incidents.create_incident(
        session,
        network,
        {
            "type": plan.incident_type_code,
            "level": "general",
            "lat": plan.lat,
            "lon": plan.lon,
            "place": plan.place,
            "description": f"【演练】{plan.name}。{plan.scenario}"[:5000],
            "drill": True,
        },
        area=area,
        actor=actor,
        now=now,
    )
    need_by_cap = {n.capability_code: n.id for n in incident.needs if n.capability_code}
    resources = []
    for team in plan.teams:
        need_id = next((need_by_cap[c] for c in team.capabilities if c in need_by_cap), None)
        resources.append({"kind": "team", "id": team.id, "need_id": need_id, "quantity": 1, "eta_s": None, "via": ""})
    dispatch = dispatches.create_dispatch(
        session,
        incident,
        resources=resources,
        acks_needed=len(resources),
        max_waves=1,
        muster_point=plan.muster_point,
        task=DRILL_TASK,
        note=f"演练: {plan.name}",
        actor=actor,
        settings=settings,
        now=now,
    )
    run.status = DrillRunStatus.running
    run.incident_id = incident.id
    run.started_dt = now
    run.actual_start_dt = run.actual_start_dt or now
    session.execute(
        update(DrillReminderRow)
        .where(DrillReminderRow.run_id == run.id, DrillReminderRow.status == ReminderStatus.pending)
        .values(status=ReminderStatus.cancelled, handled_dt=now, note="演练已开始")
    )
    for assignment in dispatch.assignments:
        team = session.get(Team, assignment.resource_id)
        session.add(
            DrillTeamResult(
                run=run,
                team_id=team.id,
                assignment_id=assignment.id,
                notified_dt=assignment.created_dt,
                turnout_before_min=team.turnout_min,
            )
        )
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
