"""Read road networks (GraphML, GeoJSON, OSM XML/PBF) and save/load a compact .npz cache."""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import networkx as nx
import numpy as np

from routing import speeds
from routing.errors import RoadDataError
from routing.network import RoadNetwork, haversine_m

CACHE_VERSION = 1
_ARRAYS = (
    "node_id",
    "lat",
    "lon",
    "tail",
    "head",
    "length_m",
    "travel_time_s",
    "road_class",
    "name_code",
    "ref_code",
    "names",
    "refs",
    "fwd_ptr",
    "rev_ptr",
    "rev_edge",
    "twin",
)


def load_graphml(path: str | Path, *, largest_component: bool = True) -> RoadNetwork:
    """Read a GraphML road graph (see RoadNetwork.from_graph for the attributes used)."""
    try:
        G = nx.read_graphml(path)
    except (OSError, nx.NetworkXError, ValueError) as exc:  # ElementTree errors are ValueErrors
        msg = f"cannot read GraphML {path}: {exc}"
        raise RoadDataError(msg) from exc
    return RoadNetwork.from_graph(G, largest_component=largest_component)


def _oneway(value) -> int:
    """1 forward only, -1 backward only, 0 both ways."""
    v = str(value).strip().lower() if value is not None else ""
    if v in ("yes", "true", "1"):
        return 1
    if v in ("-1", "reverse"):
        return -1
    return 0


class _Builder:
    """Collects nodes and directed edges from road lines, then builds the network."""

    def __init__(self) -> None:
        self.index: dict = {}
        self.lat: list[float] = []
        self.lon: list[float] = []
        self.tail: list[int] = []
        self.head: list[int] = []
        self.length: list[float] = []
        self.time: list[float] = []
        self.cls: list[int] = []
        self.name: list[str | None] = []
        self.ref: list[str | None] = []

    def node(self, key, lat: float, lon: float) -> int:
        i = self.index.get(key)
        if i is None:
            i = self.index[key] = len(self.lat)
            self.lat.append(lat)
            self.lon.append(lon)
        return i

    def line(self, nodes: list[int], tags: dict) -> None:
        highway = tags.get("highway")
        speed = speeds.edge_speed_kmh(highway, tags.get("maxspeed"))
        code = speeds.CLASS_CODE[speeds.road_class(highway)]
        oneway = _oneway(tags.get("oneway"))
        if oneway == 0 and (
            tags.get("junction") in ("roundabout", "circular")
            or (str(highway).startswith("motorway") and tags.get("oneway") is None)
        ):
            oneway = 1  # roundabouts and motorways are one-way unless tagged otherwise (OSM default)
        for a, b in itertools.pairwise(nodes):
            if a == b:
                continue
            length = float(haversine_m(self.lat[a], self.lon[a], self.lat[b], self.lon[b]))
            pairs = {1: [(a, b)], -1: [(b, a)], 0: [(a, b), (b, a)]}[oneway]
            for u, v in pairs:
                self.tail.append(u)
                self.head.append(v)
                self.length.append(length)
                self.time.append(speeds.travel_time_s(length, speed))
                self.cls.append(code)
                self.name.append(tags.get("name"))
                self.ref.append(tags.get("ref"))

    def build(self, *, largest_component: bool, source: str) -> RoadNetwork:
        if not self.tail:
            msg = f"no drivable roads found in {source}"
            raise RoadDataError(msg)
        ids = list(self.index)
        node_id = np.array(ids, dtype=np.int64) if all(isinstance(i, int) for i in ids) else np.arange(len(ids))
        return RoadNetwork.from_arrays(
            lat=np.array(self.lat),
            lon=np.array(self.lon),
            tail=np.array(self.tail),
            head=np.array(self.head),
            length_m=np.array(self.length),
            travel_time_s=np.array(self.time),
            road_class=np.array(self.cls),
            name=self.name,
            ref=self.ref,
            node_id=node_id,
            largest_component=largest_component,
        )


def load_geojson(path: str | Path, *, largest_component: bool = True) -> RoadNetwork:
    """Read LineString/MultiLineString features (properties highway/maxspeed/oneway/name/ref).

    Lines join where they share an exact vertex (coordinates rounded to 1e-7 degree).
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        msg = f"cannot read GeoJSON {path}: {exc}"
        raise RoadDataError(msg) from exc
    features = data.get("features", []) if data.get("type") == "FeatureCollection" else [data]
    b = _Builder()
    for f in features:
        geom = f.get("geometry") or {}
        props = f.get("properties") or {}
        if geom.get("type") == "LineString":
            lines = [geom["coordinates"]]
        elif geom.get("type") == "MultiLineString":
            lines = geom["coordinates"]
        else:
            continue
        for coords in lines:
            nodes = [b.node((round(c[0], 7), round(c[1], 7)), float(c[1]), float(c[0])) for c in coords]
            b.line(nodes, props)
    return b.build(largest_component=largest_component, source=str(path))


def load_osm(path: str | Path, *, largest_component: bool = True, progress: bool | None = None) -> RoadNetwork:
    """Read drivable ways from an OSM ``.osm`` XML or ``.osm.pbf`` file (via pyosmium).

    Speeds come from ``maxspeed`` or the ``highway`` class; ``oneway=yes/true/1/-1`` and
    roundabouts are one-way. ``progress`` shows a tqdm bar (default: only on a terminal).
    """
    import osmium  # imported here: only this reader needs it

    path = Path(path)
    if not path.exists():
        msg = f"OSM file not found: {path}"
        raise RoadDataError(msg)
    if progress is None:
        progress = sys.stderr.isatty()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(desc=f"reading {path.name}", unit=" ways", mininterval=0.5)
    b = _Builder()
    fp = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_locations()
    try:
        for way in fp:
            if not way.is_way():
                continue
            tags = way.tags
            if tags.get("highway") not in speeds.DRIVABLE_HIGHWAYS:
                continue
            if tags.get("access") in ("no", "private") or tags.get("area") == "yes":
                continue
            nodes = []
            for n in way.nodes:
                if not n.location.valid():
                    continue
                nodes.append(b.node(int(n.ref), n.location.lat, n.location.lon))
            b.line(nodes, {k: tags.get(k) for k in ("highway", "maxspeed", "oneway", "junction", "name", "ref")})
            if bar is not None:
                bar.update(1)
    except RuntimeError as exc:  # pyosmium reports unreadable files as RuntimeError
        msg = f"cannot read OSM file {path}: {exc}"
        raise RoadDataError(msg) from exc
    finally:
        if bar is not None:
            bar.close()
    return b.build(largest_component=largest_component, source=str(path))


def save_cache(net: RoadNetwork, path: str | Path) -> None:
    """Write the network as an uncompressed .npz (fast to load, no pickle)."""
    arrays = {name: getattr(net, name) for name in _ARRAYS}
    arrays["version"] = np.array([CACHE_VERSION])
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)  # atomic: a worker never reads a half-written cache


def load_cache(path: str | Path) -> RoadNetwork:
    """Read a network written by save_cache."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if int(z["version"][0]) != CACHE_VERSION:
                msg = f"road cache {path} has version {int(z['version'][0])}, expected {CACHE_VERSION}"
                raise RoadDataError(msg)
            arrays = {name: z[name] for name in _ARRAYS}
    except (OSError, KeyError, ValueError) as exc:
        msg = f"cannot read road cache {path}: {exc}"
        raise RoadDataError(msg) from exc
    for a in arrays.values():
        a.flags.writeable = False
    return RoadNetwork(**arrays)


def check_area(net: RoadNetwork, area: tuple[float, float, float, float], *, min_share: float = 0.5) -> None:
    """Refuse a network that does not lie in the service area ``(lat_min, lon_min, lat_max, lon_max)``.

    Raises RoadDataError (message in Chinese, for the operator) when fewer than ``min_share`` of
    the nodes lie inside, saying so when the file has latitude and longitude swapped.
    """
    lat_min, lon_min, lat_max, lon_max = area

    def share(lat: np.ndarray, lon: np.ndarray) -> float:
        inside = (lat >= lat_min) & (lat <= lat_max) & (lon >= lon_min) & (lon <= lon_max)
        return float(inside.mean()) if inside.size else 0.0

    here = share(net.lat, net.lon)
    if here >= min_share:
        return
    if share(net.lon, net.lat) >= min_share or (np.abs(net.lat) > 90).any():
        msg = (
            f"路网经纬度疑似颠倒: 按 (纬度, 经度) 只有 {here:.0%} 的节点在服务区域内, 对调后大部分在区域内; "
            "请检查文件的坐标顺序 (GeoJSON 为 [经度, 纬度])"
        )
        raise RoadDataError(msg)
    lat_c, lon_c = float(np.median(net.lat)), float(np.median(net.lon))
    msg = (
        f"路网不在服务区域内: 只有 {here:.0%} 的节点在区域 (纬度 {lat_min:g}–{lat_max:g}, 经度 {lon_min:g}–{lon_max:g}) 内, "
        f"路网中心约在 ({lat_c:.3f}, {lon_c:.3f})"
    )
    raise RoadDataError(msg)


def import_file(
    path: str | Path,
    *,
    largest_component: bool = True,
    area: tuple[float, float, float, float] | None = None,
) -> RoadNetwork:
    """Read a road file, choosing the reader by suffix (.graphml, .geojson/.json, .osm, .pbf, .npz).

    With ``area`` (lat_min, lon_min, lat_max, lon_max), a network outside it or with latitude and
    longitude swapped is refused (``check_area``).
    """
    name = str(path).lower()
    if name.endswith(".graphml"):
        net = load_graphml(path, largest_component=largest_component)
    elif name.endswith((".geojson", ".json")):
        net = load_geojson(path, largest_component=largest_component)
    elif name.endswith((".osm", ".osm.pbf", ".pbf", ".osm.xml")):
        net = load_osm(path, largest_component=largest_component)
    elif name.endswith(".npz"):
        net = load_cache(path)
    else:
        msg = f"unknown road file type: {path} (expected .graphml, .geojson, .osm, .osm.pbf or .npz)"
        raise RoadDataError(msg)
    if area is not None:
        check_area(net, area)
    return net
