"""Provider webhooks: the request and reply types every backend uses, and Twilio-shaped forms.

A backend reads its own webhooks. The web layer hands it a `WebhookRequest` (public URL with
the query, headers, form, raw body), gets a `WebhookBatch` of items to apply (one for form
webhooks, many for providers that push JSON arrays), and answers with the backend's
`WebhookReply` (TwiML for Twilio, `{"code": 0, "msg": "成功"}` for Aliyun).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from contacts.errors import ContactsError
from contacts.gateway import DeliveryReceipt, InboundSms

# Twilio's MessageStatus values → DELIVERY_STATUSES.
_STATUS_MAP = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
}


class WebhookFormError(ContactsError, ValueError):
    """A webhook form lacking the fields every provider sends."""


@dataclass(frozen=True)
class WebhookRequest:
    """What a backend needs of a webhook call: `url` is the public URL called, query included."""

    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class WebhookBatch:
    """Items of one webhook call, each to apply once (dedupe on `provider_id`), and the items
    that could not be read (index and reason), which a person should look at."""

    items: Sequence = ()
    problems: Sequence[tuple[int, str]] = ()


@dataclass(frozen=True)
class WebhookReply:
    """The HTTP answer the provider expects."""

    status: int
    body: str
    content_type: str


def twiml_reply(message: str | None = None) -> WebhookReply:
    """A TwiML answer, with a reply SMS when `message` is given."""
    inner = f"<Message>{escape(message)}</Message>" if message else ""
    return WebhookReply(200, f'<?xml version="1.0" encoding="UTF-8"?><Response>{inner}</Response>', "application/xml")


class FormWebhooks:
    """Webhook reading for backends whose provider posts one Twilio-shaped form per event."""

    # Whether the inbound webhook's answer can carry a reply SMS (TwiML <Message>).
    replies_inline = True

    def read_inbound(self, request: WebhookRequest) -> WebhookBatch:
        return WebhookBatch((self.parse_inbound(request.form),))

    def read_status(self, request: WebhookRequest) -> WebhookBatch:
        return WebhookBatch((self.parse_status(request.form),))

    def webhook_reply(self, kind: str, message: str | None = None) -> WebhookReply:
        """The answer to an "inbound" or "status" webhook (`message`: a reply SMS, inbound only)."""
        if kind == "status":
            return WebhookReply(204, "", "text/plain")
        return twiml_reply(message)

    def parse_inbound(self, params: Mapping[str, str]) -> InboundSms:
        return parse_inbound_form(params)

    def parse_status(self, params: Mapping[str, str]) -> DeliveryReceipt:
        return parse_status_form(params)


def _require(params: Mapping[str, str], *names: str) -> None:
    missing = [name for name in names if not params.get(name)]
    if missing:
        msg = f"webhook form lacks {', '.join(missing)}"
        raise WebhookFormError(msg)


def parse_inbound_form(params: Mapping[str, str], *, now: datetime | None = None) -> InboundSms:
    """Read an inbound-SMS form (From, To, Body, MessageSid) into an `InboundSms`."""
    _require(params, "From")
    return InboundSms(
        from_=params["From"],
        to=params.get("To", ""),
        body=params.get("Body", ""),
        provider_id=params.get("MessageSid") or params.get("SmsSid") or None,
        received_at=now or datetime.now(UTC),
    )


def parse_status_form(params: Mapping[str, str]) -> DeliveryReceipt:
    """Read a status-callback form (MessageSid, MessageStatus, ErrorCode) into a receipt."""
    _require(params, "MessageSid", "MessageStatus")
    raw = params["MessageStatus"].lower()
    return DeliveryReceipt(
        provider_id=params["MessageSid"],
        status=_STATUS_MAP.get(raw, raw),
        error_code=params.get("ErrorCode") or None,
    )
