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
import threading
import time
from pathlib import Path

from flask import current_app

from rescue.services.roadnet import ActiveRoads, Settings
from routing import Gazetteer, RoadNetwork, import_file, load_cache, save_cache

ROOT = Path(__file__).resolve().parent.parent
SEED_ROADS = ROOT / "seed" / "roads" / "ningxia.graphml"
SEED_PLACES = ROOT / "seed" / "data" / "places.json"
ACTIVE_NAME = "active.npz"
EXTENSION = "road_graph"

# networks already loaded in this process, by source file state: several apps (tests, CLI) share one
_LOADED: dict[tuple, RoadNetwork] = {}
_LOAD_LOCK = threading.Lock()


def roads_dir(app) -> Path:
    return Path(app.instance_path) / "roads"


def active_source(app) -> Path:
    """The file the active network comes from (see the module docstring)."""
    configured = app.config.get("ROADS_FILE")
    if configured:
        return Path(configured)
    active = roads_dir(app) / ACTIVE_NAME
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
    )


class RoadGraph:
    """app.extensions["road_graph"]: loads the active network on first use (or at start)."""

    def __init__(self, app) -> None:
        self.app = app
        self._roads: ActiveRoads | None = None
        self._lock = threading.Lock()

    def get(self) -> ActiveRoads:
        if self._roads is None:
            with self._lock:
                if self._roads is None:
                    app = self.app
                    source = active_source(app)
                    net = load_network(source, roads_dir(app), log=app.logger)
                    places = Path(app.config.get("PLACES_FILE") or SEED_PLACES)
                    gaz = Gazetteer.from_json(places) if places.exists() else Gazetteer([])
                    roads = net._cache.get("active_roads")
                    if roads is None or roads.settings != _settings(app.config):
                        roads = ActiveRoads(net, gaz, _settings(app.config), source=str(source))
                        net._cache["active_roads"] = roads
                    self._roads = roads
                    # long-lived from here on: keep the cyclic GC from walking them on every request
                    gc.freeze()
        return self._roads


def init_app(app) -> None:
    """Register the road graph; it loads lazily, or at start with ROADS_PRELOAD (default outside tests)."""
    app.extensions[EXTENSION] = RoadGraph(app)
    preload = app.config.get("ROADS_PRELOAD", not app.testing)
    if isinstance(preload, str):  # RESCUE_ROADS_PRELOAD=0/1 from the environment
        preload = preload.strip().lower() in {"1", "true", "yes", "on"}
    if preload:
        app.extensions[EXTENSION].get()


def get_roads() -> ActiveRoads:
    """The active network with its gazetteer, settings and caches (what services take as ``network``)."""
    return current_app.extensions[EXTENSION].get()


def get_network() -> ActiveRoads:
    """The accessor services are called with: ``rank_candidates(session, get_network(), incident)``."""
    return get_roads()


def get_gazetteer() -> Gazetteer:
    return get_roads().gazetteer


def import_active(app, path: Path, *, progress: bool | None = None) -> RoadNetwork:
    """Read a road file and make it the active network (from the next start)."""
    from routing import load_osm

    name = str(path).lower()
    if name.endswith((".osm", ".osm.pbf", ".pbf", ".osm.xml")):
        net = load_osm(path, progress=progress)
    else:
        net = import_file(path)
    target = roads_dir(app) / ACTIVE_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    save_cache(net, target)
    return net
