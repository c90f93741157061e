"""Rank sources (resources) by arrival time at a target.

``rank_groups`` is the engine: several groups of sources (one per need) are answered together, each
with its leading members (top ``k``, plus enough to cover a quantity). Times come from the
network's contraction hierarchy (``routing.hierarchy``: every member at once) or, when a closure
could change an answer, from one reverse shortest-path search from the target, grown only until
each group's leading members are certain. Either way the answers equal those of an unbounded
search. ``rank_sources`` is the one-group form.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from routing.closures import ClosedRoads
from routing.hierarchy import hierarchy_of
from routing.network import RoadNetwork, haversine_m
from routing.snap import DEFAULT_OFFROAD_KMH, Snap

INF = float("inf")


@dataclass(frozen=True)
class Route:
    """A trip between two points: road seconds/metres plus the off-road legs (or one straight leg)."""

    travel_s: float
    distance_m: float  # on-road metres
    offroad_s: float
    offroad_m: float  # off-road metres (both legs, or the straight leg when ``direct``)
    coordinates: list[tuple[float, float]]  # (lon, lat), from the source's road point to the target's
    direct: bool = False
    closure_m: float = 0.0

    @property
    def total_s(self) -> float:
        return self.travel_s + self.offroad_s

    def geojson(self) -> dict:
        """The route as a GeoJSON LineString geometry."""
        return {"type": "LineString", "coordinates": [list(c) for c in self.coordinates]}


@dataclass(frozen=True)
class Ranked:
    """One ranked source: ``arrival_s = extra_s + offroad_s + travel_s`` (seconds).

    ``distance_m`` is road metres, ``offroad_m`` off-road metres, so together they are the whole
    trip. ``direct``: the source goes straight across country to the target (no road at all; it
    was quicker at the off-road speed). ``closure_m``: metres driven inside closures that contain
    the target (the final approach into a closed zone; nan when distances were not computed).
    """

    source: Hashable
    arrival_s: float
    extra_s: float
    travel_s: float
    offroad_s: float
    distance_m: float  # on-road metres
    offroad_m: float  # off-road metres: both legs, or the straight leg when ``direct``
    route: list[tuple[float, float]] | None  # (lon, lat) for a GeoJSON LineString
    edges: tuple[int, ...] | None = None  # road edges driven, in order (with routes only)
    direct: bool = False
    closure_m: float = 0.0

    def geojson(self) -> dict | None:
        if self.route is None:
            return None
        return {"type": "LineString", "coordinates": [list(c) for c in self.route]}


@dataclass(frozen=True)
class Group:
    """Which members of one group (one need) must come back, best first.

    The leading members in order (``tier``, arrival): at least ``k``, and enough that their summed
    ``amount`` (default 1 each) reaches ``quantity``, plus ``beyond`` more after that. ``tier``
    sorts before arrival (0 first; e.g. 1 for unconfirmed records). Unreachable members never count.
    """

    members: Sequence[Hashable]
    k: int = 10
    quantity: float = 0.0
    amount: Mapping[Hashable, float] | None = None
    beyond: int = 0
    tier: Mapping[Hashable, int] | None = None


def blocked_mask(net: RoadNetwork, blocked) -> np.ndarray | None:
    """Edges with a closed stretch as a bool mask (None if nothing is closed); see ClosedRoads.of."""
    closed = ClosedRoads.of(net, blocked)
    return None if closed is None else closed.mask


def _seeds(net: RoadNetwork, snap: Snap, *, reverse: bool, closed: ClosedRoads | None) -> list[tuple[int, float]]:
    """The road nodes a search from (or, ``reverse``, to) a point on a road starts at, with the
    seconds between them and the point."""
    W = net.travel_time_s
    e, t = snap.edge, snap.fraction
    tw = int(net.twin[e])

    def ok(edge: int, a: float, b: float) -> bool:
        return closed is None or closed.is_open(edge, a, b)

    # a point on e=u->v is reached from u along t of e, or from v along 1-t of its twin (over
    # open road only); leaving it, one drives on to v, or back to u on the twin
    seeds = []
    if reverse:
        if ok(e, 0.0, t):
            seeds.append((int(net.tail[e]), float(t * W[e])))
        if tw >= 0 and ok(tw, 0.0, 1.0 - t):
            seeds.append((int(net.head[e]), float((1.0 - t) * W[tw])))
    else:
        if ok(e, t, 1.0):
            seeds.append((int(net.head[e]), float((1.0 - t) * W[e])))
        if tw >= 0 and ok(tw, 1.0 - t, 1.0):
            seeds.append((int(net.tail[e]), float(t * W[tw])))
    return seeds


class _Search:
    """One Dijkstra from a snapped point over the reversed (or forward) graph, grown on demand."""

    def __init__(self, net: RoadNetwork, snap: Snap, *, reverse: bool, closed: ClosedRoads | None) -> None:
        self.net, self.snap, self.reverse, self.closed = net, snap, reverse, closed
        matrix, self.lock, order = net._search_matrix(reverse=reverse)
        if closed is not None:
            self.w = closed.weights()
            key = ("matrix", reverse)
            cached = closed._cache.get(key)
            if cached is None:
                data = matrix.data.copy()
                data[: net.n_edges] = self.w if order is None else self.w[order]
                cached = csr_matrix((data, matrix.indices, matrix.indptr), shape=matrix.shape)
                closed._cache[key] = cached
            matrix = cached
        else:
            self.w = net.travel_time_s
        self.matrix = matrix
        self.seeds = _seeds(net, snap, reverse=reverse, closed=closed)
        self.limit = 0.0
        self.dist: np.ndarray | None = None
        self.pred: np.ndarray | None = None
        self.tree: tuple | None = None

    def build_tree(self, edge_closed_m: np.ndarray | None = None) -> None:
        """Per settled node: metres to its seed along the search tree, the seed, the hop edge, and
        metres on ``edge_closed_m`` stretches.

        Pointer doubling over the settled nodes: log2(depth) vector steps instead of one path
        walk per source (worth it when many sources are assembled).
        """
        net = self.net
        n = net.n_nodes
        pred = self.pred[:n]
        settled = np.flatnonzero(np.isfinite(self.dist[:n]))
        p = pred[settled]
        inner = (p >= 0) & (p < n)
        x, px = settled[inner], p[inner].astype(np.int64)
        hop = np.full(n, -1, dtype=np.int64)
        hop[x] = _edges_between(net, self.w, x.astype(np.int64), px)
        metres = np.zeros(n)
        metres[x] = net.length_m[hop[x]]
        closed = None
        if edge_closed_m is not None:
            closed = np.zeros(n)
            closed[x] = edge_closed_m[hop[x]]
        nxt = np.arange(n, dtype=np.int64)
        nxt[x] = px
        s = settled
        while True:
            nn = nxt[s]
            if np.array_equal(nn, nxt[nn]):
                break
            metres[s] = metres[s] + metres[nn]
            if closed is not None:
                closed[s] = closed[s] + closed[nn]
            nxt[s] = nxt[nn]
        self.tree = (metres, nxt, hop, closed)

    def run(self, limit: float) -> None:
        n, m = self.net.n_nodes, self.net.n_edges
        with self.lock:
            ind, dat = self.matrix.indices, self.matrix.data
            for slot, (node, cost) in enumerate(self.seeds):
                ind[m + slot], dat[m + slot] = node, cost
            for slot in range(len(self.seeds), 2):
                ind[m + slot], dat[m + slot] = n, np.inf
            self.dist, self.pred = dijkstra(self.matrix, directed=True, indices=n, limit=limit, return_predecessors=True)
            for slot in range(2):  # leave the shared spare slots inert
                ind[m + slot], dat[m + slot] = n, np.inf
        self.limit = limit

    def exhausted(self) -> bool:
        """True when every node reachable from the start has been settled."""
        if self.limit == INF:
            return True
        net = self.net
        reached = np.isfinite(self.dist[: net.n_nodes])
        if any(np.isfinite(cost) and not reached[node] for node, cost in self.seeds):
            return False  # the virtual start's own edges are part of the frontier too
        near, far = (net.head, net.tail) if self.reverse else (net.tail, net.head)
        frontier = reached[near] & ~reached[far] & np.isfinite(self.w)
        return not frontier.any()

    def path(self, start: int) -> tuple[list[int], np.ndarray]:
        """(nodes from ``start`` to the seed it was reached from, in driving order; hop edges)."""
        nodes = self.path_nodes(start)
        return nodes, _hop_edges(self, nodes)

    def path_nodes(self, node: int) -> list[int]:
        """Nodes from ``node`` to the seed it was reached from (search order reversed)."""
        n = self.net.n_nodes
        item = self.pred.item  # a Python int per hop, without a numpy scalar in between
        out = [node]
        p = item(node)
        while p != n and p >= 0:
            out.append(p)
            p = item(p)
        return out


def _closed_in(hier, closed: ClosedRoads) -> np.ndarray:
    """The hierarchy's edges that drive a closed stretch (kept with the set of closures)."""
    key = ("hierarchy_dirty", id(hier))
    dirty = closed._cache.get(key)
    if dirty is None:
        dirty = closed._cache[key] = hier.dirty(closed.mask)
    return dirty


class _Indexed:
    """Paths of a hierarchy query in the role of a live ``_Search`` (for ``_assemble``)."""

    tree = None

    def __init__(self, net: RoadNetwork, snap: Snap, nodes: np.ndarray, paths) -> None:
        self.net, self.snap, self.w, self.nodes, self.paths = net, snap, net.travel_time_s, nodes, paths
        self._ready: dict[int, tuple[list[int], np.ndarray]] = {}

    def prepare(self, starts) -> None:
        """Unpack the paths from road nodes ``starts`` in one go, with their hop edges."""
        want = [s for s in dict.fromkeys(int(x) for x in starts) if s not in self._ready]
        if not want:
            return
        where = {}
        for i, x in enumerate(self.nodes.tolist()):
            where.setdefault(x, i)
        flat, at = self.paths.many(np.array([where[s] for s in want], dtype=np.int64))
        inside = np.ones(max(flat.shape[0] - 1, 0), dtype=bool)
        inside[at[1:-1] - 1] = False  # the step from one path's end to the next one's start
        hops = np.full(inside.shape[0], -1, dtype=np.int64)
        hops[inside] = _edges_between(self.net, self.w, flat[:-1][inside], flat[1:][inside])
        nodes = flat.tolist()
        for j, s in enumerate(want):
            self._ready[s] = (nodes[at[j] : at[j + 1]], hops[at[j] : at[j + 1] - 1])

    def path(self, start: int) -> tuple[list[int], np.ndarray]:
        """(nodes from ``start`` to the target's seed it reaches it through, in driving order; the
        road edge of each hop)."""
        if start not in self._ready:
            self.prepare([start])
        return self._ready[start]


def _edge_key(net: RoadNetwork) -> np.ndarray:
    key = net._cache.get("edge_key")
    if key is None:  # edges are sorted by (tail, head), so this key is sorted too
        key = net.tail.astype(np.int64) * net.n_nodes + net.head
        net._cache["edge_key"] = key
    return key


def _edges_between(net: RoadNetwork, w: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The fastest open edge a[i] -> b[i] of each pair (parallel roads)."""
    key = _edge_key(net)
    q = a * net.n_nodes + b
    lo = np.searchsorted(key, q, side="left")
    hi = np.searchsorted(key, q, side="right")
    out = lo.copy()
    for j in np.flatnonzero(hi - lo > 1):
        out[j] = lo[j] + int(np.argmin(w[lo[j] : hi[j]]))
    return out


def _edges_along(net: RoadNetwork, w: np.ndarray, nodes: list[int]) -> np.ndarray:
    """Edge indices of a node path: the fastest open edge of each hop (parallel roads)."""
    if len(nodes) < 2:
        return np.zeros(0, dtype=np.int64)
    return _edges_between(net, w, np.asarray(nodes[:-1], dtype=np.int64), np.asarray(nodes[1:], dtype=np.int64))


def _hop_edges(search: _Search, nodes: list[int]) -> np.ndarray:
    if search.tree is not None and len(nodes) >= 2:
        return search.tree[2][np.asarray(nodes[:-1], dtype=np.int64)]
    return _edges_along(search.net, search.w, nodes)


def _access(net: RoadNetwork, edges: np.ndarray, frac: np.ndarray, closed: ClosedRoads | None):
    """For points leaving along their edge: (node, seconds) via head, and via tail on the twin.

    Seconds are inf when the stretch to that node is closed.
    """
    W = net.travel_time_s
    n1 = net.head[edges].astype(np.int64)
    c1 = (1.0 - frac) * W[edges]
    tw = net.twin[edges]
    has = tw >= 0
    tws = np.where(has, tw, 0)
    n2 = net.tail[edges].astype(np.int64)
    c2 = np.where(has, frac * W[tws], np.inf)
    if closed is not None:
        c1 = np.where(closed.open_many(edges, frac, np.ones_like(frac)), c1, np.inf)
        c2 = np.where(closed.open_many(tws, 1.0 - frac, np.ones_like(frac)) & has, c2, np.inf)
    return n1, c1, n2, c2


def _direct(net: RoadNetwork, edges: np.ndarray, frac: np.ndarray, target: Snap, closed: ClosedRoads | None):
    """(seconds, edge) to drive straight along a shared road to the target (inf, -1 if not on its road)."""
    W = net.travel_time_s
    out = np.full(edges.shape[0], np.inf)
    via = np.full(edges.shape[0], -1, dtype=np.int64)
    e, t = target.edge, target.fraction
    te = int(net.twin[e])
    for g, pos_t in ((e, t), (te, 1.0 - t)):
        if g < 0:
            continue
        # source position along g: same edge -> its fraction, twin edge -> 1 - fraction
        pos_s = np.where(edges == g, frac, np.where((net.twin[edges] == g) & (edges != g), 1.0 - frac, np.nan))
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(pos_s) & (pos_t >= pos_s)
        if closed is not None and ok.any():
            idx = np.flatnonzero(ok)
            ok[idx] = closed.open_many(np.full(idx.shape[0], g), pos_s[idx], np.full(idx.shape[0], pos_t))
        cost = (pos_t - np.nan_to_num(pos_s)) * W[g]
        better = ok & (cost < out)
        out = np.where(better, cost, out)
        via = np.where(better, g, via)
    return out, via


def _points(snaps: Sequence[Snap]) -> tuple[np.ndarray, np.ndarray]:
    lat = np.fromiter((getattr(s, "point_lat", math.nan) for s in snaps), dtype=np.float64, count=len(snaps))
    lon = np.fromiter((getattr(s, "point_lon", math.nan) for s in snaps), dtype=np.float64, count=len(snaps))
    return lat, lon


def rank_sources(
    net: RoadNetwork,
    target: Snap,
    sources: Mapping[Hashable, Snap],
    *,
    k: int = 10,
    extra_s: Mapping[Hashable, float] | None = None,
    blocked=None,
    offroad_kmh: float = DEFAULT_OFFROAD_KMH,
    with_routes: bool | Collection[Hashable] = True,
    with_distances: bool = True,
    shortcut: bool = True,
) -> list[Ranked]:
    """Return the ``k`` sources that can arrive first at ``target``, best first (one-group ``rank_groups``)."""
    if k <= 0 or not sources:
        return []
    out = rank_groups(
        net,
        target,
        sources,
        {0: Group(list(sources), k=k)},
        extra_s=extra_s,
        blocked=blocked,
        offroad_kmh=offroad_kmh,
        with_routes=with_routes,
        with_distances=with_distances,
        shortcut=shortcut,
    )
    return out[0]


def rank_groups(
    net: RoadNetwork,
    target: Snap,
    sources: Mapping[Hashable, Snap],
    groups: Mapping[Hashable, Group],
    *,
    extra_s: Mapping[Hashable, float] | None = None,
    blocked=None,
    offroad_kmh: float = DEFAULT_OFFROAD_KMH,
    with_routes: bool | Collection[Hashable] = True,
    with_distances: bool = True,
    shortcut: bool = True,
    index: bool = True,
) -> dict[Hashable, list[Ranked]]:
    """Per group, its leading members (see ``Group``) ranked by arrival at ``target``, best first.

    Arrival (s) = ``extra_s[source]`` (turnout) + off-road leg at the source + road travel +
    off-road leg at the target, driving from each source TO the target (one-ways respected); or,
    with ``shortcut``, the straight line between the two original points at ``offroad_kmh`` when
    that is quicker (the same point: 0 s of travel). ``blocked``: a ClosedRoads, Closure(s), a bool
    edge mask or edge indices (see ClosedRoads.of); closures containing the target do not stop
    the final approach (``Ranked.closure_m`` tells how far the route drives inside them).
    Unreachable members are left out. Ties keep the order of ``members``. One search from the
    target serves every group; it stops once every group's answer is certain, so the results
    equal those of an unbounded search. ``with_routes`` may be a collection of sources (routes
    only for those); ``with_distances=False`` leaves ``distance_m`` nan for sources without one.
    The network's contraction hierarchy (``routing.hierarchy``) answers every member at once; with
    blocking closures its times stand for members whose quickest route drives no closed stretch,
    and the live search runs when another could enter an answer (also with ``index=False`` or
    while the hierarchy is not ready).
    """
    v_off = offroad_kmh / 3.6
    used = {m for g in groups.values() for m in g.members}
    ids = [i for i in sources if i in used]
    if not ids:
        return {gk: [] for gk in groups}
    pos = {s: i for i, s in enumerate(ids)}
    snaps = [sources[i] for i in ids]
    count = len(ids)
    edges = np.fromiter((s.edge for s in snaps), dtype=np.int64, count=count)
    frac = np.fromiter((s.fraction for s in snaps), dtype=np.float64, count=count)
    off_m = np.fromiter((s.offroad_m for s in snaps), dtype=np.float64, count=count)
    extra = (
        np.zeros(count)
        if extra_s is None
        else np.fromiter((float(extra_s.get(i, 0.0)) for i in ids), dtype=np.float64, count=count)
    )
    base = extra + off_m / v_off + target.offroad_m / v_off

    closed_all = ClosedRoads.of(net, blocked)
    closed, waived = (None, None) if closed_all is None else closed_all.split_for(target)
    n1, c1, n2, c2 = _access(net, edges, frac, closed)
    direct, direct_edge = _direct(net, edges, frac, target, closed)
    slat = np.fromiter((s.lat for s in snaps), dtype=np.float64, count=count)
    slon = np.fromiter((s.lon for s in snaps), dtype=np.float64, count=count)
    crow_m = haversine_m(slat, slon, target.lat, target.lon)
    cross_m = np.full(count, np.inf)
    if shortcut:
        plat, plon = _points(snaps)
        tlat, tlon = getattr(target, "point_lat", math.nan), getattr(target, "point_lon", math.nan)
        with np.errstate(invalid="ignore"):
            cross_m = np.where(np.isfinite(plat) & np.isfinite(plon), haversine_m(plat, plon, tlat, tlon), np.inf)
        cross_m = np.where(np.isfinite(cross_m), cross_m, np.inf)
    cross = extra + cross_m / v_off

    # straight-line bounds: no road covers ground faster than the fastest edge does as the crow
    # flies, so base + crow / v_max is a lower bound on each road arrival (2 % slack for the sphere)
    v_crow, v_mean = _speeds_mps(net)
    geo_lb = base + 0.98 * crow_m / v_crow

    specs = []
    for gk, g in groups.items():
        members = np.fromiter((pos[m] for m in dict.fromkeys(g.members) if m in pos), dtype=np.int64)
        tier = (
            np.zeros(members.shape[0])
            if g.tier is None
            else np.fromiter((float(g.tier.get(ids[i], 0)) for i in members), dtype=np.float64, count=members.shape[0])
        )
        amount = (
            np.ones(members.shape[0])
            if g.amount is None
            else np.fromiter((float(g.amount.get(ids[i], 1.0)) for i in members), dtype=np.float64, count=members.shape[0])
        )
        specs.append((gk, g, members, tier, amount))

    results = None
    hier = hierarchy_of(net) if index else None
    if hier is not None:
        # the hierarchy gives every member's free-flowing time at once: exact without closures;
        # with them (closures only lengthen trips) exact for members whose quickest route avoids
        # every closed stretch and a lower bound for the others, which is enough when none of
        # those can enter an answer; otherwise the live search below settles it
        dirty = None if closed is None else _closed_in(hier, closed)
        nodes = np.concatenate([n1, n2])
        d, paths, clean = hier.to_target(_seeds(net, target, reverse=True, closed=closed), nodes, dirty=dirty)
        d1, d2 = d[:count], d[count:]
        t1, t2 = c1 + d1, c2 + d2
        road = base + np.minimum(np.minimum(t1, t2), direct)
        val = np.minimum(road, cross)
        if clean is None:
            final = np.ones(count, dtype=bool)
        else:
            quickest = np.minimum(t1, t2)
            exact = (direct <= quickest) | ((t1 <= quickest) & clean[:count]) | ((t2 <= quickest) & clean[count:])
            final = exact | ~np.isfinite(road) | (cross <= road)
        none = np.zeros(count)
        certain = {gk: _certify(g, m, tier, amount, val, val, final, base, none) for gk, g, m, tier, amount in specs}
        if not any(needs for _prefix, needs in certain.values()):
            results = {gk: prefix for gk, (prefix, _needs) in certain.items()}
            search = _Indexed(net, target, nodes, paths)
    if results is None:
        search = _Search(net, target, reverse=True, closed=closed)
        # first radius: where each group's last wanted member is expected, at the speed recent
        # rankings on this network achieved per straight-line metre (exactness never depends on the
        # guess: a short radius costs a second search, a long one settles nodes for nothing)
        cal = _calibration(net)
        est = np.minimum(base + cal.s_per_m(v_mean) * crow_m, cross)
        raw, full = 60.0, False
        for _gk, g, members, tier, amount in specs:
            if members.size == 0:
                continue
            o = np.lexsort((est[members], tier))
            p = _prefix_count(g, amount[o])
            if p == 0:
                continue
            if 2 * p >= members.size and (len(specs) == 1 or members.size > 8):
                # most members wanted (a sparse class): the radius must reach nearly all of them, so
                # one unbounded search beats growing it step by step
                full = True
                continue
            thr, t_last = float(est[members[o[p - 1]]]), float(tier[o[p - 1]])
            if p >= members.size:
                thr = float(est[members].max())
            ms = members[(geo_lb[members] < thr) | (tier < t_last)]
            if ms.size:
                raw = max(raw, thr - float((base + np.minimum(c1, c2))[ms].min()))
        limit = INF if full else raw * cal.scale()

        while True:
            search.run(limit)
            d = search.dist
            d1, d2 = d[n1], d[n2]
            road = base + np.minimum(np.minimum(c1 + d1, c2 + d2), direct)
            complete = search.limit == INF
            # paths through unsettled access nodes cost at least base + access + limit
            unknown = np.minimum(np.where(np.isinf(d1), c1, np.inf), np.where(np.isinf(d2), c2, np.inf))
            if complete:
                unknown = np.full(count, np.inf)
            road_lb = np.where(np.isfinite(unknown), np.maximum(base + unknown + limit, geo_lb), road)
            val = np.minimum(road, cross)
            final = (road <= road_lb) | (cross <= road_lb)
            val_lb = np.where(final, val, np.minimum(road_lb, cross))
            needs: list[float] = []
            results = {}
            for gk, g, members, tier, amount in specs:
                prefix, more = _certify(g, members, tier, amount, val, val_lb, final, base, unknown)
                needs.extend(more)
                if prefix is not None:
                    results[gk] = prefix
            if not needs:
                break
            if all(math.isfinite(x) for x in needs):
                limit = max(max(needs) + 1e-6, limit * 1.01)
            elif search.exhausted():
                search.limit = limit = INF  # nothing left to settle: what is unsettled is unreachable
            else:
                limit *= 2.0
                if limit > 1e7:  # beyond ~4 months of driving nothing is "reachable"; finish in one go
                    limit = INF
        if not full:
            cal.learn(specs, results, val, base, crow_m, c1, c2, d1, d2, geo_lb, raw)

    top = sorted({int(i) for prefix in results.values() for i in prefix})
    wanted = None if isinstance(with_routes, bool) else set(with_routes)
    use_road = [i for i in top if not cross[i] < road[i]]
    edge_closed = waived.edge_closed_m() if waived is not None else None
    if len(use_road) > 16 and (with_distances or wanted is not None) and isinstance(search, _Search):
        search.build_tree(edge_closed)
    if isinstance(search, _Indexed):  # every path that will be assembled, unpacked in one go
        ii = np.asarray(
            [i for i in use_road if with_distances or with_routes is True or ids[i] in (wanted or ())], dtype=np.int64
        )
        v1, v2 = c1[ii] + d1[ii], c2[ii] + d2[ii]
        on_road = ~((direct[ii] <= np.minimum(v1, v2)) & (direct_edge[ii] >= 0))
        search.prepare(np.where(v1 <= v2, n1[ii], n2[ii])[on_road])
    ranked: dict[int, Ranked] = {}
    for i in top:
        routed = with_routes if wanted is None else ids[i] in wanted
        if cross[i] < road[i]:  # straight across country beats the road
            pts = None
            if routed:
                pts = [(snaps[i].point_lon, snaps[i].point_lat), (target.point_lon, target.point_lat)]
            ranked[i] = Ranked(
                source=ids[i],
                arrival_s=float(val[i]),
                extra_s=float(extra[i]),
                travel_s=0.0,
                offroad_s=float(val[i] - extra[i]),
                distance_m=0.0,
                offroad_m=float(cross_m[i]),
                route=pts,
                edges=() if routed else None,
                direct=True,
                closure_m=0.0,
            )
            continue
        if routed or with_distances:
            dist_m, pts, driven, cm = _assemble(
                search,
                snaps[i],
                int(edges[i]),
                float(frac[i]),
                (n1[i], c1[i] + d1[i]),
                (n2[i], c2[i] + d2[i]),
                float(direct[i]),
                int(direct_edge[i]),
                bool(routed),
                waived,
            )
        else:
            dist_m, pts, driven, cm = math.nan, None, None, (0.0 if waived is None else math.nan)
        ranked[i] = Ranked(
            source=ids[i],
            arrival_s=float(val[i]),
            extra_s=float(extra[i]),
            travel_s=float(val[i] - base[i]),
            offroad_s=float(base[i] - extra[i]),
            distance_m=dist_m,
            offroad_m=float(off_m[i] + target.offroad_m),
            route=pts,
            edges=driven,
            closure_m=cm,
        )
    return {gk: [ranked[int(i)] for i in results[gk]] for gk, *_ in specs}


def _prefix_count(g: Group, amount_in_order: np.ndarray) -> int:
    """How many leading members ``g`` wants, given their amounts in ranked order."""
    size = amount_in_order.shape[0]
    p = g.k
    if g.quantity > 0:
        cum = np.cumsum(amount_in_order)
        hit = np.flatnonzero(cum >= g.quantity)
        p = max(p, int(hit[0]) + 1 + g.beyond if hit.size else size)
    return max(0, min(p, size))


def _certify(g: Group, members, tier, amount, val, val_lb, final, base, unknown):
    """The group's leading member indices when certain; else the radii that would settle it."""
    keep = ~(final[members] & np.isinf(val[members]))  # known unreachable: never counted
    mem, tr, am = members[keep], tier[keep], amount[keep]
    order = np.lexsort((val[mem], tr))  # stable: ties keep member order
    p = _prefix_count(g, am[order])
    prefix = mem[order[:p]]
    needs = []
    for i in prefix[~final[prefix]].tolist():  # a wanted member whose arrival may still improve
        needs.append(float(val[i] - base[i] - unknown[i]))
    if p < mem.size and p > 0:
        last = order[p - 1]
        thr, t_last = float(val[mem[last]]), float(tr[last])
        rest = order[p:]
        rm, rt = mem[rest], tr[rest]
        open_ = ~final[rm]
        clash = open_ & ((rt < t_last) | ((rt == t_last) & ~(val_lb[rm] > thr)))
        for i, t in zip(rm[clash].tolist(), rt[clash].tolist(), strict=False):
            goal = val[i] if t < t_last else min(val[i], thr)
            needs.append(float(goal - base[i] - unknown[i]))
    return (None, needs) if needs else (prefix.tolist(), needs)


class _Calibration:
    """What recent rankings on one network needed, to aim the first search radius (speed only).

    ``spm``: seconds of road travel per straight-line metre of the wanted members (median of
    recent queries); ``ratios``: radius that proved necessary / the radius estimated from ``spm``.
    """

    def __init__(self) -> None:
        self.spm: deque[float] = deque(maxlen=64)
        self.ratios: deque[float] = deque(maxlen=64)
        self._spm: float | None = None
        self._scale = 0.8

    def s_per_m(self, v_mean: float) -> float:
        return self._spm if self._spm is not None else 1.3 / v_mean

    def scale(self) -> float:
        return self._scale

    def learn(self, specs, results, val, base, crow_m, c1, c2, d1, d2, geo_lb, raw) -> None:
        top = np.asarray(sorted({i for p in results.values() for i in p}), dtype=np.int64)
        if top.size == 0:
            return
        crow = crow_m[top]
        ok = (crow > 100.0) & np.isfinite(val[top])
        if ok.any():
            self.spm.append(float(np.median((val[top] - base[top])[ok] / crow[ok])))
            if len(self.spm) >= 4:
                self._spm = float(np.median(self.spm))
        # the radius this query needed: every access node that could still beat a group's last one
        need = -1.0
        for gk, _g, members, tier, _amount in specs:
            prefix = results.get(gk) or []
            if not prefix or members.size == 0:
                continue
            thr = float(val[prefix[-1]])
            t_last = float(tier[np.flatnonzero(members == prefix[-1])[0]])
            lim = np.where(tier < t_last, np.inf, thr)
            with np.errstate(invalid="ignore"):
                r1 = np.minimum(d1[members], lim - base[members] - c1[members])
                r2 = np.minimum(d2[members], lim - base[members] - c2[members])
            r = np.fmax(np.where(np.isfinite(r1), r1, -1.0), np.where(np.isfinite(r2), r2, -1.0))
            r = r[(geo_lb[members] < lim)]
            if r.size:
                need = max(need, float(r.max()))
        if need >= 0 and raw > 0:
            self.ratios.append(need / raw)
            if len(self.ratios) >= 4:
                # a little above the usual need: most queries take one search, the rest a second one
                self._scale = 1.02 * float(np.quantile(self.ratios, 0.75))


def _calibration(net: RoadNetwork) -> _Calibration:
    cal = net._cache.get("rank_calibration")
    if cal is None:
        cal = net._cache.setdefault("rank_calibration", _Calibration())
    return cal


def _speeds_mps(net: RoadNetwork) -> tuple[float, float]:
    """(fastest straight-line speed of any edge, length-weighted mean speed), m/s."""
    v = net._cache.get("speeds_mps")
    if v is None:
        t = net.travel_time_s
        crow = haversine_m(net.lat[net.tail], net.lon[net.tail], net.lat[net.head], net.lon[net.head])
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(t > 0, crow / t, np.where(crow > 0, np.inf, 0.0))
        v_crow = float(ratio.max()) if ratio.size else np.inf
        v_mean = float(net.length_m.sum() / t.sum()) if t.sum() > 0 else 10.0
        v = (v_crow if v_crow > 0 else np.inf, v_mean)
        net._cache["speeds_mps"] = v
    return v


def _assemble(
    search: _Search,
    src: Snap,
    edge: int,
    frac: float,
    a1,
    a2,
    direct: float,
    direct_edge: int,
    with_routes: bool,
    waived: ClosedRoads | None,
):
    """(road metres, coordinates or None, edges or None, metres inside waived closures).

    ``a1``/``a2``: (access node, seconds from the source to the target through it) via the
    edge's head and via its twin's head.
    """
    net, tgt = search.net, search.snap
    via1, via2 = a1[1], a2[1]
    L = net.length_m
    if direct <= min(via1, via2) and direct_edge >= 0:
        g = direct_edge
        pos_s = frac if g == edge else 1.0 - frac
        pos_t = tgt.fraction if g == tgt.edge else 1.0 - tgt.fraction
        dist = (pos_t - pos_s) * float(L[g])
        cm = waived.closed_m(g, pos_s, pos_t) if waived is not None else 0.0
        if not with_routes:
            return dist, None, None, cm
        return dist, [(src.lon, src.lat), (tgt.lon, tgt.lat)], (g,), cm
    if via1 <= via2:
        start, first_edge, first = int(a1[0]), int(edge), (frac, 1.0)
    else:
        start, first_edge, first = int(a2[0]), int(net.twin[edge]), (1.0 - frac, 1.0)
    first_m = (first[1] - first[0]) * float(L[first_edge])
    cm = waived.closed_m(first_edge, *first) if waived is not None else 0.0
    tree = search.tree
    if tree is not None and not with_routes:
        # many sources: metres and the root seed come from the whole search tree at once
        metres, root, _hop, closed = tree
        nodes = [int(root[start])]
        dist = first_m + float(metres[start])
        if waived is not None:
            cm += float(closed[start])
        hops = None
    else:
        nodes, hops = search.path(start)  # forward driving order: source side -> target side
        dist = first_m + float(L[hops].sum())
        if waived is not None:
            cm += float(waived.edge_closed_m()[hops].sum())
    last = nodes[-1]
    e, t = tgt.edge, tgt.fraction
    tw = int(net.twin[e])
    # the search tree's root child tells which seed (tail along e, or head along the twin) was used
    if last == int(net.tail[e]):
        last_edge, last_span = e, t
    else:
        last_edge, last_span = tw, 1.0 - t
    last_m = last_span * float(L[last_edge])
    if waived is not None:
        cm += waived.closed_m(last_edge, 0.0, last_span)
    dist += last_m
    if not with_routes:
        return dist, None, None, cm
    # the edges actually driven on: a point at a node does not drive its snapped edge
    driven = tuple([first_edge] * (first_m > 0) + np.asarray(hops, dtype=np.int64).tolist() + [int(last_edge)] * (last_m > 0))
    idx = np.asarray(nodes)
    coords = [(src.lon, src.lat), *zip(net.lon[idx].tolist(), net.lat[idx].tolist(), strict=False)]
    coords.append((tgt.lon, tgt.lat))
    # a point exactly at a node would repeat it
    return dist, [c for i, c in enumerate(coords) if i == 0 or c != coords[i - 1]], driven, cm


def route(
    net: RoadNetwork,
    origin: Snap,
    destination: Snap,
    *,
    blocked=None,
    offroad_kmh: float = DEFAULT_OFFROAD_KMH,
    shortcut: bool = True,
) -> Route | None:
    """Return the quickest Route from ``origin`` to ``destination``, or None when unreachable."""
    ranked = rank_sources(net, destination, {0: origin}, k=1, blocked=blocked, offroad_kmh=offroad_kmh, shortcut=shortcut)
    if not ranked:
        return None
    r = ranked[0]
    return Route(r.travel_s, r.distance_m, r.offroad_s, r.offroad_m, r.route, r.direct, r.closure_m)


def arrival_times(
    net: RoadNetwork,
    target: Snap,
    sources: Mapping[Hashable, Snap],
    *,
    extra_s: Mapping[Hashable, float] | None = None,
    blocked=None,
    offroad_kmh: float = DEFAULT_OFFROAD_KMH,
    shortcut: bool = True,
) -> dict[Hashable, float]:
    """Arrival seconds at ``target`` of every source (inf when unreachable), from one full search."""
    ranked = rank_sources(
        net,
        target,
        sources,
        k=len(sources),
        extra_s=extra_s,
        blocked=blocked,
        offroad_kmh=offroad_kmh,
        with_routes=False,
        with_distances=False,
        shortcut=shortcut,
    )
    out = dict.fromkeys(sources, INF)
    out.update({r.source: r.arrival_s for r in ranked})
    return out
