"""Incidents: create (by coordinates or place name), number, list, read, edit needs, close."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import bindparam, func, insert, literal_column, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from rescue.db import one_at_a_time
from rescue.dispatch.assignments import add_event
from rescue.dispatch.schemas import IncidentIn, IncidentPatch, NeedIn
from rescue.errors import NotFoundError, ValidationError
from rescue.models import Capability, Incident, IncidentNeed, IncidentType, SupplyLot, User
from rescue.models.enums import INCIDENT_LEVEL_NAMES, IncidentStatus
from rescue.readiness.hazards import prefill_from_hazard
from rescue.roads.network import ActiveRoads, as_roads
from rescue.validation import parse, parse_partly
from routing import gcj02_to_wgs84

BEIJING = timezone(timedelta(hours=8))
NUMBER_PREFIX = "NX"
# a place label for coordinates: the nearest named place within this distance
LABEL_RADIUS_M = 20_000.0


class _KnownCodes:
    """``code in known``, read from the database only when a validator first asks."""

    def __init__(self, session: Session, model) -> None:
        self.session, self.model, self.codes = session, model, None
        self.found: dict = {}  # incident types read, held so that the session's (weak) identity map keeps them

    def __contains__(self, code) -> bool:
        if self.model is IncidentType:
            # one primary-key read, which also leaves the type in the session for the caller
            found = self.session.get(IncidentType, code) if isinstance(code, str) else None
            if found is not None:
                self.found[code] = found
            return found is not None
        if self.codes is None:
            self.codes = set(self.session.scalars(select(self.model.code)))
        return code in self.codes


def validation_context(session: Session, area) -> dict:
    return {
        "area": area,
        "capabilities": _KnownCodes(session, Capability),
        "incident_types": _KnownCodes(session, IncidentType),
    }


def _in_area(lat: float, lon: float, area) -> dict:
    errors = {}
    if area and not area[0] <= lat <= area[2]:
        errors["lat"] = f"超出服务区域 (纬度应在 {area[0]}–{area[2]} 之间)"
    if area and not area[1] <= lon <= area[3]:
        errors["lon"] = f"超出服务区域 (经度应在 {area[1]}–{area[3]} 之间)"
    return errors


def _nearest_label(roads: ActiveRoads, lat: float, lon: float) -> str:
    from routing import haversine_m

    gaz = roads.gazetteer
    if gaz is None or not gaz.places:
        return ""
    best = min(gaz.places, key=lambda p: float(haversine_m(lat, lon, p.lat, p.lon)))
    d = float(haversine_m(lat, lon, best.lat, best.lon))
    if d > LABEL_RADIUS_M:
        return ""
    return best.name if d < 2000 else f"{best.name}附近"


def locate(roads: ActiveRoads | None, data: IncidentIn | dict, *, area) -> tuple[float, float, str]:
    """(lat, lon) in WGS-84 and a place label, from coordinates (WGS-84/GCJ-02) or a place name.

    Raises a 422 naming every problem: outside the area, unknown place. A scene far from every road
    is still recorded (the candidates then show the off-road leg and a warning). Without a road network
    (`roads` None: the seed runs before it loads) only coordinates are taken and the label is the given place.
    """
    get = data.get if isinstance(data, dict) else lambda k, d=None: getattr(data, k, d)
    lat, lon, place, crs = get("lat"), get("lon"), (get("place") or "").strip(), get("crs") or "wgs84"
    errors: dict[str, str] = {}
    if lat is None and lon is None:
        if not place:
            raise ValidationError({"lat": "请提供坐标 (lat, lon) 或地名 (place)", "place": "请提供坐标或地名"})
        found = roads.gazetteer.find(place) if roads is not None and roads.gazetteer else None
        if found is None:
            raise ValidationError({"place": f"找不到地名: {place}"})
        lat, lon, label = found.lat, found.lon, found.name
    elif lat is None or lon is None:
        raise ValidationError({"lat" if lat is None else "lon": "坐标需同时给出纬度和经度"})
    else:
        if crs == "gcj02":
            lat, lon = gcj02_to_wgs84(lat, lon)
        label = place or (_nearest_label(roads, lat, lon) if roads is not None else "")
    errors |= _in_area(lat, lon, area)
    if errors:
        raise ValidationError(errors, "位置超出服务区域")
    return float(lat), float(lon), label


# the unit of each supply code: its first lot's (lots in id order, as the first lot also names a code)
_SUPPLY_UNITS = (
    select(SupplyLot.code, SupplyLot.unit).where(SupplyLot.code.in_(bindparam("codes", expanding=True))).order_by(SupplyLot.id)
)


def _supply_units(session: Session, codes) -> dict[str, str]:
    """Supply code → unit of its first lot ("件" when none is registered), in one query."""
    codes = sorted({c for c in codes if c})
    units: dict[str, str] = {}
    if codes:
        for code, unit in session.execute(_SUPPLY_UNITS, {"codes": codes}):
            units.setdefault(code, unit)
    return {c: units.get(c) or "件" for c in codes}


def template_needs(session: Session, itype: IncidentType) -> list[IncidentNeed]:
    """The needs an incident type asks for by default (capabilities, then supplies)."""
    out = []
    units = _supply_units(session, [s["code"] for s in itype.supplies or [] if not s.get("unit")])
    for r in itype.requirements or []:
        out.append(
            IncidentNeed(capability_code=r["capability"], quantity=float(r.get("quantity", 1)), unit=r.get("unit", "team"))
        )
    for s in itype.supplies or []:
        out.append(
            IncidentNeed(
                supply_code=s["code"],
                quantity=float(s.get("quantity", 1)),
                unit=s.get("unit") or units.get(s["code"], "件"),
            )
        )
    return out


def _needs_from(session: Session, items: list[NeedIn]) -> list[IncidentNeed]:
    out = []
    units = _supply_units(session, [n.supply_code for n in items if n.capability is None and not n.unit])
    for n in items:
        if n.capability is not None:
            out.append(IncidentNeed(capability_code=n.capability, quantity=n.quantity, unit=n.unit or "team"))
        else:
            out.append(
                IncidentNeed(supply_code=n.supply_code, quantity=n.quantity, unit=n.unit or units.get(n.supply_code, "件"))
            )
    return out


_INSERT_NEED = insert(IncidentNeed.__table__)


def _insert_needs(session: Session, incident: Incident, needs: list[IncidentNeed]) -> None:
    """Store the needs of an incident just flushed in one statement, in order (``position``).

    The ORM would insert them one statement each (SQLite cannot tell which new id is whose in one);
    ``incident.needs`` reads them back, ids included, in one query when first used.
    """
    if needs:
        rows = [
            {
                "incident_id": incident.id,
                "position": i,
                "capability_code": n.capability_code,
                "supply_code": n.supply_code,
                "quantity": n.quantity,
                "unit": n.unit,
            }
            for i, n in enumerate(needs)
        ]
        session.execute(_INSERT_NEED, rows)  # the table's own insert: one executemany, nulls included
    session.expire(incident, ["needs"])


def _set_needs(incident: Incident, needs: list[IncidentNeed]) -> None:
    incident.needs.clear()
    for i, need in enumerate(needs):
        need.position = i
        incident.needs.append(need)


_LAST_NUMBER = select(func.max(Incident.number)).where(Incident.number.like(bindparam("pattern")))


def next_number(session: Session, *, now: datetime) -> str:
    """NX-YYYYMMDD-NNNN, the day in Beijing time, numbered from 0001 each day."""
    prefix = f"{NUMBER_PREFIX}-{now.astimezone(BEIJING):%Y%m%d}-"
    one_at_a_time(session, "incident-number")  # concurrent creators would otherwise read the same last number
    last = session.scalar(_LAST_NUMBER, {"pattern": prefix + "%"})
    seq = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{seq:04d}"


def create_incident(session: Session, network, data: dict, *, area, actor: User | None = None, now: datetime) -> Incident:
    """Validate and store an incident (flushed; the caller commits). `network` may be None where no road
    network is loaded yet (the seed): the incident is then placed by coordinates only."""
    errors: dict[str, str] = {}
    try:
        data = prefill_from_hazard(session, data)  # at a major hazard source: its type, needs and place
    except ValidationError as exc:
        errors.update(exc.fields)
        data = {k: v for k, v in data.items() if k != "hazard_source_id"}
    roads = as_roads(network) if network is not None else None
    # the schema, then the place (looked up, in the area) with whatever of the body is valid: every bad field at once
    context = validation_context(session, area)  # kept: it holds the incident type it read
    obj, bad = parse_partly(IncidentIn, data, context=context)
    errors = bad | errors
    if obj is None:
        raise ValidationError(errors)
    try:
        lat, lon, label = locate(roads, obj, area=area)
    except ValidationError as exc:
        errors = exc.fields | errors
    if errors:
        raise ValidationError(errors)
    itype = session.get(IncidentType, obj.type)
    fields = dict(
        type_code=obj.type,
        level=obj.level,
        status=IncidentStatus.open,
        lat=lat,
        lon=lon,
        place=label,
        description=obj.description,
        drill=obj.drill,
        created_by_id=actor.id if actor else None,
        created_dt=now,
    )
    for attempt in range(5):
        incident = Incident(number=next_number(session, now=now), type=itype, **fields)
        needs = _needs_from(session, obj.needs) if obj.needs is not None else template_needs(session, itype)
        session.add(incident)
        try:
            session.flush()
            _insert_needs(session, incident, needs)
            return incident
        except IntegrityError:
            # another request took the number at the same moment: start over with the next one
            # (a savepoint would cost a write lock on SQLite for every incident; clashes are rare)
            session.rollback()
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


# built once: a statement (or a get with options) built per call costs more than the query itself
_INCIDENT_WITH_NEEDS = select(Incident).options(joinedload(Incident.needs)).where(Incident.id == bindparam("id"))


def get_incident(session: Session, incident_id: int) -> Incident:
    """The incident with its needs (one query), or a 404."""
    incident = session.execute(_INCIDENT_WITH_NEEDS, {"id": incident_id}).unique().scalar_one_or_none()
    if incident is None:
        raise NotFoundError("事件不存在")
    return incident


def list_incidents(
    session: Session, *, status: str | None = None, drill: bool | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[Incident], int]:
    stmt = select(Incident)
    if status:
        stmt = stmt.where(Incident.status == IncidentStatus(status))
    if drill is not None:
        stmt = stmt.where(Incident.drill.is_(drill))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.options(selectinload(Incident.needs), selectinload(Incident.type))
        .order_by(Incident.created_dt.desc(), Incident.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), total


def update_incident(session: Session, incident_id: int, data: dict, *, area, now: datetime, actor: str = "system") -> Incident:
    """Edit needs (replacing them), level, description, place label; close or reopen (a timeline event)."""
    incident = get_incident(session, incident_id)
    obj = parse(IncidentPatch, data, context=validation_context(session, area))
    given = obj.model_fields_set
    if "needs" in given and obj.needs is not None:
        _set_needs(incident, _needs_from(session, obj.needs))
    if "level" in given and obj.level is not None:
        incident.level = obj.level
    if "description" in given and obj.description is not None:
        incident.description = obj.description
    if "place" in given and obj.place is not None:
        incident.place = obj.place
    if "status" in given and obj.status is not None and obj.status != incident.status:
        incident.status = obj.status
        closing = obj.status == IncidentStatus.closed
        incident.closed_dt = now if closing else None
        # the incident's own step on its timeline (no assignment): who closed or reopened it, and when
        add_event(
            session,
            None,
            "closed" if closing else "reopened",
            "事件结案" if closing else "事件重新打开",
            now=now,
            incident_id=incident.id,
            actor=actor,
        )
    session.flush()
    return incident


def count_open(session: Session, *, drill: bool | None = None) -> int:
    """How many incidents are open (only drills, or only real ones, when `drill` is given)."""
    stmt = select(func.count()).select_from(Incident).where(Incident.status == IncidentStatus.open)
    if drill is not None:
        stmt = stmt.where(Incident.drill.is_(drill))
    return session.scalar(stmt) or 0


def need_name(names: dict[str, str], need: IncidentNeed) -> str:
    if need.capability_code:
        return names.get(need.capability_code, need.capability_code)
    return names.get("supply:" + need.supply_code, need.supply_code)


# the names of needs in one query: capabilities by code; a supply code by its first lot (id order),
# as in the candidates (``resources.Loader``)
_NEED_NAMES = union_all(
    select(literal_column("0").label("supply"), Capability.code, Capability.name, literal_column("0").label("lot")).where(
        Capability.code.in_(bindparam("caps", expanding=True))
    ),
    select(literal_column("1"), SupplyLot.code, SupplyLot.name, SupplyLot.id).where(
        SupplyLot.code.in_(bindparam("codes", expanding=True))
    ),
).order_by(literal_column("lot"))


def need_names(session: Session, needs: list[IncidentNeed]) -> dict[str, str]:
    caps = sorted({n.capability_code for n in needs if n.capability_code})
    codes = sorted({n.supply_code for n in needs if n.supply_code})
    names: dict[str, str] = {}
    if caps or codes:
        for supply, code, name, _lot in session.execute(_NEED_NAMES, {"caps": caps, "codes": codes}):
            names.setdefault("supply:" + code if supply else code, name)
    return names


def serialize(session: Session, incident: Incident) -> dict:
    names = need_names(session, incident.needs)
    return {
        "id": incident.id,
        "number": incident.number,
        "type": incident.type_code,
        "type_name": incident.type.name if incident.type else incident.type_code,
        "level": incident.level.value,
        "level_name": INCIDENT_LEVEL_NAMES[incident.level.value],
        "status": incident.status.value,
        "lat": incident.lat,
        "lon": incident.lon,
        "place": incident.place,
        "description": incident.description,
        "drill": incident.drill,
        "created_at": incident.created_dt.isoformat(),
        "closed_at": incident.closed_dt.isoformat() if incident.closed_dt else None,
        "needs": [
            {
                "id": n.id,
                "capability": n.capability_code,
                "supply_code": n.supply_code,
                "name": need_name(names, n),
                "quantity": n.quantity,
                "unit": n.unit,
            }
            for n in incident.needs
        ],
    }
