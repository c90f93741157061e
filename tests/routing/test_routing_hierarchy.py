"""The contraction hierarchy: Dijkstra's times and paths, the same rankings as the live search,
its space budget, background build, and the live search under closures or a failed build."""

import itertools
import logging
import threading

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from routing import Group, RoadNetwork, close_circle, edge_point, hierarchy, rank_groups, ranking
from routing.hierarchy import Hierarchy, hierarchy_of
from tests.routing.conftest import LAT0, LON0, random_net


def _reference(net, target_edge, target_frac):
    """Seconds from every node to a point on a road: scipy over the reversed graph plus a virtual node."""
    n, w = net.n_nodes, net.travel_time_s
    rows, cols, data = [net.head], [net.tail], [w]  # reversed: head -> tail
    e, t, tw = target_edge, target_frac, int(net.twin[target_edge])
    rows.append(np.array([n]))
    cols.append(np.array([net.tail[e]]))
    data.append(np.array([t * w[e]]))
    if tw >= 0:
        rows.append(np.array([n]))
        cols.append(np.array([net.head[e]]))
        data.append(np.array([(1 - t) * w[tw]]))
    r, c, d = (np.concatenate(x) for x in (rows, cols, data))
    order = np.lexsort((d, c, r))  # parallel roads: the quickest
    r, c, d = r[order], c[order], d[order]
    first = np.r_[True, (r[1:] != r[:-1]) | (c[1:] != c[:-1])]
    g = sp.csr_matrix((d[first] + 1e-300, (r[first], c[first])), shape=(n + 1, n + 1))  # keep 0 s roads
    return dijkstra(g, indices=n)[:n]


def _seeds(net, e, t):
    w = net.travel_time_s
    seeds = [(int(net.tail[e]), t * w[e])]
    if net.twin[e] >= 0:
        seeds.append((int(net.head[e]), (1 - t) * w[net.twin[e]]))
    return seeds


def _path_s(net, path):
    """Seconds along a node path, the quickest road of each hop."""
    w = net.travel_time_s
    return sum(w[(net.tail == a) & (net.head == b)].min() for a, b in itertools.pairwise(path))


def _odd_net(seed):
    """Two components, one-ways, parallel roads of different speeds, a self-loop and 0 s roads."""
    rng = np.random.default_rng(seed)
    n = 70
    lat = LAT0 + rng.uniform(0, 0.05, n)
    lon = LON0 + rng.uniform(0, 0.05, n)
    tail, head = [], []
    for i in range(1, n):
        j = int(rng.integers(0, i)) if i != 40 else 41  # node 40 starts a second component
        if (i < 40) != (j < 40):
            j = i + 1 if i + 1 < n else i - 1
        tail += [i, j]
        head += [j, i]
    for _ in range(120):
        i, j = rng.integers(0, n, 2)
        tail.append(int(i))
        head.append(int(j))  # may be a self-loop, a parallel road, or a one-way
    tail, head = np.array(tail), np.array(head)
    length = rng.uniform(50, 3000, tail.shape[0])
    time_s = length / rng.choice([5.0, 10.0, 20.0], tail.shape[0])
    time_s[rng.random(tail.shape[0]) < 0.05] = 0.0
    return RoadNetwork.from_arrays(lat=lat, lon=lon, tail=tail, head=head, length_m=length, travel_time_s=time_s)


@pytest.mark.parametrize("seed", range(6))
def test_times_and_paths_equal_dijkstra(seed):
    net = random_net(seed, n=150, extra_edges=260) if seed % 2 else _odd_net(seed)
    h = Hierarchy(net)
    assert h.stats.nodes == net.n_nodes and h.stats.build_s >= 0
    rng = np.random.default_rng(seed)
    for _ in range(15):
        e, t = int(rng.integers(net.n_edges)), float(rng.uniform(0, 1))
        ref = _reference(net, e, t)
        seeds = _seeds(net, e, t)
        nodes = np.arange(net.n_nodes)
        got, paths, _ = h.to_target(seeds, nodes)
        assert np.array_equal(np.isfinite(got), np.isfinite(ref))
        fin = np.isfinite(ref)
        assert np.allclose(got[fin], ref[fin], rtol=1e-12, atol=1e-9)
        for i in rng.choice(np.flatnonzero(fin), 10):
            path = paths(int(i))
            assert path[0] == i and path[-1] in {s for s, _ in seeds}
            assert _path_s(net, path) + dict(seeds)[path[-1]] == pytest.approx(got[i], abs=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_rankings_equal_the_live_search(seed):
    net = random_net(seed + 10, n=140, extra_edges=240)
    rng = np.random.default_rng(seed)
    pts = [
        edge_point(net, int(e), float(f)) for e, f in zip(rng.integers(0, net.n_edges, 90), rng.uniform(0, 1, 90), strict=True)
    ]
    sources = {f"s{i}": s for i, s in enumerate(pts[1:])}
    extra = {k: float(rng.choice([0.0, 120.0, 300.0])) for k in sources}  # equal turnouts: ties
    names = list(sources)
    groups = {
        "top": Group(names[:50], k=8),
        "qty": Group(names[30:], k=2, quantity=12, amount={m: float(rng.integers(1, 5)) for m in names}, beyond=2),
        "tier": Group(names[::2], k=5, tier={m: int(rng.integers(0, 2)) for m in names}),
    }
    for target in pts[:1] + [edge_point(net, int(e), 0.5) for e in rng.integers(0, net.n_edges, 4)]:
        kw = {"extra_s": extra, "offroad_kmh": 15.0}
        fast = rank_groups(net, target, sources, groups, **kw)
        live = rank_groups(net, target, sources, groups, index=False, **kw)
        for gk in groups:
            assert [r.source for r in fast[gk]] == [r.source for r in live[gk]]
            for a, b in zip(fast[gk], live[gk], strict=True):
                assert a.arrival_s == pytest.approx(b.arrival_s, abs=1e-9)
                assert a.distance_m == pytest.approx(b.distance_m, abs=1e-6)
                assert a.travel_s == pytest.approx(b.travel_s, abs=1e-9)
                assert (a.direct, a.offroad_m, a.edges) == (b.direct, b.offroad_m, b.edges)
                assert a.route == b.route
    assert "hierarchy" in net._cache


def test_spaces_dropped_past_the_budget_stay_exact(monkeypatch):
    net = random_net(3, n=150, extra_edges=260)
    h = Hierarchy(net)
    seeds = _seeds(net, 0, 0.5)
    ref = _reference(net, 0, 0.5)
    got, paths, _ = h.to_target(seeds, np.arange(12))
    monkeypatch.setattr(hierarchy, "SPACE_BUDGET", h._pool_used - 1)  # less than these 12 spaces
    epoch = h._epoch
    other, *_ = h.to_target(seeds, np.arange(60, 120, 3))  # starts by emptying the pool
    assert h._epoch == epoch + 1
    everything, *_ = h.to_target(seeds, np.arange(net.n_nodes))  # one query over the budget: still answered
    for nodes, d in ((np.arange(12), got), (np.arange(60, 120, 3), other), (np.arange(net.n_nodes), everything)):
        fin = np.isfinite(ref[nodes])
        assert np.array_equal(np.isfinite(d), fin) and np.allclose(d[fin], ref[nodes][fin])
    for i in np.flatnonzero(np.isfinite(ref[:12])):
        path = paths(int(i))  # looked up again after the pool was emptied
        assert path[0] == i
        assert _path_s(net, path) + dict(seeds)[path[-1]] == pytest.approx(got[i])


def test_large_network_builds_in_the_background_and_ranks_live_meanwhile(monkeypatch):
    net = random_net(4, n=150, extra_edges=260)
    monkeypatch.setattr(hierarchy, "SYNC_BUILD_EDGES", 0)
    gate = threading.Event()
    real = Hierarchy.__init__

    def slow(self, n):
        gate.wait(10)
        real(self, n)

    monkeypatch.setattr(Hierarchy, "__init__", slow)
    target = edge_point(net, 3, 0.4)
    sources = {i: edge_point(net, i * 7, 0.5) for i in range(1, 20)}
    assert hierarchy_of(net) is None  # building: the ranking searches live
    live = rank_groups(net, target, sources, {0: Group(list(sources), k=5)})[0]
    assert len(live) == 5 and "hierarchy" not in net._cache
    gate.set()
    for t in threading.enumerate():
        if t.name == "road-hierarchy":
            t.join(30)
    assert isinstance(hierarchy_of(net), Hierarchy)
    fast = rank_groups(net, target, sources, {0: Group(list(sources), k=5)})[0]
    assert [r.source for r in fast] == [r.source for r in live]


@pytest.mark.parametrize("seed", range(4))
def test_closures_exact_on_the_hierarchy_or_searched_live(seed, monkeypatch):
    """With closures the hierarchy answers when every member that matters drives no closed
    stretch (its free-flowing time stands); otherwise the live search does: same answers either way."""
    net = random_net(20 + seed, n=160, extra_edges=280)
    rng = np.random.default_rng(seed)
    pts = [
        edge_point(net, int(e), float(f)) for e, f in zip(rng.integers(0, net.n_edges, 70), rng.uniform(0, 1, 70), strict=True)
    ]
    sources = {f"s{i}": p for i, p in enumerate(pts[10:])}
    names = list(sources)
    groups = {"few": Group(names[:30], k=3), "more": Group(names[20:], k=6, quantity=9, amount={m: 2.0 for m in names})}
    lives = []
    real = ranking._Search.__init__

    def counted(search, *a, **kw):  # a spy: the live search runs as ever, counted
        lives.append(1)
        real(search, *a, **kw)

    monkeypatch.setattr(ranking._Search, "__init__", counted)
    on_index = 0
    for target in pts[:10]:
        i = int(rng.integers(net.n_nodes))
        closure = close_circle(net, float(net.lat[i]), float(net.lon[i]), float(rng.choice([80.0, 300.0, 900.0])))
        lives.clear()
        fast = rank_groups(net, target, sources, groups, blocked=closure, offroad_kmh=15.0)
        on_index += not lives
        live = rank_groups(net, target, sources, groups, blocked=closure, offroad_kmh=15.0, index=False)
        for gk in groups:
            assert [(r.source, r.edges, r.direct) for r in fast[gk]] == [(r.source, r.edges, r.direct) for r in live[gk]]
            for x, y in zip(fast[gk], live[gk], strict=True):
                assert x.arrival_s == pytest.approx(y.arrival_s, abs=1e-9)
                assert x.distance_m == pytest.approx(y.distance_m, abs=1e-6)
                assert x.closure_m == pytest.approx(y.closure_m, abs=1e-6)
    assert on_index > 0  # most closures lie off the quickest routes


def test_a_closure_on_the_quickest_route_is_searched_live_and_a_failed_build_falls_back(monkeypatch, caplog):
    net = random_net(5, n=150, extra_edges=260)
    target = edge_point(net, 10, 0.5)
    sources = {i: edge_point(net, i * 5, 0.5) for i in range(1, 25)}
    everyone = {0: Group(list(sources), k=len(sources))}
    free = rank_groups(net, target, sources, everyone)[0]
    assert isinstance(hierarchy_of(net), Hierarchy)
    # close the middle of a route: its free-flowing time no longer stands
    r0 = next(r for r in free if r.edges and len(r.edges) >= 3)
    e = r0.edges[len(r0.edges) // 2]
    lat, lon = (net.lat[net.tail[e]] + net.lat[net.head[e]]) / 2, (net.lon[net.tail[e]] + net.lon[net.head[e]]) / 2
    closure = close_circle(net, float(lat), float(lon), 30.0)
    closed = rank_groups(net, target, sources, everyone, blocked=closure)[0]
    live = rank_groups(net, target, sources, everyone, blocked=closure, index=False)[0]
    assert [(r.source, r.arrival_s, r.edges) for r in closed] == [(r.source, r.arrival_s, r.edges) for r in live]
    assert {r.source: r.arrival_s for r in closed}.get(r0.source, np.inf) > r0.arrival_s

    other = random_net(6, n=80, extra_edges=100)

    def broken(self, n):
        raise MemoryError("no room")

    monkeypatch.setattr(Hierarchy, "__init__", broken)
    with caplog.at_level(logging.ERROR, logger="routing.hierarchy"):
        assert hierarchy_of(other) is None
    assert "search live" in caplog.text
    s = {i: edge_point(other, i, 0.5) for i in range(1, 10)}
    assert len(rank_groups(other, edge_point(other, 0, 0.5), s, {0: Group(list(s), k=3)})[0]) == 3


def test_saved_beside_the_network_and_read_back_only_for_the_same_network(tmp_path, caplog):
    net = random_net(7, n=150, extra_edges=260)
    hierarchy.prepare(net, tmp_path)
    net._cache["hierarchy_thread"].join(60)
    built = hierarchy_of(net)
    files = list(tmp_path.glob("hierarchy-*.npz"))
    assert isinstance(built, Hierarchy) and len(files) == 1
    assert hierarchy.status(net)["state"] == "ready"

    # the same network loaded again (another worker, a restart): read, not rebuilt, same answers
    same = RoadNetwork(**{f: getattr(net, f) for f in net.__dataclass_fields__ if f != "_cache"})
    with caplog.at_level(logging.INFO, logger="routing.hierarchy"):
        hierarchy.prepare(same, tmp_path)
        same._cache["hierarchy_thread"].join(60)
    assert "读取自" in caplog.text
    seeds = _seeds(net, 5, 0.3)
    a, *_ = built.to_target(seeds, np.arange(net.n_nodes))
    b, *_ = hierarchy_of(same).to_target(seeds, np.arange(net.n_nodes))
    assert np.array_equal(a, b)

    # another network (other travel times) never reads that file; a damaged file is rebuilt
    slower = RoadNetwork(
        **{f: getattr(net, f) for f in net.__dataclass_fields__ if f not in ("_cache", "travel_time_s")},
        travel_time_s=net.travel_time_s * 2,
    )
    assert Hierarchy.load(files[0], slower) is None
    files[0].write_bytes(b"not a hierarchy")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="routing.hierarchy"):
        again = RoadNetwork(**{f: getattr(net, f) for f in net.__dataclass_fields__ if f != "_cache"})
        hierarchy.prepare(again, tmp_path)
        again._cache["hierarchy_thread"].join(60)
    assert "unreadable" in caplog.text and isinstance(hierarchy_of(again), Hierarchy)
    assert Hierarchy.load(files[0], again) is not None  # written afresh


def test_a_build_thread_lost_in_a_fork_is_started_again(tmp_path, monkeypatch):
    """A forked worker inherits its parent's record of the build thread but not the thread."""
    net = random_net(8, n=150, extra_edges=260)
    monkeypatch.setattr(hierarchy, "SYNC_BUILD_EDGES", 0)
    gone = threading.Thread(target=lambda: None)
    gone.start()
    gone.join()
    net._cache["hierarchy_thread"] = gone
    net._cache["hierarchy_dir"] = tmp_path
    assert hierarchy.status(net)["state"] == "not started"
    assert hierarchy_of(net) is None  # starts it again, with the remembered directory
    net._cache["hierarchy_thread"].join(60)
    assert isinstance(hierarchy_of(net), Hierarchy) and list(tmp_path.glob("hierarchy-*.npz"))


def test_old_hierarchy_files_are_pruned(tmp_path):
    """Each network leaves a file; the two newest stay (a worker may still be on the previous one)."""
    for seed in (11, 12, 13):
        net = random_net(seed, n=60, extra_edges=80)
        hierarchy.prepare(net, tmp_path)
        net._cache["hierarchy_thread"].join(60)
        assert isinstance(hierarchy_of(net), Hierarchy)
    files = list(tmp_path.glob("hierarchy-*.npz"))
    assert len(files) == 2 and any(hierarchy.fingerprint(net) in f.name for f in files)


def test_a_hierarchy_that_cannot_be_saved_is_still_used(tmp_path, caplog):
    """A full or read-only disk costs the next start a build, not this one."""
    blocked = tmp_path / "roads"
    blocked.write_text("a file where the directory should be")
    net = random_net(14, n=60, extra_edges=80)
    with caplog.at_level(logging.WARNING, logger="routing.hierarchy"):
        hierarchy.prepare(net, blocked)
        net._cache["hierarchy_thread"].join(60)
    assert "not saved" in caplog.text
    assert hierarchy.status(net)["state"] == "ready" and isinstance(hierarchy_of(net), Hierarchy)
