"""Inspections coming due: the owner is texted 30 and 7 days before, once per stage; a new inspection starts afresh.
The job is registered with the worker."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from rescue.clock import local_date
from rescue.models import Equipment, OutboxMessage
from rescue.readiness.inspections import send_due_reminders
from rescue.worker import JOBS


def test_inspection_due_reminders_once_per_stage(app, api, session, enterprise_ids):
    a = api("enterprise-a")
    item = session.scalars(
        select(Equipment).where(Equipment.enterprise_id == enterprise_ids["enterprise-a"]).order_by(Equipment.id)
    ).first()
    now = datetime.now(UTC)
    today = local_date(now)
    a.patch(f"/api/v1/equipment/{item.id}", json={"name": "正压式空气呼吸器 (检验提醒)", "inspection_interval_days": 90})
    res = a.post(
        "/api/v1/inspections",
        json={
            "equipment_id": item.id,
            "inspected_on": (today - timedelta(days=70)).isoformat(),
            "result": "passed",
            "inspector": "周工",
        },
    )
    assert res.status_code == 201, res.json  # due in 20 days
    factory = app.extensions["db"].session_factory

    def texts():
        with factory() as s:
            return [m.body for m in s.scalars(select(OutboxMessage).where(OutboxMessage.body.contains("检验提醒")))]

    assert send_due_reminders(factory, now=now) >= 1
    assert len(texts()) == 1 and "剩20天" in texts()[0] and "不参与调度" in texts()[0]
    send_due_reminders(factory, now=now + timedelta(hours=2))
    assert len(texts()) == 1  # the 30-day stage went once
    send_due_reminders(factory, now=now + timedelta(days=14))
    assert len(texts()) == 2 and "剩6天" in texts()[1]
    send_due_reminders(factory, now=now + timedelta(days=15))
    assert len(texts()) == 2
    # inspected again: the new due date (90 days on) is outside the window, then reminded afresh when it nears
    a.post(
        "/api/v1/inspections",
        json={"equipment_id": item.id, "inspected_on": today.isoformat(), "result": "passed", "inspector": "周工"},
    )
    send_due_reminders(factory, now=now + timedelta(days=1))
    assert len(texts()) == 2
    send_due_reminders(factory, now=now + timedelta(days=65))
    assert len(texts()) == 3 and "剩25天" in texts()[2]
    # the worker runs it
    assert JOBS["inspection_due_reminders"].func is send_due_reminders
