"""Deployment records: built from a closed incident's timeline, then confirmed (or corrected) by the owner."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from rescue.db import begin_write
from rescue.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from rescue.models import (
    Assignment,
    AssignmentEvent,
    Deployment,
    Equipment,
    Expert,
    Incident,
    Role,
    SupplyLot,
    Team,
    User,
)
from rescue.models.enums import IncidentStatus, ResourceKind
from rescue.models.readiness import DEPLOYMENT_STATE_NAMES, DeploymentState
from rescue.readiness import schemas
from rescue.readiness.kinds import DEPLOYMENTS
from rescue.registry import access, audit, registry
from rescue.validation import parse

_MODELS = {
    ResourceKind.team: Team,
    ResourceKind.equipment: Equipment,
    ResourceKind.expert: Expert,
    ResourceKind.supply: SupplyLot,
}


def _deployed(a: Assignment) -> bool:
    """Whether the resource actually went: it accepted, set out or arrived (declines and silence do not count)."""
    return a.acknowledged_dt is not None or a.on_scene_dt is not None or a.status.value in ("en_route", "on_scene", "released")


def build_for_incident(session: Session, incident_id: int, *, now: datetime) -> list[Deployment]:
    """A draft record per deployed assignment of a closed incident not yet recorded (idempotent)."""
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFoundError("事件不存在")
    if incident.status != IncidentStatus.closed:
        raise ConflictError("事件尚未结束, 结束后才生成出动记录")
    done = set(session.scalars(select(Deployment.assignment_id).where(Deployment.incident_id == incident_id)))
    made = []
    for a in session.scalars(select(Assignment).where(Assignment.incident_id == incident_id).order_by(Assignment.id)):
        if a.id in done or not _deployed(a):
            continue
        resource = session.get(_MODELS[a.resource_kind], a.resource_id)
        released = session.scalar(
            select(AssignmentEvent.at_dt)
            .where(AssignmentEvent.assignment_id == a.id, AssignmentEvent.to_status == "released")
            .order_by(AssignmentEvent.id.desc())
        )
        end = released or incident.closed_dt or now
        people, items, etype, consumables = 0, 0, "", []
        if a.resource_kind == ResourceKind.team:
            people = resource.headcount if resource is not None else 0
        elif a.resource_kind == ResourceKind.expert:
            people = 1
        elif a.resource_kind == ResourceKind.equipment:
            items = max(round(a.quantity or 1), 1)
            etype = resource.equipment_type if resource is not None else ""
        else:
            consumables = [{"lot_id": a.resource_id, "quantity": float(a.quantity or 0), "unit_cost": 0.0}]
        dep = Deployment(
            incident_id=incident_id,
            assignment_id=a.id,
            enterprise_id=resource.enterprise_id if resource else None,
            resource_kind=a.resource_kind,
            resource_id=a.resource_id,
            resource_name=a.resource_name,
            equipment_type=etype,
            dispatched_dt=a.created_dt,
            arrived_dt=a.on_scene_dt,
            released_dt=max(end, a.created_dt),
            people=people,
            equipment_count=items,
            consumables=consumables,
            state=DeploymentState.draft,
            demo=incident.drill,
            created_dt=now,
            updated_dt=now,
        )
        session.add(dep)
        made.append(dep)
    session.flush()
    return made


def build_due(session_factory, gateway=None, *, now: datetime, **_needs) -> int:
    """The job: records for every closed (non-drill) incident with deployed resources not yet recorded."""
    with session_factory() as session:
        recorded = select(Deployment.assignment_id).where(Deployment.assignment_id.is_not(None))
        ids = session.scalars(
            select(Incident.id)
            .join(Assignment, Assignment.incident_id == Incident.id)
            .where(Incident.status == IncidentStatus.closed, Incident.drill.is_(False), Assignment.id.not_in(recorded))
            .distinct()
        ).all()
    made = 0
    for incident_id in ids:
        with session_factory() as session:
            begin_write(session)
            made += len(build_for_incident(session, incident_id, now=now))
            session.commit()
    return made


def serialize(dep: Deployment) -> dict:
    out = schemas.DeploymentOut.model_validate(dep).model_dump(mode="json")
    out["state_name"] = DEPLOYMENT_STATE_NAMES.get(dep.state, dep.state)
    out["hours"] = round(dep.hours, 2)
    return out


def _owned(session: Session, actor: User, dep_id: int) -> Deployment:
    dep = registry.get_record(session, DEPLOYMENTS, actor, dep_id)
    if actor.role == Role.regulator:
        raise ForbiddenError("监管角色不能确认出动记录")
    if dep.state != DeploymentState.draft:
        raise ConflictError(f"出动记录已{DEPLOYMENT_STATE_NAMES[dep.state]}, 不能再修改")
    return dep


def _draw(session: Session, dep: Deployment) -> None:
    """Take the consumables out of their lots (the lot must hold them)."""
    errors = {}
    for i, c in enumerate(dep.consumables or []):
        lot = session.get(SupplyLot, c["lot_id"])
        if lot is None:
            errors[f"consumables.{i}.lot_id"] = "物资批次不存在"
        elif dep.enterprise_id is not None and lot.enterprise_id not in (None, dep.enterprise_id):
            errors[f"consumables.{i}.lot_id"] = "属于其他企业"
        elif lot.quantity < c["quantity"]:
            errors[f"consumables.{i}.quantity"] = f"超过库存 ({lot.quantity:g}{lot.unit})"
        else:
            lot.quantity -= c["quantity"]
    if errors:
        raise ValidationError(errors)


def confirm(session: Session, actor: User, dep_id: int, *, now: datetime) -> Deployment:
    """The owner confirms the record as built; consumables leave their lots."""
    dep = _owned(session, actor, dep_id)
    _draw(session, dep)
    dep.state, dep.confirmed_by, dep.confirmed_dt = DeploymentState.confirmed, actor.username, now
    audit.record(
        session, actor, "confirm", DEPLOYMENTS.name, dep.id, dep.enterprise_id, {"state": ("draft", "confirmed")}, now=now
    )
    session.flush()
    return dep


def correct(session: Session, actor: User, dep_id: int, data: dict, *, now: datetime) -> Deployment:
    """The owner corrects people, equipment, times or consumables, which confirms the corrected record."""
    access.require_write(actor, DEPLOYMENTS)
    dep = _owned(session, actor, dep_id)
    obj = parse(schemas.DeploymentPatch, data)
    given = obj.model_fields_set
    errors = {}
    changes = {}
    for name in ("people", "equipment_count", "arrived_dt", "released_dt", "note"):
        if name in given and getattr(obj, name) is not None:
            value = getattr(obj, name)
            if name.endswith("_dt") and value.tzinfo is None:
                errors[name] = "时间须带时区 (如 +08:00)"
                continue
            changes[name] = (getattr(dep, name), value)
    if "consumables" in given and obj.consumables is not None:
        changes["consumables"] = (dep.consumables, [c.model_dump() for c in obj.consumables])
    released = changes.get("released_dt", (None, dep.released_dt))[1]
    arrived = changes.get("arrived_dt", (None, dep.arrived_dt))[1]
    if not errors and released < dep.dispatched_dt:
        errors["released_dt"] = "解除时间不能早于出动时间"
    if not errors and arrived is not None and not dep.dispatched_dt <= arrived <= released:
        errors["arrived_dt"] = "到达时间应在出动与解除之间"
    if errors:
        raise ValidationError(errors)
    for name, (_old, value) in changes.items():
        setattr(dep, name, value)
    _draw(session, dep)
    dep.state, dep.confirmed_by, dep.confirmed_dt = DeploymentState.corrected, actor.username, now
    audit.record(
        session,
        actor,
        "update",
        DEPLOYMENTS.name,
        dep.id,
        dep.enterprise_id,
        changes | {"state": ("draft", "corrected")},
        now=now,
    )
    session.flush()
    return dep


def drafts(session: Session, actor: User, *, limit: int = 200) -> list[Deployment]:
    """The draft deployment records the caller may see, newest first."""
    return list(
        session.scalars(
            access.scope(select(Deployment), actor, DEPLOYMENTS)
            .where(Deployment.state == DeploymentState.draft)
            .order_by(Deployment.dispatched_dt.desc())
            .limit(limit)
        ).all()
    )
