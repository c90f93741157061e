"""Incident views: create (coordinates or place name), list, read, edit needs/status, candidates and plan."""

from flask import request

from rescue.cards import hazards as hazard_cards
from rescue.db import utcnow
from rescue.dispatch import candidates, incidents
from rescue.dispatch.schemas import CandidatesOut, IncidentIn, IncidentOut, IncidentPatch, PlanOut
from rescue.errors import ValidationError
from rescue.models import Role
from rescue.web.api import bp, int_arg, json_body, page, service_area
from rescue.web.api.openapi import documented
from rescue.web.auth import current_user, roles_required
from rescue.web.extensions import get_roads, get_session

READERS = (Role.command_center, Role.regulator)


def _flag(name: str, errors: dict) -> bool | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("1", "true", "yes"):
        return True
    if raw.lower() in ("0", "false", "no"):
        return False
    errors[name] = "应为 1 或 0"
    return None


@bp.post("/incidents")
@documented("新建事件 (坐标或地名; 需求默认取事件类型模板)", body=IncidentIn, response=IncidentOut, status=201)
@roles_required(Role.command_center)
def create_incident() -> tuple[dict, int]:
    session = get_session()
    incident = incidents.create_incident(
        session, get_roads(), json_body(), area=service_area(), actor=current_user(), now=utcnow()
    )
    body = _with_cards(session, incident)  # read in the writing transaction: no second one after the commit
    session.commit()
    return body, 201


@bp.get("/incidents")
@documented(
    "事件列表",
    response=IncidentOut,
    listing=True,
    query={
        "status": {"enum": ["open", "closed"]},
        "drill": {"type": "integer", "enum": [0, 1]},
        "limit": {"type": "integer", "default": 50, "maximum": 500},
        "offset": {"type": "integer", "default": 0},
    },
)
@roles_required(*READERS)
def list_incidents() -> dict:
    errors: dict[str, str] = {}
    status = request.args.get("status") or None
    if status not in (None, "open", "closed"):
        errors["status"] = "应为 open 或 closed"
    drill = _flag("drill", errors)
    limit = int_arg(request.args, "limit", 50, 1, 500, errors)
    offset = int_arg(request.args, "offset", 0, 0, 10**9, errors)
    if errors:
        raise ValidationError(errors, "查询参数有误")
    session = get_session()
    rows, total = incidents.list_incidents(session, status=status, drill=drill, limit=limit, offset=offset)
    return page([incidents.serialize(session, r) for r in rows], total, limit, offset)


@bp.get("/incidents/<int:incident_id>")
@documented("读取事件", response=IncidentOut)
@roles_required(*READERS)
def get_incident(incident_id: int) -> dict:
    session = get_session()
    return _with_cards(session, incidents.get_incident(session, incident_id))


def _with_cards(session, incident) -> dict:
    """The incident, with the response cards of the posts at the major hazard source it is at (if any)."""
    return incidents.serialize(session, incident) | {"cards": hazard_cards.cards_at_hazard(session, incident)}


@bp.patch("/incidents/<int:incident_id>")
@documented("修改事件: 需求 (整体替换)、级别、描述、地名、状态 (closed 结案)", body=IncidentPatch, response=IncidentOut)
@roles_required(Role.command_center)
def update_incident(incident_id: int) -> dict:
    session = get_session()
    incident = incidents.update_incident(
        session, incident_id, json_body(), area=service_area(), now=utcnow(), actor=current_user().username
    )
    session.commit()
    return incidents.serialize(session, incident)


@bp.get("/incidents/<int:incident_id>/candidates")
@documented(
    "按到达时间排序的可用资源 (每项需求); explain=1 同时列出被排除的资源及原因",
    response=CandidatesOut,
    query={"k": {"type": "integer", "default": 10, "maximum": 100}, "explain": {"type": "integer", "enum": [0, 1]}},
)
@roles_required(*READERS)
def list_candidates(incident_id: int) -> dict:
    errors: dict[str, str] = {}
    k = int_arg(request.args, "k", 10, 1, 100, errors)
    explain = bool(_flag("explain", errors))
    if errors:
        raise ValidationError(errors, "查询参数有误")
    session = get_session()
    incident = incidents.get_incident(session, incident_id)
    return candidates.rank_candidates(session, get_roads(), incident, k=k, explain=explain, now=utcnow())


@bp.post("/incidents/<int:incident_id>/plan")
@documented("调派方案: 覆盖全部需求且最后一项需求满足得最早; 列出无法满足的需求", response=PlanOut)
@roles_required(Role.command_center)
def plan_incident(incident_id: int) -> dict:
    session = get_session()
    incident = incidents.get_incident(session, incident_id)
    return candidates.plan_response(session, get_roads(), incident, now=utcnow())
