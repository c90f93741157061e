"""Road closures as edge masks: the stretch of road near a point, or the roads inside a polygon."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from routing.network import EARTH_RADIUS_M, RoadNetwork


def edges_near_point(net: RoadNetwork, lat: float, lon: float, radius_m: float) -> np.ndarray:
    """Indices of every directed edge passing within ``radius_m`` metres of (lat, lon)."""
    kx = np.radians(1.0) * EARTH_RADIUS_M * np.cos(np.radians(lat))
    ky = np.radians(1.0) * EARTH_RADIUS_M
    ax = (net.lon[net.tail] - lon) * kx
    ay = (net.lat[net.tail] - lat) * ky
    bx = (net.lon[net.head] - lon) * kx
    by = (net.lat[net.head] - lat) * ky
    dx, dy = bx - ax, by - ay
    seg2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.clip(np.where(seg2 > 0, -(ax * dx + ay * dy) / seg2, 0.0), 0.0, 1.0)
    return np.flatnonzero(np.hypot(ax + t * dx, ay + t * dy) <= radius_m)


def _inside(ring: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Even-odd rule: which (lon, lat) points lie inside the closed ring (k, 2) of (lon, lat)."""
    inside = np.zeros(lon.shape[0], dtype=bool)
    x0, y0 = ring[:-1, 0], ring[:-1, 1]
    x1, y1 = ring[1:, 0], ring[1:, 1]
    for a, b, c, d in zip(x0, y0, x1, y1):
        crosses = (b > lat) != (d > lat)
        with np.errstate(invalid="ignore", divide="ignore"):
            x_at = a + (lat - b) * (c - a) / (d - b)
        inside ^= crosses & (lon < x_at)
    return inside


def edges_in_polygon(net: RoadNetwork, rings: Sequence[Sequence[Sequence[float]]]) -> np.ndarray:
    """Indices of every directed edge with an end or its midpoint inside a GeoJSON polygon.

    ``rings`` are GeoJSON Polygon coordinates ``[[[lon, lat], ...], hole, ...]``; holes are open.
    """
    outer = np.asarray(rings[0], dtype=np.float64)
    if outer.shape[0] < 3:
        return np.zeros(0, dtype=np.int64)
    if not np.array_equal(outer[0], outer[-1]):
        outer = np.vstack([outer, outer[:1]])
    lo, hi = outer.min(axis=0), outer.max(axis=0)
    node_in = np.zeros(net.n_nodes, dtype=bool)
    box = (net.lon >= lo[0]) & (net.lon <= hi[0]) & (net.lat >= lo[1]) & (net.lat <= hi[1])
    idx = np.flatnonzero(box)
    node_in[idx] = _inside(outer, net.lon[idx], net.lat[idx])
    for hole in rings[1:]:
        h = np.asarray(hole, dtype=np.float64)
        if h.shape[0] >= 3:
            if not np.array_equal(h[0], h[-1]):
                h = np.vstack([h, h[:1]])
            node_in[idx] &= ~_inside(h, net.lon[idx], net.lat[idx])
    mid_lon = (net.lon[net.tail] + net.lon[net.head]) / 2
    mid_lat = (net.lat[net.tail] + net.lat[net.head]) / 2
    near = np.flatnonzero((mid_lon >= lo[0]) & (mid_lon <= hi[0]) & (mid_lat >= lo[1]) & (mid_lat <= hi[1]))
    mid_in = np.zeros(net.n_edges, dtype=bool)
    mid_in[near] = _inside(outer, mid_lon[near], mid_lat[near])
    return np.flatnonzero(node_in[net.tail] | node_in[net.head] | mid_in)
