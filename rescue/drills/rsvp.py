"""RSVP to drill reminders by SMS.

Every participant has a 4-character reply code (dispatch codes have 3 while fewer than 2,000 are open, so the
two never collide); "R7K2 1" means attending, "R7K2 2" or "请假" means not. `apply_rsvp` reads one inbound SMS;
rescue.dispatch.replies calls it (through the webhook) for replies that answer no open dispatch, before flagging
them for the dispatcher.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from contacts import ReplyKind, make_reply_code, parse_reply
from rescue.dispatch import assignments
from rescue.errors import ConflictError
from rescue.models import DrillParticipant, DrillRun, InboundMessage
from rescue.models.drills import DrillRunStatus, Rsvp

RSVP_CODE_LENGTH = 4


def codes_in_use(session: Session) -> set[str]:
    """Reply codes taken by participants of upcoming or running drills and by open dispatches."""
    codes = set(
        session.scalars(
            select(DrillParticipant.reply_code)
            .join(DrillRun)
            .where(DrillRun.status.in_((DrillRunStatus.scheduled, DrillRunStatus.running)))
        )
    )
    return codes | assignments.open_reply_codes(session)


def new_code(taken: set[str]) -> str:
    """A fresh RSVP code not in `taken` (added to it)."""
    for _ in range(1000):
        code = make_reply_code(RSVP_CODE_LENGTH)
        if code not in taken:
            taken.add(code)
            return code
    msg = "no free RSVP code"
    raise ConflictError(msg)


def _participant_for(session: Session, phone: str, code: str | None) -> DrillParticipant | None:
    upcoming = (DrillRunStatus.scheduled, DrillRunStatus.running)
    stmt = select(DrillParticipant).join(DrillRun).where(DrillRun.status.in_(upcoming))
    if code:
        return session.scalars(stmt.where(DrillParticipant.reply_code == code).order_by(DrillParticipant.id.desc())).first()
    found = session.scalars(stmt.where(DrillParticipant.phone == phone)).all()
    return found[0] if len(found) == 1 else None


def apply_rsvp(session: Session, record: InboundMessage, *, now: datetime) -> DrillParticipant | None:
    """Read an inbound SMS as an RSVP to a drill; returns the participant it answered for, else None."""
    reply = parse_reply(record.body)
    if reply.kind not in (ReplyKind.ACCEPT, ReplyKind.DECLINE):
        return None
    participant = _participant_for(session, record.from_phone, reply.code)
    if participant is None:
        return None
    participant.rsvp = Rsvp.yes if reply.kind == ReplyKind.ACCEPT else Rsvp.no
    participant.rsvp_dt = now
    record.outcome = "rsvp"
    record.needs_review = False
    record.reviewed_by = "drills"
    record.reviewed_dt = now
    return participant
