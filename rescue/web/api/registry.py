"""CRUD views for every registry kind, plus freshness and confirmation."""

from flask import current_app, request
from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as PydanticError
from werkzeug.datastructures import MultiDict

from rescue.errors import ValidationError
from rescue.models import Role
from rescue.registry import registry
from rescue.registry.kinds import KINDS, Kind
from rescue.registry.registry import get_kind
from rescue.web.api import bp, int_arg, json_body, page, service_area
from rescue.web.api.openapi import documented
from rescue.web.auth import current_user, roles_required
from rescue.web.extensions import get_session

KIND_PATH = "<any(" + ", ".join(f'"{k}"' for k in KINDS) + "):kind_name>"
_LIST_PARAMS = {"capability", "q", "near", "radius_km", "sort", "limit", "offset"}
_LIST_QUERY = {
    "q": {"type": "string", "description": "文本搜索"},
    "capability": {"type": "string", "description": "能力代码"},
    "near": {"type": "string", "description": "纬度,经度"},
    "radius_km": {"type": "number"},
    "sort": {"type": "string", "description": "字段名, 前加 - 为倒序; distance 需 near"},
    "limit": {"type": "integer", "default": 50, "maximum": 500},
    "offset": {"type": "integer", "default": 0},
}


def _out(kind_name: str) -> type[BaseModel]:
    return get_kind(kind_name).schema_out


def _in(kind_name: str) -> type[BaseModel]:
    return get_kind(kind_name).schema_in


def _patch(kind_name: str) -> type[BaseModel]:
    return get_kind(kind_name).schema_patch


def parse_query(kind: Kind, args: MultiDict) -> registry.Query:
    """Read list parameters, reporting every bad one at once."""
    errors: dict[str, str] = {}
    filters = {}
    fields = kind.schema_out.model_fields
    for name, raw in args.items():
        if name in _LIST_PARAMS:
            continue
        if name not in kind.filters:
            errors[name] = "未知的查询参数"
            continue
        try:
            filters[name] = TypeAdapter(fields[name].annotation).validate_python(raw)
        except PydanticError:
            errors[name] = "取值无效"
    query = registry.Query(filters=filters, capability=args.get("capability"), q=args.get("q") or None, sort=args.get("sort"))
    query.limit = int_arg(args, "limit", 50, 1, registry.MAX_LIMIT, errors)
    query.offset = int_arg(args, "offset", 0, 0, 10**9, errors)
    if "near" in args:
        try:
            lat, lon = (float(x) for x in args["near"].split(","))
            query.near = (lat, lon)
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError
        except ValueError:
            errors["near"] = "应为 纬度,经度"
        query.radius_km = _float(args, "radius_km", 50.0, errors)
    elif "radius_km" in args:
        errors["radius_km"] = "需要同时提供 near"
    if query.sort == "distance" and "near" not in args:
        errors["sort"] = "按距离排序需要 near"
    elif query.sort and query.sort != "distance" and query.sort.removeprefix("-") not in kind.sortable:
        errors["sort"] = "可排序字段: " + ", ".join(kind.sortable)
    if errors:
        raise ValidationError(errors, "查询参数有误")
    return query


def _float(args: MultiDict, name: str, default: float, errors: dict) -> float:
    try:
        value = float(args.get(name, default))
        if not 0 < value <= 2000:
            raise ValueError
    except ValueError:
        errors[name] = "应为 0–2000 之间的数字"
        return default
    return value


def _key(kind: Kind, key: str) -> int | str:
    if kind.key == "id":
        if not (key.isascii() and key.isdigit()) or not 0 < int(key) < 2**31:
            raise ValidationError({"id": "应为正整数"})
        return int(key)
    return key


@bp.get(f"/{KIND_PATH}")
@documented("列表查询", response=_out, query=_LIST_QUERY, listing=True)
@roles_required()
def list_records(kind_name: str) -> dict:
    kind = registry.get_kind(kind_name)
    query = parse_query(kind, request.args)
    rows, total = registry.list_records(get_session(), kind, current_user(), query)
    return page([registry.serialize(kind, r) for r in rows], total, query.limit, query.offset)


@bp.get(f"/{KIND_PATH}/<key>")
@documented("读取一条记录", response=_out)
@roles_required()
def get_record(kind_name: str, key: str) -> dict:
    kind = registry.get_kind(kind_name)
    record = registry.get_record(get_session(), kind, current_user(), _key(kind, key))
    return registry.serialize(kind, record)


@bp.post(f"/{KIND_PATH}")
@documented("新建记录", body=_in, response=_out, status=201)
@roles_required(Role.command_center, Role.enterprise_admin)
def create_record(kind_name: str) -> tuple[dict, int]:
    kind = registry.get_kind(kind_name)
    session = get_session()
    record = registry.create_record(session, kind, current_user(), json_body(), area=service_area())
    session.commit()
    return registry.serialize(kind, record), 201


@bp.patch(f"/{KIND_PATH}/<key>")
@bp.put(f"/{KIND_PATH}/<key>")
@documented("修改记录 (部分字段)", body=_patch, response=_out)
@roles_required(Role.command_center, Role.enterprise_admin)
def update_record(kind_name: str, key: str) -> dict:
    kind = registry.get_kind(kind_name)
    session = get_session()
    record = registry.update_record(session, kind, current_user(), _key(kind, key), json_body(), area=service_area())
    session.commit()
    return registry.serialize(kind, record)


@bp.delete(f"/{KIND_PATH}/<key>")
@documented("删除记录", status=204)
@roles_required(Role.command_center, Role.enterprise_admin)
def delete_record(kind_name: str, key: str) -> tuple[str, int]:
    kind = registry.get_kind(kind_name)
    session = get_session()
    registry.delete_record(session, kind, current_user(), _key(kind, key))
    session.commit()
    return "", 204


@bp.post("/enterprises/<int:enterprise_id>/confirm")
@documented("确认本企业全部数据为最新")
@roles_required(Role.command_center, Role.enterprise_admin)
def confirm_enterprise(enterprise_id: int) -> dict:
    session = get_session()
    count = registry.confirm_enterprise(session, current_user(), enterprise_id)
    session.commit()
    return {"confirmed": count}


@bp.get("/freshness")
@documented("超期未确认的数据 (按企业)", query={"days": {"type": "integer"}})
@roles_required()
def list_stale_records() -> dict:
    errors: dict[str, str] = {}
    days = int_arg(request.args, "days", current_app.config["FRESHNESS_DAYS"], 1, 3650, errors)
    if errors:
        raise ValidationError(errors, "查询参数有误")
    groups = registry.stale_records(get_session(), current_user(), days=days)
    return {"days": days, "items": groups, "total": sum(g["count"] for g in groups)}
