"""Readiness API: emergency plans, hazard sources, certificates and training, inspections, deployments."""

import io
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import current_app, request, send_file
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from rescue.clock import local_date
from rescue.db import utcnow
from rescue.errors import ValidationError
from rescue.models import Role
from rescue.readiness import certificates, compensation, deployments, fundings, hazards, inspections, plans, schemas
from rescue.readiness.hazards import Pool
from rescue.readiness.kinds import CERTIFICATES, DEPLOYMENTS, HAZARDS, INSPECTIONS, PLANS, TRAININGS
from rescue.registry import registry, spreadsheets
from rescue.registry.kinds import Kind
from rescue.roads.network import ActiveRoads
from rescue.web.api import bp, int_arg, json_body, page, service_area
from rescue.web.api.openapi import documented
from rescue.web.api.registry import parse_query
from rescue.web.api.spreadsheets import _download
from rescue.web.auth import current_user, roles_required
from rescue.web.extensions import get_roads, get_session

EDITORS = (Role.command_center, Role.enterprise_admin)
_LIST_QUERY = {"q": {"type": "string"}, "sort": {"type": "string"}, "limit": {"type": "integer"}, "offset": {"type": "integer"}}


def _today():
    return local_date(utcnow())


def _folder():
    return plans.upload_dir(current_app.instance_path, current_app.config.get("UPLOAD_DIR"))


def listing(kind: Kind, serialize: Callable[[Any], dict]) -> dict:
    """A page of `kind` the caller may read, each record through `serialize`."""
    query = parse_query(kind, request.args)
    rows, total = registry.list_records(get_session(), kind, current_user(), query)
    return page([serialize(r) for r in rows], total, query.limit, query.offset)


# --- emergency plans ------------------------------------------------------------------------------


def _plan(plan):
    return plans.serialize(plan, today=_today())


@bp.get("/emergency-plans")
@documented("应急预案列表", response=PLANS.schema_out, query=_LIST_QUERY, listing=True)
@roles_required()
def list_emergency_plans() -> dict:
    return listing(PLANS, _plan)


@bp.post("/emergency-plans")
@documented("登记应急预案", body=PLANS.schema_in, response=PLANS.schema_out, status=201)
@roles_required(*EDITORS)
def create_emergency_plan() -> tuple[dict, int]:
    session = get_session()
    plan = plans.create(session, current_user(), json_body(), now=utcnow())
    session.commit()
    return _plan(plan), 201


@bp.get("/emergency-plans/<int:plan_id>")
@documented("读取应急预案", response=PLANS.schema_out)
@roles_required()
def get_emergency_plan(plan_id: int) -> dict:
    return _plan(registry.get_record(get_session(), PLANS, current_user(), plan_id))


@bp.patch("/emergency-plans/<int:plan_id>")
@documented("修改应急预案 (已备案的预案修改后回到草稿)", body=PLANS.schema_patch, response=PLANS.schema_out)
@roles_required(*EDITORS)
def update_emergency_plan(plan_id: int) -> dict:
    session = get_session()
    plan = plans.update(session, current_user(), plan_id, json_body(), now=utcnow())
    session.commit()
    return _plan(plan)


@bp.delete("/emergency-plans/<int:plan_id>")
@documented("删除应急预案", status=204)
@roles_required(*EDITORS)
def delete_emergency_plan(plan_id: int) -> tuple[str, int]:
    session = get_session()
    stored = plans.delete(session, current_user(), plan_id, folder=_folder(), now=utcnow())
    session.commit()
    if stored:
        from pathlib import Path

        Path(stored).unlink(missing_ok=True)
    return "", 204


@bp.post("/emergency-plans/<int:plan_id>/document")
@documented("上传预案文件 (PDF; multipart 字段 file 或 Content-Type: application/pdf 的请求体)", response=PLANS.schema_out)
@roles_required(*EDITORS)
def upload_emergency_plan_document(plan_id: int) -> dict:
    # the global request limit is small; a plan may be larger (anything beyond answers 413 before it is read)
    request.max_content_length = plans.MAX_DOCUMENT_BYTES + 64 * 1024
    if request.mimetype == "application/pdf":
        stream, filename = request.stream, request.args.get("filename") or request.headers.get("X-Filename")
    else:
        upload = request.files.get("file")
        if upload is None:
            raise ValidationError({"file": "请上传 PDF 文件 (multipart 表单字段 file)"})
        stream, filename = upload.stream, upload.filename
    session = get_session()
    plan, replaced = plans.store_document(session, current_user(), plan_id, stream, filename, folder=_folder(), now=utcnow())
    session.commit()
    if replaced is not None:
        replaced.unlink(missing_ok=True)
    return _plan(plan)


@bp.get("/emergency-plans/<int:plan_id>/document")
@documented("下载预案文件 (仅限可查看该企业记录的用户)")
@roles_required()
def get_emergency_plan_document(plan_id: int) -> Response:
    path, name = plans.document_path(get_session(), current_user(), plan_id, folder=_folder())
    if not path.is_file():
        from rescue.errors import NotFoundError

        raise NotFoundError("预案文件已丢失, 请重新上传")
    res = send_file(path, mimetype="application/pdf", download_name=name, as_attachment=False, max_age=0)
    res.headers["X-Content-Type-Options"] = "nosniff"
    res.headers["Cache-Control"] = "private, no-store"
    return res


@bp.post("/emergency-plans/<int:plan_id>/submit")
@documented("报备: 提交监管部门备案", response=PLANS.schema_out)
@roles_required(*EDITORS)
def submit_emergency_plan(plan_id: int) -> dict:
    session = get_session()
    plan = plans.submit(session, current_user(), plan_id, now=utcnow())
    session.commit()
    return _plan(plan)


@bp.post("/emergency-plans/<int:plan_id>/decision")
@documented("监管部门备案或退回 (退回须附意见)", response=PLANS.schema_out)
@roles_required(Role.regulator)
def decide_emergency_plan(plan_id: int) -> dict:
    session = get_session()
    plan = plans.decide(session, current_user(), plan_id, json_body(), now=utcnow())
    session.commit()
    return _plan(plan)


@bp.get("/emergency-plans/compliance")
@documented("预案合规: 超期未评估、未评审、未备案、未演练")
@roles_required()
def get_emergency_plan_compliance() -> dict:
    return plans.compliance(get_session(), current_user(), today=_today())


# --- equipment inspections ------------------------------------------------------------------------


@bp.get("/inspections")
@documented("装备检验记录列表", response=INSPECTIONS.schema_out, query=_LIST_QUERY, listing=True)
@roles_required()
def list_inspections() -> dict:
    return listing(INSPECTIONS, inspections.serialize)


@bp.post("/inspections")
@documented(
    "登记检验记录 (更新装备的下次检验日期与可用状态)", body=INSPECTIONS.schema_in, response=INSPECTIONS.schema_out, status=201
)
@roles_required(*EDITORS)
def create_inspection() -> tuple[dict, int]:
    session = get_session()
    record = inspections.create(session, current_user(), json_body(), today=_today(), now=utcnow())
    session.commit()
    return inspections.serialize(record), 201


@bp.get("/inspections/<int:record_id>")
@documented("读取检验记录", response=INSPECTIONS.schema_out)
@roles_required()
def get_inspection(record_id: int) -> dict:
    return inspections.serialize(registry.get_record(get_session(), INSPECTIONS, current_user(), record_id))


@bp.patch("/inspections/<int:record_id>")
@documented("修改检验记录", body=INSPECTIONS.schema_patch, response=INSPECTIONS.schema_out)
@roles_required(*EDITORS)
def update_inspection(record_id: int) -> dict:
    session = get_session()
    record = inspections.update(session, current_user(), record_id, json_body(), today=_today(), now=utcnow())
    session.commit()
    return inspections.serialize(record)


@bp.delete("/inspections/<int:record_id>")
@documented("删除检验记录", status=204)
@roles_required(*EDITORS)
def delete_inspection(record_id: int) -> tuple[str, int]:
    session = get_session()
    inspections.delete(session, current_user(), record_id, now=utcnow())
    session.commit()
    return "", 204


@bp.get("/inspections/equipment")
@documented("纳入检验管理的装备: 下次检验日期与是否可用 (unserviceable=1 只列停用的)")
@roles_required()
def list_inspected_equipment() -> dict:
    only = request.args.get("unserviceable", "").lower() in {"1", "true", "yes"}
    items = inspections.equipment_status(get_session(), current_user(), today=_today(), only_unserviceable=only)
    return {"items": items, "total": len(items), "limit": len(items), "offset": 0}


# spreadsheets of the record kinds kept in bulk; inspections refresh their items' due dates after an import
SHEETS = {k.name: k for k in (INSPECTIONS, CERTIFICATES, TRAININGS)}
SHEET_PATH = '<any("inspections", "certificates", "training-sessions"):kind_name>'


@bp.get(f'/{SHEET_PATH}/template.<any("xlsx", "csv"):fmt>')
@documented("检验记录 / 证书 / 培训记录的导入模板")
@roles_required()
def get_readiness_template(kind_name: str, fmt: str) -> Response:
    kind = SHEETS[kind_name]
    return _download(spreadsheets.template(get_session(), kind, fmt, current_user()), f"{kind.label}导入模板", fmt)


@bp.get(f'/{SHEET_PATH}/export.<any("xlsx", "csv"):fmt>')
@documented("导出检验记录 / 证书 / 培训记录 (筛选参数同列表查询)")
@roles_required()
def export_readiness(kind_name: str, fmt: str) -> Response:
    kind = SHEETS[kind_name]
    query = parse_query(kind, request.args)
    if "limit" not in request.args:
        query.limit = spreadsheets.MAX_EXPORT_ROWS
    data = spreadsheets.export(get_session(), kind, current_user(), query, fmt)
    return _download(data, f"{kind.label}_{_today():%Y%m%d}", fmt)


@bp.post(f"/{SHEET_PATH}/import")
@documented(
    "批量导入检验记录 / 证书 / 培训记录 (multipart 字段 file; 全部成功或全部不导入)", query={"dry_run": {"type": "boolean"}}
)
@roles_required(*EDITORS)
def import_readiness(kind_name: str) -> dict:
    kind = SHEETS[kind_name]
    upload = request.files.get("file")
    if upload is None:
        raise ValidationError({"file": "请上传文件 (multipart 表单字段 file)"}, "请上传 .xlsx 或 CSV 文件")
    dry_run = request.args.get("dry_run", "").lower() in {"1", "true", "yes"}
    session = get_session()
    max_rows = current_app.config.get("IMPORT_MAX_ROWS", spreadsheets.MAX_ROWS)
    args = (session, current_user(), upload.read())
    if kind is INSPECTIONS:
        result = inspections.import_file(*args, filename=upload.filename, dry_run=dry_run, max_rows=max_rows, now=utcnow())
    else:
        result = certificates.import_file(
            *args, kind=kind, filename=upload.filename, dry_run=dry_run, max_rows=max_rows, now=utcnow()
        )
    if dry_run:
        session.rollback()
    else:
        session.commit()
    return {"created": result.created, "updated": result.updated, "dry_run": dry_run}


# --- hazard sources -------------------------------------------------------------------------------


@bp.get("/hazard-sources")
@documented("重大危险源列表", response=HAZARDS.schema_out, query=_LIST_QUERY, listing=True)
@roles_required()
def list_hazard_sources() -> dict:
    return listing(HAZARDS, hazards.serialize)


@bp.post("/hazard-sources")
@documented("登记重大危险源", body=HAZARDS.schema_in, response=HAZARDS.schema_out, status=201)
@roles_required(*EDITORS)
def create_hazard_source() -> tuple[dict, int]:
    session = get_session()
    source = hazards.create(session, current_user(), json_body(), area=service_area(), now=utcnow())
    session.commit()
    return hazards.serialize(source), 201


@bp.get("/hazard-sources/<int:source_id>")
@documented("读取重大危险源", response=HAZARDS.schema_out)
@roles_required()
def get_hazard_source(source_id: int) -> dict:
    return hazards.serialize(registry.get_record(get_session(), HAZARDS, current_user(), source_id))


@bp.patch("/hazard-sources/<int:source_id>")
@documented("修改重大危险源", body=HAZARDS.schema_patch, response=HAZARDS.schema_out)
@roles_required(*EDITORS)
def update_hazard_source(source_id: int) -> dict:
    session = get_session()
    source = hazards.update(session, current_user(), source_id, json_body(), area=service_area(), now=utcnow())
    session.commit()
    return hazards.serialize(source)


@bp.delete("/hazard-sources/<int:source_id>")
@documented("删除重大危险源", status=204)
@roles_required(*EDITORS)
def delete_hazard_source(source_id: int) -> tuple[str, int]:
    session = get_session()
    registry.delete_record(session, HAZARDS, current_user(), source_id, now=utcnow())
    session.commit()
    return "", 204


@bp.get("/hazard-sources/substances")
@documented("危险物质表: 危险特性与所需救援能力")
@roles_required()
def list_substances() -> dict:
    items = hazards.substance_table()
    return {"items": items, "total": len(items), "limit": len(items), "offset": 0}


def usable_pool(session: Session, roads: ActiveRoads, now: datetime) -> Pool:
    """pool(capabilities) for hazards.coverage: teams and equipment that ranking would use, by dispatch's rules."""
    from rescue.dispatch.coverage import usable_resources

    def pool(capabilities: set[str]) -> dict[str, dict]:
        found = usable_resources(session, roads, capabilities, now=now)
        return {c: {r.key: (r.lat, r.lon, r.turnout_s, r.name) for r in rs} for c, rs in found.items()}

    return pool


@bp.get("/hazard-sources/coverage")
@documented(
    "重大危险源覆盖: 每种所需能力最先到达的资源; 一级/二级危险源在时限内无覆盖的列于 gaps",
    query={"minutes": {"type": "number", "default": 60}},
)
@roles_required()
def get_hazard_coverage() -> dict:
    try:
        minutes = float(request.args.get("minutes", 60))
        if not 1 <= minutes <= 1440:
            raise ValueError
    except ValueError:
        raise ValidationError({"minutes": "应为 1–1440 之间的分钟数"}, "查询参数有误") from None
    session, roads, now = get_session(), get_roads(), utcnow()
    return hazards.coverage(session, roads, current_user(), minutes=minutes, pool=usable_pool(session, roads, now), now=now)


# --- certificates and training --------------------------------------------------------------------


def _cert(cert):
    return certificates.serialize(cert, today=_today())


@bp.get("/certificates")
@documented("证书列表 (expiring=1: 30天内到期及已过期)", response=CERTIFICATES.schema_out, query=_LIST_QUERY, listing=True)
@roles_required()
def list_certificates() -> dict:
    if request.args.get("expiring", "").lower() in {"1", "true", "yes"}:
        rows = certificates.expiring(get_session(), current_user(), today=_today())
        return page([_cert(c) for c in rows], len(rows), len(rows), 0)
    return listing(CERTIFICATES, _cert)


@bp.post("/certificates")
@documented("登记证书", body=CERTIFICATES.schema_in, response=CERTIFICATES.schema_out, status=201)
@roles_required(*EDITORS)
def create_certificate() -> tuple[dict, int]:
    session = get_session()
    cert = certificates.create(session, current_user(), json_body(), now=utcnow())
    session.commit()
    return _cert(cert), 201


@bp.get("/certificates/<int:cert_id>")
@documented("读取证书", response=CERTIFICATES.schema_out)
@roles_required()
def get_certificate(cert_id: int) -> dict:
    return _cert(registry.get_record(get_session(), CERTIFICATES, current_user(), cert_id))


@bp.patch("/certificates/<int:cert_id>")
@documented("修改证书 (换证后重新提醒)", body=CERTIFICATES.schema_patch, response=CERTIFICATES.schema_out)
@roles_required(*EDITORS)
def update_certificate(cert_id: int) -> dict:
    session = get_session()
    cert = certificates.update(session, current_user(), cert_id, json_body(), now=utcnow())
    session.commit()
    return _cert(cert)


@bp.delete("/certificates/<int:cert_id>")
@documented("删除证书", status=204)
@roles_required(*EDITORS)
def delete_certificate(cert_id: int) -> tuple[str, int]:
    session = get_session()
    registry.delete_record(session, CERTIFICATES, current_user(), cert_id, now=utcnow())
    session.commit()
    return "", 204


@bp.get("/training-sessions")
@documented("培训记录列表", response=TRAININGS.schema_out, query=_LIST_QUERY, listing=True)
@roles_required()
def list_training_sessions() -> dict:
    return listing(TRAININGS, certificates.serialize_training)


@bp.post("/training-sessions")
@documented("登记培训 (含参训人员)", body=TRAININGS.schema_in, response=TRAININGS.schema_out, status=201)
@roles_required(*EDITORS)
def create_training_session() -> tuple[dict, int]:
    session = get_session()
    training = certificates.create_training(session, current_user(), json_body(), now=utcnow())
    session.commit()
    return certificates.serialize_training(training), 201


@bp.get("/training-sessions/<int:training_id>")
@documented("读取培训记录", response=TRAININGS.schema_out)
@roles_required()
def get_training_session(training_id: int) -> dict:
    return certificates.serialize_training(registry.get_record(get_session(), TRAININGS, current_user(), training_id))


@bp.patch("/training-sessions/<int:training_id>")
@documented("修改培训记录", body=TRAININGS.schema_patch, response=TRAININGS.schema_out)
@roles_required(*EDITORS)
def update_training_session(training_id: int) -> dict:
    session = get_session()
    training = certificates.update_training(session, current_user(), training_id, json_body(), now=utcnow())
    session.commit()
    return certificates.serialize_training(training)


@bp.delete("/training-sessions/<int:training_id>")
@documented("删除培训记录", status=204)
@roles_required(*EDITORS)
def delete_training_session(training_id: int) -> tuple[str, int]:
    session = get_session()
    registry.delete_record(session, TRAININGS, current_user(), training_id, now=utcnow())
    session.commit()
    return "", 204


# --- deployments and compensation -----------------------------------------------------------------


@bp.get("/deployments")
@documented("出动记录列表 (事件结束后由时间线生成)", response=DEPLOYMENTS.schema_out, query=_LIST_QUERY, listing=True)
@roles_required()
def list_deployments() -> dict:
    return listing(DEPLOYMENTS, deployments.serialize)


@bp.post("/deployments/build")
@documented("为已结束的事件生成出动记录 (幂等; 后台任务也会定时生成)")
@roles_required(Role.command_center)
def build_deployments() -> dict:
    body = json_body()
    incident_id = body.get("incident_id")
    if isinstance(incident_id, bool) or not isinstance(incident_id, int) or not 0 < incident_id < 2**31:
        raise ValidationError({"incident_id": "应为正整数"})
    session = get_session()
    made = deployments.build_for_incident(session, incident_id, now=utcnow())
    session.commit()
    return {"created": len(made), "items": [deployments.serialize(d) for d in made]}


@bp.get("/deployments/<int:dep_id>")
@documented("读取出动记录", response=DEPLOYMENTS.schema_out)
@roles_required()
def get_deployment(dep_id: int) -> dict:
    return deployments.serialize(registry.get_record(get_session(), DEPLOYMENTS, current_user(), dep_id))


@bp.patch("/deployments/<int:dep_id>")
@documented("更正出动记录 (人数、装备、时间、消耗物资; 更正即确认)", body=DEPLOYMENTS.schema_in, response=DEPLOYMENTS.schema_out)
@roles_required(*EDITORS)
def correct_deployment(dep_id: int) -> dict:
    session = get_session()
    dep = deployments.correct(session, current_user(), dep_id, json_body(), now=utcnow())
    session.commit()
    return deployments.serialize(dep)


@bp.post("/deployments/<int:dep_id>/confirm")
@documented("确认出动记录 (消耗物资从库存扣减)", response=DEPLOYMENTS.schema_out)
@roles_required(*EDITORS)
def confirm_deployment(dep_id: int) -> dict:
    session = get_session()
    dep = deployments.confirm(session, current_user(), dep_id, now=utcnow())
    session.commit()
    return deployments.serialize(dep)


@bp.get("/deployments/rates")
@documented("补偿费率 (当前)")
@roles_required()
def get_rates() -> dict:
    return compensation.rates_json(compensation.current_rates(get_session()))


@bp.put("/deployments/rates")
@documented("设置补偿费率 (指挥中心)", body=schemas.RatesIn)
@roles_required(Role.command_center)
def set_rates() -> dict:
    session = get_session()
    rates = compensation.set_rates(session, current_user(), json_body(), now=utcnow())
    session.commit()
    return compensation.rates_json(rates)


@bp.get("/deployments/fundings")
@documented("骨干队伍的出资企业与比例 (一企主建、多企供养)", query={"team_id": {"type": "integer"}})
@roles_required()
def list_fundings() -> dict:
    errors: dict[str, str] = {}
    team_id = int_arg(request.args, "team_id", 0, 1, 2**31 - 1, errors)
    if errors:
        raise ValidationError(errors, "查询参数有误")
    items = [
        {"team_id": t["team_id"], "team": t["team"], "funders": t["funders"], "funded_share": t["funded_share"]}
        for t in fundings.team_support(get_session(), current_user())
        if not team_id or t["team_id"] == team_id
    ]
    return {"items": items, "total": len(items), "limit": len(items), "offset": 0}


@bp.put("/deployments/fundings/<int:team_id>")
@documented("设置队伍的出资企业与比例 (指挥中心; 比例合计不超过 1, 整体替换)", body=schemas.FundingsIn)
@roles_required(Role.command_center)
def set_fundings(team_id: int) -> dict:
    session = get_session()
    fundings.set_fundings(session, current_user(), team_id, json_body(), now=utcnow())
    session.commit()
    funders = fundings.fundings_of(session, [team_id]).get(team_id, [])
    return {"team_id": team_id, "funders": funders, "funded_share": round(sum(f["share"] for f in funders), 4)}


@bp.get("/deployments/support")
@documented("各队伍获得的支持 (出资企业、补偿金额) 与提供的支持 (出动次数、时长)")
@roles_required()
def get_team_support() -> dict:
    items = fundings.team_support(get_session(), current_user())
    return {"items": items, "total": len(items), "limit": len(items), "offset": 0}


@bp.get('/deployments/statement.<any("json", "xlsx", "pdf"):fmt>')
@documented(
    "补偿结算单 (每企业每事件): JSON、xlsx 或可打印 PDF",
    query={"incident_id": {"type": "integer"}, "enterprise_id": {"type": "integer"}},
)
@roles_required()
def get_statement(fmt: str) -> dict | Response:
    errors: dict[str, str] = {}
    incident_id = int_arg(request.args, "incident_id", 0, 1, 2**31 - 1, errors)
    enterprise_id = int_arg(request.args, "enterprise_id", current_user().enterprise_id or 0, 1, 2**31 - 1, errors)
    for name, value in (("incident_id", incident_id), ("enterprise_id", enterprise_id)):
        if not value and name not in errors:
            errors[name] = "必填"
    if errors:
        raise ValidationError(errors, "查询参数有误")
    st = compensation.statement(get_session(), current_user(), incident_id, enterprise_id)
    if fmt == "json":
        return st
    name = f"补偿结算单_{st['incident']['number']}_{st['enterprise']['name']}.{fmt}"
    if fmt == "xlsx":
        data, mimetype = compensation.as_xlsx(st), spreadsheets.XLSX_MIMETYPE
    else:
        data, mimetype = compensation.as_pdf(st), "application/pdf"
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=fmt == "xlsx", download_name=name, max_age=0)
