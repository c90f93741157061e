"""What a caller may see of an incident's response: its dispatches, timeline events and SMS (in and out).

Enterprise admins see only the assignments of their own enterprise's resources; everyone else sees all.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from rescue.dispatch import assignments
from rescue.dispatch.dispatches import ACK_CHANNEL_NAMES, acknowledgements, serialize_dispatch, serialize_message
from rescue.dispatch.incidents import get_incident
from rescue.dispatch.replies import serialize_inbound
from rescue.models import Assignment, AssignmentEvent, Dispatch, InboundMessage, OutboxMessage, Role, User
from rescue.models.alerts import CHANNEL_NAMES, OUTBOX_STATUS_NAMES


def _own_only(actor: User) -> bool:
    return actor.role == Role.enterprise_admin


def visible_assignments(session: Session, incident_id: int, actor: User) -> dict[int, Assignment]:
    """The incident's assignments `actor` may see, by id (404 for an unknown incident)."""
    get_incident(session, incident_id)
    rows = session.scalars(select(Assignment).where(Assignment.incident_id == incident_id).order_by(Assignment.id)).all()
    if _own_only(actor):
        rows = [
            a
            for a in rows
            if assignments.resource_enterprise_id(session, a.resource_kind.value, a.resource_id) == actor.enterprise_id
        ]
    return {a.id: a for a in rows}


def incident_dispatches(session: Session, incident_id: int, actor: User) -> list[dict]:
    """The incident's dispatches (DispatchOut), each with only the assignments `actor` may see."""
    visible = visible_assignments(session, incident_id, actor)
    items = []
    for dispatch in session.scalars(select(Dispatch).where(Dispatch.incident_id == incident_id).order_by(Dispatch.id)):
        body = serialize_dispatch(session, dispatch)
        body["assignments"] = [a for a in body["assignments"] if a["id"] in visible]
        if body["assignments"] or not _own_only(actor):
            items.append(body)
    return items


def incident_timeline(session: Session, incident_id: int, actor: User) -> list[dict]:
    """The incident's events (EventOut) in time order."""
    visible = visible_assignments(session, incident_id, actor)
    events = session.scalars(
        select(AssignmentEvent)
        .where(AssignmentEvent.incident_id == incident_id)
        .order_by(AssignmentEvent.at_dt, AssignmentEvent.id)
    ).all()
    if _own_only(actor):
        events = [e for e in events if e.assignment_id in visible]
    return [
        {
            "id": e.id,
            "at": e.at_dt.isoformat(),
            "kind": e.kind,
            "assignment_id": e.assignment_id,
            "resource": visible[e.assignment_id].resource_name if e.assignment_id in visible else None,
            "from_status": e.from_status,
            "to_status": e.to_status,
            "message": e.message,
            "actor": e.actor,
            "detail": e.detail,
        }
        for e in events
    ]


def incident_messages(session: Session, incident_id: int, actor: User) -> list[dict]:
    """The incident's SMS: those sent (MessageOut, direction "out") then the replies received (InboundOut)."""
    visible = visible_assignments(session, incident_id, actor)
    sent = session.scalars(select(OutboxMessage).where(OutboxMessage.incident_id == incident_id).order_by(OutboxMessage.id))
    items = [{"direction": "out", **serialize_message(r)} for r in sent if not _own_only(actor) or r.assignment_id in visible]
    received = session.scalars(
        select(InboundMessage).where(InboundMessage.incident_id == incident_id).order_by(InboundMessage.id)
    )
    items += [serialize_inbound(r) for r in received if not _own_only(actor) or r.assignment_id in visible]
    return items


def assignment_channels(session: Session, assignment: Assignment) -> dict:
    """Which channel reached whom for one assignment (短信/语音, delivery state) and how it was acknowledged
    (channel and seconds), for the responder page."""
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.assignment_id == assignment.id).order_by(OutboxMessage.id)
    ).all()
    ack = acknowledgements(session, [assignment.id]).get(assignment.id)
    return {
        "messages": [
            {
                "channel": CHANNEL_NAMES.get(r.channel, r.channel),
                "recipient": r.recipient_name,
                "state": OUTBOX_STATUS_NAMES.get(str(r.status), str(r.status)),
            }
            for r in rows
        ],
        "ack": {"channel": ACK_CHANNEL_NAMES[ack["channel"]], "seconds": ack["ack_s"]} if ack else None,
    }
