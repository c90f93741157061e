"""Graph factories for the routing tests: tiny hand-made networks and seeded random ones."""

import contextlib
import math
import random

import networkx as nx
import numpy as np
import pytest

from routing import RoadNetwork, edge_point

# ~111 m per 0.001 degree of latitude; nodes sit on a small local grid near Yinchuan
LAT0, LON0 = 38.47, 106.28


def _make_net(roads, coords=None, *, largest_component=False):
    """roads: (u, v, length_m, speed_kmh, oneway) tuples; coords: node -> (lat, lon) (else a line)."""
    G = nx.MultiDiGraph()
    nodes = sorted({r[0] for r in roads} | {r[1] for r in roads} | set(coords or {}))
    for i, n in enumerate(nodes):
        lat, lon = (coords or {}).get(n, (LAT0, LON0 + 0.01 * i))
        G.add_node(n, lat=lat, lon=lon)
    for u, v, length, speed, oneway in roads:
        G.add_edge(u, v, length_m=length, travel_time_s=length / (speed / 3.6))
        if not oneway:
            G.add_edge(v, u, length_m=length, travel_time_s=length / (speed / 3.6))
    return RoadNetwork.from_graph(G, largest_component=largest_component)


@pytest.fixture
def make_net():
    return _make_net


@pytest.fixture
def line_net():
    """A(0) - B(1) - C(2) - D(3) along a parallel, 1 km apart at 36 km/h (100 s per km), two-way."""
    coords = {n: (LAT0, LON0 + 0.011415 * i) for i, n in enumerate("ABCD")}
    return _make_net([("A", "B", 1000, 36, False), ("B", "C", 1000, 36, False), ("C", "D", 1000, 36, False)], coords)


def random_net(seed, *, n=60, p_oneway=0.3, extra_edges=80):
    """A connected-ish random planar-like graph with one-ways and parallel roads."""
    rng = random.Random(seed)
    coords = {i: (LAT0 + rng.uniform(0, 0.05), LON0 + rng.uniform(0, 0.05)) for i in range(n)}
    roads = []
    for i in range(1, n):  # a random spanning tree keeps most of it connected
        j = rng.randrange(i)
        roads.append((i, j, rng.uniform(100, 2000), rng.choice([30, 50, 60, 100]), rng.random() < p_oneway / 2))
    for _ in range(extra_edges):
        i, j = rng.sample(range(n), 2)
        roads.append((i, j, rng.uniform(100, 3000), rng.choice([30, 50, 60]), rng.random() < p_oneway))
    return _make_net(roads, coords)


@pytest.fixture
def make_random_net():
    return random_net


def nx_arrival(net, src, tgt, *, blocked=(), offroad_kmh=15.0, shortcut=True):
    """Reference arrival seconds (road + both off-road legs, or the straight off-road leg when quicker)
    by networkx on a graph with point nodes."""
    blocked = set(blocked)
    G = nx.DiGraph()
    w = net.travel_time_s
    for e in range(net.n_edges):
        if e in blocked:
            continue
        u, v = int(net.tail[e]), int(net.head[e])
        if not G.has_edge(u, v) or G[u][v]["w"] > w[e]:
            G.add_edge(u, v, w=float(w[e]))
    w = w.copy()
    w[list(blocked)] = math.inf  # closed edges are closed even partly
    G.add_edge("S", int(net.head[src.edge]), w=(1 - src.fraction) * w[src.edge])
    if net.twin[src.edge] >= 0:
        G.add_edge("S", int(net.tail[src.edge]), w=src.fraction * w[net.twin[src.edge]])
    G.add_edge(int(net.tail[tgt.edge]), "T", w=tgt.fraction * w[tgt.edge])
    if net.twin[tgt.edge] >= 0:
        G.add_edge(int(net.head[tgt.edge]), "T", w=(1 - tgt.fraction) * w[net.twin[tgt.edge]])
    best = math.inf
    with contextlib.suppress(nx.NetworkXNoPath):
        best = nx.dijkstra_path_length(G, "S", "T", weight="w")
    for g, pt in ((tgt.edge, tgt.fraction), (int(net.twin[tgt.edge]), 1 - tgt.fraction)):
        if g < 0:
            continue
        ps = src.fraction if g == src.edge else (1 - src.fraction if net.twin[src.edge] == g and g != src.edge else None)
        if ps is not None and pt >= ps:
            best = min(best, (pt - ps) * w[g])
    v = offroad_kmh / 3.6
    road = best + src.offroad_m / v + tgt.offroad_m / v
    if not shortcut:
        return road
    lat1, lat2 = math.radians(src.point_lat), math.radians(tgt.point_lat)
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin(math.radians(tgt.point_lon - src.point_lon) / 2) ** 2
    )
    crow = 2 * 6_371_008.8 * math.asin(math.sqrt(h))
    return min(road, crow / v)


@pytest.fixture
def reference_arrival():
    return nx_arrival


@pytest.fixture
def random_points():
    def make(net, count, seed):
        rng = np.random.default_rng(seed)
        edges = rng.integers(0, net.n_edges, count)
        return [edge_point(net, int(e), float(f)) for e, f in zip(edges, rng.uniform(0, 1, count), strict=False)]

    return make
