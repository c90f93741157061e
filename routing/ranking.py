"""Rank sources (resources) by arrival time at a target with one reverse shortest-path search."""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Hashable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from routing.network import RoadNetwork, haversine_m
from routing.snap import DEFAULT_OFFROAD_KMH, Snap

INF = float("inf")


@dataclass(frozen=True)
class Route:
    """A drive between two snapped points: on-road seconds/metres plus the off-road legs."""

    travel_s: float
    distance_m: float
    offroad_s: float
    offroad_m: float
    coordinates: list[tuple[float, float]]  # (lon, lat), from the source's road point to the target's

    @property
    def total_s(self) -> float:
        return self.travel_s + self.offroad_s

    def geojson(self) -> dict:
        """The route as a GeoJSON LineString geometry."""
        return {"type": "LineString", "coordinates": [list(c) for c in self.coordinates]}


@dataclass(frozen=True)
class Ranked:
    """One ranked source: ``arrival_s = extra_s + offroad_s + travel_s`` (seconds)."""

    source: Hashable
    arrival_s: float
    extra_s: float
    travel_s: float
    offroad_s: float
    distance_m: float  # on-road metres
    offroad_m: float  # both off-road legs, metres
    route: list[tuple[float, float]] | None  # (lon, lat) for a GeoJSON LineString
    edges: tuple[int, ...] | None = None  # road edges driven, in order (with routes only)

    def geojson(self) -> dict | None:
        if self.route is None:
            return None
        return {"type": "LineString", "coordinates": [list(c) for c in self.route]}


def blocked_mask(net: RoadNetwork, blocked) -> np.ndarray | None:
    """Normalise closures (bool mask or iterable of edge indices) to a mask, None if nothing closed."""
    if blocked is None:
        return None
    if isinstance(blocked, np.ndarray) and blocked.dtype == bool:
        if blocked.shape != (net.n_edges,):
            msg = f"blocked mask has shape {blocked.shape}, expected ({net.n_edges},)"
            raise ValueError(msg)
        return blocked if blocked.any() else None
    idx = np.fromiter((int(e) for e in blocked), dtype=np.int64)
    if idx.size == 0:
        return None
    mask = np.zeros(net.n_edges, dtype=bool)
    mask[idx] = True
    return mask


def _part(fraction: float, w: float) -> float:
    """Seconds for ``fraction`` of an edge taking ``w`` s; none of a closed (inf) edge costs 0."""
    return 0.0 if fraction == 0 else float(fraction * w)


class _Search:
    """One Dijkstra from a snapped point over the reversed (or forward) graph, grown on demand."""

    def __init__(self, net: RoadNetwork, snap: Snap, *, reverse: bool, blocked: np.ndarray | None) -> None:
        self.net, self.snap, self.reverse = net, snap, reverse
        self.blocked = blocked
        self.w = net._weights(blocked)
        matrix, self.lock, order = net._search_matrix(reverse=reverse)
        if blocked is not None:
            data = matrix.data.copy()
            data[: net.n_edges] = self.w if order is None else self.w[order]
            matrix = csr_matrix((data, matrix.indices, matrix.indptr), shape=matrix.shape)
        self.matrix = matrix
        e, t = snap.edge, snap.fraction
        tw = int(net.twin[e])
        # a point on edge e=u->v is reached from u along t of e, or from v along 1-t of its twin;
        # leaving it, one drives on to v, or back to u on the twin. A closed edge is closed even
        # partly: close the edges beside an incident, not the one it lies on.
        base_w = self.w
        if reverse:
            self.seeds = [(int(net.tail[e]), _part(t, base_w[e]))]
            if tw >= 0:
                self.seeds.append((int(net.head[e]), _part(1.0 - t, base_w[tw])))
        else:
            self.seeds = [(int(net.head[e]), _part(1.0 - t, base_w[e]))]
            if tw >= 0:
                self.seeds.append((int(net.tail[e]), _part(t, base_w[tw])))
        self.limit = 0.0
        self.dist: np.ndarray | None = None
        self.pred: np.ndarray | None = None
        self.tree: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def build_tree(self) -> None:
        """Per settled node: metres to its seed along the search tree, the seed, and the hop edge.

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
        nxt = np.arange(n, dtype=np.int64)
        nxt[x] = px
        s = settled
        while True:
            nn = nxt[s]
            if np.array_equal(nn, nxt[nn]):
                break
            metres[s] = metres[s] + metres[nn]
            nxt[s] = nxt[nn]
        self.tree = (metres, nxt, hop)

    def run(self, limit: float) -> None:
        n, m = self.net.n_nodes, self.net.n_edges
        with self.lock:
            ind, dat = self.matrix.indices, self.matrix.data
            for slot, (node, cost) in enumerate(self.seeds):
                ind[m + slot], dat[m + slot] = node, cost
            for slot in range(len(self.seeds), 2):
                ind[m + slot], dat[m + slot] = n, np.inf
            self.dist, self.pred = dijkstra(
                self.matrix, directed=True, indices=n, limit=limit, return_predecessors=True
            )
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


def _access(net: RoadNetwork, edges: np.ndarray, frac: np.ndarray, w: np.ndarray):
    """For points leaving along their edge: (node, seconds) via head, and via tail on the twin."""
    n1 = net.head[edges].astype(np.int64)
    # a point at the very end of a closed edge leaves it for free (0 x inf would be nan)
    with np.errstate(invalid="ignore"):
        c1 = np.where(frac == 1.0, 0.0, (1.0 - frac) * w[edges])
        tw = net.twin[edges]
        has = tw >= 0
        n2 = net.tail[edges].astype(np.int64)
        c2 = np.where(has, np.where(frac == 0.0, 0.0, frac * w[np.where(has, tw, 0)]), np.inf)
    return n1, c1, n2, c2


def _direct(net: RoadNetwork, edges: np.ndarray, frac: np.ndarray, target: Snap, w: np.ndarray) -> np.ndarray:
    """Seconds to drive straight along a shared road to the target (inf if not on its road)."""
    out = np.full(edges.shape[0], np.inf)
    e, t = target.edge, target.fraction
    te = int(net.twin[e])
    for g, pos_t in ((e, t), (te, 1.0 - t)):
        if g < 0:
            continue
        # source position along g: same edge -> its fraction, twin edge -> 1 - fraction
        pos_s = np.where(edges == g, frac, np.where((net.twin[edges] == g) & (edges != g), 1.0 - frac, np.nan))
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(pos_s) & (pos_t >= pos_s)
        gap = pos_t - np.nan_to_num(pos_s)
        with np.errstate(invalid="ignore"):
            cost = np.where(gap == 0, 0.0, gap * w[g])  # the same point costs nothing, even on a closed road
        out = np.where(ok, np.minimum(out, cost), out)
    return out


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
) -> list[Ranked]:
    """Return the ``k`` sources that can arrive first at ``target``, best first.

    ``with_routes`` may also be a collection of sources: routes only for those (one search gives
    every arrival, routes are rebuilt just for the ones shown). ``with_distances=False`` leaves
    ``distance_m`` as nan for sources without a route (their paths are then never walked).

    Arrival (s) = ``extra_s[source]`` (turnout) + off-road leg at the source + road travel
    + off-road leg at the target, driving from each source TO the target (one-ways respected).
    Unreachable sources are left out, so fewer than ``k`` may come back. ``blocked`` closes edges
    (bool mask or edge indices). Ties keep the order of ``sources``.
    """
    if k <= 0 or not sources:
        return []
    mask = blocked_mask(net, blocked)
    ids = list(sources)
    snaps = [sources[i] for i in ids]
    edges = np.fromiter((s.edge for s in snaps), dtype=np.int64, count=len(ids))
    frac = np.fromiter((s.fraction for s in snaps), dtype=np.float64, count=len(ids))
    off_m = np.fromiter((s.offroad_m for s in snaps), dtype=np.float64, count=len(ids))
    extra = np.zeros(len(ids)) if extra_s is None else np.fromiter(
        (float(extra_s.get(i, 0.0)) for i in ids), dtype=np.float64, count=len(ids)
    )
    v_off = offroad_kmh / 3.6
    off_target_s = target.offroad_m / v_off
    base = extra + off_m / v_off + off_target_s
    search = _Search(net, target, reverse=True, blocked=mask)
    n1, c1, n2, c2 = _access(net, edges, frac, search.w)
    direct = _direct(net, edges, frac, target, search.w)
    k = min(k, len(ids))

    # straight-line bounds: no road covers ground faster than the fastest edge does as the crow
    # flies, so base + crow / v_max is a lower bound on each arrival (2 % slack for the sphere)
    slat = np.fromiter((s.lat for s in snaps), dtype=np.float64, count=len(ids))
    slon = np.fromiter((s.lon for s in snaps), dtype=np.float64, count=len(ids))
    crow_m = haversine_m(slat, slon, target.lat, target.lon)
    v_crow, v_mean = _speeds_mps(net)
    geo_lb = base + 0.98 * crow_m / v_crow
    # first radius: where the k-th best arrival is expected, at the speed recent rankings on this
    # network actually achieved per straight-line metre (exactness never depends on the guess:
    # a short radius costs a second search, a long one settles nodes for nothing)
    cal = _calibration(net)
    est = base + cal.s_per_m(v_mean) * crow_m
    kth_est = float(np.partition(est, k - 1)[k - 1])
    threat = geo_lb < kth_est
    raw = max(kth_est - float((base + np.minimum(c1, c2))[threat].min()) if threat.any() else 0.0, 60.0)
    limit = raw * cal.scale()
    if k == len(ids):
        limit = INF  # every source asked for: one unbounded search beats growing the radius
    while True:
        search.run(limit)
        d = search.dist
        d1, d2 = d[n1], d[n2]
        val = base + np.minimum(np.minimum(c1 + d1, c2 + d2), direct)
        order = np.argsort(val, kind="stable")
        kth = float(val[order[k - 1]])
        # paths through unsettled access nodes cost at least base + access + limit (and never
        # less than the straight-line bound); extra_s differs per source, so this is per source
        unknown = np.minimum(np.where(np.isinf(d1), c1, np.inf), np.where(np.isinf(d2), c2, np.inf))
        goal = np.minimum(val, kth)
        short = (np.maximum(base + unknown + limit, geo_lb) < goal) & np.isfinite(unknown)
        if not short.any() or search.limit == INF:
            break
        if np.isfinite(kth):
            # values only improve as the radius grows, so this radius settles every doubt at once
            limit = max(float((goal - base - unknown)[short].max()), limit * 1.01)
        else:
            if search.exhausted():
                break
            limit *= 2.0
            if limit > 1e7:  # beyond ~4 months of driving nothing is "reachable"; finish in one go
                limit = INF
    if np.isfinite(kth) and k < len(ids):
        cal.learn(val, order[:k], base, crow_m, c1, c2, d1, d2, geo_lb, kth, raw)
    top = [int(i) for i in order[:k] if np.isfinite(val[i])]
    wanted = None if isinstance(with_routes, bool) else set(with_routes)
    if len(top) > 16 and (with_distances or wanted is not None):
        search.build_tree()
    out = []
    for i in top:
        routed = with_routes if wanted is None else ids[i] in wanted
        if routed or with_distances:
            route = _assemble(search, snaps[i], int(edges[i]), float(frac[i]), (n1[i], c1[i]), (n2[i], c2[i]), float(direct[i]), routed)
        else:
            route = (float("nan"), None, None)
        out.append(
            Ranked(
                source=ids[i], arrival_s=float(val[i]), extra_s=float(extra[i]),
                travel_s=float(val[i] - base[i]), offroad_s=float(base[i] - extra[i]),
                distance_m=route[0], offroad_m=float(off_m[i] + target.offroad_m), route=route[1],
                edges=route[2],
            )
        )
    return out


class _Calibration:
    """What recent rankings on one network needed, to aim the first search radius (speed only).

    ``spm``: seconds of road travel per straight-line metre of the top-k (median of recent
    queries); ``ratios``: radius that proved necessary / the radius estimated from ``spm``.
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

    def learn(self, val, top, base, crow_m, c1, c2, d1, d2, geo_lb, kth, raw) -> None:
        crow = crow_m[top]
        ok = crow > 100.0
        if ok.any():
            self.spm.append(float(np.median((val[top] - base[top])[ok] / crow[ok])))
            if len(self.spm) >= 4:
                self._spm = float(np.median(self.spm))
        # the radius this query needed: every access node that could still beat the k-th arrival
        with np.errstate(invalid="ignore"):
            r1 = np.minimum(d1, kth - base - c1)
            r2 = np.minimum(d2, kth - base - c2)
        need = np.fmax(np.where(np.isfinite(r1), r1, -1.0), np.where(np.isfinite(r2), r2, -1.0))
        need = need[geo_lb < kth]
        if need.size and raw > 0:
            self.ratios.append(max(float(need.max()), 0.0) / raw)
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


def _assemble(search: _Search, src: Snap, edge: int, frac: float, a1, a2, direct: float, with_routes: bool):
    """(distance_m, coordinates or None) of the best way from ``src`` to the search's target."""
    net, tgt = search.net, search.snap
    d = search.dist
    via1 = a1[1] + d[a1[0]]
    via2 = a2[1] + d[a2[0]]
    L = net.length_m
    if direct <= min(via1, via2):
        dist, driven = 0.0, int(edge)
        for g, pos_t in ((tgt.edge, tgt.fraction), (int(net.twin[tgt.edge]), 1.0 - tgt.fraction)):
            if g < 0:
                continue
            pos_s = frac if g == edge else (1.0 - frac if net.twin[edge] == g else None)
            if pos_s is not None and pos_t >= pos_s and abs(_part(pos_t - pos_s, search.w[g]) - direct) < 1e-9:
                dist, driven = (pos_t - pos_s) * float(L[g]), int(g)
                break
        if not with_routes:
            return dist, None, None
        return dist, [(src.lon, src.lat), (tgt.lon, tgt.lat)], (driven,)
    if via1 <= via2:
        start, first_m = int(a1[0]), (1.0 - frac) * float(L[edge])
    else:
        start, first_m = int(a2[0]), frac * float(L[int(net.twin[edge])])
    tree = search.tree
    if tree is not None and not with_routes:
        # many sources: metres and the root seed come from the whole search tree at once
        metres, root, _hop = tree
        nodes = [int(root[start])]
        dist = first_m + float(metres[start])
    else:
        nodes = search.path_nodes(start)  # forward driving order: source side -> target side
        hops = _hop_edges(search, nodes)
        dist = first_m + float(L[hops].sum())
    last = nodes[-1]
    e, t = tgt.edge, tgt.fraction
    tw = int(net.twin[e])
    # the search tree's root child tells which seed (tail along e, or head along the twin) was used
    if last == int(net.tail[e]):
        last_m = t * float(L[e])
        last_edge = e
    else:
        last_m = (1.0 - t) * float(L[tw])
        last_edge = tw
    dist += last_m
    if not with_routes:
        return dist, None, None
    first_edge = edge if via1 <= via2 else int(net.twin[edge])
    # the edges actually driven on: a point at a node does not drive its snapped edge
    driven = tuple([int(first_edge)] * (first_m > 0) + np.asarray(hops, dtype=np.int64).tolist() + [int(last_edge)] * (last_m > 0))
    idx = np.asarray(nodes)
    coords = [(src.lon, src.lat), *zip(net.lon[idx].tolist(), net.lat[idx].tolist())]
    coords.append((tgt.lon, tgt.lat))
    # a point exactly at a node would repeat it
    return dist, [c for i, c in enumerate(coords) if i == 0 or c != coords[i - 1]], driven


def route(
    net: RoadNetwork,
    origin: Snap,
    destination: Snap,
    *,
    blocked=None,
    offroad_kmh: float = DEFAULT_OFFROAD_KMH,
) -> Route | None:
    """Return the fastest Route from ``origin`` to ``destination``, or None when unreachable."""
    ranked = rank_sources(net, destination, {0: origin}, k=1, blocked=blocked, offroad_kmh=offroad_kmh)
    if not ranked:
        return None
    r = ranked[0]
    return Route(r.travel_s, r.distance_m, r.offroad_s, r.offroad_m, r.route)


def arrival_times(
    net: RoadNetwork,
    target: Snap,
    sources: Mapping[Hashable, Snap],
    *,
    extra_s: Mapping[Hashable, float] | None = None,
    blocked=None,
    offroad_kmh: float = DEFAULT_OFFROAD_KMH,
) -> dict[Hashable, float]:
    """Arrival seconds at ``target`` of every source (inf when unreachable), from one full search."""
    ranked = rank_sources(
        net, target, sources, k=len(sources), extra_s=extra_s, blocked=blocked,
        offroad_kmh=offroad_kmh, with_routes=False,
    )
    out = dict.fromkeys(sources, INF)
    out.update({r.source: r.arrival_s for r in ranked})
    return out

