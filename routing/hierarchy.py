"""Contraction hierarchy of a road network: exact times from many road nodes to one scene.

Built once per network (Geisberger et al., "Contraction Hierarchies", 2008): nodes are contracted
one by one, least important first, and a shortcut replaces every shortest path through a
contracted node, so each distance is the meeting of two small upward searches. ``to_target``
answers the driving time from many nodes to one point of a road with one backward upward search
from the scene and one pass over each node's forward search space (kept between queries: the
"buckets" of many-to-one queries). The answers are a Dijkstra's, summed in another order (equal to
~1e-9 s). It holds the free-flowing network only: a ranking with blocking closures searches live,
so a closure never needs a rebuild.

The loops run compiled (numba, without the GIL, so a build in a background thread does not stall
requests).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit

from routing.network import RoadNetwork

log = logging.getLogger(__name__)

INF = np.inf
FILE_VERSION = 2
#: Networks up to this many edges get their hierarchy in the first query that wants one (well under
#: a second); larger ones build it in a background thread, and queries search live meanwhile.
SYNC_BUILD_EDGES = 200_000
#: Forward search spaces kept (entries of node, seconds, edge); beyond it they are dropped and
#: recomputed on demand (a space is a few hundred entries, computed in microseconds).
SPACE_BUDGET = 8_000_000
_WITNESS_SETTLE_SIM = 60  # settled nodes per witness search when estimating a node's cost
_WITNESS_SETTLE = 400  # ... and when contracting it (a missed witness only adds a shortcut)


# ------------------------------------------------------------------------------------------ heaps
@njit(inline="always")
def _push(hk, hv, size, key, val):
    i = size
    while i > 0:
        p = (i - 1) >> 1
        if hk[p] <= key:
            break
        hk[i] = hk[p]
        hv[i] = hv[p]
        i = p
    hk[i] = key
    hv[i] = val
    return size + 1


@njit(inline="always")
def _pop(hk, hv, size):
    key = hk[0]
    val = hv[0]
    size -= 1
    if size > 0:
        lk = hk[size]
        lv = hv[size]
        i = 0
        while True:
            c = 2 * i + 1
            if c >= size:
                break
            if c + 1 < size and hk[c + 1] < hk[c]:
                c += 1
            if hk[c] >= lk:
                break
            hk[i] = hk[c]
            hv[i] = hv[c]
            i = c
        hk[i] = lk
        hv[i] = lv
    return key, val, size


# ------------------------------------------------------------------------------------ contraction
# The graph while contracting is one tuple G: an edge pool (es, et, ew: tail, head, seconds;
# first, second: the two edges a shortcut replaces, -1 for a road; count[0] edges used) and each
# live node's out- and in-edges as runs of an adjacency pool (neighbour, seconds, edge), so a
# search scans memory in order. A run that fills up moves to the pool's end with twice the room.
# S is the scratch of the witness searches.


@njit(cache=True, nogil=True)
def _append(G, v, side, nbr, w, eid):
    """Add (nbr, w, eid) to v's out- (side 0) or in-run (side 1); False when the pool is full."""
    _es, _et, _ew, _first, _second, _count, at, ln, cp, anbr, aw, aeid, top = G
    k = 2 * v + side
    if ln[k] == cp[k]:
        size = max(4, 2 * cp[k])
        if top[0] + size > anbr.shape[0]:
            return False
        new = top[0]
        for i in range(ln[k]):
            anbr[new + i] = anbr[at[k] + i]
            aw[new + i] = aw[at[k] + i]
            aeid[new + i] = aeid[at[k] + i]
        at[k] = new
        cp[k] = size
        top[0] += size
    j = at[k] + ln[k]
    anbr[j] = nbr
    aw[j] = w
    aeid[j] = eid
    ln[k] += 1
    return True


@njit(cache=True, nogil=True)
def _remove(G, v, side, eid):
    """Drop edge ``eid`` from v's out- (0) or in-run (1)."""
    _es, _et, _ew, _first, _second, _count, at, ln, _cp, anbr, aw, aeid, _top = G
    k = 2 * v + side
    last = at[k] + ln[k] - 1
    for j in range(at[k], last + 1):
        if aeid[j] == eid:
            anbr[j] = anbr[last]
            aw[j] = aw[last]
            aeid[j] = aeid[last]
            ln[k] -= 1
            return


@njit(cache=True, nogil=True)
def _witness(G, S, src, skip, limit, max_settle, targets):
    """Dijkstra from ``src`` avoiding ``skip`` until its ``targets`` marked nodes are settled (or
    ``limit`` seconds, or ``max_settle`` settled nodes); fills ``wdist``; returns nodes touched
    (the caller resets them)."""
    _es, _et, _ew, _first, _second, _count, at, ln, _cp, anbr, aw, _aeid, _top = G
    wdist, touched, hk, hv, mark, sid = S
    wdist[src] = 0.0
    touched[0] = src
    nt = 1
    size = _push(hk, hv, 0, 0.0, src)
    settled = 0
    while size > 0:
        d, u, size = _pop(hk, hv, size)
        if d > wdist[u]:
            continue
        if mark[u] == sid[0]:
            targets -= 1
            if targets == 0:
                break
        settled += 1
        if settled > max_settle:
            break
        k = 2 * u
        for j in range(at[k], at[k] + ln[k]):
            x = anbr[j]
            nd = d + aw[j]
            if x != skip and nd <= limit and nd < wdist[x]:
                if wdist[x] == INF:
                    touched[nt] = x
                    nt += 1
                wdist[x] = nd
                size = _push(hk, hv, size, nd, x)
    return nt


@njit(cache=True, nogil=True)
def _add_edge(G, a, b, w, e1, e2):
    """Add shortcut a->b for e1 then e2 (or lower the existing a->b); False when a pool is full."""
    es, et, ew, first, second, count, at, ln, _cp, anbr, aw, aeid, _top = G
    k = 2 * a
    for j in range(at[k], at[k] + ln[k]):
        if anbr[j] == b:
            if w < aw[j]:
                e = aeid[j]
                aw[j] = w
                ew[e] = w
                first[e] = e1
                second[e] = e2
                kb = 2 * b + 1
                for i in range(at[kb], at[kb] + ln[kb]):
                    if aeid[i] == e:
                        aw[i] = w
            return True
    e = count[0]
    if e >= es.shape[0]:
        return False
    es[e] = a
    et[e] = b
    ew[e] = w
    first[e] = e1
    second[e] = e2
    count[0] = e + 1
    return _append(G, a, 0, b, w, e) and _append(G, b, 1, a, w, e)


@njit(cache=True, nogil=True)
def _shortcuts(G, S, v, add, settle):
    """How many shortcuts contracting ``v`` needs (added when ``add``); -1 when a pool is full."""
    _es, _et, _ew, _first, _second, _count, at, ln, _cp, anbr, aw, aeid, _top = G
    wdist, touched, _hk, _hv, mark, sid = S
    made = 0
    ko, ki = 2 * v, 2 * v + 1
    # adding shortcuts never touches v's own runs (v is no end of them), so indices stay valid
    for i in range(at[ki], at[ki] + ln[ki]):
        a, wa, ei = anbr[i], aw[i], aeid[i]
        limit = -1.0
        targets = 0
        sid[0] += 1
        for j in range(at[ko], at[ko] + ln[ko]):
            b = anbr[j]
            if b != a:
                limit = max(limit, wa + aw[j])
                if mark[b] != sid[0]:
                    mark[b] = sid[0]
                    targets += 1
        if targets == 0:
            continue
        nt = _witness(G, S, a, v, limit, settle, targets)
        full = False
        for j in range(at[ko], at[ko] + ln[ko]):
            b = anbr[j]
            c = wa + aw[j]
            if b != a and wdist[b] > c:  # no other path as quick: the shortcut is needed
                made += 1
                if add and not _add_edge(G, a, b, c, ei, aeid[j]):
                    full = True
                    break
        for t in range(nt):
            wdist[touched[t]] = INF
        if full:
            return -1
    return made


@njit(cache=True, nogil=True)
def _priority(G, S, v, deleted, level):
    """Edge difference (shortcuts made minus edges removed) + contracted neighbours + level."""
    ln = G[7]
    removed = ln[2 * v] + ln[2 * v + 1]
    return 4.0 * (_shortcuts(G, S, v, False, _WITNESS_SETTLE_SIM) - removed) + deleted[v] + level[v]


@njit(cache=True, nogil=True)
def _contract(n, es, et, ew, first, second, count, pool):
    """Contract every node; returns each node's rank (contraction order), or an empty array when
    a pool ran out (the caller retries with larger ones)."""
    cap = es.shape[0]
    deg = np.zeros(2 * n, np.int64)
    for e in range(count[0]):
        deg[2 * es[e]] += 1
        deg[2 * et[e] + 1] += 1
    cp = np.maximum(2 * deg, 4)
    at = np.zeros(2 * n, np.int64)
    for k in range(1, 2 * n):
        at[k] = at[k - 1] + cp[k - 1]
    top = np.array([at[2 * n - 1] + cp[2 * n - 1]], np.int64)
    if top[0] > pool:
        return np.empty(0, np.int64)
    ln = np.zeros(2 * n, np.int64)
    G = (
        es,
        et,
        ew,
        first,
        second,
        count,
        at,
        ln,
        cp,
        np.empty(pool, np.int64),
        np.empty(pool, np.float64),
        np.empty(pool, np.int64),
        top,
    )
    for e in range(count[0]):
        _append(G, es[e], 0, et[e], ew[e], e)
        _append(G, et[e], 1, es[e], ew[e], e)
    S = (
        np.full(n, INF),
        np.empty(n, np.int64),
        np.empty(cap, np.float64),
        np.empty(cap, np.int64),
        np.zeros(n, np.int64),
        np.zeros(1, np.int64),
    )
    contracted = np.zeros(n, np.bool_)
    deleted = np.zeros(n, np.float64)
    level = np.zeros(n, np.float64)
    prio = np.empty(n, np.float64)
    qk = np.empty(n, np.float64)
    qv = np.empty(n, np.int64)
    qsize = 0
    for v in range(n):
        prio[v] = _priority(G, S, v, deleted, level)
        qsize = _push(qk, qv, qsize, prio[v], v)
    rank = np.full(n, -1, np.int64)
    fresh = np.ones(n, np.bool_)  # priority computed since its neighbourhood last changed
    r = 0
    while qsize > 0:
        _key, v, qsize = _pop(qk, qv, qsize)
        if not fresh[v]:
            p = _priority(G, S, v, deleted, level)
            fresh[v] = True
            if qsize > 0 and p > qk[0]:
                prio[v] = p  # its cost went up since it was queued: queue it again (lazy update)
                qsize = _push(qk, qv, qsize, p, v)
                continue
        if _shortcuts(G, S, v, True, _WITNESS_SETTLE) < 0:
            return np.empty(0, np.int64)
        contracted[v] = True
        rank[v] = r
        r += 1
        # its edges leave the remaining graph, so later scans never see them
        ko, ki = 2 * v, 2 * v + 1
        for j in range(at[ko], at[ko] + ln[ko]):
            x = G[9][j]
            _remove(G, x, 1, G[11][j])
            fresh[x] = False
            deleted[x] += 1.0
            level[x] = max(level[x], level[v] + 1.0)
        for j in range(at[ki], at[ki] + ln[ki]):
            x = G[9][j]
            _remove(G, x, 0, G[11][j])
            fresh[x] = False
            deleted[x] += 1.0
            level[x] = max(level[x], level[v] + 1.0)
    return rank


# ---------------------------------------------------------------------------------------- queries
@njit(cache=True, nogil=True)
def _upward(seeds, seed_d, ptr, nbr, w, eid, sptr, snbr, sw, dist, pred, touched, hk, hv):
    """Dijkstra over the upward edges ``ptr/nbr/w`` with stall-on-demand over ``sptr/snbr/sw``
    (the edges coming down into a node); fills ``dist`` and ``pred`` (the edge used, -1 at a
    seed) and returns how many nodes it touched (the caller resets them)."""
    nt = 0
    size = 0
    for i in range(seeds.shape[0]):
        s, d = seeds[i], seed_d[i]
        if d < dist[s]:
            if dist[s] == INF:
                touched[nt] = s
                nt += 1
            dist[s] = d
            pred[s] = -1
            size = _push(hk, hv, size, d, s)
    while size > 0:
        d, u, size = _pop(hk, hv, size)
        if d > dist[u]:
            continue
        stalled = False
        for j in range(sptr[u], sptr[u + 1]):
            if dist[snbr[j]] + sw[j] < d:  # a higher node reaches u quicker: u is not on a shortest up-path
                stalled = True
                break
        if stalled:
            continue
        for j in range(ptr[u], ptr[u + 1]):
            x = nbr[j]
            nd = d + w[j]
            if nd < dist[x]:
                if dist[x] == INF:
                    touched[nt] = x
                    nt += 1
                dist[x] = nd
                pred[x] = eid[j]
                size = _push(hk, hv, size, nd, x)
    return nt


@njit(cache=True, nogil=True)
def _fill(nodes, done, ptr, nbr, w, eid, sptr, snbr, sw, dist, pred, touched, hk, hv, pnode, pdist, ppred, used, lo, hi):
    """Forward spaces of ``nodes[done:]`` appended to the pool; stops early when it is full.
    Returns (nodes done, pool entries used)."""
    one = np.zeros(1, np.int64)
    zero = np.zeros(1)
    for q in range(done, nodes.shape[0]):
        x = nodes[q]
        one[0] = x
        nt = _upward(one, zero, ptr, nbr, w, eid, sptr, snbr, sw, dist, pred, touched, hk, hv)
        fits = used + nt <= pnode.shape[0]
        if fits:
            lo[x] = used
            for i in range(nt):
                y = touched[i]
                pnode[used] = y
                pdist[used] = dist[y]
                ppred[used] = pred[y]
                used += 1
            hi[x] = used
        for i in range(nt):
            dist[touched[i]] = INF
            pred[touched[i]] = -1
        if not fits:
            return q, used
    return nodes.shape[0], used


@njit(cache=True, nogil=True)
def _join(lo, hi, pool_node, pool_dist, bdist, out_d, out_j):
    """Per query node: min over its forward space of (seconds up to a node + that node's seconds
    to the target), and the entry where that minimum meets."""
    for q in range(lo.shape[0]):
        best = INF
        bj = -1
        for j in range(lo[q], hi[q]):
            d = pool_dist[j] + bdist[pool_node[j]]
            if d < best:
                best = d
                bj = j
        out_d[q] = best
        out_j[q] = bj


@njit(cache=True, nogil=True)
def _unpack(lo, hi, meet, pool_node, pool_pred, bpred, es, et, first, second):
    """Road nodes of the path from the space's start node to the target's seed node."""
    up = []
    j = meet
    while pool_pred[j] >= 0:
        e = pool_pred[j]
        up.append(e)
        a = es[e]
        for i in range(lo, hi):
            if pool_node[i] == a:
                j = i
                break
    chain = up[::-1]
    u = pool_node[meet]
    while bpred[u] >= 0:
        chain.append(bpred[u])
        u = et[bpred[u]]
    out = [pool_node[lo]]
    stack = []
    for k in range(len(chain) - 1, -1, -1):
        stack.append(chain[k])
    while len(stack) > 0:
        e = stack.pop()
        if first[e] < 0:
            out.append(et[e])
        else:
            stack.append(second[e])
            stack.append(first[e])
    return np.array(out, dtype=np.int64)


def _contract_network(net: RoadNetwork):
    """(tail, head, seconds, first, second of every edge with shortcuts; each node's rank; the
    network edge of each road edge, -1 for a shortcut; how many road edges)."""
    n = net.n_nodes
    tail, head, w = net.tail.astype(np.int64), net.head.astype(np.int64), net.travel_time_s.astype(np.float64)
    keep = (tail != head) & np.isfinite(w)
    tail, head, w = tail[keep], head[keep], w[keep]
    order = np.lexsort((w, head, tail))  # parallel roads: the quickest of them
    tail, head, w = tail[order], head[order], w[order]
    first_of = np.r_[True, (tail[1:] != tail[:-1]) | (head[1:] != head[:-1])]
    tail, head, w = tail[first_of], head[first_of], w[first_of]
    road = np.flatnonzero(keep)[order][first_of]  # the network edge each of these is
    m = tail.shape[0]
    cap = max(3 * m, 1024)
    while True:
        es = np.empty(cap, np.int64)
        et = np.empty(cap, np.int64)
        ew = np.empty(cap, np.float64)
        first = np.full(cap, -1, np.int64)
        second = np.full(cap, -1, np.int64)
        es[:m], et[:m], ew[:m] = tail, head, w
        count = np.array([m], np.int64)
        rank = _contract(n, es, et, ew, first, second, count, 4 * cap)
        if rank.shape[0] == n:
            break
        cap *= 2
    k = int(count[0])
    roads = np.full(k, -1, np.int64)
    roads[:m] = road
    return es[:k].copy(), et[:k].copy(), ew[:k].copy(), first[:k].copy(), second[:k].copy(), rank, roads, m


def fingerprint(net: RoadNetwork) -> str:
    """Identifies a network's graph and travel times (all a hierarchy depends on)."""
    h = hashlib.sha1()
    for a in (net.tail, net.head, net.travel_time_s):
        h.update(np.ascontiguousarray(a).tobytes())
    return f"{net.n_nodes}-{net.n_edges}-{h.hexdigest()[:20]}"


@njit(cache=True, nogil=True)
def _unpack_many(lo, hi, meet, pool_node, pool_pred, bpred, es, et, first, second):
    """``_unpack`` for several queries at once: (all their road nodes, where each path starts)."""
    parts = [_unpack(lo[q], hi[q], meet[q], pool_node, pool_pred, bpred, es, et, first, second) for q in range(meet.shape[0])]
    starts = np.zeros(len(parts) + 1, np.int64)
    for q in range(len(parts)):
        starts[q + 1] = starts[q] + parts[q].shape[0]
    out = np.empty(starts[-1], np.int64)
    for q in range(len(parts)):
        out[starts[q] : starts[q + 1]] = parts[q]
    return out, starts


@njit(cache=True, nogil=True)
def _dirty(mask, road, first, second, nesting):
    """Per edge: does it (or what it stands for) drive a masked network edge? ``nesting``: the
    shortcuts, each after the ones it is made of."""
    d = np.zeros(first.shape[0], np.bool_)
    for e in range(first.shape[0]):
        if first[e] < 0:
            d[e] = mask[road[e]]
    for i in range(nesting.shape[0]):
        e = nesting[i]
        d[e] = d[first[e]] or d[second[e]]
    return d


@njit(cache=True, nogil=True)
def _clean(lo, hi, meet, pool_node, pool_pred, bpred, es, et, dirty, out):
    """Per query node: does its quickest path avoid every dirty edge?"""
    for q in range(meet.shape[0]):
        j = meet[q]
        ok = True
        if j >= 0:
            u = pool_node[j]
            while ok and pool_pred[j] >= 0:
                e = pool_pred[j]
                ok = not dirty[e]
                for i in range(lo[q], hi[q]):
                    if pool_node[i] == es[e]:
                        j = i
                        break
            while ok and bpred[u] >= 0:
                ok = not dirty[bpred[u]]
                u = et[bpred[u]]
        out[q] = ok


# -------------------------------------------------------------------------------------- the class
@dataclass(frozen=True)
class Stats:
    """How the hierarchy was built: seconds, nodes, road edges in, edges with shortcuts."""

    build_s: float
    nodes: int
    edges: int
    shortcuts: int


class Hierarchy:
    """A network's contraction hierarchy with the forward search spaces queried so far.

    ``to_target(seeds, nodes)`` -> seconds from each of ``nodes`` to the target reached through
    ``seeds`` ((node, seconds from it to the target) pairs), inf when unreachable, and a handle
    for ``path(i)``: the road nodes of node ``i``'s quickest path, ending at the seed used.
    Thread-safe: queries share scratch arrays under one lock (each takes well under a millisecond).
    """

    def __init__(self, net: RoadNetwork) -> None:
        t0 = time.perf_counter()
        es, et, ew, first, second, rank, road, m = _contract_network(net)
        self._setup(net, es, et, ew, first, second, rank, road, m, time.perf_counter() - t0)

    @classmethod
    def load(cls, path: str | Path, net: RoadNetwork) -> Hierarchy | None:
        """A hierarchy saved by ``save`` for this very network (None if the file is for another)."""
        with np.load(path, allow_pickle=False) as z:
            if int(z["version"][0]) != FILE_VERSION or str(z["network"][0]) != fingerprint(net):
                return None
            arrays = [z[k] for k in ("es", "et", "ew", "first", "second", "rank", "road")]
            m, build_s = int(z["edges"][0]), float(z["build_s"][0])
        h = cls.__new__(cls)
        h._setup(net, *arrays, m, build_s)
        return h

    def save(self, path: str | Path) -> None:
        """Write it as an uncompressed .npz, atomically (a worker never reads half a file)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(
            tmp,
            version=np.array([FILE_VERSION]),
            network=np.array([self.network]),
            edges=np.array([self.stats.edges]),
            build_s=np.array([self.stats.build_s]),
            es=self.es,
            et=self.et,
            ew=self.ew,
            first=self.first,
            second=self.second,
            rank=self.rank,
            road=self.road,
        )
        tmp.replace(path)

    def _setup(self, net: RoadNetwork, es, et, ew, first, second, rank, road, m: int, build_s: float) -> None:
        n, k = net.n_nodes, es.shape[0]
        self.network = fingerprint(net)
        self.es, self.et, self.ew, self.first, self.second, self.rank = es, et, ew, first, second, rank
        self.road = road
        self._nesting: np.ndarray | None = None
        up = rank[et] > rank[es]
        # forward upward: edges a->b to a higher b, listed at a; their reverse, listed at b, is
        # what a backward search climbs and a forward search stalls on
        self.up = _csr(n, es[up], et[up], ew[up], np.flatnonzero(up))
        dn = ~up
        self.down = _csr(n, et[dn], es[dn], ew[dn], np.flatnonzero(dn))
        self.n = n
        self._lock = threading.Lock()
        self._dist = np.full(n, INF)
        self._pred = np.full(n, -1, np.int64)
        self._bdist = np.full(n, INF)
        self._bpred = np.full(n, -1, np.int64)
        self._touched = np.empty(n, np.int64)
        self._hk = np.empty(k + n + 4, np.float64)
        self._hv = np.empty(k + n + 4, np.int64)
        self._lo = np.full(n, -1, np.int64)  # each node's forward space: pool[lo:hi], -1 if not kept
        self._hi = np.full(n, -1, np.int64)
        self._pool_node = np.empty(1 << 16, np.int64)
        self._pool_dist = np.empty(1 << 16, np.float64)
        self._pool_pred = np.empty(1 << 16, np.int64)
        self._pool_used = 0
        self._epoch = 0
        self.stats = Stats(build_s, n, m, k - m)

    # ------------------------------------------------------------------------------- spaces
    def _spans(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where each node's forward space lies in the pool, computing the missing ones."""
        missing = np.unique(nodes[self._lo[nodes] < 0])
        done = 0
        while done < missing.shape[0]:
            ptr, nbr, w, eid = self.up
            sptr, snbr, sw, _ = self.down
            done, self._pool_used = _fill(
                missing,
                done,
                ptr,
                nbr,
                w,
                eid,
                sptr,
                snbr,
                sw,
                self._dist,
                self._pred,
                self._touched,
                self._hk,
                self._hv,
                self._pool_node,
                self._pool_dist,
                self._pool_pred,
                self._pool_used,
                self._lo,
                self._hi,
            )
            if done < missing.shape[0]:  # the pool is full: twice the room, then go on
                for name in ("_pool_node", "_pool_dist", "_pool_pred"):
                    old = getattr(self, name)
                    new = np.empty(2 * old.shape[0], old.dtype)
                    new[: self._pool_used] = old[: self._pool_used]
                    setattr(self, name, new)
        return self._lo[nodes], self._hi[nodes]

    def _forget_spaces(self) -> None:
        self._lo[:] = -1
        self._hi[:] = -1
        self._pool_used = 0
        self._epoch += 1

    # ------------------------------------------------------------------------------ queries
    def warm(self) -> None:
        """Run every query once (compiles them on a fresh install, before the first real query)."""
        node = np.zeros(1, dtype=np.int64)
        _d, paths, _clean = self.to_target([(0, 0.0)], node, dirty=self.dirty(np.zeros(self.road.max() + 1, dtype=bool)))
        paths.many(node)
        paths(0)
        self._forget_spaces()

    def dirty(self, mask: np.ndarray) -> np.ndarray:
        """Per edge of the hierarchy: does it drive any network edge of ``mask`` (e.g. closed)?"""
        if self._nesting is None:
            sc = np.flatnonzero(self.first >= 0)
            self._nesting = sc[np.argsort(self.rank[self.et[self.first[sc]]], kind="stable")]
        return _dirty(np.asarray(mask, dtype=np.bool_), self.road, self.first, self.second, self._nesting)

    def to_target(
        self, seeds: list[tuple[int, float]], nodes: np.ndarray, dirty: np.ndarray | None = None
    ) -> tuple[np.ndarray, _Paths, np.ndarray | None]:
        """(seconds from each of ``nodes`` to the target, their paths: see ``_Paths``, and with
        ``dirty`` (see ``dirty``) whether each quickest path avoids every dirty edge)."""
        nodes = np.asarray(nodes, dtype=np.int64)
        seed_n = np.array([s for s, d in seeds if np.isfinite(d)], np.int64)
        seed_d = np.array([d for s, d in seeds if np.isfinite(d)], np.float64)
        with self._lock:
            ptr, nbr, w, eid = self.down
            sptr, snbr, sw, _ = self.up
            nt = _upward(
                seed_n, seed_d, ptr, nbr, w, eid, sptr, snbr, sw, self._bdist, self._bpred, self._touched, self._hk, self._hv
            )
            back = self._touched[:nt].copy()
            if self._pool_used > SPACE_BUDGET:  # a bound on memory: refilled in a few ms
                self._forget_spaces()
            try:
                uniq, inverse = np.unique(nodes, return_inverse=True)
                d, meet, lo, hi = self._join(uniq)
                paths = _Paths(
                    self, uniq[inverse], back, self._bdist[back], self._bpred[back], meet[inverse], lo[inverse], hi[inverse]
                )
                clean = None
                if dirty is not None:
                    clean = np.empty(uniq.shape[0], dtype=np.bool_)
                    _clean(lo, hi, meet, self._pool_node, self._pool_pred, self._bpred, self.es, self.et, dirty, clean)
                    clean = clean[inverse]
                return d[inverse], paths, clean
            finally:
                self._bdist[back] = INF
                self._bpred[back] = -1

    def _join(self, nodes: np.ndarray):
        """(seconds, meeting entry, space start, space end) per node, from the backward search."""
        lo, hi = self._spans(nodes)
        d = np.empty(nodes.shape[0])
        meet = np.empty(nodes.shape[0], np.int64)
        _join(lo, hi, self._pool_node, self._pool_dist, self._bdist, d, meet)
        return d, meet, lo, hi


class _Paths:
    """The quickest road path of each node of one ``to_target`` query, unpacked on demand.

    ``paths(i)``: road nodes from ``nodes[i]`` to the seed it reached the target through, in
    driving order ([] when unreachable). Keeps the query's backward search; forward spaces are
    looked up again if the pool was emptied since.
    """

    def __init__(self, h: Hierarchy, nodes, back, bdist, bpred, meet, lo, hi) -> None:
        self.h, self.nodes, self.back, self.bdist, self.bpred = h, nodes, back, bdist, bpred
        self.meet, self.lo, self.hi, self.epoch = meet, lo, hi, h._epoch

    def many(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The paths of reachable queries ``idx`` at once: (their road nodes end to end, where
        each one starts)."""
        h = self.h
        idx = np.asarray(idx, dtype=np.int64)
        with h._lock:
            h._bdist[self.back] = self.bdist
            h._bpred[self.back] = self.bpred
            try:
                lo, hi, meet = self.lo[idx], self.hi[idx], self.meet[idx]
                if h._epoch != self.epoch:
                    _d, meet, lo, hi = h._join(self.nodes[idx])
                return _unpack_many(lo, hi, meet, h._pool_node, h._pool_pred, h._bpred, h.es, h.et, h.first, h.second)
            finally:
                h._bdist[self.back] = INF
                h._bpred[self.back] = -1

    def __call__(self, i: int) -> list[int]:
        h = self.h
        if self.meet[i] < 0:
            return []
        with h._lock:
            h._bdist[self.back] = self.bdist
            h._bpred[self.back] = self.bpred
            try:
                lo, hi, meet = int(self.lo[i]), int(self.hi[i]), int(self.meet[i])
                if h._epoch != self.epoch:
                    _d, m, lo_, hi_ = h._join(self.nodes[i : i + 1])
                    lo, hi, meet = int(lo_[0]), int(hi_[0]), int(m[0])
                return _unpack(lo, hi, meet, h._pool_node, h._pool_pred, h._bpred, h.es, h.et, h.first, h.second).tolist()
            finally:
                h._bdist[self.back] = INF
                h._bpred[self.back] = -1


def _csr(n: int, at: np.ndarray, nbr: np.ndarray, w: np.ndarray, eid: np.ndarray):
    order = np.argsort(at, kind="stable")
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(at, minlength=n), out=ptr[1:])
    return ptr, nbr[order].astype(np.int64), w[order].astype(np.float64), eid[order].astype(np.int64)


_build_lock = threading.Lock()


def hierarchy_of(net: RoadNetwork, *, wait: bool = False) -> Hierarchy | None:
    """The network's hierarchy; a small network's is built here (waiting for one in progress), a
    large one's in the background (None until it is ready: callers search live meanwhile)."""
    h = net._cache.get("hierarchy")
    if h is not None or net._cache.get("hierarchy_failed"):
        return h
    if wait or net.n_edges <= SYNC_BUILD_EDGES:
        return _build(net, block=wait)  # None while a background build holds it (e.g. compiling)
    prepare(net)
    return None


def prepare(net: RoadNetwork, cache_dir: str | Path | None = None) -> None:
    """Start loading (from ``cache_dir``, where a build is also saved; remembered for later calls)
    or building the network's hierarchy in a background thread, unless it is ready or under way.

    A thread that is gone without a result (a forked worker inherits the record of its parent's
    thread, not the thread) is started again.
    """
    if net._cache.get("hierarchy") is not None or net._cache.get("hierarchy_failed"):
        return
    with _build_lock:
        if cache_dir is not None:
            net._cache["hierarchy_dir"] = cache_dir
        running = net._cache.get("hierarchy_thread")
        if running is not None and running.is_alive():
            return
        thread = threading.Thread(target=_build, args=(net, net._cache.get("hierarchy_dir")), name="road-hierarchy", daemon=True)
        net._cache["hierarchy_thread"] = thread
    thread.start()


def _build(net: RoadNetwork, cache_dir: str | Path | None = None, *, block: bool = True) -> Hierarchy | None:
    with _build_lock:
        lock = net._cache.setdefault("hierarchy_lock", threading.Lock())
    if not lock.acquire(blocking=block):  # one build per network; the caller searches live meanwhile
        return None
    try:
        h = net._cache.get("hierarchy")
        if h is not None or net._cache.get("hierarchy_failed"):
            return h
        try:
            path = Path(cache_dir) / f"hierarchy-{fingerprint(net)}.npz" if cache_dir is not None else None
            if path is not None and path.exists():
                try:
                    h = Hierarchy.load(path, net)
                except (OSError, KeyError, ValueError):
                    log.warning("road hierarchy file %s unreadable; building it again", path.name)
            how = f"读取自 {path.name}" if h is not None else "新建"
            if h is None:
                h = Hierarchy(net)
                if path is not None:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    h.save(path)
            h.warm()
            net._cache["hierarchy"] = h
            log.info(
                "道路分层索引就绪（%s）：%d 节点，%d 条路段，%d 条捷径，建立用时 %.1f 秒",
                how,
                h.stats.nodes,
                h.stats.edges,
                h.stats.shortcuts,
                h.stats.build_s,
            )
            return h
        except Exception:  # never let an index take routing down: searches stay live
            log.exception("road hierarchy build failed; rankings search live")
            net._cache["hierarchy_failed"] = True
            return None
    finally:
        lock.release()


def status(net: RoadNetwork) -> dict:
    """What /health says about the hierarchy: ready, building, failed or not started."""
    h = net._cache.get("hierarchy")
    if h is not None:
        return {"state": "ready", "shortcuts": h.stats.shortcuts, "build_s": round(h.stats.build_s, 1)}
    if net._cache.get("hierarchy_failed"):
        return {"state": "failed"}
    running = net._cache.get("hierarchy_thread")
    return {"state": "building" if running is not None and running.is_alive() else "not started"}
