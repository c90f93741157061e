"""RoadNetwork building, caches and importers (GraphML, GeoJSON, OSM XML, OSM PBF)."""

import json

import networkx as nx
import numpy as np
import osmium
import pytest

from routing import RoadDataError, RoadNetwork, import_file, load_cache, load_geojson, load_graphml, load_osm, save_cache


def test_from_graph_undirected_gives_both_directions():
    G = nx.Graph()
    G.add_node(1, lat=38.0, lon=106.0)
    G.add_node(2, lat=38.01, lon=106.0)
    G.add_edge(1, 2, length_km=1.2, highway="trunk")
    net = RoadNetwork.from_graph(G)
    assert net.n_edges == 2
    assert net.length_m.tolist() == [1200.0, 1200.0]
    assert net.travel_time_s[0] == pytest.approx(1200 / (60 / 3.6))  # trunk: 60 km/h
    assert net.twin.tolist() == [1, 0]
    assert net.edge_highway(0) == "trunk"


def test_largest_strongly_connected_component_kept():
    G = nx.DiGraph()
    for i in range(5):
        G.add_node(i, lat=38.0, lon=106.0 + i * 0.01)
    G.add_edge(0, 1, length_m=100)
    G.add_edge(1, 0, length_m=100)
    G.add_edge(1, 2, length_m=100)
    G.add_edge(2, 1, length_m=100)
    G.add_edge(2, 3, length_m=100)  # 3 and 4 cannot get back
    G.add_edge(3, 4, length_m=100)
    net = RoadNetwork.from_graph(G)
    assert net.n_nodes == 3 and sorted(net.node_id.tolist()) == [0, 1, 2]
    assert RoadNetwork.from_graph(G, largest_component=False).n_nodes == 5


def test_to_graph_round_trip(make_random_net):
    net = make_random_net(3)
    G = net.to_graph()
    back = RoadNetwork.from_graph(G, largest_component=False)
    assert back.n_edges == net.n_edges
    assert np.allclose(np.sort(back.travel_time_s), np.sort(net.travel_time_s))
    assert G.number_of_nodes() == net.n_nodes


def test_cache_round_trip(tmp_path, make_random_net):
    net = make_random_net(4)
    path = tmp_path / "net.npz"
    save_cache(net, path)
    back = load_cache(path)
    for name in ("lat", "lon", "tail", "head", "length_m", "travel_time_s", "fwd_ptr", "rev_ptr", "rev_edge", "twin"):
        assert np.array_equal(getattr(back, name), getattr(net, name)), name
    assert import_file(path).n_edges == net.n_edges
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(RoadDataError):
        load_cache(tmp_path / "bad.npz")


def test_graphml_import(tmp_path):
    G = nx.Graph()
    G.add_node("a", lat=38.0, lon=106.0)
    G.add_node("b", lat=38.0, lon=106.01)
    G.add_edge("a", "b", length_km=0.9)
    path = tmp_path / "g.graphml"
    nx.write_graphml(G, path)
    net = load_graphml(path)
    assert net.n_edges == 2 and net.length_m[0] == pytest.approx(900.0)
    with pytest.raises(RoadDataError):
        import_file(tmp_path / "roads.shp")


def test_geojson_import_oneway_and_maxspeed(tmp_path):
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"highway": "primary", "name": "北京路", "maxspeed": "60"},
                "geometry": {"type": "LineString", "coordinates": [[106.0, 38.0], [106.01, 38.0], [106.02, 38.0]]},
            },
            {
                "type": "Feature",
                "properties": {"highway": "residential", "oneway": "yes"},
                "geometry": {"type": "LineString", "coordinates": [[106.02, 38.0], [106.02, 38.01]]},
            },
            {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [106.0, 38.0]}},
        ],
    }
    path = tmp_path / "roads.geojson"
    path.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    net = load_geojson(path, largest_component=False)
    assert net.n_edges == 5  # 2 two-way segments + 1 one-way
    named = [e for e in range(net.n_edges) if net.edge_name(e) == "北京路"]
    assert len(named) == 4
    assert net.length_m[named[0]] / net.travel_time_s[named[0]] * 3.6 == pytest.approx(60.0)


OSM_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="test">
  <node id="1" lat="38.00" lon="106.00" version="1"/>
  <node id="2" lat="38.00" lon="106.01" version="1"/>
  <node id="3" lat="38.01" lon="106.01" version="1"/>
  <node id="4" lat="38.01" lon="106.00" version="1"/>
  <way id="10" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/>
    <tag k="highway" v="secondary"/><tag k="maxspeed" v="25 mph"/><tag k="name" v="长城路"/></way>
  <way id="11" version="1"><nd ref="3"/><nd ref="4"/><tag k="highway" v="tertiary"/><tag k="oneway" v="-1"/></way>
  <way id="12" version="1"><nd ref="4"/><nd ref="1"/><tag k="highway" v="footway"/></way>
</osm>
"""


def _check_osm(net):
    assert net.n_nodes == 4
    # ways 10 (two segments, both directions) + 11 (one-way against its node order)
    assert net.n_edges == 5
    e = next(i for i in range(net.n_edges) if net.edge_name(i) == "长城路")
    assert net.length_m[e] / net.travel_time_s[e] * 3.6 == pytest.approx(25 * 1.609344)
    oneway = [i for i in range(net.n_edges) if net.edge_highway(i) == "tertiary"]
    assert len(oneway) == 1
    assert net.node_id[net.tail[oneway[0]]] == 4 and net.node_id[net.head[oneway[0]]] == 3


def test_osm_xml_import(tmp_path):
    path = tmp_path / "tiny.osm"
    path.write_text(OSM_XML, encoding="utf-8")
    _check_osm(load_osm(path, largest_component=False, progress=False))


def test_osm_pbf_import(tmp_path):
    path = tmp_path / "tiny.osm.pbf"
    with osmium.SimpleWriter(str(path)) as w:
        for nid, lat, lon in ((1, 38.0, 106.0), (2, 38.0, 106.01), (3, 38.01, 106.01), (4, 38.01, 106.0)):
            w.add_node(osmium.osm.mutable.Node(id=nid, location=(lon, lat), version=1))
        w.add_way(
            osmium.osm.mutable.Way(
                id=10, nodes=[1, 2, 3], tags={"highway": "secondary", "maxspeed": "25 mph", "name": "长城路"}, version=1
            )
        )
        w.add_way(osmium.osm.mutable.Way(id=11, nodes=[3, 4], tags={"highway": "tertiary", "oneway": "-1"}, version=1))
        w.add_way(osmium.osm.mutable.Way(id=12, nodes=[4, 1], tags={"highway": "footway"}, version=1))
    net = import_file(path, largest_component=False)
    _check_osm(net)


def test_osm_without_roads_is_an_error(tmp_path):
    path = tmp_path / "empty.osm"
    path.write_text("<?xml version='1.0'?><osm version='0.6'></osm>", encoding="utf-8")
    with pytest.raises(RoadDataError, match="no drivable roads"):
        load_osm(path, progress=False)


NINGXIA_AREA = (35.2, 104.2, 39.4, 107.7)  # lat_min, lon_min, lat_max, lon_max


def _geojson_roads(path, coords):
    feature = {"type": "Feature", "properties": {"highway": "primary"}, "geometry": {"type": "LineString", "coordinates": coords}}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    return path


def test_import_refuses_a_network_outside_the_service_area(tmp_path):
    inside = _geojson_roads(tmp_path / "ok.geojson", [[106.27, 38.47], [106.30, 38.48], [106.33, 38.49]])
    assert import_file(inside, area=NINGXIA_AREA, largest_component=False).n_nodes == 3
    shanghai = _geojson_roads(tmp_path / "sh.geojson", [[121.47, 31.23], [121.50, 31.24], [121.52, 31.25]])
    with pytest.raises(RoadDataError, match="不在服务区域内"):
        import_file(shanghai, area=NINGXIA_AREA, largest_component=False)
    assert import_file(shanghai, largest_component=False).n_nodes == 3  # no area: no check


def test_import_refuses_swapped_lat_lon(tmp_path):
    swapped = _geojson_roads(tmp_path / "swapped.geojson", [[38.47, 106.27], [38.48, 106.30], [38.49, 106.33]])
    with pytest.raises(RoadDataError, match="经纬度疑似颠倒"):
        import_file(swapped, area=NINGXIA_AREA, largest_component=False)
