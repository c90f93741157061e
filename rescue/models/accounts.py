"""Accounts, API tokens, the audit log and small persistent state."""

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rescue.db import Base, UTCDateTime, utcnow
from rescue.models.enums import Role, enum_type
from rescue.models.registry import Enterprise


class User(Base):
    """A person who signs in: command center, regulator or an enterprise's admin."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role <> 'enterprise_admin' OR enterprise_id IS NOT NULL", name="admin_has_enterprise"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    enterprise: Mapped[Enterprise | None] = relationship()


class ApiToken(Base):
    """A bearer token or a signed-in page session, stored only as its SHA-256 hash; revoked on sign-out,
    deactivation and password change."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # "api": a bearer token; "session": the id a page session's cookie carries
    purpose: Mapped[str] = mapped_column(String(10), default="api", server_default="api")
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_dt: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship()


class LoginThrottle(Base):
    """Failed sign-ins of one user or one address (key "user:NAME" / "addr:IP"), shared by every worker."""

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_dt: Mapped[datetime] = mapped_column(UTCDateTime)  # the first failure of the current window
    locked_until_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """Who changed what, and when: one row per create, update, delete, import or confirmation."""

    __tablename__ = "audit_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    at_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    username: Mapped[str] = mapped_column(String(64), default="system")
    action: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(32), index=True)
    record_id: Mapped[int | None]
    enterprise_id: Mapped[int | None] = mapped_column(index=True)
    changes: Mapped[dict] = mapped_column(JSON, default=dict)


class AppState(Base):
    """Small named facts about this database (e.g. when it was seeded)."""

    __tablename__ = "app_state"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
