"""The outbox sender: claim due rows, send, retry with back-off, and never lose or double a message.

Every call to the provider is preceded by a committed "sending" row. A row found "sending" later (the sender
crashed) or whose last call lost its answer is first looked up at the provider; only if the provider does not
know it is it sent again, at most once without confirmation, and then marked `possibly_duplicated`.

Voice calls (`channel = "voice"`) go through the same rows and claims (`drain_calls`). Providers cannot be asked
whether a call was placed, so a call whose answer was lost is never placed again: it fails and the escalation
moves on (a call is made at most once).
"""

import logging
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, literal, or_, select, update
from sqlalchemy.orm import Session

from contacts import OutgoingSms, PermanentSendError, TransientSendError
from contacts.voice import OutgoingCall
from rescue.db import UTCDateTime, utcnow
from rescue.dispatch import escalation
from rescue.dispatch.assignments import add_event
from rescue.models import DeliveryReceiptEntry, OutboxMessage

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=90)  # longer than a provider call can take (time-out 10 s, plus a lookup)
BACKOFF_BASE_S = 2.0
BACKOFF_CAP_S = 300.0
MAX_ATTEMPTS = 25
GIVE_UP_AFTER = timedelta(minutes=30)  # an alert this late is escalated instead of sent


class RateLimiter:
    """A token bucket per sender: at most `rate_per_s` calls a second (bursts of `burst`); 0 means unlimited.

    `pause(seconds)` holds every call back (the provider said 429).
    """

    def __init__(self, rate_per_s: float, *, burst: float | None = None, clock=time.monotonic, sleep=time.sleep):
        self.rate = float(rate_per_s)
        self.burst = burst if burst is not None else max(1.0, self.rate)
        self.clock, self.sleep = clock, sleep
        self._tokens = self.burst
        self._last = clock()
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, self.clock() + seconds)

    def wait_s(self) -> float:
        """Seconds until a call may be made (0: now), taking the token if so."""
        with self._lock:
            now = self.clock()
            if now < self._paused_until:
                return self._paused_until - now
            if self.rate <= 0:
                return 0.0
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= 1:
                self._tokens -= 1
                return 0.0
            return (1 - self._tokens) / self.rate

    def acquire(self, *, max_wait_s: float = 5.0) -> bool:
        """Wait for a token; False if that would take longer than `max_wait_s` (come back next tick)."""
        while True:
            wait = self.wait_s()
            if wait <= 0:
                return True
            if wait > max_wait_s:
                return False
            self.sleep(wait)


_limiters: dict[int, RateLimiter] = {}


def limiter_for(gateway, rate_per_s: float) -> RateLimiter:
    """The process-wide limiter of one gateway (sender)."""
    key = id(gateway)
    if key not in _limiters or _limiters[key].rate != rate_per_s:
        _limiters[key] = RateLimiter(rate_per_s)
    return _limiters[key]


def backoff_s(attempts: int, *, retry_after: float | None = None, rng=random) -> float:
    """Exponential back-off with equal jitter, never shorter than the provider's Retry-After."""
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(0, attempts - 1))
    delay = ceiling / 2 + rng.uniform(0, ceiling / 2)
    return max(delay, retry_after or 0.0)


class _Clock:
    """`now` advancing with the monotonic clock, so a long batch records true times from a given start."""

    def __init__(self, start: datetime | None):
        self.start = start or utcnow()
        self.t0 = time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.t0)


@dataclass
class DrainResult:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    found_by_lookup: int = 0
    recovered: int = 0
    throttled: bool = False
    ids: list[int] = field(default_factory=list)


def recover_sending(session_factory, *, now: datetime, everything: bool = False, settings=None) -> int:
    """Rows left "sending" (by a sender that died) go back to the queue, to be looked up before any resend;
    calls left "placing" fail instead (a call is never placed twice) and their escalation moves on.

    `everything=True` at a leader's start-up (no other sender can be mid-call); else only rows past their lease.
    """
    with session_factory() as session:
        _begin_write(session)
        cond = [OutboxMessage.status == "sending"]
        if not everything:
            cond.append(OutboxMessage.lease_until_dt < now)
        rows = session.scalars(select(OutboxMessage).where(*cond)).all()
        for row in rows:
            if row.channel == "voice":
                fail(
                    session,
                    row,
                    code="call_unknown",
                    message="呼叫进程中断, 无法确认是否已拨出, 不再重拨",
                    now=now,
                    settings=settings,
                )
                continue
            row.status = "queued"
            row.needs_lookup = True
            row.answer_lost = True
            row.next_attempt_dt = now
            row.last_error = "发送进程中断, 发送前先向服务商核实"
            row.status_dt = now
        session.commit()
        return len(rows)


def _begin_write(session: Session) -> None:
    """On SQLite take the write lock up front: a read-then-write transaction cannot wait for a concurrent
    writer in WAL mode ("database is locked"); a write as the first statement waits (busy timeout) instead."""
    if session.get_bind().dialect.name == "sqlite":
        session.commit()
        session.connection().exec_driver_sql("UPDATE outbox_messages SET id = id WHERE 0")


def claim_one(session_factory, *, now: datetime, channel: str = "sms") -> int | None:
    """Mark the oldest due queued row of `channel` "sending" and COMMIT; its id, or None when nothing is due."""
    with session_factory() as session:
        _begin_write(session)
        stmt = (
            select(OutboxMessage.id)
            .where(OutboxMessage.status == "queued", OutboxMessage.channel == channel, OutboxMessage.next_attempt_dt <= now)
            .order_by(OutboxMessage.next_attempt_dt, OutboxMessage.id)
            .limit(1)
        )
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)  # several senders drain side by side
        row_id = session.scalar(stmt)
        if row_id is None:
            return None
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id, OutboxMessage.status == "queued")
            .values(
                status="sending",
                attempts=OutboxMessage.attempts + 1,
                claimed_dt=now,
                status_dt=now,
                first_claimed_dt=func.coalesce(OutboxMessage.first_claimed_dt, literal(now, UTCDateTime())),
                lease_until_dt=now + LEASE,
            )
        )
        session.commit()
        return row_id if result.rowcount == 1 else claim_one(session_factory, now=now, channel=channel)


def _sms(row: OutboxMessage) -> OutgoingSms:
    return OutgoingSms(
        to=row.to_phone,
        body=row.body,
        reference=str(row.id),
        template=row.template,
        params=dict(row.params) if row.params else None,
    )


def _with_ref(url: str | None, row_id: int) -> str | None:
    """A callback URL naming the row, so a report that races the sender still finds its call."""
    if not url:
        return None
    return f"{url}{'&' if '?' in url else '?'}ref={row_id}"


def _call(row: OutboxMessage, voice) -> OutgoingCall:
    return OutgoingCall(
        to=row.to_phone,
        script=row.body,
        reference=str(row.id),
        template=row.template,
        params=dict(row.params) if row.params else None,
        status_callback=_with_ref(getattr(voice, "status_callback", None), row.id),
        gather_callback=_with_ref(getattr(voice, "gather_callback", None), row.id),
    )


def _answered(exc: TransientSendError) -> bool:
    """Whether the provider answered (an HTTP error with a status) rather than the answer being lost."""
    return isinstance(getattr(exc.__cause__, "status", None), int)


def _event(session: Session, row: OutboxMessage, kind: str, message: str, now: datetime, **detail) -> None:
    if row.assignment is not None:
        add_event(session, row.assignment, kind, message, now=now, detail={"outbox_id": row.id, "to": row.to_phone, **detail})


def mark_sent(
    session: Session, row: OutboxMessage, provider: str, provider_id: str, status: str, now: datetime, *, how: str = ""
) -> None:
    if row.id is not None:
        session.refresh(
            row, ["status"], with_for_update=True
        )  # a report naming our reference may have arrived while the call was in flight
    if str(row.status) not in ("delivered", "undelivered", "failed"):
        row.status = "sent"
    row.provider = provider
    row.provider_id = provider_id
    row.sent_dt = row.sent_dt or now
    row.status_dt = now
    row.needs_lookup = row.answer_lost = False
    row.lease_until_dt = None
    row.last_error = ""
    if row.channel == "voice":
        _event(session, row, "call_placed", f"已呼叫{row.recipient_name}{how}", now, provider_id=provider_id, channel="voice")
        return
    _event(session, row, "sms_sent", f"短信已发给{row.recipient_name}{how}", now, provider_id=provider_id, channel="sms")
    apply_pending_receipts(session, row, now=now)


def fail(session: Session, row: OutboxMessage, *, code, message: str, now: datetime, settings=None) -> None:
    """A permanent failure: the row fails at once and the assignment escalates."""
    row.status = "failed"
    row.error_code = str(code)[:64] if code is not None else None
    row.last_error = message
    row.status_dt = now
    row.lease_until_dt = None
    if row.channel == "voice":
        _event(
            session,
            row,
            "call_failed",
            f"呼叫{row.recipient_name}失败: {message}",
            now,
            error_code=row.error_code,
            channel="voice",
        )
        escalation.on_call_failed(session, row, now=now, settings=settings)
        return
    _event(
        session,
        row,
        "sms_failed",
        f"发往{row.recipient_name}的短信失败: {message}",
        now,
        error_code=row.error_code,
        channel="sms",
    )
    escalation.on_delivery_failed(session, row, now=now, settings=settings)


def _retry_later(session: Session, row: OutboxMessage, exc: TransientSendError, now: datetime, *, rng, settings) -> float:
    row.status = "queued"
    row.needs_lookup = row.needs_lookup or exc.maybe_sent
    row.answer_lost = exc.maybe_sent and not _answered(exc)
    row.last_error = str(exc)
    row.status_dt = now
    row.lease_until_dt = None
    delay = backoff_s(row.attempts, retry_after=exc.retry_after, rng=rng)
    row.next_attempt_dt = now + timedelta(seconds=delay)
    if row.attempts >= MAX_ATTEMPTS or now - row.created_dt > GIVE_UP_AFTER:
        if row.needs_lookup:
            # it may still have gone out; leave it for one more lookup rather than failing blind
            row.next_attempt_dt = now + timedelta(seconds=BACKOFF_CAP_S)
        fail(session, row, code=None, message=f"多次重试仍未发出: {exc}", now=now, settings=settings)
    return delay


def process(session_factory, gateway, row_id: int, *, clock, rng=random, settings=None, limiter=None) -> str:
    """Send one claimed ("sending", committed) row; returns sent | found | retry | throttled | failed."""
    with session_factory() as session:
        row = session.get(OutboxMessage, row_id)
        _ = row.assignment  # loaded now: no reads inside the write transactions below
        sms = _sms(row)
        session.commit()  # hold no transaction during provider calls
        if row.needs_lookup:
            try:
                found = gateway.lookup(sms, since=row.first_claimed_dt or row.created_dt, provider_id=row.provider_id)
            except TransientSendError as exc:
                _begin_write(session)
                _retry_later(session, row, exc, clock(), rng=rng, settings=settings)
                session.commit()
                return "retry"
            _begin_write(session)
            if found is not None:
                mark_sent(session, row, gateway.name, found.provider_id, found.status, clock(), how="(核实确认已发出)")
                session.commit()
                return "found"
            if row.answer_lost:
                if row.unconfirmed_resends >= 1:
                    fail(
                        session,
                        row,
                        code=None,
                        message="服务商未确认是否收到, 已补发过一次, 不再重发",
                        now=clock(),
                        settings=settings,
                    )
                    session.commit()
                    return "failed"
                row.unconfirmed_resends += 1
                row.possibly_duplicated = True
                _event(
                    session,
                    row,
                    "sms_possibly_duplicated",
                    f"发往{row.recipient_name}的短信状态不明, 补发一次(可能重复)",
                    clock(),
                )
            row.needs_lookup = row.answer_lost = False
            session.commit()  # the resend is on record before the call
        try:
            result = gateway.send(sms)
        except TransientSendError as exc:
            _begin_write(session)
            delay = _retry_later(session, row, exc, clock(), rng=rng, settings=settings)
            throttled = exc.retry_after is not None and not exc.maybe_sent
            if throttled and limiter is not None:
                limiter.pause(exc.retry_after)
            session.commit()
            log.warning("SMS %s to %s: %s; retry in %.1fs", row.id, row.to_phone, exc, delay)
            return "throttled" if throttled else "retry"
        except PermanentSendError as exc:
            _begin_write(session)
            fail(session, row, code=exc.code, message=exc.message, now=clock(), settings=settings)
            session.commit()
            return "failed"
        _begin_write(session)
        mark_sent(session, row, gateway.name, result.provider_id, result.status, clock())
        session.commit()
        return "sent"


def drain_outbox(
    session_factory, gateway, *, now: datetime | None = None, limit: int = 500, rate_limiter=None, settings=None, rng=random
) -> DrainResult:
    """The job: send every due message (up to `limit`), one provider call per committed claim."""
    clock = _Clock(now)
    result = DrainResult()
    result.recovered = recover_sending(session_factory, now=clock(), settings=settings)
    sweep_receipts(session_factory, now=clock())
    for _ in range(limit):
        if rate_limiter is not None and not rate_limiter.acquire():
            result.throttled = True
            break
        row_id = claim_one(session_factory, now=clock())
        if row_id is None:
            break
        outcome = process(session_factory, gateway, row_id, clock=clock, rng=rng, settings=settings, limiter=rate_limiter)
        result.ids.append(row_id)
        if outcome in ("sent", "found"):
            result.sent += 1
            result.found_by_lookup += outcome == "found"
        elif outcome == "failed":
            result.failed += 1
        else:
            result.retried += 1
        if outcome == "throttled":
            result.throttled = True
            break  # the provider asked every call to wait, not just this one
    return result


def process_call(session_factory, voice, row_id: int, *, clock, rng=random, settings=None) -> str:
    """Place one claimed call; returns placed | retry | failed. A lost answer is never retried (at most once)."""
    with session_factory() as session:
        row = session.get(OutboxMessage, row_id)
        _ = row.assignment
        call = _call(row, voice)
        session.commit()
        try:
            result = voice.call(call)
        except TransientSendError as exc:
            _begin_write(session)
            if exc.maybe_sent:
                fail(
                    session,
                    row,
                    code="call_unknown",
                    message=f"服务商未确认是否已拨出, 不再重拨: {exc}",
                    now=clock(),
                    settings=settings,
                )
                session.commit()
                return "failed"
            _retry_later(session, row, exc, clock(), rng=rng, settings=settings)
            session.commit()
            return "retry"
        except PermanentSendError as exc:
            _begin_write(session)
            fail(session, row, code=exc.code, message=exc.message, now=clock(), settings=settings)
            session.commit()
            return "failed"
        _begin_write(session)
        mark_sent(session, row, voice.name, result.provider_id, result.status, clock())
        session.commit()
        return "placed"


def drain_calls(
    session_factory, gateway=None, *, now: datetime | None = None, voice_gateway=None, settings=None, limit: int = 100, rng=random
) -> DrainResult:
    """The job: place every due call of the call queue (one provider call per committed claim)."""
    clock = _Clock(now)
    result = DrainResult()
    if voice_gateway is None:
        return result
    for _ in range(limit):
        row_id = claim_one(session_factory, now=clock(), channel="voice")
        if row_id is None:
            break
        outcome = process_call(session_factory, voice_gateway, row_id, clock=clock, rng=rng, settings=settings)
        result.ids.append(row_id)
        if outcome == "placed":
            result.sent += 1
        elif outcome == "failed":
            result.failed += 1
        else:
            result.retried += 1
    return result


# -- delivery receipts ---------------------------------------------------------------------------------

_RANK = {"queued": 0, "sending": 0, "sent": 1, "delivered": 2, "undelivered": 2, "failed": 2, "cancelled": 2}


def apply_receipt(
    session: Session, row: OutboxMessage, status: str, error_code: str | None, *, now: datetime, settings=None
) -> bool:
    """Apply a provider status to its row; never moves a row backwards. True if anything changed."""
    if status not in ("sent", "delivered", "undelivered", "failed"):
        return False
    if _RANK[status] <= _RANK[str(row.status)]:
        return False  # callbacks may arrive out of order; a final status stays
    row.status = status
    row.status_dt = now
    if status == "delivered":
        row.delivered_dt = now
        _event(session, row, "sms_delivered", f"短信已送达{row.recipient_name}", now, channel="sms")
    elif status in ("undelivered", "failed"):
        row.error_code = error_code
        row.last_error = f"运营商回执: {status}"
        _event(
            session,
            row,
            "sms_undelivered",
            f"发往{row.recipient_name}的短信未送达({error_code or status})",
            now,
            error_code=error_code,
            channel="sms",
        )
        escalation.on_delivery_failed(session, row, now=now, settings=settings)
    return True


def apply_pending_receipts(session: Session, row: OutboxMessage, *, now: datetime, settings=None) -> None:
    if not row.provider_id:
        return
    pending = session.scalars(
        select(DeliveryReceiptEntry)
        .where(DeliveryReceiptEntry.provider_id == row.provider_id, DeliveryReceiptEntry.applied.is_(False))
        .order_by(DeliveryReceiptEntry.id)
    ).all()
    for receipt in pending:
        apply_receipt(session, row, receipt.status, receipt.error_code, now=now, settings=settings)
        receipt.applied = True
        receipt.outbox_id = row.id


def sweep_receipts(session_factory, *, now: datetime, settings=None) -> int:
    """Apply receipts that arrived before their row knew its provider id (the callback raced the sender)."""
    with session_factory() as session:
        pending = session.execute(
            select(DeliveryReceiptEntry, OutboxMessage)
            .join(OutboxMessage, OutboxMessage.provider_id == DeliveryReceiptEntry.provider_id)
            .where(DeliveryReceiptEntry.applied.is_(False))
            .order_by(DeliveryReceiptEntry.id)
        ).all()
        for receipt, row in pending:
            apply_receipt(session, row, receipt.status, receipt.error_code, now=now, settings=settings)
            receipt.applied = True
            receipt.outbox_id = row.id
        session.commit()
        return len(pending)


def queue_depth(session: Session) -> dict:
    """Rows waiting or in flight, for health and the worker's idle check."""
    rows = session.execute(
        select(OutboxMessage.status, OutboxMessage.id).where(
            or_(OutboxMessage.status == "queued", OutboxMessage.status == "sending")
        )
    ).all()
    out = {"queued": 0, "sending": 0}
    for status, _ in rows:
        out[str(status)] += 1
    return out
