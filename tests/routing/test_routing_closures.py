"""Closures cut at their boundary, their kinds, the scene exception, and an independent split-graph check."""

import itertools
import math

import networkx as nx
import numpy as np
import pytest

from routing import (
    ClosedRoads,
    RoadNetwork,
    close_circle,
    close_polygon,
    edge_point,
    haversine_m,
    rank_sources,
    route,
)
from routing.closures import edges_in_polygon


def _edge(net, u, v):
    a, b = net.node_index(u), net.node_index(v)
    return next(e for e in range(net.n_edges) if net.tail[e] == a and net.head[e] == b)


def _bc_metres(net):
    b, c = net.node_index("B"), net.node_index("C")
    return float(haversine_m(net.lat[b], net.lon[b], net.lat[c], net.lon[c]))


def _mid_bc(net):
    b, c = net.node_index("B"), net.node_index("C")
    return (net.lat[b] + net.lat[c]) / 2, (net.lon[b] + net.lon[c]) / 2


def test_circle_closes_only_the_stretch_inside(line_net):
    lat, lon = _mid_bc(line_net)
    geo = _bc_metres(line_net)
    c = close_circle(line_net, lat, lon, 300.0)
    half = 300.0 / geo
    bc = _edge(line_net, "B", "C")
    # both directions of B-C are cut at the circle, the other roads are untouched
    assert sorted(c.edges.tolist()) == sorted([bc, _edge(line_net, "C", "B")])
    i = c.edges.tolist().index(bc)
    assert c.lo[i] == pytest.approx(0.5 - half, abs=1e-6) and c.hi[i] == pytest.approx(0.5 + half, abs=1e-6)
    # road metres closed (edge length 1,000 m), the two-way road counted once
    assert c.closed_m == pytest.approx(2 * half * 1000.0, rel=1e-6)
    assert c.closed["type"] == "MultiLineString" and len(c.closed["coordinates"]) == 1
    (p, q) = c.closed["coordinates"][0]
    assert p[1] == pytest.approx(lat) and q[1] == pytest.approx(lat)  # [lon, lat] order
    assert sorted([p[0], q[0]]) == pytest.approx(
        [lon - (line_net.lon[2] - line_net.lon[1]) * half, lon + (line_net.lon[2] - line_net.lon[1]) * half], abs=1e-7
    )
    assert float(haversine_m(p[1], p[0], q[1], q[0])) == pytest.approx(600.0, rel=1e-3)


def test_open_side_stays_reachable(line_net):
    lat, lon = _mid_bc(line_net)
    closed = ClosedRoads(line_net, [close_circle(line_net, lat, lon, 300.0)])
    bc = _edge(line_net, "B", "C")
    near_b = edge_point(line_net, bc, 0.1)  # west of the closure, on the closed edge
    near_c = edge_point(line_net, bc, 0.9)  # east of it
    at_a = edge_point(line_net, _edge(line_net, "A", "B"), 0.0)
    at_d = edge_point(line_net, _edge(line_net, "C", "D"), 1.0)
    # A reaches the west stretch of B-C; D reaches the east one; crossing the closure is impossible
    assert route(line_net, at_a, near_b, blocked=closed, shortcut=False).travel_s == pytest.approx(110.0)
    assert route(line_net, at_d, near_c, blocked=closed, shortcut=False).travel_s == pytest.approx(110.0)
    assert route(line_net, at_a, near_c, blocked=closed, shortcut=False) is None
    assert route(line_net, near_c, at_d, blocked=closed, shortcut=False).travel_s == pytest.approx(110.0)
    assert route(line_net, near_b, near_c, blocked=closed, shortcut=False) is None
    # a whole-edge mask (the older form) would cut the west stretch off as well
    mask = np.zeros(line_net.n_edges, dtype=bool)
    mask[[bc, _edge(line_net, "C", "B")]] = True
    assert route(line_net, at_a, near_b, blocked=mask, shortcut=False) is None


def test_traffic_control_is_reported_but_never_blocks(line_net):
    lat, lon = _mid_bc(line_net)
    tc = close_circle(line_net, lat, lon, 300.0, kind="traffic_control")
    hard = close_circle(line_net, lat, lon, 300.0)
    assert tc.closed_m == pytest.approx(hard.closed_m) and tc.closed == hard.closed
    at_a = edge_point(line_net, _edge(line_net, "A", "B"), 0.0)
    at_d = edge_point(line_net, _edge(line_net, "C", "D"), 1.0)
    assert route(line_net, at_a, at_d, blocked=[tc], shortcut=False).travel_s == pytest.approx(300.0)
    assert route(line_net, at_a, at_d, blocked=[hard], shortcut=False) is None
    assert ClosedRoads.of(line_net, [tc]) is None
    with pytest.raises(ValueError, match="kind"):
        close_circle(line_net, lat, lon, 300.0, kind="closed")


def test_scene_inside_a_closure_is_still_reached(line_net):
    lat, lon = _mid_bc(line_net)
    geo = _bc_metres(line_net)
    c = close_circle(line_net, lat, lon, 300.0)
    scene = edge_point(line_net, _edge(line_net, "B", "C"), 0.5)  # in the middle of the closed stretch
    srcs = {"a": edge_point(line_net, _edge(line_net, "A", "B"), 0.0), "d": edge_point(line_net, _edge(line_net, "C", "D"), 1.0)}
    ranked = rank_sources(line_net, scene, srcs, k=2, blocked=[c], shortcut=False)
    assert [r.arrival_s for r in ranked] == pytest.approx([150.0, 150.0])
    # the route says how far it drives inside the closed zone (300 m of the circle's radius)
    for r in ranked:
        assert r.closure_m == pytest.approx(300.0 / geo * 1000.0, rel=1e-6)
        assert r.distance_m == pytest.approx(1500.0)
    # without a closure nothing is reported
    assert all(r.closure_m == 0 for r in rank_sources(line_net, scene, srcs, k=2, shortcut=False))
    # the waiver is per scene: a scene outside the zone still sees the road closed
    outside = edge_point(line_net, _edge(line_net, "C", "D"), 0.5)
    got = rank_sources(line_net, outside, srcs, k=2, blocked=[c], shortcut=False)
    assert [r.source for r in got] == ["d"]


def test_polygon_cut_at_its_sides_and_holes(line_net):
    b, c = line_net.node_index("B"), line_net.node_index("C")
    x0, x1 = line_net.lon[b], line_net.lon[c]
    y = line_net.lat[b]
    a, z = x0 + 0.3 * (x1 - x0), x0 + 0.7 * (x1 - x0)
    ring = [[a, y - 0.01], [z, y - 0.01], [z, y + 0.01], [a, y + 0.01], [a, y - 0.01]]
    poly = close_polygon(line_net, [ring])
    bc = _edge(line_net, "B", "C")
    i = poly.edges.tolist().index(bc)
    assert (poly.lo[i], poly.hi[i]) == pytest.approx((0.3, 0.7), abs=1e-9)
    assert poly.closed_m == pytest.approx(400.0, rel=1e-9)
    # a hole in the middle reopens 0.45..0.55: two stretches, 300 m closed
    hx0, hx1 = x0 + 0.45 * (x1 - x0), x0 + 0.55 * (x1 - x0)
    hole = [[hx0, y - 0.005], [hx1, y - 0.005], [hx1, y + 0.005], [hx0, y + 0.005]]
    holed = close_polygon(line_net, [ring, hole])
    assert holed.closed_m == pytest.approx(300.0, rel=1e-9)
    assert len(holed.closed["coordinates"]) == 2
    assert set(edges_in_polygon(line_net, [ring]).tolist()) == {bc, _edge(line_net, "C", "B")}
    # the open middle of the hole is reachable from neither side
    mid = edge_point(line_net, bc, 0.5)
    at_a = edge_point(line_net, _edge(line_net, "A", "B"), 0.0)
    far = edge_point(line_net, _edge(line_net, "C", "D"), 0.5)
    assert route(line_net, at_a, far, blocked=[holed], shortcut=False) is None
    assert route(line_net, mid, far, blocked=[holed], shortcut=False) is None


def _split_network(net: RoadNetwork, closure):
    """An independent reference: the network with every edge cut at the closure's boundary and
    the closed pieces removed (new nodes at the cuts), plus a map from (edge, fraction) to a point."""
    G = nx.MultiDiGraph()
    for i in range(net.n_nodes):
        G.add_node(f"n{i}", lat=float(net.lat[i]), lon=float(net.lon[i]))
    spans = {}
    for e, lo, hi in zip(closure.edges.tolist(), closure.lo.tolist(), closure.hi.tolist(), strict=True):
        spans.setdefault(e, []).append((lo, hi))
    pieces = {}  # edge -> [(a, b, tail node, head node)] of open pieces
    for e in range(net.n_edges):
        cuts = sorted({0.0, 1.0, *[x for s in spans.get(e, []) for x in s]})
        t, h = int(net.tail[e]), int(net.head[e])
        tw = int(net.twin[e])

        def cut(f, e=e, tw=tw):  # one node per cut of a physical road, shared by both directions
            return f"c{e}:{round(f, 9)!r}" if tw < 0 or e < tw else f"c{tw}:{round(1.0 - f, 9)!r}"

        out = []
        for a, b in itertools.pairwise(cuts):
            if any(lo <= a and b <= hi for lo, hi in spans.get(e, [])):
                continue
            u = f"n{t}" if a == 0.0 else cut(a)
            v = f"n{h}" if b == 1.0 else cut(b)
            for node, f in ((u, a), (v, b)):
                if node not in G:
                    G.add_node(
                        node,
                        lat=float(net.lat[t] + f * (net.lat[h] - net.lat[t])),
                        lon=float(net.lon[t] + f * (net.lon[h] - net.lon[t])),
                    )
            G.add_edge(
                u,
                v,
                length_m=(b - a) * float(net.length_m[e]),
                travel_time_s=(b - a) * float(net.travel_time_s[e]),
                name=f"{e}:{a!r}",
            )  # parallel roads: the name tells the pieces apart
            out.append((a, b, u, v))
        pieces[e] = out
    split = RoadNetwork.from_graph(G, largest_component=False)

    def point(snap):
        for a, b, _u, _v in pieces.get(snap.edge, []):
            if a <= snap.fraction <= b:
                edge = next(x for x in range(split.n_edges) if split.edge_name(x) == f"{snap.edge}:{a!r}")
                return edge_point(split, edge, (snap.fraction - a) / (b - a) if b > a else 0.0)
        return None  # on a closed stretch

    return split, point


@pytest.mark.parametrize("seed", range(5))
def test_partial_closures_match_a_split_graph(seed, make_random_net, random_points):
    net = make_random_net(seed, p_oneway=0.0)  # two-way roads: the twin pairing is unambiguous
    rng = np.random.default_rng(seed)
    i = int(rng.integers(net.n_nodes))
    c = close_circle(net, float(net.lat[i]), float(net.lon[i]), float(rng.uniform(300, 1200)))
    assert c.closed_m > 0
    split, point = _split_network(net, c)
    pts = random_points(net, 60, seed + 100)
    checked = 0
    for tgt in pts[:8]:
        if c.covers(tgt.edge, tgt.fraction) or c.contains(tgt.lat, tgt.lon):
            continue  # the scene exception is tested separately
        srcs = {j: s for j, s in enumerate(pts[8:]) if not c.covers(s.edge, s.fraction)}
        got = rank_sources(net, tgt, srcs, k=len(srcs), blocked=[c], shortcut=False)
        ref = rank_sources(split, point(tgt), {j: point(s) for j, s in srcs.items()}, k=len(srcs), shortcut=False)
        assert [r.source for r in got] == [r.source for r in ref]
        assert [r.arrival_s for r in got] == pytest.approx([r.arrival_s for r in ref], rel=1e-9, abs=1e-6)
        assert [r.distance_m for r in got] == pytest.approx([r.distance_m for r in ref], rel=1e-9, abs=1e-6)
        checked += 1
    assert checked >= 3


def test_closure_on_a_large_network_is_cheap():
    import time

    rng = np.random.default_rng(1)
    side = 300  # 90,000 nodes, ~360,000 directed edges
    ii, jj = np.divmod(np.arange(side * side), side)
    lat, lon = 37.5 + ii * 0.0013, 105.5 + jj * 0.0017
    a = np.concatenate([np.flatnonzero(jj < side - 1), np.flatnonzero(ii < side - 1)])
    b = np.concatenate([np.flatnonzero(jj < side - 1) + 1, np.flatnonzero(ii < side - 1) + side])
    length = haversine_m(lat[a], lon[a], lat[b], lon[b]) * rng.uniform(1, 1.2, a.shape[0])
    net = RoadNetwork.from_arrays(
        lat=lat,
        lon=lon,
        tail=np.r_[a, b],
        head=np.r_[b, a],
        length_m=np.r_[length, length],
        travel_time_s=np.r_[length, length] / 10.0,
    )
    t0 = time.perf_counter()
    c = close_circle(net, 37.7, 105.75, 2000.0)
    closed = ClosedRoads(net, [c])
    closed.weights()
    elapsed = time.perf_counter() - t0
    assert c.closed_m > 10_000 and math.isfinite(c.closed_m)
    assert elapsed < 1.0  # linear in the edges: ~1M edges stay well under a second
