"""RoadNetwork: an immutable compact (CSR) road graph with forward and reversed adjacency."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from routing import speeds
from routing.errors import RoadDataError

EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lat1, lon1, lat2, lon2):
    """Return great-circle distances in metres (scalars or numpy arrays, degrees in)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """A directed road graph in CSR form; edge ``i`` runs ``tail[i] -> head[i]``.

    Edges are sorted by tail, so ``fwd_ptr[n]:fwd_ptr[n+1]`` are the edges leaving node ``n``;
    ``rev_edge[rev_ptr[n]:rev_ptr[n+1]]`` are the edges entering it (the transposed graph, so one
    search from an incident over reversed edges gives every resource's arrival time).
    Lengths are in metres, times in seconds, coordinates WGS-84 degrees.
    """

    node_id: np.ndarray  # original node ids (int64 or str)
    lat: np.ndarray
    lon: np.ndarray
    tail: np.ndarray  # int32
    head: np.ndarray  # int32
    length_m: np.ndarray
    travel_time_s: np.ndarray
    road_class: np.ndarray  # uint8 code into speeds.ROAD_CLASSES
    name_code: np.ndarray  # int32 into names (0 = no name)
    ref_code: np.ndarray  # int32 into refs (0 = no ref)
    names: np.ndarray  # str, names[0] == ""
    refs: np.ndarray
    fwd_ptr: np.ndarray
    rev_ptr: np.ndarray
    rev_edge: np.ndarray
    twin: np.ndarray  # index of the opposite edge of a two-way road, -1 for one-way
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    # ---------------------------------------------------------------- sizes
    @property
    def n_nodes(self) -> int:
        return int(self.lat.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.tail.shape[0])

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays (not counting lazily built search structures)."""
        return sum(
            getattr(self, f).nbytes
            for f in self.__dataclass_fields__
            if f != "_cache" and isinstance(getattr(self, f), np.ndarray)
        )

    def __repr__(self) -> str:
        return f"RoadNetwork(n_nodes={self.n_nodes}, n_edges={self.n_edges})"

    def edge_name(self, edge: int) -> str:
        return str(self.names[self.name_code[edge]])

    def edge_ref(self, edge: int) -> str:
        return str(self.refs[self.ref_code[edge]])

    def edge_highway(self, edge: int) -> str:
        return speeds.ROAD_CLASSES[int(self.road_class[edge])]

    # --------------------------------------------------------------- build
    @classmethod
    def from_arrays(
        cls,
        *,
        lat: np.ndarray,
        lon: np.ndarray,
        tail: np.ndarray,
        head: np.ndarray,
        length_m: np.ndarray,
        travel_time_s: np.ndarray,
        road_class: np.ndarray | None = None,
        name: Iterable[str] | None = None,
        ref: Iterable[str] | None = None,
        node_id: np.ndarray | None = None,
        largest_component: bool = False,
    ) -> RoadNetwork:
        """Build from plain arrays (one entry per node / per directed edge)."""
        lat = np.asarray(lat, dtype=np.float64)
        lon = np.asarray(lon, dtype=np.float64)
        tail = np.asarray(tail, dtype=np.int64)
        head = np.asarray(head, dtype=np.int64)
        length_m = np.asarray(length_m, dtype=np.float64)
        travel_time_s = np.asarray(travel_time_s, dtype=np.float64)
        n, m = lat.shape[0], tail.shape[0]
        if node_id is None:
            node_id = np.arange(n, dtype=np.int64)
        node_id = np.asarray(node_id)
        if n == 0 or m == 0:
            raise RoadDataError("the road graph has no nodes or no edges")
        if not (head.shape[0] == length_m.shape[0] == travel_time_s.shape[0] == m):
            raise RoadDataError("edge arrays differ in length")
        if tail.min() < 0 or head.min() < 0 or max(tail.max(), head.max()) >= n:
            raise RoadDataError("an edge refers to a node that does not exist")
        if not (np.all(np.isfinite(travel_time_s)) and np.all(travel_time_s >= 0)):
            raise RoadDataError("travel_time_s must be finite and non-negative")
        if not (np.all(np.isfinite(lat)) and np.all(np.isfinite(lon))):
            raise RoadDataError("node coordinates must be finite")
        road_class = np.zeros(m, dtype=np.uint8) if road_class is None else np.asarray(road_class, dtype=np.uint8)
        name_code, names = _categorical(name, m)
        ref_code, refs = _categorical(ref, m)

        if largest_component:
            keep_nodes = _largest_scc(n, tail, head)
            if keep_nodes.sum() < n:
                new_index = np.full(n, -1, dtype=np.int64)
                new_index[keep_nodes] = np.arange(int(keep_nodes.sum()))
                keep_edges = keep_nodes[tail] & keep_nodes[head]
                lat, lon, node_id = lat[keep_nodes], lon[keep_nodes], node_id[keep_nodes]
                tail, head = new_index[tail[keep_edges]], new_index[head[keep_edges]]
                length_m, travel_time_s = length_m[keep_edges], travel_time_s[keep_edges]
                road_class = road_class[keep_edges]
                name_code, ref_code = name_code[keep_edges], ref_code[keep_edges]
                n, m = lat.shape[0], tail.shape[0]

        # sort edges by tail (stable, keeps input order within a node) to get the forward CSR
        order = np.lexsort((head, tail))
        tail, head = tail[order].astype(np.int32), head[order].astype(np.int32)
        length_m, travel_time_s = length_m[order], travel_time_s[order]
        road_class, name_code, ref_code = road_class[order], name_code[order], ref_code[order]
        fwd_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(tail, minlength=n), out=fwd_ptr[1:])
        rev_edge = np.lexsort((tail, head)).astype(np.int32)
        rev_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(head, minlength=n), out=rev_ptr[1:])
        twin = _twins(tail, head, length_m)
        arrays = dict(
            node_id=node_id,
            lat=lat,
            lon=lon,
            tail=tail,
            head=head,
            length_m=length_m,
            travel_time_s=travel_time_s,
            road_class=road_class,
            name_code=name_code,
            ref_code=ref_code,
            names=names,
            refs=refs,
            fwd_ptr=fwd_ptr,
            rev_ptr=rev_ptr,
            rev_edge=rev_edge,
            twin=twin,
        )
        return cls(**{k: _readonly(np.ascontiguousarray(v)) for k, v in arrays.items()})

    @classmethod
    def from_graph(cls, G: nx.Graph, *, largest_component: bool = True) -> RoadNetwork:
        """Build from a networkx (Multi)(Di)Graph.

        Nodes need ``lat``/``lon`` (or OSMnx ``y``/``x``). Edges may carry ``length_m`` (or OSMnx
        ``length`` in m, or ``length_km``), ``travel_time_s`` (or ``travel_time``), ``speed_kmh``
        (or ``speed_kph``), ``highway``, ``maxspeed``, ``name``, ``ref``; missing lengths are the
        great-circle distance, missing times come from the speed. An undirected graph gives two
        directed edges per road.
        """
        if G.number_of_nodes() == 0 or G.number_of_edges() == 0:
            raise RoadDataError("the road graph has no nodes or no edges")
        nodes = list(G.nodes)
        index = {node: i for i, node in enumerate(nodes)}
        lat = np.empty(len(nodes))
        lon = np.empty(len(nodes))
        for i, node in enumerate(nodes):
            data = G.nodes[node]
            try:
                lat[i] = float(data["lat"] if "lat" in data else data["y"])
                lon[i] = float(data["lon"] if "lon" in data else data["x"])
            except KeyError as exc:
                raise RoadDataError(f"node {node!r} has no lat/lon (or y/x)") from exc
        tails, heads, lengths, times, classes, names, refs = [], [], [], [], [], [], []
        directed = G.is_directed()
        for u, v, data in G.edges(data=True):
            length, time, code, name, ref = _edge_values(data, lat[index[u]], lon[index[u]], lat[index[v]], lon[index[v]])
            pairs = [(u, v)] if directed else [(u, v), (v, u)]
            for a, b in pairs:
                tails.append(index[a])
                heads.append(index[b])
                lengths.append(length)
                times.append(time)
                classes.append(code)
                names.append(name)
                refs.append(ref)
        node_id = _node_id_array(nodes)
        return cls.from_arrays(
            lat=lat,
            lon=lon,
            tail=np.array(tails),
            head=np.array(heads),
            length_m=np.array(lengths),
            travel_time_s=np.array(times),
            road_class=np.array(classes),
            name=names,
            ref=refs,
            node_id=node_id,
            largest_component=largest_component,
        )

    def to_graph(self) -> nx.MultiDiGraph:
        """Return a networkx MultiDiGraph (node attrs lat/lon and OSMnx y/x; edge attrs in SI units)."""
        G = nx.MultiDiGraph()
        ids = self.node_id.tolist()
        for i, node in enumerate(ids):
            G.add_node(node, lat=float(self.lat[i]), lon=float(self.lon[i]), y=float(self.lat[i]), x=float(self.lon[i]))
        for e in range(self.n_edges):
            attrs = dict(
                length_m=float(self.length_m[e]),
                travel_time_s=float(self.travel_time_s[e]),
                highway=self.edge_highway(e),
                speed_kmh=_speed(float(self.length_m[e]), float(self.travel_time_s[e])),
                edge_index=e,
            )
            if self.name_code[e]:
                attrs["name"] = self.edge_name(e)
            if self.ref_code[e]:
                attrs["ref"] = self.edge_ref(e)
            G.add_edge(ids[self.tail[e]], ids[self.head[e]], **attrs)
        return G

    # ------------------------------------------------------- search support
    def node_index(self, node) -> int:
        """Return the internal index of an original node id (KeyError if absent)."""
        lookup = self._cache.get("node_lookup")
        if lookup is None:
            lookup = {k: i for i, k in enumerate(self.node_id.tolist())}
            self._cache["node_lookup"] = lookup
        return lookup[node]

    def _weights(self, blocked: np.ndarray | None) -> np.ndarray:
        """Travel times per edge with closed edges at +inf (a copy only when something is closed)."""
        if blocked is None:
            return self.travel_time_s
        w = self.travel_time_s.copy()
        w[blocked] = np.inf
        return w

    def _search_matrix(self, *, reverse: bool) -> tuple[sp.csr_matrix, threading.Lock]:
        """A scipy CSR matrix of the (reversed) graph plus one virtual node ``n`` with 2 spare slots.

        The virtual node lets one scipy Dijkstra start from a point in the middle of an edge
        (two seeds with different initial times). Its slots are rewritten per query under the lock.
        """
        key = "rev_matrix" if reverse else "fwd_matrix"
        cached = self._cache.get(key)
        if cached is None:
            n, m = self.n_nodes, self.n_edges
            if reverse:
                order = self.rev_edge
                cols = self.tail[order]
                ptr = self.rev_ptr
            else:
                order = None
                cols = self.head
                ptr = self.fwd_ptr
            indptr = np.empty(n + 2, dtype=np.int32 if m + 2 < 2**31 else np.int64)
            indptr[: n + 1] = ptr
            indptr[n + 1] = m + 2
            indices = np.empty(m + 2, dtype=indptr.dtype)
            indices[:m] = cols
            indices[m:] = n  # self-loops of weight inf until a query fills them in
            data = np.empty(m + 2, dtype=np.float64)
            data[:m] = self.travel_time_s if order is None else self.travel_time_s[order]
            data[m:] = np.inf
            matrix = sp.csr_matrix((data, indices, indptr), shape=(n + 1, n + 1))
            cached = (matrix, threading.Lock(), order)
            self._cache[key] = cached
        return cached


def _speed(length_m: float, time_s: float) -> float:
    return round(length_m / time_s * 3.6, 3) if time_s > 0 else 0.0


def _categorical(values: Iterable[str] | None, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Encode per-edge strings as codes into a table of unique strings ("" is code 0)."""
    if values is None:
        return np.zeros(m, dtype=np.int32), np.array([""])
    values = ["" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in values]
    if len(values) != m:
        raise RoadDataError("edge name/ref array differs in length")
    table = {"": 0}
    codes = np.fromiter((table.setdefault(v, len(table)) for v in values), dtype=np.int32, count=m)
    return codes, np.array(list(table), dtype=str)


def _node_id_array(nodes: list) -> np.ndarray:
    if all(isinstance(n, (int, np.integer)) for n in nodes):
        return np.array(nodes, dtype=np.int64)
    # GraphML gives string ids; keep numeric-looking ones as ints so OSM ids round-trip
    if all(isinstance(n, str) and n.lstrip("-").isdigit() for n in nodes):
        return np.array([int(n) for n in nodes], dtype=np.int64)
    return np.array([str(n) for n in nodes], dtype=str)


def _edge_values(data: dict[str, Any], lat1: float, lon1: float, lat2: float, lon2: float):
    if "length_m" in data:
        length = float(data["length_m"])
    elif "length" in data:
        length = float(data["length"])
    elif "length_km" in data:
        length = float(data["length_km"]) * 1000.0
    else:
        length = float(haversine_m(lat1, lon1, lat2, lon2))
    highway = data.get("highway")
    if "travel_time_s" in data:
        time = float(data["travel_time_s"])
    elif "travel_time" in data:
        time = float(data["travel_time"])
    else:
        speed = data.get("speed_kmh", data.get("speed_kph"))
        speed = float(speed) if speed not in (None, "") else speeds.edge_speed_kmh(highway, data.get("maxspeed"))
        time = speeds.travel_time_s(length, speed)
    code = speeds.CLASS_CODE[speeds.road_class(highway)]
    return length, time, code, data.get("name"), data.get("ref")


def _largest_scc(n: int, tail: np.ndarray, head: np.ndarray) -> np.ndarray:
    """Boolean mask of the nodes in the largest strongly connected component."""
    g = sp.csr_matrix((np.ones(tail.shape[0], dtype=np.int8), (tail, head)), shape=(n, n))
    _, labels = connected_components(g, directed=True, connection="strong")
    return labels == np.bincount(labels).argmax()


def _twins(tail: np.ndarray, head: np.ndarray, length_m: np.ndarray) -> np.ndarray:
    """For each edge u->v the v->u edge of the same road (closest length, within 1 m / 1 %), else -1."""
    m = tail.shape[0]
    twin = np.full(m, -1, dtype=np.int32)
    # group edges by unordered pair; within a pair, match each direction to the closest length
    lo, hi = np.minimum(tail, head).astype(np.int64), np.maximum(tail, head).astype(np.int64)
    key = lo * (int(hi.max()) + 1) + hi
    forward = tail < head
    order = np.lexsort((length_m, ~forward, key))
    sk = key[order]
    starts = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]])
    ends = np.r_[starts[1:], m]
    multi = np.flatnonzero(ends - starts > 1)
    if multi.size == 0:
        return twin
    simple = multi[(ends[multi] - starts[multi]) == 2]
    a, b = order[starts[simple]], order[starts[simple] + 1]
    ok = (tail[a] == head[b]) & (tail[a] != head[a]) & _same_length(length_m[a], length_m[b])
    twin[a[ok]], twin[b[ok]] = b[ok], a[ok]
    for g in multi[(ends[multi] - starts[multi]) > 2]:  # parallel roads: rare, do it in Python
        group = order[starts[g] : ends[g]].tolist()
        ups = [e for e in group if tail[e] < head[e]]
        downs = [e for e in group if tail[e] > head[e]]
        for e in ups:
            best = min(downs, key=lambda d: abs(length_m[d] - length_m[e]), default=None)
            if best is not None and _same_length(length_m[e], length_m[best]):
                twin[e], twin[best] = best, e
                downs.remove(best)
    return twin


def _same_length(a, b):
    return np.abs(a - b) <= np.maximum(1.0, 0.01 * np.maximum(a, b))
