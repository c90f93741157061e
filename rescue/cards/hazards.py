"""The response cards of the posts at a major hazard source, for an incident placed there (within
readiness.hazards.NEAR_M): the source's enterprise's active cards that cover the incident's type."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from rescue.cards.cards import current, short_form
from rescue.models import Incident, ResponseCard
from rescue.readiness import hazards


def cards_at_hazard(session: Session, incident: Incident) -> list[dict]:
    """[{id, title, post, short}] of the cards at the hazard source the incident is at; [] when at none."""
    source = hazards.nearest(session, incident.lat, incident.lon)
    if source is None:
        return []
    rows = session.scalars(
        select(ResponseCard)
        .where(ResponseCard.enterprise_id == source.enterprise_id, ResponseCard.active.is_(True))
        .order_by(ResponseCard.id)
    ).all()
    out = []
    for card in rows:
        content = current(card).content
        if incident.type_code in (content.get("incident_types") or []):
            out.append(
                {
                    "id": card.id,
                    "title": f"应急处置卡 {card.post}" + (f" ({card.area})" if card.area else ""),
                    "post": card.post,
                    "short": short_form(content),
                    "hazard_source_id": source.id,
                }
            )
    return out
