"""Who may read and change what: the role and ownership rules every surface (API, pages, imports) goes through.

* A record's owner is its enterprise (None: government or social forces, kept by the command center).
* An enterprise admin writes only its own enterprise's records; the regulator writes nothing.
* A record that references a team, depot or person (`Kind.references`) has that row's owner, and is written only
  by someone allowed to write that owner's records: an enterprise cannot put its people on a government
  brigade's escalation chain or roster, nor its equipment in a government depot.
* An enterprise admin reads only its own records, and none that reference another owner's rows.
* Fields in `Kind.command_center_fields` (legal duties, certification) are changed by the command center only.
"""

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, object_session

from rescue.errors import ForbiddenError, NotFoundError
from rescue.models import Role, User
from rescue.registry.kinds import Kind

GOVERNMENT = "政府或社会力量"


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


def may_write_owner(actor: User | None, owner: int | None) -> bool:
    """Whether `actor` (None: the system) may write records owned by `owner` (None: government)."""
    if actor is None or actor.role == Role.command_center:
        return True
    return actor.role == Role.enterprise_admin and owner is not None and owner == actor.enterprise_id


def require_owner(actor: User | None, owner: int | None) -> None:
    if not may_write_owner(actor, owner):
        raise ForbiddenError("只能登记和修改本企业的资源", {"enterprise_id": "不是本企业"})


def owner_id(kind: Kind, record) -> int | None:
    """The enterprise a record belongs to (None: government or shared)."""
    if kind.owner == "self":
        return record.id
    if kind.owner == "enterprise_id":
        return record.enterprise_id
    return None


def _valid_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31


def referenced_owner(session: Session, kind: Kind, data: dict) -> int | None:
    """The owner of the first row `data` references (a record kept by a team, depot or person is theirs)."""
    for name, model in kind.references.items():
        if _valid_id(value := data.get(name)) and (ref := session.get(model, value)) is not None:
            return ref.enterprise_id
    return None


def reference_errors(session: Session, kind: Kind, actor: User | None, values: dict, skip) -> dict[str, str]:
    """Every referenced row must exist, be writable by `actor` and have the record's owner (`values["enterprise_id"]`)."""
    errors = {}
    owner = values.get("enterprise_id")
    for name, model in kind.references.items():
        value = values.get(name)
        if name in skip or not _valid_id(value):
            continue
        ref = session.get(model, value)
        if ref is None:
            errors[name] = "不存在"
        elif ref.enterprise_id != owner or not may_write_owner(actor, ref.enterprise_id):
            if ref.enterprise_id is not None:
                errors[name] = "属于其他企业"
            elif actor is not None and actor.role == Role.enterprise_admin:
                errors[name] = f"属于{GOVERNMENT}, 只有指挥中心可以引用"
            else:
                errors[name] = f"属于{GOVERNMENT}, 与本记录所属企业不一致"
    return errors


def command_center_errors(kind: Kind, actor: User | None, values: dict, record) -> dict[str, str]:
    """Fields only the command center may change that `values` would change (nothing for the command center)."""
    if actor is None or actor.role == Role.command_center:
        return {}
    errors = {}
    for name, restricted in kind.command_center_fields.items():
        if name not in values:
            continue
        new = values[name]
        if record is not None:
            old = getattr(record, name)
        else:
            info = kind.schema_in.model_fields.get(name)
            old = None if info is None or info.is_required() else info.default
        if new == old:
            continue
        if restricted is None or new in restricted or old in restricted:
            errors[name] = "只能由指挥中心设置"
    return errors


def scope(stmt: Select, actor: User, kind: Kind) -> Select:
    """Restrict a query to what `actor` may read: enterprise admins see only their own records,
    and none that reference another owner's rows."""
    if actor.role != Role.enterprise_admin or kind.owner is None:
        return stmt
    column = kind.model.id if kind.owner == "self" else kind.model.enterprise_id
    stmt = stmt.where(column == actor.enterprise_id)
    for name, model in kind.references.items():
        ref = getattr(kind.model, name)
        stmt = stmt.where(or_(ref.is_(None), ref.in_(select(model.id).where(model.enterprise_id == actor.enterprise_id))))
    return stmt


def check_readable(actor: User, kind: Kind, record) -> None:
    """404 (not 403) for another enterprise's record, so existence does not leak."""
    if actor.role != Role.enterprise_admin or kind.owner is None:
        return
    visible = owner_id(kind, record) == actor.enterprise_id
    session = object_session(record)
    for name, model in kind.references.items():
        if not visible:
            break
        value = getattr(record, name)
        if value is not None and session is not None:
            ref = session.get(model, value)
            visible = ref is not None and ref.enterprise_id == actor.enterprise_id
    if not visible:
        msg = f"{kind.label}不存在"
        raise NotFoundError(msg)
