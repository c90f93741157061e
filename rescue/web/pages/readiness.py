"""Readiness pages: the enterprise's plans, certificates, inspections and hazard sources; the regulator's filing
desk and compliance; the command center's compensation rates. Plain forms, no scripts."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from rescue.clock import local_date
from rescue.db import utcnow
from rescue.errors import RescueError
from rescue.models import Certificate, EmergencyPlan, Enterprise, Role, TrainingSession
from rescue.models.drills import PLAN_LEVEL_NAMES
from rescue.models.readiness import FilingState
from rescue.readiness import certificates, compensation, hazards, inspections, plans
from rescue.readiness.kinds import HAZARDS, PLANS
from rescue.registry import registry
from rescue.web.auth import current_user
from rescue.web.extensions import get_roads, get_session
from rescue.web.pages.common import page_roles

bp = Blueprint("readiness", __name__, url_prefix="/readiness")
OWNERS = (Role.enterprise_admin, Role.command_center)
READERS = (Role.regulator, Role.command_center)


def _today():
    return local_date(utcnow())


def _folder():
    return plans.upload_dir(current_app.instance_path, current_app.config.get("UPLOAD_DIR"))


def _all(kind):
    rows, _ = registry.list_records(get_session(), kind, current_user(), registry.Query(filters={}, limit=registry.MAX_LIMIT))
    return rows


def _failed(exc: RescueError) -> None:
    flash(exc.message + ("：" + "；".join(f"{k} {v}" for k, v in exc.fields.items()) if exc.fields else ""), "error")


@bp.get("/")
@page_roles(*OWNERS)
def show_readiness():
    session, user, today = get_session(), current_user(), _today()
    return render_template(
        "pages/readiness.html",
        plans=[plans.serialize(p, today=today) for p in _all(PLANS)],
        levels=PLAN_LEVEL_NAMES,
        expiring=[certificates.serialize(c, today=today) for c in certificates.expiring(session, user, today=today)],
        unserviceable=inspections.equipment_status(session, user, today=today, only_unserviceable=True),
        sources=[hazards.serialize(s) for s in _all(HAZARDS)],
        enterprises=session.execute(select(Enterprise.id, Enterprise.name).order_by(Enterprise.name)).all()
        if user.role == Role.command_center
        else [],
        max_mb=plans.MAX_DOCUMENT_BYTES // (1024 * 1024),
    )


@bp.post("/plans")
@page_roles(*OWNERS)
def create_plan():
    form = request.form
    data = {k: form.get(k, "").strip() for k in ("level", "title", "version")}
    data["review_date"] = form.get("review_date") or None
    if form.get("enterprise_id"):
        data["enterprise_id"] = int(form["enterprise_id"]) if form["enterprise_id"].isdigit() else form["enterprise_id"]
    session = get_session()
    try:
        plan = plans.create(session, current_user(), data, now=utcnow())
        session.commit()
        flash(f"已登记预案: {plan.title}", "success")
    except RescueError as exc:
        session.rollback()
        _failed(exc)
    return redirect(url_for("readiness.show_readiness"))


@bp.post("/plans/<int:plan_id>/document")
@page_roles(*OWNERS)
def upload_plan_document(plan_id):
    request.max_content_length = plans.MAX_DOCUMENT_BYTES + 64 * 1024
    upload = request.files.get("file")
    session = get_session()
    try:
        if upload is None or not upload.filename:
            from rescue.errors import ValidationError

            raise ValidationError({"file": "请选择 PDF 文件"})
        _plan, replaced = plans.store_document(
            session, current_user(), plan_id, upload.stream, upload.filename, folder=_folder(), now=utcnow()
        )
        session.commit()
        if replaced is not None:
            replaced.unlink(missing_ok=True)
        flash("预案文件已上传", "success")
    except RescueError as exc:
        session.rollback()
        _failed(exc)
    return redirect(url_for("readiness.show_readiness"))


@bp.post("/plans/<int:plan_id>/submit")
@page_roles(*OWNERS)
def submit_plan(plan_id):
    session = get_session()
    try:
        plans.submit(session, current_user(), plan_id, now=utcnow())
        session.commit()
        flash("已提交监管部门备案", "success")
    except RescueError as exc:
        session.rollback()
        _failed(exc)
    return redirect(url_for("readiness.show_readiness"))


@bp.get("/regulator")
@page_roles(*READERS)
def show_regulator():
    session, user, today = get_session(), current_user(), _today()
    pending = session.scalars(
        select(EmergencyPlan).where(EmergencyPlan.filing_state == FilingState.submitted).order_by(EmergencyPlan.submitted_dt)
    ).all()
    year_ago = today.replace(year=today.year - 1)
    training = dict(
        session.execute(
            select(TrainingSession.enterprise_id, func.count())
            .where(TrainingSession.held_on >= year_ago)
            .group_by(TrainingSession.enterprise_id)
        ).all()
    )
    expired = dict(
        session.execute(
            select(Certificate.enterprise_id, func.count())
            .where(Certificate.expires_on < today)
            .group_by(Certificate.enterprise_id)
        ).all()
    )
    names = dict(session.execute(select(Enterprise.id, Enterprise.name)).all())
    readiness = sorted(
        (
            {"enterprise": names.get(e, ""), "trainings": training.get(e, 0), "expired": expired.get(e, 0)}
            for e in set(training) | set(expired)
            if e
        ),
        key=lambda r: r["enterprise"],
    )
    try:
        minutes = min(max(float(request.args.get("minutes", 60)), 1), 1440)
    except ValueError:
        minutes = 60.0
    from rescue.web.api.readiness import usable_pool

    now = utcnow()
    cover = hazards.coverage(session, get_roads(), user, minutes=minutes, pool=usable_pool(session, get_roads(), now), now=now)
    return render_template(
        "pages/readiness_regulator.html",
        pending=[plans.serialize(p, today=today) for p in pending],
        compliance=plans.compliance(session, user, today=today),
        readiness=readiness,
        cover=cover,
        minutes=minutes,
        rates=compensation.rates_json(compensation.current_rates(session)),
        can_decide=user.role == Role.regulator,
        can_set_rates=user.role == Role.command_center,
    )


@bp.post("/plans/<int:plan_id>/decision")
@page_roles(Role.regulator)
def decide_plan(plan_id):
    session = get_session()
    data = {"decision": request.form.get("decision", ""), "comment": request.form.get("comment", "").strip()}
    try:
        plan = plans.decide(session, current_user(), plan_id, data, now=utcnow())
        session.commit()
        flash(f"预案「{plan.title}」已{'备案' if plan.filing_state == FilingState.accepted else '退回'}", "success")
    except RescueError as exc:
        session.rollback()
        _failed(exc)
    return redirect(url_for("readiness.show_regulator"))


@bp.post("/rates")
@page_roles(Role.command_center)
def set_rates():
    session = get_session()
    form = request.form
    data = {
        "person_hour": _number(form.get("person_hour")),
        "equipment_hour": {"*": _number(form.get("equipment_hour"))} if form.get("equipment_hour") else {},
        "note": form.get("note", "").strip(),
    }
    try:
        compensation.set_rates(session, current_user(), data, now=utcnow())
        session.commit()
        flash("补偿费率已更新", "success")
    except RescueError as exc:
        session.rollback()
        _failed(exc)
    return redirect(url_for("readiness.show_regulator"))


def _number(raw):
    try:
        return float(raw)
    except (TypeError, ValueError):
        return raw
