"""Road closures: the roads inside a circle or polygon, cut at its boundary, until they expire or are lifted.

Kinds: ``impassable`` (道路中断: collapse, flood, fire; response routes go around it) and
``traffic_control`` (交通管制: emergency vehicles pass; shown on the map and noted in the SMS).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from rescue.errors import ConflictError, NotFoundError, ValidationError
from rescue.models import RoadClosure, User
from rescue.roads.network import ActiveRoads, as_roads, closure_of
from rescue.roads.schemas import ClosureIn
from rescue.validation import parse_partly


def _polygon_rings(value) -> list:
    """GeoJSON Polygon geometry or its coordinates → rings [[[lon, lat], ...]], or a 422."""
    rings = value.get("coordinates") if isinstance(value, dict) else value
    if isinstance(value, dict) and value.get("type") not in (None, "Polygon"):
        raise ValidationError({"polygon": "应为 GeoJSON Polygon"})
    try:
        rings = [[[float(p[0]), float(p[1])] for p in ring] for ring in rings]
    except (TypeError, ValueError, IndexError) as exc:
        raise ValidationError({"polygon": "坐标应为 [[[经度, 纬度], ...]]"}) from exc
    if not rings or len(rings[0]) < 3:
        raise ValidationError({"polygon": "多边形至少需要 3 个顶点"})
    return rings


def _in_area(lat, lon, area) -> bool:
    return area[0] <= lat <= area[2] and area[1] <= lon <= area[3]


def create_closure(session: Session, network, data: dict, *, area, actor: User | None, now: datetime) -> RoadClosure:
    """Store a closure; it takes effect on the next ranking (the closed-edge mask is keyed by closures).

    The schema, the geometry and the expiry are checked together: every bad field is reported at once."""
    roads = as_roads(network)
    obj, errors = parse_partly(ClosureIn, data)
    if obj is None:
        raise ValidationError(errors)
    given = data if isinstance(data, dict) else {}
    # a point was meant when a coordinate was typed, even one that could not be read
    point = any(given.get(k) not in (None, "") for k in ("lat", "lon", "radius_m"))
    polygon = None
    if given.get("polygon") is not None:
        if point:
            errors.setdefault("polygon", "封闭范围应为点+半径或多边形之一, 不能同时给出")
        elif "polygon" not in errors:
            try:
                polygon = _polygon_rings(obj.polygon)
            except ValidationError as exc:
                errors.update(exc.fields)
            else:
                if not all(_in_area(lat, lon, area) for lon, lat in polygon[0]):
                    errors["polygon"] = "多边形超出服务区域"
    else:
        for name in ("lat", "lon"):
            if getattr(obj, name) is None:
                errors.setdefault(name, "请给出封闭中心的纬度和经度 (在地图上点击), 或画出多边形")
        if obj.lat is not None and obj.lon is not None and not _in_area(obj.lat, obj.lon, area):
            errors.setdefault("lat", "超出服务区域")
        if obj.radius_m is None:
            errors.setdefault("radius_m", "点状封闭需要半径 (米)")
    expires = obj.expires_at
    if expires is not None and expires.tzinfo is None:
        errors.setdefault("expires_at", "时间需带时区, 如 2026-11-28T18:00:00+08:00")
    elif expires is not None and expires <= now:
        errors.setdefault("expires_at", "失效时间应晚于现在")
    if given.get("hours") not in (None, "") and given.get("expires_at") not in (None, ""):
        errors.setdefault("hours", "失效时间与持续小时数只能填写一项")
    if obj.hours is not None:
        expires = now + timedelta(hours=obj.hours)
    if errors:
        raise ValidationError(errors)
    row = RoadClosure(
        reason=obj.reason,
        kind=obj.kind,
        lat=obj.lat,
        lon=obj.lon,
        radius_m=obj.radius_m,
        polygon=polygon,
        expires_dt=expires,
        created_by_id=actor.id if actor else None,
        created_dt=now,
    )
    if closure_of(roads.net, row).edges.size == 0:
        raise ValidationError({"polygon" if polygon else "radius_m": "范围内没有道路"}, "封闭范围内没有道路")
    session.add(row)
    session.flush()
    return row


def active_closures(session: Session, *, now: datetime) -> list[RoadClosure]:
    return list(
        session.scalars(
            select(RoadClosure)
            .where(RoadClosure.lifted_dt.is_(None))
            .where((RoadClosure.expires_dt.is_(None)) | (RoadClosure.expires_dt > now))
            .order_by(RoadClosure.id)
        )
    )


def lift_closure(session: Session, closure_id: int, *, now: datetime) -> RoadClosure:
    row = session.get(RoadClosure, closure_id)
    if row is None:
        raise NotFoundError("封闭记录不存在")
    if row.lifted_dt is not None:
        raise ConflictError("该封闭已解除")
    row.lifted_dt = now
    session.flush()
    return row


KIND_NAMES = {"impassable": "道路中断", "traffic_control": "交通管制"}


def serialize(network, row: RoadClosure, *, now: datetime) -> dict:
    """The closure with what it closes: ``closed_m`` road metres (both directions once) and ``closed``
    (GeoJSON MultiLineString of the closed stretches)."""
    roads = as_roads(network)
    shape = closure_of(roads.net, row)
    active = row.lifted_dt is None and (row.expires_dt is None or row.expires_dt > now)
    return {
        "id": row.id,
        "kind": row.kind,
        "kind_name": KIND_NAMES.get(row.kind, row.kind),
        "reason": row.reason,
        "lat": row.lat,
        "lon": row.lon,
        "radius_m": row.radius_m,
        "polygon": row.polygon,
        "expires_at": row.expires_dt.isoformat() if row.expires_dt else None,
        "created_at": row.created_dt.isoformat(),
        "lifted_at": row.lifted_dt.isoformat() if row.lifted_dt else None,
        "active": active,
        "blocks": shape.blocks,
        "closed_edges": int(shape.edges.size),
        "closed_m": round(shape.closed_m, 1),
        "closed": shape.closed,
    }


def route_note(roads: ActiveRoads, session: Session, edges, coordinates=None, *, now: datetime) -> str:
    """The SMS route note for traffic-control closures on a route: "途经交通管制: 原因 (应急车辆可通行)", or "".

    ``edges``, ``coordinates``: the directed road edges the route drives and its points ([lon, lat])
    (``Ranked.edges``, ``Ranked.route``). Only active traffic-control closures count; an impassable
    closure is already routed around.
    """
    active = roads.closed_roads(session, now=now)
    hit = active.on_route(edges, coordinates)
    if not hit:
        return ""
    return "途经交通管制: " + "、".join(active.reasons[i] for i in hit) + " (应急车辆可通行)"
