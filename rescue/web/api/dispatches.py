"""Dispatch views: send (or preview) a dispatch, the incident timeline and messages, dispatcher corrections."""

from flask import request
from sqlalchemy import select

from rescue.db import utcnow
from rescue.dispatch import assignments, dispatches, escalation, incidents, replies
from rescue.errors import ForbiddenError, NotFoundError, ValidationError
from rescue.models import Assignment, AssignmentEvent, Dispatch, InboundMessage, OutboxMessage, Role
from rescue.models.enums import AssignmentStatus
from rescue.web.api import bp, int_arg, json_body, page
from rescue.web.api.openapi import documented
from rescue.web.auth import current_user, roles_required
from rescue.web.extensions import get_alert_settings, get_roads, get_session

_RESOURCE = {"type": "object", "required": ["kind", "id"], "properties": {
    "kind": {"enum": ["team", "expert", "equipment", "supply"]}, "id": {"type": "integer"},
    "need_id": {"type": "integer"}, "quantity": {"type": "number"}}}
DISPATCH_IN = {"type": "object", "properties": {
    "resources": {"type": "array", "items": _RESOURCE, "description": "省略时使用自动方案 (plan)"},
    "acks_needed": {"type": "integer", "minimum": 1}, "wave_timeout_s": {"type": "integer", "minimum": 30},
    "max_waves": {"type": "integer", "minimum": 1}, "muster_point": {"type": "string"}, "task": {"type": "string"},
    "note": {"type": "string"}}}
_MESSAGE = {"type": "object", "properties": {
    "id": {"type": "integer"}, "to": {"type": "string"}, "recipient": {"type": "string"}, "text": {"type": "string"},
    "segments": {"type": "integer"}, "chars": {"type": "integer"}, "status": {"type": "string"},
    "possibly_duplicated": {"type": "boolean"}}}
_ASSIGNMENT = {"type": "object", "properties": {
    "id": {"type": "integer"}, "kind": {"type": "string"}, "resource_id": {"type": "integer"}, "name": {"type": "string"},
    "status": {"type": "string"}, "reply_code": {"type": "string"}, "wave": {"type": "integer"}, "rank": {"type": "integer"},
    "eta_s": {"type": ["number", "null"]}, "messages": {"type": "array", "items": _MESSAGE}}}
DISPATCH_OUT = {"type": "object", "properties": {
    "id": {"type": "integer"}, "incident_id": {"type": "integer"}, "acks_needed": {"type": "integer"},
    "wave_timeout_s": {"type": "integer"}, "max_waves": {"type": "integer"},
    "assignments": {"type": "array", "items": _ASSIGNMENT}}}
EVENT_OUT = {"type": "object", "properties": {
    "id": {"type": "integer"}, "at": {"type": "string"}, "kind": {"type": "string"}, "assignment_id": {"type": ["integer", "null"]},
    "from_status": {"type": ["string", "null"]}, "to_status": {"type": ["string", "null"]}, "message": {"type": "string"},
    "actor": {"type": "string"}, "detail": {"type": "object"}}}
CORRECTION_IN = {"type": "object", "properties": {
    "status": {"enum": [s.value for s in AssignmentStatus]}, "note": {"type": "string"},
    "escalate": {"type": "boolean", "description": "更正为拒绝/失败/未应答时是否自动改派 (默认是)"}}}
REVIEW_IN = {"type": "object", "properties": {
    "assignment_id": {"type": "integer"}, "status": {"enum": [s.value for s in AssignmentStatus]}, "note": {"type": "string"}}}


def _ranking_tools():
    """The dispatcher's ranking and planning services with the active road network, when present."""
    try:
        from rescue.dispatch import candidates
    except ImportError:
        return None, None
    return candidates, get_roads()


def _strip_routes(ranking: dict) -> dict:
    """The ranking as shown, without route geometries (kept small; routes can be recomputed)."""
    needs = []
    for need in ranking.get("needs", []):
        cands = [{k: v for k, v in c.items() if k != "route"} for c in need.get("candidates", [])]
        needs.append({**need, "candidates": cands})
    return {**ranking, "needs": needs}


def _build(session, incident_id: int, data: dict, actor, now):
    incident = incidents.get_incident(session, incident_id)
    errors = {}
    try:
        options = dispatches.validate_options(data)
    except ValidationError as exc:
        errors, options = dict(exc.fields), {}
    if data.get("resources") is not None:
        try:
            dispatches.validate_resources(session, incident, data["resources"])
        except ValidationError as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationError(errors)  # every bad field at once
    candidates, network = _ranking_tools()
    ranking = None
    if candidates is not None:
        ranking = _strip_routes(candidates.rank_candidates(session, network, incident, k=10, now=now))
    if data.get("resources") is None:
        if candidates is None:
            raise ValidationError({"resources": "请提供要调派的资源 (自动方案暂不可用)"})
        resources = dispatches.resources_from_plan(candidates.plan_response(session, network, incident, now=now))
        if not resources:
            raise ValidationError({"resources": "自动方案中没有可调派的资源"})
    else:
        resources = dispatches.validate_resources(session, incident, data["resources"])
    return dispatches.create_dispatch(session, incident, resources=resources, ranking=ranking, actor=actor,
                                      settings=get_alert_settings(), now=now, **options)


@bp.post("/incidents/<int:incident_id>/dispatches")
@roles_required(Role.command_center)
@documented("调派资源并发送短信 (指派与短信在同一事务中写入)", body=DISPATCH_IN, response=DISPATCH_OUT, status=201)
def create_dispatch(incident_id):
    session = get_session()
    dispatch = _build(session, incident_id, json_body(), current_user(), utcnow())
    session.commit()  # then the outbox sends
    return dispatches.serialize_dispatch(session, dispatch), 201


@bp.post("/incidents/<int:incident_id>/dispatches/preview")
@roles_required(Role.command_center)
@documented("预览调派短信的文字与条数 (不保存, 不发送)", body=DISPATCH_IN, response=DISPATCH_OUT)
def preview_dispatch(incident_id):
    session = get_session()
    dispatch = _build(session, incident_id, json_body(), current_user(), utcnow())
    body = dispatches.serialize_dispatch(session, dispatch)
    session.rollback()
    body["id"] = None
    body["preview"] = True
    for item in body["assignments"]:
        item["id"] = None
        for message in item["messages"]:
            message["id"] = message["assignment_id"] = None
    return body


def _visible_assignments(session, incident_id: int, actor) -> dict[int, Assignment]:
    incidents.get_incident(session, incident_id)
    rows = session.scalars(select(Assignment).where(Assignment.incident_id == incident_id).order_by(Assignment.id)).all()
    if actor.role == Role.enterprise_admin:
        rows = [a for a in rows
                if assignments.resource_enterprise_id(session, a.resource_kind.value, a.resource_id) == actor.enterprise_id]
    return {a.id: a for a in rows}


@bp.get("/incidents/<int:incident_id>/dispatches")
@roles_required()
@documented("事件的调派记录", response=DISPATCH_OUT, listing=True)
def list_dispatches(incident_id):
    session = get_session()
    visible = _visible_assignments(session, incident_id, current_user())
    items = []
    for dispatch in session.scalars(select(Dispatch).where(Dispatch.incident_id == incident_id).order_by(Dispatch.id)):
        body = dispatches.serialize_dispatch(session, dispatch)
        body["assignments"] = [a for a in body["assignments"] if a["id"] in visible]
        if body["assignments"] or current_user().role != Role.enterprise_admin:
            items.append(body)
    return page(items, len(items), len(items), 0)


@bp.get("/incidents/<int:incident_id>/timeline")
@roles_required()
@documented("事件时间线: 调派、短信、回复、回执、升级与更正", response=EVENT_OUT, listing=True)
def get_timeline(incident_id):
    session = get_session()
    actor = current_user()
    visible = _visible_assignments(session, incident_id, actor)
    events = session.scalars(select(AssignmentEvent).where(AssignmentEvent.incident_id == incident_id)
                             .order_by(AssignmentEvent.at_dt, AssignmentEvent.id)).all()
    if actor.role == Role.enterprise_admin:
        events = [e for e in events if e.assignment_id in visible]
    items = [{"id": e.id, "at": e.at_dt.isoformat(), "kind": e.kind, "assignment_id": e.assignment_id,
              "resource": visible[e.assignment_id].resource_name if e.assignment_id in visible else None,
              "from_status": e.from_status, "to_status": e.to_status, "message": e.message, "actor": e.actor,
              "detail": e.detail} for e in events]
    return page(items, len(items), len(items), 0)


@bp.get("/incidents/<int:incident_id>/messages")
@roles_required()
@documented("事件的短信: 发出的 (含文字、条数、状态) 与收到的回复", listing=True)
def list_messages(incident_id):
    session = get_session()
    actor = current_user()
    visible = _visible_assignments(session, incident_id, actor)
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.incident_id == incident_id).order_by(OutboxMessage.id))
    items = [{"direction": "out", **dispatches.serialize_message(r)} for r in rows
             if actor.role != Role.enterprise_admin or r.assignment_id in visible]
    replies = session.scalars(select(InboundMessage).where(InboundMessage.incident_id == incident_id).order_by(InboundMessage.id))
    items += [_inbound(r) for r in replies if actor.role != Role.enterprise_admin or r.assignment_id in visible]
    return page(items, len(items), len(items), 0)


def _inbound(r: InboundMessage) -> dict:
    return {"direction": "in", "id": r.id, "from": r.from_phone, "text": r.body, "received_at": r.received_dt.isoformat(),
            "kind": r.kind, "code": r.code, "eta_min": r.eta_min, "outcome": r.outcome, "assignment_id": r.assignment_id,
            "incident_id": r.incident_id, "needs_review": r.needs_review, "reviewed_by": r.reviewed_by}


@bp.patch("/assignments/<int:assignment_id>")
@roles_required(Role.command_center)
@documented("调度员设置或更正指派状态", body=CORRECTION_IN, response=_ASSIGNMENT)
def update_assignment(assignment_id):
    session = get_session()
    assignment = session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFoundError("指派不存在")
    data = json_body()
    errors = {}
    status, note = data.get("status"), data.get("note", "")
    if status is not None and status not in escalation.CORRECTABLE:
        errors["status"] = "未知的状态"
    if not isinstance(note, str) or len(note) > 500:
        errors["note"] = "应为不超过500字的文本"
    if status is None and not note:
        errors["status"] = "请提供 status 或 note"
    if not isinstance(data.get("escalate", True), bool):
        errors["escalate"] = "应为 true 或 false"
    for key in set(data) - {"status", "note", "escalate"}:
        errors[key] = "未知字段"
    if errors:
        raise ValidationError(errors)
    escalation.correct(session, assignment, status, note, actor=current_user().username, now=utcnow(),
                       settings=get_alert_settings(), escalate=data.get("escalate", True))
    session.commit()
    return dispatches.serialize_assignment(assignment)


@bp.get("/inbound-messages")
@roles_required(Role.command_center, Role.regulator)
@documented("收到的短信 (needs_review=1: 待调度员处理的无法识别/未知号码回复)", listing=True,
            query={"needs_review": {"type": "integer"}, "limit": {"type": "integer"}, "offset": {"type": "integer"}})
def list_inbound():
    session = get_session()
    stmt = select(InboundMessage).order_by(InboundMessage.id.desc())
    if request.args.get("needs_review") in ("1", "true"):
        stmt = stmt.where(InboundMessage.needs_review.is_(True))
    errors: dict[str, str] = {}
    limit = int_arg(request.args, "limit", 50, 1, 500, errors)
    offset = int_arg(request.args, "offset", 0, 0, 10**9, errors)
    if errors:
        raise ValidationError(errors, "查询参数有误")
    rows = session.scalars(stmt).all()
    return page([_inbound(r) for r in rows[offset:offset + limit]], len(rows), limit, offset)


@bp.patch("/inbound-messages/<int:message_id>")
@roles_required(Role.command_center)
@documented("处理一条被标记的回复 (可关联到指派并设置其状态)", body=REVIEW_IN)
def review_inbound(message_id):
    session = get_session()
    record = session.get(InboundMessage, message_id)
    if record is None:
        raise NotFoundError("短信不存在")
    data = json_body()
    assignment = None
    if data.get("assignment_id") is not None:
        assignment = session.get(Assignment, data["assignment_id"]) if isinstance(data["assignment_id"], int) else None
        if assignment is None:
            raise ValidationError({"assignment_id": "指派不存在"})
    status = data.get("status")
    if status is not None and (status not in escalation.CORRECTABLE or assignment is None):
        raise ValidationError({"status": "需要有效的状态和 assignment_id"})
    actor = current_user()
    if actor.role != Role.command_center:
        raise ForbiddenError("当前角色无权处理回复")
    replies.review(session, record, actor=actor.username, now=utcnow(), assignment=assignment, status=status,
                   note=data.get("note", ""), settings=get_alert_settings())
    session.commit()
    return _inbound(record)
