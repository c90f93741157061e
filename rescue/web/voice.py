"""Voice-call webhooks: call progress and keypresses (Twilio, signed) and pushed call reports (Aliyun, ?token=).

/voice/twilio/status and /voice/twilio/gather are verified with Twilio's RequestValidator over PUBLIC_URL + path
+ query; /voice/aliyun/report carries the callback token. Each event is applied once.
"""

import logging

from flask import Blueprint, Response, abort, request

from contacts.webhooks import WebhookFormError
from rescue.db import begin_write, utcnow
from rescue.dispatch import replies
from rescue.web.extensions import get_alert_settings, get_session, get_voice_gateway
from rescue.web.webhooks import as_response, check_backend, webhook_request

log = logging.getLogger(__name__)
bp = Blueprint("voice_webhooks", __name__, url_prefix="/voice")

KINDS = ("status", "gather", "report")
ANSWER_TEXT = {"accept": "已记录：接受。请尽快出发。", "decline": "已记录：拒绝。", "ignored": "已记录。"}


@bp.post("/<backend>/<kind>")
def receive_call_event(backend: str, kind: str) -> Response:
    voice = get_voice_gateway()
    if kind not in KINDS:
        abort(404)
    check_backend(backend, voice)
    try:
        batch = voice.read_call_events(webhook_request())
    except WebhookFormError as exc:
        log.warning("call webhook %s: unreadable body (%s)", request.path, exc)
        abort(400)
    session = get_session()
    now = utcnow()
    begin_write(session)
    for index, reason in batch.problems:
        log.warning("call report item %s not read: %s", index, reason)
    ref = request.args.get("ref")
    said = None
    for event in batch.items:
        entry = replies.handle_call_event(session, event, provider=voice.name, now=now, ref=ref, settings=get_alert_settings())
        if entry is not None and event.answer is not None:
            said = ANSWER_TEXT.get(entry.outcome, ANSWER_TEXT["ignored"])
    session.commit()
    if kind == "gather":
        return as_response(voice.webhook_reply("gather", said or "未识别按键，请按调派短信回复。"))
    return as_response(voice.webhook_reply(kind))
