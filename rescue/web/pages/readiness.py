"""Readiness pages: the enterprise's plans, hazard sources, certificates and training, inspections and deployments;
the regulator's filing desk, compliance, hazard map and team support; the command center's rates and fundings.
Plain forms (a failed one comes back with every invalid field and what was typed); scripts only in static files."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from rescue.clock import local_date
from rescue.db import utcnow
from rescue.errors import RescueError, ValidationError
from rescue.models import Role
from rescue.models.drills import PLAN_LEVEL_NAMES
from rescue.models.readiness import (
    CERTIFICATE_KIND_NAMES,
    HAZARD_LEVEL_NAMES,
    INSPECTION_RESULT_NAMES,
    FilingState,
)
from rescue.readiness import certificates, choices, compensation, deployments, fundings, hazards, inspections, plans, substances
from rescue.readiness.kinds import CERTIFICATES, HAZARDS, PLANS, TRAININGS
from rescue.registry import registry
from rescue.web.auth import current_user
from rescue.web.extensions import get_roads, get_session
from rescue.web.pages.common import field_label as common_label
from rescue.web.pages.common import page_roles

bp = Blueprint("readiness", __name__, url_prefix="/readiness")
OWNERS = (Role.enterprise_admin, Role.command_center)
READERS = (Role.regulator, Role.command_center)
SUBSTANCE_ROWS = 4  # substance rows on the hazard source form

# Chinese names of the form fields, for the list of what was wrong
FIELD_NAMES = {
    "enterprise_id": "企业",
    "level": "级别",
    "title": "标题",
    "version": "版本",
    "review_date": "评审日期",
    "name": "名称",
    "place": "位置",
    "lat": "纬度",
    "lon": "经度",
    "crs": "坐标系",
    "substances": "危险物质",
    "code": "物质",
    "quantity_t": "在线量 (吨)",
    "note": "备注",
    "holder_name": "持证人",
    "kind": "证书类别",
    "contact_id": "联系人",
    "expert_id": "专家",
    "number": "证书编号",
    "issuer": "发证机关",
    "issued_on": "发证日期",
    "expires_on": "有效期至",
    "held_on": "培训日期",
    "hours": "学时",
    "trainer": "培训讲师",
    "topic": "培训内容",
    "attendees": "参训人员",
    "equipment_id": "装备",
    "inspected_on": "检验日期",
    "result": "检验结果",
    "inspector": "检验人",
    "people": "人数",
    "equipment_count": "装备台数",
    "arrived_dt": "到达时间",
    "released_dt": "解除时间",
    "consumables": "消耗物资",
    "file": "文件",
    "document": "预案文件",
    "team_id": "队伍",
    "share": "出资比例",
    "fundings": "出资企业",
    "comment": "意见",
    "decision": "处理",
    "person_hour": "人员费率",
    "equipment_hour": "装备费率",
}


def field_label(path: str) -> str:
    """The Chinese name of a field path: "substances.1.quantity_t" → "危险物质第2行 在线量 (吨)"."""
    return common_label(path, FIELD_NAMES)


def _today():
    return local_date(utcnow())


def _folder():
    return plans.upload_dir(current_app.instance_path, current_app.config.get("UPLOAD_DIR"))


def _all(kind, **filters):
    query = registry.Query(filters=filters, limit=registry.MAX_LIMIT)
    rows, _ = registry.list_records(get_session(), kind, current_user(), query)
    return rows


def _failed(exc: RescueError) -> None:
    detail = "；".join(f"{field_label(k)}: {v}" for k, v in exc.fields.items()) if exc.fields else ""
    flash(exc.message + ("：" + detail if detail else ""), "error")


# --- reading form values: blanks left out, numbers as numbers, anything else passed on for the schema to name


def _text(form, name: str) -> str:
    return form.get(name, "").strip()


def _int(raw: str | None):
    raw = (raw or "").strip()
    if not raw:
        return None
    return int(raw) if raw.isdigit() and len(raw) < 10 else raw


def _number(raw):
    if raw is None:
        return None
    raw = str(raw).strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        return raw


def _put(data: dict, name: str, value) -> None:
    if value is not None and value != "":
        data[name] = value


def _owner(data: dict, form) -> None:
    if current_user().role != Role.enterprise_admin:
        _put(data, "enterprise_id", _int(form.get("enterprise_id")))


# --- the enterprise's page ------------------------------------------------------------------------


def _render(form: str | None = None, errors: dict | None = None, values: dict | None = None, message: str = ""):
    session, user, today = get_session(), current_user(), _today()
    drafts = deployments.drafts(session, user)
    recent = inspections.recent(session, user)
    body = render_template(
        "pages/readiness.html",
        plans=[plans.serialize(p, today=today) for p in _all(PLANS)],
        levels=PLAN_LEVEL_NAMES,
        hazard_levels=HAZARD_LEVEL_NAMES,
        cert_kinds=CERTIFICATE_KIND_NAMES,
        results=INSPECTION_RESULT_NAMES,
        substance_table=sorted(substances.table().values(), key=lambda s: s["name"]),
        substance_rows=SUBSTANCE_ROWS,
        expiring=[certificates.serialize(c, today=today) for c in certificates.expiring(session, user, today=today)],
        certificates=[certificates.serialize(c, today=today) for c in _all(CERTIFICATES)],
        trainings=[certificates.serialize_training(t) for t in _all(TRAININGS)],
        equipment_status=inspections.equipment_status(session, user, today=today),
        inspections=[inspections.serialize(r) for r in recent],
        drafts=[deployments.serialize(d) for d in drafts],
        sources=[hazards.serialize(s) for s in _all(HAZARDS)],
        max_mb=plans.MAX_DOCUMENT_BYTES // (1024 * 1024),
        form=form,
        errors={field_label(k): v for k, v in (errors or {}).items()},
        values=values or {},
        message=message,
        **choices.form_options(session, user),
    )
    return body, 422 if errors else 200


def _attempt(form_id: str, values: dict, action, success: str):
    """Run `action()` and commit; on bad input the page again with every field error and the values typed."""
    session = get_session()
    try:
        action()
        session.commit()
    except ValidationError as exc:
        session.rollback()
        return _render(form_id, exc.fields or {"": exc.message}, values, exc.message)
    except RescueError as exc:
        session.rollback()
        _failed(exc)
        return redirect(url_for("readiness.show_readiness") + f"#{form_id}")
    flash(success, "success")
    return redirect(url_for("readiness.show_readiness") + f"#{form_id}")


@bp.get("/")
@page_roles(*OWNERS)
def show_readiness() -> tuple[str, int]:
    return _render()


@bp.post("/plans")
@page_roles(*OWNERS)
def create_plan() -> tuple[str, int] | Response:
    form = request.form
    data = {k: _text(form, k) for k in ("level", "title", "version")}
    _put(data, "review_date", _text(form, "review_date"))
    _owner(data, form)
    return _attempt(
        "plan-form",
        form.to_dict(),
        lambda: plans.create(get_session(), current_user(), data, now=utcnow()),
        f"已登记预案: {data['title']}",
    )


@bp.post("/plans/<int:plan_id>/delete")
@page_roles(*OWNERS)
def delete_plan(plan_id: int) -> Response:
    session = get_session()
    try:
        stored = plans.delete(session, current_user(), plan_id, folder=_folder(), now=utcnow())
        session.commit()
    except RescueError as exc:
        session.rollback()
        _failed(exc)
    else:
        if stored:
            from pathlib import Path

            Path(stored).unlink(missing_ok=True)
        flash("预案已删除", "success")
    return redirect(url_for("readiness.show_readiness") + "#plans")


# --- hazard sources


def _hazard_data(form) -> dict:
    data = {k: _text(form, k) for k in ("name", "level", "place", "note")}
    for k in ("lat", "lon"):
        _put(data, k, _number(form.get(k)))
    rows = []
    for i in range(SUBSTANCE_ROWS):
        code, qty = _text(form, f"substance_{i}"), _text(form, f"quantity_{i}")
        if code or qty:
            rows.append({"code": code, "quantity_t": _number(qty)})
    data["substances"] = rows
    _owner(data, form)
    return data


@bp.post("/hazard-sources")
@page_roles(*OWNERS)
def create_hazard_source() -> tuple[str, int] | Response:
    data = _hazard_data(request.form)
    from rescue.web.api import service_area

    return _attempt(
        "hazard-form",
        request.form.to_dict(),
        lambda: hazards.create(get_session(), current_user(), data, area=service_area(), now=utcnow()),
        f"已登记重大危险源: {data['name']}",
    )


@bp.post("/hazard-sources/<int:source_id>/delete")
@page_roles(*OWNERS)
def delete_hazard_source(source_id: int) -> Response:
    return _delete(HAZARDS, source_id, "hazard-sources")


def _delete(kind, record_id: int, anchor: str):
    session = get_session()
    try:
        registry.delete_record(session, kind, current_user(), record_id, now=utcnow())
        session.commit()
        flash(f"{kind.label}已删除", "success")
    except RescueError as exc:
        session.rollback()
        _failed(exc)
    return redirect(url_for("readiness.show_readiness") + f"#{anchor}")


# --- certificates and training


@bp.post("/certificates")
@page_roles(*OWNERS)
def create_certificate() -> tuple[str, int] | Response:
    form = request.form
    data = {k: _text(form, k) for k in ("holder_name", "kind", "number", "issuer")}
    for k in ("issued_on", "expires_on"):
        _put(data, k, _text(form, k))
    _put(data, "contact_id", _int(form.get("contact_id")))
    _owner(data, form)
    return _attempt(
        "certificate-form",
        form.to_dict(),
        lambda: certificates.create(get_session(), current_user(), data, now=utcnow()),
        f"已登记证书: {data['holder_name']}",
    )


@bp.post("/certificates/<int:cert_id>/delete")
@page_roles(*OWNERS)
def delete_certificate(cert_id: int) -> Response:
    return _delete(CERTIFICATES, cert_id, "certificates")


@bp.post("/training-sessions")
@page_roles(*OWNERS)
def create_training() -> tuple[str, int] | Response:
    form = request.form
    data = {k: _text(form, k) for k in ("title", "trainer", "topic")}
    _put(data, "held_on", _text(form, "held_on"))
    _put(data, "hours", _number(form.get("hours")))
    names = [n.strip() for n in form.get("attendees", "").replace("，", "\n").replace("、", "\n").splitlines()]
    data["attendees"] = [{"name": n} for n in names if n]
    _owner(data, form)
    return _attempt(
        "training-form",
        form.to_dict(),
        lambda: certificates.create_training(get_session(), current_user(), data, now=utcnow()),
        f"已登记培训: {data['title']} ({len(data['attendees'])} 人参训)",
    )


@bp.post("/training-sessions/<int:training_id>/delete")
@page_roles(*OWNERS)
def delete_training(training_id: int) -> Response:
    return _delete(TRAININGS, training_id, "training")


# --- inspections


@bp.post("/inspections")
@page_roles(*OWNERS)
def create_inspection() -> tuple[str, int] | Response:
    form = request.form
    data = {k: _text(form, k) for k in ("result", "inspector", "note")}
    _put(data, "equipment_id", _int(form.get("equipment_id")))
    _put(data, "inspected_on", _text(form, "inspected_on"))
    return _attempt(
        "inspection-form",
        form.to_dict(),
        lambda: inspections.create(get_session(), current_user(), data, today=_today(), now=utcnow()),
        "已登记检验记录",
    )


# --- deployments: the owner confirms the record as built, or corrects it


@bp.post("/deployments/<int:dep_id>/confirm")
@page_roles(*OWNERS)
def confirm_deployment(dep_id: int) -> tuple[str, int] | Response:
    return _attempt(
        f"deployment-{dep_id}",
        {},
        lambda: deployments.confirm(get_session(), current_user(), dep_id, now=utcnow()),
        "出动记录已确认",
    )


@bp.post("/deployments/<int:dep_id>/correct")
@page_roles(*OWNERS)
def correct_deployment(dep_id: int) -> tuple[str, int] | Response:
    form = request.form
    data = {}
    for k in ("people", "equipment_count"):
        _put(data, k, _int(form.get(k)))
    _put(data, "note", _text(form, "note"))
    return _attempt(
        f"deployment-{dep_id}",
        form.to_dict(),
        lambda: deployments.correct(get_session(), current_user(), dep_id, data, now=utcnow()),
        "出动记录已更正并确认",
    )


@bp.post("/plans/<int:plan_id>/document")
@page_roles(*OWNERS)
def upload_plan_document(plan_id: int) -> Response:
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
def submit_plan(plan_id: int) -> Response:
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
def show_regulator() -> str:
    session, user, today = get_session(), current_user(), _today()
    pending = plans.pending_filings(session)
    readiness = certificates.enterprise_readiness(session, today=today)
    try:
        minutes = min(max(float(request.args.get("minutes", 60)), 1), 1440)
    except ValueError:
        minutes = 60.0
    from rescue.web.api.readiness import usable_pool

    now = utcnow()
    cover = hazards.coverage(session, get_roads(), user, minutes=minutes, pool=usable_pool(session, get_roads(), now), now=now)
    support = fundings.team_support(session, user)
    return render_template(
        "pages/readiness_regulator.html",
        support=support,
        backbone=[t for t in support if t["backbone"]],
        enterprises=choices.enterprises_for(session, user),
        hazard_map={
            "items": [
                {k: g[k] for k in ("id", "name", "level", "level_name", "lat", "lon", "unmet")}
                | {"gap": g in cover["gaps"], "unmet_names": [n["name"] for n in g["needs"] if not n["met"]]}
                for g in cover["items"]
            ],
            "tileUrl": current_app.config.get("MAP_TILE_URL", ""),
            "tileAttribution": current_app.config.get("MAP_TILE_ATTRIBUTION", ""),
        },
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
def decide_plan(plan_id: int) -> Response:
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
def set_rates() -> Response:
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


@bp.post("/fundings/<int:team_id>")
@page_roles(Role.command_center)
def set_fundings(team_id: int) -> Response:
    """The form's rows (企业, 比例 in per cent) replace the team's funders."""
    form = request.form
    rows = []
    for eid, pct in zip(form.getlist("enterprise_id"), form.getlist("percent"), strict=False):
        if not eid.strip() and not pct.strip():
            continue
        share = _number(pct)
        rows.append({"enterprise_id": _int(eid), "share": share / 100 if isinstance(share, float) else share})
    session = get_session()
    try:
        fundings.set_fundings(session, current_user(), team_id, {"fundings": rows}, now=utcnow())
        session.commit()
        flash("出资企业已更新", "success")
    except RescueError as exc:
        session.rollback()
        _failed(exc)
    return redirect(url_for("readiness.show_regulator") + "#team-support")
