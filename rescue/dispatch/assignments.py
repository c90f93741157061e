"""Assignments: who of a resource gets paged, the texts, reply codes, status changes and timeline events."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from contacts import DispatchNotice, make_reply_code
from contacts.templating import Rendered, dispatch_params, get_template, render, voice_dispatch_params
from rescue.errors import NotFoundError
from rescue.messaging import queue
from rescue.messaging.gateway import AlertSettings
from rescue.models import (
    Assignment,
    AssignmentEvent,
    Capability,
    ContactPerson,
    Depot,
    Dispatch,
    Equipment,
    EscalationChainEntry,
    Expert,
    Incident,
    IncidentNeed,
    OutboxMessage,
    ResponderToken,
    RosterShift,
    SupplyLot,
    Team,
)
from rescue.models.enums import INCIDENT_LEVEL_NAMES, OPEN_ASSIGNMENT_STATUSES, AssignmentStatus, ContactRole, ResourceKind
from rescue.registry.recipients import sms_phone

DEFAULT_WAVE_TIMEOUT_S = 300
DEFAULT_MAX_WAVES = 3
MAX_RESOURCES = 200
RESOURCE_MODELS = {"team": Team, "expert": Expert, "equipment": Equipment, "supply": SupplyLot}
# the default escalation chain of a team when it keeps none of its own
DEFAULT_CHAIN_ROLES = (ContactRole.duty, ContactRole.commander, ContactRole.deputy)
ROLE_NAMES = {
    "duty": "值班",
    "commander": "指挥员",
    "deputy": "副指挥员",
    "member": "队员",
    "manager": "负责人",
    "liaison": "联络员",
    "on_call": "当班",
}


@dataclass(frozen=True)
class Recipient:
    """One person (or duty phone) of a resource's escalation chain; `step` is the position in it."""

    step: int
    name: str
    phone: str
    role: str
    contact_id: int | None = None


# -- who gets the message --------------------------------------------------------------------------


def team_chain(session: Session, team: Team, *, now: datetime) -> list[Recipient]:
    """Who of `team` to page, in order: whoever is on shift now, then the team's own chain
    (or duty phone → commander → deputy); numbers that cannot take SMS are left out."""
    people: list[tuple[str, str, str, int | None]] = []
    shifts = session.scalars(
        select(RosterShift)
        .where(RosterShift.team_id == team.id, RosterShift.starts_dt <= now, RosterShift.ends_dt > now)
        .order_by(RosterShift.starts_dt, RosterShift.id)
    )
    people += [(s.contact.name, s.contact.phone, "on_call", s.contact.id) for s in shifts]
    entries = session.scalars(
        select(EscalationChainEntry).where(EscalationChainEntry.team_id == team.id).order_by(EscalationChainEntry.position)
    ).all()
    if entries:
        people += [(e.contact.name, e.contact.phone, e.contact.role.value, e.contact.id) for e in entries]
    else:
        contacts = session.scalars(select(ContactPerson).where(ContactPerson.team_id == team.id).order_by(ContactPerson.id)).all()
        for role in DEFAULT_CHAIN_ROLES:
            found = [c for c in contacts if c.role == role]
            people += [(c.name, c.phone, role.value, c.id) for c in found]
            if role == ContactRole.duty and not found and team.duty_phone:
                people.append((f"{team.name}值班室", team.duty_phone, "duty", None))
            if role == ContactRole.commander and not found and team.commander_phone:
                people.append((team.commander_name or f"{team.name}指挥员", team.commander_phone, "commander", None))
    return _dedupe(people)


def _dedupe(people) -> list[Recipient]:
    out, seen = [], set()
    for name, raw, role, contact_id in people:
        phone = sms_phone(raw)
        if phone is None or phone in seen:
            continue
        seen.add(phone)
        out.append(Recipient(len(out), name, phone, role, contact_id))
    return out


def resource_chain(session: Session, kind: str, resource, *, now: datetime) -> list[Recipient]:
    """The escalation chain of any resource: a team's chain, an expert's own phone, a custodian's contact."""
    if kind == "team":
        return team_chain(session, resource, now=now)
    if kind == "expert":
        return _dedupe([(resource.name, resource.phone, "expert", None)])
    if kind == "equipment" and resource.team is not None:
        return team_chain(session, resource.team, now=now)
    depot: Depot | None = resource.depot
    if depot is None:
        return []
    return _dedupe([(depot.contact_name or f"{depot.name}联系人", depot.contact_phone, "depot", None)])


def load_resource(session: Session, kind: str, resource_id: int):
    model = RESOURCE_MODELS.get(kind)
    return session.get(model, resource_id) if model else None


def resource_enterprise_id(session: Session, kind: str, resource_id: int) -> int | None:
    record = load_resource(session, kind, resource_id)
    return getattr(record, "enterprise_id", None) if record is not None else None


# -- texts -----------------------------------------------------------------------------------------


def task_text(session: Session, need: IncidentNeed | None, kind: str, resource, quantity: float) -> str:
    """What the resource is asked to do, short ("危化品泄漏控制", "专家会商", "调运空气呼吸器 ×3")."""
    if kind == "expert":
        return "专家会商"
    if kind in ("equipment", "supply"):
        # the quantity apart from the name: "检测仪3" reads as a model number
        amount = f" ×{quantity:g}" if quantity != 1 else ""
        return f"调运{resource.name}{amount}"
    if need is not None and need.capability_code:
        cap = session.get(Capability, need.capability_code)
        return cap.name if cap else need.capability_code
    return "增援处置"


def dispatch_notice(
    incident: Incident, *, task: str, reply_code: str, eta_s: float | None, via: str = "", muster_point: str = ""
) -> DispatchNotice:
    """What a dispatch message (SMS or call) of one assignment says, as plain data."""
    return DispatchNotice(
        incident_no=incident.number,
        event_type=incident.type.name if incident.type else incident.type_code,
        level=INCIDENT_LEVEL_NAMES.get(incident.level.value, incident.level.value),
        town=incident.place or "事发地",
        task=task,
        reply_code=reply_code,
        muster_point=muster_point,
        route=via or "",
        eta_min=max(1, round(eta_s / 60)) if eta_s is not None else None,
        drill=incident.drill,
    )


def remote_eta(command_phone: str) -> str:
    """What an expert consulted remotely is asked instead of an arrival time."""
    return f"请致电{command_phone}" if command_phone else "请致电指挥中心会商"


def _extras(kind: str, params: dict, extras: dict[str, str]) -> dict:
    """Fill the optional variables (`phone`, `card`, `link`) a template has; a template without them sends none,
    so every backend shows exactly the approved text."""
    names = {v.name for v in get_template(kind).variables}
    return params | {k: v for k, v in extras.items() if k in names and v}


def render_dispatch(
    notice: DispatchNotice, *, settings: AlertSettings, kind_of_resource: str = "team", card_short: str = "", link: str = ""
) -> Rendered:
    """The dispatch SMS of one assignment, rendered from its template and fitted to one segment.

    Experts consulted from afar are told to call the command center instead of an arrival time."""
    kind, params = dispatch_params(notice)
    if link:  # the approved variant with the responder page's link; the link is never cut, and a third
        # segment rather than the route and arrival time cut to "约…"
        kind += "_link"
    if kind_of_resource == "expert":
        params["eta"] = remote_eta(settings.command_phone)
    params = _extras(kind, params, {"phone": settings.command_phone, "card": card_short, "link": link})
    rendered = render(kind, params, signature=settings.signature, max_segments=3 if link else 1)
    if kind_of_resource == "expert" and "eta" in rendered.truncated:
        # a cut phone number is useless: two segments rather than "请致电0…"
        rendered = render(kind, params, signature=settings.signature)
    return rendered


def render_dispatch_call(notice: DispatchNotice, *, settings: AlertSettings) -> Rendered:
    """The script of a dispatch call (【演练】 first in drills); the keypress text where the provider takes one."""
    kind, params = voice_dispatch_params(notice)
    params = _extras(kind, params, {"phone": settings.command_phone})
    return render(kind, params, signature=None, keypress=settings.voice_keypress)


def template_wants_link(incident: Incident, settings: AlertSettings) -> bool:
    """Whether the dispatch SMS of `incident` carries a responder link: links are on (RESPONDER_LINKS) and the
    approved `*_link` template exists."""
    kind = ("drill_dispatch" if incident.drill else "dispatch") + "_link"
    return bool(settings.responder_base_url) and any(v.name == "link" for v in get_template(kind).variables)


# -- reply codes -----------------------------------------------------------------------------------


def open_reply_codes(session: Session) -> set[str]:
    return set(session.scalars(select(Assignment.reply_code).where(Assignment.status.in_(OPEN_ASSIGNMENT_STATUSES))))


def new_reply_code(taken: set[str]) -> str:
    """A code unused among open assignments (3 characters while plenty are free, else 4)."""
    length = 3 if len(taken) < 2000 else 4
    for _ in range(1000):
        code = make_reply_code(length)
        if code not in taken:
            taken.add(code)
            return code
    code = make_reply_code(4)
    taken.add(code)
    return code


# -- the timeline ----------------------------------------------------------------------------------


def add_event(
    session: Session,
    assignment: Assignment | None,
    kind: str,
    message: str,
    *,
    now: datetime,
    incident_id: int | None = None,
    from_status=None,
    to_status=None,
    detail: dict | None = None,
    actor: str = "system",
) -> AssignmentEvent:
    event = AssignmentEvent(
        incident_id=incident_id if incident_id is not None else assignment.incident_id,
        assignment_id=assignment.id if assignment is not None else None,
        at_dt=now,
        kind=kind,
        message=message,
        detail=detail or {},
        actor=actor,
        from_status=str(from_status) if from_status is not None else None,
        to_status=str(to_status) if to_status is not None else None,
    )
    session.add(event)
    return event


def set_status(
    session: Session,
    assignment: Assignment,
    status: AssignmentStatus,
    *,
    now: datetime,
    message: str,
    actor: str = "system",
    detail: dict | None = None,
    kind: str = "status",
) -> None:
    """Move `assignment` to `status` with a timeline event; closing it stops its timer and unsent SMS."""
    old = assignment.status
    assignment.status = status
    assignment.status_dt = now
    if status == AssignmentStatus.accepted and assignment.acknowledged_dt is None:
        assignment.acknowledged_dt = now
    if status == AssignmentStatus.on_scene and assignment.on_scene_dt is None:
        assignment.on_scene_dt = now
        assignment.acknowledged_dt = assignment.acknowledged_dt or now
    if status != AssignmentStatus.notified:
        assignment.deadline_dt = None
    if status.value not in OPEN_ASSIGNMENT_STATUSES or status in (AssignmentStatus.accepted, AssignmentStatus.on_scene):
        _cancel_unsent(session, assignment, now=now)
    add_event(
        session, assignment, kind, message, now=now, from_status=old.value, to_status=status.value, actor=actor, detail=detail
    )


def _cancel_unsent(session: Session, assignment: Assignment, *, now: datetime) -> None:
    """Queued pages of further chain members, and queued calls, are no longer needed once someone answered."""
    rows = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.assignment_id == assignment.id,
            OutboxMessage.status == "queued",
            or_(OutboxMessage.chain_step > 0, OutboxMessage.channel == "voice"),
        )
    )
    for row in rows:
        row.status = "cancelled"
        row.status_dt = now


# -- paging ----------------------------------------------------------------------------------------


def page(
    session: Session,
    assignment: Assignment,
    recipient: Recipient,
    *,
    incident: Incident,
    task: str,
    via: str,
    muster_point: str,
    settings: AlertSettings,
    now: datetime,
    purpose: str = "dispatch",
) -> OutboxMessage:
    """Queue the SMS that pages `recipient` for `assignment` (sent by the outbox after commit)."""
    notice = dispatch_notice(
        incident, task=task, reply_code=assignment.reply_code, eta_s=assignment.eta_s, via=via, muster_point=muster_point
    )
    link = issue_link(session, assignment, settings=settings, now=now) if template_wants_link(incident, settings) else ""
    rendered = render_dispatch(
        notice,
        settings=settings,
        kind_of_resource=assignment.resource_kind.value,
        card_short=_card_short(session, assignment, incident, settings),
        link=link or "",
    )
    return queue.enqueue_rendered(
        session,
        rendered,
        to_phone=recipient.phone,
        purpose=purpose,
        now=now,
        incident_id=incident.id,
        assignment=assignment,
        contact_id=recipient.contact_id,
        chain_step=recipient.step,
        recipient_name=recipient.name,
        reply_code=assignment.reply_code,
    )


def call(
    session: Session,
    assignment: Assignment,
    recipient: Recipient,
    *,
    incident: Incident,
    task: str,
    settings: AlertSettings,
    now: datetime,
) -> OutboxMessage:
    """Queue the voice call that reads `assignment`'s instruction to `recipient` (placed by the call queue)."""
    notice = dispatch_notice(incident, task=task, reply_code=assignment.reply_code, eta_s=assignment.eta_s)
    rendered = render_dispatch_call(notice, settings=settings)
    return queue.enqueue_rendered(
        session,
        rendered,
        to_phone=recipient.phone,
        purpose="voice",
        channel="voice",
        now=now,
        incident_id=incident.id,
        assignment=assignment,
        contact_id=recipient.contact_id,
        chain_step=recipient.step,
        recipient_name=recipient.name,
        reply_code=assignment.reply_code,
    )


def issue_link(session: Session, assignment: Assignment, *, settings: AlertSettings, now: datetime) -> str | None:
    """A new responder link of `assignment` (only its hash is stored), or None when links are off."""
    if not settings.responder_base_url:
        return None
    token = secrets.token_urlsafe(16)
    session.add(
        ResponderToken(
            assignment=assignment,
            token_hash=hash_token(token),
            created_dt=now,
            expires_dt=now + timedelta(seconds=settings.responder_ttl_s),
        )
    )
    return settings.responder_base_url + token


def _card_short(session: Session, assignment: Assignment, incident: Incident, settings: AlertSettings) -> str:
    """The short form of the resource's enterprise card for this incident type, through the settings' hook
    (the cards feature sits above dispatch, so the app factory hands its lookup in); "" when there is none."""
    if settings.card_short is None:
        return ""
    enterprise_id = resource_enterprise_id(session, assignment.resource_kind.value, assignment.resource_id)
    return settings.card_short(session, enterprise_id=enterprise_id, incident_type=incident.type_code)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def get_assignment(session: Session, assignment_id: int) -> Assignment:
    """The assignment, or NotFoundError."""
    assignment = session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFoundError("指派不存在")
    return assignment


def responder_link(session: Session, token: str, *, now: datetime) -> ResponderToken | None:
    """The unexpired responder link of `token` (only its hash is stored), or None."""
    record = session.scalars(select(ResponderToken).where(ResponderToken.token_hash == hash_token(token))).first()
    if record is None or record.expires_dt <= now:
        return None
    return record


def dispatch_context(dispatch: Dispatch) -> dict:
    return (dispatch.ranking or {}).get("context", {})


def candidate_facts(dispatch: Dispatch, need_id: int | None, kind: str, resource_id: int) -> dict:
    """What the stored ranking says about a resource: rank, eta_s, via."""
    for need in (dispatch.ranking or {}).get("needs", []):
        if need_id is not None and need.get("need_id") not in (None, need_id):
            continue
        for rank, cand in enumerate(need.get("candidates", []), start=1):
            if cand.get("kind") == kind and cand.get("id") == resource_id:
                return {"rank": rank, "eta_s": cand.get("eta_s"), "via": cand.get("via") or ""}
    return {}


def start_assignment(
    session: Session,
    dispatch: Dispatch,
    incident: Incident,
    *,
    kind: str,
    resource,
    need_id: int | None,
    quantity: float,
    rank: int,
    eta_s: float | None,
    via: str,
    wave: int,
    taken_codes: set[str],
    settings: AlertSettings,
    now: datetime,
    escalated_from: Assignment | None = None,
    actor: str = "system",
) -> Assignment:
    """Create one assignment and page the first of its chain; with nobody to page it fails at once."""
    need = session.get(IncidentNeed, need_id) if need_id else None
    assignment = Assignment(
        dispatch=dispatch,
        incident_id=incident.id,
        need_id=need_id,
        resource_kind=ResourceKind(kind),
        resource_id=resource.id,
        resource_name=resource.name,
        quantity=quantity,
        status=AssignmentStatus.notified,
        reply_code=new_reply_code(taken_codes),
        wave=wave,
        rank=rank,
        eta_s=eta_s,
        escalated_from_id=escalated_from.id if escalated_from else None,
        created_dt=now,
        status_dt=now,
        deadline_dt=now + timedelta(seconds=dispatch.wave_timeout_s),
    )
    session.add(assignment)
    session.flush()
    context = dispatch_context(dispatch)
    task = context.get("task") or task_text(session, need, kind, resource, quantity)
    add_event(
        session,
        assignment,
        "escalated" if escalated_from else "dispatched",
        (f"改派{resource.name}(第{wave}轮)" if escalated_from else f"调派{resource.name}") + f", 回复码{assignment.reply_code}",
        now=now,
        to_status="notified",
        actor=actor,
        detail={"rank": rank, "eta_s": eta_s, "wave": wave, "escalated_from": escalated_from.id if escalated_from else None},
    )
    chain = resource_chain(session, kind, resource, now=now)
    if not chain:
        set_status(session, assignment, AssignmentStatus.failed, now=now, message=f"{resource.name}没有可接收短信的号码")
        return assignment
    page(
        session,
        assignment,
        chain[0],
        incident=incident,
        task=task,
        via=via,
        muster_point=context.get("muster_point", ""),
        settings=settings,
        now=now,
        purpose="escalation" if escalated_from else "dispatch",
    )
    return assignment
