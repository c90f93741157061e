"""Phone numbers, SMS wording and sending, and the reply grammar; no Flask, no ORM."""

from contacts.errors import (
    ContactsError,
    GatewayConfigError,
    InvalidPhoneError,
    InvalidSignatureError,
    PermanentSendError,
    SendError,
    TransientSendError,
)
from contacts.gateway import (
    DeliveryReceipt,
    InboundSms,
    OutgoingSms,
    SendResult,
    SmsGateway,
    available_backends,
    create_gateway,
    register_backend,
)
from contacts.messages import (
    DEFAULT_SIGNATURE,
    ComposedSms,
    DispatchNotice,
    DrillReminder,
    EscalationNotice,
    compose_dispatch,
    compose_escalation,
    compose_reminder,
    validate_signature,
)
from contacts.phones import is_mobile, normalize_phone
from contacts.replies import Reply, ReplyKind, make_reply_code, parse_reply
from contacts.segments import SegmentInfo, count_segments

__all__ = [
    "DEFAULT_SIGNATURE",
    "ComposedSms",
    "ContactsError",
    "DeliveryReceipt",
    "DispatchNotice",
    "DrillReminder",
    "EscalationNotice",
    "GatewayConfigError",
    "InboundSms",
    "InvalidPhoneError",
    "InvalidSignatureError",
    "OutgoingSms",
    "PermanentSendError",
    "Reply",
    "ReplyKind",
    "SegmentInfo",
    "SendError",
    "SendResult",
    "SmsGateway",
    "TransientSendError",
    "available_backends",
    "compose_dispatch",
    "compose_escalation",
    "compose_reminder",
    "count_segments",
    "create_gateway",
    "is_mobile",
    "make_reply_code",
    "normalize_phone",
    "parse_reply",
    "register_backend",
    "validate_signature",
]
