"""Escalation with a frozen clock: silence walks the chain then the ranking; declines move on at once; max waves."""

import os
from datetime import timedelta

from sqlalchemy import select

from contacts import InboundSms
from rescue.dispatch import dispatches, escalation, replies
from rescue.models import Assignment, OutboxMessage
from rescue.worker import FileLeader, PostgresLeader, make_leader
from tests.alerts.conftest import T0, make_incident, ranking_for, teams_with
from tests.conftest import make_app


def _dispatch(app, *, n_ranked=3, max_waves=3, timeout=300):
    sf = app.extensions["db"].session_factory
    with sf() as s:
        incident = make_incident(s)
        teams = teams_with(s, "firefighting", n_ranked)
        d = dispatches.create_dispatch(
            s,
            incident,
            resources=[{"kind": "team", "id": teams[0].id, "need_id": incident.needs[0].id}],
            ranking=ranking_for(incident, teams),
            now=T0,
            wave_timeout_s=timeout,
            max_waves=max_waves,
        )
        s.commit()
        return sf, d.id, [t.id for t in teams]


def _backend_pid(leader) -> int:
    return leader.conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()


def _assignments(sf, dispatch_id):
    with sf() as s:
        return s.scalars(select(Assignment).where(Assignment.dispatch_id == dispatch_id).order_by(Assignment.id)).all()


def _pages(sf, assignment_id):
    with sf() as s:
        return s.scalars(
            select(OutboxMessage).where(OutboxMessage.assignment_id == assignment_id).order_by(OutboxMessage.id)
        ).all()


def test_silence_walks_chain_then_next_ranked_resource(fake_app):
    sf, dispatch_id, team_ids = _dispatch(fake_app)
    gw = fake_app.extensions["sms_gateway"]
    first = _assignments(sf, dispatch_id)[0]
    assert escalation.escalate_due(sf, gw, now=T0 + timedelta(seconds=299)) == 0  # not yet
    chain_len = 2  # seeded duty phones are landlines: commander → deputy
    for step in range(1, chain_len):
        assert escalation.escalate_due(sf, gw, now=T0 + timedelta(seconds=300 * step)) == 1
        pages = _pages(sf, first.id)
        assert [p.chain_step for p in pages] == list(range(step + 1))
        assert len({p.to_phone for p in pages}) == step + 1
    assert escalation.escalate_due(sf, gw, now=T0 + timedelta(seconds=300 * chain_len)) == 1
    rows = _assignments(sf, dispatch_id)
    assert rows[0].status.value == "no_answer"
    assert rows[1].resource_id == team_ids[1] and rows[1].wave == 2 and rows[1].escalated_from_id == rows[0].id
    assert rows[1].status.value == "notified" and len(_pages(sf, rows[1].id)) == 1


def test_decline_moves_on_at_once_and_max_waves_hold(fake_app):
    sf, dispatch_id, team_ids = _dispatch(fake_app, n_ranked=4, max_waves=2)
    for _ in range(3):
        with sf() as s:
            open_ = s.scalars(
                select(Assignment).where(Assignment.dispatch_id == dispatch_id, Assignment.status == "notified")
            ).first()
            if open_ is None:
                break
            replies.handle_inbound(
                s,
                InboundSms(from_="+8613000000000", to="", body=f"{open_.reply_code} 2", provider_id=None),
                provider="fake",
                now=T0,
            )
            s.commit()
    rows = _assignments(sf, dispatch_id)
    assert [r.status.value for r in rows] == ["declined", "declined"]
    assert [r.resource_id for r in rows] == team_ids[:2]  # wave 2 was the last
    with sf() as s:
        kinds = [e.kind for e in s.get(Assignment, rows[1].id).events]
    assert "escalation_exhausted" in kinds


def test_acceptance_stops_the_timer(fake_app):
    sf, dispatch_id, _ = _dispatch(fake_app)
    a = _assignments(sf, dispatch_id)[0]
    with sf() as s:
        replies.handle_inbound(
            s,
            InboundSms(from_=_pages(sf, a.id)[0].to_phone, to="", body="收到", provider_id=None),
            provider="fake",
            now=T0 + timedelta(seconds=10),
        )
        s.commit()
    assert escalation.escalate_due(sf, None, now=T0 + timedelta(hours=2)) == 0
    assert _assignments(sf, dispatch_id)[0].status.value == "accepted"


def test_timers_survive_an_app_restart(backend, templates, tmp_path):
    url = templates.copy(backend, seeded=True)
    first = make_app(url, tmp_path, SMS_BACKEND="fake")
    _sf, dispatch_id, _team_ids = _dispatch(first, timeout=120)
    first.extensions["db"].engine.dispose()
    second = make_app(url, tmp_path, SMS_BACKEND="fake")
    sf2 = second.extensions["db"].session_factory
    assert escalation.escalate_due(sf2, second.extensions["sms_gateway"], now=T0 + timedelta(seconds=121)) == 1
    assert len(_pages(sf2, _assignments(sf2, dispatch_id)[0].id)) == 2
    second.extensions["db"].engine.dispose()


def test_dispatcher_correction_through_api(app, api):
    sf, dispatch_id, team_ids = _dispatch(app)
    a = _assignments(sf, dispatch_id)[0]
    res = api("regulator").patch(f"/api/v1/assignments/{a.id}", json={"status": "accepted"})
    assert res.status_code == 403
    res = api("dispatcher").patch(f"/api/v1/assignments/{a.id}", json={"status": "bogus"})
    assert res.status_code == 422 and "status" in res.json["fields"]
    res = api("dispatcher").patch(f"/api/v1/assignments/{a.id}", json={"status": "declined", "note": "电话确认无法出动"})
    assert res.status_code == 200 and res.json["status"] == "declined"
    rows = _assignments(sf, dispatch_id)
    assert len(rows) == 2 and rows[1].resource_id == team_ids[1]
    timeline = api("dispatcher").get(f"/api/v1/incidents/{a.incident_id}/timeline").json["items"]
    correction = next(e for e in timeline if e["kind"] == "correction")
    assert correction["actor"] == "dispatcher" and correction["message"] == "电话确认无法出动"


def test_two_workers_only_one_leads(backend, templates, tmp_path):
    app = make_app(templates.copy(backend, seeded=False), tmp_path)
    one, two = make_leader(app), make_leader(app)
    if backend == "sqlite":
        assert isinstance(one, FileLeader)
    else:
        assert isinstance(one, PostgresLeader)
        # a second process-level connection: PostgreSQL advisory locks are per session
    try:
        assert one.try_acquire() is True
        assert two.try_acquire() is False  # hot standby
        # the standby can say who leads
        assert two.holder() == (
            f"进程 {os.getpid()}" if backend == "sqlite" else f"PostgreSQL 会话 {_backend_pid(one)} (127.0.0.1)"
        )
        assert one.still_held()
        one.release()
        assert two.try_acquire() is True  # takes over
        assert one.try_acquire() is False
    finally:
        one.release()
        two.release()
        app.extensions["db"].engine.dispose()


def test_outbox_and_escalation_jobs_run_through_the_worker(fake_app):
    from rescue.worker import JOBS, Worker

    sf, dispatch_id, _ = _dispatch(fake_app)
    assert set(JOBS) >= {"drain_outbox", "escalate_due"}
    worker = Worker(fake_app, jobs={name: JOBS[name] for name in ("drain_outbox", "escalate_due")})
    gw = fake_app.extensions["sms_gateway"]
    results = worker.run_once(now=T0 + timedelta(seconds=301))
    assert results["escalate_due"] == 1
    worker.run_once(now=T0 + timedelta(seconds=302))  # sends the chain page
    first = _assignments(sf, dispatch_id)[0]
    pages = _pages(sf, first.id)
    assert [p.status.value for p in pages] == ["sent", "sent"]
    assert [sms.to for sms, _ in gw.sent if sms.body == pages[0].body] == [p.to_phone for p in pages]
