"""Alerting: the SMS outbox, inbound replies, opt-outs, on-call rosters, escalation chains, responder links."""

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rescue.db import Base, UTCDateTime, utcnow
from rescue.models.enums import enum_type
from rescue.models.incidents import Assignment
from rescue.models.registry import ContactPerson


class OutboxStatus(enum.StrEnum):
    """queued → sending → sent → delivered | undelivered | failed (cancelled: never sent)."""

    queued = "queued"
    sending = "sending"
    sent = "sent"
    delivered = "delivered"
    undelivered = "undelivered"
    failed = "failed"
    cancelled = "cancelled"


OUTBOX_STATUS_NAMES = {
    "queued": "待发送",
    "sending": "发送中",
    "sent": "已发出",
    "delivered": "已送达",
    "undelivered": "未送达",
    "failed": "发送失败",
    "cancelled": "已取消",
}
# statuses after which the outbox never touches the row again
OUTBOX_FINAL = ("delivered", "undelivered", "failed", "cancelled")


CHANNEL_NAMES = {"sms": "短信", "voice": "语音"}


class OutboxMessage(Base):
    """One SMS or voice call to make: written in the same transaction as the decision that needs it, sent after
    commit. `template` and `params` are the message kind and its values (contacts.templating): template-only
    providers send those, the others `body`, which is the same template rendered."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_nonneg"),
        # the sender's claim query: due queued rows, oldest first
        Index("ix_outbox_messages_due", "status", "next_attempt_dt"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact_people.id", ondelete="SET NULL"))
    # sms | voice (a call reading `body`)
    channel: Mapped[str] = mapped_column(String(8), default="sms", server_default="sms")
    template: Mapped[str | None] = mapped_column(String(32))
    params: Mapped[dict | None] = mapped_column(JSON)
    # dispatch | escalation | reminder | notice | reply | voice
    purpose: Mapped[str] = mapped_column(String(20), default="dispatch")
    # position in the team's escalation chain this message paged (0: first)
    chain_step: Mapped[int] = mapped_column(Integer, default=0)
    to_phone: Mapped[str] = mapped_column(String(20), index=True)
    recipient_name: Mapped[str] = mapped_column(String(100), default="")
    body: Mapped[str] = mapped_column(Text)
    reply_code: Mapped[str | None] = mapped_column(String(8))
    segments: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[OutboxStatus] = mapped_column(enum_type(OutboxStatus), default=OutboxStatus.queued)
    provider: Mapped[str] = mapped_column(String(20), default="")
    provider_id: Mapped[str | None] = mapped_column(String(64), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # set when a provider call starts; a row left "sending" past its lease is resolved by lookup
    first_claimed_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the provider may hold the message although we never heard so: look it up before sending again
    needs_lookup: Mapped[bool] = mapped_column(Boolean, default=False)
    # the last call's answer never arrived (crash, time-out, dropped connection), unlike an error answer
    answer_lost: Mapped[bool] = mapped_column(Boolean, default=False)
    # resends made without the provider confirming the earlier call (at most one)
    unconfirmed_resends: Mapped[int] = mapped_column(Integer, default=0)
    possibly_duplicated: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str] = mapped_column(Text, default="")
    error_code: Mapped[str | None] = mapped_column(String(64))  # Aliyun codes: isv.MOBILE_NUMBER_ILLEGAL
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)

    assignment: Mapped[Assignment | None] = relationship()
    contact: Mapped[ContactPerson | None] = relationship()


class DeliveryReceiptEntry(Base):
    """A delivery receipt as received; applied to its outbox row once that row knows its provider id.

    `dedupe_key` (provider, id, recipient, status) makes a replayed push a no-op."""

    __tablename__ = "delivery_receipts"
    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20), default="", server_default="")
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    # the outbox id the provider echoed (Aliyun out_id) and the recipient (one batch id covers many)
    reference: Mapped[str | None] = mapped_column(String(64))
    to_phone: Mapped[str | None] = mapped_column(String(32))
    received_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    provider_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(64))  # Aliyun codes: isv.MOBILE_NUMBER_ILLEGAL
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True)
    applied: Mapped[bool] = mapped_column(Boolean, default=False, index=True)


class InboundMessage(Base):
    """An SMS received, as it came, with how it was read and what it changed; one row per provider message id."""

    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("provider", "provider_id", name="uq_inbound_messages_provider_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    received_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    from_phone: Mapped[str] = mapped_column(String(32), index=True)
    to_phone: Mapped[str] = mapped_column(String(32), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    provider: Mapped[str] = mapped_column(String(20), default="")
    provider_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # accept | decline | arrived | eta | stop | unclear
    kind: Mapped[str] = mapped_column(String(16))
    code: Mapped[str | None] = mapped_column(String(8))
    eta_min: Mapped[int | None] = mapped_column(Integer)
    # applied | unknown_number | unknown_code | no_open_assignment | ambiguous | unclear | opt_out | ignored
    outcome: Mapped[str] = mapped_column(String(24))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id", ondelete="SET NULL"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact_people.id", ondelete="SET NULL"))
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CallEventEntry(Base):
    """A voice call's progress or keypress as the provider reported it; `dedupe_key` makes a replay a no-op."""

    __tablename__ = "call_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    received_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    provider: Mapped[str] = mapped_column(String(20), default="")
    provider_id: Mapped[str] = mapped_column(String(64), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    digits: Mapped[str | None] = mapped_column(String(8))
    answer: Mapped[str | None] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(64))  # Aliyun codes: isv.MOBILE_NUMBER_ILLEGAL
    duration_s: Mapped[int | None] = mapped_column(Integer)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True)
    # applied | unknown_call | stale | ignored
    outcome: Mapped[str] = mapped_column(String(16), default="applied")


class SmsOptOut(Base):
    """A number that replied STOP/退订; kept for the dispatcher to follow up (emergency pages still go out)."""

    __tablename__ = "sms_opt_outs"
    phone: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id", ondelete="SET NULL"))


class RosterShift(Base):
    """Who of a team is on duty from `starts_dt` until `ends_dt` (the on-call roster)."""

    __tablename__ = "roster_shifts"
    __table_args__ = (CheckConstraint("ends_dt > starts_dt", name="ends_after_start"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact_people.id", ondelete="CASCADE"), index=True)
    # the team's enterprise, kept here so enterprises maintain their own rosters like their other records
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    starts_dt: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_dt: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(String(200), default="")

    contact: Mapped[ContactPerson] = relationship()


class EscalationChainEntry(Base):
    """One step of a team's own escalation chain; without entries the chain is duty → commander → deputy."""

    __tablename__ = "escalation_chain_entries"
    __table_args__ = (
        UniqueConstraint("team_id", "position", name="uq_escalation_chain_entries_team_position"),
        CheckConstraint("position >= 0", name="position_nonneg"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact_people.id", ondelete="CASCADE"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)

    contact: Mapped[ContactPerson] = relationship()


class ResponderToken(Base):
    """The secret of a responder link (stored hashed), valid for one assignment until it expires."""

    __tablename__ = "responder_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_dt: Mapped[datetime] = mapped_column(UTCDateTime)
    used_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)

    assignment: Mapped[Assignment] = relationship()
