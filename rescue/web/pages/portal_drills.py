"""Enterprise portal: drill plans — list, form, upcoming runs, starting a run in drill mode, recording its results."""

from flask import flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from rescue.db import utcnow
from rescue.drills import plans, records, runs
from rescue.drills.schemas import DEFAULT_OFFSETS_MIN, RATING_NAMES
from rescue.drills.serialize import serialize_measured_run, serialize_plan
from rescue.errors import RescueError
from rescue.models import DrillPlan, DrillRun, Role
from rescue.models.drills import (
    DRILL_CONTENT_NAMES,
    DRILL_FORM_NAMES,
    DRILL_PURPOSE_NAMES,
    PLAN_LEVEL_NAMES,
    RUN_STATUS_NAMES,
    DrillRunStatus,
)
from rescue.web.api import service_area
from rescue.web.auth import current_user
from rescue.web.extensions import get_alert_settings, get_roads, get_session
from rescue.web.pages.common import field_label, page_roles
from rescue.web.pages.portal import EDITORS, bp

# reminder offsets offered as checkboxes (minutes before the start); a plan's own others are shown too
OFFSET_CHOICES = (
    (7 * 24 * 60, "提前7天"),
    (3 * 24 * 60, "提前3天"),
    (24 * 60, "提前1天"),
    (120, "提前2小时"),
    (30, "提前30分钟"),
)
REPEAT_NAMES = {"none": "一次", "weeks": "每N周", "months": "每N月"}
# the fields of the plan and record forms, as their labels say them (for the list of what was wrong)
FIELD_NAMES = {
    "name": "演练名称",
    "enterprise_id": "组织单位",
    "content": "演练内容",
    "form": "演练形式",
    "purpose": "演练目的",
    "plan_level": "预案层级",
    "emergency_plan_id": "应急预案",
    "incident_type": "情景事件类型",
    "place": "演练地点",
    "lat": "纬度",
    "lon": "经度",
    "muster_point": "集结点",
    "scenario": "情景与脚本",
    "starts_at": "开始时间",
    "duration_min": "时长(分钟)",
    "repeat": "重复",
    "repeat_interval": "重复间隔",
    "repeat_count": "共举行次数",
    "repeat_until": "重复截止",
    "reminder_offsets_min": "提醒",
    "team_ids": "参演队伍",
    "enterprise_ids": "参演企业",
    "run_id": "场次",
    "status": "结果",
    "cancel_reason": "取消原因",
    "actual_start": "实际开始",
    "actual_end": "实际结束",
    "headcount": "参演人数",
    "teams": "各队时间",
    "team_id": "队伍",
    "mustered_at": "集结完毕",
    "acknowledged_at": "响应时间",
    "present": "到场人数",
    "attendance": "出勤",
    "participant_id": "人员",
    "attended": "出勤",
    "evaluation": "评估结论",
    "rating": "评定",
    "findings": "发现的问题",
    "rectifications": "整改项",
    "description": "整改内容",
    "owner": "责任人/部门",
    "due_date": "完成期限",
    "id": "整改项",
}


def _error_list(errors: dict) -> list[tuple[str, str]]:
    """(label, reason) of every error, for the list above a form: Chinese names, never field codes."""
    return [(field_label(k, FIELD_NAMES), v) for k, v in errors.items()]


RECTIFICATION_NAMES = {"open": "待整改", "in_progress": "整改中", "done": "已完成"}
BLANK_RECTIFICATIONS = 2
PLAN_TEXT = ("name", "incident_type", "place", "muster_point", "scenario", "content", "form", "purpose", "plan_level", "repeat")
PLAN_INTS = ("duration_min", "repeat_interval", "repeat_count")


def _number(raw: str | None, kind: type = int) -> int | float | str | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return kind(raw)
    except ValueError:
        return raw  # the schema reports it with the API's wording


def _local_time(raw: str | None) -> str | None:
    """A datetime-local value (Beijing time, as people type it) as the API's ISO 8601 with +08:00."""
    raw = (raw or "").strip()
    if not raw:
        return None
    return raw + (":00" if len(raw) == 16 else "") + "+08:00"


def _form_time(iso: str | None) -> str:
    return iso[:16] if iso else ""


def _ids(form: MultiDict, name: str) -> list:
    return [_number(v) for v in form.getlist(name)]


def _plan_data(form: MultiDict) -> dict:
    """The plan form as the API's body: blank optional fields are left out (the schema's defaults apply)."""
    data = {k: form.get(k, "").strip() for k in PLAN_TEXT}
    for name in PLAN_INTS:
        if (value := _number(form.get(name))) is not None:
            data[name] = value
    for name in ("lat", "lon"):
        if (value := _number(form.get(name), float)) is not None:
            data[name] = value
    data["starts_at"] = _local_time(form.get("starts_at"))
    data["repeat_until"] = form.get("repeat_until", "").strip() or None
    data["reminder_offsets_min"] = sorted({v for v in _ids(form, "reminder_offsets_min") if v is not None}, reverse=True)
    data["team_ids"] = _ids(form, "team_ids")
    data["enterprise_ids"] = _ids(form, "enterprise_ids")
    data["enterprise_id"] = _number(form.get("enterprise_id"))
    return data


def _choices() -> dict:
    return {
        "content": DRILL_CONTENT_NAMES,
        "form": DRILL_FORM_NAMES,
        "purpose": DRILL_PURPOSE_NAMES,
        "plan_level": PLAN_LEVEL_NAMES,
        "repeat": REPEAT_NAMES,
        **plans.form_choices(get_session(), current_user()),
    }


def _plan_form(
    plan: DrillPlan | None, values: dict, errors: dict, *, message: str | None = None, status: int = 200
) -> tuple[str, int]:
    offsets = dict(OFFSET_CHOICES) | {
        m: f"提前{m}分钟"
        for m in values.get("reminder_offsets_min") or []
        if m not in dict(OFFSET_CHOICES) and isinstance(m, int)
    }
    return render_template(
        "pages/drill_form.html",
        plan=plan,
        values=values,
        errors={k.split(".")[0]: v for k, v in errors.items()},
        labels=FIELD_NAMES,
        message=message,
        choices=_choices(),
        offsets=sorted(offsets.items(), reverse=True),
        admin=current_user().role == Role.enterprise_admin,
    ), status


def _form_values(serialized: dict) -> dict:
    return serialized | {"starts_at": _form_time(serialized.get("starts_at"))}


@bp.get("/drills")
@page_roles(*EDITORS)
def list_drills() -> str:
    session = get_session()
    now = utcnow()
    rows, total = plans.list_plans(session, current_user(), limit=500)
    return render_template(
        "pages/drills.html", plans=[serialize_plan(session, p, now=now) for p in rows], total=total, repeat_names=REPEAT_NAMES
    )


@bp.get("/drills/new")
@page_roles(*EDITORS)
def new_drill() -> tuple[str, int]:
    user = current_user()
    defaults = {
        "content": "single",
        "form": "live",
        "purpose": "inspection",
        "plan_level": "onsite_plan",
        "repeat": "none",
        "repeat_interval": 1,
        "duration_min": 120,
        "reminder_offsets_min": list(DEFAULT_OFFSETS_MIN),
        "enterprise_id": user.enterprise_id,
        "team_ids": [],
        "enterprise_ids": [],
    }
    return _plan_form(None, defaults, {})


@bp.post("/drills/new")
@page_roles(*EDITORS)
def create_drill() -> Response | tuple[str, int]:
    session = get_session()
    data = _plan_data(request.form)
    if current_user().role == Role.enterprise_admin:
        data["enterprise_id"] = current_user().enterprise_id
    now = utcnow()
    try:
        plan = plans.create_plan(session, data, actor=current_user(), now=now)
    except RescueError as exc:
        session.rollback()
        return _plan_form(
            None, data | {"starts_at": request.form.get("starts_at", "")}, exc.fields, message=exc.message, status=exc.status
        )
    session.commit()
    flash(f"已制定演练计划: {plan.name}", "success")
    return redirect(url_for("portal.show_drill", plan_id=plan.id))


@bp.get("/drills/<int:plan_id>")
@page_roles(*EDITORS)
def show_drill(plan_id: int) -> str:
    session = get_session()
    now = utcnow()
    plan = plans.get_plan(session, plan_id, current_user())
    body = serialize_plan(session, plan, now=now)
    upcoming = [r for r in body["runs"] if r["status"] in ("scheduled", "running")]
    past = [r for r in body["runs"] if r["status"] not in ("scheduled", "running")]
    return render_template(
        "pages/drill_show.html", plan=body, upcoming=upcoming, past=past, repeat_names=REPEAT_NAMES, may_edit=_may_edit(plan)
    )


def _may_edit(plan: DrillPlan) -> bool:
    user = current_user()
    return user.role == Role.command_center or user.enterprise_id == plan.enterprise_id


@bp.get("/drills/<int:plan_id>/edit")
@page_roles(*EDITORS)
def edit_drill(plan_id: int) -> tuple[str, int]:
    session = get_session()
    plan = plans.get_plan(session, plan_id, current_user())
    return _plan_form(plan, _form_values(serialize_plan(session, plan, now=utcnow())), {})


@bp.post("/drills/<int:plan_id>/edit")
@page_roles(*EDITORS)
def update_drill(plan_id: int) -> Response | tuple[str, int]:
    session = get_session()
    plan = plans.get_plan(session, plan_id, current_user())
    data = _plan_data(request.form)
    if current_user().role == Role.enterprise_admin:
        data.pop("enterprise_id")
    data.setdefault("repeat_count", None)
    try:
        plans.update_plan(session, plan, data, actor=current_user(), now=utcnow())
    except RescueError as exc:
        session.rollback()
        return _plan_form(
            plan, data | {"starts_at": request.form.get("starts_at", "")}, exc.fields, message=exc.message, status=exc.status
        )
    session.commit()
    flash("已保存演练计划 (未开始的场次与提醒已按新计划重排)", "success")
    return redirect(url_for("portal.show_drill", plan_id=plan_id))


@bp.post("/drills/<int:plan_id>/start")
@page_roles(*EDITORS)
def start_drill(plan_id: int) -> Response:
    session = get_session()
    plan = plans.get_plan(session, plan_id, current_user())
    run_id = _number(request.form.get("run_id"))
    try:
        run = runs.start_run(
            session,
            get_roads(),
            plan,
            actor=current_user(),
            now=utcnow(),
            area=service_area(),
            settings=get_alert_settings(),
            run_id=run_id if isinstance(run_id, int) else None,
        )
    except RescueError as exc:
        session.rollback()
        flash(exc.message + "".join(f" {v}" for v in exc.fields.values()), "error")
        return redirect(url_for("portal.show_drill", plan_id=plan_id))
    session.commit()  # then the outbox sends the 【演练】 SMS
    flash("演练已开始: 已按演练模式通知参演队伍 (短信带【演练】)", "success")
    return redirect(url_for("portal.show_drill_run", plan_id=plan_id, run_id=run.id))


def _run_page(
    plan: DrillPlan,
    run: DrillRun,
    *,
    values: MultiDict | None = None,
    errors: dict | None = None,
    message: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    session = get_session()
    body = serialize_measured_run(session, run)  # a running drill shows its times so far; recording stores them
    session.rollback()
    values = values or {}
    rects = body["rectifications"] + [{} for _ in range(BLANK_RECTIFICATIONS)]
    return render_template(
        "pages/drill_run.html",
        plan=serialize_plan(session, plan, now=utcnow()),
        run=body,
        values=values,
        errors=dict(errors or {}),
        error_list=_error_list(errors or {}),
        message=message,
        rects=rects,
        drill_page=run.status == DrillRunStatus.running,
        ratings=RATING_NAMES,
        rect_names=RECTIFICATION_NAMES,
        run_names=RUN_STATUS_NAMES,
        may_edit=_may_edit(plan),
        local=_form_time,
    ), status


@bp.get("/drills/<int:plan_id>/runs/<int:run_id>")
@page_roles(*EDITORS)
def show_drill_run(plan_id: int, run_id: int) -> tuple[str, int]:
    session = get_session()
    plan = plans.get_plan(session, plan_id, current_user())
    return _run_page(plan, plans.get_run(session, plan, run_id))


def _record_data(form: MultiDict, run_id: int) -> dict:
    """The record form as the API's body (run, status, times, attendance, per-team times, evaluation, rectifications)."""
    data = {
        "run_id": run_id,
        "status": form.get("status", ""),
        "cancel_reason": form.get("cancel_reason", "").strip(),
        "actual_start": _local_time(form.get("actual_start")),
        "actual_end": _local_time(form.get("actual_end")),
        "evaluation": form.get("evaluation", "").strip(),
        "rating": form.get("rating") or None,
        "findings": [line.strip() for line in form.get("findings", "").splitlines() if line.strip()],
    }
    if (headcount := _number(form.get("headcount"))) is not None:
        data["headcount"] = headcount
    data["attendance"] = [
        {"participant_id": _number(pid), "attended": form.get(f"attended-{pid}") == "1"}
        for pid in form.getlist("participant_ids")
    ]
    data["teams"] = []
    for tid in form.getlist("team_ids"):
        item = {
            "team_id": _number(tid),
            "mustered_at": _local_time(form.get(f"mustered-{tid}")),
            "acknowledged_at": _local_time(form.get(f"acknowledged-{tid}")),
        }
        if (present := _number(form.get(f"present-{tid}"))) is not None:
            item["present"] = present
        data["teams"].append(item)
    data["rectifications"] = []
    i = 0
    while f"rect-{i}-description" in form:
        row = {k: form.get(f"rect-{i}-{k}", "").strip() for k in ("id", "description", "owner", "due_date", "status")}
        if row["description"] or row["owner"]:
            item = {
                "description": row["description"],
                "owner": row["owner"],
                "due_date": row["due_date"] or None,
                "status": row["status"] or "open",
            }
            if row["id"]:
                item["id"] = _number(row["id"])
            data["rectifications"].append(item)
        i += 1
    return data


@bp.post("/drills/<int:plan_id>/runs/<int:run_id>/record")
@page_roles(*EDITORS)
def record_drill(plan_id: int, run_id: int) -> Response | tuple[str, int]:
    session = get_session()
    plan = plans.get_plan(session, plan_id, current_user())
    run = plans.get_run(session, plan, run_id)
    data = _record_data(request.form, run.id)
    try:
        records.record_run(session, plan, data, actor=current_user(), now=utcnow())
    except RescueError as exc:
        session.rollback()
        return _run_page(
            plan,
            plans.get_run(session, plan, run_id),
            values=request.form,
            errors=exc.fields,
            message=exc.message,
            status=exc.status,
        )
    session.commit()
    flash(
        "已记录演练结果" + ("; 测得集结用时的队伍已更新出动时间" if data["status"] == DrillRunStatus.held.value else ""),
        "success",
    )
    return redirect(url_for("portal.show_drill_run", plan_id=plan_id, run_id=run_id))
