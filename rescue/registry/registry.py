"""Registry operations: list, read, create, update, delete and confirm records of every kind."""

import math
from dataclasses import dataclass
from datetime import timedelta

from geopy.distance import geodesic
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rescue.db import utcnow
from rescue.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from rescue.models import Capability, Enterprise, Role, User
from rescue.models.enums import SIX_MONTH_DRILL_INDUSTRIES
from rescue.registry import access, audit
from rescue.registry.kinds import KINDS, Kind
from rescue.validation import parse

MAX_LIMIT = 500


@dataclass
class Query:
    """What a list request asks for, already parsed from strings."""

    filters: dict
    capability: str | None = None
    q: str | None = None
    near: tuple[float, float] | None = None
    radius_km: float | None = None
    sort: str | None = None
    limit: int = 50
    offset: int = 0


def get_kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        msg = f"未知的资源类型: {name}"
        raise NotFoundError(msg) from None


def capability_names(session: Session) -> dict[str, str]:
    """Every capability's name by code, in code order."""
    return dict(session.execute(select(Capability.code, Capability.name).order_by(Capability.code)).all())


def get_enterprise(session: Session, enterprise_id: int | None) -> Enterprise | None:
    """The enterprise, or None (also for no id)."""
    return session.get(Enterprise, enterprise_id) if enterprise_id else None


def validation_context(session: Session, area) -> dict:
    """What schemas need to know beyond the request: the service area and the capability codes."""
    return {"area": area, "capabilities": set(session.scalars(select(Capability.code)))}


def serialize(kind: Kind, record) -> dict:
    return kind.schema_out.model_validate(record).model_dump(mode="json")


def list_records(session: Session, kind: Kind, actor: User, query: Query) -> tuple[list, int]:
    """The records `actor` may read matching `query`, and how many match in all."""
    model = kind.model
    stmt = access.scope(select(model), actor, kind)
    for name, value in query.filters.items():
        stmt = stmt.where(getattr(model, name) == value)
    if query.capability:
        relation = kind.capability_relation
        if relation is None:
            raise ValidationError({"capability": f"{kind.label}不支持按能力筛选"})
        stmt = stmt.where(getattr(model, relation).any(Capability.code == query.capability))
    if query.q and kind.text_columns:
        pattern = f"%{query.q}%"
        stmt = stmt.where(or_(*(getattr(model, c).ilike(pattern) for c in kind.text_columns)))
    if query.near and kind.located:
        # a cheap bounding box in SQL; the exact geodesic test follows in Python
        lat, lon = query.near
        dlat = query.radius_km / 111.0
        dlon = query.radius_km / (111.0 * max(math.cos(math.radians(lat)), 0.01))
        stmt = stmt.where(model.lat.between(lat - dlat, lat + dlat), model.lon.between(lon - dlon, lon + dlon))
    order = _order(kind, query.sort)
    if query.near:
        rows = list(session.scalars(stmt.order_by(*order)))
        dist = {id(r): geodesic(query.near, (r.lat, r.lon)).km for r in rows}
        rows = [r for r in rows if dist[id(r)] <= query.radius_km]
        if query.sort == "distance":
            rows.sort(key=lambda r: dist[id(r)])
        return rows[query.offset : query.offset + query.limit], len(rows)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = list(session.scalars(stmt.order_by(*order).limit(query.limit).offset(query.offset)))
    return rows, total


def _order(kind: Kind, sort: str | None):
    key_col = getattr(kind.model, kind.key)
    if not sort or sort == "distance":
        return [key_col]
    name = sort.removeprefix("-")
    if name not in kind.sortable:
        raise ValidationError({"sort": "可排序字段: " + ", ".join(kind.sortable)})
    col = getattr(kind.model, name)
    return [col.desc() if sort.startswith("-") else col.asc(), key_col]


def get_record(session: Session, kind: Kind, actor: User, key):
    record = session.get(kind.model, key)
    if record is None:
        msg = f"{kind.label}不存在"
        raise NotFoundError(msg)
    access.check_readable(actor, kind, record)
    return record


def create_record(session: Session, kind: Kind, actor: User | None, data: dict, *, area, now=None, context=None):
    """Validate and add a record; the caller commits. `actor` None means the system (seeding).

    `context` may be passed in when creating many records (see `validation_context`)."""
    if actor is not None:
        access.require_write(actor, kind)
        if kind.owner == "self" and actor.role != Role.command_center:
            raise ForbiddenError("只有指挥中心可以登记新企业")
    context = context or validation_context(session, area)
    values = _validated(kind, kind.schema_in, data, context, session, actor)
    if kind.key != "id" and session.get(kind.model, values[kind.key]) is not None:
        raise ConflictError(f"{kind.label}代码已存在", {kind.key: "已存在"})
    record = kind.model()
    changes = _apply(session, kind, record, values)
    if now is not None and hasattr(record, "created_dt"):
        record.created_dt = record.updated_dt = record.last_confirmed_dt = now
    session.add(record)
    _flush(session, kind)
    audit.record(session, actor, "create", kind.name, getattr(record, kind.key), access.owner_id(kind, record), changes, now=now)
    return record


def update_record(session: Session, kind: Kind, actor: User, key, data: dict, *, area, now=None):
    """Apply a partial update; the caller commits."""
    access.require_write(actor, kind)
    record = get_record(session, kind, actor, key)
    context = validation_context(session, area)
    values = _validated(kind, kind.schema_patch, data, context, session, actor, record=record)
    if kind.key in values and values[kind.key] != key:
        raise ValidationError({kind.key: "代码不能修改"})
    changes = _apply(session, kind, record, values)
    if changes and hasattr(record, "last_confirmed_dt"):
        # an edit by the owner is a confirmation that the record is current
        record.last_confirmed_dt = now or utcnow()
    _flush(session, kind)
    audit.record(session, actor, "update", kind.name, key, access.owner_id(kind, record), changes, now=now)
    return record


def delete_record(session: Session, kind: Kind, actor: User, key, *, now=None) -> None:
    access.require_write(actor, kind)
    record = get_record(session, kind, actor, key)
    if kind.owner == "self" and actor.role != Role.command_center:
        raise ForbiddenError("只有指挥中心可以删除企业")
    owner = access.owner_id(kind, record)
    session.delete(record)
    try:
        _flush(session, kind)
    except ConflictError:
        raise ConflictError(f"{kind.label}仍被其他记录引用, 不能删除") from None
    audit.record(session, actor, "delete", kind.name, key, owner, {}, now=now)


def confirm_enterprise(session: Session, actor: User, enterprise_id: int, *, now=None) -> int:
    """Mark every record of one enterprise as confirmed current; returns how many."""
    now = now or utcnow()
    kind = KINDS["enterprises"]
    enterprise = get_record(session, kind, actor, enterprise_id)
    if actor.role == Role.regulator:
        raise ForbiddenError("监管角色不能确认企业数据")
    count = 0
    for k in KINDS.values():
        if k.owner == "enterprise_id":
            for rec in session.scalars(select(k.model).where(k.model.enterprise_id == enterprise_id)):
                rec.last_confirmed_dt = now
                count += 1
    enterprise.last_confirmed_dt = now
    audit.record(session, actor, "confirm", "enterprises", enterprise_id, enterprise_id, {"records": [None, count + 1]}, now=now)
    session.flush()
    return count + 1


def stale_records(session: Session, actor: User, *, days: int, now=None) -> list[dict]:
    """Records not confirmed within `days`, grouped by enterprise (None: government records)."""
    now = now or utcnow()
    cutoff = now - timedelta(days=days)
    groups: dict = {}
    for kind in KINDS.values():
        if kind.owner is None or not kind.tracked:
            continue
        stmt = access.scope(select(kind.model), actor, kind).where(kind.model.last_confirmed_dt < cutoff)
        for rec in session.scalars(stmt):
            owner = access.owner_id(kind, rec)
            groups.setdefault(owner, []).append(
                {
                    "kind": kind.name,
                    "id": rec.id,
                    "name": rec.name,
                    "last_confirmed_dt": rec.last_confirmed_dt.isoformat(),
                    "days": (now - rec.last_confirmed_dt).days,
                }
            )
    names = dict(session.execute(select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_([k for k in groups if k]))).all())
    return [
        {"enterprise_id": owner, "enterprise": names.get(owner, "政府及社会力量"), "count": len(items), "records": items}
        for owner, items in sorted(groups.items(), key=lambda kv: -len(kv[1]))
    ]


def _validated(kind: Kind, schema, data, context, session, actor, *, record=None) -> dict:
    """Schema, ownership and reference checks together, so every bad field is reported at once."""
    fields: dict[str, str] = {}
    values: dict = {}
    if kind.owner == "enterprise_id" and record is None and isinstance(data, dict) and data.get("enterprise_id") is None:
        # an enterprise admin's records are its enterprise's; others' follow what they reference
        if actor is not None and actor.role == Role.enterprise_admin:
            owner = actor.enterprise_id
        else:
            owner = access.referenced_owner(session, kind, data)
        if owner is not None:
            data = data | {"enterprise_id": owner}
    try:
        values = parse(schema, data, context=context).model_dump(exclude_unset=record is not None)
    except ValidationError as exc:
        fields.update(exc.fields)
    reserved: dict[str, str] = {}
    if isinstance(data, dict):
        merged = _current(kind, record) | {k: v for k, v in data.items() if k not in fields}
        fields.update(_reference_errors(session, kind, actor, merged, fields))
        given = {k: values.get(k, v) for k, v in data.items() if k not in fields}
        reserved = access.command_center_errors(kind, actor, given, record)
    if fields:
        raise ValidationError(fields | reserved)
    if reserved:
        raise ForbiddenError("以下字段只能由指挥中心设置: " + ", ".join(reserved), reserved)
    if kind.name == "enterprises" and values.get("drill_every_6_months") is None and "industry" in values:
        values["drill_every_6_months"] = values["industry"] in SIX_MONTH_DRILL_INDUSTRIES
    return values


def _current(kind: Kind, record) -> dict:
    if record is None:
        return {}
    return {c: getattr(record, c) for c in ("enterprise_id", *kind.references) if hasattr(record, c)}


def _reference_errors(session, kind: Kind, actor, values: dict, known: dict) -> dict:
    """The record's owner must be writable by `actor` and exist; what it references must have the same owner."""
    errors = {}
    if kind.owner != "enterprise_id":
        return errors
    enterprise_id = values.get("enterprise_id")
    if actor is not None and actor.role == Role.enterprise_admin:
        access.require_owner(actor, enterprise_id)
    if isinstance(enterprise_id, int) and session.get(Enterprise, enterprise_id) is None:
        errors["enterprise_id"] = "企业不存在"
    errors.update(access.reference_errors(session, kind, actor, values, known))
    if kind.name == "equipment" and "team_id" not in known and "depot_id" not in known:
        if (values.get("team_id") is None) == (values.get("depot_id") is None):
            errors["team_id"] = "保管队伍与存放仓库须且只能填一项"
    return errors


def _apply(session: Session, kind: Kind, record, values: dict) -> dict:
    """Set `values` on `record`, returning {field: (old, new)} for what changed."""
    changes = {}
    for name, value in values.items():
        if name in kind.code_fields:
            relation = kind.code_fields[name]
            old = [c.code for c in getattr(record, relation)]
            if old != value:
                rows = {c.code: c for c in session.scalars(select(Capability).where(Capability.code.in_(value)))}
                setattr(record, relation, [rows[c] for c in value])
                changes[name] = (old, value)
            continue
        old = getattr(record, name, None)
        if old != value:
            setattr(record, name, value)
            changes[name] = (old, value)
    return changes


def _flush(session: Session, kind: Kind) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        # the boundary rolls the whole transaction back
        msg = f"{kind.label}与已有记录冲突 (唯一性或引用约束)"
        raise ConflictError(msg) from exc
