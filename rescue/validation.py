"""Running pydantic schemas at the boundary and reporting every bad field at once, in Chinese."""

from functools import cache
from typing import Annotated, Any, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, create_model, field_validator
from pydantic import ValidationError as PydanticError

from rescue.errors import ValidationError

Name = Annotated[str, Field(min_length=1, max_length=200)]
Short = Annotated[str, Field(max_length=50)]
Count = Annotated[int, Field(ge=0, le=100_000)]
Quantity = Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False)]
RefId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class Schema(BaseModel):
    """Base of every request and response schema: unknown fields refused, text stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, from_attributes=True)


def context_value(info: ValidationInfo, key: str):
    """A value the caller put in the validation context (e.g. the service area), or None."""
    return (info.context or {}).get(key)


def _lat_in_area(v, info: ValidationInfo):
    area = context_value(info, "area")
    if v is not None and area and not area[0] <= v <= area[2]:
        msg = f"超出服务区域 (纬度应在 {area[0]}–{area[2]} 之间)"
        raise ValueError(msg)
    return v


def _lon_in_area(v, info: ValidationInfo):
    area = context_value(info, "area")
    if v is not None and area and not area[1] <= v <= area[3]:
        msg = f"超出服务区域 (经度应在 {area[1]}–{area[3]} 之间)"
        raise ValueError(msg)
    return v


def in_service_area():
    """Validators keeping `lat` and `lon` inside the service area given in the validation context."""
    return field_validator("lat")(_lat_in_area), field_validator("lon")(_lon_in_area)


_MESSAGES = {
    "missing": "必填",
    "extra_forbidden": "未知字段",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "bool_parsing": "应为是/否 (true/false)",
    "bool_type": "应为是/否 (true/false)",
    "string_type": "应为文本",
    "list_type": "应为列表",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_type": "日期格式应为 YYYY-MM-DD",
    "datetime_parsing": "时间格式有误, 应如 2026-12-01 14:30 (北京时间) 或带时区的 2026-12-01T14:30+08:00",
    "datetime_type": "时间格式有误, 应如 2026-12-01 14:30 (北京时间) 或带时区的 2026-12-01T14:30+08:00",
    "enum": "取值应为: {expected}",
    "literal_error": "取值应为: {expected}",
    "greater_than_equal": "不能小于 {ge}",
    "greater_than": "应大于 {gt}",
    "less_than_equal": "不能大于 {le}",
    "less_than": "应小于 {lt}",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "最多 {max_length} 个字符",
    "too_short": "至少 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "string_pattern_mismatch": "格式不正确",
    "finite_number": "应为有限数字",
}


def error_fields(exc: PydanticError) -> dict[str, str]:
    """Map a pydantic error to {dotted.field: Chinese reason}, first reason per field."""
    fields: dict[str, str] = {}
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "_body"
        if loc in fields:
            continue
        if err["type"] == "value_error":
            # our own validators raise ValueError with a Chinese reason already
            fields[loc] = str(err.get("ctx", {}).get("error", err["msg"]))
            continue
        template = _MESSAGES.get(err["type"]) or _by_family(err["type"])
        ctx = {k: _plain(v) for k, v in err.get("ctx", {}).items()}
        try:
            fields[loc] = template.format(**ctx) if template else err["msg"]
        except (KeyError, IndexError):
            fields[loc] = template
    return fields


def _by_family(kind: str) -> str:
    """The message of an error type not listed, by its family (datetime_from_date_parsing → a time's), so no
    pydantic English reaches a person."""
    for family in ("datetime", "date", "time", "int", "float", "bool", "string", "list", "dict", "enum"):
        if kind.startswith(family):
            return _MESSAGES.get(f"{family}_parsing") or _MESSAGES.get(f"{family}_type") or "格式不正确"
    return "格式不正确"


def _plain(value):
    """Numbers and choices as people write them: 0 not 0.0, "a, b, c" not "'a', 'b' or 'c'"."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return value.replace("'", "").replace(" or ", ", ")
    return value


def parse(schema: type[BaseModel], data: Any, *, context: dict | None = None) -> BaseModel:
    """Validate `data` against `schema`, raising our ValidationError with every bad field."""
    if not isinstance(data, dict):
        raise ValidationError({"_body": "请求体应为 JSON 对象"})
    # a patch may omit a required field but may not blank it out
    required = getattr(schema, "__required_fields__", frozenset())
    fields = {k: "不能为空" for k, v in data.items() if v is None and k in required}
    try:
        obj = schema.model_validate(data, context=context or {})
    except PydanticError as exc:
        fields = error_fields(exc) | fields
    if fields:
        raise ValidationError(fields)
    return obj


def partial(schema: type[BaseModel]) -> type[BaseModel]:
    """A copy of `schema` for PATCH: every field optional, validators kept."""
    fields = {}
    for name, f in schema.model_fields.items():
        fields[name] = (Optional[f.rebuild_annotation()], None)  # noqa: UP045 - runtime typing object
    model = create_model(f"{schema.__name__}Patch", __base__=schema, **fields)
    model.__required_fields__ = frozenset(n for n, f in schema.model_fields.items() if f.is_required())
    return model


_partial = cache(partial)


def parse_partly(schema: type[BaseModel], data: Any, *, context: dict | None = None) -> tuple[BaseModel | None, dict[str, str]]:
    """`data` validated against `schema`, and the bad fields; never raises.

    When some fields are bad, the object holds the fields that are valid on their own (the others None), so the
    checks a service makes after the schema (places, references, cross-field rules) can still run and every bad
    field is reported in one answer rather than in two rounds. None when not even that can be built."""
    try:
        return parse(schema, data, context=context), {}
    except ValidationError as exc:
        errors = dict(exc.fields)
    if not isinstance(data, dict):
        return None, errors
    bad = {k.split(".")[0] for k in errors}
    try:
        rest = _partial(schema).model_validate({k: v for k, v in data.items() if k not in bad}, context=context or {})
    except PydanticError:
        return None, errors
    return rest, errors
