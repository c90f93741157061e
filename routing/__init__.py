"""Road routing for emergency response: networks, snapping, arrival-time ranking, coverage, planning.

Public API (units in names; "no route" is a value, never an exception):

- ``RoadNetwork`` — compact immutable CSR graph: ``RoadNetwork.from_graph(G, *, largest_component=True)``,
  ``RoadNetwork.from_arrays(...)``, ``net.to_graph()``.
- I/O: ``load_graphml(path)``, ``load_geojson(path)``, ``load_osm(path, *, progress=None)``,
  ``import_file(path, *, area=None)``, ``check_area(net, area)``, ``save_cache(net, path)``, ``load_cache(path)``.
- Snapping: ``snap_point(net, lat, lon, *, max_offroad_m=None) -> Snap`` (raises
  ``TooFarFromRoadError`` only with a limit), ``snap_points(net, lats, lons) -> list[Snap]``,
  ``edge_point(net, edge, fraction)``; ``Snap.far(max_offroad_m)``.
- Closures: ``close_circle(net, lat, lon, radius_m, *, kind)``, ``close_polygon(net, rings, *, kind)``,
  ``make_closure(net, ...) -> Closure`` (``closed_m``, ``closed`` GeoJSON); ``ClosedRoads(net, closures)``.
- Ranking: ``rank_groups(net, target, sources, groups: {key: Group}, ...) -> {key: list[Ranked]}``
  (bounded, exact); ``rank_sources(net, target, sources, *, k=10, ...) -> list[Ranked]``;
  ``route(net, origin, destination, *, blocked=None) -> Route | None``; ``arrival_times(...) -> dict``.
- Ranking index: ``hierarchy.prepare(net, cache_dir)`` (background build, saved beside the network),
  ``hierarchy.hierarchy_of(net)``, ``hierarchy.status(net)``; rankings without closures use it.
- Coverage: ``coverage(net, targets, sources, *, extra_s=None, exclude=(), blocked=None) -> list[Cover]``,
  ``lost_cover(before, after, *, threshold_s)``.
- Planning: ``plan(needs, offers, *, shareable=()) -> Plan`` with ``Offer``.
- Places: ``Gazetteer.from_json(path)``, ``gaz.find(name)``, ``gaz.search(text, limit=, offset=)``,
  ``gaz.listing(text, limit=, offset=) -> (places, total)``.
- Coordinates: ``wgs84_to_gcj02(lat, lon)``, ``gcj02_to_wgs84(lat, lon)``.
- Speeds: ``edge_speed_kmh(highway, maxspeed)``, ``parse_maxspeed(value)``, ``DEFAULT_SPEED_KMH``.
- Errors: ``RoutingError``, ``RoadDataError``, ``TooFarFromRoadError``.
"""

from routing import hierarchy
from routing.closures import (
    IMPASSABLE,
    TRAFFIC_CONTROL,
    ClosedRoads,
    Closure,
    close_circle,
    close_polygon,
    make_closure,
)
from routing.coverage import Cover, coverage, lost_cover
from routing.errors import RoadDataError, RoutingError, TooFarFromRoadError
from routing.gcj02 import gcj02_to_wgs84, wgs84_to_gcj02
from routing.io import check_area, import_file, load_cache, load_geojson, load_graphml, load_osm, save_cache
from routing.network import RoadNetwork, haversine_m
from routing.places import Gazetteer, Place
from routing.plan import Assignment, Offer, Plan, plan
from routing.ranking import Group, Ranked, Route, arrival_times, blocked_mask, rank_groups, rank_sources, route
from routing.snap import DEFAULT_MAX_OFFROAD_M, DEFAULT_OFFROAD_KMH, Snap, edge_point, snap_point, snap_points
from routing.speeds import DEFAULT_SPEED_KMH, edge_speed_kmh, parse_maxspeed, road_class

__all__ = [
    "DEFAULT_MAX_OFFROAD_M",
    "DEFAULT_OFFROAD_KMH",
    "DEFAULT_SPEED_KMH",
    "IMPASSABLE",
    "TRAFFIC_CONTROL",
    "Assignment",
    "ClosedRoads",
    "Closure",
    "Cover",
    "Gazetteer",
    "Group",
    "Offer",
    "Place",
    "Plan",
    "Ranked",
    "RoadDataError",
    "RoadNetwork",
    "Route",
    "RoutingError",
    "Snap",
    "TooFarFromRoadError",
    "arrival_times",
    "blocked_mask",
    "check_area",
    "close_circle",
    "close_polygon",
    "coverage",
    "edge_point",
    "edge_speed_kmh",
    "gcj02_to_wgs84",
    "haversine_m",
    "hierarchy",
    "import_file",
    "load_cache",
    "load_geojson",
    "load_graphml",
    "load_osm",
    "lost_cover",
    "make_closure",
    "parse_maxspeed",
    "plan",
    "rank_groups",
    "rank_sources",
    "road_class",
    "route",
    "save_cache",
    "snap_point",
    "snap_points",
    "wgs84_to_gcj02",
]
