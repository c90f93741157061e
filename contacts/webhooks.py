"""Reading Twilio-shaped webhook forms, the shape every built-in backend accepts."""

from datetime import UTC, datetime

from contacts.errors import ContactsError
from contacts.gateway import DeliveryReceipt, InboundSms

# Twilio's MessageStatus values → DELIVERY_STATUSES.
_STATUS_MAP = {
    "accepted": "queued", "scheduled": "queued", "queued": "queued",
    "sending": "sent", "sent": "sent",
    "delivered": "delivered", "read": "delivered",
    "undelivered": "undelivered",
    "failed": "failed", "canceled": "failed",
}


class WebhookFormError(ContactsError, ValueError):
    """A webhook form lacking the fields every provider sends."""


def _require(params, *names):
    missing = [name for name in names if not params.get(name)]
    if missing:
        msg = f"webhook form lacks {', '.join(missing)}"
        raise WebhookFormError(msg)


def parse_inbound_form(params, *, now=None):
    """Read an inbound-SMS form (From, To, Body, MessageSid) into an `InboundSms`."""
    _require(params, "From")
    return InboundSms(
        from_=params["From"],
        to=params.get("To", ""),
        body=params.get("Body", ""),
        provider_id=params.get("MessageSid") or params.get("SmsSid") or None,
        received_at=now or datetime.now(UTC),
    )


def parse_status_form(params):
    """Read a status-callback form (MessageSid, MessageStatus, ErrorCode) into a receipt."""
    _require(params, "MessageSid", "MessageStatus")
    raw = params["MessageStatus"].lower()
    return DeliveryReceipt(
        provider_id=params["MessageSid"],
        status=_STATUS_MAP.get(raw, raw),
        error_code=params.get("ErrorCode") or None,
    )
