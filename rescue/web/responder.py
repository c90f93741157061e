"""The responder page: an unguessable, expiring link in the SMS → instruction, route, command center's phone and
the buttons 接受 / 拒绝 / 出发 / 到达 that follow the assignment's state."""

import hashlib
import hmac
from datetime import UTC, datetime

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for

from rescue.cards import cards
from rescue.db import utcnow
from rescue.dispatch import assignments, escalation, timeline
from rescue.errors import ValidationError
from rescue.models import Assignment, ResponderToken
from rescue.models.enums import ASSIGNMENT_STATUS_NAMES, INCIDENT_LEVEL_NAMES, AssignmentStatus
from rescue.roads.network import route_between
from rescue.web.api.roads import roads_geojson_response
from rescue.web.extensions import get_alert_settings, get_roads, get_session

bp = Blueprint("responder", __name__, url_prefix="/r")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LINK_ACTOR = "responder-link"
S = AssignmentStatus
# the buttons each state offers: (answer, label, css class)
BUTTONS = {
    S.notified: (("accept", "接受", "accept"), ("decline", "拒绝", "decline")),
    S.accepted: (("depart", "出发", "accept"), ("decline", "不能前往", "decline")),
    S.en_route: (("arrive", "到达现场", "accept"),),
}
# what a departure or an arrival moves the assignment to, from which states
MOVES = {
    "depart": (S.en_route, (S.accepted,), "通过链接报告出发"),
    "arrive": (S.on_scene, (S.accepted, S.en_route), "通过链接报告到达"),
}
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}


def _form_key(token_hash: str) -> str:
    """The page's anti-forgery value: only this server can derive it from the link."""
    return hmac.new(current_app.secret_key.encode(), f"responder:{token_hash}".encode(), hashlib.sha256).hexdigest()


def _load(token: str) -> tuple[ResponderToken, Assignment] | tuple[None, None]:
    """The link and its assignment; (None, None) for a link that has expired; 404 for one that never existed."""
    session = get_session()
    record = assignments.responder_link(session, token, now=utcnow())
    if record is None:
        if assignments.responder_link(session, token, now=EPOCH) is None:  # any expiry: did it ever exist?
            abort(404)
        return None, None
    return record, record.assignment


def _expired() -> tuple[str, int, dict]:
    return render_template("responder/expired.html", phone=current_app.config.get("COMMAND_PHONE") or ""), 410, HEADERS


def _route(assignment: Assignment) -> dict | None:
    """The road route from the resource to the incident (None when either is off the road network)."""
    session = get_session()
    resource = assignments.load_resource(session, assignment.resource_kind.value, assignment.resource_id)
    lat, lon = getattr(resource, "lat", None), getattr(resource, "lon", None)
    if lat is None or lon is None:
        return None
    incident = assignment.incident
    try:
        found = route_between(session, get_roads(), (lat, lon), (incident.lat, incident.lon), now=utcnow())
    except ValidationError:
        return {"from": [lat, lon], "to": [incident.lat, incident.lon], "route": None}
    return {
        "from": [lat, lon],
        "to": [incident.lat, incident.lon],
        "route": found["route"],
        "via": found["via"],
        "travel_s": found["travel_s"],
        "distance_m": found["distance_m"],
    }


def _page(
    record: ResponderToken, assignment: Assignment, *, message: str | None = None, status: int = 200
) -> tuple[str, int, dict]:
    session = get_session()
    incident = assignment.incident
    facts = assignments.candidate_facts(
        assignment.dispatch, assignment.need_id, assignment.resource_kind.value, assignment.resource_id
    )
    card = cards.card_for(
        session,
        incident_type=incident.type_code,
        enterprise_id=assignments.resource_enterprise_id(session, assignment.resource_kind.value, assignment.resource_id),
    )
    route = _route(assignment)
    body = render_template(
        "responder/assignment.html",
        incident=incident,
        assignment=assignment,
        via=facts.get("via", "") or (route or {}).get("via", ""),
        level=INCIDENT_LEVEL_NAMES.get(incident.level.value, ""),
        status_name=ASSIGNMENT_STATUS_NAMES.get(assignment.status.value),
        form_key=_form_key(record.token_hash),
        buttons=BUTTONS.get(assignment.status, ()),
        message=message,
        signature=get_alert_settings().signature,
        expires_at=record.expires_dt,
        channels=timeline.assignment_channels(session, assignment),
        command_phone=current_app.config.get("COMMAND_PHONE") or "",
        map_config={
            "route": route,
            "incident": [incident.lat, incident.lon],
            "roadsUrl": url_for("responder.get_roads_geojson", token=request.view_args["token"]),
            "tileUrl": current_app.config.get("MAP_TILE_URL", ""),
            "tileAttribution": current_app.config.get("MAP_TILE_ATTRIBUTION", ""),
        },
        card=card,
        card_short=cards.short_form(cards.current(card).content) if card else "",
        card_url=cards.live_url(current_app.config["PUBLIC_URL"], current_app.config["SECRET_KEY"], card.id) if card else None,
    )
    # the link is the credential: keep it out of caches and Referer headers
    return body, status, HEADERS


@bp.get("/<token>")
def show_assignment(token: str) -> tuple[str, int, dict]:
    record, assignment = _load(token)
    if record is None:
        return _expired()
    return _page(record, assignment)


@bp.get("/<token>/roads.geojson")
def get_roads_geojson(token: str) -> Response:
    """The road network drawn under the route: the same public data the console's map shows, to holders of a
    link that is still valid (nothing about the incident or other responders)."""
    record, _assignment = _load(token)
    if record is None:
        abort(410)
    return roads_geojson_response()


@bp.post("/<token>")
def answer_assignment(token: str) -> tuple[str, int, dict]:
    record, assignment = _load(token)
    if record is None:
        return _expired()
    if not hmac.compare_digest(request.form.get("form_key", ""), _form_key(record.token_hash)):
        abort(403)
    session, now = get_session(), utcnow()
    answer = request.form.get("answer")
    if answer in MOVES:
        target, allowed, note = MOVES[answer]
        if assignment.status not in allowed:
            return _page(
                record,
                assignment,
                message=f"当前状态为「{ASSIGNMENT_STATUS_NAMES.get(assignment.status.value)}」, 未更改。",
                status=409,
            )
        assignments.set_status(session, assignment, target, now=now, message=note, actor=LINK_ACTOR)
        record.used_dt = now
    elif not escalation.answer_by_link(session, record, answer, now=now, settings=get_alert_settings()):
        abort(400)
    session.commit()
    return _page(record, assignment, message="已记录, 谢谢。指挥中心已看到您的回复。")
