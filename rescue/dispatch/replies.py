"""Replies and delivery receipts from the provider's webhooks → assignment transitions and timeline events."""

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contacts import DeliveryReceipt, InboundSms, ReplyKind, normalize_phone, parse_reply
from contacts.errors import InvalidPhoneError
from contacts.templating import ReplyAck, ReplyUnclear, render_message
from contacts.voice import FINAL_CALL_STATUSES, CallEvent
from rescue.dispatch import assignments, escalation, outbox
from rescue.dispatch.assignments import add_event, set_status
from rescue.dispatch.schemas import ReviewIn
from rescue.errors import NotFoundError, ValidationError
from rescue.messaging import queue
from rescue.messaging.gateway import AlertSettings
from rescue.models import (
    Assignment,
    AssignmentEvent,
    CallEventEntry,
    ContactPerson,
    DeliveryReceiptEntry,
    Expert,
    InboundMessage,
    Incident,
    OutboxMessage,
    SmsOptOut,
)
from rescue.models.alerts import OUTBOX_FINAL
from rescue.models.enums import OPEN_ASSIGNMENT_STATUSES, AssignmentStatus
from rescue.validation import parse

log = logging.getLogger(__name__)

KIND_NAMES = {
    "accept": "接受",
    "decline": "拒绝",
    "arrived": "已到达",
    "eta": "报告到达时间",
    "stop": "退订",
    "unclear": "无法识别",
}
# what each reply does to an assignment in a given status (absent: recorded only)
_TRANSITIONS = {
    ReplyKind.ACCEPT: {"notified": AssignmentStatus.accepted, "no_answer": AssignmentStatus.accepted},
    ReplyKind.ETA: {
        "notified": AssignmentStatus.en_route,
        "accepted": AssignmentStatus.en_route,
        "no_answer": AssignmentStatus.en_route,
    },
    ReplyKind.ARRIVED: {
        "notified": AssignmentStatus.on_scene,
        "accepted": AssignmentStatus.on_scene,
        "en_route": AssignmentStatus.on_scene,
        "no_answer": AssignmentStatus.on_scene,
    },
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
        found = session.scalars(
            select(Assignment).where(Assignment.reply_code == code, Assignment.status.in_(OPEN_ASSIGNMENT_STATUSES))
        ).first()
        if found is not None:
            return found, None
        # a late answer to a timed-out page still counts (the code is kept until reused)
        found = session.scalars(
            select(Assignment).where(Assignment.reply_code == code).order_by(Assignment.id.desc()).limit(1)
        ).first()
        return (found, None) if found is not None else (None, "unknown_code")
    paged = (
        session.scalars(
            select(Assignment)
            .join(OutboxMessage, OutboxMessage.assignment_id == Assignment.id)
            .where(OutboxMessage.to_phone == phone, Assignment.status.in_((*OPEN_ASSIGNMENT_STATUSES, "no_answer")))
            .order_by(Assignment.id.desc())
        )
        .unique()
        .all()
    )
    if len(paged) == 1:
        return paged[0], None
    return None, "ambiguous" if paged else "no_open_assignment"


def find_inbound(session: Session, provider: str, provider_id: str | None) -> InboundMessage | None:
    """The reply already stored under this provider message id (a replayed webhook), or None."""
    if not provider_id:
        return None
    return session.scalars(
        select(InboundMessage).where(InboundMessage.provider == provider, InboundMessage.provider_id == provider_id)
    ).first()


def _phone_fits(session: Session, assignment: Assignment, phone: str, *, now: datetime) -> bool:
    """Whether `phone` was paged for `assignment` or belongs to its resource (a reply code is only 3 letters:
    someone else's code typed by mistake must not answer for them)."""
    paged = session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.assignment_id == assignment.id, OutboxMessage.to_phone == phone).limit(1)
    )
    if paged is not None:
        return True
    resource = assignments.load_resource(session, assignment.resource_kind.value, assignment.resource_id)
    if resource is None:
        return False
    return any(r.phone == phone for r in assignments.resource_chain(session, assignment.resource_kind.value, resource, now=now))


def _pages_elsewhere(session: Session, assignment: Assignment, phone: str) -> bool:
    """Whether `phone` is a responder of another assignment (then a code not its own is a mix-up between
    incidents, not a colleague answering for the team)."""
    return (
        session.scalar(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.to_phone == phone,
                OutboxMessage.assignment_id.is_not(None),
                OutboxMessage.assignment_id != assignment.id,
            )
            .limit(1)
        )
        is not None
    )


def _corrected_since(session: Session, assignment: Assignment, moment: datetime) -> bool:
    """Whether a dispatcher corrected `assignment` after `moment` (a reply written before that must not undo it)."""
    return (
        session.scalar(
            select(AssignmentEvent.id)
            .where(
                AssignmentEvent.assignment_id == assignment.id,
                AssignmentEvent.kind == "correction",
                AssignmentEvent.at_dt > moment,
            )
            .limit(1)
        )
        is not None
    )


def handle_inbound(
    session: Session,
    sms: InboundSms,
    *,
    provider: str,
    now: datetime,
    settings: AlertSettings | None = None,
    unmatched: Callable[..., object | None] | None = None,
) -> InboundMessage:
    """Record a reply and apply it; anything not understood is flagged for the dispatcher, never raised.

    A reply whose provider message id is stored already (a replayed webhook) is not applied again: the stored
    record is returned. A reply no assignment claims is offered to ``unmatched(session, record, now=)`` first
    (drills read RSVPs there; drills sit above dispatch, so the caller hands the reader in); a non-None answer
    means it was taken. A code answered from a number not paged for it, and a reply written before the
    dispatcher's last correction, are recorded and flagged, never applied."""
    existing = find_inbound(session, provider, sms.provider_id)
    if existing is not None:
        return existing
    reply = parse_reply(sms.body)
    phone = _phone(sms.from_)
    record = InboundMessage(
        received_dt=now,
        from_phone=phone[:32],
        to_phone=(sms.to or "")[:32],
        body=sms.body or "",
        provider=provider,
        provider_id=sms.provider_id,
        kind=reply.kind.value,
        code=reply.code,
        eta_min=reply.eta_min,
        outcome="applied",
    )
    try:
        with session.begin_nested():
            session.add(record)
            session.flush()
    except IntegrityError:
        # the same provider id stored by a concurrent call of the same webhook
        return find_inbound(session, provider, sms.provider_id)
    known = _known_number(session, phone)
    if isinstance(known, ContactPerson):
        record.contact_id = known.id
    actor = f"sms:{phone}"
    if reply.kind == ReplyKind.STOP:
        if session.get(SmsOptOut, phone) is None:
            session.add(SmsOptOut(phone=phone, created_dt=now, inbound_id=record.id))
        record.outcome, record.needs_review = "opt_out", True
        assignment, _ = _find_assignment(session, phone, reply.code)
        if assignment is not None and (
            _phone_fits(session, assignment, phone, now=now) or not _pages_elsewhere(session, assignment, phone)
        ):
            _attach(record, assignment)
            add_event(
                session,
                assignment,
                "opt_out",
                f"{phone}回复退订(仍会收到应急调度短信, 请调度员跟进)",
                now=now,
                actor=actor,
                detail={"channel": "sms", "inbound_id": record.id},
            )
        session.flush()
        return record
    assignment, why = _find_assignment(session, phone, reply.code)
    if (
        assignment is not None
        and not _phone_fits(session, assignment, phone, now=now)
        and _pages_elsewhere(session, assignment, phone)
    ):
        assignment, why = None, "code_mismatch"
    if assignment is None and unmatched is not None and unmatched(session, record, now=now) is not None:
        session.flush()
        return record
    if assignment is None:
        record.outcome = "unknown_number" if not known and not reply.code else (why or "no_open_assignment")
        record.needs_review = True
        session.flush()
        return record
    _attach(record, assignment)
    detail = {"inbound_id": record.id, "from": phone, "body": sms.body, "kind": reply.kind.value, "channel": "sms"}
    if reply.kind == ReplyKind.UNCLEAR:
        record.outcome, record.needs_review = "unclear", True
        add_event(session, assignment, "reply_unclear", f"无法识别的回复: {sms.body}", now=now, actor=actor, detail=detail)
        return record
    if _corrected_since(session, assignment, sms.received_at):
        record.outcome, record.needs_review = "stale", True
        add_event(session, assignment, "reply", f"回复早于调度员更正, 未应用: {sms.body}", now=now, actor=actor, detail=detail)
        return record
    if reply.eta_min is not None:
        assignment.reported_eta_min = reply.eta_min
    target = _TRANSITIONS.get(reply.kind, {}).get(assignment.status.value)
    message = f"回复: {KIND_NAMES[reply.kind.value]}" + (f", 约{reply.eta_min}分钟到达" if reply.eta_min is not None else "")
    if target is None:
        record.outcome = "ignored"
        add_event(
            session,
            assignment,
            "reply",
            message + f" (当前状态{assignment.status.value}, 未改变)",
            now=now,
            actor=actor,
            detail=detail,
        )
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


def flag_unreadable(session: Session, *, provider: str, raw: str, reason: str, now: datetime) -> InboundMessage:
    """A pushed item that could not be read at all: kept as it came, for the dispatcher to look at."""
    record = InboundMessage(
        received_dt=now,
        from_phone="",
        body=f"无法读取的推送({reason}): {raw}"[:2000],
        provider=provider,
        kind="unclear",
        outcome="unreadable",
        needs_review=True,
    )
    session.add(record)
    session.flush()
    return record


def _receipt_key(provider: str, receipt: DeliveryReceipt) -> str:
    return f"{provider}|{receipt.provider_id}|{receipt.reference or ''}|{receipt.to or ''}|{receipt.status}"[:200]


def _receipt_row(session: Session, receipt: DeliveryReceipt) -> OutboxMessage | None:
    """The outbox row a receipt is about: by the echoed reference (our id) when it names one to that number,
    else by the provider's message id."""
    stmt = None
    if receipt.reference and receipt.reference.isdigit():
        stmt = select(OutboxMessage).where(OutboxMessage.id == int(receipt.reference), OutboxMessage.channel == "sms")
        if receipt.to:
            stmt = stmt.where(OutboxMessage.to_phone == receipt.to)
    if stmt is None or session.scalar(select(func.count()).select_from(stmt.subquery())) == 0:
        stmt = select(OutboxMessage).where(OutboxMessage.provider_id == receipt.provider_id)
        if receipt.to:
            stmt = stmt.where(OutboxMessage.to_phone == receipt.to)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def handle_receipt(
    session: Session, receipt: DeliveryReceipt, *, now: datetime, settings: AlertSettings | None = None, provider: str = ""
) -> DeliveryReceiptEntry | None:
    """Record a delivery receipt and apply it to its outbox row (later, if the row does not know its id yet).
    A receipt stored already (a replayed push) is not applied again: None."""
    key = _receipt_key(provider, receipt)
    if session.scalar(select(DeliveryReceiptEntry.id).where(DeliveryReceiptEntry.dedupe_key == key)) is not None:
        return None
    entry = DeliveryReceiptEntry(
        received_dt=now,
        provider=provider,
        dedupe_key=key,
        provider_id=receipt.provider_id[:64],
        status=receipt.status[:16],
        error_code=(receipt.error_code or None) and receipt.error_code[:64],
        reference=receipt.reference,
        to_phone=receipt.to,
    )
    try:
        with session.begin_nested():
            session.add(entry)
            session.flush()
    except IntegrityError:
        return None
    row = _receipt_row(session, receipt)
    if row is not None:
        outbox.apply_receipt(session, row, receipt.status, entry.error_code, now=now, settings=settings)
        entry.applied = True
        entry.outbox_id = row.id
    session.flush()
    return entry


def _call_row(session: Session, event: CallEvent, ref: str | None) -> OutboxMessage | None:
    reference = event.reference or ref
    if reference and reference.isdigit():
        row = session.get(OutboxMessage, int(reference))
        if row is not None and row.channel == "voice":
            return row
    return session.scalars(
        select(OutboxMessage).where(OutboxMessage.provider_id == event.provider_id, OutboxMessage.channel == "voice")
    ).first()


def handle_call_event(
    session: Session,
    event: CallEvent,
    *,
    provider: str,
    now: datetime,
    ref: str | None = None,
    settings: AlertSettings | None = None,
) -> CallEventEntry | None:
    """Record a call's progress or keypress once and apply it: a key answers like an SMS reply; a call that
    ended unanswered moves the escalation on. A replayed event (same call, status and key) returns None."""
    key = f"{provider}|{event.provider_id}|{event.status}|{event.digits or ''}"[:200]
    if session.scalar(select(CallEventEntry.id).where(CallEventEntry.dedupe_key == key)) is not None:
        return None
    entry = CallEventEntry(
        received_dt=now,
        provider=provider,
        provider_id=event.provider_id[:64],
        dedupe_key=key,
        status=event.status[:16],
        digits=(event.digits or None) and event.digits[:8],
        answer=event.answer,
        error_code=(event.error_code or None) and event.error_code[:64],
        duration_s=event.duration_s,
    )
    try:
        with session.begin_nested():
            session.add(entry)
            session.flush()
    except IntegrityError:
        return None
    row = _call_row(session, event, ref)
    if row is None:
        entry.outcome = "unknown_call"
        return entry
    entry.outbox_id = row.id
    if row.provider_id is None:
        row.provider_id = event.provider_id[:64]
    if event.answer is not None:
        entry.outcome = escalation.answer_by_call(session, row, event.answer, now=now, settings=settings)
        if row.assignment is not None:
            # the key is the call's answer: the timeline says which key and when
            add_event(
                session,
                row.assignment,
                "call_answered",
                f"{row.recipient_name}电话按键{event.digits}({KIND_NAMES[event.answer]})",
                now=now,
                actor=f"voice:{row.to_phone}",
                detail={"outbox_id": row.id, "channel": "voice", "digits": event.digits, "answer": event.answer},
            )
        return entry
    if event.status in FINAL_CALL_STATUSES and str(row.status) not in OUTBOX_FINAL:
        reached = event.status == "completed"
        row.status = "delivered" if reached else "undelivered"
        row.status_dt = now
        row.error_code = None if reached else (event.error_code or event.status)[:64]
        if reached:
            row.delivered_dt = now
        if row.assignment is not None:
            text = (
                f"{row.recipient_name}已接听电话"
                if reached
                else f"呼叫{row.recipient_name}未接通({CALL_STATUS_NAMES.get(event.status, event.status)})"
            )
            add_event(
                session,
                row.assignment,
                "call_completed" if reached else "call_unanswered",
                text,
                now=now,
                detail={"outbox_id": row.id, "channel": "voice", "status": event.status, "duration_s": event.duration_s},
            )
        if not reached:
            escalation.on_call_failed(session, row, now=now, settings=settings)
        return entry
    entry.outcome = "ignored"
    return entry


CALL_STATUS_NAMES = {"busy": "占线", "no-answer": "无人接听", "failed": "呼叫失败", "canceled": "已取消", "completed": "已接听"}


def review(
    session: Session,
    record: InboundMessage,
    *,
    actor: str,
    now: datetime,
    assignment: Assignment | None = None,
    status: str | None = None,
    note: str = "",
    settings: AlertSettings | None = None,
) -> None:
    """The dispatcher settles a flagged reply: optionally links it to an assignment and sets that one's status."""
    record.needs_review = False
    record.reviewed_by = actor
    record.reviewed_dt = now
    if assignment is not None:
        _attach(record, assignment)
        escalation.correct(
            session, assignment, status, note or f"按短信回复更正: {record.body}", actor=actor, now=now, settings=settings
        )


def settle(
    session: Session,
    message_id: int,
    data: dict,
    *,
    actor: str,
    now: datetime,
    settings: AlertSettings | None = None,
    pending_only: bool = False,
) -> InboundMessage:
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
        raise ValidationError({"status": "设置状态需要先选择指派"})
    review(
        session,
        record,
        actor=actor,
        now=now,
        assignment=assignment,
        status=obj.status.value if obj.status is not None else None,
        note=obj.note,
        settings=settings,
    )
    return record


def list_inbound(
    session: Session, *, needs_review: bool = False, limit: int = 50, offset: int = 0
) -> tuple[list[InboundMessage], int]:
    """Received SMS, newest first (only those awaiting the dispatcher with `needs_review`), and how many in all."""
    where = [InboundMessage.needs_review.is_(True)] if needs_review else []
    total = session.scalar(select(func.count()).select_from(InboundMessage).where(*where)) or 0
    rows = session.scalars(
        select(InboundMessage).where(*where).order_by(InboundMessage.id.desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), total


def flagged(session: Session, *, limit: int) -> list[InboundMessage]:
    """The replies awaiting the dispatcher, newest first."""
    return list(
        session.scalars(
            select(InboundMessage).where(InboundMessage.needs_review.is_(True)).order_by(InboundMessage.id.desc()).limit(limit)
        )
    )


def open_for_review(session: Session) -> list[tuple[Assignment, str, bool]]:
    """The assignments a flagged reply may be linked to (still open or unanswered), newest first, with their
    incident's number and drill flag."""
    rows = session.execute(
        select(Assignment, Incident.number, Incident.drill)
        .join(Incident, Incident.id == Assignment.incident_id)
        .where(Assignment.status.in_((*OPEN_ASSIGNMENT_STATUSES, "no_answer")))
        .order_by(Assignment.id.desc())
    ).all()
    return [tuple(r) for r in rows]


def answer_notice(session: Session, record: InboundMessage) -> ReplyAck | ReplyUnclear | None:
    """What answers a reply (a ReplyAck or ReplyUnclear notice), or None: unknown numbers and codes, duplicates and
    flagged mismatches get no answer (the dispatcher sees them)."""
    incident = session.get(Incident, record.incident_id) if record.incident_id else None
    if record.outcome == "unclear":
        assignment = session.get(Assignment, record.assignment_id) if record.assignment_id else None
        code = record.code or (assignment.reply_code if assignment else None)
        return ReplyUnclear(code) if code else None
    if incident is None:
        return None
    if record.outcome in ("applied", "ignored"):
        return ReplyAck(KIND_NAMES.get(record.kind, "回复"), incident.number)
    if record.outcome == "opt_out":
        return ReplyAck("退订", incident.number)
    return None


def answer_text(session: Session, record: InboundMessage, *, signature: str) -> str | None:
    """The SMS answering a reply, rendered from its template, or None."""
    notice = answer_notice(session, record)
    return render_message(notice, signature=signature).text if notice is not None else None


def queue_answer(session: Session, record: InboundMessage, *, settings: AlertSettings, now: datetime) -> None:
    """Queue the answer to a reply as an SMS of its own (providers whose webhook answer cannot carry one)."""
    notice = answer_notice(session, record)
    if notice is None or not record.from_phone:
        return
    queue.enqueue_notice(
        session,
        notice,
        signature=settings.signature,
        to_phone=record.from_phone,
        purpose="reply",
        now=now,
        incident_id=record.incident_id,
        contact_id=record.contact_id,
    )


def serialize_inbound(r: InboundMessage) -> dict:
    """A received SMS as InboundOut."""
    return {
        "direction": "in",
        "id": r.id,
        "from": r.from_phone,
        "text": r.body,
        "received_at": r.received_dt.isoformat(),
        "kind": r.kind,
        "code": r.code,
        "eta_min": r.eta_min,
        "outcome": r.outcome,
        "assignment_id": r.assignment_id,
        "incident_id": r.incident_id,
        "needs_review": r.needs_review,
        "reviewed_by": r.reviewed_by,
    }
