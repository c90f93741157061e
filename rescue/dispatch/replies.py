"""Replies and delivery receipts from the provider's webhooks → assignment transitions and timeline events."""

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contacts import DeliveryReceipt, InboundSms, ReplyKind, normalize_phone, parse_reply
from contacts.errors import InvalidPhoneError
from rescue.dispatch import escalation, outbox
from rescue.dispatch.assignments import add_event, set_status
from rescue.dispatch.schemas import ReviewIn
from rescue.errors import NotFoundError, ValidationError
from rescue.messaging.gateway import AlertSettings
from rescue.models import (
    Assignment,
    ContactPerson,
    DeliveryReceiptEntry,
    Expert,
    InboundMessage,
    Incident,
    OutboxMessage,
    SmsOptOut,
)
from rescue.models.enums import OPEN_ASSIGNMENT_STATUSES, AssignmentStatus
from rescue.validation import parse

log = logging.getLogger(__name__)

KIND_NAMES = {"accept": "接受", "decline": "拒绝", "arrived": "已到达", "eta": "报告到达时间", "stop": "退订", "unclear": "无法识别"}
# what each reply does to an assignment in a given status (absent: recorded only)
_TRANSITIONS = {
    ReplyKind.ACCEPT: {"notified": AssignmentStatus.accepted, "no_answer": AssignmentStatus.accepted},
    ReplyKind.ETA: {"notified": AssignmentStatus.en_route, "accepted": AssignmentStatus.en_route,
                    "no_answer": AssignmentStatus.en_route},
    ReplyKind.ARRIVED: {"notified": AssignmentStatus.on_scene, "accepted": AssignmentStatus.on_scene,
                        "en_route": AssignmentStatus.on_scene, "no_answer": AssignmentStatus.on_scene},
    ReplyKind.DECLINE: {"notified": AssignmentStatus.declined, "accepted": AssignmentStatus.declined},
}


def _phone(raw: str) -> str:
    try:
        return normalize_phone(raw)
    except InvalidPhoneError:
        return raw.strip()


def _known_number(session: Session, phone: str) -> ContactPerson | bool:
    contact = session.scalars(select(ContactPerson).where(ContactPerson.phone == phone).limit(1)).first()
    if contact is not None:
        return contact
    paged = session.scalar(select(OutboxMessage.id).where(OutboxMessage.to_phone == phone).limit(1))
    expert = session.scalar(select(Expert.id).where(Expert.phone == phone).limit(1))
    return bool(paged or expert)


def _find_assignment(session: Session, phone: str, code: str | None) -> tuple[Assignment | None, str | None]:
    """The assignment a reply is about, or None with why not."""
    if code:
        found = session.scalars(select(Assignment).where(Assignment.reply_code == code,
                                                         Assignment.status.in_(OPEN_ASSIGNMENT_STATUSES))).first()
        if found is not None:
            return found, None
        # a late answer to a timed-out page still counts (the code is kept until reused)
        found = session.scalars(select(Assignment).where(Assignment.reply_code == code)
                                .order_by(Assignment.id.desc()).limit(1)).first()
        return (found, None) if found is not None else (None, "unknown_code")
    paged = session.scalars(
        select(Assignment).join(OutboxMessage, OutboxMessage.assignment_id == Assignment.id)
        .where(OutboxMessage.to_phone == phone, Assignment.status.in_((*OPEN_ASSIGNMENT_STATUSES, "no_answer")))
        .order_by(Assignment.id.desc())
    ).unique().all()
    if len(paged) == 1:
        return paged[0], None
    return None, "ambiguous" if paged else "no_open_assignment"


def handle_inbound(session: Session, sms: InboundSms, *, provider: str, now: datetime, settings: AlertSettings | None = None,
                   unmatched: Callable[..., object | None] | None = None) -> InboundMessage:
    """Record a reply and apply it; anything not understood is flagged for the dispatcher, never raised.

    A reply no assignment claims is offered to ``unmatched(session, record, now=)`` first (drills read RSVPs
    there; drills sit above dispatch, so the caller hands the reader in); a non-None answer means it was taken."""
    reply = parse_reply(sms.body)
    phone = _phone(sms.from_)
    record = InboundMessage(received_dt=now, from_phone=phone, to_phone=sms.to or "", body=sms.body or "",
                            provider=provider, provider_id=sms.provider_id, kind=reply.kind.value, code=reply.code,
                            eta_min=reply.eta_min, outcome="applied")
    session.add(record)
    known = _known_number(session, phone)
    if isinstance(known, ContactPerson):
        record.contact_id = known.id
    actor = f"sms:{phone}"
    if reply.kind == ReplyKind.STOP:
        if session.get(SmsOptOut, phone) is None:
            session.flush()
            session.add(SmsOptOut(phone=phone, created_dt=now, inbound_id=record.id))
        record.outcome, record.needs_review = "opt_out", True
        assignment, _ = _find_assignment(session, phone, reply.code)
        if assignment is not None:
            _attach(record, assignment)
            add_event(session, assignment, "opt_out", f"{phone}回复退订(仍会收到应急调度短信, 请调度员跟进)", now=now, actor=actor)
        session.flush()
        return record
    assignment, why = _find_assignment(session, phone, reply.code)
    if assignment is None and unmatched is not None and unmatched(session, record, now=now) is not None:
        session.flush()
        return record
    if assignment is None:
        record.outcome = "unknown_number" if not known and not reply.code else (why or "no_open_assignment")
        record.needs_review = True
        session.flush()
        return record
    _attach(record, assignment)
    detail = {"inbound_id": None, "from": phone, "body": sms.body, "kind": reply.kind.value}
    if reply.kind == ReplyKind.UNCLEAR:
        record.outcome, record.needs_review = "unclear", True
        session.flush()
        detail["inbound_id"] = record.id
        add_event(session, assignment, "reply_unclear", f"无法识别的回复: {sms.body}", now=now, actor=actor, detail=detail)
        return record
    session.flush()
    detail["inbound_id"] = record.id
    if reply.eta_min is not None:
        assignment.reported_eta_min = reply.eta_min
    target = _TRANSITIONS.get(reply.kind, {}).get(assignment.status.value)
    message = f"回复: {KIND_NAMES[reply.kind.value]}" + (f", 约{reply.eta_min}分钟到达" if reply.eta_min is not None else "")
    if target is None:
        record.outcome = "ignored"
        add_event(session, assignment, "reply", message + f" (当前状态{assignment.status.value}, 未改变)", now=now, actor=actor,
                  detail=detail)
        return record
    if target == AssignmentStatus.declined:
        escalation.on_decline(session, assignment, now=now, settings=settings, actor=actor, detail=detail)
        return record
    if target == AssignmentStatus.en_route and assignment.status == AssignmentStatus.notified:
        set_status(session, assignment, AssignmentStatus.accepted, now=now, message=message, actor=actor, detail=detail)
    set_status(session, assignment, target, now=now, message=message, actor=actor, detail=detail)
    return record


def _attach(record: InboundMessage, assignment: Assignment) -> None:
    record.assignment_id = assignment.id
    record.incident_id = assignment.incident_id


def handle_receipt(session: Session, receipt: DeliveryReceipt, *, now: datetime, settings: AlertSettings | None = None) -> DeliveryReceiptEntry:
    """Record a delivery receipt and apply it to its outbox row (later, if the row does not know its id yet)."""
    entry = DeliveryReceiptEntry(received_dt=now, provider_id=receipt.provider_id, status=receipt.status,
                                 error_code=receipt.error_code)
    session.add(entry)
    stmt = select(OutboxMessage).where(OutboxMessage.provider_id == receipt.provider_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = session.scalars(stmt).first()
    if row is not None:
        outbox.apply_receipt(session, row, receipt.status, receipt.error_code, now=now, settings=settings)
        entry.applied = True
        entry.outbox_id = row.id
    session.flush()
    return entry


def review(session: Session, record: InboundMessage, *, actor: str, now: datetime, assignment: Assignment | None = None,
           status: str | None = None, note: str = "", settings: AlertSettings | None = None) -> None:
    """The dispatcher settles a flagged reply: optionally links it to an assignment and sets that one's status."""
    record.needs_review = False
    record.reviewed_by = actor
    record.reviewed_dt = now
    if assignment is not None:
        _attach(record, assignment)
        escalation.correct(session, assignment, status, note or f"按短信回复更正: {record.body}", actor=actor, now=now,
                           settings=settings)


def settle(session: Session, message_id: int, data: dict, *, actor: str, now: datetime, settings: AlertSettings | None = None,
           pending_only: bool = False) -> InboundMessage:
    """Review a received SMS as the API and the console page ask for it (ReviewIn): link it to an assignment and
    set that one's status, or just mark it settled. `pending_only` refuses one already settled."""
    record = session.get(InboundMessage, message_id)
    if record is None or (pending_only and not record.needs_review):
        raise NotFoundError("该回复已处理或不存在" if pending_only else "短信不存在")
    obj = parse(ReviewIn, data)
    assignment = None
    if obj.assignment_id is not None:
        assignment = session.get(Assignment, obj.assignment_id)
        if assignment is None:
            raise ValidationError({"assignment_id": "指派不存在"})
    if obj.status is not None and assignment is None:
        raise ValidationError({"status": "需要有效的状态和 assignment_id"})
    review(session, record, actor=actor, now=now, assignment=assignment,
           status=obj.status.value if obj.status is not None else None, note=obj.note, settings=settings)
    return record


def list_inbound(session: Session, *, needs_review: bool = False, limit: int = 50, offset: int = 0) -> tuple[list[InboundMessage], int]:
    """Received SMS, newest first (only those awaiting the dispatcher with `needs_review`), and how many in all."""
    where = [InboundMessage.needs_review.is_(True)] if needs_review else []
    total = session.scalar(select(func.count()).select_from(InboundMessage).where(*where)) or 0
    rows = session.scalars(select(InboundMessage).where(*where).order_by(InboundMessage.id.desc())
                           .limit(limit).offset(offset)).all()
    return list(rows), total


def flagged(session: Session, *, limit: int) -> list[InboundMessage]:
    """The replies awaiting the dispatcher, newest first."""
    return list(session.scalars(select(InboundMessage).where(InboundMessage.needs_review.is_(True))
                                .order_by(InboundMessage.id.desc()).limit(limit)))


def open_for_review(session: Session) -> list[tuple[Assignment, str, bool]]:
    """The assignments a flagged reply may be linked to (still open or unanswered), newest first, with their
    incident's number and drill flag."""
    rows = session.execute(
        select(Assignment, Incident.number, Incident.drill).join(Incident, Incident.id == Assignment.incident_id)
        .where(Assignment.status.in_((*OPEN_ASSIGNMENT_STATUSES, "no_answer"))).order_by(Assignment.id.desc())).all()
    return [tuple(r) for r in rows]


_ANSWERS = {
    "applied": "已记录您的回复：{kind}。事件{no}",
    "ignored": "已记录您的回复。",
    "unclear": "未能识别，请回复 回复码+数字，如 {code} 1 接受，{code} 2 拒绝。",
    "opt_out": "已记录退订；应急调度短信仍会发送，如有疑问请联系调度中心。",
}


def answer_text(session: Session, record: InboundMessage, *, signature: str) -> str | None:
    """The SMS answering a reply, or None: unknown numbers and codes get no answer (the dispatcher sees them)."""
    template = _ANSWERS.get(record.outcome)
    if template is None:
        return None
    incident = session.get(Incident, record.incident_id) if record.incident_id else None
    no = incident.number if incident else ""
    return signature + template.format(kind=KIND_NAMES.get(record.kind, ""), no=no, code=record.code or "K7Q")


def serialize_inbound(r: InboundMessage) -> dict:
    """A received SMS as InboundOut."""
    return {"direction": "in", "id": r.id, "from": r.from_phone, "text": r.body, "received_at": r.received_dt.isoformat(),
            "kind": r.kind, "code": r.code, "eta_min": r.eta_min, "outcome": r.outcome, "assignment_id": r.assignment_id,
            "incident_id": r.incident_id, "needs_review": r.needs_review, "reviewed_by": r.reviewed_by}
