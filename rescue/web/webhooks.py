"""Provider webhooks for SMS: replies and delivery reports, each item applied once.

Every backend reads its own webhooks (contacts.webhooks): Twilio-shaped forms are signed, Aliyun's JSON arrays
carry `?token=`; the gateway verifies either before anything is read or written (403). The console and fake
backends reach no phone: their endpoints exist only in demo mode.
"""

import json
import logging

from flask import Blueprint, Response, abort, current_app, request

from contacts import SmsGateway
from contacts.voice import VoiceGateway
from contacts.webhooks import WebhookBatch, WebhookFormError, WebhookReply, WebhookRequest
from rescue import drills
from rescue.db import begin_write, utcnow
from rescue.dispatch import replies
from rescue.web.extensions import get_alert_settings, get_gateway, get_session

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__, url_prefix="/sms")

DEMO_ONLY = ("console", "fake")


def public_url() -> str:
    """The URL the provider called (PUBLIC_URL + path + query): what signatures and tokens are checked over."""
    url = current_app.config["PUBLIC_URL"].rstrip("/") + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("utf-8", "replace")
    return url


def webhook_request() -> WebhookRequest:
    return WebhookRequest(
        url=public_url(), headers=dict(request.headers), form=request.form.to_dict(), body=request.get_data(cache=True)
    )


def check_backend(backend: str, gateway: SmsGateway | VoiceGateway) -> None:
    """404 for another backend's path and for the demo backends outside demo mode; 403 for a forged call."""
    if backend != gateway.name or (backend in DEMO_ONLY and not current_app.config["DEMO"]):
        abort(404)
    if not gateway.verify_webhook(public_url(), request.form, request.headers):
        log.warning(
            "webhook %s refused: signature or token does not match (PUBLIC_URL=%s)",
            request.path,
            current_app.config["PUBLIC_URL"],
        )
        abort(403)


def as_response(reply: WebhookReply) -> Response:
    return Response(reply.body, status=reply.status, content_type=reply.content_type)


def _raw(item: object) -> str:
    return json.dumps(item, ensure_ascii=False)[:2000] if not isinstance(item, str) else item


def read_batch(gateway: SmsGateway, kind: str) -> WebhookBatch:
    """The backend's batch of items, or a 400 (with the provider's answer shape) for a body it cannot read."""
    reader = gateway.read_inbound if kind == "inbound" else gateway.read_status
    try:
        return reader(webhook_request())
    except WebhookFormError as exc:
        log.warning("webhook %s: unreadable body (%s)", request.path, exc)
        reply = gateway.webhook_reply(kind)
        abort(Response(reply.body if reply.status == 200 else "", status=400, content_type=reply.content_type))


def _problem_items(batch) -> list:
    """The raw pushed items that could not be read, for the record (JSON pushes only)."""
    try:
        data = json.loads(request.get_data(cache=True) or b"null")
    except ValueError:
        data = None
    return [(data[i] if isinstance(data, list) and 0 <= i < len(data) else None, reason) for i, reason in batch.problems]


@bp.post("/<backend>/inbound")
def receive_inbound(backend: str) -> Response:
    gateway = get_gateway()
    check_backend(backend, gateway)
    batch = read_batch(gateway, "inbound")
    session = get_session()
    settings = get_alert_settings()
    now = utcnow()
    begin_write(session)
    answer = None
    for raw, reason in _problem_items(batch):
        replies.flag_unreadable(session, provider=gateway.name, raw=_raw(raw), reason=reason, now=now)
    for sms in batch.items:
        if replies.find_inbound(session, gateway.name, sms.provider_id) is not None:
            continue  # a replayed push or webhook: stored and applied once
        record = replies.handle_inbound(
            session, sms, provider=gateway.name, now=now, settings=settings, unmatched=drills.apply_rsvp
        )
        if gateway.replies_inline:
            answer = replies.answer_text(session, record, signature=settings.signature)
        else:
            replies.queue_answer(session, record, settings=settings, now=now)
    session.commit()
    return as_response(gateway.webhook_reply("inbound", answer))


@bp.post("/<backend>/status")
def receive_status(backend: str) -> Response:
    gateway = get_gateway()
    check_backend(backend, gateway)
    batch = read_batch(gateway, "status")
    session = get_session()
    now = utcnow()
    begin_write(session)
    for raw, reason in _problem_items(batch):
        log.warning("delivery report not read (%s): %s", reason, _raw(raw))
    for receipt in batch.items:
        replies.handle_receipt(session, receipt, now=now, settings=get_alert_settings(), provider=gateway.name)
    session.commit()
    return as_response(gateway.webhook_reply("status"))
