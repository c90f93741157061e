"""Who may read and change what: the role rules every surface goes through."""

from sqlalchemy import Select

from rescue.errors import ForbiddenError, NotFoundError
from rescue.models import Role, User
from rescue.registry.kinds import Kind


def can_write(actor: User, kind: Kind) -> bool:
    """Whether `actor` may change records of `kind` at all."""
    if actor.role == Role.command_center:
        return True
    if actor.role == Role.enterprise_admin:
        return kind.owner is not None
    return False


def require_write(actor: User, kind: Kind) -> None:
    if not can_write(actor, kind):
        msg = f"当前角色无权修改{kind.label}"
        raise ForbiddenError(msg)


def require_role(actor: User, *roles: Role) -> None:
    """Refuse an operation to every role but `roles` (services check it too: not every caller is a view)."""
    if actor.role not in roles:
        msg = "当前角色无权执行此操作"
        raise ForbiddenError(msg)


def owner_id(kind: Kind, record) -> int | None:
    """The enterprise a record belongs to (None: government or shared)."""
    if kind.owner == "self":
        return record.id
    if kind.owner == "enterprise_id":
        return record.enterprise_id
    return None


def scope(stmt: Select, actor: User, kind: Kind) -> Select:
    """Restrict a query to what `actor` may read: enterprise admins see only their own records."""
    if actor.role != Role.enterprise_admin or kind.owner is None:
        return stmt
    column = kind.model.id if kind.owner == "self" else kind.model.enterprise_id
    return stmt.where(column == actor.enterprise_id)


def check_readable(actor: User, kind: Kind, record) -> None:
    """404 (not 403) for another enterprise's record, so existence does not leak."""
    if actor.role == Role.enterprise_admin and kind.owner is not None and owner_id(kind, record) != actor.enterprise_id:
        msg = f"{kind.label}不存在"
        raise NotFoundError(msg)
