"""Ranking: hand-made graphs with known answers, one-ways, closures, ties, turnout, random cross-checks."""

import math

import numpy as np
import pytest

from routing import Snap, arrival_times, edge_point, rank_sources, route, snap_point


def _edge(net, u, v):
    a, b = net.node_index(u), net.node_index(v)
    return next(e for e in range(net.n_edges) if net.tail[e] == a and net.head[e] == b)


def test_line_known_times(line_net):
    target = edge_point(line_net, _edge(line_net, "C", "D"), 0.5)  # 2.5 km from A
    sources = {
        "a": edge_point(line_net, _edge(line_net, "A", "B"), 0.0),
        "b": edge_point(line_net, _edge(line_net, "B", "C"), 0.0),
    }
    ranked = rank_sources(line_net, target, sources, k=2)
    assert [r.source for r in ranked] == ["b", "a"]
    assert ranked[0].arrival_s == pytest.approx(150.0)
    assert ranked[1].arrival_s == pytest.approx(250.0)
    assert ranked[1].distance_m == pytest.approx(2500.0)
    assert ranked[1].route[0] == pytest.approx((sources["a"].lon, sources["a"].lat))
    assert ranked[1].route[-1] == pytest.approx((target.lon, target.lat))
    assert len(ranked[1].route) == 4  # A (the point), B, C, the target
    assert ranked[1].geojson()["type"] == "LineString"


def test_same_edge_both_directions(line_net):
    e = _edge(line_net, "B", "C")
    target = edge_point(line_net, e, 0.3)
    ahead = edge_point(line_net, e, 0.8)  # beyond the target on a two-way road: drive back
    behind = edge_point(line_net, e, 0.1)
    ranked = rank_sources(line_net, target, {"ahead": ahead, "behind": behind}, k=2)
    times = {r.source: r.arrival_s for r in ranked}
    assert times["behind"] == pytest.approx(20.0)
    assert times["ahead"] == pytest.approx(50.0)
    assert {r.source: r.distance_m for r in ranked}["ahead"] == pytest.approx(500.0)


def test_one_way_direction_matters(make_net):
    # X -> Y is one-way (fast); the way back Y -> X goes round through Z (slow)
    roads = [("X", "Y", 1000, 36, True), ("Y", "Z", 1000, 36, False), ("Z", "X", 3000, 36, False)]
    net = make_net(roads)
    at_x = edge_point(net, _edge(net, "X", "Y"), 0.0)
    at_y = edge_point(net, _edge(net, "Y", "Z"), 0.0)
    # resource at X drives with the one-way to an incident at Y: 100 s
    # (no straight off-road shortcut: the test graph's lengths are not its geometry)
    assert rank_sources(net, at_y, {"r": at_x}, shortcut=False)[0].arrival_s == pytest.approx(100.0)
    # resource at Y cannot drive against it: round via Z, 400 s
    assert rank_sources(net, at_x, {"r": at_y}, shortcut=False)[0].arrival_s == pytest.approx(400.0)
    # on the one-way edge itself, a point behind the target drives straight on; one ahead goes round
    e = _edge(net, "X", "Y")
    target = edge_point(net, e, 0.5)
    times = arrival_times(net, target, {"behind": edge_point(net, e, 0.2), "ahead": edge_point(net, e, 0.9)}, shortcut=False)
    assert times["behind"] == pytest.approx(30.0)
    assert times["ahead"] == pytest.approx(10.0 + 400.0 + 50.0)


def test_unreachable_is_a_value(make_net):
    net = make_net([("A", "B", 1000, 36, False), ("C", "D", 1000, 36, False)])
    target = edge_point(net, _edge(net, "A", "B"), 0.5)
    far = edge_point(net, _edge(net, "C", "D"), 0.5)
    near = edge_point(net, _edge(net, "A", "B"), 0.0)
    ranked = rank_sources(net, target, {"far": far, "near": near}, k=5, shortcut=False)
    assert [r.source for r in ranked] == ["near"]
    assert arrival_times(net, target, {"far": far}, shortcut=False)["far"] == math.inf
    assert route(net, far, target, shortcut=False) is None
    # across country the other road is reachable: a value with the straight leg only
    r = route(net, far, target)
    assert (
        r.direct
        and r.distance_m == 0
        and r.offroad_m == pytest.approx(2 * 0.01 * 111_195 * math.cos(math.radians(38.47)), rel=1e-2)
    )


def test_ties_keep_input_order(line_net):
    e = _edge(line_net, "B", "C")
    target = edge_point(line_net, e, 0.5)
    left = edge_point(line_net, e, 0.0)
    right = edge_point(line_net, _edge(line_net, "C", "B"), 0.0)  # same distance from the other end
    ranked = rank_sources(line_net, target, {"r2": right, "r1": left}, k=2)
    assert [r.source for r in ranked] == ["r2", "r1"]
    assert ranked[0].arrival_s == pytest.approx(ranked[1].arrival_s)


def test_turnout_reorders(line_net):
    target = edge_point(line_net, _edge(line_net, "C", "D"), 1.0)
    sources = {
        "near": edge_point(line_net, _edge(line_net, "B", "C"), 1.0),
        "far": edge_point(line_net, _edge(line_net, "A", "B"), 0.0),
    }
    ranked = rank_sources(line_net, target, sources, k=2, extra_s={"near": 600.0, "far": 0.0})
    assert [r.source for r in ranked] == ["far", "near"]
    assert ranked[1].arrival_s == pytest.approx(700.0)
    assert ranked[1].extra_s == 600.0 and ranked[1].travel_s == pytest.approx(100.0)


def test_closure_forces_detour(make_net):
    roads = [("A", "B", 1000, 36, False), ("B", "C", 1000, 36, False), ("A", "C", 5000, 36, False), ("C", "D", 1000, 36, False)]
    net = make_net(roads)
    target = edge_point(net, _edge(net, "C", "D"), 0.5)
    src = edge_point(net, _edge(net, "A", "B"), 0.0)
    assert route(net, src, target, shortcut=False).travel_s == pytest.approx(250.0)
    closed = [_edge(net, "B", "C"), _edge(net, "C", "B")]
    # only the A-C road is left; the network itself is untouched
    assert route(net, src, target, blocked=closed, shortcut=False).travel_s == pytest.approx(550.0)
    mask = np.zeros(net.n_edges, dtype=bool)
    mask[closed] = True
    assert rank_sources(net, target, {"s": src}, blocked=mask, shortcut=False)[0].travel_s == pytest.approx(550.0)
    assert route(net, src, target, shortcut=False).travel_s == pytest.approx(250.0)
    # closing whole edges (a mask or indices) of the incident's own road leaves it unreachable
    own = [_edge(net, "C", "D"), _edge(net, "D", "C")]
    assert route(net, src, target, blocked=own, shortcut=False) is None


def test_offroad_legs_counted(line_net):
    target = snap_point(line_net, 38.4709, line_net.lon[1])  # ~100 m north of B
    src = edge_point(line_net, _edge(line_net, "A", "B"), 0.0)
    r = rank_sources(line_net, target, {"s": src}, offroad_kmh=18.0)[0]
    assert target.offroad_m == pytest.approx(100, abs=1)
    assert r.offroad_s == pytest.approx(target.offroad_m / 5.0)
    assert r.arrival_s == pytest.approx(100.0 + target.offroad_m / 5.0, abs=0.5)


@pytest.mark.parametrize("seed", range(6))
def test_random_graphs_match_networkx(seed, make_random_net, reference_arrival, random_points):
    net = make_random_net(seed)
    rng = np.random.default_rng(seed)
    pts = random_points(net, 41, seed)
    target, srcs = pts[0], pts[1:]
    sources = {f"s{i}": s for i, s in enumerate(srcs)}
    extra = {f"s{i}": float(rng.uniform(0, 600)) for i in range(len(srcs))}
    blocked = rng.choice(net.n_edges, size=5, replace=False).tolist() if seed % 2 else []
    expect = sorted(reference_arrival(net, s, target, blocked=blocked) + extra[k] for k, s in sources.items())
    expect = [x for x in expect if math.isfinite(x)]
    for k in (1, 5, 40):
        got = rank_sources(net, target, sources, k=k, extra_s=extra, blocked=blocked)
        assert [r.arrival_s for r in got] == pytest.approx(expect[:k], rel=1e-9, abs=1e-6)
        for r in got:  # the route's own numbers add up
            assert r.arrival_s == pytest.approx(r.extra_s + r.offroad_s + r.travel_s)
            assert r.distance_m >= 0


def test_route_distance_matches_path(make_random_net, random_points):
    net = make_random_net(11)
    a, b = random_points(net, 2, 3)
    r = route(net, a, b)
    assert r is not None
    assert r.coordinates[0] == (a.lon, a.lat) and r.coordinates[-1] == (b.lon, b.lat)
    assert r.distance_m > 0 and r.travel_s > 0


def test_sources_may_be_empty(line_net):
    assert rank_sources(line_net, edge_point(line_net, 0, 0.5), {}) == []
    assert isinstance(edge_point(line_net, 0, 0.5), Snap)
