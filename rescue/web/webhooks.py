"""Provider webhooks: inbound SMS (answered with TwiML) and delivery receipts, both signature-checked."""

from xml.sax.saxutils import escape

from flask import Blueprint, Response, abort, current_app, request

from contacts import SmsGateway
from contacts.webhooks import WebhookFormError
from rescue import drills
from rescue.db import utcnow
from rescue.dispatch import replies
from rescue.web.extensions import get_alert_settings, get_gateway, get_session

bp = Blueprint("webhooks", __name__, url_prefix="/sms")


def _parsed(backend: str, parse: str) -> tuple[SmsGateway, object]:
    """The gateway and the parsed form of a genuine provider call; 403 before anything is read or
    written when the signature fails, 404 for another backend's path, 400 for a malformed form."""
    gateway = get_gateway()
    url = current_app.config["PUBLIC_URL"].rstrip("/") + request.path
    if request.query_string:
        url += "?" + request.query_string.decode()
    if not gateway.verify_webhook(url, request.form, request.headers):
        abort(403)
    if backend != gateway.name:
        abort(404)
    try:
        return gateway, getattr(gateway, parse)(request.form)
    except WebhookFormError:
        abort(400)


def _twiml(message: str | None) -> Response:
    body = f"<Message>{escape(message)}</Message>" if message else ""
    return Response(f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>', mimetype="application/xml")


@bp.post("/<backend>/inbound")
def receive_inbound(backend: str) -> Response:
    gateway, sms = _parsed(backend, "parse_inbound")
    session = get_session()
    record = replies.handle_inbound(session, sms, provider=gateway.name, now=utcnow(), settings=get_alert_settings(),
                                    unmatched=drills.apply_rsvp)
    session.commit()
    return _twiml(replies.answer_text(session, record, signature=get_alert_settings().signature))


@bp.post("/<backend>/status")
def receive_status(backend: str) -> tuple[str, int]:
    _, receipt = _parsed(backend, "parse_status")
    session = get_session()
    replies.handle_receipt(session, receipt, now=utcnow(), settings=get_alert_settings())
    session.commit()
    return "", 204
