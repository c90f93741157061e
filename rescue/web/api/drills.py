"""Drill views: plans (CRUD), starting a run in drill mode, recording it, and the compliance report (JSON or .xlsx)."""

from flask import Response, request

from rescue.clock import CHINA
from rescue.db import utcnow
from rescue.drills import compliance, plans, records, runs
from rescue.drills.schemas import ComplianceReportOut, DrillPlanOut, DrillRunOut, PlanIn, PlanPatch, RecordIn, StartIn
from rescue.drills.serialize import serialize_measured_run, serialize_plan, serialize_run
from rescue.errors import ForbiddenError, ValidationError
from rescue.models import Role
from rescue.models.enums import INDUSTRY_NAMES
from rescue.web.api import bp, int_arg, json_body, page, service_area
from rescue.web.api.openapi import documented
from rescue.web.auth import current_user, roles_required
from rescue.web.extensions import get_alert_settings, get_roads, get_session

_WRITERS = (Role.command_center, Role.enterprise_admin)
_COMPLIANCE_QUERY = {
    "city": {"type": "string"},
    "industry": {"type": "string", "enum": sorted(INDUSTRY_NAMES)},
    "status": {"type": "string", "enum": ["ok", "due_soon", "overdue"]},
    "format": {"type": "string", "enum": ["json", "xlsx"], "description": "xlsx: 监管导出"},
}


@bp.get("/drills")
@roles_required()
@documented(
    "演练计划列表 (企业只看到本企业组织或参加的)",
    response=DrillPlanOut,
    listing=True,
    query={
        "enterprise_id": {"type": "integer"},
        "active": {"type": "boolean"},
        "limit": {"type": "integer"},
        "offset": {"type": "integer"},
    },
)
def list_drills() -> dict:
    errors: dict[str, str] = {}
    limit = int_arg(request.args, "limit", 50, 1, 500, errors)
    offset = int_arg(request.args, "offset", 0, 0, 10**9, errors)
    enterprise_id = int_arg(request.args, "enterprise_id", 0, 0, 2**31, errors) or None
    active = request.args.get("active")
    if active not in (None, "true", "false"):
        errors["active"] = "应为 true 或 false"
    for name in set(request.args) - {"limit", "offset", "enterprise_id", "active"}:
        errors[name] = "未知的查询参数"
    if errors:
        raise ValidationError(errors)
    session = get_session()
    now = utcnow()
    rows, total = plans.list_plans(
        session,
        current_user(),
        enterprise_id=enterprise_id,
        active=None if active is None else active == "true",
        limit=limit,
        offset=offset,
    )
    return page([serialize_plan(session, p, now=now) for p in rows], total, limit, offset)


@bp.post("/drills")
@roles_required(*_WRITERS)
@documented("制定演练计划 (一次或每N周/月; 自动生成提醒)", body=PlanIn, response=DrillPlanOut, status=201)
def create_drill() -> tuple[dict, int]:
    session = get_session()
    now = utcnow()
    plan = plans.create_plan(session, json_body(), actor=current_user(), now=now)
    session.commit()
    return serialize_plan(session, plan, now=now), 201


@bp.get("/drills/<int:plan_id>")
@roles_required()
@documented("演练计划", response=DrillPlanOut)
def get_drill(plan_id: int) -> dict:
    session = get_session()
    return serialize_plan(session, plans.get_plan(session, plan_id, current_user()), now=utcnow())


@bp.patch("/drills/<int:plan_id>")
@roles_required(*_WRITERS)
@documented("修改演练计划 (未开始的场次与提醒按新计划重排)", body=PlanPatch, response=DrillPlanOut)
def update_drill(plan_id: int) -> dict:
    session = get_session()
    now = utcnow()
    plan = plans.update_plan(
        session, plans.get_plan(session, plan_id, current_user()), json_body(), actor=current_user(), now=now
    )
    session.commit()
    return serialize_plan(session, plan, now=now)


@bp.delete("/drills/<int:plan_id>")
@roles_required(*_WRITERS)
@documented("取消演练计划 (以后的场次与提醒取消, 记录保留)", response=DrillPlanOut)
def cancel_drill(plan_id: int) -> dict:
    session = get_session()
    now = utcnow()
    plan = plans.cancel_plan(session, plans.get_plan(session, plan_id, current_user()), actor=current_user(), now=now)
    session.commit()
    return serialize_plan(session, plan, now=now)


@bp.post("/drills/<int:plan_id>/start")
@roles_required(*_WRITERS)
@documented(
    "开始演练: 以演练模式建立事件并经正式调派流程通知参演队伍 (短信带【演练】)", body=StartIn, response=DrillRunOut, status=201
)
def start_drill(plan_id: int) -> tuple[dict, int]:
    session = get_session()
    body = StartIn.read(request.get_json(silent=True))
    plan = plans.get_plan(session, plan_id, current_user())
    run = runs.start_run(
        session,
        get_roads(),
        plan,
        actor=current_user(),
        now=utcnow(),
        area=service_area(),
        settings=get_alert_settings(),
        run_id=body.run_id,
    )
    session.commit()  # then the outbox sends
    return serialize_run(session, run), 201


@bp.post("/drills/<int:plan_id>/record")
@roles_required(*_WRITERS)
@documented(
    "记录演练: 已举行/已取消、实际时间、出勤、各队响应与集结时间、评估与整改项 (AQ/T 9009)", body=RecordIn, response=DrillRunOut
)
def record_drill(plan_id: int) -> dict:
    session = get_session()
    plan = plans.get_plan(session, plan_id, current_user())
    run = records.record_run(session, plan, json_body(), actor=current_user(), now=utcnow())
    session.commit()
    return serialize_run(session, run)


@bp.get("/drills/<int:plan_id>/runs/<int:run_id>")
@roles_required()
@documented("演练场次: 参演人员与回执、提醒、各队测得时间、评估与整改", response=DrillRunOut)
def get_drill_run(plan_id: int, run_id: int) -> dict:
    session = get_session()
    run = plans.get_run(session, plans.get_plan(session, plan_id, current_user()), run_id)
    body = serialize_measured_run(session, run)
    session.rollback()  # measuring a running drill shows times; recording stores them
    return body


@bp.get("/drills/compliance")
@roles_required(Role.command_center, Role.regulator, Role.enterprise_admin)
@documented(
    "演练合规: 按城市与行业列出即将到期与已逾期的企业; format=xlsx 导出", response=ComplianceReportOut, query=_COMPLIANCE_QUERY
)
def get_compliance() -> dict | Response:
    errors: dict[str, str] = {}
    args = request.args
    for name in set(args) - set(_COMPLIANCE_QUERY):
        errors[name] = "未知的查询参数"
    if args.get("industry") and args["industry"] not in INDUSTRY_NAMES:
        errors["industry"] = "未知的行业"
    if args.get("status") and args["status"] not in ("ok", "due_soon", "overdue"):
        errors["status"] = "应为 ok, due_soon 或 overdue"
    fmt = args.get("format", "json")
    if fmt not in ("json", "xlsx"):
        errors["format"] = "应为 json 或 xlsx"
    if errors:
        raise ValidationError(errors)
    actor = current_user()
    if fmt == "xlsx" and actor.role == Role.enterprise_admin:
        raise ForbiddenError("导出仅限监管部门与指挥中心")
    now = utcnow()
    filters = {k: args.get(k) or None for k in ("city", "industry", "status")}
    session = get_session()
    if fmt == "xlsx":
        data = compliance.to_xlsx(compliance.evaluate(session, now=now, actor=actor, **filters), now=now)
        name = f"drill-compliance-{now.astimezone(CHINA):%Y%m%d}.xlsx"
        return Response(
            data,
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f"attachment; filename={name}"},
        )
    return compliance.report(session, now=now, actor=actor, **filters)
