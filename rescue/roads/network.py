"""The active road network as services see it: snapping with a cache, closures cut at their boundary, main roads."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from rescue.errors import ValidationError
from routing import IMPASSABLE, TRAFFIC_CONTROL, ClosedRoads, Closure, Gazetteer, RoadNetwork, Snap, make_closure, snap_points

# snapping is ~0.2 ms a point; positions are keyed by their coordinates, so a moved record
# simply misses the cache (no invalidation needed) and an unchanged one never snaps twice
_SNAP_CACHE_MAX = 200_000
_VIA_CACHE_MAX = 50_000  # routes' main roads (~200 bytes each)


@dataclass
class Settings:
    """Dispatch settings (the app's config values; these defaults match rescue.config)."""

    offroad_kmh: float = 20.0  # defaults as in rescue.config
    max_offroad_m: float = 15000.0
    freshness_days: int = 90
    depot_loading_min: float = 30.0
    expert_turnout_min: float = 30.0
    expert_remote_min: float = 10.0
    flag_offroad_m: float = 5000.0  # registry records farther than this from the network are flagged


@dataclass
class ActiveRoads:
    """The road network, gazetteer and dispatch settings of one process, with their caches."""

    net: RoadNetwork
    gazetteer: Gazetteer | None = None
    settings: Settings = field(default_factory=Settings)
    source: str = ""
    _snaps: dict = field(default_factory=dict, repr=False)
    _closure_sets: dict = field(default_factory=dict, repr=False)
    _vias: dict = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # ------------------------------------------------------------ snapping
    def snap_many(self, points: list[tuple[float, float]]) -> list[Snap]:
        """Snaps of (lat, lon) points, however far from a road (callers decide what is too far)."""
        keys = [(round(float(lat), 7), round(float(lon), 7)) for lat, lon in points]
        missing = list(dict.fromkeys(k for k in keys if k not in self._snaps))
        if missing:
            found = snap_points(self.net, [k[0] for k in missing], [k[1] for k in missing])
            with self._lock:
                if len(self._snaps) + len(missing) > _SNAP_CACHE_MAX:
                    self._snaps.clear()
                self._snaps.update(zip(missing, found, strict=True))
        return [self._snaps[k] for k in keys]

    def snap(self, lat: float, lon: float) -> Snap:
        return self.snap_many([(lat, lon)])[0]

    def reachable_snap(self, lat: float, lon: float, *, field_name: str = "lat") -> Snap:
        """The snap of a point, or a 422 naming how far the nearest road is."""
        s = self.snap(lat, lon)
        if s.offroad_m > self.settings.max_offroad_m:
            msg = (
                f"距最近道路 {s.offroad_m / 1000:.1f} km, 超过 {self.settings.max_offroad_m / 1000:g} km 上限, "
                "无法可靠估算到达时间"
            )
            raise ValidationError({field_name: msg}, "位置离道路太远")
        return s

    def too_far(self, s: Snap) -> bool:
        """A resource this far from every road is left out (its position is most likely wrong)."""
        return s.far(self.settings.max_offroad_m)

    # ------------------------------------------------------------ closures
    def closed_roads(self, session: Session, *, now: datetime) -> ActiveClosures:
        """The closures active at ``now``, cut at their boundary, and the impassable ones as searches use them.

        Cache rule: one entry per *content* of the active closure rows (id, kind, shape), so
        creating, lifting or expiring a closure changes the key and the next request builds a new
        ``ClosedRoads`` (about a millisecond); an unchanged set is never rebuilt. Entries are
        dropped oldest first beyond a handful (only the current set is normally asked for).
        """
        rows = session.execute(_active_closures_stmt(), {"now": now}).all()
        key = tuple((r.id, r.kind or IMPASSABLE, r.lat, r.lon, r.radius_m, _polygon_key(r.polygon), r.reason) for r in rows)
        hit = self._closure_sets.get(key)
        if hit is not None:
            return hit
        shapes = {r.id: closure_of(self.net, r) for r in rows}
        blocked = ClosedRoads(self.net, [c for c in shapes.values() if c.blocks]) if shapes else None
        active = ActiveClosures(key, shapes, blocked if blocked else None, {r.id: r.reason for r in rows})
        with self._lock:
            while len(self._closure_sets) >= 8:
                self._closure_sets.pop(next(iter(self._closure_sets)))
            self._closure_sets[key] = active
        return active

    # ----------------------------------------------------------- main roads
    def via(self, edges) -> list[str]:
        """The main roads of a route (``main_roads``), kept by the route's edges: they are a function of
        the edges alone on a network that never changes, so an entry is never stale (a plan names the
        roads its candidates named a moment before; incidents at the same place share routes)."""
        if edges is None or len(edges) == 0:
            return []
        # keyed by a 128-bit digest of the edges: a long route's own tuple would cost kilobytes
        key = hashlib.blake2b(np.asarray(edges, dtype=np.int64).tobytes(), digest_size=16).digest()
        got = self._vias.get(key)
        if got is None:
            got = main_roads(self.net, edges)
            with self._lock:
                if len(self._vias) >= _VIA_CACHE_MAX:
                    self._vias.clear()
                self._vias[key] = got
        return list(got)  # callers may keep and change their list


@dataclass(frozen=True)
class ActiveClosures:
    """The closures active at one moment: every one by id, and the impassable ones for the searches."""

    key: tuple
    by_id: dict[int, Closure]
    blocked: ClosedRoads | None  # None when nothing impassable is active
    reasons: dict[int, str] = field(default_factory=dict)

    def traffic_control(self) -> dict[int, Closure]:
        """The active traffic-control closures (交通管制) by id: shown and noted, never blocking."""
        return {i: c for i, c in self.by_id.items() if c.kind == TRAFFIC_CONTROL}

    def on_route(self, edges, coordinates=None, *, kind: str = TRAFFIC_CONTROL) -> list[int]:
        """Ids of the active closures of ``kind`` a route passes: one of its inner ``edges`` (driven end
        to end) has a closed stretch, or one of its ``coordinates`` ([lon, lat]) lies inside.

        The first and last edge are driven only in part, so they count through the coordinates.
        """
        if not any(c.kind == kind for c in self.by_id.values()):
            return []  # the usual case: nothing of that kind active, nothing to convert
        inner = np.asarray(list(edges or ())[1:-1], dtype=np.int64)
        points = list(coordinates or ())
        out = []
        for i, c in self.by_id.items():
            if c.kind != kind:
                continue
            if (inner.size and np.isin(inner, c.edges).any()) or any(c.contains(p[1], p[0]) for p in points):
                out.append(i)
        return out


def _polygon_key(polygon) -> tuple | None:
    if not polygon:
        return None
    return tuple(tuple(tuple(float(x) for x in p) for p in ring) for ring in polygon)


_ACTIVE_CLOSURES = None


def _active_closures_stmt():
    """Active closures at :now (built once)."""
    global _ACTIVE_CLOSURES
    if _ACTIVE_CLOSURES is None:
        from sqlalchemy import bindparam

        from rescue.models import RoadClosure

        now = bindparam("now", type_=RoadClosure.__table__.c.expires_dt.type)
        _ACTIVE_CLOSURES = (
            select(
                RoadClosure.id,
                RoadClosure.kind,
                RoadClosure.reason,
                RoadClosure.lat,
                RoadClosure.lon,
                RoadClosure.radius_m,
                RoadClosure.polygon,
            )
            .where(RoadClosure.lifted_dt.is_(None))
            .where((RoadClosure.expires_dt.is_(None)) | (RoadClosure.expires_dt > now))
            .order_by(RoadClosure.id)
        )
    return _ACTIVE_CLOSURES


def closure_of(net: RoadNetwork, row) -> Closure:
    """The closed stretches of one closure row (point + radius, or polygon), cut at its boundary."""
    kind = getattr(row, "kind", None) or IMPASSABLE
    if row.polygon:
        return make_closure(net, polygon=row.polygon, kind=kind)
    return make_closure(net, lat=float(row.lat), lon=float(row.lon), radius_m=float(row.radius_m), kind=kind)


def as_roads(network) -> ActiveRoads:
    """Accept the accessor's ActiveRoads or a bare RoadNetwork (wrapped with default settings)."""
    if isinstance(network, ActiveRoads):
        return network
    if isinstance(network, RoadNetwork):
        wrapped = network._cache.get("active_roads")
        if wrapped is None:
            wrapped = network._cache["active_roads"] = ActiveRoads(network)
        return wrapped
    msg = f"expected ActiveRoads or RoadNetwork, got {type(network).__name__}"
    raise TypeError(msg)


def main_roads(net: RoadNetwork, edges, *, max_refs: int = 3, min_share: float = 0.15, min_m: float = 3000.0) -> list[str]:
    """Route numbers (refs like G6, G20) that carry most of a route, in driving order.

    Greedy: take the ref covering the most still-uncovered metres until what is left is short.
    """
    if edges is None or len(edges) == 0:
        return []
    tables = net._cache.get("ref_tables")
    if tables is None:  # once per network (it never changes): "G109;G6" -> ("G109", "G6"); per-edge lists
        split = [tuple(r.strip() for r in str(x).replace(",", ";").split(";") if r.strip()) for x in net.refs.tolist()]
        tables = net._cache["ref_tables"] = (split, net.ref_code.tolist(), net.length_m.tolist())
    split, ref_code, length_m = tables
    # plain lists, not numpy: a route is a few dozen edges, where indexing arrays costs more than it saves
    codes = [ref_code[e] for e in edges]
    lengths = [length_m[e] for e in edges]
    total = sum(lengths)
    # metres and first position per distinct ref code along the route (plain Python: routes are short)
    acc: dict[int, list] = {}
    for i, (c, m) in enumerate(zip(codes, lengths, strict=True)):
        if c:
            slot = acc.get(c)
            if slot is None:
                acc[c] = [m, i]
            else:
                slot[0] += m
    groups = [(split[c], m, f) for c, (m, f) in acc.items()]
    chosen: list[str] = []
    open_groups = groups
    while len(chosen) < max_refs and open_groups:
        gain: dict[str, float] = {}
        for refs, m, _f in open_groups:
            for r in refs:
                gain[r] = gain.get(r, 0.0) + m
        best = max(gain, key=lambda r: (gain[r], -len(r)))
        if gain[best] < max(min_m, min_share * total):
            break
        chosen.append(best)
        open_groups = [g for g in open_groups if best not in g[0]]
    order = {}
    for refs, _m, f in groups:
        for r in refs:
            order[r] = min(order.get(r, f), f)
    return sorted(chosen, key=lambda r: order.get(r, 0))


def roads_geojson(net: RoadNetwork, *, max_features: int = 60_000) -> bytes:
    """The network as a GeoJSON FeatureCollection for the map (one line per road, both ways merged).

    Large networks keep only their main classes (motorway … secondary) to stay a few MB; the
    result is cached on the network (it never changes while the process runs).
    """
    import json

    from routing.speeds import ROAD_CLASSES

    cached = net._cache.get("roads_geojson")
    if cached is not None:
        return cached
    one = np.flatnonzero((net.twin < 0) | (np.arange(net.n_edges) < net.twin))
    if one.shape[0] > max_features:
        main = np.isin(net.road_class[one], [1, 2, 3, 4])  # motorway, trunk, primary, secondary
        one = one[main][:max_features]
    features = []
    lat, lon = np.round(net.lat, 5), np.round(net.lon, 5)
    for e in one.tolist():
        t, h = int(net.tail[e]), int(net.head[e])
        tt = float(net.travel_time_s[e])
        props = {
            "highway": ROAD_CLASSES[int(net.road_class[e])],
            "oneway": bool(net.twin[e] < 0),
            "speed_kmh": round(float(net.length_m[e]) / tt * 3.6, 1) if tt > 0 else None,
        }
        if net.ref_code[e]:
            props["ref"] = str(net.refs[net.ref_code[e]])
        if net.name_code[e]:
            props["name"] = str(net.names[net.name_code[e]])
        features.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[float(lon[t]), float(lat[t])], [float(lon[h]), float(lat[h])]],
                },
            }
        )
    body = json.dumps(
        {"type": "FeatureCollection", "features": features, "attribution": "道路数据 © OpenStreetMap contributors (ODbL)"},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    net._cache["roads_geojson"] = body
    return body


def route_between(
    session: Session, network, origin: tuple[float, float], destination: tuple[float, float], *, crs: str = "wgs84", now: datetime
) -> dict:
    """Travel time, distance and route (GeoJSON) from origin to destination, around active closures."""
    from routing import gcj02_to_wgs84, rank_sources

    roads = as_roads(network)
    if crs == "gcj02":
        origin, destination = gcj02_to_wgs84(*origin), gcj02_to_wgs84(*destination)
    errors = {}
    snaps = []
    for name, (lat, lon) in (("from", origin), ("to", destination)):
        try:
            snaps.append(roads.reachable_snap(lat, lon, field_name=name))
        except ValidationError as exc:
            errors |= exc.fields
    if errors:
        raise ValidationError(errors, "位置离道路太远")
    blocked = roads.closed_roads(session, now=now).blocked
    # rank_sources (not route()) keeps the driven edges for the main-road refs
    ranked = rank_sources(roads.net, snaps[1], {0: snaps[0]}, k=1, blocked=blocked, offroad_kmh=roads.settings.offroad_kmh)
    if not ranked:
        raise ValidationError({"to": "道路不通: 无法从起点到达终点 (封闭或单行限制)"}, "无法到达")
    r = ranked[0]
    return {
        "travel_s": round(r.travel_s + r.offroad_s, 1),
        "drive_s": round(r.travel_s, 1),
        "offroad_s": round(r.offroad_s, 1),
        "distance_m": round(r.distance_m, 1),
        "offroad_m": round(r.offroad_m, 1),
        "via": roads.via(r.edges),
        "route": r.geojson(),
    }
