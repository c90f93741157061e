"""Road closures cut at their boundary: the closed stretches of each road inside a circle or polygon.

A ``Closure`` holds, per directed edge it touches, the closed interval of the edge as fractions
``lo..hi`` (0 = tail, 1 = head; edges are straight between their nodes, as ``edge_point`` assumes).
Only ``impassable`` closures (道路中断) affect routing; ``traffic_control`` ones (交通管制: emergency
vehicles pass) are computed and reported the same way but never block a route.
``ClosedRoads`` is the union of the active impassable closures, in the form the searches use.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from routing.network import EARTH_RADIUS_M, RoadNetwork, haversine_m

IMPASSABLE = "impassable"
TRAFFIC_CONTROL = "traffic_control"
KINDS = (IMPASSABLE, TRAFFIC_CONTROL)
_EPS = 1e-9  # stretches shorter than this fraction (a tangent touch) close nothing


def _segment_distance_m(net: RoadNetwork, lat: float, lon: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edge end points in a local metric plane centred on (lat, lon): (ax, ay, bx, by) per edge packed."""
    kx = np.radians(1.0) * EARTH_RADIUS_M * np.cos(np.radians(lat))
    ky = np.radians(1.0) * EARTH_RADIUS_M
    ax = (net.lon[net.tail] - lon) * kx
    ay = (net.lat[net.tail] - lat) * ky
    bx = (net.lon[net.head] - lon) * kx
    by = (net.lat[net.head] - lat) * ky
    return np.stack([ax, ay]), np.stack([bx, by]), np.stack([bx - ax, by - ay])


def edges_near_point(net: RoadNetwork, lat: float, lon: float, radius_m: float) -> np.ndarray:
    """Indices of every directed edge passing within ``radius_m`` metres of (lat, lon)."""
    a, _b, d = _segment_distance_m(net, lat, lon)
    seg2 = (d * d).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.clip(np.where(seg2 > 0, -(a * d).sum(axis=0) / seg2, 0.0), 0.0, 1.0)
    return np.flatnonzero(np.hypot(a[0] + t * d[0], a[1] + t * d[1]) <= radius_m)


def _inside(ring: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Even-odd rule: which (lon, lat) points lie inside the closed ring (k, 2) of (lon, lat)."""
    inside = np.zeros(lon.shape[0], dtype=bool)
    x0, y0 = ring[:-1, 0], ring[:-1, 1]
    x1, y1 = ring[1:, 0], ring[1:, 1]
    for a, b, c, d in zip(x0, y0, x1, y1, strict=False):
        crosses = (b > lat) != (d > lat)
        with np.errstate(invalid="ignore", divide="ignore"):
            x_at = a + (lat - b) * (c - a) / (d - b)
        inside ^= crosses & (lon < x_at)
    return inside


def _rings(rings: Sequence[Sequence[Sequence[float]]]) -> list[np.ndarray]:
    out = []
    for ring in rings:
        r = np.asarray(ring, dtype=np.float64)
        if r.ndim != 2 or r.shape[0] < 3:
            continue
        if not np.array_equal(r[0], r[-1]):
            r = np.vstack([r, r[:1]])
        out.append(r)
    return out


def _in_polygon(rings: list[np.ndarray], lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Inside the outer ring and outside every hole (holes are open road)."""
    if not rings:
        return np.zeros(lon.shape[0], dtype=bool)
    inside = _inside(rings[0], lon, lat)
    for hole in rings[1:]:
        inside &= ~_inside(hole, lon, lat)
    return inside


def edges_in_polygon(net: RoadNetwork, rings: Sequence[Sequence[Sequence[float]]]) -> np.ndarray:
    """Indices of every directed edge with a stretch inside a GeoJSON polygon (holes are open)."""
    return np.unique(_polygon_stretches(net, _rings(rings))[0])


def _circle_stretches(net: RoadNetwork, lat: float, lon: float, radius_m: float):
    """(edges, lo, hi): the part of each straight edge inside the circle (exact in the local plane)."""
    a, _b, d = _segment_distance_m(net, lat, lon)
    qa = (d * d).sum(axis=0)
    qb = 2.0 * (a * d).sum(axis=0)
    qc = (a * a).sum(axis=0) - radius_m * radius_m
    disc = qb * qb - 4.0 * qa * qc
    cand = np.flatnonzero((disc > 0) | ((qa == 0) & (qc < 0)))
    qa, qb, qc, disc = qa[cand], qb[cand], qc[cand], disc[cand]
    with np.errstate(invalid="ignore", divide="ignore"):
        root = np.sqrt(np.maximum(disc, 0.0))
        t0 = np.where(qa > 0, (-qb - root) / (2 * qa), 0.0)
        t1 = np.where(qa > 0, (-qb + root) / (2 * qa), 1.0)
    lo, hi = np.clip(t0, 0.0, 1.0), np.clip(t1, 0.0, 1.0)
    keep = hi - lo > _EPS
    return cand[keep], lo[keep], hi[keep]


def _polygon_stretches(net: RoadNetwork, rings: list[np.ndarray]):
    """(edges, lo, hi): the stretches of each edge inside the polygon, in lon/lat (linear) space."""
    if not rings:
        empty = np.zeros(0)
        return empty.astype(np.int64), empty, empty
    lo_b, hi_b = rings[0].min(axis=0), rings[0].max(axis=0)
    x0, y0 = net.lon[net.tail], net.lat[net.tail]
    x1, y1 = net.lon[net.head], net.lat[net.head]
    near = np.flatnonzero(
        (np.maximum(x0, x1) >= lo_b[0])
        & (np.minimum(x0, x1) <= hi_b[0])
        & (np.maximum(y0, y1) >= lo_b[1])
        & (np.minimum(y0, y1) <= hi_b[1])
    )
    px, py = x0[near, None], y0[near, None]
    dx, dy = (x1 - x0)[near, None], (y1 - y0)[near, None]
    cuts = []
    for ring in rings:  # where each edge crosses each side of the polygon (param t along the edge)
        qx, qy = ring[None, :-1, 0], ring[None, :-1, 1]
        ex, ey = (ring[1:, 0] - ring[:-1, 0])[None, :], (ring[1:, 1] - ring[:-1, 1])[None, :]
        den = dx * ey - dy * ex
        with np.errstate(invalid="ignore", divide="ignore"):
            t = ((qx - px) * ey - (qy - py) * ex) / den
            u = ((qx - px) * dy - (qy - py) * dx) / den
        ok = (den != 0) & (t > 0) & (t < 1) & (u >= 0) & (u <= 1)
        cuts.append(np.where(ok, t, np.nan))
    n = near.shape[0]
    bounds = np.sort(np.hstack([np.zeros((n, 1)), *cuts, np.ones((n, 1))]), axis=1)  # nan sort last
    mids = (bounds[:, :-1] + bounds[:, 1:]) / 2
    valid = np.isfinite(mids) & (bounds[:, 1:] - bounds[:, :-1] > _EPS)
    mx = (px + mids * dx)[valid]
    my = (py + mids * dy)[valid]
    inside = np.zeros(mids.shape, dtype=bool)
    inside[valid] = _in_polygon(rings, mx, my)
    rows, cols = np.nonzero(inside)
    edges, lo, hi = near[rows], bounds[rows, cols], bounds[rows, cols + 1]
    # merge touching pieces of one edge (a cut at a vertex that does not leave the polygon)
    if edges.size:
        join = np.r_[False, (edges[1:] == edges[:-1]) & (np.abs(lo[1:] - hi[:-1]) <= _EPS)]
        start = np.flatnonzero(~join)
        end = np.r_[start[1:], edges.size] - 1
        edges, lo, hi = edges[start], lo[start], hi[end]
    return edges.astype(np.int64), lo, hi


@dataclass(frozen=True, eq=False)
class Closure:
    """One closure on one network: closed stretches ``lo..hi`` (fractions) of ``edges`` (directed).

    ``closed_m`` counts each two-way road once; ``closed`` is a GeoJSON MultiLineString of the
    closed stretches ([lon, lat]). Build with ``close_circle`` / ``close_polygon``.
    """

    kind: str
    edges: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    closed_m: float
    closed: dict
    circle: tuple[float, float, float] | None = None  # (lat, lon, radius_m)
    polygon: tuple = ()  # rings as numpy arrays of (lon, lat)
    key: object = field(default=None, compare=False)

    @property
    def blocks(self) -> bool:
        """True for a closure that stops vehicles (impassable)."""
        return self.kind == IMPASSABLE

    def contains(self, lat: float, lon: float) -> bool:
        """True when (lat, lon) lies inside the closure's circle or polygon."""
        if lat != lat or lon != lon:  # nan: unknown point
            return False
        if self.circle is not None:
            clat, clon, r = self.circle
            return bool(haversine_m(clat, clon, lat, lon) <= r)
        return bool(_in_polygon(list(self.polygon), np.array([lon]), np.array([lat]))[0])

    def covers(self, edge: int, fraction: float) -> bool:
        """True when the point at ``fraction`` of ``edge`` lies on a stretch this closure closes."""
        on = (self.edges == edge) & (self.lo <= fraction) & (self.hi >= fraction)
        return bool(on.any())


def _closure(net: RoadNetwork, kind: str, edges, lo, hi, **shape) -> Closure:
    if kind not in KINDS:
        msg = f"closure kind must be one of {KINDS}, got {kind!r}"
        raise ValueError(msg)
    order = np.lexsort((lo, edges))
    edges, lo, hi = edges[order], lo[order], hi[order]
    tw = net.twin[edges]
    one = (tw < 0) | (edges < tw)  # each physical road once
    e, a, b = edges[one], lo[one], hi[one]
    closed_m = float(((b - a) * net.length_m[e]).sum())
    t, h = net.tail[e], net.head[e]
    lon0, lat0, lon1, lat1 = net.lon[t], net.lat[t], net.lon[h], net.lat[h]
    lines = np.stack(
        [lon0 + a * (lon1 - lon0), lat0 + a * (lat1 - lat0), lon0 + b * (lon1 - lon0), lat0 + b * (lat1 - lat0)], axis=1
    ).round(7)
    closed = {"type": "MultiLineString", "coordinates": [[[x0, y0], [x1, y1]] for x0, y0, x1, y1 in lines.tolist()]}
    for arr in (edges, lo, hi):
        arr.flags.writeable = False
    return Closure(kind, edges, lo, hi, closed_m, closed, **shape)


def close_circle(net: RoadNetwork, lat: float, lon: float, radius_m: float, *, kind: str = IMPASSABLE) -> Closure:
    """Close the roads inside the circle of ``radius_m`` metres around (lat, lon), cut at its edge."""
    edges, lo, hi = _circle_stretches(net, float(lat), float(lon), float(radius_m))
    return _closure(net, kind, edges, lo, hi, circle=(float(lat), float(lon), float(radius_m)))


def close_polygon(net: RoadNetwork, rings: Sequence[Sequence[Sequence[float]]], *, kind: str = IMPASSABLE) -> Closure:
    """Close the roads inside a GeoJSON Polygon (``[[[lon, lat], ...], hole, ...]``), cut at its sides."""
    parsed = _rings(rings)
    edges, lo, hi = _polygon_stretches(net, parsed)
    return _closure(net, kind, edges, lo, hi, polygon=tuple(parsed))


def make_closure(
    net: RoadNetwork,
    *,
    lat: float | None = None,
    lon: float | None = None,
    radius_m: float | None = None,
    polygon: Sequence | None = None,
    kind: str = IMPASSABLE,
) -> Closure:
    """A polygon closure when ``polygon`` is given, else a circle around (lat, lon)."""
    if polygon:
        return close_polygon(net, polygon, kind=kind)
    if lat is None or lon is None or radius_m is None:
        msg = "a closure needs a polygon, or lat, lon and radius_m"
        raise ValueError(msg)
    return close_circle(net, lat, lon, radius_m, kind=kind)


class ClosedRoads:
    """The union of closures as the searches use it.

    ``mask`` marks every directed edge with a closed stretch (no search drives through it end to
    end); a point on such an edge is still reached, or left, over its open part (``is_open``).
    Only blocking (impassable) closures count. Build once per set of active closures and reuse:
    it caches the search weights, so a query with closures costs no more than one without.
    """

    def __init__(self, net: RoadNetwork, closures: Iterable[Closure] = (), *, whole_edges=None) -> None:
        self.net = net
        self.closures = tuple(c for c in closures if c.blocks)
        parts_e = [c.edges for c in self.closures]
        parts_lo = [c.lo for c in self.closures]
        parts_hi = [c.hi for c in self.closures]
        self._whole = None
        if whole_edges is not None and len(whole_edges):
            w = self._whole = np.unique(np.asarray(whole_edges, dtype=np.int64))
            parts_e.append(w)
            parts_lo.append(np.zeros(w.shape[0]))
            parts_hi.append(np.ones(w.shape[0]))
        edges = np.concatenate(parts_e) if parts_e else np.zeros(0, dtype=np.int64)
        lo = np.concatenate(parts_lo) if parts_lo else np.zeros(0)
        hi = np.concatenate(parts_hi) if parts_hi else np.zeros(0)
        self.mask = np.zeros(net.n_edges, dtype=bool)
        self.mask[edges] = True
        self.intervals: dict[int, list[tuple[float, float]]] = {}
        for e, a, b in zip(edges.tolist(), lo.tolist(), hi.tolist(), strict=False):
            self.intervals.setdefault(e, []).append((a, b))
        self._cache: dict = {}

    def __bool__(self) -> bool:
        return bool(self.intervals)

    @classmethod
    def of(cls, net: RoadNetwork, blocked) -> ClosedRoads | None:
        """Normalise ``blocked`` (None, ClosedRoads, Closure(s), bool mask or edge indices) or None.

        A mask or edge indices close whole edges (the older form, kept for callers that have one).
        """
        if blocked is None:
            return None
        if isinstance(blocked, ClosedRoads):
            return blocked if blocked else None
        if isinstance(blocked, Closure):
            blocked = [blocked]
        if isinstance(blocked, np.ndarray) and blocked.dtype == bool:
            if blocked.shape != (net.n_edges,):
                msg = f"blocked mask has shape {blocked.shape}, expected ({net.n_edges},)"
                raise ValueError(msg)
            out = cls(net, whole_edges=np.flatnonzero(blocked))
            return out if out else None
        items = list(blocked)
        if items and all(isinstance(c, Closure) for c in items):
            out = cls(net, items)
        else:
            out = cls(net, whole_edges=np.fromiter((int(e) for e in items), dtype=np.int64, count=len(items)))
        return out if out else None

    def is_open(self, edge: int, a: float, b: float) -> bool:
        """True when the stretch ``a..b`` (fractions, a <= b) of ``edge`` touches no closed stretch."""
        return all(not (lo < b and hi > a) for lo, hi in self.intervals.get(int(edge), ()))

    def open_many(self, edges: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Vectorised ``is_open`` (only edges with a closed stretch are looked at one by one)."""
        out = np.ones(edges.shape[0], dtype=bool)
        hit = np.flatnonzero(self.mask[edges])
        for i in hit.tolist():
            out[i] = self.is_open(int(edges[i]), float(a[i]), float(b[i]))
        return out

    def closed_m(self, edge: int, a: float, b: float) -> float:
        """Metres of the stretch ``a..b`` of ``edge`` that lie on closed stretches (overlaps merged)."""
        spans = sorted(self.intervals.get(int(edge), ()))
        total, end = 0.0, a
        for lo, hi in spans:
            lo, hi = max(lo, end), min(hi, b)
            if hi > lo:
                total += hi - lo
                end = hi
        return total * float(self.net.length_m[edge])

    def split_for(self, target, *, lat: float | None = None, lon: float | None = None):
        """(closures that still apply, closures waived) for routes TO ``target`` (a Snap).

        The final approach to a scene is never blocked by a closure that contains it: the scene
        (its road point, its own point, or the closed stretch it was snapped onto) lies inside.
        Either part is None when empty.
        """
        e, t = target.edge, target.fraction
        tw = int(self.net.twin[e])
        points = [(target.lat, target.lon), (getattr(target, "point_lat", np.nan), getattr(target, "point_lon", np.nan))]
        if lat is not None and lon is not None:
            points.append((lat, lon))
        waived = [
            c
            for c in self.closures
            if c.covers(e, t) or (tw >= 0 and c.covers(tw, 1.0 - t)) or any(c.contains(a, b) for a, b in points)
        ]
        if not waived:
            return self, None
        key = tuple(id(c) for c in waived)
        hit = self._cache.get(("split", key))
        if hit is None:
            keep = [c for c in self.closures if all(c is not w for w in waived)]
            rest = ClosedRoads(self.net, keep, whole_edges=self._whole)  # whole edges are never waived
            hit = (rest if rest else None, ClosedRoads(self.net, waived))
            self._cache[("split", key)] = hit
        return hit

    def weights(self) -> np.ndarray:
        """Travel times with every edge that has a closed stretch at +inf (cached)."""
        w = self._cache.get("weights")
        if w is None:
            w = self.net.travel_time_s.copy()
            w[self.mask] = np.inf
            w.flags.writeable = False
            self._cache["weights"] = w
        return w

    def edge_closed_m(self) -> np.ndarray:
        """Per directed edge, metres on closed stretches (cached; used to measure routes)."""
        m = self._cache.get("edge_closed_m")
        if m is None:
            m = np.zeros(self.net.n_edges)
            for e in self.intervals:
                m[e] = self.closed_m(e, 0.0, 1.0)
            self._cache["edge_closed_m"] = m
        return m
