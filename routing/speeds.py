"""Road classes, default speeds and OSM ``highway``/``maxspeed`` parsing."""

from __future__ import annotations

import math
import re

# road class codes stored per edge in RoadNetwork.road_class (uint8)
ROAD_CLASSES: tuple[str, ...] = (
    "unknown",
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "unclassified",
    "residential",
    "service",
    "track",
)
CLASS_CODE: dict[str, int] = {name: i for i, name in enumerate(ROAD_CLASSES)}

# Ningxia study defaults (DOMAIN.md): expressway 100, national 60, provincial 50, county 30,
# town streets 30-40 km/h; Chinese classes mapped onto OSM highway values
DEFAULT_SPEED_KMH: dict[str, float] = {
    "motorway": 100.0,  # 高速公路 expressway
    "trunk": 60.0,  # 国道 national road
    "primary": 50.0,  # 省道 provincial road
    "secondary": 40.0,
    "tertiary": 30.0,  # 县道 county road
    "unclassified": 30.0,
    "residential": 30.0,
    "living_street": 10.0,
    "service": 20.0,
    "track": 15.0,
    "unknown": 30.0,
}

# ways with these highway values carry vehicles; paths, steps, cycleways etc. do not
DRIVABLE_HIGHWAYS: frozenset[str] = frozenset(
    {
        "motorway",
        "motorway_link",
        "trunk",
        "trunk_link",
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
        "tertiary",
        "tertiary_link",
        "unclassified",
        "residential",
        "living_street",
        "service",
        "road",
        "track",
    }
)

# implicit maxspeed zones (OSM wiki "Default speed limits", China row)
ZONE_SPEED_KMH: dict[str, float] = {
    "cn:urban": 50.0,
    "cn:rural": 70.0,
    "cn:motorway": 120.0,
    "cn:living_street": 20.0,
    "cn:expressway": 100.0,
}

_MAXSPEED = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(km/h|kmh|kph|mph|knots)?\s*$", re.IGNORECASE)


def road_class(highway: str | None) -> str:
    """Return the road class name for an OSM ``highway`` value (``*_link`` counts as its road)."""
    if not highway:
        return "unknown"
    value = str(highway).strip().lower()
    if value.startswith("["):  # OSMnx stores merged ways' tags as a list literal
        value = value.strip("[]").split(",")[0].strip(" '\"")
    value = value.removesuffix("_link")
    if value in ("living_street", "road"):
        return "residential" if value == "living_street" else "unclassified"
    return value if value in CLASS_CODE else "unknown"


def parse_maxspeed(value: str | float | None) -> float | None:
    """Return a ``maxspeed`` tag in km/h, or None when absent or not a number ("none", "signals")."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) if value > 0 and math.isfinite(value) else None
    text = str(value).strip()
    if not text:
        return None
    lowered = text.lower()
    if lowered in ZONE_SPEED_KMH:
        return ZONE_SPEED_KMH[lowered]
    # "60;80" or "60|80": several limits (lanes, conditions); the lowest is the safe choice
    parts = [p for p in re.split(r"[;|]", text) if p.strip()]
    speeds = []
    for part in parts:
        match = _MAXSPEED.match(part)
        if not match:
            continue
        number, unit = float(match.group(1)), (match.group(2) or "").lower()
        if unit == "mph":
            number *= 1.609344
        elif unit == "knots":
            number *= 1.852
        if number > 0:
            speeds.append(number)
    return min(speeds) if speeds else None


def default_speed_kmh(highway: str | None) -> float:
    """Return the default speed in km/h for an OSM ``highway`` value."""
    raw = str(highway or "").strip().lower()
    if raw == "living_street":
        return DEFAULT_SPEED_KMH["living_street"]
    return DEFAULT_SPEED_KMH.get(road_class(highway), DEFAULT_SPEED_KMH["unknown"])


def edge_speed_kmh(highway: str | None, maxspeed: str | float | None = None) -> float:
    """Return the speed in km/h to drive an edge: ``maxspeed`` when given, else the class default."""
    limit = parse_maxspeed(maxspeed)
    return limit if limit is not None else default_speed_kmh(highway)


def travel_time_s(length_m: float, speed_kmh: float) -> float:
    """Return the seconds to drive ``length_m`` metres at ``speed_kmh``."""
    return length_m / (speed_kmh / 3.6)
