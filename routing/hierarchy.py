"""A road network's contraction hierarchy: exact times from many road nodes to one scene.

Built once per network (``routing.contraction``), in a background thread for large ones, and saved
beside the network's cache for later starts. Each distance is the meeting of two small upward
searches: ``to_target`` answers the driving time from many nodes to one point of a road with one
backward upward search from the scene and one pass over each node's forward search space (kept
between queries: the "buckets" of many-to-one queries). The answers are a Dijkstra's, summed in
another order (equal to ~1e-9 s). It holds the free-flowing network: with blocking closures, a
time stands when its path drives no closed stretch (``dirty``, ``to_target(dirty=)``) and the
caller searches live for the rest, so a closure never needs a rebuild. Queries run compiled
(numba).
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

from routing.contraction import contract, heap_pop, heap_push
from routing.network import RoadNetwork

log = logging.getLogger(__name__)

INF = np.inf
FILE_VERSION = 2
#: Networks up to this many edges get their hierarchy in the first query that wants one (well under
#: a second); larger ones build it in a background thread, and queries search live meanwhile.
SYNC_BUILD_EDGES = 200_000
#: Forward search spaces kept, in entries of 24 bytes (node, seconds, edge): ~100 MB at most. Past it
#: they are all dropped and recomputed on demand (a space is a few hundred entries, microseconds).
SPACE_BUDGET = 4_000_000


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
            size = heap_push(hk, hv, size, d, s)
    while size > 0:
        d, u, size = heap_pop(hk, hv, size)
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
                size = heap_push(hk, hv, size, nd, x)
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
def _chain(lo, hi, meet, pool_node, pool_pred, bpred, es, et):
    """The hierarchy's edges of a quickest path, in driving order: up the forward space from its
    start to the meeting node, then down the backward search to the target's seed."""
    up = []
    j = meet
    while pool_pred[j] >= 0:
        e = pool_pred[j]
        up.append(e)
        for i in range(lo, hi):  # the entry of the edge's tail in the same space
            if pool_node[i] == es[e]:
                j = i
                break
    chain = up[::-1]
    u = pool_node[meet]
    while bpred[u] >= 0:
        chain.append(bpred[u])
        u = et[bpred[u]]
    return chain


@njit(cache=True, nogil=True)
def _unpack(lo, hi, meet, pool_node, pool_pred, bpred, es, et, first, second):
    """Road nodes of the path from the space's start node to the target's seed node."""
    chain = _chain(lo, hi, meet, pool_node, pool_pred, bpred, es, et)
    out = [pool_node[lo]]
    stack = chain[::-1]
    while len(stack) > 0:
        e = stack.pop()
        if first[e] < 0:
            out.append(et[e])
        else:
            stack.append(second[e])
            stack.append(first[e])
    return np.array(out, dtype=np.int64)


def fingerprint(net: RoadNetwork) -> str:
    """Identifies a network's graph and travel times (all a hierarchy depends on); hashed once
    per network (it never changes)."""
    got = net._cache.get("fingerprint")
    if got is None:
        h = hashlib.sha1()
        for a in (net.tail, net.head, net.travel_time_s):
            h.update(np.ascontiguousarray(a).tobytes())
        got = net._cache["fingerprint"] = f"{net.n_nodes}-{net.n_edges}-{h.hexdigest()[:20]}"
    return got


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
        out[q] = True
        if meet[q] >= 0:
            for e in _chain(lo[q], hi[q], meet[q], pool_node, pool_pred, bpred, es, et):
                if dirty[e]:
                    out[q] = False
                    break


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

    ``to_target(seeds, nodes, dirty=)`` -> seconds from each of ``nodes`` to the target reached
    through ``seeds`` ((node, seconds from it to the target) pairs), inf when unreachable; the
    paths (``_Paths``: road nodes of each quickest path, ending at the seed used); and, given the
    ``dirty`` edges of a set of closures, whether each path avoids them. ``save``/``load`` keep it
    in a file. Thread-safe: queries share scratch arrays under one lock (each well under a ms).
    """

    def __init__(self, net: RoadNetwork) -> None:
        t0 = time.perf_counter()
        es, et, ew, first, second, rank, road, m = contract(net)
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
        tmp = path.with_name(f".{path.stem}.tmp.npz")  # hidden from ``_prune``, which may run meanwhile
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
        if self.meet[i] < 0:
            return []
        flat, _at = self.many(np.array([i], dtype=np.int64))
        return flat.tolist()


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
                    try:
                        path.parent.mkdir(parents=True, exist_ok=True)
                        h.save(path)
                        _prune(path.parent)
                    except OSError as exc:  # a full or read-only disk costs the next start a build, not this one
                        log.warning("road hierarchy not saved to %s: %s", path, exc)
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


def _prune(directory: Path, keep: int = 2) -> None:
    """Delete all but the ``keep`` newest hierarchy files: each import leaves one behind (a 1M-edge
    network's is ~130 MB), and a worker still on the previous network may want its file."""
    files = sorted(directory.glob("hierarchy-*.npz"), key=lambda f: f.stat().st_mtime, reverse=True)
    for old in files[keep:]:
        old.unlink(missing_ok=True)


def status(net: RoadNetwork) -> dict:
    """What /health says about the hierarchy: ready, building, failed or not started."""
    h = net._cache.get("hierarchy")
    if h is not None:
        return {"state": "ready", "shortcuts": h.stats.shortcuts, "build_s": round(h.stats.build_s, 1)}
    if net._cache.get("hierarchy_failed"):
        return {"state": "failed"}
    running = net._cache.get("hierarchy_thread")
    return {"state": "building" if running is not None and running.is_alive() else "not started"}
