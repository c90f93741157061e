"""Putting a message into the outbox; rescue.dispatch.outbox sends it after the transaction commits."""

from datetime import datetime

from sqlalchemy.orm import Session

from contacts import count_segments
from contacts.templating import Rendered, render_message
from rescue.models import OutboxMessage


def enqueue(
    session: Session, *, to_phone: str, body: str, purpose: str, now: datetime, segments: int | None = None, **fields
) -> OutboxMessage:
    """Add a queued outbox row (due at `now`); `fields` are further OutboxMessage columns or relations."""
    row = OutboxMessage(
        to_phone=to_phone,
        body=body,
        purpose=purpose,
        segments=segments if segments is not None else count_segments(body).segments,
        status="queued",
        next_attempt_dt=now,
        created_dt=now,
        status_dt=now,
        **fields,
    )
    session.add(row)
    return row


def enqueue_rendered(
    session: Session, rendered: Rendered, *, to_phone: str, purpose: str, now: datetime, **fields
) -> OutboxMessage:
    """Queue a message rendered from its template: the text every backend shows, and the template kind and
    values a template-only provider (Aliyun) sends."""
    return enqueue(
        session,
        to_phone=to_phone,
        body=rendered.text,
        purpose=purpose,
        now=now,
        segments=rendered.segments,
        template=rendered.kind,
        params=dict(rendered.params),
        **fields,
    )


def enqueue_notice(
    session: Session, notice: object, *, signature: str, to_phone: str, purpose: str, now: datetime, **fields
) -> OutboxMessage:
    """Queue the SMS of a notice (DrillReminder, CardReviewNotice, ComplianceNotice, ReplyAck …) from its template."""
    return enqueue_rendered(
        session,
        render_message(notice, signature=signature, max_segments=1),
        to_phone=to_phone,
        purpose=purpose,
        now=now,
        **fields,
    )
