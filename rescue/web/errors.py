"""Errors to HTTP in one place: JSON for the API, pages for people; a 500 rolls back and hides details."""

import logging

from flask import Flask, g, jsonify, render_template, request
from sqlalchemy.exc import DataError, StatementError
from werkzeug.exceptions import HTTPException

from rescue.errors import RescueError

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation",
    429: "too_many_requests",
}
_HTTP_MESSAGES = {
    400: "请求格式错误",
    401: "请先登录",
    403: "无权访问",
    404: "资源不存在",
    405: "不支持该请求方法",
    409: "与现有数据冲突",
    413: "请求体过大",
    415: "不支持的内容类型",
    422: "提交的数据有误",
    429: "请求过于频繁",
    500: "服务器内部错误, 已记录",
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/health" or not request.accept_mimetypes.accept_html


def _respond(status: int, code: str, message: str, fields: dict | None = None, extra: dict | None = None):
    session = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()
        g.pop("actor", None)  # detached now: the error page's frame loads the signed-in user afresh
    if _wants_json():
        return jsonify({"error": code, "message": message, "fields": fields or {}} | (extra or {})), status
    return render_template("error.html", status=status, message=message, fields=fields or {}, extra=extra or {}), status


def _unstorable(exc: Exception) -> bool:
    """Whether the database refused a value itself (PostgreSQL's DataError, SQLite's integer overflow, NUL)."""
    orig = exc.orig if isinstance(exc, StatementError) else exc
    if isinstance(exc, DataError):
        return True
    if isinstance(orig, OverflowError):
        return "SQLite INTEGER" in str(orig)
    return isinstance(orig, ValueError) and "NUL" in str(orig)


def init_app(app: Flask) -> None:
    @app.errorhandler(RescueError)
    def handle_rescue_error(exc: RescueError):
        return _respond(exc.status, exc.code, exc.message, exc.fields, exc.extra)

    @app.errorhandler(HTTPException)
    def handle_http_error(exc: HTTPException):
        status = exc.code or 500
        return _respond(status, _HTTP_CODES.get(status, "error"), _HTTP_MESSAGES.get(status, exc.description or ""))

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        if _unstorable(exc):
            # a value the database cannot hold (an integer beyond its range, a NUL character) that no schema
            # bounded: the client's input, not a server fault; logged so the missing bound is added where it belongs
            log.warning("value the database refused on %s %s: %s", request.method, request.path, exc)
            return _respond(422, "validation", "提交的数值超出允许范围或包含无法保存的字符")
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _respond(500, "internal", _HTTP_MESSAGES[500])
