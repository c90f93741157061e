"""Road views: routes between two points, the network for the map, place search, closures and coverage."""

import gzip
import json

from flask import Response, request

from rescue.db import utcnow
from rescue.dispatch import coverage as coverage_service
from rescue.dispatch.schemas import CoverageOut
from rescue.errors import ValidationError
from rescue.models import Role
from rescue.roads import closures
from rescue.roads.network import roads_geojson, route_between
from rescue.roads.schemas import ClosureIn, ClosureOut, PlaceOut, RouteOut
from rescue.web.api import bp, int_arg, json_body, page, service_area
from rescue.web.api.openapi import documented
from rescue.web.auth import current_user, roles_required
from rescue.web.extensions import get_roads, get_session


def _point(name: str, errors: dict) -> tuple[float, float] | None:
    raw = request.args.get(name)
    if not raw:
        errors[name] = "必填: 纬度,经度"
        return None
    try:
        lat, lon = (float(x) for x in raw.split(","))
    except ValueError:
        errors[name] = "应为 纬度,经度 (如 38.47,106.28)"
        return None
    area = service_area()
    if not (area[0] <= lat <= area[2] and area[1] <= lon <= area[3]):
        errors[name] = f"超出服务区域 (纬度 {area[0]}–{area[2]}, 经度 {area[1]}–{area[3]})"
        return None
    return lat, lon


@bp.get("/routes")
@documented(
    "两点间的行车时间、距离与路线 (当前路网, 考虑道路封闭)",
    response=RouteOut,
    query={
        "from": {"type": "string", "description": "纬度,经度 (WGS-84)"},
        "to": {"type": "string", "description": "纬度,经度"},
        "crs": {"enum": ["wgs84", "gcj02"]},
    },
)
@roles_required()
def get_route() -> dict:
    errors: dict[str, str] = {}
    a, b = _point("from", errors), _point("to", errors)
    crs = request.args.get("crs", "wgs84")
    if crs not in ("wgs84", "gcj02"):
        errors["crs"] = "应为 wgs84 或 gcj02"
    if errors:
        raise ValidationError(errors, "查询参数有误")
    return route_between(get_session(), get_roads(), a, b, crs=crs, now=utcnow())


@bp.get("/roads.geojson")
@documented("当前路网 (GeoJSON, 供地图显示; 支持 gzip 与 ETag)")
@roles_required()
def get_roads_geojson() -> Response:
    return roads_geojson_response()


def roads_geojson_response() -> Response:
    """The active network as GeoJSON for a map: gzip when the client accepts it, 304 for a matching ETag.

    Shared by the console's maps and the responder page (the road network is public OpenStreetMap data).
    """
    roads = get_roads()
    body = roads_geojson(roads.net)
    etag = f'"roads-{roads.net.n_edges}-{len(body)}"'
    headers = {"ETag": etag, "Cache-Control": "private, max-age=3600", "Vary": "Accept-Encoding"}
    if request.headers.get("If-None-Match") == etag:
        return Response(status=304, headers=headers)
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        # several MB of coordinates shrink about tenfold; compressed once per network
        packed = roads.net._cache.get("roads_geojson_gz")
        if packed is None or packed[0] is not body:
            packed = (body, gzip.compress(body if isinstance(body, bytes) else body.encode(), compresslevel=6))
            roads.net._cache["roads_geojson_gz"] = packed
        return Response(packed[1], mimetype="application/geo+json", headers=headers | {"Content-Encoding": "gzip"})
    return Response(body, mimetype="application/geo+json", headers=headers)


@bp.get("/places")
@documented(
    "地名搜索 (县城、乡镇、重点园区; 重点园区与矿区在前, 分页)",
    response=PlaceOut,
    listing=True,
    query={
        "q": {"type": "string"},
        "limit": {"type": "integer", "default": 10, "maximum": 500},
        "offset": {"type": "integer", "default": 0},
    },
)
@roles_required()
def search_places() -> dict:
    q = (request.args.get("q") or "").strip()
    errors: dict[str, str] = {}
    limit = int_arg(request.args, "limit", 10, 1, 500, errors)
    offset = int_arg(request.args, "offset", 0, 0, 1_000_000, errors)
    if errors:
        raise ValidationError(errors, "查询参数有误")
    found, total = get_roads().gazetteer.listing(q, limit=limit, offset=offset)
    items = [
        {
            "name": p.name,
            "kind": p.kind,
            "county": p.county,
            "prefecture": p.prefecture,
            "lat": p.lat,
            "lon": p.lon,
            "verified": p.verified,
        }
        for p in found
    ]
    return page(items, total, limit, offset)


@bp.post("/road-closures")
@documented("新建道路封闭 (点+半径 或 多边形), 下一次排序即生效", body=ClosureIn, response=ClosureOut, status=201)
@roles_required(Role.command_center)
def create_road_closure() -> tuple[dict, int]:
    session, now = get_session(), utcnow()
    row = closures.create_closure(session, get_roads(), json_body(), area=service_area(), actor=current_user(), now=now)
    session.commit()
    return closures.serialize(get_roads(), row, now=now), 201


@bp.get("/road-closures")
@documented("当前生效的道路封闭", response=ClosureOut, listing=True)
@roles_required()
def list_road_closures() -> dict:
    session, now = get_session(), utcnow()
    rows = closures.active_closures(session, now=now)
    return page([closures.serialize(get_roads(), r, now=now) for r in rows], len(rows), len(rows), 0)


@bp.delete("/road-closures/<int:closure_id>")
@documented("解除道路封闭", response=ClosureOut)
@roles_required(Role.command_center)
def lift_road_closure(closure_id: int) -> dict:
    session, now = get_session(), utcnow()
    row = closures.lift_closure(session, closure_id, now=now)
    session.commit()
    return closures.serialize(get_roads(), row, now=now)


@bp.get("/coverage")
@documented(
    "救援覆盖: 各县城与重点园区最近的可用能力资源的到达时间; exclude= 模拟调走某队伍后失去覆盖的地点",
    response=CoverageOut,
    query={
        "capability": {"type": "string"},
        "minutes": {"type": "number", "default": 60},
        "exclude": {"type": "string", "description": "team:12,equipment:5"},
        "format": {"enum": ["json", "geojson"]},
    },
)
@roles_required()
def get_coverage() -> dict | Response:
    session = get_session()
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "geojson"):
        raise ValidationError({"format": "应为 json 或 geojson"}, "查询参数有误")
    cap, minutes, exclude = coverage_service.parse_request(session, request.args)
    report = coverage_service.coverage_report(
        session, get_roads(), capability=cap, minutes=minutes, exclude=exclude, now=utcnow()
    )
    if fmt == "geojson":
        return Response(json.dumps(coverage_service.as_geojson(report), ensure_ascii=False), mimetype="application/geo+json")
    return report


@bp.get("/data-quality/far-from-roads")
@documented("距路网过远的登记记录 (队伍、仓库、专家、企业; 超过 RESCUE_FLAG_OFFROAD_M), 供所属单位核对坐标", listing=True)
@roles_required()
def list_far_from_roads() -> dict:
    user = current_user()
    scope = user.enterprise_id if user.role == Role.enterprise_admin else None
    items = coverage_service.far_from_roads(get_session(), get_roads(), enterprise_id=scope)
    return page(items, len(items), len(items), 0)
