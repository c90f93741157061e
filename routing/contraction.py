"""Contracting a road network into a hierarchy (Geisberger et al., "Contraction Hierarchies", 2008).

Nodes are contracted one by one, least important first (edge difference, contracted neighbours,
level; lazy updates), and a shortcut replaces every shortest path through a contracted node that
no witness search finds another way for. ``contract(net)`` returns the edges with their shortcuts
and each node's rank; ``routing.hierarchy`` answers queries on them. Compiled with numba, without
the GIL (a build in a background thread does not stall requests).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from routing.network import RoadNetwork

INF = np.inf
_WITNESS_SETTLE_SIM = 60  # settled nodes per witness search when estimating a node's cost
_WITNESS_SETTLE = 400  # ... and when contracting it (a missed witness only adds a shortcut)


# ------------------------------------------------------------------------------------------ heaps
@njit(inline="always")
def heap_push(hk, hv, size, key, val):
    """Push (key, val) on the binary min-heap in hk/hv[:size]; returns the new size."""
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
def heap_pop(hk, hv, size):
    """Pop the least key: (key, val, new size)."""
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
    size = heap_push(hk, hv, 0, 0.0, src)
    settled = 0
    while size > 0:
        d, u, size = heap_pop(hk, hv, size)
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
                size = heap_push(hk, hv, size, nd, x)
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
    anbr, aw, aeid = np.empty(pool, np.int64), np.empty(pool, np.float64), np.empty(pool, np.int64)
    G = (es, et, ew, first, second, count, at, ln, cp, anbr, aw, aeid, top)
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
    deleted = np.zeros(n, np.float64)
    level = np.zeros(n, np.float64)
    qk = np.empty(n, np.float64)  # each node queued once at a time, keyed by its priority
    qv = np.empty(n, np.int64)
    qsize = 0
    for v in range(n):
        qsize = heap_push(qk, qv, qsize, _priority(G, S, v, deleted, level), v)
    rank = np.full(n, -1, np.int64)
    fresh = np.ones(n, np.bool_)  # priority computed since its neighbourhood last changed
    r = 0
    while qsize > 0:
        _key, v, qsize = heap_pop(qk, qv, qsize)
        if not fresh[v]:
            p = _priority(G, S, v, deleted, level)
            fresh[v] = True
            if qsize > 0 and p > qk[0]:  # its cost went up since it was queued: queue it again (lazy update)
                qsize = heap_push(qk, qv, qsize, p, v)
                continue
        if _shortcuts(G, S, v, True, _WITNESS_SETTLE) < 0:
            return np.empty(0, np.int64)
        rank[v] = r
        r += 1
        # its edges leave the remaining graph (later scans never see them): an out-edge from the
        # neighbour's in-run, an in-edge from its out-run
        for side in range(2):
            k = 2 * v + side
            for j in range(at[k], at[k] + ln[k]):
                x = anbr[j]
                _remove(G, x, 1 - side, aeid[j])
                fresh[x] = False
                deleted[x] += 1.0
                level[x] = max(level[x], level[v] + 1.0)
    return rank


def contract(net: RoadNetwork):
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
