"""Errors raised by the routing library (a missing route is a value, not an error)."""


class RoutingError(Exception):
    """Base class of every routing error."""


class RoadDataError(RoutingError):
    """A road file or graph cannot be read or has no usable roads."""


class TooFarFromRoadError(RoutingError):
    """A point is farther than the allowed off-road distance from every road."""

    def __init__(self, lat: float, lon: float, offroad_m: float, max_offroad_m: float) -> None:
        self.lat, self.lon = lat, lon
        self.offroad_m, self.max_offroad_m = offroad_m, max_offroad_m
        msg = (
            f"point ({lat:.5f}, {lon:.5f}) is {offroad_m:.0f} m from the nearest road, "
            f"more than the allowed {max_offroad_m:.0f} m"
        )
        super().__init__(msg)
