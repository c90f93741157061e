"""Putting a message into the SMS outbox; rescue.dispatch.outbox sends it after the transaction commits."""

from datetime import datetime

from sqlalchemy.orm import Session

from contacts import count_segments
from rescue.models import OutboxMessage


def enqueue(session: Session, *, to_phone: str, body: str, purpose: str, now: datetime, segments: int | None = None,
            **fields) -> OutboxMessage:
    """Add a queued outbox row (due at `now`); `fields` are further OutboxMessage columns or relations."""
    row = OutboxMessage(to_phone=to_phone, body=body, purpose=purpose,
                        segments=segments if segments is not None else count_segments(body).segments,
                        status="queued", next_attempt_dt=now, created_dt=now, status_dt=now, **fields)
    session.add(row)
    return row
