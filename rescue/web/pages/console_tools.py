"""Command-center console tools: road closures drawn on the map, flagged SMS replies to settle, drills in progress."""

import json

from flask import current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from rescue.clock import CHINA
from rescue.db import utcnow
from rescue.dispatch import escalation, replies
from rescue.dispatch.schemas import ReviewIn
from rescue.drills import console as drill_console
from rescue.errors import RescueError
from rescue.models import Role
from rescue.models.drills import RUN_STATUS_NAMES, DrillRunStatus
from rescue.models.enums import ASSIGNMENT_STATUS_NAMES
from rescue.roads import closures
from rescue.validation import parse_partly
from rescue.web.api import service_area
from rescue.web.auth import current_user
from rescue.web.extensions import get_alert_settings, get_roads, get_session
from rescue.web.pages.common import page_roles
from rescue.web.pages.console import bp

OUTCOME_NAMES = {
    "unclear": "无法识别",
    "unknown_number": "未知号码",
    "unknown_code": "回复码不存在",
    "ambiguous": "无法确定指派",
    "no_open_assignment": "没有待回复的指派",
    "opt_out": "退订",
}
REVIEW_LIMIT = 200


def _closure_data(form) -> dict:
    """The closure form as the API's body: a point and radius, or a GeoJSON polygon drawn on the map."""
    data = {"reason": form.get("reason", "").strip(), "kind": form.get("kind") or "impassable"}
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


def _closures_page(
    values: dict | None = None, errors: dict | None = None, message: str | None = None, status: int = 200
) -> tuple[str, int]:
    session, now = get_session(), utcnow()
    rows = [closures.serialize(get_roads(), r, now=now) for r in closures.active_closures(session, now=now)]
    config = {
        "tileUrl": current_app.config.get("MAP_TILE_URL", ""),
        "tileAttribution": current_app.config.get("MAP_TILE_ATTRIBUTION", ""),
        "area": list(current_app.config["SERVICE_AREA"]),
        "closures": rows,
    }
    return render_template(
        "pages/closures.html", rows=rows, values=values or {}, errors=errors or {}, message=message, closures_config=config
    ), status


@bp.get("/closures")
@page_roles(Role.command_center)
def list_closures() -> tuple[str, int]:
    return _closures_page()


@bp.post("/closures")
@page_roles(Role.command_center)
def create_closure() -> Response | tuple[str, int]:
    session = get_session()
    try:
        row = closures.create_closure(
            session, get_roads(), _closure_data(request.form), area=service_area(), actor=current_user(), now=utcnow()
        )
    except RescueError as exc:
        session.rollback()
        return _closures_page(request.form, {k.split(".")[0]: v for k, v in exc.fields.items()}, exc.message, exc.status)
    session.commit()
    flash(f"已封闭道路: {row.reason} (下一次排序即生效)", "success")
    return redirect(url_for("console.list_closures"))


@bp.post("/closures/<int:closure_id>/lift")
@page_roles(Role.command_center)
def lift_closure(closure_id: int) -> Response:
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
def list_flagged_replies() -> str:
    session = get_session()
    rows = replies.flagged(session, limit=REVIEW_LIMIT)
    choices = [
        (
            a.id,
            f"{'【演练】' if drill else ''}{number} · {a.resource_name} · 回复码{a.reply_code} · "
            f"{ASSIGNMENT_STATUS_NAMES.get(a.status.value, a.status.value)}",
        )
        for a, number, drill in replies.open_for_review(session)
    ]
    statuses = [(s, ASSIGNMENT_STATUS_NAMES.get(s, s)) for s in sorted(escalation.CORRECTABLE)]
    return render_template(
        "pages/replies.html", rows=rows, choices=choices, statuses=statuses, outcomes=OUTCOME_NAMES, china=CHINA
    )


# the page's wording for the fields the review operation refuses
_REVIEW_PROBLEMS = {"assignment_id": "请选择要关联的指派", "status": "未知的状态"}


@bp.post("/replies/<int:message_id>")
@page_roles(Role.command_center)
def review_reply(message_id: int) -> Response:
    """Assign a flagged reply to an assignment (optionally setting its status) or dismiss it."""
    note = request.form.get("note", "").strip()[:500]
    data: dict = {"note": note}
    if request.form.get("action") == "assign":
        raw = request.form.get("assignment_id", "")
        data |= {"assignment_id": int(raw) if raw.isdigit() else None, "status": request.form.get("status") or None}
        # every problem of the row at once: no assignment chosen and a status the list does not offer
        _, bad = parse_partly(ReviewIn, data)
        problems = [_REVIEW_PROBLEMS["assignment_id"]] if data["assignment_id"] is None else []
        problems += [_REVIEW_PROBLEMS["status"]] if "status" in bad else []
        if problems:
            flash("；".join(problems), "error")
            return redirect(url_for("console.list_flagged_replies"))
    session = get_session()
    try:
        replies.settle(
            session,
            message_id,
            data,
            actor=current_user().username,
            now=utcnow(),
            settings=get_alert_settings(),
            pending_only=True,
        )
    except RescueError as exc:
        session.rollback()
        problems = [_REVIEW_PROBLEMS.get(k, v) for k, v in exc.fields.items()]
        flash("；".join(problems) or exc.message, "error")
        return redirect(url_for("console.list_flagged_replies"))
    session.commit()  # then the outbox sends any escalation
    flash("已关联到指派" if "assignment_id" in data else "已忽略该回复", "success")
    return redirect(url_for("console.list_flagged_replies"))


@bp.get("/drills")
@page_roles(Role.command_center)
def list_drill_runs() -> str:
    rows = drill_console.active_runs(get_session(), limit=50)
    running = [r for r in rows if r.status == DrillRunStatus.running]
    return render_template(
        "pages/console_drills.html",
        running=running,
        recent=[r for r in rows if r not in running][:20],
        run_names=RUN_STATUS_NAMES,
        drill_page=bool(running),
        china=CHINA,
    )
