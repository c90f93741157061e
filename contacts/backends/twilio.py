"""Twilio backend: the only module that imports `twilio`."""

import threading
from collections.abc import Mapping
from datetime import datetime, timedelta

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from contacts.errors import GatewayConfigError, PermanentSendError, TransientSendError
from contacts.gateway import DeliveryReceipt, InboundSms, OutgoingSms, SendResult, check_config
from contacts.voice import CallEvent, CallResult, OutgoingCall, answer_for
from contacts.webhooks import FormWebhooks, WebhookBatch, WebhookReply, WebhookRequest, parse_inbound_form, parse_status_form

TWILIO_API = "https://api.twilio.com"
DEFAULT_TIMEOUT_S = 10.0
# Clock skew between us and Twilio tolerated by `lookup`.
LOOKUP_SKEW = timedelta(minutes=5)
LOOKUP_MAX_MESSAGES = 200

_PERMANENT_MESSAGES = {
    21211: "号码无效",
    21610: "对方已退订",
    21614: "不是手机号码",
    21408: "未开通该地区发送权限",
}


def verify_signature(url: str, params: Mapping[str, str], signature: str | None, auth_token: str) -> bool:
    """True if `signature` (X-Twilio-Signature) signs `url` + form `params` with `auth_token`.

    `url` must be the public URL Twilio called (RESCUE_PUBLIC_URL + path + query), not the
    one a proxy forwarded to us.
    """
    if not signature:
        return False
    # Pass the form as is: RequestValidator reads repeated keys from a MultiDict itself.
    return RequestValidator(auth_token).validate(url, params, signature)


class RebasingHttpClient(TwilioHttpClient):
    """Sends requests meant for api.twilio.com to `base_url` (a local fake) and remembers
    the last response per thread, because `TwilioRestException` drops its headers
    (Retry-After)."""

    def __init__(self, *, base_url: str | None = None, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/") if base_url else None
        self._local = threading.local()

    def request(self, method: str, url: str, *args: object, **kwargs: object) -> object:
        if self.base_url and url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API) :]
        self._local.response = None
        response = super().request(method, url, *args, **kwargs)
        self._local.response = response
        return response

    def last_headers(self) -> dict[str, str]:
        response = getattr(self._local, "response", None)
        return dict(response.headers or {}) if response is not None else {}


def _retry_after(headers):
    value = {k.lower(): v for k, v in headers.items()}.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date; callers fall back to their own back-off


class TwilioGateway(FormWebhooks):
    """Sends through Twilio's Messages API with `from_` or a `messaging_service_sid`."""

    name = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_: str | None = None,
        messaging_service_sid: str | None = None,
        base_url: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        status_callback: str | None = None,
    ) -> None:
        self.from_ = from_
        self.messaging_service_sid = messaging_service_sid
        self.status_callback = status_callback
        self._auth_token = auth_token
        self.http_client = RebasingHttpClient(base_url=base_url, timeout=timeout_s)
        self.client = Client(account_sid, auth_token, http_client=self.http_client)

    def _sender(self):
        if self.messaging_service_sid:
            return {"messaging_service_sid": self.messaging_service_sid}
        return {"from_": self.from_}

    def _translate(self, exc):
        """Map a twilio/requests exception to TransientSendError or PermanentSendError."""
        # Legacy and RFC-9457 error bodies give different classes with the same status/code.
        if isinstance(exc, (TwilioRestException, TwilioServiceException)):
            status, code = exc.status, exc.code
            if status == 429:
                return TransientSendError(
                    f"Twilio rate limit ({code})", retry_after=_retry_after(self.http_client.last_headers())
                )
            if status >= 500:
                return TransientSendError(f"Twilio {status} ({code})", maybe_sent=True)
            if status in (401, 403):
                # Credentials are account-wide: every message would fail the same way, so keep
                # them queued (and visible) until an operator fixes the configuration.
                return TransientSendError(f"Twilio rejected our credentials ({status}, {code})")
            detail = getattr(exc, "msg", None) or getattr(exc, "detail", None) or getattr(exc, "title", "")
            return PermanentSendError(code or status, _PERMANENT_MESSAGES.get(code) or str(detail))
        if isinstance(exc, requests.ConnectTimeout):
            return TransientSendError(f"Twilio unreachable: {exc}")
        if isinstance(exc, requests.RequestException):
            # A read time-out or a dropped connection: Twilio may have taken the message.
            return TransientSendError(f"Twilio request failed: {exc}", maybe_sent=True)
        return TransientSendError(f"Twilio client error: {exc}", maybe_sent=True)

    def send(self, sms: OutgoingSms) -> SendResult:
        try:
            message = self.client.messages.create(
                to=sms.to,
                body=sms.body,
                status_callback=sms.status_callback or self.status_callback,
                **self._sender(),
            )
        except (TwilioException, requests.RequestException) as exc:
            raise self._translate(exc) from exc
        return SendResult(message.sid, message.status)

    def lookup(self, sms: OutgoingSms, *, since: datetime, provider_id: str | None = None) -> SendResult | None:
        """Find `sms` among the messages Twilio took since `since`.

        Twilio stores no client reference, so with no `provider_id` this lists messages to
        `sms.to`, newest first, and matches the body (each body carries its own reply code,
        so bodies are unique; Twilio may add a sender tag, hence "contains"). Date filters
        are not used: a message still queued has no date_sent yet.
        """
        try:
            if provider_id:
                try:
                    message = self.client.messages(provider_id).fetch()
                except TwilioRestException as exc:
                    if exc.status == 404:
                        return None
                    raise
                return SendResult(message.sid, message.status)
            oldest = since - LOOKUP_SKEW
            for message in self.client.messages.stream(to=sms.to, page_size=50, limit=LOOKUP_MAX_MESSAGES):
                if message.date_created and message.date_created < oldest:
                    break
                if message.direction.startswith("outbound") and sms.body in (message.body or ""):
                    return SendResult(message.sid, message.status)
        except (TwilioException, requests.RequestException) as exc:
            raise self._translate(exc) from exc
        return None

    def close(self) -> None:
        """Release pooled connections."""
        if self.http_client.session is not None:
            self.http_client.session.close()

    def verify_webhook(self, url: str, params: Mapping[str, str], headers: Mapping[str, str]) -> bool:
        signature = {k.lower(): v for k, v in headers.items()}.get("x-twilio-signature")
        return verify_signature(url, params, signature, self._auth_token)

    def parse_inbound(self, params: Mapping[str, str], *, now: datetime | None = None) -> InboundSms:
        return parse_inbound_form(params, now=now)

    def parse_status(self, params: Mapping[str, str]) -> DeliveryReceipt:
        return parse_status_form(params)


# -- voice -----------------------------------------------------------------------------------------

# Twilio CallStatus → CALL_STATUSES ("initiated" is still on its way).
_CALL_STATUS = {
    "queued": "queued",
    "initiated": "queued",
    "ringing": "ringing",
    "in-progress": "in-progress",
    "answered": "in-progress",
    "completed": "completed",
    "busy": "busy",
    "no-answer": "no-answer",
    "failed": "failed",
    "canceled": "failed",
}
CALL_EVENTS = ("initiated", "ringing", "answered", "completed")
NO_KEY_TEXT = "未收到按键，请按调派短信回复。"


def call_twiml(script: str, *, gather_action: str | None, repeat: int = 2) -> str:
    """TwiML reading `script` in Chinese; with `gather_action`, one key is taken (1 接受 / 2 拒绝)."""
    response = VoiceResponse()
    if gather_action:
        gather = response.gather(num_digits=1, action=gather_action, method="POST", timeout=8)
        gather.say(script, language="zh-CN", loop=repeat)
        response.say(NO_KEY_TEXT, language="zh-CN")
    else:
        response.say(script, language="zh-CN", loop=repeat)
    return str(response)


class TwilioVoiceGateway(TwilioGateway):
    """Calls through Twilio's Calls API with inline TwiML (<Say language="zh-CN">, <Gather numDigits=1>)."""

    supports_keypress = True
    enabled = True

    def __init__(self, *, gather_callback: str | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.gather_callback = gather_callback

    def call(self, call: OutgoingCall) -> CallResult:
        status_callback = call.status_callback or self.status_callback
        extra = (
            {"status_callback": status_callback, "status_callback_event": list(CALL_EVENTS), "status_callback_method": "POST"}
            if status_callback
            else {}
        )
        try:
            created = self.client.calls.create(
                to=call.to,
                from_=self.from_,
                twiml=call_twiml(call.script, gather_action=call.gather_callback or self.gather_callback),
                **extra,
            )
        except (TwilioException, requests.RequestException) as exc:
            raise self._translate(exc) from exc
        return CallResult(created.sid, _CALL_STATUS.get(created.status, created.status))

    def read_call_events(self, request: WebhookRequest) -> WebhookBatch:
        """A status callback or a <Gather> callback (with Digits) as one `CallEvent`."""
        form = request.form
        if not form.get("CallSid"):
            return WebhookBatch((), ((0, "CallSid missing"),))
        raw = (form.get("CallStatus") or "").lower()
        digits = form.get("Digits") or None
        try:
            duration = int(form["CallDuration"]) if form.get("CallDuration") else None
        except ValueError:
            duration = None
        return WebhookBatch(
            (
                CallEvent(
                    form["CallSid"],
                    _CALL_STATUS.get(raw, raw or "in-progress"),
                    digits=digits,
                    answer=answer_for(digits),
                    duration_s=duration,
                    error_code=form.get("ErrorCode") or None,
                    to=form.get("To") or None,
                ),
            )
        )

    def webhook_reply(self, kind: str, message: str | None = None) -> WebhookReply:
        """A gather answers TwiML reading `message` back; a status callback answers 204."""
        if kind == "gather":
            response = VoiceResponse()
            if message:
                response.say(message, language="zh-CN")
            response.hangup()
            return WebhookReply(200, str(response), "application/xml")
        return WebhookReply(204, "", "text/plain")


def create_voice(config: dict) -> TwilioVoiceGateway:
    """A TwilioVoiceGateway from account_sid, auth_token, from (a voice-capable number), optionally
    base_url, timeout_s, status_callback and gather_callback (public URLs of the call webhooks)."""
    check_config(
        "twilio",
        config,
        required=("account_sid", "auth_token", "from"),
        optional=("base_url", "timeout_s", "status_callback", "gather_callback"),
        what="voice backend",
    )
    sms_config = {k: v for k, v in config.items() if k != "gather_callback"}
    base = create(sms_config)
    base.close()
    return TwilioVoiceGateway(
        account_sid=config["account_sid"],
        auth_token=config["auth_token"],
        from_=config["from"],
        base_url=config.get("base_url") or None,
        timeout_s=base.http_client.timeout,
        status_callback=config.get("status_callback") or None,
        gather_callback=config.get("gather_callback") or None,
    )


def create(config: dict) -> TwilioGateway:
    """Create a TwilioGateway from account_sid, auth_token, from (or messaging_service_sid)
    and optionally base_url, timeout_s and status_callback."""
    check_config(
        "twilio",
        config,
        required=("account_sid", "auth_token"),
        optional=("from", "messaging_service_sid", "base_url", "timeout_s", "status_callback"),
    )
    if not (config.get("from") or config.get("messaging_service_sid")):
        msg = "SMS backend 'twilio': set 'from' (a Twilio number) or 'messaging_service_sid'"
        raise GatewayConfigError(msg)
    if not config["account_sid"].startswith("AC"):
        msg = "SMS backend 'twilio': account_sid must start with 'AC'"
        raise GatewayConfigError(msg)
    try:
        timeout_s = float(config.get("timeout_s") or DEFAULT_TIMEOUT_S)
    except (TypeError, ValueError):
        timeout_s = 0
    if timeout_s <= 0:
        msg = f"SMS backend 'twilio': timeout_s must be a positive number, not {config['timeout_s']!r}"
        raise GatewayConfigError(msg)
    return TwilioGateway(
        account_sid=config["account_sid"],
        auth_token=config["auth_token"],
        from_=config.get("from") or None,
        messaging_service_sid=config.get("messaging_service_sid") or None,
        base_url=config.get("base_url") or None,
        timeout_s=timeout_s,
        status_callback=config.get("status_callback") or None,
    )
