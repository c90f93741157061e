"""Coverage: earliest arrival at each target from any source (one multi-source forward search)."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from routing.closures import ClosedRoads
from routing.network import RoadNetwork, haversine_m
from routing.ranking import _access, _direct, _points
from routing.snap import DEFAULT_OFFROAD_KMH, Snap


@dataclass(frozen=True)
class Cover:
    """Earliest arrival (s) at ``target`` and the ``source`` achieving it (None: nobody reaches it)."""

    target: Hashable
    arrival_s: float
    source: Hashable | None


def coverage(
    net: RoadNetwork,
    targets: Mapping[Hashable, Snap],
    sources: Mapping[Hashable, Snap],
    *,
    extra_s: Mapping[Hashable, float] | None = None,
    exclude: Iterable[Hashable] = (),
    blocked=None,
    offroad_kmh: float = DEFAULT_OFFROAD_KMH,
    shortcut: bool = True,
) -> list[Cover]:
    """Return, per target, the earliest arrival over all sources not in ``exclude``.

    Each source starts at ``extra_s`` (turnout) + its off-road leg, so one forward search from a
    virtual node linked to every source gives all targets at once. ``shortcut``: a straight
    off-road leg counts when quicker (as in ``rank_groups``). Closures apply in full here (no
    waiver for targets inside one: a coverage map shows what closures cut off).
    """
    excluded = set(exclude)
    ids = [i for i in sources if i not in excluded]
    keys = list(targets)
    if not ids:
        return [Cover(t, float("inf"), None) for t in keys]
    v_off = offroad_kmh / 3.6
    snaps = [sources[i] for i in ids]
    edges = np.array([s.edge for s in snaps], dtype=np.int64)
    frac = np.array([s.fraction for s in snaps])
    base = np.array([(extra_s or {}).get(i, 0.0) for i in ids], dtype=np.float64)
    base += np.array([s.offroad_m for s in snaps]) / v_off
    closed = ClosedRoads.of(net, blocked)
    w = closed.weights() if closed is not None else net.travel_time_s
    W = net.travel_time_s
    n1, c1, n2, c2 = _access(net, edges, frac, closed)
    extra = np.array([(extra_s or {}).get(i, 0.0) for i in ids], dtype=np.float64)
    plat, plon = _points(snaps)
    node = np.concatenate([n1, n2])
    cost = np.concatenate([base + c1, base + c2])
    owner = np.concatenate([np.arange(len(ids)), np.arange(len(ids))])
    ok = np.isfinite(cost)
    node, cost, owner = node[ok], cost[ok], owner[ok]
    # one virtual edge per distinct start node, from the source that starts there earliest
    order = np.lexsort((owner, cost, node))
    first = np.r_[True, node[order][1:] != node[order][:-1]]
    node, cost, owner = node[order][first], cost[order][first], owner[order][first]
    seed_owner = dict(zip(node.tolist(), owner.tolist(), strict=False))

    n, m = net.n_nodes, net.n_edges
    indptr = np.concatenate([net.fwd_ptr, [m + node.shape[0]]])
    indices = np.concatenate([net.head, node]).astype(np.int64)
    data = np.concatenate([w, cost])
    graph = csr_matrix((data, indices, indptr), shape=(n + 1, n + 1))
    dist, pred = dijkstra(graph, directed=True, indices=n, return_predecessors=True)

    out = []
    for key in keys:
        t = targets[key]
        e, tw = t.edge, int(net.twin[t.edge])
        off_t = t.offroad_m / v_off
        tail, head = int(net.tail[e]), int(net.head[e])
        options = []
        if closed is None or closed.is_open(e, 0.0, t.fraction):
            options.append((dist[tail] + t.fraction * W[e], tail))
        if tw >= 0 and (closed is None or closed.is_open(tw, 0.0, 1.0 - t.fraction)):
            options.append((dist[head] + (1.0 - t.fraction) * W[tw], head))
        if not options:
            options.append((np.inf, tail))
        best, via = min(options, key=lambda o: o[0])
        source = None
        if np.isfinite(best):
            x = via
            while int(pred[x]) != n:  # walk the tree back to the start node next to the virtual root
                x = int(pred[x])
            source = ids[seed_owner[x]]
        direct = base + _direct(net, edges, frac, t, closed)[0] + off_t
        if shortcut:
            with np.errstate(invalid="ignore"):
                cross = extra + haversine_m(plat, plon, t.point_lat, t.point_lon) / v_off
            direct = np.fmin(direct, np.where(np.isfinite(cross), cross, np.inf))
        best = best + off_t
        j = int(np.argmin(direct))
        if direct[j] < best:
            best, source = float(direct[j]), ids[j]
        out.append(Cover(key, float(best) if source is not None else float("inf"), source))
    return out


def lost_cover(before: list[Cover], after: list[Cover], *, threshold_s: float) -> list[Hashable]:
    """Targets reached within ``threshold_s`` in ``before`` but not in ``after``."""
    after_by = {c.target: c for c in after}
    return [
        c.target
        for c in before
        if c.arrival_s <= threshold_s and after_by.get(c.target, Cover(c.target, float("inf"), None)).arrival_s > threshold_s
    ]
