"""Snap points to the nearest point on a road edge (not just the nearest node)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from routing.errors import TooFarFromRoadError
from routing.network import EARTH_RADIUS_M, RoadNetwork

DEFAULT_MAX_OFFROAD_M = 5_000.0
DEFAULT_OFFROAD_KMH = 15.0


@dataclass(frozen=True)
class Snap:
    """Where a point meets the road: ``fraction`` (0..1) along directed ``edge`` at (lat, lon).

    ``offroad_m`` is the straight distance in metres from the original point (``point_lat``,
    ``point_lon``; nan when unknown) to the road. A point far from every road is still a Snap:
    callers compare ``offroad_m`` with their own limit (``far``).
    """

    edge: int
    fraction: float
    lat: float
    lon: float
    offroad_m: float
    point_lat: float = math.nan
    point_lon: float = math.nan

    def far(self, max_offroad_m: float = DEFAULT_MAX_OFFROAD_M) -> bool:
        """True when the off-road leg is longer than ``max_offroad_m`` metres."""
        return self.offroad_m > max_offroad_m

    def offroad_s(self, *, offroad_kmh: float = DEFAULT_OFFROAD_KMH) -> float:
        """Seconds to cover the off-road leg at ``offroad_kmh``."""
        return self.offroad_m / (offroad_kmh / 3.6)


def _xyz(lat, lon) -> np.ndarray:
    """Unit-sphere coordinates scaled to metres: chord length ~ ground distance for short hops."""
    phi, lmb = np.radians(lat), np.radians(lon)
    c = np.cos(phi)
    return np.column_stack((c * np.cos(lmb), c * np.sin(lmb), np.sin(phi))) * EARTH_RADIUS_M


class _SnapIndex:
    """KD-tree over sample points along each road (one direction per two-way road)."""

    def __init__(self, net: RoadNetwork, spacing_m: float) -> None:
        # one representative per physical road: a two-way road's edges share the geometry
        edges = np.flatnonzero((net.twin < 0) | (np.arange(net.n_edges) < net.twin))
        edges = edges[net.tail[edges] != net.head[edges]]
        lat0, lon0 = net.lat[net.tail[edges]], net.lon[net.tail[edges]]
        lat1, lon1 = net.lat[net.head[edges]], net.lon[net.head[edges]]
        chord = np.linalg.norm(_xyz(lat0, lon0) - _xyz(lat1, lon1), axis=1)
        # sample points so the closest point of any edge is within spacing/2 of a sample
        pieces = np.maximum(1, np.ceil(chord / spacing_m).astype(np.int64))
        owner = np.repeat(np.arange(edges.shape[0]), pieces + 1)
        starts = np.repeat(np.cumsum(pieces + 1) - (pieces + 1), pieces + 1)
        t = (np.arange(owner.shape[0]) - starts) / pieces[owner]
        slat = lat0[owner] + t * (lat1 - lat0)[owner]
        slon = lon0[owner] + t * (lon1 - lon0)[owner]
        self.edges = edges
        self.owner = owner
        self.spacing_m = float(np.max(chord / pieces)) if edges.size else spacing_m
        self.tree = cKDTree(_xyz(slat, slon), balanced_tree=False, compact_nodes=False)


def _index(net: RoadNetwork, spacing_m: float = 100.0) -> _SnapIndex:
    idx = net._cache.get("snap_index")
    if idx is None:
        idx = _SnapIndex(net, spacing_m)
        net._cache["snap_index"] = idx
    return idx


def _project(net: RoadNetwork, lat: float, lon: float, edges: np.ndarray):
    """Exact point-to-segment projection in a local metric plane centred on the point."""
    kx = np.radians(1.0) * EARTH_RADIUS_M * np.cos(np.radians(lat))
    ky = np.radians(1.0) * EARTH_RADIUS_M
    ax = (net.lon[net.tail[edges]] - lon) * kx
    ay = (net.lat[net.tail[edges]] - lat) * ky
    bx = (net.lon[net.head[edges]] - lon) * kx
    by = (net.lat[net.head[edges]] - lat) * ky
    dx, dy = bx - ax, by - ay
    seg2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(seg2 > 0, -(ax * dx + ay * dy) / seg2, 0.0)
    t = np.clip(t, 0.0, 1.0)
    px, py = ax + t * dx, ay + t * dy
    return t, np.hypot(px, py), lat + py / ky, lon + px / kx


def snap_points(net: RoadNetwork, lats, lons, *, candidates: int = 8) -> list[Snap]:
    """Return the nearest on-road Snap of every (lat, lon) pair, however far the road is."""
    lats = np.atleast_1d(np.asarray(lats, dtype=np.float64))
    lons = np.atleast_1d(np.asarray(lons, dtype=np.float64))
    idx = _index(net)
    xyz = _xyz(lats, lons)
    k = min(candidates, idx.tree.n)
    dist, nearest = idx.tree.query(xyz, k=k)
    dist, nearest = dist.reshape(len(lats), k), nearest.reshape(len(lats), k)
    out = []
    for i in range(lats.shape[0]):
        # any edge closer than the nearest sample has a sample within spacing/2 of its closest point
        radius = dist[i, 0] + idx.spacing_m / 2 + 1.0
        if dist[i, -1] >= radius or k == idx.tree.n:
            cand = idx.owner[nearest[i]]
        else:
            cand = idx.owner[idx.tree.query_ball_point(xyz[i], radius)]
        edges = idx.edges[np.unique(cand)]
        t, d, plat, plon = _project(net, float(lats[i]), float(lons[i]), edges)
        j = int(np.argmin(d))
        out.append(Snap(int(edges[j]), float(t[j]), float(plat[j]), float(plon[j]), float(d[j]), float(lats[i]), float(lons[i])))
    return out


def snap_point(net: RoadNetwork, lat: float, lon: float, *, max_offroad_m: float | None = None) -> Snap:
    """Return the Snap of (lat, lon), however far the road is.

    With ``max_offroad_m`` given, raise TooFarFromRoadError beyond that many metres instead.
    """
    snap = snap_points(net, [lat], [lon])[0]
    if max_offroad_m is not None and snap.offroad_m > max_offroad_m:
        raise TooFarFromRoadError(lat, lon, snap.offroad_m, max_offroad_m)
    return snap


def edge_point(net: RoadNetwork, edge: int, fraction: float) -> Snap:
    """Return a Snap exactly on ``edge`` at ``fraction`` (0 = tail, 1 = head), off-road 0 m."""
    t, h = net.tail[edge], net.head[edge]
    lat = float(net.lat[t] + fraction * (net.lat[h] - net.lat[t]))
    lon = float(net.lon[t] + fraction * (net.lon[h] - net.lon[t]))
    return Snap(int(edge), float(fraction), lat, lon, 0.0, lat, lon)
