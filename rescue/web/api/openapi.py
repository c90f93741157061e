"""The OpenAPI 3 document, generated from the same pydantic schemas that validate requests, and its docs page."""

import re
from collections.abc import Callable

import swagger_ui_bundle
from flask import Flask, current_app, send_from_directory
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from werkzeug.routing import IntegerConverter
from werkzeug.wrappers import Response

from rescue.web.api import bp

REF = "#/components/schemas/{model}"
_ERROR = {
    "type": "object",
    "properties": {
        "error": {"type": "string"},
        "message": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def documented(
    summary: str,
    *,
    body: object = None,
    response: object = None,
    status: int = 200,
    query: dict | None = None,
    listing: bool = False,
) -> Callable[[Callable], Callable]:
    """Attach OpenAPI facts to a view; `body`/`response` may be a schema or a function of the kind name."""

    def decorator(view):
        view.openapi = {
            "summary": summary,
            "body": body,
            "response": response,
            "status": status,
            "query": query or {},
            "listing": listing,
        }
        return view

    return decorator


def _expand(rule) -> list[tuple[str, dict]]:
    """OpenAPI paths of a URL rule, one per value of an any() converter."""
    path = re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", lambda m: "{" + m.group(2) + "}", rule.rule)
    for name, conv in rule._converters.items():
        items = getattr(conv, "items", None)
        if items:
            return [(path.replace("{" + name + "}", item), {name: item}) for item in items]
    return [(path, {})]


def _resolve(spec, values):
    if spec is None or isinstance(spec, dict):
        return spec
    if isinstance(spec, type) and issubclass(spec, BaseModel):
        return spec
    return spec(**values)


def build_document(app: Flask) -> dict:
    models: dict[str, type[BaseModel]] = {}
    paths: dict[str, dict] = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        view = app.view_functions[rule.endpoint]
        facts = getattr(view, "openapi", None)
        if facts is None:
            continue
        for path, values in _expand(rule):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                op = _operation(rule, view, facts, values, models, method)
                paths.setdefault(path, {})[method.lower()] = op
    defs = {}
    if models:
        _, top = models_json_schema([(m, "validation") for m in models.values()], ref_template=REF)
        defs = top.get("$defs", {})
    defs["Error"] = _ERROR
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "宁夏应急资源协同服务 API",
            "version": "1.0.0",
            "description": "应急资源数据库、调度、短信通知、演练与处置卡。错误统一返回 {error, message, fields}。",
        },
        "servers": [{"url": current_app.config["PUBLIC_URL"]}],
        "tags": [{"name": tag, "description": TAG_NAMES.get(tag, "")} for tag in sorted(_tags(paths))],
        "paths": paths,
        "components": {"schemas": defs, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
    }


# the API's groups (the first path segment or record kind) in Chinese
TAG_NAMES = {
    "assignments": "指派 (调派对象的状态与更正)",
    "capabilities": "能力代码",
    "cards": "应急处置卡",
    "contacts": "联系人",
    "coverage": "覆盖分析",
    "depots": "储备库",
    "drills": "演练计划与合规",
    "enterprises": "企业",
    "equipment": "装备",
    "escalation-chains": "逐级通知链",
    "experts": "专家",
    "freshness": "数据时效",
    "inbound-messages": "收到的短信",
    "incident-types": "事件类型",
    "incidents": "事件、推荐资源与调派",
    "places": "地名",
    "road-closures": "道路封闭",
    "roads.geojson": "路网 (GeoJSON)",
    "roster-shifts": "值班表",
    "routes": "路线",
    "statistics": "统计",
    "supplies": "物资",
    "teams": "救援队伍",
    "tokens": "登录令牌",
}


def _tags(paths: dict) -> set[str]:
    return {tag for ops in paths.values() for op in ops.values() for tag in op.get("tags", [])}


def _ref(schema, models) -> dict:
    if isinstance(schema, dict):
        return schema
    models[schema.__name__] = schema
    return {"$ref": REF.format(model=schema.__name__)}


def _path_schema(converter) -> dict:
    """A path argument's schema: `<int:...>` is a non-negative int32 (rescue.web.inputs), anything else text."""
    if isinstance(converter, IntegerConverter):
        return {"type": "integer", "minimum": 0, "maximum": converter.max or 2**31 - 1}
    return {"type": "string"}


def _operation(rule, view, facts, values, models, method) -> dict:
    roles = getattr(view, "roles", None)
    op = {
        "operationId": f"{rule.endpoint.split('.')[-1]}_{'_'.join(values.values()) or ''}_{method.lower()}".replace(
            "-", "_"
        ).strip("_"),
        "summary": facts["summary"] + (f" ({values.get('kind_name')})" if values.get("kind_name") else ""),
        "tags": [values.get("kind_name") or rule.rule.split("/")[3]],
        "responses": {},
    }
    if roles:
        op["description"] = "角色: " + ", ".join(r.value for r in roles)
    params = [
        {"name": n, "in": "path", "required": True, "schema": _path_schema(rule._converters.get(n))}
        for n in rule.arguments
        if n not in values
    ]
    params += [{"name": n, "in": "query", "required": False, "schema": s} for n, s in facts["query"].items()]
    if params:
        op["parameters"] = params
    body = _resolve(facts["body"], values)
    if body is not None and method in {"POST", "PUT", "PATCH"}:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body, models)}}}
    response = _resolve(facts["response"], values)
    ok = {"description": "成功"}
    if response is not None:
        schema = _ref(response, models)
        if facts["listing"]:
            schema = {
                "type": "object",
                "properties": {
                    "items": {"type": "array", "items": schema},
                    "total": {"type": "integer"},
                    "limit": {"type": "integer"},
                    "offset": {"type": "integer"},
                },
            }
        ok["content"] = {"application/json": {"schema": schema}}
    op["responses"][str(facts["status"])] = ok
    for code in ("401", "403", "404", "409", "413", "422"):
        op["responses"][code] = {
            "description": "错误",
            "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}},
        }
    return op


@bp.get("/openapi.json")
def get_openapi() -> dict:
    return build_document(current_app)


DOCS_HTML = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>API 文档 - 宁夏应急资源协同服务</title>
<link rel="stylesheet" href="../../static/vendor/swagger-ui/swagger-ui.css"></head><body><div id="ui"></div>
<script src="../../static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="../../static/js/api-docs.js"></script></body></html>"""


@bp.get("/docs")
def show_docs() -> tuple[str, int, dict[str, str]]:
    return DOCS_HTML, 200, {"Content-Type": "text/html; charset=utf-8"}


@bp.get("/docs/static/<path:filename>")
def docs_static(filename: str) -> Response:
    return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)
