"""Benchmark: the ranking path /candidates and /plan use (``rank_groups``) on a 1M-edge road-like graph, against
scipy's own unbounded Dijkstra (same run, same incidents) and networkx.

Without closures the service ranks on the network's contraction hierarchy (``routing.hierarchy``,
built once per network: its build time and memory are measured here too); with a blocking closure it
searches live (the bounded scipy search), so both paths are timed.

    python -m tests.bench.bench_ranking [--incidents 200] [--networkx 10] [--seed 7] [--no-write]

Dense classes: 5,000 resources in 30 capability classes (~166 holders each). Sparse classes:
10 classes of 12 holders. Each incident asks for the top 10 of one class (with routes for those 10,
as the candidate page shows them). Prints a markdown table and writes the "Ranking" section of
docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import re
import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from routing import ClosedRoads, Group, RoadNetwork, close_circle, edge_point, haversine_m, hierarchy, rank_groups, ranking
from tests.bench.reference import python_loop_s

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "BENCHMARKS.md"
OFFROAD_KMH = 20.0


def road_like_graph(*, side: int = 520, spacing_m: float = 150.0, seed: int = 7) -> RoadNetwork:
    """A perturbed grid: 30 km/h streets (10 % one-way), 60 km/h arterials every 20th line, 100 km/h
    expressways every 100th; lengths = straight distance x 1-1.3 (bends). Seeded, so reproducible."""
    rng = np.random.default_rng(seed)
    n = side * side
    ii, jj = np.divmod(np.arange(n), side)
    dlat, dlon = spacing_m / 111_195.0, spacing_m / (111_195.0 * math.cos(math.radians(38.0)))
    lat = 37.5 + ii * dlat + rng.uniform(-0.3, 0.3, n) * dlat
    lon = 105.5 + jj * dlon + rng.uniform(-0.3, 0.3, n) * dlon
    right = np.flatnonzero(jj < side - 1)
    down = np.flatnonzero(ii < side - 1)
    a = np.concatenate([right, down])
    b = np.concatenate([right + 1, down + side])
    line = np.concatenate([ii[right], jj[down]])  # the row (for horizontal) or column a road runs along
    speed = np.where(line % 100 == 0, 100.0, np.where(line % 20 == 0, 60.0, 30.0))
    length = haversine_m(lat[a], lon[a], lat[b], lon[b]) * rng.uniform(1.0, 1.3, a.shape[0])
    oneway = (speed == 30.0) & (rng.random(a.shape[0]) < 0.10)
    flip = oneway & (rng.random(a.shape[0]) < 0.5)  # one-ways run either way
    a, b = np.where(flip, b, a), np.where(flip, a, b)
    two = ~oneway
    tail = np.concatenate([a, b[two]])
    head = np.concatenate([b, a[two]])
    length = np.concatenate([length, length[two]])
    speed = np.concatenate([speed, speed[two]])
    code = np.where(speed == 100, 1, np.where(speed == 60, 3, 7))
    return RoadNetwork.from_arrays(
        lat=lat,
        lon=lon,
        tail=tail,
        head=head,
        length_m=length,
        travel_time_s=length / (speed / 3.6),
        road_class=code,
        largest_component=True,
    )


def holders(net: RoadNetwork, rng, count: int, classes: int, prefix: str):
    """``count`` resources on random roads in ``classes`` classes, with a turnout each."""
    edges = rng.integers(0, net.n_edges, count)
    snaps = [edge_point(net, int(e), float(f)) for e, f in zip(edges, rng.uniform(0, 1, count), strict=True)]
    cls = rng.integers(0, classes, count)
    turnout = rng.uniform(60, 900, count).round(1)
    by_class = [{f"{prefix}{i}": snaps[i] for i in np.flatnonzero(cls == c)} for c in range(classes)]
    extra = {f"{prefix}{i}": float(turnout[i]) for i in range(count)}
    return by_class, extra


class ScipyBaseline:
    """scipy's own unbounded Dijkstra from the incident over the reversed graph, then a numpy ranking.

    The graph is built once, with one spare virtual node whose two edges carry the incident's
    position along its road (set per query); the ranking and the straight off-road leg are the
    same rules as ours, in plain vectorised numpy.
    """

    def __init__(self, net: RoadNetwork) -> None:
        n = net.n_nodes
        self.net = net
        # reversed edges, the fastest of parallel ones, then one virtual row with two spare slots
        order = np.lexsort((net.travel_time_s, net.tail, net.head))
        r, c, d = net.head[order], net.tail[order], net.travel_time_s[order]
        first = np.r_[True, (r[1:] != r[:-1]) | (c[1:] != c[:-1])]
        r, c, d = r[first].astype(np.int64), c[first].astype(np.int64), d[first]
        indptr = np.zeros(n + 2, dtype=np.int64)
        np.cumsum(np.bincount(r, minlength=n), out=indptr[1 : n + 1])
        indptr[n + 1] = indptr[n] + 2
        self.g = sp.csr_matrix((np.r_[d, [np.inf, np.inf]], np.r_[c, [n, n]], indptr), shape=(n + 1, n + 1))

    def rank(self, target, sources: dict, extra: dict, k: int, v_off: float):
        net, n = self.net, self.net.n_nodes
        w = net.travel_time_s
        e, t, tw = target.edge, target.fraction, int(net.twin[target.edge])
        self.g.indices[-2], self.g.data[-2] = net.tail[e], t * w[e]
        if tw >= 0:
            self.g.indices[-1], self.g.data[-1] = net.head[e], (1 - t) * w[tw]
        dist = dijkstra(self.g, directed=True, indices=n)
        self.g.indices[-2:], self.g.data[-2:] = n, np.inf
        ids = list(sources)
        sn = [sources[i] for i in ids]
        se = np.array([s.edge for s in sn])
        sf = np.array([s.fraction for s in sn])
        stw = net.twin[se]
        via_head = (1 - sf) * w[se] + dist[net.head[se]]
        via_tail = np.where(stw >= 0, sf * w[np.where(stw >= 0, stw, 0)] + dist[net.tail[se]], np.inf)
        road = np.minimum(via_head, via_tail)
        for g, pt in ((e, t), (tw, 1 - t)):  # the incident's own road
            if g < 0:
                continue
            ps = np.where(se == g, sf, np.where((stw == g) & (se != g), 1 - sf, np.nan))
            with np.errstate(invalid="ignore"):
                ok = np.isfinite(ps) & (pt >= ps)
            road = np.where(ok, np.minimum(road, (pt - np.nan_to_num(ps)) * w[g]), road)
        ex = np.array([extra[i] for i in ids])
        off = np.array([s.offroad_m for s in sn]) / v_off + target.offroad_m / v_off
        cross = (
            ex
            + haversine_m(
                np.array([s.point_lat for s in sn]), np.array([s.point_lon for s in sn]), target.point_lat, target.point_lon
            )
            / v_off
        )
        val = np.minimum(ex + off + road, cross)
        order = np.argsort(val, kind="stable")[:k]
        return [(ids[i], float(val[i])) for i in order if np.isfinite(val[i])]


def nx_rank(net, GR, target, sources, extra, k, v_off):
    """Plain networkx: full single_source_dijkstra from the target over reversed edges, then rank."""
    w = net.travel_time_s
    e, t = target.edge, target.fraction
    GR.add_node("T")
    GR.add_edge("T", int(net.tail[e]), w=t * w[e])
    if net.twin[e] >= 0:
        GR.add_edge("T", int(net.head[e]), w=(1 - t) * w[net.twin[e]])
    try:
        dist = nx.single_source_dijkstra_path_length(GR, "T", weight="w")
    finally:
        GR.remove_node("T")
    out = []
    for sid, s in sources.items():
        best = (1 - s.fraction) * w[s.edge] + dist.get(int(net.head[s.edge]), math.inf)
        if net.twin[s.edge] >= 0:
            best = min(best, s.fraction * w[net.twin[s.edge]] + dist.get(int(net.tail[s.edge]), math.inf))
        for g, pt in ((e, t), (int(net.twin[e]), 1 - t)):
            if g < 0:
                continue
            ps = s.fraction if g == s.edge else (1 - s.fraction if net.twin[s.edge] == g and g != s.edge else None)
            if ps is not None and pt >= ps:
                best = min(best, (pt - ps) * w[g])
        cross = extra[sid] + float(haversine_m(s.point_lat, s.point_lon, target.point_lat, target.point_lon)) / v_off
        out.append((min(extra[sid] + s.offroad_m / v_off + best + target.offroad_m / v_off, cross), sid))
    return sorted((v for v in out if math.isfinite(v[0])), key=lambda x: x[0])[:k]


def agree(got, ref) -> bool:
    """Same ids in the same order, arrivals within 1e-6 s."""
    return [s for s, _ in got] == [s for s, _ in ref] and all(abs(a - b) <= 1e-6 for (_, a), (_, b) in zip(got, ref, strict=True))


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (MB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(xs, q):
    return float(np.percentile(np.asarray(xs), q)) * 1000


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--incidents", type=int, default=200)
    ap.add_argument("--networkx", type=int, default=10, help="incidents also timed with networkx (compared)")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--side", type=int, default=520)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    cmd = "python -m tests.bench.bench_ranking" + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip()
    loads = [Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"]
    refs = [python_loop_s()]
    v_off = OFFROAD_KMH / 3.6

    t0 = time.perf_counter()
    net = road_like_graph(side=args.side, seed=args.seed)
    build_s = time.perf_counter() - t0
    rng = np.random.default_rng(args.seed + 1)
    dense, extra = holders(net, rng, 5000, 30, "d")
    sparse, extra_s = holders(net, rng, 120, 10, "s")
    extra.update(extra_s)
    print(f"graph: {net.n_nodes:,} nodes, {net.n_edges:,} directed edges (built in {build_s:.1f} s)", flush=True)

    rng = np.random.default_rng(args.seed + 2)
    inc_edges = rng.integers(0, net.n_edges, args.incidents)
    incidents = [edge_point(net, int(e), float(f)) for e, f in zip(inc_edges, rng.uniform(0, 1, args.incidents), strict=True)]
    classes = rng.integers(0, 30, args.incidents)
    sparse_classes = rng.integers(0, 10, args.incidents)

    def ours(target, pool, index=True):
        shown = rank_groups(
            net,
            target,
            pool,
            {"need": Group(list(pool), k=args.k)},
            extra_s=extra,
            offroad_kmh=OFFROAD_KMH,
            with_routes=True,
            index=index,
        )
        return [(r.source, r.arrival_s) for r in shown["need"]]

    hwm0 = peak_rss_mb()
    t0 = time.perf_counter()
    hier = hierarchy.hierarchy_of(net, wait=True)
    hier_s = time.perf_counter() - t0
    hier_mb = peak_rss_mb() - hwm0
    print(f"hierarchy: {hier_s:.1f} s, {hier.stats.shortcuts:,} shortcuts, peak memory +{hier_mb:.0f} MB", flush=True)
    ours(incidents[0], dense[0], index=False)  # builds the search matrix once
    base = ScipyBaseline(net)
    rows_out = {}
    mismatches = 0
    for label, pools, cls in (("dense", dense, classes), ("sparse", sparse, sparse_classes)):
        t_ours, t_live, t_base, same, same_live = [], [], [], 0, 0
        for tgt, c in zip(incidents, cls, strict=True):
            pool = pools[int(c)]
            t0 = time.perf_counter()
            got = ours(tgt, pool)
            t_ours.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            live = ours(tgt, pool, index=False)
            t_live.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            ref = base.rank(tgt, pool, extra, args.k, v_off)
            t_base.append(time.perf_counter() - t0)
            same += agree(got, ref)
            same_live += agree(live, ref)
        mismatches += 2 * len(incidents) - same - same_live
        size = int(np.median([len(p) for p in pools]))
        rows_out[label] = (size, t_ours, t_base, same, t_live, same_live)
        print(
            label,
            f"ours p50 {pct(t_ours, 50):.2f} ms, live {pct(t_live, 50):.1f} ms, scipy p50 {pct(t_base, 50):.1f} ms, "
            f"same {same}/{same_live}/{len(incidents)}",
            flush=True,
        )

    # untimed: how much of the graph the bounded search settles on dense classes, and what scipy's
    # Dijkstra alone takes with the final limit: the floor of any exact search from the scene
    settled, floor_s, needed = [], [], []
    real_run = ranking._Search.run

    def counting_run(search, limit):
        t0 = time.perf_counter()
        real_run(search, limit)
        search.run_s = time.perf_counter() - t0
        search.settled = int(np.isfinite(search.dist).sum())

    ranking._Search.run = counting_run
    seen = []
    real_init = ranking._Search.__init__

    def remembering_init(search, *a, **kw):
        real_init(search, *a, **kw)
        seen.append(search)

    ranking._Search.__init__ = remembering_init
    try:
        for tgt, c in zip(incidents, classes, strict=True):
            seen.clear()
            shown = rank_groups(
                net,
                tgt,
                dense[int(c)],
                {"need": Group(list(dense[int(c)]), k=args.k)},
                extra_s=extra,
                offroad_kmh=OFFROAD_KMH,
                index=False,
            )["need"]
            search = seen[-1]
            settled.append(search.settled)
            floor_s.append(search.run_s)
            # to find the 10 shown at all, a search from the scene must reach the farthest of them by road
            far = max((r.travel_s for r in shown if not r.direct), default=0.0)
            needed.append(int((search.dist[: net.n_nodes] <= far).sum()))
    finally:
        ranking._Search.run, ranking._Search.__init__ = real_run, real_init

    # closures: building one, then marking the hierarchy's edges that drive a closed stretch (no
    # rebuild); rankings with it in force stay on the hierarchy unless a closed stretch could
    # change the answer, then search live
    t0 = time.perf_counter()
    c = close_circle(net, float(np.median(net.lat)), float(np.median(net.lon)), 3000.0)
    closure_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    closed = ClosedRoads(net, [c])
    ranking._closed_in(hier, closed)
    marks_ms = (time.perf_counter() - t0) * 1000
    lives = []
    real_init = ranking._Search.__init__

    def counted(search, *a, **kw):
        lives.append(1)
        real_init(search, *a, **kw)

    ranking._Search.__init__ = counted
    closed_rows = {}
    try:
        for label, pools, cls in (("dense", dense, classes), ("sparse", sparse, sparse_classes)):
            times, on_index, same_c = [], 0, 0
            for tgt, cl in zip(incidents, cls, strict=True):
                pool, groups = pools[int(cl)], {"need": Group(list(pools[int(cl)]), k=args.k)}
                kw = {"extra_s": extra, "offroad_kmh": OFFROAD_KMH, "with_routes": True, "blocked": closed}
                lives.clear()
                t0 = time.perf_counter()
                got = rank_groups(net, tgt, pool, groups, **kw)["need"]
                times.append(time.perf_counter() - t0)
                on_index += not lives
                live = rank_groups(net, tgt, pool, groups, index=False, **kw)["need"]
                same_c += agree([(r.source, r.arrival_s) for r in got], [(r.source, r.arrival_s) for r in live])
            mismatches += len(incidents) - same_c
            closed_rows[label] = (times, on_index, same_c)
    finally:
        ranking._Search.__init__ = real_init

    # a multi-need incident as /plan sees it: 4 dense needs + 1 sparse need in one ranking, without
    # and with that closure in force
    t_multi, t_multi_closed = [], []
    for tgt, cl, sc in zip(incidents, classes, sparse_classes, strict=True):
        pools = {f"n{j}": dense[(int(cl) + j) % 30] for j in range(4)} | {"sparse": sparse[int(sc)]}
        srcs = {k: v for p in pools.values() for k, v in p.items()}
        groups = {g: Group(list(p), k=args.k) for g, p in pools.items()}
        for blocked, times in ((None, t_multi), (closed, t_multi_closed)):
            t0 = time.perf_counter()
            rank_groups(net, tgt, srcs, groups, extra_s=extra, offroad_kmh=OFFROAD_KMH, with_routes=True, blocked=blocked)
            times.append(time.perf_counter() - t0)

    print(f"networkx on {args.networkx} incidents ...", flush=True)
    GR = nx.DiGraph()
    GR.add_nodes_from(range(net.n_nodes))
    order = np.argsort(-net.travel_time_s)
    GR.add_weighted_edges_from(
        zip(net.head[order].tolist(), net.tail[order].tolist(), net.travel_time_s[order].tolist(), strict=True), weight="w"
    )
    t_nx, nx_same = [], 0
    for i in range(args.networkx):
        pool = dense[int(classes[i])]
        t0 = time.perf_counter()
        ref = nx_rank(net, GR, incidents[i], pool, extra, args.k, v_off)
        t_nx.append(time.perf_counter() - t0)
        got = ours(incidents[i], pool)
        nx_same += agree(got, [(sid, val) for val, sid in ref])
    del GR
    refs.append(python_loop_s())
    loads.append(Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?")

    dn, sp_ = rows_out["dense"], rows_out["sparse"]
    st = hier.stats
    rows = [
        (
            "graph",
            f"perturbed grid {args.side}×{args.side}, {net.n_nodes:,} nodes, {net.n_edges:,} directed edges (10 % one-way streets, 60/100 km/h arterials)",
        ),
        (
            "incidents",
            f"{args.incidents} random road points; top-{args.k} of one class, routes for those {args.k} (what /candidates shows); off-road speed {OFFROAD_KMH:g} km/h",
        ),
        (
            "contraction hierarchy: build (once per network, in a background thread for networks this size)",
            f"**{hier_s:.1f} s**, {st.shortcuts:,} shortcuts over {st.edges:,} road edges, peak memory +{hier_mb:.0f} MB",
        ),
        (f"dense class (~{dn[0]} holders): `rank_groups`", f"p50 **{pct(dn[1], 50):.2f} ms**, p95 {pct(dn[1], 95):.2f} ms"),
        (
            "dense class: scipy unbounded Dijkstra + numpy ranking",
            f"p50 {pct(dn[2], 50):.1f} ms, p95 {pct(dn[2], 95):.1f} ms → **{np.median(dn[2]) / np.median(dn[1]):.0f}×**",
        ),
        (f"sparse class ({sp_[0]} holders): `rank_groups`", f"p50 **{pct(sp_[1], 50):.2f} ms**, p95 {pct(sp_[1], 95):.2f} ms"),
        (
            "sparse class: scipy unbounded Dijkstra + numpy ranking",
            f"p50 {pct(sp_[2], 50):.1f} ms, p95 {pct(sp_[2], 95):.1f} ms → **{np.median(sp_[2]) / np.median(sp_[1]):.0f}×**",
        ),
        (
            "same top-10 as scipy (ids in order, arrivals within 1e-6 s)",
            f"dense {dn[3]}/{args.incidents}, sparse {sp_[3]}/{args.incidents}",
        ),
        (
            "5 needs in one ranking (4 dense + 1 sparse, as /plan)",
            f"p50 {pct(t_multi, 50):.2f} ms, p95 {pct(t_multi, 95):.2f} ms",
        ),
        (
            "a 3 km closure: `close_circle`, then marking the hierarchy's edges that drive it (no rebuild)",
            f"{closure_ms:.0f} ms + {marks_ms:.0f} ms, {c.closed_m / 1000:.1f} km of road closed",
        ),
        (
            "with that closure in force: `rank_groups`, dense / sparse class",
            f"p50 {pct(closed_rows['dense'][0], 50):.2f} ms / {pct(closed_rows['sparse'][0], 50):.2f} ms, p95 "
            f"{pct(closed_rows['dense'][0], 95):.1f} ms / {pct(closed_rows['sparse'][0], 95):.1f} ms; answered on the hierarchy "
            f"{closed_rows['dense'][1]}/{args.incidents} and {closed_rows['sparse'][1]}/{args.incidents} (the others: a closed "
            f"stretch could change the answer, so the live search); same as the live search {closed_rows['dense'][2]}/{args.incidents}, "
            f"{closed_rows['sparse'][2]}/{args.incidents}",
        ),
        (
            "… 5 needs in one ranking with the closure in force",
            f"p50 {pct(t_multi_closed, 50):.1f} ms, p95 {pct(t_multi_closed, 95):.1f} ms",
        ),
        (
            "the live bounded search alone (what a ranking costs when a closure lies on its answer), dense / sparse class",
            f"p50 {pct(dn[4], 50):.1f} ms / {pct(sp_[4], 50):.1f} ms (scipy unbounded: {np.median(dn[2]) / np.median(dn[4]):.1f}× / "
            f"{np.median(sp_[2]) / np.median(sp_[4]):.1f}×); same top-10 as scipy {dn[5]}/{args.incidents}, {sp_[5]}/{args.incidents}",
        ),
        (
            "live search, dense class: nodes it settles (all within the 10th arrival less the quickest turnout)",
            f"median {np.median(settled):,.0f} of {net.n_nodes:,} ({100 * np.median(settled) / net.n_nodes:.0f} %); any search from "
            f"the scene must settle {100 * np.median(needed) / net.n_nodes:.0f} % just to reach the 10 shown (why the hierarchy)",
        ),
        (
            "networkx `single_source_dijkstra_path_length` (dense)",
            f"p50 {pct(t_nx, 50):.0f} ms over {len(t_nx)} incidents → {np.median(t_nx) / np.median(dn[1]):,.0f}×; same top-10 {nx_same}/{len(t_nx)}",
        ),
    ]
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs shared, load average {loads[0]} at the start, {loads[1]} at the end, Python {platform.python_version()}; CPU reference (`tests/bench/reference.py`, a 10^7-step Python loop) {refs[0]:.2f} s at the start, {refs[1]:.2f} s at the end"
    table = "| measure | result |\n|---|---|\n" + "\n".join(f"| {a} | {b} |" for a, b in rows)
    section = (
        "## Ranking (service path)\n\n"
        f"Command: `{cmd}` (seeded; {machine}).\n\n"
        "Times `routing.rank_groups`, what /candidates and /plan call. It reads every member's time\n"
        "from the network's contraction hierarchy (one backward upward search from the incident joined\n"
        "with each holder's cached forward search space), then assembles routes for those shown. With a\n"
        "blocking closure in force those times are exact for members whose quickest route drives no\n"
        "closed stretch and lower bounds for the others; when one of those could enter the answer it\n"
        "runs the live search instead: one scipy Dijkstra from the incident over the reversed graph with\n"
        "a distance limit, grown until every need's leading members (top k, plus enough to cover\n"
        "quantities) are certain. The fair baseline is scipy's own Dijkstra, unbounded, on the same\n"
        "graph in the same run, with the same ranking rules in numpy; networkx is a second row.\n"
        "Holders' forward spaces are computed on their first query and kept, as in the service (the\n"
        "p95 includes those first queries; 30 dense classes over the incidents).\n\n" + table + "\n"
    )
    print(table)
    if mismatches:
        print(f"MISMATCH on {mismatches} incidents", file=sys.stderr)
    if not args.no_write:
        write_section(section)
        print(f"wrote the Ranking (service path) section of {DOC.relative_to(ROOT)}")
    return 1 if mismatches else 0


def write_section(section: str) -> None:
    """Replace (or add, before the older Ranking section) the "## Ranking (service path)" section."""
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    pattern = re.compile(r"^## Ranking \(service path\)\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1).rstrip() + "\n"
    elif "\n## " in text:
        head, _, rest = text.partition("\n## ")
        text = head.rstrip() + "\n\n" + section + "\n## " + rest
    else:
        text = text.rstrip() + "\n\n" + section
    DOC.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
