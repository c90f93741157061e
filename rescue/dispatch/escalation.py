"""Escalation: silence walks a team's chain, then (like a decline or a failed delivery) the stored ranking.

Timers are `Assignment.deadline_dt` rows, so they survive restarts; `escalate_due` is the idempotent job.
"""

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rescue.db import begin_write
from rescue.dispatch import assignments
from rescue.dispatch.assignments import add_event, set_status
from rescue.dispatch.schemas import CorrectionIn
from rescue.messaging.gateway import AlertSettings
from rescue.models import Assignment, Dispatch, Incident, IncidentNeed, OutboxMessage, ResponderToken
from rescue.models.enums import OPEN_ASSIGNMENT_STATUSES, AssignmentStatus
from rescue.validation import parse

log = logging.getLogger(__name__)

ACCEPTED = (AssignmentStatus.accepted, AssignmentStatus.en_route, AssignmentStatus.on_scene, AssignmentStatus.released)


def _paged_steps(session: Session, assignment: Assignment) -> int:
    """The highest chain step paged so far for `assignment` (-1: none)."""
    value = session.scalar(
        select(func.max(OutboxMessage.chain_step)).where(
            OutboxMessage.assignment_id == assignment.id, OutboxMessage.purpose != "notice"
        )
    )
    return -1 if value is None else value


def _task(session: Session, assignment: Assignment, resource) -> str:
    context = assignments.dispatch_context(assignment.dispatch)
    need = session.get(IncidentNeed, assignment.need_id) if assignment.need_id else None
    return context.get("task") or assignments.task_text(
        session, need, assignment.resource_kind.value, resource, assignment.quantity
    )


def call_instead(session: Session, assignment: Assignment, *, now: datetime, settings=None, reason: str) -> bool:
    """The voice step: call the person whose SMS went unanswered (or undelivered) before the chain moves on.

    From chain position `settings.voice_step` on (or at the chain's last person when it is shorter), each person
    is called once; the call's answer is waited for `settings.voice_timeout_s`. False when no call is due."""
    settings = settings or AlertSettings()
    if not settings.voice_enabled or settings.voice_step is None:
        return False
    last = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.assignment_id == assignment.id, OutboxMessage.channel == "sms", OutboxMessage.purpose != "notice")
        .order_by(OutboxMessage.chain_step.desc(), OutboxMessage.id.desc())
        .limit(1)
    ).first()
    if last is None:
        return False
    called = session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.assignment_id == assignment.id,
            OutboxMessage.channel == "voice",
            OutboxMessage.chain_step == last.chain_step,
        )
    )
    if called:
        return False
    resource = assignments.load_resource(session, assignment.resource_kind.value, assignment.resource_id)
    if resource is None:
        return False
    if last.chain_step < settings.voice_step:
        chain = assignments.resource_chain(session, assignment.resource_kind.value, resource, now=now)
        if any(r.step > last.chain_step for r in chain):
            return False  # the voice step comes later in this chain
    recipient = assignments.Recipient(last.chain_step, last.recipient_name, last.to_phone, "", last.contact_id)
    incident = session.get(Incident, assignment.incident_id)
    row = assignments.call(
        session, assignment, recipient, incident=incident, task=_task(session, assignment, resource), settings=settings, now=now
    )
    assignment.deadline_dt = now + timedelta(seconds=settings.voice_timeout_s)
    session.flush()
    add_event(
        session,
        assignment,
        "call_queued",
        f"{reason}, 电话呼叫{last.recipient_name}",
        now=now,
        detail={"outbox_id": row.id, "to": last.to_phone, "step": last.chain_step, "channel": "voice"},
    )
    return True


def next_in_chain(session: Session, assignment: Assignment, *, now: datetime, settings=None, reason: str) -> bool:
    """Page the next person of the resource's chain; False when the chain is exhausted."""
    settings = settings or AlertSettings()
    resource = assignments.load_resource(session, assignment.resource_kind.value, assignment.resource_id)
    if resource is None:
        return False
    chain = assignments.resource_chain(session, assignment.resource_kind.value, resource, now=now)
    done = _paged_steps(session, assignment)
    following = [r for r in chain if r.step > done]
    if not following:
        return False
    recipient = following[0]
    dispatch = assignment.dispatch
    incident = session.get(Incident, assignment.incident_id)
    context = assignments.dispatch_context(dispatch)
    task = _task(session, assignment, resource)
    facts = assignments.candidate_facts(dispatch, assignment.need_id, assignment.resource_kind.value, assignment.resource_id)
    assignments.page(
        session,
        assignment,
        recipient,
        incident=incident,
        task=task,
        via=facts.get("via", ""),
        muster_point=context.get("muster_point", ""),
        settings=settings,
        now=now,
        purpose="escalation",
    )
    assignment.deadline_dt = now + timedelta(seconds=dispatch.wave_timeout_s)
    role = assignments.ROLE_NAMES.get(recipient.role, recipient.role)
    add_event(
        session,
        assignment,
        "chain_escalated",
        f"{reason}, 转呼{role}{recipient.name}",
        now=now,
        detail={"step": recipient.step, "to": recipient.phone, "role": recipient.role},
    )
    return True


def _tried(session: Session, dispatch: Dispatch) -> set[tuple[str, int]]:
    rows = session.execute(
        select(Assignment.resource_kind, Assignment.resource_id).where(
            (Assignment.dispatch_id == dispatch.id)
            | ((Assignment.incident_id == dispatch.incident_id) & Assignment.status.in_(OPEN_ASSIGNMENT_STATUSES))
        )
    ).all()
    return {(k.value, i) for k, i in rows}


def next_candidate(session: Session, assignment: Assignment) -> tuple[int, dict] | None:
    """The best-ranked capable resource of the same need not yet tried in this dispatch nor busy in the incident."""
    dispatch = assignment.dispatch
    tried = _tried(session, dispatch)
    for need in (dispatch.ranking or {}).get("needs", []):
        if assignment.need_id is not None and need.get("need_id") not in (None, assignment.need_id):
            continue
        for rank, cand in enumerate(need.get("candidates", []), start=1):
            key = (cand.get("kind"), cand.get("id"))
            if key in tried or assignments.load_resource(session, *key) is None:
                continue
            if assignment.need_id is None and not _same_kind(assignment, cand):
                continue
            return rank, cand
    return None


def _same_kind(assignment: Assignment, cand: dict) -> bool:
    return cand.get("kind") == assignment.resource_kind.value


def accepted_count(session: Session, dispatch: Dispatch) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Assignment)
            .where(Assignment.dispatch_id == dispatch.id, Assignment.status.in_(ACCEPTED))
        )
        or 0
    )


def replace(session: Session, assignment: Assignment, *, now: datetime, settings=None, reason: str) -> Assignment | None:
    """Page the next-ranked capable resource in place of `assignment` (declined, failed or silent)."""
    settings = settings or AlertSettings()
    dispatch = assignment.dispatch
    current = assignment
    while True:
        if accepted_count(session, dispatch) >= dispatch.acks_needed:
            add_event(session, current, "escalation_not_needed", "确认数已满足, 不再改派", now=now)
            return None
        if current.wave >= dispatch.max_waves:
            add_event(
                session,
                current,
                "escalation_exhausted",
                f"已达最大轮次({dispatch.max_waves}), 请人工调度",
                now=now,
                detail={"reason": reason, "needs_dispatcher": True},
            )
            return None
        found = next_candidate(session, current)
        if found is None:
            add_event(
                session,
                current,
                "escalation_exhausted",
                "排名中无可改派的资源, 请人工调度",
                now=now,
                detail={"reason": reason, "needs_dispatcher": True},
            )
            return None
        rank, cand = found
        resource = assignments.load_resource(session, cand["kind"], cand["id"])
        incident = session.get(Incident, current.incident_id)
        new = assignments.start_assignment(
            session,
            dispatch,
            incident,
            kind=cand["kind"],
            resource=resource,
            need_id=current.need_id,
            quantity=current.quantity,
            rank=rank,
            eta_s=cand.get("eta_s"),
            via=cand.get("via") or "",
            wave=current.wave + 1,
            taken_codes=assignments.open_reply_codes(session),
            settings=settings,
            now=now,
            escalated_from=current,
        )
        add_event(session, current, "replaced", f"{reason}, 改派{resource.name}", now=now, detail={"next_assignment_id": new.id})
        if new.status != AssignmentStatus.failed:
            return new
        current = new


def on_decline(
    session: Session, assignment: Assignment, *, now: datetime, settings=None, actor: str = "system", detail: dict | None = None
) -> None:
    """A decline moves on to the next-ranked resource at once."""
    set_status(
        session,
        assignment,
        AssignmentStatus.declined,
        now=now,
        message=f"{assignment.resource_name}拒绝",
        actor=actor,
        detail=detail,
    )
    replace(session, assignment, now=now, settings=settings, reason=f"{assignment.resource_name}拒绝")


def on_delivery_failed(session: Session, row: OutboxMessage, *, now: datetime, settings=None) -> None:
    """A page that cannot be delivered moves on at once: next in the chain, then the next-ranked resource."""
    assignment = row.assignment
    if assignment is None or assignment.status != AssignmentStatus.notified:
        return
    pending = session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.assignment_id == assignment.id,
            OutboxMessage.id != row.id,
            OutboxMessage.status.in_(("queued", "sending", "sent", "delivered")),
        )
    )
    if pending:
        return  # someone else of the chain has (or will get) the page; their timer runs
    reason = f"发往{row.recipient_name}的短信失败({row.error_code or row.last_error or row.status})"
    if call_instead(session, assignment, now=now, settings=settings, reason=reason):
        return
    if next_in_chain(session, assignment, now=now, settings=settings, reason=reason):
        return
    set_status(session, assignment, AssignmentStatus.failed, now=now, message=reason)
    replace(session, assignment, now=now, settings=settings, reason=reason)


def on_call_failed(session: Session, row: OutboxMessage, *, now: datetime, settings=None) -> None:
    """A call that could not be placed or was not answered (busy, no answer): the chain moves on at once."""
    assignment = row.assignment
    if assignment is None or assignment.status != AssignmentStatus.notified:
        return
    later = session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.assignment_id == assignment.id, OutboxMessage.chain_step > row.chain_step)
    )
    if later:
        return  # the chain has already moved past this person
    reason = f"呼叫{row.recipient_name}未接通({row.error_code or row.last_error or row.status})"
    if next_in_chain(session, assignment, now=now, settings=settings, reason=reason):
        return
    set_status(session, assignment, AssignmentStatus.no_answer, now=now, message=reason)
    replace(session, assignment, now=now, settings=settings, reason=reason)


def answer_by_call(session: Session, row: OutboxMessage, answer: str, *, now: datetime, settings=None) -> str:
    """A keypress during a call (1 接受, 2 拒绝), applied like an SMS reply; returns what was recorded."""
    assignment = row.assignment
    actor = f"voice:{row.to_phone}"
    detail = {"outbox_id": row.id, "from": row.to_phone, "channel": "voice", "kind": answer}
    if assignment is None:
        return "ignored"
    if answer == "accept" and assignment.status in (AssignmentStatus.notified, AssignmentStatus.no_answer):
        set_status(session, assignment, AssignmentStatus.accepted, now=now, message="电话按键: 接受", actor=actor, detail=detail)
        return "accept"
    if answer == "decline" and assignment.status in (AssignmentStatus.notified, AssignmentStatus.accepted):
        on_decline(session, assignment, now=now, settings=settings, actor=actor, detail=detail)
        return "decline"
    add_event(
        session,
        assignment,
        "reply",
        f"电话按键{'接受' if answer == 'accept' else '拒绝'} (当前状态{assignment.status.value}, 未改变)",
        now=now,
        actor=actor,
        detail=detail,
    )
    return "ignored"


def on_silence(session: Session, assignment: Assignment, *, now: datetime, settings=None) -> None:
    """The wave timeout passed without an answer: a call (the voice step), next in the chain, then the
    next-ranked resource."""
    if call_instead(session, assignment, now=now, settings=settings, reason="短信超时未应答"):
        return
    if next_in_chain(session, assignment, now=now, settings=settings, reason="超时未应答"):
        return
    set_status(session, assignment, AssignmentStatus.no_answer, now=now, message=f"{assignment.resource_name}超时未应答")
    replace(session, assignment, now=now, settings=settings, reason=f"{assignment.resource_name}超时未应答")


def escalate_due(session_factory, gateway=None, *, now: datetime, settings=None, limit: int = 200) -> int:
    """The job: act on every assignment whose timer has run out; each in its own transaction. Returns how many."""
    done = 0
    with session_factory() as session:
        ids = session.scalars(
            select(Assignment.id)
            .where(
                Assignment.status == AssignmentStatus.notified, Assignment.deadline_dt.is_not(None), Assignment.deadline_dt <= now
            )
            .order_by(Assignment.deadline_dt, Assignment.id)
            .limit(limit)
        ).all()
    for assignment_id in ids:
        with session_factory() as session:
            begin_write(session)  # SQLite: a webhook may write meanwhile; a read-then-write transaction would fail
            stmt = select(Assignment).where(
                Assignment.id == assignment_id, Assignment.status == AssignmentStatus.notified, Assignment.deadline_dt <= now
            )
            if session.get_bind().dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            assignment = session.scalars(stmt).first()
            if assignment is None:
                continue  # answered meanwhile, or another worker has it
            on_silence(session, assignment, now=now, settings=settings)
            session.commit()
            done += 1
    return done


CORRECTABLE = {s.value for s in AssignmentStatus}


def correct(
    session: Session,
    assignment: Assignment,
    status: str | None,
    note: str,
    *,
    actor: str,
    now: datetime,
    settings=None,
    escalate: bool = True,
) -> None:
    """A dispatcher sets or corrects an assignment's status; a correction to declined/failed/no_answer escalates."""
    if status is None:
        add_event(session, assignment, "note", note, now=now, actor=actor)
        return
    new = AssignmentStatus(status)
    if new == assignment.status:
        add_event(session, assignment, "note", note or "状态未变", now=now, actor=actor)
        return
    if new == AssignmentStatus.notified:
        # re-open: restart the timer (the reply code must still be free)
        taken = assignments.open_reply_codes(session)
        if assignment.reply_code in taken:
            assignment.reply_code = assignments.new_reply_code(taken)
        set_status(session, assignment, new, now=now, message=note or "调度员重新置为已通知", actor=actor, kind="correction")
        assignment.deadline_dt = now + timedelta(seconds=assignment.dispatch.wave_timeout_s)
        return
    set_status(session, assignment, new, now=now, message=note or f"调度员更正为{new.value}", actor=actor, kind="correction")
    if escalate and new in (AssignmentStatus.declined, AssignmentStatus.failed, AssignmentStatus.no_answer):
        replace(session, assignment, now=now, settings=settings, reason=f"调度员更正为{new.value}")


def correct_assignment(
    session: Session, assignment_id: int, data: dict, *, actor: str, now: datetime, settings: AlertSettings | None = None
) -> Assignment:
    """A dispatcher's correction as the API takes it (CorrectionIn): a status, a note, or both."""
    assignment = assignments.get_assignment(session, assignment_id)
    obj = parse(CorrectionIn, data)
    correct(
        session,
        assignment,
        obj.status.value if obj.status is not None else None,
        obj.note,
        actor=actor,
        now=now,
        settings=settings,
        escalate=obj.escalate,
    )
    return assignment


LINK_ACTOR = "responder-link"


def answer_by_link(
    session: Session, link: ResponderToken, answer: str | None, *, now: datetime, settings: AlertSettings | None = None
) -> bool:
    """A responder accepts or declines on the page of their SMS link; False for an answer that is neither.
    An answer the assignment's status no longer allows is recorded as a visit only."""
    if answer not in ("accept", "decline"):
        return False
    assignment = link.assignment
    if answer == "accept" and assignment.status == AssignmentStatus.notified:
        set_status(session, assignment, AssignmentStatus.accepted, now=now, message="通过链接接受", actor=LINK_ACTOR)
    elif answer == "decline" and assignment.status in (AssignmentStatus.notified, AssignmentStatus.accepted):
        on_decline(session, assignment, now=now, settings=settings, actor=LINK_ACTOR)
    link.used_dt = now
    return True
