"""Drill reminders: the job that makes runs entering the horizon and queues every due reminder exactly once.

* **Reminders.** Each participant of a run is owed one reminder per offset (default 7 days, 1 day, 2 hours
  before). Reminder rows are claimed by the leading worker (`FOR UPDATE SKIP LOCKED` on the participant row on
  PostgreSQL; a conditional `UPDATE … WHERE status = 'pending'` on every backend) and written to the SMS
  outbox in the same transaction, so each is queued exactly once, across restarts and racing workers.
* **Missed reminders** (the worker was down when some came due): of a participant's overdue reminders only
  the latest is sent, and only while the run is still at least `MIN_LEAD` away; every other overdue reminder
  is marked `missed`. So a long outage produces at most one reminder per person, never a late burst, and a
  reminder that could no longer help (the drill has started or is about to) is not sent at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contacts import DrillReminder
from contacts.templating import render_message
from rescue.db import begin_write
from rescue.drills.plans import schedule_runs
from rescue.messaging import queue
from rescue.messaging.gateway import AlertSettings
from rescue.models import DrillParticipant, DrillPlan, DrillReminderRow, DrillRun, OutboxMessage
from rescue.models.drills import DrillRunStatus, ReminderStatus

MIN_LEAD = timedelta(minutes=30)  # a late reminder is still sent only if the drill is at least this far away


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
    result = session.execute(
        update(DrillReminderRow)
        .where(DrillReminderRow.id == reminder_id, DrillReminderRow.status == ReminderStatus.pending)
        .values(status=status, handled_dt=now, note=note[:100])
    )
    return result.rowcount == 1


def send_due_reminders(session_factory, gateway=None, *, now: datetime, settings=None, limit: int = 500) -> ReminderResult:
    """The job: queue every due drill reminder exactly once (see the module docstring for missed ones)."""
    settings = settings or AlertSettings()
    result = ReminderResult(runs_made=plan_runs(session_factory, now=now))
    with session_factory() as session:
        begin_write(session)
        due = select(DrillReminderRow.participant_id).where(
            DrillReminderRow.status == ReminderStatus.pending, DrillReminderRow.due_dt <= now
        )
        stmt = select(DrillParticipant).where(DrillParticipant.id.in_(due)).order_by(DrillParticipant.id).limit(limit)
        if session.get_bind().dialect.name == "postgresql":
            # one participant's reminders are decided together, by one worker
            stmt = stmt.with_for_update(skip_locked=True, of=DrillParticipant)
        for participant in session.scalars(stmt).all():
            # a fresh read after the lock: a worker that held it has committed by now
            rows = session.execute(
                select(DrillReminderRow.id, DrillReminderRow.due_dt)
                .where(
                    DrillReminderRow.participant_id == participant.id,
                    DrillReminderRow.status == ReminderStatus.pending,
                    DrillReminderRow.due_dt <= now,
                )
                .order_by(DrillReminderRow.due_dt, DrillReminderRow.id)
            ).all()
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


def reminder_notice(run: DrillRun, participant: DrillParticipant) -> DrillReminder:
    plan = run.plan
    return DrillReminder(
        drill_name=plan.name,
        starts_at=run.scheduled_dt,
        place=plan.place,
        reply_code=participant.reply_code,
        muster_point=plan.muster_point,
    )


def reminder_text(run: DrillRun, participant: DrillParticipant, *, signature: str) -> str:
    """The reminder SMS as the phone shows it (the `drill_reminder` template)."""
    return render_message(reminder_notice(run, participant), signature=signature, max_segments=1).text


def _queue_reminder(session: Session, participant: DrillParticipant, run: DrillRun, *, settings, now: datetime) -> OutboxMessage:
    return queue.enqueue_notice(
        session,
        reminder_notice(run, participant),
        signature=settings.signature,
        to_phone=participant.phone,
        purpose="reminder",
        now=now,
        contact_id=participant.contact_id,
        recipient_name=participant.name,
        reply_code=participant.reply_code,
    )
