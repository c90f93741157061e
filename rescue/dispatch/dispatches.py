"""Dispatching: the chosen resources checked, their assignments and SMS written in one transaction, and serialised."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from contacts import count_segments
from rescue.dispatch import escalation
from rescue.dispatch.assignments import (
    DEFAULT_MAX_WAVES,
    DEFAULT_WAVE_TIMEOUT_S,
    MAX_RESOURCES,
    RESOURCE_MODELS,
    candidate_facts,
    load_resource,
    open_reply_codes,
    start_assignment,
)
from rescue.errors import ConflictError, ValidationError
from rescue.messaging.gateway import AlertSettings
from rescue.models import (
    Assignment,
    Dispatch,
    Incident,
    OutboxMessage,
    User,
)
from rescue.models.enums import OPEN_ASSIGNMENT_STATUSES, AssignmentStatus, ResourceKind

# -- creating a dispatch ---------------------------------------------------------------------------


def _manual_ranking(resources: list[dict]) -> dict:
    needs: dict = {}
    for item in resources:
        needs.setdefault(item.get("need_id"), []).append({"kind": item["kind"], "id": item["id"], "eta_s": item.get("eta_s"),
                                                          "via": item.get("via", "")})
    return {"needs": [{"need_id": k, "candidates": v} for k, v in needs.items()], "source": "manual"}


def validate_options(data: dict) -> dict:
    """acks_needed / wave_timeout_s / max_waves / muster_point / task, every bad field reported at once."""
    errors, out = {}, {}
    for name, lo, hi in (("acks_needed", 1, MAX_RESOURCES), ("wave_timeout_s", 30, 24 * 3600), ("max_waves", 1, 20)):
        value = data.get(name)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            errors[name] = f"应为 {lo}–{hi} 之间的整数"
        else:
            out[name] = value
    for name, limit in (("muster_point", 30), ("task", 20), ("note", 500)):
        value = data.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > limit:
            errors[name] = f"应为不超过{limit}字的文本"
        else:
            out[name] = value.strip()
    unknown = set(data) - {"resources", "acks_needed", "wave_timeout_s", "max_waves", "muster_point", "task", "note"}
    for name in unknown:
        errors[name] = "未知字段"
    if errors:
        raise ValidationError(errors)
    return out


def validate_resources(session: Session, incident: Incident, resources) -> list[dict]:
    """The resources list of a dispatch request, checked against the registry and the incident's needs."""
    if not isinstance(resources, list) or not resources:
        raise ValidationError({"resources": "应为非空列表"})
    if len(resources) > MAX_RESOURCES:
        raise ValidationError({"resources": f"一次最多调派{MAX_RESOURCES}个资源"})
    need_ids = {n.id for n in incident.needs}
    errors, out, seen = {}, [], set()
    for i, item in enumerate(resources):
        where = f"resources[{i}]"
        if not isinstance(item, dict):
            errors[where] = "应为对象"
            continue
        kind, rid = item.get("kind"), item.get("id")
        if kind not in RESOURCE_MODELS:
            errors[f"{where}.kind"] = "应为 team, expert, equipment 或 supply"
            continue
        if not isinstance(rid, int) or isinstance(rid, bool) or load_resource(session, kind, rid) is None:
            errors[f"{where}.id"] = "资源不存在"
            continue
        need_id = item.get("need_id")
        if need_id is not None and need_id not in need_ids:
            errors[f"{where}.need_id"] = "不是该事件的需求"
        quantity = item.get("quantity", 1)
        if not isinstance(quantity, int | float) or isinstance(quantity, bool) or quantity <= 0:
            errors[f"{where}.quantity"] = "应为正数"
        if (kind, rid) in seen:
            errors[where] = "重复的资源"
        seen.add((kind, rid))
        extra = set(item) - {"kind", "id", "need_id", "quantity", "eta_s", "via", "name"}
        if extra:
            errors[where] = "未知字段: " + ", ".join(sorted(extra))
        out.append({"kind": kind, "id": rid, "need_id": need_id, "quantity": quantity,
                    "eta_s": item.get("eta_s"), "via": item.get("via") or ""})
    if errors:
        raise ValidationError(errors)
    return out


def resources_from_plan(plan: dict) -> list[dict]:
    """The resources of a `plan_response` result."""
    return [{"kind": a["kind"], "id": a["id"], "need_id": a.get("need_id"), "quantity": a.get("quantity", 1),
             "eta_s": a.get("eta_s"), "via": a.get("via") or ""} for a in plan.get("assignments", [])]


def create_dispatch(session: Session, incident: Incident, *, resources: list[dict], ranking: dict | None = None,
                    acks_needed: int | None = None, wave_timeout_s: int = DEFAULT_WAVE_TIMEOUT_S,
                    max_waves: int = DEFAULT_MAX_WAVES, muster_point: str = "", task: str = "", note: str = "",
                    actor: User | None = None, settings=None, now: datetime) -> Dispatch:
    """Write a dispatch, its assignments and their outbox rows (flushed, not committed: the caller commits,
    then the outbox sends). `ranking` is what the dispatcher saw; it orders later escalations."""
    settings = settings or AlertSettings()
    if incident.status.value != "open":
        raise ConflictError("事件已关闭, 不能调派")
    busy = set(session.execute(
        select(Assignment.resource_kind, Assignment.resource_id)
        .where(Assignment.incident_id == incident.id, Assignment.status.in_(OPEN_ASSIGNMENT_STATUSES))
    ).all())
    clash = [r for r in resources if (ResourceKind(r["kind"]), r["id"]) in busy]
    if clash:
        names = ", ".join(f"{r['kind']}#{r['id']}" for r in clash)
        raise ConflictError(f"资源已在本事件中执行任务: {names}")
    stored = dict(ranking) if ranking else _manual_ranking(resources)
    stored["context"] = {"muster_point": muster_point, "task": task}
    dispatch = Dispatch(incident=incident, created_by_id=actor.id if actor else None, created_dt=now, ranking=stored,
                        acks_needed=acks_needed or len(resources), wave_timeout_s=wave_timeout_s, max_waves=max_waves,
                        note=note)
    session.add(dispatch)
    session.flush()
    taken = open_reply_codes(session)
    who = actor.username if actor else "system"
    for item in resources:
        resource = load_resource(session, item["kind"], item["id"])
        facts = candidate_facts(dispatch, item.get("need_id"), item["kind"], item["id"])
        eta_s = item.get("eta_s") if item.get("eta_s") is not None else facts.get("eta_s")
        start_assignment(session, dispatch, incident, kind=item["kind"], resource=resource, need_id=item.get("need_id"),
                         quantity=item.get("quantity", 1), rank=facts.get("rank", 0), eta_s=eta_s,
                         via=item.get("via") or facts.get("via", ""), wave=1, taken_codes=taken, settings=settings,
                         now=now, actor=who)
    session.flush()
    for assignment in list(dispatch.assignments):
        if assignment.status == AssignmentStatus.failed:
            escalation.replace(session, assignment, now=now, settings=settings, reason="无可接收短信的号码")
    session.flush()
    return dispatch


def serialize_message(row: OutboxMessage, *, with_body: bool = True) -> dict:
    info = count_segments(row.body)
    out = {
        "id": row.id, "assignment_id": row.assignment_id, "purpose": row.purpose, "chain_step": row.chain_step,
        "to": row.to_phone, "recipient": row.recipient_name, "reply_code": row.reply_code,
        "segments": info.segments, "chars": info.chars, "encoding": info.encoding,
        "status": str(row.status), "attempts": row.attempts, "provider_id": row.provider_id,
        "possibly_duplicated": row.possibly_duplicated, "last_error": row.last_error or None,
        "error_code": row.error_code,
        "next_attempt_at": row.next_attempt_dt.isoformat() if row.next_attempt_dt else None,
        "sent_at": row.sent_dt.isoformat() if row.sent_dt else None,
        "delivered_at": row.delivered_dt.isoformat() if row.delivered_dt else None,
    }
    if with_body:
        out["text"] = row.body
    return out


def serialize_assignment(assignment: Assignment, messages: list[OutboxMessage] | None = None) -> dict:
    out = {
        "id": assignment.id, "dispatch_id": assignment.dispatch_id, "incident_id": assignment.incident_id,
        "need_id": assignment.need_id, "kind": assignment.resource_kind.value, "resource_id": assignment.resource_id,
        "name": assignment.resource_name, "quantity": assignment.quantity, "status": assignment.status.value,
        "reply_code": assignment.reply_code, "wave": assignment.wave, "rank": assignment.rank, "eta_s": assignment.eta_s,
        "reported_eta_min": assignment.reported_eta_min, "escalated_from_id": assignment.escalated_from_id,
        "deadline_at": assignment.deadline_dt.isoformat() if assignment.deadline_dt else None,
        "acknowledged_at": assignment.acknowledged_dt.isoformat() if assignment.acknowledged_dt else None,
    }
    if messages is not None:
        out["messages"] = [serialize_message(m) for m in messages]
    return out


def serialize_dispatch(session: Session, dispatch: Dispatch) -> dict:
    rows = session.scalars(select(OutboxMessage).join(Assignment).where(Assignment.dispatch_id == dispatch.id)
                           .order_by(OutboxMessage.id)).all()
    by_assignment: dict[int, list] = {}
    for row in rows:
        by_assignment.setdefault(row.assignment_id, []).append(row)
    return {
        "id": dispatch.id, "incident_id": dispatch.incident_id, "created_at": dispatch.created_dt.isoformat(),
        "acks_needed": dispatch.acks_needed, "wave_timeout_s": dispatch.wave_timeout_s, "max_waves": dispatch.max_waves,
        "assignments": [serialize_assignment(a, by_assignment.get(a.id, [])) for a in dispatch.assignments],
    }
