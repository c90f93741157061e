"""Drill reminders: each fires once at its time, across restarts and racing workers; missed ones never burst."""

import threading
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from contacts import InboundSms
from rescue.clock import CHINA
from rescue.db import make_engine
from rescue.dispatch import replies
from rescue.drills import plans, reminders, rsvp
from rescue.models import DrillParticipant, DrillReminderRow, InboundMessage
from tests.drills.conftest import SIGNATURE, T0, fresh, make_plan, reminder_rows


def _statuses(session, plan):
    rows = session.scalars(
        select(DrillReminderRow)
        .join(DrillParticipant)
        .where(DrillParticipant.run_id.in_([r.id for r in plan.runs]))
        .order_by(DrillReminderRow.offset_min.desc())
    ).all()
    return [(r.offset_min, r.status.value) for r in rows]


def test_each_reminder_fires_once_at_its_time(app, factory, session):
    plan = make_plan(session)
    start = plan.runs[0].scheduled_dt
    people = len(plan.runs[0].participants)
    assert people >= 2  # the team's pageable person and the enterprise's safety manager
    assert {
        r.offset_min
        for p in plan.runs[0].participants
        for r in session.scalars(select(DrillReminderRow).where(DrillReminderRow.participant_id == p.id))
    } == {10080, 1440, 120}

    assert reminders.send_due_reminders(factory, now=T0).queued == []
    assert reminders.send_due_reminders(factory, now=start - timedelta(days=7, minutes=1)).queued == []
    first = reminders.send_due_reminders(factory, now=start - timedelta(days=7))
    assert len(first.queued) == people
    assert reminders.send_due_reminders(factory, now=start - timedelta(days=7) + timedelta(minutes=1)).queued == []
    assert len(reminders.send_due_reminders(factory, now=start - timedelta(days=1)).queued) == people
    assert len(reminders.send_due_reminders(factory, now=start - timedelta(hours=2)).queued) == people
    assert reminders.send_due_reminders(factory, now=start - timedelta(hours=1)).queued == []
    fresh(session)
    rows = reminder_rows(session)
    assert len(rows) == 3 * people
    for row in rows:
        assert row.body.startswith(SIGNATURE + "演练提醒："), row.body  # the drill_reminder template
        assert row.template == "drill_reminder" and row.params["code"] == row.reply_code
        assert "6月11日" in row.body and row.reply_code and len(row.reply_code) == 4
        assert row.status == "queued" and row.incident_id is None
    assert all(status == "queued" for _, status in _statuses(session, plan))


def test_restart_neither_loses_nor_repeats(app, factory, session):
    plan = make_plan(session)
    start = plan.runs[0].scheduled_dt
    reminders.send_due_reminders(factory, now=start - timedelta(days=7))
    # a new process: its own engine and sessions on the same database
    engine = make_engine(app.config["DATABASE_URL"])
    try:
        again = sessionmaker(engine, expire_on_commit=False)
        assert reminders.send_due_reminders(again, now=start - timedelta(days=7) + timedelta(seconds=30)).queued == []
        assert len(reminders.send_due_reminders(again, now=start - timedelta(days=1)).queued) == len(plan.runs[0].participants)
    finally:
        engine.dispose()
    assert len(reminder_rows(session)) == 2 * len(plan.runs[0].participants)


def test_missed_reminders_do_not_burst(app, factory, session):
    plan = make_plan(session)
    start = plan.runs[0].scheduled_dt
    people = len(plan.runs[0].participants)
    # everything was down from before the 7-day reminder until 90 minutes before the drill
    result = reminders.send_due_reminders(factory, now=start - timedelta(minutes=90))
    assert len(result.queued) == people  # only the latest (2-hour) reminder, once per person
    assert len(result.missed) == 2 * people
    fresh(session)
    assert sorted(_statuses(session, plan)) == sorted([(10080, "missed"), (1440, "missed"), (120, "queued")] * people)
    assert len(reminder_rows(session)) == people


def test_reminders_too_late_to_help_are_not_sent(app, factory, session):
    plan = make_plan(session)
    start = plan.runs[0].scheduled_dt
    result = reminders.send_due_reminders(factory, now=start - timedelta(minutes=10))
    assert result.queued == []
    assert len(result.missed) == 3 * len(plan.runs[0].participants)
    assert reminder_rows(session) == []


def test_late_seven_day_reminder_still_useful_is_sent_once(app, factory, session):
    plan = make_plan(session)
    start = plan.runs[0].scheduled_dt
    result = reminders.send_due_reminders(factory, now=start - timedelta(days=5))
    assert len(result.queued) == len(plan.runs[0].participants) and result.missed == []
    assert reminders.send_due_reminders(factory, now=start - timedelta(days=4)).queued == []


def test_two_workers_racing_send_each_reminder_once(app, factory, session):
    plans = [make_plan(session, name=f"演练{i}", starts_at=(T0 + timedelta(days=3, minutes=i)).isoformat()) for i in range(6)]
    due = max(p.runs[0].scheduled_dt for p in plans) - timedelta(hours=2)
    engines = [make_engine(app.config["DATABASE_URL"]) for _ in range(2)]
    results, errors = [], []
    barrier = threading.Barrier(2)

    def work(engine):
        try:
            barrier.wait()
            results.append(reminders.send_due_reminders(sessionmaker(engine, expire_on_commit=False), now=due))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for engine in engines:
        engine.dispose()
    assert errors == []
    queued = [rid for r in results for rid in r.queued]
    assert len(queued) == len(set(queued))
    people = sum(len(p.runs[0].participants) for p in plans)
    fresh(session)
    rows = reminder_rows(session)
    assert len(rows) == people  # one per person: the latest due reminder (2 h), no duplicates
    per_reminder = session.execute(
        select(DrillReminderRow.outbox_id, func.count())
        .where(DrillReminderRow.status == "queued")
        .group_by(DrillReminderRow.outbox_id)
    ).all()
    assert all(n == 1 for _, n in per_reminder) and len(per_reminder) == people


def test_cancelled_plan_sends_nothing(app, factory, session):
    plan = make_plan(session)
    plans.cancel_plan(session, plan, actor=None, now=T0)
    session.commit()
    assert reminders.send_due_reminders(factory, now=plan.runs[0].scheduled_dt - timedelta(hours=2)).queued == []


def test_rsvp_by_reply_code(app, factory, session):
    plan = make_plan(session)
    participants = plan.runs[0].participants
    yes, no = participants[0], participants[1]
    now = T0 + timedelta(days=3)
    for person, answer in ((yes, "1"), (no, "2 请假")):
        replies.handle_inbound(
            session,
            InboundSms(from_=person.phone, to="", body=f"{person.reply_code} {answer}", provider_id=None),
            provider="fake",
            now=now,
            unmatched=rsvp.apply_rsvp,
        )
    session.commit()
    fresh(session)
    assert (yes.rsvp.value, no.rsvp.value) == ("yes", "no")
    outcomes = session.scalars(select(InboundMessage.outcome).order_by(InboundMessage.id)).all()
    assert outcomes[-2:] == ["rsvp", "rsvp"]  # applied at once, not flagged for the dispatcher


def test_recurring_plans(app, factory, session):
    plan = make_plan(session, repeat="months", repeat_interval=6, starts_at="2026-01-31T09:00:00+08:00")
    starts = [plans.occurrence(plan, k).astimezone(CHINA).isoformat() for k in range(3)]
    assert starts == ["2026-01-31T09:00:00+08:00", "2026-07-31T09:00:00+08:00", "2027-01-31T09:00:00+08:00"]
    monthly = make_plan(
        session, name="月度演练", repeat="months", repeat_interval=1, starts_at="2026-01-31T09:00:00+08:00", repeat_count=3
    )
    assert [plans.occurrence(monthly, k).astimezone(CHINA).day for k in range(3)] == [31, 28, 31]
    weekly = make_plan(
        session, name="周演练", repeat="weeks", repeat_interval=2, starts_at=(T0 + timedelta(days=10)).isoformat(), repeat_count=4
    )
    # runs are made 45 days ahead: three of the four fortnightly runs now, the fourth later
    assert [r.sequence for r in weekly.runs] == [0, 1, 2]
    assert reminders.send_due_reminders(factory, now=T0 + timedelta(days=20)).runs_made >= 1
    fresh(session)
    assert [r.sequence for r in weekly.runs] == [0, 1, 2, 3]
    reminders.send_due_reminders(factory, now=T0 + timedelta(days=100))
    fresh(session)
    assert len(weekly.runs) == 4  # repeat_count holds
    # the six-monthly plan made its July run once it came within the horizon
    assert [r.scheduled_dt.astimezone(CHINA).month for r in plan.runs] == [7]
