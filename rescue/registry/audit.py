"""Recording every change to the registry in the audit log."""

from datetime import date, datetime
from enum import Enum

from sqlalchemy.orm import Session

from rescue.models import AuditEntry, User


def plain(value):
    """A JSON-safe form of a column value for the audit log."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def record(
    session: Session, actor: User | None, action: str, kind: str, record_id, enterprise_id, changes: dict, *, now=None
) -> None:
    """Add one audit row; the caller's transaction commits it with the change itself."""
    entry = AuditEntry(
        user_id=actor.id if actor else None,
        username=actor.username if actor else "system",
        action=action,
        kind=kind,
        record_id=record_id if isinstance(record_id, int) else None,
        enterprise_id=enterprise_id,
        changes={k: [plain(a), plain(b)] for k, (a, b) in changes.items()}
        | ({"key": record_id} if not isinstance(record_id, int) and record_id is not None else {}),
    )
    if now is not None:
        entry.at_dt = now
    session.add(entry)


def list_entries(
    session: Session,
    *,
    kind: str | None = None,
    username: str | None = None,
    enterprise_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AuditEntry], int]:
    """Audit rows, newest first, optionally of one kind, user or enterprise; and how many match in all (read-only)."""
    from sqlalchemy import func, select

    stmt = select(AuditEntry)
    if kind:
        stmt = stmt.where(AuditEntry.kind == kind)
    if username:
        stmt = stmt.where(AuditEntry.username == username)
    if enterprise_id is not None:
        stmt = stmt.where(AuditEntry.enterprise_id == enterprise_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.scalars(stmt.order_by(AuditEntry.at_dt.desc(), AuditEntry.id.desc()).limit(limit).offset(offset)).all()
    return list(rows), total
