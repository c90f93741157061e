"""Hostile input stopped at the door, for every route at once: path integers, JSON bodies, NUL characters.

- ``<int:...>`` in any URL rule matches only ASCII digits within PostgreSQL's ``integer`` (int32) range, so
  ``/x/١٢``, ``/x/１２`` and ``/x/99999999999`` are a plain 404 rather than a database error;
- request JSON is parsed with a depth limit (a few thousand nested brackets would otherwise raise RecursionError),
  without NaN/Infinity, and with no NUL character in any string or key (PostgreSQL cannot store one): 422 naming
  the field;
- query parameters, form fields and path arguments with a NUL character are refused the same way.
"""

import builtins
import json
import math
from typing import Any

from flask import Flask, Request, request
from flask import json as flask_json
from werkzeug.routing import IntegerConverter
from werkzeug.routing import ValidationError as NoMatch

from rescue.errors import NotFoundError, ValidationError

INT32_MAX = 2**31 - 1
MAX_JSON_DEPTH = 64  # the deepest real body (an incident with needs) is 3 levels
NUL_MESSAGE = "不能包含空字符 (NUL)"


class Int32Converter(IntegerConverter):
    """Werkzeug's ``int`` converter restricted to ASCII digits and the database's int32 range."""

    regex = r"[0-9]{1,10}"

    def __init__(
        self,
        map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = None,  # noqa: A002
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, INT32_MAX if max is None else builtins.min(max, INT32_MAX), signed)

    def to_python(self, value: str) -> int:
        if not value.isascii():
            raise NoMatch
        return super().to_python(value)


def _constant(name: str):
    raise ValidationError({"_body": f"不支持 {name}, 数字应为有限值"}, "请求体 JSON 有误")


def _visible(text: str) -> str:
    """A key as it can be named back to the client (its NUL shown as an escape)."""
    return text.replace("\x00", "\\u0000")


def check_value(value: object, *, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Refuse a parsed JSON value nested deeper than `max_depth` or with a NUL in any string, naming the field."""
    fields: dict[str, str] = {}
    stack = [(value, (), 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth > max_depth:
            raise ValidationError({"_body": f"JSON 嵌套层数过多 (最多 {max_depth} 层)"}, "请求体 JSON 有误")
        if isinstance(item, str):
            if "\x00" in item:
                fields.setdefault(".".join(path) or "_body", NUL_MESSAGE)
        elif isinstance(item, dict):
            for key, sub in item.items():
                if "\x00" in key:
                    fields.setdefault(".".join((*path, _visible(key))), NUL_MESSAGE)
                stack.append((sub, (*path, key), depth + 1))
        elif isinstance(item, list):
            stack.extend((sub, (*path, str(i)), depth + 1) for i, sub in enumerate(item))
        elif isinstance(item, float) and not math.isfinite(item):
            fields.setdefault(".".join(path) or "_body", "应为有限数字")
    if fields:
        raise ValidationError(fields)


class StrictJson:
    """The JSON module of requests: Flask's, but loads() refuses bodies no view should have to handle.

    Its errors are our ValidationError rather than ValueError, so even ``get_json(silent=True)`` answers 422.
    """

    @staticmethod
    def loads(data: str | bytes, **kwargs: Any) -> Any:
        try:
            value = json.loads(data, parse_constant=_constant, **kwargs)
        except RecursionError:
            raise ValidationError({"_body": f"JSON 嵌套层数过多 (最多 {MAX_JSON_DEPTH} 层)"}, "请求体 JSON 有误") from None
        check_value(value)
        return value

    @staticmethod
    def dumps(obj: object, **kwargs: Any) -> str:
        return flask_json.dumps(obj, **kwargs)


class StrictRequest(Request):
    """Flask's request, parsing JSON bodies with StrictJson."""

    @property
    def json_module(self) -> type[StrictJson]:
        return StrictJson

    @json_module.setter
    def json_module(self, _value: object) -> None:
        pass  # Flask sets app.json on every request; bodies are still read strictly


def _refuse_nul() -> None:
    """Query parameters, form fields and path arguments may not contain a NUL character."""
    for value in (request.view_args or {}).values():
        if isinstance(value, str) and "\x00" in value:
            raise NotFoundError("资源不存在")
    fields = {}
    sources = [request.args]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sources.append(request.form)
    for source in sources:
        for key, values in source.lists():
            if "\x00" in key or any("\x00" in v for v in values):
                fields[_visible(key)] = NUL_MESSAGE
    if fields:
        raise ValidationError(fields)


def init_app(app: Flask) -> None:
    """Install the guards; must run before any blueprint is registered (rules bind their converters then)."""
    app.url_map.converters["int"] = Int32Converter
    app.request_class = StrictRequest
    app.before_request(_refuse_nul)
