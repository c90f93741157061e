"""Snapping onto edges, off-road limits, GCJ-02 conversion and speed parsing."""

import pytest

from routing import TooFarFromRoadError, gcj02_to_wgs84, haversine_m, parse_maxspeed, snap_point, snap_points, wgs84_to_gcj02
from routing.speeds import edge_speed_kmh, road_class


def test_snap_to_middle_of_edge(line_net):
    # a point 200 m north of the middle of A-B lands mid-edge, not on a node
    mid_lon = (line_net.lon[0] + line_net.lon[1]) / 2
    s = snap_point(line_net, 38.47 + 0.0018, mid_lon)
    assert 0.45 < s.fraction < 0.55
    assert s.offroad_m == pytest.approx(200, abs=2)
    assert s.lat == pytest.approx(38.47) and s.lon == pytest.approx(mid_lon)
    assert s.offroad_s(offroad_kmh=36) == pytest.approx(s.offroad_m / 10)


def test_snap_points_many(line_net):
    snaps = snap_points(line_net, [38.47, 38.4705], [line_net.lon[0], line_net.lon[3]])
    assert snaps[0].offroad_m == pytest.approx(0, abs=0.01)
    assert snaps[1].offroad_m == pytest.approx(55.6, abs=1)


def test_too_far_from_road_rejected(line_net):
    with pytest.raises(TooFarFromRoadError, match="from the nearest road") as info:
        snap_point(line_net, 38.60, 106.30, max_offroad_m=5000)
    assert info.value.offroad_m > 14000
    assert snap_point(line_net, 38.60, 106.30, max_offroad_m=20000).offroad_m > 14000


@pytest.mark.parametrize(("lat", "lon"), [(38.47, 106.28), (36.0, 106.28), (39.9, 116.4), (22.5, 114.1)])
def test_gcj02_round_trip(lat, lon):
    glat, glon = wgs84_to_gcj02(lat, lon)
    assert 100 < float(haversine_m(lat, lon, glat, glon)) < 1000  # the offset is a few hundred metres
    wlat, wlon = gcj02_to_wgs84(glat, glon)
    assert float(haversine_m(lat, lon, wlat, wlon)) < 0.01


def test_gcj02_known_value():
    # Tiananmen, WGS-84 -> GCJ-02 as given by the published formula's reference implementations
    glat, glon = wgs84_to_gcj02(39.90872, 116.39748)
    assert glat == pytest.approx(39.91012, abs=2e-5) and glon == pytest.approx(116.40372, abs=2e-5)
    assert wgs84_to_gcj02(48.85, 2.35) == (48.85, 2.35)  # outside China: unchanged


@pytest.mark.parametrize(
    ("value", "kmh"),
    [
        ("60", 60.0),
        ("60 mph", 96.56064),
        ("80 km/h", 80.0),
        ("CN:urban", 50.0),
        ("none", None),
        ("signals", None),
        ("", None),
        (None, None),
        ("40;60", 40.0),
        (70, 70.0),
    ],
)
def test_parse_maxspeed(value, kmh):
    got = parse_maxspeed(value)
    assert got == (pytest.approx(kmh) if kmh is not None else None)


def test_class_speeds():
    assert edge_speed_kmh("motorway") == 100.0
    assert edge_speed_kmh("trunk") == 60.0
    assert edge_speed_kmh("primary_link") == 50.0
    assert edge_speed_kmh("tertiary", "CN:rural") == 70.0
    assert road_class("['primary', 'secondary']") == "primary"
    assert road_class(None) == "unknown"
