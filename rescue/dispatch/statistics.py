"""Response statistics of real incidents; drills are counted apart and never mixed in."""

from datetime import datetime
from statistics import median

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rescue.dispatch.dispatches import acknowledgements
from rescue.models import Assignment, Incident, OutboxMessage

# an outbox row in these statuses reached (or may have reached) its recipient: a call "delivered" was answered
_REACHED = ("sent", "delivered")


def by_channel(session: Session, assignment_ids: list[int]) -> dict:
    """Per channel (sms, voice): assignments reached through it, how many were acknowledged through it, the
    acknowledgement rate and the median seconds from the channel's first message to the acknowledgement."""
    reached: dict[str, set[int]] = {"sms": set(), "voice": set()}
    for aid, channel in session.execute(
        select(OutboxMessage.assignment_id, OutboxMessage.channel)
        .where(OutboxMessage.assignment_id.in_(assignment_ids), OutboxMessage.status.in_(_REACHED))
        .distinct()
    ):
        reached.setdefault(channel, set()).add(aid)
    acks = acknowledgements(session, assignment_ids)
    out = {}
    for channel, ids in reached.items():
        times = [a["ack_s"] for aid, a in acks.items() if a["channel"] == channel and a["ack_s"] is not None]
        acked = sum(1 for aid, a in acks.items() if a["channel"] == channel)
        out[channel] = {
            "reached": len(ids),
            "acknowledged": acked,
            "ack_rate": round(acked / len(ids), 3) if ids else None,
            "median_ack_s": round(median(times), 1) if times else None,
        }
    return out


def response_statistics(session: Session, *, since: datetime | None = None, drills: bool = False) -> dict:
    """Incidents, assignments and mean times to acknowledge / reach the scene, in seconds, and acknowledgement
    by channel (`by_channel`); real incidents only unless `drills` (then drills only)."""
    inc = select(func.count(Incident.id)).where(Incident.drill.is_(drills))
    asg = (
        select(Assignment.id, Assignment.created_dt, Assignment.acknowledged_dt, Assignment.on_scene_dt)
        .join(Incident, Incident.id == Assignment.incident_id)
        .where(Incident.drill.is_(drills))
    )
    if since is not None:
        inc = inc.where(Incident.created_dt >= since)
        asg = asg.where(Incident.created_dt >= since)
    rows = session.execute(asg).all()
    acks = [(a - c).total_seconds() for _, c, a, _ in rows if a]
    scene = [(s - c).total_seconds() for _, c, _, s in rows if s]
    return {
        "incidents": session.scalar(inc) or 0,
        "assignments": len(rows),
        "mean_ack_s": round(sum(acks) / len(acks), 1) if acks else None,
        "mean_on_scene_s": round(sum(scene) / len(scene), 1) if scene else None,
        "by_channel": by_channel(session, [r[0] for r in rows]),
    }
