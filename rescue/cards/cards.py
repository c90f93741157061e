"""Response cards (应急处置卡) for key posts: versions, live links to contacts/equipment/depots, prints and the
"changed since printed" flag, the ~60-character short form, the live link in the QR code, review reminders.

* Editing a card writes a new version; versions are never changed, so every printed version stays viewable.
* Phone numbers, equipment and depots are linked by id and resolved when a card is shown or printed. A print
  stores what it showed (a snapshot) and its fingerprint; a card is "changed since printed" when its current
  version is newer than the last print or the live linked data no longer matches that print's fingerprint.
* The QR code opens `/api/v1/cards/<id>/live?k=<key>` under RESCUE_PUBLIC_URL: the key is an HMAC of the card id
  with the app secret, so the link works from a phone without signing in but cannot be guessed for other cards.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import date, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rescue.cards.schemas import SHORT_MAX, CardIn, CardOut, CardPatch, CardVersionOut
from rescue.clock import CHINA, local
from rescue.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from rescue.models import (
    CardPrint,
    ContactPerson,
    Depot,
    Enterprise,
    Equipment,
    IncidentType,
    ResponseCard,
    ResponseCardVersion,
    Role,
    User,
)
from rescue.models.enums import EquipmentStatus
from rescue.validation import parse_partly

_CONTENT_KEYS = (
    "post",
    "area",
    "incident_types",
    "risks",
    "when_to_act",
    "steps",
    "reporting",
    "ppe",
    "prohibitions",
    "evacuation_route",
    "assembly_point",
    "review_date",
    "owner_contact_id",
    "short",
)


# -- access ----------------------------------------------------------------------------------------------


def _check_write(actor: User | None, enterprise_id: int) -> None:
    if actor is None or actor.role == Role.command_center:
        return
    if actor.role == Role.enterprise_admin and actor.enterprise_id == enterprise_id:
        return
    raise ForbiddenError("只能编辑本企业的处置卡")


def get_card(session: Session, card_id: int, actor: User | None = None) -> ResponseCard:
    card = session.get(ResponseCard, card_id)
    if card is None or (actor is not None and actor.role == Role.enterprise_admin and card.enterprise_id != actor.enterprise_id):
        raise NotFoundError("处置卡不存在")
    return card


def list_cards(
    session: Session,
    actor: User,
    *,
    enterprise_id: int | None = None,
    q: str | None = None,
    changed: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[ResponseCard], int]:
    stmt = select(ResponseCard).where(ResponseCard.active.is_(True))
    if actor.role == Role.enterprise_admin:
        stmt = stmt.where(ResponseCard.enterprise_id == actor.enterprise_id)
    if enterprise_id is not None:
        stmt = stmt.where(ResponseCard.enterprise_id == enterprise_id)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(ResponseCard.post.like(like), ResponseCard.area.like(like), ResponseCard.number.like(like)))
    rows = list(session.scalars(stmt.order_by(ResponseCard.enterprise_id, ResponseCard.number)))
    if changed is not None:
        rows = [c for c in rows if print_status(session, c)["changed_since_printed"] is changed]
    return rows[offset : offset + limit], len(rows)


# -- validation of links -----------------------------------------------------------------------------------


def _contact_enterprise(contact: ContactPerson) -> int | None:
    return contact.enterprise_id if contact.enterprise_id is not None else (contact.team.enterprise_id if contact.team else None)


def _check_links(session: Session, enterprise_id: int, content: dict) -> dict[str, str]:
    errors: dict[str, str] = {}
    for i, code in enumerate(content.get("incident_types") or []):
        if session.get(IncidentType, code) is None:
            errors[f"incident_types.{i}"] = f"未知的事件类型: {code}"
    for i, item in enumerate(content.get("reporting") or []):
        if item.get("contact_id") is not None:
            contact = session.get(ContactPerson, item["contact_id"])
            if contact is None or _contact_enterprise(contact) != enterprise_id:
                errors[f"reporting.{i}.contact_id"] = "联系人不存在或不属于本企业"
    for i, item in enumerate(content.get("ppe") or []):
        if item.get("equipment_id") is not None:
            equipment = session.get(Equipment, item["equipment_id"])
            if equipment is None or equipment.enterprise_id != enterprise_id:
                errors[f"ppe.{i}.equipment_id"] = "装备不存在或不属于本企业"
        if item.get("depot_id") is not None:
            depot = session.get(Depot, item["depot_id"])
            if depot is None or depot.enterprise_id not in (None, enterprise_id):
                errors[f"ppe.{i}.depot_id"] = "储备库不存在或不属于本企业"
    owner = content.get("owner_contact_id")
    if owner is not None:
        contact = session.get(ContactPerson, owner)
        if contact is None or _contact_enterprise(contact) != enterprise_id:
            errors["owner_contact_id"] = "联系人不存在或不属于本企业"
    return errors


def _content(obj: BaseModel) -> dict:
    data = obj.model_dump(mode="json")
    return {k: data.get(k) for k in _CONTENT_KEYS}


# -- create / edit -----------------------------------------------------------------------------------------


def create_card(session: Session, data: dict, *, actor: User | None, now: datetime) -> ResponseCard:
    """Validate and add a card with its version 1 (flushed; the caller commits). The schema, the owner, the links
    and the number are checked together: every bad field at once."""
    obj, errors = parse_partly(CardIn, data)
    if obj is None:
        raise ValidationError(errors)
    if obj.enterprise_id is not None:
        if session.get(Enterprise, obj.enterprise_id) is None:
            errors.setdefault("enterprise_id", "企业不存在")
        else:
            try:
                _check_write(actor, obj.enterprise_id)
            except ForbiddenError:
                errors.setdefault("enterprise_id", "只能为本企业编制处置卡")
            errors = _check_links(session, obj.enterprise_id, _content(obj)) | errors
            taken = select(ResponseCard.id).where(
                ResponseCard.enterprise_id == obj.enterprise_id, ResponseCard.number == obj.number
            )
            if obj.number and session.scalar(taken) is not None:
                errors.setdefault("number", "本企业已有该卡号")
    if errors:
        raise ValidationError(errors)
    content = _content(obj)
    card = ResponseCard(
        enterprise_id=obj.enterprise_id,
        number=obj.number,
        post=obj.post,
        area=obj.area,
        current_version=1,
        review_date=obj.review_date,
        owner_contact_id=obj.owner_contact_id,
        created_dt=now,
        updated_dt=now,
    )
    card.versions.append(
        ResponseCardVersion(version=1, content=content, created_by=actor.username if actor else "system", created_dt=now)
    )
    session.add(card)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise ConflictError("本企业已有该卡号", {"number": "已存在"}) from None
    return card


def current(card: ResponseCard) -> ResponseCardVersion:
    return next(v for v in card.versions if v.version == card.current_version)


def version_of(card: ResponseCard, number: int | None) -> ResponseCardVersion:
    if number is None:
        return current(card)
    found = next((v for v in card.versions if v.version == number), None)
    if found is None:
        raise NotFoundError("该版本不存在")
    return found


def update_card(session: Session, card: ResponseCard, data: dict, *, actor: User | None, now: datetime) -> ResponseCard:
    """Edit a card: the content is merged into a new version (none if nothing changed)."""
    _check_write(actor, card.enterprise_id)
    obj, errors = parse_partly(CardPatch, data)
    if obj is None:
        raise ValidationError(errors)
    given = obj.model_fields_set
    patch = obj.model_dump(mode="json", include=given)
    for key in ("post", "steps", "reporting", "review_date"):
        if key in given and patch[key] is None and isinstance(data, dict) and key in data:
            errors.setdefault(key, "不能为空")
    content = dict(current(card).content) | {k: v for k, v in patch.items() if k in _CONTENT_KEYS and k not in errors}
    errors = _check_links(session, card.enterprise_id, content) | errors
    if errors:
        raise ValidationError(errors)
    if "active" in given:
        card.active = bool(patch.pop("active"))
    if content != current(card).content:
        card.current_version += 1
        card.versions.append(
            ResponseCardVersion(
                version=card.current_version, content=content, created_by=actor.username if actor else "system", created_dt=now
            )
        )
        card.post, card.area = content["post"], content.get("area") or ""
        card.review_date = date.fromisoformat(content["review_date"])
        card.owner_contact_id = content.get("owner_contact_id")
    card.updated_dt = now
    session.flush()
    return card


def link_options(session: Session, enterprise_id: int) -> dict[str, list[tuple[int | str, str]]]:
    """What a card of `enterprise_id` may link to, as (id, label) choices for a form: its contacts (its own and its
    teams'), equipment and depots (its own and shared ones), and the incident types."""
    contacts = [
        c
        for c in session.scalars(select(ContactPerson).order_by(ContactPerson.name, ContactPerson.id))
        if _contact_enterprise(c) == enterprise_id
    ]
    equipment = session.scalars(select(Equipment).where(Equipment.enterprise_id == enterprise_id).order_by(Equipment.name))
    depots = session.scalars(
        select(Depot).where(or_(Depot.enterprise_id == enterprise_id, Depot.enterprise_id.is_(None))).order_by(Depot.name)
    )
    return {
        "contacts": [(c.id, f"{c.name} {c.phone}") for c in contacts],
        "equipment": [(e.id, f"{e.name}×{e.quantity:g}") for e in equipment],
        "depots": [(d.id, d.name) for d in depots],
        "incident_types": [(t.code, t.name) for t in session.scalars(select(IncidentType).order_by(IncidentType.code))],
    }


def enterprise_choices(session: Session) -> list[tuple[int, str]]:
    """Every enterprise as (id, name), by name: whom a command-center user may write a card for."""
    return [tuple(row) for row in session.execute(select(Enterprise.id, Enterprise.name).order_by(Enterprise.name))]


# -- resolving live data -----------------------------------------------------------------------------------


def _custodian_text(equipment: Equipment) -> str:
    keeper = equipment.custodian
    if keeper is None:
        return ""
    where = getattr(keeper, "place", "") or getattr(keeper, "address", "")
    return f"{keeper.name}" + (f"({where})" if where else "")


def resolve(session: Session, card: ResponseCard, version: ResponseCardVersion | None = None) -> dict:
    """The card as it reads now: the version's content with live phone numbers, equipment and depots."""
    version = version or current(card)
    content = version.content
    reporting = []
    for item in content.get("reporting", []):
        if item.get("contact_id") is not None:
            contact = session.get(ContactPerson, item["contact_id"])
            reporting.append(
                {
                    "label": item["label"],
                    "contact_id": item["contact_id"],
                    "name": contact.name if contact else "(联系人已删除)",
                    "phone": contact.phone if contact else "",
                }
            )
        else:
            reporting.append({"label": item["label"], "contact_id": None, "name": "", "phone": item["phone"]})
    ppe = []
    for item in content.get("ppe", []):
        entry = {
            "item": item["item"],
            "equipment_id": item.get("equipment_id"),
            "depot_id": item.get("depot_id"),
            "location": item.get("location") or "",
        }
        if item.get("equipment_id") is not None:
            equipment = session.get(Equipment, item["equipment_id"])
            if equipment is None:
                entry["linked"] = "(装备已删除)"
            else:
                entry["linked"] = f"{equipment.name}×{equipment.quantity} {_custodian_text(equipment)}"
                entry["status"] = equipment.status.value
                if equipment.status != EquipmentStatus.operational:
                    entry["linked"] += " [不可用]"
        if item.get("depot_id") is not None:
            depot = session.get(Depot, item["depot_id"])
            entry["linked"] = (f"{depot.name}" + (f"({depot.address})" if depot.address else "")) if depot else "(储备库已删除)"
        ppe.append(entry)
    types = [session.get(IncidentType, c) for c in content.get("incident_types", [])]
    return {
        "card_id": card.id,
        "number": card.number,
        "version": version.version,
        "enterprise_id": card.enterprise_id,
        "enterprise": card.enterprise.name if card.enterprise else "",
        "post": content["post"],
        "area": content.get("area") or "",
        "incident_types": [{"code": t.code, "name": t.name} for t in types if t is not None],
        "risks": content.get("risks") or [],
        "when_to_act": content.get("when_to_act") or "",
        "steps": content["steps"],
        "reporting": reporting,
        "ppe": ppe,
        "prohibitions": content.get("prohibitions") or [],
        "evacuation_route": content.get("evacuation_route") or "",
        "assembly_point": content.get("assembly_point") or "",
        "review_date": content["review_date"],
        "owner_contact_id": content.get("owner_contact_id"),
        "short": short_form(content),
        "version_created_at": local(version.created_dt),
    }


def linked_part(resolved: dict) -> dict:
    """What of a resolved card comes from live records (what "changed since printed" watches)."""
    return {
        "reporting": [(r["label"], r["name"], r["phone"]) for r in resolved["reporting"]],
        "ppe": [(p["item"], p.get("linked"), p.get("status")) for p in resolved["ppe"]],
    }


def fingerprint(resolved: dict) -> str:
    return hashlib.sha256(json.dumps(linked_part(resolved), ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def last_print(session: Session, card: ResponseCard) -> CardPrint | None:
    return session.scalars(
        select(CardPrint).where(CardPrint.card_id == card.id).order_by(CardPrint.printed_dt.desc(), CardPrint.id.desc()).limit(1)
    ).first()


def print_status(session: Session, card: ResponseCard, resolved: dict | None = None) -> dict:
    """Whether the card was printed, and whether what is on paper is out of date (and why)."""
    printed = last_print(session, card)
    if printed is None:
        return {
            "printed": False,
            "last_printed_at": None,
            "last_printed_version": None,
            "changed_since_printed": False,
            "changes": [],
        }
    resolved = resolved or resolve(session, card)
    changes = []
    if printed.version.version != card.current_version:
        changes.append(f"已有新版本 v{card.current_version} (打印的是 v{printed.version.version})")
    else:
        was, now = printed.snapshot, resolved
        if [tuple(x) for x in linked_part(was)["reporting"]] != linked_part(now)["reporting"]:
            changes.append("报告电话或联系人已变更")
        if [tuple(x) for x in linked_part(was)["ppe"]] != linked_part(now)["ppe"]:
            changes.append("防护用品或物资位置已变更")
    return {
        "printed": True,
        "last_printed_at": local(printed.printed_dt),
        "last_printed_version": printed.version.version,
        "changed_since_printed": bool(changes),
        "changes": changes,
    }


def record_print(
    session: Session,
    card: ResponseCard,
    version: ResponseCardVersion,
    resolved: dict,
    *,
    actor: User | None,
    now: datetime,
    page_size: str = "A6",
) -> CardPrint:
    row = CardPrint(
        card_id=card.id,
        version=version,
        printed_dt=now,
        printed_by=actor.username if actor else "system",
        page_size=page_size,
        fingerprint=fingerprint(resolved),
        snapshot=resolved,
    )
    session.add(row)
    session.flush()
    return row


def get_print(session: Session, card: ResponseCard, print_id: int) -> CardPrint:
    """Print `print_id` of `card`."""
    printed = session.get(CardPrint, print_id)
    if printed is None or printed.card_id != card.id:
        raise NotFoundError("打印记录不存在")
    return printed


# -- short form and links ------------------------------------------------------------------------------------


_HEAD = re.compile(r"[，,。；;：:（(]")


def short_form(content: dict, *, limit: int = SHORT_MAX) -> str:
    """About 60 characters for the dispatch SMS and the responder page: the card's own, else the steps' heads."""
    if content.get("short"):
        return content["short"][:limit]
    heads = [_HEAD.split(s.strip(), maxsplit=1)[0].strip() for s in content.get("steps", [])]
    heads = [h for h in heads if h]
    out = ""
    for head in heads:
        candidate = f"{out}→{head}" if out else head
        if len(candidate) > limit:
            break
        out = candidate
    return out or (heads[0][:limit] if heads else "")


def card_for(session: Session, *, enterprise_id: int | None, incident_type: str | None) -> ResponseCard | None:
    """The enterprise's first active card covering `incident_type`, or None."""
    if enterprise_id is None or not incident_type:
        return None
    cards = session.scalars(
        select(ResponseCard)
        .where(ResponseCard.enterprise_id == enterprise_id, ResponseCard.active.is_(True))
        .order_by(ResponseCard.id)
    ).all()
    return next((c for c in cards if incident_type in (current(c).content.get("incident_types") or [])), None)


def short_for(session: Session, *, enterprise_id: int | None, incident_type: str | None) -> str:
    """The short form of the enterprise's card covering `incident_type` (for the dispatch SMS), or ""."""
    card = card_for(session, enterprise_id=enterprise_id, incident_type=incident_type)
    return short_form(current(card).content) if card is not None else ""


def link_key(secret: str, card_id: int) -> str:
    return hmac.new(secret.encode(), f"card:{card_id}".encode(), hashlib.sha256).hexdigest()[:20]


def check_link_key(secret: str, card_id: int, key: str | None) -> bool:
    return bool(key) and hmac.compare_digest(link_key(secret, card_id), key)


def live_url(public_url: str, secret: str, card_id: int) -> str:
    """The URL the QR code opens: the live card, readable without signing in by whoever holds the card."""
    return f"{public_url.rstrip('/')}/api/v1/cards/{card_id}/live?k={link_key(secret, card_id)}"


# -- output ---------------------------------------------------------------------------------------------------


def serialize(session: Session, card: ResponseCard, *, version: ResponseCardVersion | None = None, live_url: str) -> dict:
    """The card as the API returns it (`live_url`: the link of its QR code)."""
    resolved = resolve(session, card, version)
    # a PPE entry names `linked` and `status` only when it links equipment or a depot: unset fields stay out
    return CardOut(
        id=card.id,
        **resolved,
        current_version=card.current_version,
        active=card.active,
        demo=card.demo,
        review_due=card.review_date.isoformat(),
        **print_status(session, card),
        live_url=live_url,
    ).model_dump(mode="json", exclude_unset=True)


def serialize_versions(session: Session, card: ResponseCard) -> list[dict]:
    """Every version of the card, with the prints made of each."""
    return [
        CardVersionOut(
            version=v.version,
            created_at=local(v.created_dt),
            created_by=v.created_by,
            current=v.version == card.current_version,
            prints=[
                {"id": p.id, "printed_at": local(p.printed_dt), "printed_by": p.printed_by, "page_size": p.page_size}
                for p in v.prints
            ],
        ).model_dump(mode="json")
        for v in card.versions
    ]


# -- seed ----------------------------------------------------------------------------------------------------------


def seed_cards(session: Session, rows: list[dict], ids: dict[str, dict[str, int]], *, now: datetime) -> int:
    """Load seed cards; links name seed keys (`contact`, `equipment`, `depot`, `owner`), review dates are relative."""
    for row in rows:
        data = {k: v for k, v in row.items() if k in CardIn.model_fields and k not in ("reporting", "ppe", "enterprise_id")}
        data["enterprise_id"] = ids["enterprises"][row["enterprise"]]
        data["reporting"] = [
            {"label": r["label"], **({"contact_id": ids["contacts"][r["contact"]]} if "contact" in r else {"phone": r["phone"]})}
            for r in row["reporting"]
        ]
        data["ppe"] = [
            {
                "item": p["item"],
                "location": p.get("location", ""),
                **({"equipment_id": ids["equipment"][p["equipment"]]} if "equipment" in p else {}),
                **({"depot_id": ids["depots"][p["depot"]]} if "depot" in p else {}),
            }
            for p in row.get("ppe", [])
        ]
        if "owner" in row:
            data["owner_contact_id"] = ids["contacts"][row["owner"]]
        data["review_date"] = (now.astimezone(CHINA).date() + timedelta(days=row.get("review_in_days", 365))).isoformat()
        card = create_card(session, data, actor=None, now=now)
        card.demo = True
    session.flush()
    return len(rows)
