"""The optional responder page: an unguessable, expiring link in the SMS → instructions, route, accept/decline."""

import hashlib
import hmac

from flask import Blueprint, abort, current_app, render_template, request

from rescue.cards import cards
from rescue.db import utcnow
from rescue.dispatch import assignments, escalation, timeline
from rescue.models import Assignment, ResponderToken
from rescue.models.enums import ASSIGNMENT_STATUS_NAMES, INCIDENT_LEVEL_NAMES, AssignmentStatus
from rescue.web.extensions import get_alert_settings, get_session

bp = Blueprint("responder", __name__, url_prefix="/r")


def _form_key(token_hash: str) -> str:
    """The page's anti-forgery value: only this server can derive it from the link."""
    return hmac.new(current_app.secret_key.encode(), f"responder:{token_hash}".encode(), hashlib.sha256).hexdigest()


def _load(token: str) -> tuple[ResponderToken, Assignment]:
    record = assignments.responder_link(get_session(), token, now=utcnow())
    if record is None:
        abort(404)
    return record, record.assignment


def _page(record: ResponderToken, assignment: Assignment, *, message: str | None = None,
          status: int = 200) -> tuple[str, int, dict]:
    session = get_session()
    incident = assignment.incident
    facts = assignments.candidate_facts(assignment.dispatch, assignment.need_id, assignment.resource_kind.value,
                                       assignment.resource_id)
    card = cards.card_for(session, incident_type=incident.type_code, enterprise_id=assignments.resource_enterprise_id(
        session, assignment.resource_kind.value, assignment.resource_id))
    body = render_template(
        "responder/assignment.html", incident=incident, assignment=assignment, via=facts.get("via", ""),
        level=INCIDENT_LEVEL_NAMES.get(incident.level.value, ""), status_name=ASSIGNMENT_STATUS_NAMES.get(assignment.status.value),
        form_key=_form_key(record.token_hash), can_answer=assignment.status in (AssignmentStatus.notified, AssignmentStatus.accepted),
        message=message, signature=get_alert_settings().signature, channels=timeline.assignment_channels(session, assignment),
        card=card, card_short=cards.short_form(cards.current(card).content) if card else "",
        card_url=cards.live_url(current_app.config["PUBLIC_URL"], current_app.config["SECRET_KEY"], card.id) if card else None,
    )
    # the link is the credential: keep it out of caches and Referer headers
    return body, status, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}


@bp.get("/<token>")
def show_assignment(token: str) -> tuple[str, int, dict]:
    record, assignment = _load(token)
    return _page(record, assignment)


@bp.post("/<token>")
def answer_assignment(token: str) -> tuple[str, int, dict]:
    record, assignment = _load(token)
    if not hmac.compare_digest(request.form.get("form_key", ""), _form_key(record.token_hash)):
        abort(403)
    session = get_session()
    if not escalation.answer_by_link(session, record, request.form.get("answer"), now=utcnow(),
                                     settings=get_alert_settings()):
        abort(400)
    session.commit()
    return _page(record, assignment, message="已记录, 谢谢。")
