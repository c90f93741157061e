"""Response statistics of real incidents; drills are counted apart and never mixed in."""

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rescue.models import Assignment, Incident


def response_statistics(session: Session, *, since: datetime | None = None, drills: bool = False) -> dict:
    """Incidents, assignments and mean times to acknowledge / reach the scene, in seconds; real incidents
    only unless `drills` (then drills only)."""
    inc = select(func.count(Incident.id)).where(Incident.drill.is_(drills))
    asg = select(Assignment.created_dt, Assignment.acknowledged_dt, Assignment.on_scene_dt).join(
        Incident, Incident.id == Assignment.incident_id).where(Incident.drill.is_(drills))
    if since is not None:
        inc = inc.where(Incident.created_dt >= since)
        asg = asg.where(Incident.created_dt >= since)
    rows = session.execute(asg).all()
    acks = [(a - c).total_seconds() for c, a, _ in rows if a]
    scene = [(s - c).total_seconds() for c, _, s in rows if s]
    return {"incidents": session.scalar(inc) or 0, "assignments": len(rows),
            "mean_ack_s": round(sum(acks) / len(acks), 1) if acks else None,
            "mean_on_scene_s": round(sum(scene) / len(scene), 1) if scene else None}
