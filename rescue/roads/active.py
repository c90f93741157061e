"""The active road network of this process: loaded once from a compact cache, shared by every request.

Which network is active, first match wins:
1. ``ROADS_FILE`` (config / ``RESCUE_ROADS_FILE``): any file ``routing.import_file`` reads;
2. ``<instance>/roads/active.npz``, written by ``flask --app app roads import FILE``;
3. the seeded Ningxia network ``seed/roads/ningxia.graphml``.
A GraphML/GeoJSON/OSM source is parsed once and cached as ``<instance>/roads/<name>-<key>.npz``;
later starts (and other workers) load the cache in milliseconds.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from rescue.roads.network import ActiveRoads, Settings
from routing import Gazetteer, RoadNetwork, hierarchy, import_file, load_cache, save_cache

ROOT = Path(__file__).resolve().parents[2]
SEED_ROADS = ROOT / "seed" / "roads" / "ningxia.graphml"
SEED_PLACES = ROOT / "seed" / "data" / "places.json"
ACTIVE_NAME = "active.npz"

# networks already loaded in this process, by source file state: several apps (tests, CLI) share one
_LOADED: dict[tuple, RoadNetwork] = {}
_LOAD_LOCK = threading.Lock()


def roads_dir(instance_path: str | Path) -> Path:
    return Path(instance_path) / "roads"


def active_source(config: Mapping, instance_path: str | Path) -> Path:
    """The file the active network comes from (see the module docstring)."""
    configured = config.get("ROADS_FILE")
    if configured:
        return Path(configured)
    active = roads_dir(instance_path) / ACTIVE_NAME
    if active.exists():
        return active
    return SEED_ROADS


def _file_key(path: Path) -> tuple:
    st = path.stat()
    return (str(path.resolve()), st.st_mtime_ns, st.st_size)


def load_network(path: Path, cache_dir: Path, *, log=None) -> RoadNetwork:
    """Load ``path`` via its .npz cache in ``cache_dir`` (written on the first load)."""
    key = _file_key(path)
    with _LOAD_LOCK:
        net = _LOADED.get(key)
        if net is not None:
            return net
        started = time.perf_counter()
        if path.suffix == ".npz":
            net = load_cache(path)
            how = "cache"
        else:
            digest = hashlib.sha1(repr(key).encode()).hexdigest()[:12]
            cache = cache_dir / f"{path.name.split('.')[0]}-{digest}.npz"
            if cache.exists():
                net = load_cache(cache)
                how = f"cache {cache.name}"
            else:
                net = import_file(path)
                cache_dir.mkdir(parents=True, exist_ok=True)
                save_cache(net, cache)
                how = f"parsed, cached as {cache.name}"
        if log is not None:
            log.info("road network %s: %s (%s, %.0f ms)", path.name, net, how, 1000 * (time.perf_counter() - started))
        while len(_LOADED) >= 4:  # a process normally holds one; tests switch between a few
            _LOADED.pop(next(iter(_LOADED)))
        _LOADED[key] = net
        return net


def _settings(config) -> Settings:
    d = Settings()
    return Settings(
        offroad_kmh=float(config.get("OFFROAD_KMH") or d.offroad_kmh),
        max_offroad_m=float(config.get("MAX_OFFROAD_M") or d.max_offroad_m),
        freshness_days=int(config.get("FRESHNESS_DAYS") or d.freshness_days),
        depot_loading_min=float(config.get("DEPOT_LOADING_MIN") or d.depot_loading_min),
        expert_turnout_min=float(config.get("EXPERT_TURNOUT_MIN") or d.expert_turnout_min),
        expert_remote_min=float(config.get("EXPERT_REMOTE_MIN") or d.expert_remote_min),
        flag_offroad_m=float(config.get("FLAG_OFFROAD_M") or d.flag_offroad_m),
    )


def describe(roads: ActiveRoads) -> dict:
    """What /health says about the active network: its file, size, when the file was built, and
    its ranking index (contraction hierarchy: ready, building, failed)."""
    import datetime as dt

    source = Path(roads.source) if roads.source else None
    built = None
    if source is not None and source.exists():
        built = dt.datetime.fromtimestamp(source.stat().st_mtime, tz=dt.UTC).isoformat(timespec="seconds")
    return {
        "file": source.name if source else "",
        "nodes": int(roads.net.n_nodes),
        "edges": int(roads.net.n_edges),
        "built_at": built,
        "default": source == SEED_ROADS,
        "index": hierarchy.status(roads.net),
    }


class RoadGraph:
    """The active network of one app: loaded on first use (or at start), then shared by every request."""

    def __init__(self, config: Mapping, instance_path: str | Path, *, log: logging.Logger | None = None) -> None:
        self.config = config
        self.instance_path = instance_path
        self.log = log
        self._roads: ActiveRoads | None = None
        self._lock = threading.Lock()

    def get(self) -> ActiveRoads:
        if self._roads is None:
            with self._lock:
                if self._roads is None:
                    source = active_source(self.config, self.instance_path)
                    net = load_network(source, roads_dir(self.instance_path), log=self.log)
                    places = Path(self.config.get("PLACES_FILE") or SEED_PLACES)
                    gaz = Gazetteer.from_json(places) if places.exists() else Gazetteer([])
                    settings = _settings(self.config)
                    roads = net._cache.get("active_roads")
                    if roads is None or roads.settings != settings:
                        roads = ActiveRoads(net, gaz, settings, source=str(source))
                        net._cache["active_roads"] = roads
                    self._roads = roads
                    # the ranking index: read from beside the network cache, or built and saved
                    # there, in a background thread (rankings search live until it is ready)
                    hierarchy.prepare(net, roads_dir(self.instance_path))
                    # long-lived from here on: keep the cyclic GC from walking them on every request
                    gc.freeze()
        return self._roads


def preload_wanted(config: Mapping, *, testing: bool) -> bool:
    """Load the network at start (ROADS_PRELOAD, default outside tests) rather than on first use."""
    preload = config.get("ROADS_PRELOAD", not testing)
    if isinstance(preload, str):  # RESCUE_ROADS_PRELOAD=0/1 from the environment
        preload = preload.strip().lower() in {"1", "true", "yes", "on"}
    return bool(preload)


def import_active(
    instance_path: str | Path, path: Path, *, area: tuple[float, float, float, float] | None = None, progress: bool | None = None
) -> RoadNetwork:
    """Read a road file and make it the active network (from the next start).

    With ``area`` (lat_min, lon_min, lat_max, lon_max) a network outside it, or with latitude and
    longitude swapped, is refused (RoadDataError) and the active network stays as it was.
    """
    from routing import check_area, load_osm

    name = str(path).lower()
    osm = name.endswith((".osm", ".osm.pbf", ".pbf", ".osm.xml"))
    if osm:
        net = load_osm(path, progress=progress)
        if area is not None:
            check_area(net, area)
    else:
        net = import_file(path, area=area)
    target = roads_dir(instance_path) / ACTIVE_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    save_cache(net, target)
    return net
