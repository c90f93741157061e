"""Dispatch views: send (or preview) a dispatch, the incident timeline and messages, dispatcher corrections."""

from flask import request

from rescue.db import utcnow
from rescue.dispatch import dispatches, escalation, replies, timeline
from rescue.dispatch.schemas import AssignmentOut, CorrectionIn, DispatchIn, DispatchOut, EventOut, InboundOut, ReviewIn
from rescue.errors import ValidationError
from rescue.models import Role
from rescue.web.api import bp, int_arg, json_body, page
from rescue.web.api.openapi import documented
from rescue.web.auth import current_user, roles_required
from rescue.web.extensions import get_alert_settings, get_roads, get_session


@bp.post("/incidents/<int:incident_id>/dispatches")
@roles_required(Role.command_center)
@documented("调派资源并发送短信 (指派与短信在同一事务中写入)", body=DispatchIn, response=DispatchOut, status=201)
def create_dispatch(incident_id: int) -> tuple[dict, int]:
    session = get_session()
    dispatch = dispatches.dispatch_request(
        session, get_roads(), incident_id, json_body(), actor=current_user(), settings=get_alert_settings(), now=utcnow()
    )
    session.commit()  # then the outbox sends
    return dispatches.serialize_dispatch(session, dispatch), 201


@bp.post("/incidents/<int:incident_id>/dispatches/preview")
@roles_required(Role.command_center)
@documented("预览调派短信的文字与条数 (不保存, 不发送)", body=DispatchIn, response=DispatchOut)
def preview_dispatch(incident_id: int) -> dict:
    session = get_session()
    dispatch = dispatches.dispatch_request(
        session, get_roads(), incident_id, json_body(), actor=current_user(), settings=get_alert_settings(), now=utcnow()
    )
    body = dispatches.preview(session, dispatch)
    session.rollback()
    return body


@bp.get("/incidents/<int:incident_id>/dispatches")
@roles_required()
@documented("事件的调派记录", response=DispatchOut, listing=True)
def list_dispatches(incident_id: int) -> dict:
    items = timeline.incident_dispatches(get_session(), incident_id, current_user())
    return page(items, len(items), len(items), 0)


@bp.get("/incidents/<int:incident_id>/timeline")
@roles_required()
@documented("事件时间线: 调派、短信、回复、回执、升级与更正", response=EventOut, listing=True)
def get_timeline(incident_id: int) -> dict:
    items = timeline.incident_timeline(get_session(), incident_id, current_user())
    return page(items, len(items), len(items), 0)


@bp.get("/incidents/<int:incident_id>/messages")
@roles_required()
@documented("事件的短信: 发出的 (含文字、条数、状态) 与收到的回复", listing=True)
def list_messages(incident_id: int) -> dict:
    items = timeline.incident_messages(get_session(), incident_id, current_user())
    return page(items, len(items), len(items), 0)


@bp.patch("/assignments/<int:assignment_id>")
@roles_required(Role.command_center)
@documented("调度员设置或更正指派状态", body=CorrectionIn, response=AssignmentOut)
def update_assignment(assignment_id: int) -> dict:
    session = get_session()
    assignment = escalation.correct_assignment(
        session, assignment_id, json_body(), actor=current_user().username, now=utcnow(), settings=get_alert_settings()
    )
    session.commit()
    return dispatches.serialize_assignment(assignment)


@bp.get("/inbound-messages")
@roles_required(Role.command_center, Role.regulator)
@documented(
    "收到的短信 (needs_review=1: 待调度员处理的无法识别/未知号码回复)",
    response=InboundOut,
    listing=True,
    query={"needs_review": {"type": "integer"}, "limit": {"type": "integer"}, "offset": {"type": "integer"}},
)
def list_inbound() -> dict:
    errors: dict[str, str] = {}
    limit = int_arg(request.args, "limit", 50, 1, 500, errors)
    offset = int_arg(request.args, "offset", 0, 0, 10**9, errors)
    if errors:
        raise ValidationError(errors, "查询参数有误")
    rows, total = replies.list_inbound(
        get_session(), needs_review=request.args.get("needs_review") in ("1", "true"), limit=limit, offset=offset
    )
    return page([replies.serialize_inbound(r) for r in rows], total, limit, offset)


@bp.patch("/inbound-messages/<int:message_id>")
@roles_required(Role.command_center)
@documented("处理一条被标记的回复 (可关联到指派并设置其状态)", body=ReviewIn, response=InboundOut)
def review_inbound(message_id: int) -> dict:
    session = get_session()
    record = replies.settle(
        session, message_id, json_body(), actor=current_user().username, now=utcnow(), settings=get_alert_settings()
    )
    session.commit()
    return replies.serialize_inbound(record)
