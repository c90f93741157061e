"""Response statistics: real incidents, with drills reported apart."""

from datetime import datetime

from flask import request

from rescue.dispatch import statistics
from rescue.errors import ValidationError
from rescue.models import Role
from rescue.web.api import bp
from rescue.web.api.openapi import documented
from rescue.web.auth import roles_required
from rescue.web.extensions import get_session


@bp.get("/statistics")
@documented("响应统计 (实战与演练分开; 演练不计入实战统计)", query={"since": {"type": "string", "format": "date-time"}})
@roles_required(Role.command_center, Role.regulator)
def get_statistics() -> dict:
    since = None
    if raw := request.args.get("since"):
        try:
            since = datetime.fromisoformat(raw)
            if since.tzinfo is None:
                raise ValueError
        except ValueError:
            raise ValidationError({"since": "应为带时区的 ISO 8601 时间"}, "查询参数有误") from None
    session = get_session()
    return {
        "real": statistics.response_statistics(session, since=since),
        "drills": statistics.response_statistics(session, since=since, drills=True),
    }
