"""Coverage with exclusions, the gazetteer, the Ningxia default network and the import boundary."""

import ast
import math
from pathlib import Path

import pytest

from routing import Gazetteer, coverage, edge_point, load_graphml, lost_cover, rank_sources, snap_point

REPO = Path(__file__).resolve().parents[2]


def _edge(net, u, v):
    a, b = net.node_index(u), net.node_index(v)
    return next(e for e in range(net.n_edges) if net.tail[e] == a and net.head[e] == b)


def test_coverage_and_exclusion(line_net, make_random_net, reference_arrival, random_points):
    targets = {
        "west": edge_point(line_net, _edge(line_net, "A", "B"), 0.0),
        "east": edge_point(line_net, _edge(line_net, "C", "D"), 1.0),
    }
    sources = {
        "t1": edge_point(line_net, _edge(line_net, "A", "B"), 0.5),
        "t2": edge_point(line_net, _edge(line_net, "C", "D"), 0.5),
    }
    got = {c.target: c for c in coverage(line_net, targets, sources, extra_s={"t1": 60})}
    assert got["west"].source == "t1" and got["west"].arrival_s == pytest.approx(110.0)
    assert got["east"].source == "t2" and got["east"].arrival_s == pytest.approx(50.0)
    before = coverage(line_net, targets, sources)
    after = coverage(line_net, targets, sources, exclude={"t2"})
    assert {c.target: c.source for c in after} == {"west": "t1", "east": "t1"}
    assert lost_cover(before, after, threshold_s=120) == ["east"]
    assert all(c.source is None and math.isinf(c.arrival_s) for c in coverage(line_net, targets, sources, exclude={"t1", "t2"}))


@pytest.mark.parametrize("seed", range(4))
def test_coverage_matches_ranking(seed, make_random_net, random_points):
    net = make_random_net(seed + 20)
    pts = random_points(net, 30, seed)
    targets = {f"x{i}": p for i, p in enumerate(pts[:10])}
    sources = {f"s{i}": p for i, p in enumerate(pts[10:])}
    extra = {k: 30.0 * i for i, k in enumerate(sources)}
    for c in coverage(net, targets, sources, extra_s=extra):
        best = rank_sources(net, targets[c.target], sources, k=1, extra_s=extra)
        if best:
            assert c.arrival_s == pytest.approx(best[0].arrival_s)
        else:
            assert c.source is None


@pytest.fixture(scope="module")
def gazetteer():
    return Gazetteer.from_json(REPO / "seed" / "data" / "places.json")


@pytest.mark.parametrize(
    ("query", "name", "kind"),
    [
        ("灵武", "灵武市", "county"),
        ("灵武市", "灵武市", "county"),
        ("银川", "银川市", "prefecture_city"),
        ("宁东", "宁东镇", "town"),
        ("石炭井", "石炭井", "town"),
        ("Guyuan", "固原市", "prefecture_city"),
        ("汝箕沟矿区", "汝箕沟矿区(太西无烟煤,大峰露天矿)", "key_site"),
        ("河东国际机场", "银川河东国际机场", "key_site"),
    ],
)
def test_gazetteer_lookup(gazetteer, query, name, kind):
    p = gazetteer.find(query)
    assert p is not None and p.name == name and p.kind == kind
    assert 35 < p.lat < 40 and 104 < p.lon < 108


def test_gazetteer_miss_is_none(gazetteer):
    assert gazetteer.find("上海") is None
    assert gazetteer.search("") == []
    assert len([p for p in gazetteer.places if p.kind == "county"]) == 22


@pytest.fixture(scope="module")
def ningxia():
    return load_graphml(REPO / "seed" / "roads" / "ningxia.graphml")


def test_ningxia_network_believable(ningxia, gazetteer):
    def at(name):
        p = gazetteer.find(name)
        return snap_point(ningxia, p.lat, p.lon, max_offroad_m=5000)

    yinchuan = at("兴庆区")
    minutes = {
        n: rank_sources(ningxia, at(n), {"yc": yinchuan})[0].arrival_s / 60 for n in ("利通区", "原州区", "沙坡头区", "灵武市")
    }
    assert 40 <= minutes["利通区"] <= 90
    assert 150 <= minutes["原州区"] <= 260
    assert 90 <= minutes["沙坡头区"] <= 170
    assert 25 <= minutes["灵武市"] <= 70
    for p in gazetteer.places:  # every county seat is within a few km of a road
        if p.kind == "county":
            assert snap_point(ningxia, p.lat, p.lon).offroad_m < 3000, p.name


def test_routing_imports_no_app_layers():
    banned = {"flask", "sqlalchemy", "rescue", "seed"}
    for path in (REPO / "routing").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in banned, f"{path.name} imports {name}"


def test_search_finds_every_place_containing_the_text(gazetteer):
    names = [p.name for p in gazetteer.search("宁东", limit=50)]
    assert set(names) == {p.name for p in gazetteer.places if "宁东" in p.name or any("宁东" in a for a in p.aliases)}
    assert len(names) >= 3 and "宁东镇" in names and "宁东能源化工基地(宁东镇/管委会)" in names
    # key sites first
    sites = [p.kind == "key_site" for p in gazetteer.search("宁东", limit=50)]
    assert sites == sorted(sites, reverse=True) and sites[0]
    # placing an incident by name still picks the town
    assert gazetteer.find("宁东").name == "宁东镇"


def test_listing_pages_through_every_place(gazetteer):
    total = len(gazetteer.places)
    seen = []
    for offset in range(0, total + 10, 10):
        page, count = gazetteer.listing("", limit=10, offset=offset)
        assert count == total
        seen += [p.name for p in page]
    assert sorted(seen) == sorted(p.name for p in gazetteer.places) and len(seen) == total
    first, _ = gazetteer.listing("", limit=20)
    assert [p.kind for p in first[:20]] == ["key_site"] * 20
    page, count = gazetteer.listing("宁东", limit=1, offset=1)
    assert count == len(gazetteer.search("宁东", limit=50)) and len(page) == 1
    assert page[0] == gazetteer.search("宁东", limit=50)[1]
    assert gazetteer.listing("上海") == ([], 0)
