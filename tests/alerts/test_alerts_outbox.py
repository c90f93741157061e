"""Outbox behaviour against the fake Twilio with a frozen clock: outages, throttling, invalid numbers, lost answers."""

import random
from datetime import timedelta

from sqlalchemy import select

from contacts import create_gateway
from rescue.dispatch import dispatches, outbox
from rescue.models import Assignment, OutboxMessage
from tests.alerts.conftest import T0, make_incident, ranking_for, teams_with


def _setup(app, n=1, *, rank_extra=1):
    sf = app.extensions["db"].session_factory
    with sf() as s:
        incident = make_incident(s)
        teams = teams_with(s, "firefighting", n + rank_extra)
        dispatches.create_dispatch(
            s,
            incident,
            resources=[{"kind": "team", "id": t.id, "need_id": incident.needs[0].id} for t in teams[:n]],
            ranking=ranking_for(incident, teams),
            now=T0,
        )
        s.commit()
    return sf


def _rows(sf):
    with sf() as s:
        return s.scalars(select(OutboxMessage).where(OutboxMessage.assignment_id.is_not(None)).order_by(OutboxMessage.id)).all()


def test_provider_down_for_a_while_is_retried_then_delivered_once(twilio_app, fake_twilio):
    sf, gw = _setup(twilio_app), twilio_app.extensions["sms_gateway"]
    fake_twilio.fail_next("server_error", 3)
    now = T0
    for _ in range(3):
        result = outbox.drain_outbox(sf, gw, now=now, rng=random.Random(1))
        assert result.sent == 0 and result.retried == 1
        row = _rows(sf)[0]
        assert row.status.value == "queued" and row.next_attempt_dt > now and "500" in row.last_error
        assert outbox.drain_outbox(sf, gw, now=now).sent == 0  # not due yet: backing off
        now = row.next_attempt_dt + timedelta(milliseconds=1)
    assert outbox.drain_outbox(sf, gw, now=now).sent == 1
    row = _rows(sf)[0]
    assert row.status.value in ("sent", "delivered") and row.attempts == 4 and not row.possibly_duplicated
    assert len(fake_twilio.messages) == 1


def test_rate_limited_429_backs_off_until_retry_after(twilio_app, fake_twilio):
    sf, gw = _setup(twilio_app, n=2), twilio_app.extensions["sms_gateway"]
    fake_twilio.fail_next("rate_limit")
    limiter = outbox.RateLimiter(0)
    result = outbox.drain_outbox(sf, gw, now=T0, rate_limiter=limiter)
    assert result.throttled and result.sent == 0  # the whole sender waits, not just one message
    first = _rows(sf)[0]
    assert first.next_attempt_dt >= T0 + timedelta(seconds=2)  # the fake's Retry-After
    assert limiter.wait_s() > 0
    limiter._paused_until = 0  # as if the pause had passed
    assert outbox.drain_outbox(sf, gw, now=T0 + timedelta(seconds=1), rate_limiter=limiter).sent == 1  # the other one
    assert outbox.drain_outbox(sf, gw, now=T0 + timedelta(seconds=3), rate_limiter=limiter).sent == 1
    assert len(fake_twilio.messages) == 2


def test_invalid_number_fails_at_once_and_escalates(twilio_app, fake_twilio):
    sf, gw = _setup(twilio_app), twilio_app.extensions["sms_gateway"]
    first = _rows(sf)[0]
    fake_twilio.add_rule(first.to_phone[-6:], error=21211)
    result = outbox.drain_outbox(sf, gw, now=T0)
    rows = _rows(sf)
    assert rows[0].status.value == "failed" and rows[0].error_code == "21211" and rows[0].attempts == 1
    assert result.failed == 1 and result.sent >= 1  # the next of the chain was paged at once, in the same drain
    assert rows[1].chain_step == 1 and rows[1].status.value in ("sent", "delivered")


def test_lost_answer_is_looked_up_not_resent(twilio_app, fake_twilio):
    sf = _setup(twilio_app)
    config = {
        "account_sid": fake_twilio.account_sid,
        "auth_token": fake_twilio.auth_token,
        "from": "+15005550006",
        "base_url": fake_twilio.base_url,
        "timeout_s": 0.3,
    }
    gw = create_gateway("twilio", config)
    fake_twilio.hang_s = 1.0
    fake_twilio.fail_next("hang")  # accepted, but the answer comes too late
    result = outbox.drain_outbox(sf, gw, now=T0)
    assert result.retried == 1 and _rows(sf)[0].needs_lookup
    assert outbox.drain_outbox(sf, gw, now=T0 + timedelta(minutes=5)).found_by_lookup == 1
    row = _rows(sf)[0]
    assert (
        row.status.value in ("sent", "delivered")
        and not row.possibly_duplicated
        and row.provider_id == fake_twilio.messages[0]["sid"]
    )
    assert len(fake_twilio.messages) == 1
    gw.close()


def test_lost_answer_not_found_is_resent_once_and_marked(fake_app):
    sf, gw = _setup(fake_app), fake_app.extensions["sms_gateway"]
    gw.fail_next("transient", count=2, accepted=False)
    gw.lookup = lambda sms, since, provider_id=None: None  # the provider cannot find it (e.g. lagging list)

    def lost(exc_cls=outbox.TransientSendError):
        raise exc_cls("read time-out", maybe_sent=True)

    original = gw.send
    gw.send = lambda sms: lost()
    outbox.drain_outbox(sf, gw, now=T0)
    gw.send = original
    outbox.drain_outbox(sf, gw, now=T0 + timedelta(minutes=1))
    row = _rows(sf)[0]
    assert row.possibly_duplicated and row.unconfirmed_resends == 1
    with sf() as s:
        kinds = [e.kind for e in s.get(Assignment, row.assignment_id).events]
    assert "sms_possibly_duplicated" in kinds


def test_rate_limiter_token_bucket():
    t = [0.0]
    limiter = outbox.RateLimiter(2, burst=2, clock=lambda: t[0], sleep=lambda s: t.__setitem__(0, t[0] + s))
    for _ in range(6):
        assert limiter.acquire()
    assert 1.9 <= t[0] <= 2.1  # 2 in the burst, then 2 a second


def test_backoff_grows_with_jitter_and_respects_retry_after():
    rng = random.Random(7)
    delays = [outbox.backoff_s(n, rng=rng) for n in range(1, 8)]
    assert all(
        outbox.BACKOFF_BASE_S * 2 ** (n - 1) / 2 <= d <= outbox.BACKOFF_BASE_S * 2 ** (n - 1)
        for n, d in enumerate(delays, start=1)
    )
    assert outbox.backoff_s(1, retry_after=30, rng=rng) == 30
