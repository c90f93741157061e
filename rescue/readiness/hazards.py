"""Major hazard sources: records, what an incident there needs (from the substances table), and their coverage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from rescue.errors import ValidationError
from rescue.models import Capability, HazardSource, IncidentType, User
from rescue.models.readiness import HAZARD_LEVEL_NAMES, HazardLevel
from rescue.readiness import substances
from rescue.readiness.kinds import HAZARDS, require_owner
from rescue.registry import access, registry
from routing import coverage as road_coverage
from routing import haversine_m

# an incident this close to a hazard source is taken to be at it
NEAR_M = 500.0
SEVERE_LEVELS = (HazardLevel.grade1, HazardLevel.grade2)


def called_for(source: HazardSource) -> list[str]:
    """The capability codes the source's substances call for, first substance first, without repeats."""
    codes: dict[str, None] = {}
    for item in source.substances or []:
        entry = substances.table().get(item["code"])
        for code in entry["capabilities"] if entry else ():
            codes.setdefault(code)
    return list(codes)


def _incident_type(source: HazardSource) -> str | None:
    """The incident type of the substance held in the largest multiple of its critical quantity."""
    best, ratio = None, -1.0
    for item in source.substances or []:
        entry = substances.table().get(item["code"])
        if entry is None:
            continue
        r = float(item["quantity_t"]) / float(entry.get("critical_t") or 1)
        if r > ratio:
            best, ratio = entry["incident_type"], r
    return best


def serialize(source: HazardSource) -> dict:
    out = registry.serialize(HAZARDS, source)
    table = substances.table()
    out["enterprise"] = source.enterprise.name if source.enterprise else ""
    out["level_name"] = HAZARD_LEVEL_NAMES.get(source.level, source.level)
    out["substances"] = [
        item
        | {
            "name": table[item["code"]]["name"],
            "hazards": table[item["code"]]["hazards"],
            "critical_t": table[item["code"]].get("critical_t"),
        }
        for item in out["substances"]
        if item["code"] in table
    ]
    out["capabilities"] = called_for(source)
    return out


def create(session: Session, actor: User, data: dict, *, area, now: datetime) -> HazardSource:
    require_owner(actor, data)
    return registry.create_record(session, HAZARDS, actor, data, area=area, now=now)


def update(session: Session, actor: User, source_id: int, data: dict, *, area, now: datetime) -> HazardSource:
    return registry.update_record(session, HAZARDS, actor, source_id, data, area=area, now=now)


def substance_table() -> list[dict]:
    return list(substances.table().values())


_IN_BAND = select(HazardSource).where(HazardSource.lat.between(bindparam("low"), bindparam("high")))


def nearest(session: Session, lat: float, lon: float, *, within_m: float = NEAR_M) -> HazardSource | None:
    """The hazard source nearest to (lat, lon) within `within_m` metres, or None."""
    dlat = within_m / 111_000.0 * 1.5
    rows = session.scalars(_IN_BAND, {"low": lat - dlat, "high": lat + dlat}).all()
    best = min(rows, key=lambda s: float(haversine_m(lat, lon, s.lat, s.lon)), default=None)
    if best is None or float(haversine_m(lat, lon, best.lat, best.lon)) > within_m:
        return None
    return best


def prefill_from_hazard(session: Session, incident_data: dict) -> dict:
    """An incident body completed from the hazard source it is placed at (by `hazard_source_id`, or within 500 m).

    Fills what the caller left out: position, type (from the dominant substance), needs (the capabilities the
    substances call for) and a description naming the substances. `hazard_source_id` is consumed; an unknown one
    is a field error. Anything else in the body is returned unchanged.
    """
    if not isinstance(incident_data, dict):
        return incident_data
    data = dict(incident_data)
    raw = data.pop("hazard_source_id", None)
    source = None
    if raw is not None:
        if isinstance(raw, bool) or not isinstance(raw, int) or not 0 < raw < 2**31:
            raise ValidationError({"hazard_source_id": "应为正整数"})
        source = session.get(HazardSource, raw)
        if source is None:
            raise ValidationError({"hazard_source_id": "重大危险源不存在"})
    else:
        lat, lon = data.get("lat"), data.get("lon")
        if data.get("crs", "wgs84") == "wgs84" and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in (lat, lon)
        ):
            source = nearest(session, float(lat), float(lon))
    if source is None:
        return data
    if data.get("lat") is None and data.get("lon") is None and not data.get("place"):
        data["lat"], data["lon"] = source.lat, source.lon
    if not data.get("type") and (itype := _incident_type(source)):
        data["type"] = itype
    if data.get("needs") is None:
        data["needs"] = _needs(session, data.get("type"), source)
    held = "、".join(f"{substances.label(i['code'])} {i['quantity_t']:g} 吨" for i in source.substances or [])
    note = f"重大危险源: {source.name} ({HAZARD_LEVEL_NAMES[source.level]}; {held})"
    data["description"] = f"{data['description']}\n{note}" if data.get("description") else note
    if not data.get("place"):
        data["place"] = source.place or source.name
    return data


def _needs(session: Session, type_code, source: HazardSource) -> list[dict]:
    """The incident type's template needs, then the capabilities the substances call for that it lacks."""
    itype = session.get(IncidentType, type_code) if isinstance(type_code, str) else None
    needs = [
        {"capability": r["capability"], "quantity": r.get("quantity", 1), "unit": r.get("unit", "team")}
        for r in (itype.requirements if itype else [])
    ]
    needs += [{"supply_code": r["code"], "quantity": r.get("quantity", 1)} for r in (itype.supplies if itype else [])]
    have = {n.get("capability") for n in needs}
    known = set(session.scalars(select(Capability.code)))
    needs += [{"capability": c, "quantity": 1} for c in called_for(source) if c in known and c not in have]
    return needs


Pool = Callable[[set[str]], dict[str, dict]]
"""pool(capabilities) → {capability: {key: (lat, lon, turnout_s, name)}} of the usable resources (dispatch's
eligibility rules), read once for every capability asked."""


def coverage(session: Session, roads, actor: User, *, minutes: float, pool: Pool, now: datetime) -> dict:
    """Per hazard source: for each called-for capability, the arrival of the first capable resource; and the
    一级/二级 sources with a capability not reached within `minutes`."""
    stmt = access.scope(select(HazardSource), actor, HAZARDS).order_by(HazardSource.level, HazardSource.id)
    sources = list(session.scalars(stmt))
    snaps = roads.snap_many([(s.lat, s.lon) for s in sources])
    targets_all = {s.id: snap for s, snap in zip(sources, snaps, strict=True) if not roads.too_far(snap)}
    names = dict(session.execute(select(Capability.code, Capability.name)).all())
    blocked = roads.closed_roads(session, now=now).blocked
    threshold = minutes * 60.0
    wanted: dict[str, list[int]] = {}
    for s in sources:
        for code in called_for(s):
            wanted.setdefault(code, []).append(s.id)
    arrival: dict[tuple[int, str], tuple[float | None, dict | None]] = {}
    pools = pool(set(wanted)) if wanted else {}
    for code, ids in wanted.items():
        usable = pools[code]
        keys = list(usable)
        rsnaps = roads.snap_many([(usable[k][0], usable[k][1]) for k in keys])
        res_snaps = {k: sn for k, sn in zip(keys, rsnaps, strict=True) if not roads.too_far(sn)}
        targets = {i: targets_all[i] for i in ids if i in targets_all}
        covers = (
            road_coverage(
                roads.net,
                targets,
                res_snaps,
                extra_s={k: usable[k][2] for k in res_snaps},
                blocked=blocked,
                offroad_kmh=roads.settings.offroad_kmh,
            )
            if targets and res_snaps
            else []
        )
        for c in covers:
            if c.source is not None and c.arrival_s != float("inf"):
                kind, rid = c.source
                arrival[(c.target, code)] = (round(c.arrival_s, 1), {"kind": kind, "id": rid, "name": usable[c.source][3]})
    items, gaps = [], []
    for s in sources:
        needs = []
        for code in called_for(s):
            eta, src = arrival.get((s.id, code), (None, None))
            needs.append(
                {
                    "capability": code,
                    "name": names.get(code, code),
                    "arrival_s": eta,
                    "source": src,
                    "met": eta is not None and eta <= threshold,
                }
            )
        item = {
            "id": s.id,
            "name": s.name,
            "enterprise_id": s.enterprise_id,
            "level": s.level.value,
            "level_name": HAZARD_LEVEL_NAMES[s.level],
            "lat": s.lat,
            "lon": s.lon,
            "needs": needs,
            "unmet": [n["capability"] for n in needs if not n["met"]],
            "reachable": s.id in targets_all,
        }
        items.append(item)
        if s.level in SEVERE_LEVELS and item["unmet"]:
            gaps.append(item)
    return {"minutes": minutes, "items": items, "gaps": gaps, "total": len(items), "computed_at": now.isoformat()}
