"""Bounded multi-group ranking (same answers as the unbounded search), straight off-road legs, far scenes."""

import math

import numpy as np
import pytest

from routing import Group, close_circle, edge_point, rank_groups, rank_sources, route, snap_point


def _full_order(net, target, sources, extra, members, tier, blocked=None):
    """The unbounded answer: every member's arrival, sorted by (tier, arrival, member order)."""
    ranked = {r.source: r for r in rank_sources(net, target, sources, k=len(sources), extra_s=extra, blocked=blocked)}
    keep = [m for m in members if m in ranked]
    return sorted(keep, key=lambda m: (tier.get(m, 0), ranked[m].arrival_s, members.index(m))), ranked


def _want(order, group):
    amount = group.amount or {}
    p = group.k
    if group.quantity > 0:
        got, cover = 0.0, len(order)
        for i, m in enumerate(order, start=1):
            got += amount.get(m, 1.0)
            if got >= group.quantity:
                cover = i + group.beyond
                break
        p = max(p, cover)
    return order[:p]


@pytest.mark.parametrize("seed", range(8))
def test_groups_equal_the_unbounded_search(seed, make_random_net, random_points):
    net = make_random_net(seed, n=120, extra_edges=200)
    rng = np.random.default_rng(seed)
    pts = random_points(net, 81, seed)
    sources = {f"s{i}": s for i, s in enumerate(pts[1:])}
    extra = {k: float(rng.uniform(0, 900)) for k in sources}
    names = list(sources)
    groups = {}
    for g in range(5):
        members = [names[i] for i in rng.choice(len(names), size=int(rng.integers(3, 40)), replace=False)]
        tier = {m: int(rng.random() < 0.3) for m in members}
        amount = {m: float(rng.integers(1, 6)) for m in members}
        groups[g] = Group(
            members,
            k=int(rng.integers(1, 6)),
            quantity=float(rng.integers(0, 30)),
            amount=amount,
            beyond=int(rng.integers(0, 3)),
            tier=tier,
        )
    blocked = None
    if seed % 2:
        i = int(rng.integers(net.n_nodes))
        blocked = [close_circle(net, float(net.lat[i]), float(net.lon[i]), 600.0)]
    for target in pts[:1] + random_points(net, 3, seed + 50):
        got = rank_groups(net, target, sources, groups, extra_s=extra, blocked=blocked)
        for gk, g in groups.items():
            order, ranked = _full_order(net, target, sources, extra, list(g.members), g.tier, blocked)
            want = _want(order, g)
            assert [r.source for r in got[gk]] == want
            assert [r.arrival_s for r in got[gk]] == pytest.approx([ranked[m].arrival_s for m in want], rel=1e-12)
            assert [r.distance_m for r in got[gk]] == pytest.approx([ranked[m].distance_m for m in want], rel=1e-9, abs=1e-6)


def test_group_quantity_and_tiers(line_net):
    e = int(np.flatnonzero((line_net.tail == 0) & (line_net.head == 1))[0])
    target = edge_point(line_net, e, 0.0)  # at A
    pts = {f"r{i}": edge_point(line_net, e, 0.1 * i) for i in range(1, 10)}  # 100 m apart eastwards
    amount = {f"r{i}": 2.0 for i in range(1, 10)}
    # k=1 but 5 units wanted: three lots (2 + 2 + 2), then one more
    got = rank_groups(line_net, target, pts, {"g": Group(list(pts), k=1, quantity=5, amount=amount, beyond=1)}, shortcut=False)
    assert [r.source for r in got["g"]] == ["r1", "r2", "r3", "r4"]
    # tier 1 (e.g. unconfirmed) comes after every tier-0 member, whatever its arrival
    tier = {"r1": 1, "r2": 1}
    got = rank_groups(line_net, target, pts, {"g": Group(list(pts), k=3, tier=tier)}, shortcut=False)
    assert [r.source for r in got["g"]] == ["r3", "r4", "r5"]
    # quantity never reached: every reachable member comes back
    got = rank_groups(line_net, target, pts, {"g": Group(list(pts), k=1, quantity=100, amount=amount)}, shortcut=False)
    assert len(got["g"]) == 9


def test_straight_offroad_leg_beats_the_detour(line_net):
    # two points 540 m apart, both ~13 km north of the road: driving means 26 km of off-road legs
    lon = float(line_net.lon[1])
    a = snap_point(line_net, 38.47 + 0.117, lon)
    b = snap_point(line_net, 38.47 + 0.117, lon + 540 / (111_195 * math.cos(math.radians(38.587))))
    assert a.offroad_m > 12_000 and a.far(5000) and not a.far(20_000)
    r = route(line_net, a, b, offroad_kmh=20.0)
    assert r.direct and r.distance_m == 0.0
    assert r.offroad_m == pytest.approx(540.0, rel=1e-3)
    assert r.total_s == pytest.approx(540.0 / (20 / 3.6), rel=1e-3)
    assert r.coordinates == [(a.point_lon, a.point_lat), (b.point_lon, b.point_lat)]
    # the same point to itself: 0 s, 0 m
    same = route(line_net, a, a, offroad_kmh=20.0)
    assert same.total_s == 0.0 and same.offroad_m == 0.0 and same.distance_m == 0.0
    # ranked with turnout: arrival = turnout + straight leg; road and off-road metres add up
    ranked = rank_sources(line_net, b, {"x": a}, extra_s={"x": 300.0}, offroad_kmh=20.0)[0]
    assert ranked.arrival_s == pytest.approx(300.0 + 540.0 / (20 / 3.6), rel=1e-3)
    assert ranked.direct and ranked.travel_s == 0.0
    # without the shortcut both legs are driven to the road and back
    slow = route(line_net, a, b, offroad_kmh=20.0, shortcut=False)
    assert not slow.direct and slow.offroad_m == pytest.approx(a.offroad_m + b.offroad_m)
    assert slow.total_s > 10 * r.total_s


def test_road_wins_when_quicker_and_distances_add_up(line_net):
    target = snap_point(line_net, 38.4709, float(line_net.lon[3]))  # 100 m north of D
    src = snap_point(line_net, 38.4709, float(line_net.lon[0]))  # 100 m north of A, 3 km west
    r = rank_sources(line_net, target, {"s": src}, offroad_kmh=15.0)[0]
    assert not r.direct
    assert r.distance_m == pytest.approx(3000.0)
    assert r.offroad_m == pytest.approx(src.offroad_m + target.offroad_m)
    assert r.arrival_s == pytest.approx(300.0 + r.offroad_m / (15 / 3.6))


def test_far_scene_is_a_value(line_net):
    far = snap_point(line_net, 38.47 + 0.144, float(line_net.lon[2]))  # 16 km from the road
    assert far.offroad_m == pytest.approx(16_000, rel=0.01)
    assert far.far(15_000)
    src = edge_point(line_net, 0, 0.0)
    r = rank_sources(line_net, far, {"s": src}, offroad_kmh=20.0, shortcut=False)[0]
    assert r.offroad_m == pytest.approx(far.offroad_m) and math.isfinite(r.arrival_s)
    assert r.distance_m == pytest.approx(2000.0)
