"""Review reminders of response cards: each card's owner (else the enterprise's safety managers) is texted 30 and
7 days before its review date and once in the week after it has passed."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from contacts.templating import CardReviewNotice
from rescue.clock import CHINA
from rescue.db import begin_write
from rescue.messaging import queue
from rescue.messaging.gateway import AlertSettings
from rescue.models import NoticeLog, ResponseCard
from rescue.registry.recipients import enterprise_recipients, sms_phone

REVIEW_STAGES = ((30, "d30"), (7, "d7"))
OVERDUE_NOTICE_DAYS = 7


def send_review_reminders(session_factory, gateway=None, *, now: datetime, settings=None) -> int:
    """The job: remind each card's owner 30 and 7 days before its review date and once in the week after it."""
    settings = settings or AlertSettings()
    today = now.astimezone(CHINA).date()
    sent = 0
    with session_factory() as session:
        cards = session.execute(
            select(ResponseCard.id, ResponseCard.review_date).where(
                ResponseCard.active.is_(True), ResponseCard.review_date <= today + timedelta(days=REVIEW_STAGES[0][0])
            )
        ).all()
    for card_id, review_date in cards:
        days_left = (review_date - today).days
        if days_left < -OVERDUE_NOTICE_DAYS:
            continue  # long overdue: listed, not texted again
        stage = "overdue" if days_left < 0 else None
        if stage is None:
            for days, name in REVIEW_STAGES:
                if days_left <= days:
                    stage = name
        key = f"card-review:{card_id}:{review_date.isoformat()}:{stage}"
        with session_factory() as session:
            begin_write(session)
            if session.scalar(select(NoticeLog.id).where(NoticeLog.key == key)) is not None:
                continue
            card = session.get(ResponseCard, card_id)
            owner = card.owner_contact if card.owner_contact and sms_phone(card.owner_contact.phone) else None
            recipients = [owner] if owner else enterprise_recipients(session, card.enterprise_id)
            log = NoticeLog(key=key, kind="card_review", outcome="sent" if recipients else "skipped", created_dt=now)
            session.add(log)
            try:
                session.flush()
            except IntegrityError:
                session.rollback()
                continue
            notice = CardReviewNotice(card.number, card.post, card.review_date)
            for contact in recipients:
                row = queue.enqueue_notice(
                    session,
                    notice,
                    signature=settings.signature,
                    to_phone=sms_phone(contact.phone),
                    purpose="notice",
                    now=now,
                    contact_id=contact.id,
                    recipient_name=contact.name,
                )
                session.flush()
                log.outbox_id = log.outbox_id or row.id
            session.commit()
            sent += bool(recipients)
    return sent
