"""Command-center console tools: road closures drawn on the map, flagged SMS replies to settle, drills in progress."""

import json

from flask import current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from rescue.db import utcnow
from rescue.dispatch import escalation, replies
from rescue.clock import CHINA
from rescue.errors import RescueError
from rescue.models import Assignment, DrillRun, InboundMessage, Incident, Role
from rescue.models.drills import RUN_STATUS_NAMES, DrillRunStatus
from rescue.models.enums import ASSIGNMENT_STATUS_NAMES, OPEN_ASSIGNMENT_STATUSES
from rescue.roads import closures
from rescue.web.auth import current_user
from rescue.web.extensions import get_alert_settings, get_session
from rescue.web.pages.common import page_roles
from rescue.web.pages.console import bp

OUTCOME_NAMES = {"unclear": "无法识别", "unknown_number": "未知号码", "unknown_code": "回复码不存在", "ambiguous": "无法确定指派",
                 "no_open_assignment": "没有待回复的指派", "opt_out": "退订"}
REVIEW_LIMIT = 200


def _closure_data(form) -> dict:
    """The closure form as the API's body: a point and radius, or a GeoJSON polygon drawn on the map."""
    data = {"reason": form.get("reason", "").strip()}
    if form.get("shape") == "polygon":
        try:
            data["polygon"] = json.loads(form.get("polygon") or "null")
        except ValueError:
            data["polygon"] = "?"  # reported by the service with the API's wording
    else:
        for name in ("lat", "lon", "radius_m"):
            raw = form.get(name, "").strip()
            try:
                data[name] = float(raw) if raw else None
            except ValueError:
                data[name] = raw
    raw_hours = form.get("hours", "").strip()
    if raw_hours:
        try:
            data["hours"] = float(raw_hours)
        except ValueError:
            data["hours"] = raw_hours
    if form.get("expires_at", "").strip():
        data["expires_at"] = form["expires_at"].strip() + (":00" if len(form["expires_at"].strip()) == 16 else "") + "+08:00"
    return data


def _closures_page(values=None, errors=None, message=None, status=200):
    from rescue.web.extensions import get_roads

    session, now = get_session(), utcnow()
    rows = [closures.serialize(get_roads(), r, now=now) for r in closures.active_closures(session, now=now)]
    config = {"tileUrl": current_app.config.get("MAP_TILE_URL", ""),
              "tileAttribution": current_app.config.get("MAP_TILE_ATTRIBUTION", ""),
              "area": list(current_app.config["SERVICE_AREA"]), "closures": rows}
    return render_template("pages/closures.html", rows=rows, values=values or {}, errors=errors or {}, message=message,
                           closures_config=config), status


@bp.get("/closures")
@page_roles(Role.command_center)
def list_closures():
    return _closures_page()


@bp.post("/closures")
@page_roles(Role.command_center)
def create_closure():
    from rescue.web.api import service_area
    from rescue.web.extensions import get_roads

    session = get_session()
    try:
        row = closures.create_closure(session, get_roads(), _closure_data(request.form), area=service_area(),
                                      actor=current_user(), now=utcnow())
    except RescueError as exc:
        session.rollback()
        return _closures_page(request.form, {k.split(".")[0]: v for k, v in exc.fields.items()}, exc.message, exc.status)
    session.commit()
    flash(f"已封闭道路: {row.reason} (下一次排序即生效)", "success")
    return redirect(url_for("console.list_closures"))


@bp.post("/closures/<int:closure_id>/lift")
@page_roles(Role.command_center)
def lift_closure(closure_id):
    session = get_session()
    try:
        row = closures.lift_closure(session, closure_id, now=utcnow())
    except RescueError as exc:
        session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("console.list_closures"))
    session.commit()
    flash(f"已解除封闭: {row.reason}", "success")
    return redirect(url_for("console.list_closures"))


@bp.get("/replies")
@page_roles(Role.command_center)
def list_flagged_replies():
    session = get_session()
    rows = session.scalars(select(InboundMessage).where(InboundMessage.needs_review.is_(True))
                           .order_by(InboundMessage.id.desc()).limit(REVIEW_LIMIT)).all()
    open_rows = session.execute(
        select(Assignment, Incident.number, Incident.drill).join(Incident, Incident.id == Assignment.incident_id)
        .where(Assignment.status.in_((*OPEN_ASSIGNMENT_STATUSES, "no_answer"))).order_by(Assignment.id.desc())).all()
    choices = [(a.id, f"{'【演练】' if drill else ''}{number} · {a.resource_name} · 回复码{a.reply_code} · "
                      f"{ASSIGNMENT_STATUS_NAMES.get(a.status.value, a.status.value)}") for a, number, drill in open_rows]
    statuses = [(s, ASSIGNMENT_STATUS_NAMES.get(s, s)) for s in sorted(escalation.CORRECTABLE)]
    return render_template("pages/replies.html", rows=rows, choices=choices, statuses=statuses, outcomes=OUTCOME_NAMES,
                           china=CHINA)


@bp.post("/replies/<int:message_id>")
@page_roles(Role.command_center)
def review_reply(message_id):
    """Assign a flagged reply to an assignment (optionally setting its status) or dismiss it."""
    session = get_session()
    record = session.get(InboundMessage, message_id)
    if record is None or not record.needs_review:
        flash("该回复已处理或不存在", "error")
        return redirect(url_for("console.list_flagged_replies"))
    assignment, status = None, request.form.get("status") or None
    if request.form.get("action") == "assign":
        raw = request.form.get("assignment_id", "")
        assignment = session.get(Assignment, int(raw)) if raw.isdigit() else None
        if assignment is None:
            flash("请选择要关联的指派", "error")
            return redirect(url_for("console.list_flagged_replies"))
        if status is not None and status not in escalation.CORRECTABLE:
            flash("未知的状态", "error")
            return redirect(url_for("console.list_flagged_replies"))
    else:
        status = None
    note = request.form.get("note", "").strip()[:500]
    replies.review(session, record, actor=current_user().username, now=utcnow(), assignment=assignment, status=status,
                   note=note, settings=get_alert_settings())
    session.commit()  # then the outbox sends any escalation
    flash("已关联到指派" if assignment else "已忽略该回复", "success")
    return redirect(url_for("console.list_flagged_replies"))


@bp.get("/drills")
@page_roles(Role.command_center)
def list_drill_runs():
    session = get_session()
    rows = session.scalars(select(DrillRun).where(DrillRun.status.in_((DrillRunStatus.running, DrillRunStatus.held)))
                           .order_by(DrillRun.started_dt.desc().nulls_last(), DrillRun.id.desc()).limit(50)).all()
    running = [r for r in rows if r.status == DrillRunStatus.running]
    return render_template("pages/console_drills.html", running=running, recent=[r for r in rows if r not in running][:20],
                           run_names=RUN_STATUS_NAMES, drill_page=bool(running), china=CHINA)
