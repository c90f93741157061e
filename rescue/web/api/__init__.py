"""The JSON API under /api/v1: one blueprint, its views in modules by concept."""

import re
from collections.abc import Mapping

from flask import Blueprint, current_app, request

from rescue.errors import ValidationError

bp = Blueprint("api", __name__, url_prefix="/api/v1")


_INTEGER = re.compile(r"-?[0-9]{1,18}")
INT32_MAX = 2**31 - 1


def json_body() -> dict:
    """The request's JSON object, or a 422 naming the problem (deep nesting and NUL characters included)."""
    data = request.get_json(silent=True)
    if data is None:
        raise ValidationError({"_body": "请求体应为 JSON (Content-Type: application/json)"})
    if not isinstance(data, dict):
        raise ValidationError({"_body": "请求体应为 JSON 对象"})
    return data


def service_area() -> tuple[float, float, float, float]:
    return current_app.config["SERVICE_AREA"]


def int_arg(args: Mapping[str, str], name: str, default: int, lo: int, hi: int, errors: dict) -> int:
    """An integer query parameter within [lo, hi]; a bad one is noted in `errors` and `default` returned.

    Only ASCII digits count: Python's int() would also take "１２", "١٢", " 12" and "1_0".
    """
    hi = min(hi, INT32_MAX)  # the database's integer range
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    if not _INTEGER.fullmatch(raw):
        errors[name] = "应为整数"
        return default
    value = int(raw)
    if not lo <= value <= hi:
        errors[name] = f"应在 {lo}–{hi} 之间"
        return default
    return value


def page(items: list, total: int, limit: int, offset: int) -> dict:
    return {"items": items, "total": total, "limit": limit, "offset": offset}


# the view modules register their routes on bp when imported
from rescue.web.api import (  # noqa: E402, F401
    cards,
    dispatches,
    drills,
    incidents,
    openapi,
    readiness,
    registry,
    roads,
    spreadsheets,
    statistics,
    tokens,
)
