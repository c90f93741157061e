"""Dispatching: the chosen resources checked, their assignments and SMS written in one transaction, and serialised."""

from datetime import datetime

from pydantic import ValidationError as PydanticError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contacts import count_segments
from rescue.dispatch import candidates, escalation
from rescue.dispatch.assignments import (
    DEFAULT_MAX_WAVES,
    DEFAULT_WAVE_TIMEOUT_S,
    MAX_RESOURCES,
    candidate_facts,
    load_resource,
    open_reply_codes,
    start_assignment,
)
from rescue.dispatch.incidents import get_incident
from rescue.dispatch.schemas import DispatchIn, ResourceIn
from rescue.errors import ConflictError, ValidationError
from rescue.messaging.gateway import AlertSettings
from rescue.models import (
    Assignment,
    AssignmentEvent,
    Dispatch,
    Incident,
    OutboxMessage,
    User,
)
from rescue.models.alerts import CHANNEL_NAMES
from rescue.models.enums import OPEN_ASSIGNMENT_STATUSES, AssignmentStatus, ResourceKind
from rescue.roads.network import ActiveRoads
from rescue.validation import error_fields

# -- creating a dispatch ---------------------------------------------------------------------------


def _manual_ranking(resources: list[dict]) -> dict:
    needs: dict = {}
    for item in resources:
        needs.setdefault(item.get("need_id"), []).append(
            {"kind": item["kind"], "id": item["id"], "eta_s": item.get("eta_s"), "via": item.get("via", "")}
        )
    return {"needs": [{"need_id": k, "candidates": v} for k, v in needs.items()], "source": "manual"}


def _fields(exc: PydanticError, prefix: str) -> dict[str, str]:
    """Pydantic's errors as ValidationError fields under `prefix` ("resources[0]" + ".kind")."""
    return {(prefix if loc == "_body" else f"{prefix}.{loc}"): reason for loc, reason in error_fields(exc).items()}


def validate_options(data: dict) -> dict:
    """acks_needed / wave_timeout_s / max_waves / muster_point / task / note (DispatchIn), every bad field at once."""
    try:
        obj = DispatchIn.model_validate({k: v for k, v in data.items() if k != "resources"})
    except PydanticError as exc:
        raise ValidationError(error_fields(exc)) from None
    return obj.model_dump(exclude_none=True, exclude={"resources"})


def validate_resources(session: Session, incident: Incident, resources) -> list[dict]:
    """The resources list of a dispatch request (ResourceIn each), checked against the registry and the incident's needs."""
    if not isinstance(resources, list) or not resources:
        raise ValidationError({"resources": "应为非空列表"})
    if len(resources) > MAX_RESOURCES:
        raise ValidationError({"resources": f"一次最多调派{MAX_RESOURCES}个资源"})
    need_ids = {n.id for n in incident.needs}
    errors, out, seen = {}, [], set()
    for i, raw in enumerate(resources):
        where = f"resources[{i}]"
        try:
            item = ResourceIn.model_validate(raw)
        except PydanticError as exc:
            errors.update(_fields(exc, where))
            continue
        if load_resource(session, item.kind, item.id) is None:
            errors[f"{where}.id"] = "资源不存在"
            continue
        if item.need_id is not None and item.need_id not in need_ids:
            errors[f"{where}.need_id"] = "不是该事件的需求"
        if (item.kind, item.id) in seen:
            errors[where] = "重复的资源"
        seen.add((item.kind, item.id))
        out.append(
            {
                "kind": item.kind,
                "id": item.id,
                "need_id": item.need_id,
                "quantity": item.quantity,
                "eta_s": item.eta_s,
                "via": item.via or "",
            }
        )
    if errors:
        raise ValidationError(errors)
    return out


def _strip_routes(ranking: dict) -> dict:
    """The ranking as shown, without route geometries (kept small; routes can be recomputed)."""
    needs = []
    for need in ranking.get("needs", []):
        cands = [{k: v for k, v in c.items() if k != "route"} for c in need.get("candidates", [])]
        needs.append({**need, "candidates": cands})
    return {**ranking, "needs": needs}


def dispatch_request(
    session: Session,
    network: ActiveRoads,
    incident_id: int,
    data: dict,
    *,
    actor: User | None,
    settings: AlertSettings | None,
    now: datetime,
) -> Dispatch:
    """A dispatch as the API asks for it (DispatchIn): the given resources, or the automatic plan when none are
    given; the ranking the dispatcher saw is stored with it. Flushed, not committed."""
    incident = get_incident(session, incident_id)
    errors: dict[str, str] = {}
    try:
        options = validate_options(data)
    except ValidationError as exc:
        errors, options = dict(exc.fields), {}
    if data.get("resources") is not None:
        try:
            validate_resources(session, incident, data["resources"])
        except ValidationError as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationError(errors)  # every bad field at once
    ranking = _strip_routes(candidates.rank_candidates(session, network, incident, k=10, now=now))
    if data.get("resources") is None:
        resources = resources_from_plan(candidates.plan_response(session, network, incident, now=now))
        if not resources:
            raise ValidationError({"resources": "自动方案中没有可调派的资源"})
    else:
        resources = validate_resources(session, incident, data["resources"])
    return create_dispatch(
        session, incident, resources=resources, ranking=ranking, actor=actor, settings=settings, now=now, **options
    )


def preview(session: Session, dispatch: Dispatch) -> dict:
    """A dispatch serialised as a preview: what would be sent, with no ids (the caller rolls back)."""
    body = serialize_dispatch(session, dispatch)
    body["id"] = None
    body["preview"] = True
    for item in body["assignments"]:
        item["id"] = None
        for message in item["messages"]:
            message["id"] = message["assignment_id"] = None
    return body


def resources_from_plan(plan: dict) -> list[dict]:
    """The resources of a `plan_response` result."""
    return [
        {
            "kind": a["kind"],
            "id": a["id"],
            "need_id": a.get("need_id"),
            "quantity": a.get("quantity", 1),
            "eta_s": a.get("eta_s"),
            "via": a.get("via") or "",
        }
        for a in plan.get("assignments", [])
    ]


def create_dispatch(
    session: Session,
    incident: Incident,
    *,
    resources: list[dict],
    ranking: dict | None = None,
    acks_needed: int | None = None,
    wave_timeout_s: int = DEFAULT_WAVE_TIMEOUT_S,
    max_waves: int = DEFAULT_MAX_WAVES,
    muster_point: str = "",
    task: str = "",
    note: str = "",
    actor: User | None = None,
    settings=None,
    now: datetime,
) -> Dispatch:
    """Write a dispatch, its assignments and their outbox rows (flushed, not committed: the caller commits,
    then the outbox sends). `ranking` is what the dispatcher saw; it orders later escalations."""
    settings = settings or AlertSettings()
    if incident.status.value != "open":
        raise ConflictError("事件已关闭, 不能调派")
    busy = set(
        session.execute(
            select(Assignment.resource_kind, Assignment.resource_id).where(
                Assignment.incident_id == incident.id, Assignment.status.in_(OPEN_ASSIGNMENT_STATUSES)
            )
        ).all()
    )
    clash = [r for r in resources if (ResourceKind(r["kind"]), r["id"]) in busy]
    if clash:
        names = ", ".join(f"{r['kind']}#{r['id']}" for r in clash)
        raise ConflictError(f"资源已在本事件中执行任务: {names}")
    stored = dict(ranking) if ranking else _manual_ranking(resources)
    stored["context"] = {"muster_point": muster_point, "task": task}
    dispatch = Dispatch(
        incident=incident,
        created_by_id=actor.id if actor else None,
        created_dt=now,
        ranking=stored,
        acks_needed=acks_needed or len(resources),
        wave_timeout_s=wave_timeout_s,
        max_waves=max_waves,
        note=note,
    )
    session.add(dispatch)
    session.flush()
    taken = open_reply_codes(session)
    who = actor.username if actor else "system"
    for item in resources:
        resource = load_resource(session, item["kind"], item["id"])
        facts = candidate_facts(dispatch, item.get("need_id"), item["kind"], item["id"])
        eta_s = item.get("eta_s") if item.get("eta_s") is not None else facts.get("eta_s")
        start_assignment(
            session,
            dispatch,
            incident,
            kind=item["kind"],
            resource=resource,
            need_id=item.get("need_id"),
            quantity=item.get("quantity", 1),
            rank=facts.get("rank", 0),
            eta_s=eta_s,
            via=item.get("via") or facts.get("via", ""),
            wave=1,
            taken_codes=taken,
            settings=settings,
            now=now,
            actor=who,
        )
    session.flush()
    for assignment in list(dispatch.assignments):
        if assignment.status == AssignmentStatus.failed:
            escalation.replace(session, assignment, now=now, settings=settings, reason="无可接收短信的号码")
    session.flush()
    return dispatch


ACK_CHANNEL_NAMES = {"sms": "短信", "voice": "语音", "link": "链接", "dispatcher": "调度员"}
ACKED = ("accepted", "en_route", "on_scene")


def _actor_channel(actor: str) -> str:
    if actor.startswith("sms:"):
        return "sms"
    if actor.startswith("voice:"):
        return "voice"
    if actor == "responder-link":
        return "link"
    return "dispatcher"


def acknowledgements(session: Session, assignment_ids: list[int]) -> dict[int, dict]:
    """How each acknowledged assignment was acknowledged: channel (sms | voice | link | dispatcher), when, and the
    seconds from that channel's first message (SMS: the page; call: the call) to it."""
    if not assignment_ids:
        return {}
    events = session.execute(
        select(AssignmentEvent.assignment_id, AssignmentEvent.at_dt, AssignmentEvent.actor)
        .where(AssignmentEvent.assignment_id.in_(assignment_ids), AssignmentEvent.to_status.in_(ACKED))
        .order_by(AssignmentEvent.at_dt, AssignmentEvent.id)
    ).all()
    first_by_channel: dict[tuple[int, str], datetime] = {}
    for aid, channel, created in session.execute(
        select(OutboxMessage.assignment_id, OutboxMessage.channel, func.min(OutboxMessage.created_dt))
        .where(OutboxMessage.assignment_id.in_(assignment_ids))
        .group_by(OutboxMessage.assignment_id, OutboxMessage.channel)
    ):
        first_by_channel[(aid, channel)] = created
    out: dict[int, dict] = {}
    for aid, at, actor in events:
        if aid in out:
            continue
        channel = _actor_channel(actor)
        start = first_by_channel.get((aid, channel)) or first_by_channel.get((aid, "sms"))
        out[aid] = {"channel": channel, "at": at, "ack_s": round((at - start).total_seconds(), 1) if start else None}
    return out


def serialize_message(row: OutboxMessage, *, with_body: bool = True) -> dict:
    info = count_segments(row.body)
    out = {
        "id": row.id,
        "assignment_id": row.assignment_id,
        "purpose": row.purpose,
        "chain_step": row.chain_step,
        "channel": row.channel or "sms",
        "channel_name": CHANNEL_NAMES.get(row.channel or "sms", row.channel),
        "template": row.template,
        "to": row.to_phone,
        "recipient": row.recipient_name,
        "reply_code": row.reply_code,
        "segments": info.segments,
        "chars": info.chars,
        "encoding": info.encoding,
        "status": str(row.status),
        "attempts": row.attempts,
        "provider_id": row.provider_id,
        "possibly_duplicated": row.possibly_duplicated,
        "last_error": row.last_error or None,
        "error_code": row.error_code,
        "next_attempt_at": row.next_attempt_dt.isoformat() if row.next_attempt_dt else None,
        "sent_at": row.sent_dt.isoformat() if row.sent_dt else None,
        "delivered_at": row.delivered_dt.isoformat() if row.delivered_dt else None,
    }
    if with_body:
        out["text"] = row.body
    return out


def serialize_assignment(assignment: Assignment, messages: list[OutboxMessage] | None = None, ack: dict | None = None) -> dict:
    out = {
        "id": assignment.id,
        "dispatch_id": assignment.dispatch_id,
        "incident_id": assignment.incident_id,
        "need_id": assignment.need_id,
        "kind": assignment.resource_kind.value,
        "resource_id": assignment.resource_id,
        "name": assignment.resource_name,
        "quantity": assignment.quantity,
        "status": assignment.status.value,
        "reply_code": assignment.reply_code,
        "wave": assignment.wave,
        "rank": assignment.rank,
        "eta_s": assignment.eta_s,
        "reported_eta_min": assignment.reported_eta_min,
        "escalated_from_id": assignment.escalated_from_id,
        "deadline_at": assignment.deadline_dt.isoformat() if assignment.deadline_dt else None,
        "acknowledged_at": assignment.acknowledged_dt.isoformat() if assignment.acknowledged_dt else None,
        "on_scene_at": assignment.on_scene_dt.isoformat() if assignment.on_scene_dt else None,
    }
    if ack is not None:
        out |= {"ack_channel": ack["channel"], "ack_channel_name": ACK_CHANNEL_NAMES[ack["channel"]], "ack_s": ack["ack_s"]}
    if messages is not None:
        out["messages"] = [serialize_message(m) for m in messages]
    return out


def serialize_dispatch(session: Session, dispatch: Dispatch) -> dict:
    rows = session.scalars(
        select(OutboxMessage).join(Assignment).where(Assignment.dispatch_id == dispatch.id).order_by(OutboxMessage.id)
    ).all()
    by_assignment: dict[int, list] = {}
    for row in rows:
        by_assignment.setdefault(row.assignment_id, []).append(row)
    acks = acknowledgements(session, [a.id for a in dispatch.assignments if a.id is not None])
    return {
        "id": dispatch.id,
        "incident_id": dispatch.incident_id,
        "created_at": dispatch.created_dt.isoformat(),
        "acks_needed": dispatch.acks_needed,
        "wave_timeout_s": dispatch.wave_timeout_s,
        "max_waves": dispatch.max_waves,
        "assignments": [serialize_assignment(a, by_assignment.get(a.id, []), acks.get(a.id)) for a in dispatch.assignments],
    }
