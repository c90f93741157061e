"""Build the Ningxia default road network and gazetteer from the shared OSM backbone and places file.

Run from the repository root (re-runnable; writes seed/roads/ningxia.graphml, seed/data/places.json
and the tables in docs/TRAVEL_TIMES.md):

    python -m seed.build_roads [--source ../shared/data/ningxia_osm_backbone.graphml]
                               [--places ../shared/data/ningxia_places.json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
from pathlib import Path

import networkx as nx
import numpy as np

from rescue.config import DEFAULTS
from routing import Gazetteer, RoadNetwork, rank_sources, snap_point, snap_points

OFFROAD_KMH = float(DEFAULTS["OFFROAD_KMH"])  # what the service ranks with

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = Path("../shared/data/ningxia_osm_backbone.graphml")
DEFAULT_PLACES = Path("../shared/data/ningxia_places.json")
OUT_GRAPH = Path("seed/roads/ningxia.graphml")
OUT_PLACES = Path("seed/data/places.json")
OUT_DOC = Path("docs/TRAVEL_TIMES.md")

# Towns and landmarks used as corridor waypoints and gazetteer entries. Coordinates are from
# general knowledge to ~1-3 km and are NOT verified: keep verified=false for the data owner.
TOWNS = [
    # name, aliases, county, prefecture, lat, lon
    ("宁东镇", ["宁东", "宁东管委会"], "灵武市", "银川市", 38.10, 106.60),
    ("石炭井", ["石炭井镇"], "大武口区", "石嘴山市", 39.18, 106.38),
    ("汝箕沟", ["汝箕沟镇"], "平罗县", "石嘴山市", 38.96, 106.02),
    ("高沙窝镇", ["高沙窝"], "盐池县", "吴忠市", 37.98, 106.98),
    ("叶盛镇", ["叶盛"], "青铜峡市", "吴忠市", 38.13, 106.22),
    ("惠安堡镇", ["惠安堡"], "盐池县", "吴忠市", 37.48, 106.64),
    ("太阳山镇", ["太阳山"], "红寺堡区", "吴忠市", 37.56, 106.55),
    ("韦州镇", ["韦州"], "同心县", "吴忠市", 37.27, 106.48),
    ("孟家湾", ["孟家湾红卫"], "沙坡头区", "中卫市", 37.47, 104.96),
    ("营盘水", ["营盘水站"], "沙坡头区", "中卫市", 37.35, 104.30),
    ("三营镇", ["三营"], "原州区", "固原市", 36.27, 106.12),
    ("李旺镇", ["李旺"], "海原县", "中卫市", 36.55, 106.02),
    ("沿川子", ["沿川子乡"], "泾源县", "固原市", 35.60, 106.52),
    ("六盘山镇", ["六盘山"], "泾源县", "固原市", 35.60, 106.30),
    ("甜水堡", ["甜水堡收费站"], "盐池县", "吴忠市", 36.97, 106.78),
    ("兴仁镇", ["兴仁"], "海原县", "中卫市", 36.95, 105.27),
    ("黄羊滩", ["黄羊滩农场"], "永宁县", "银川市", 38.23, 106.07),
    ("平吉堡", ["平吉堡农场"], "西夏区", "银川市", 38.43, 106.03),
    ("闽宁镇", ["闽宁"], "永宁县", "银川市", 38.27, 105.99),
    ("甘城子", ["甘城子乡"], "青铜峡市", "吴忠市", 38.13, 105.95),
    ("古窑子", ["桃山口"], "利通区", "吴忠市", 37.85, 106.33),
    ("镇北堡镇", ["镇北堡", "镇北堡西部影城"], "西夏区", "银川市", 38.63, 106.06),
    ("月牙湖乡", ["月牙湖"], "兴庆区", "银川市", 38.47, 106.62),
    ("王洼镇", ["王洼"], "彭阳县", "固原市", 36.18, 106.62),
    ("马家滩镇", ["马家滩"], "灵武市", "银川市", 37.75, 106.78),
    ("红果子镇", ["红果子"], "惠农区", "石嘴山市", 39.27, 106.78),
    ("宣和镇", ["宣和"], "沙坡头区", "中卫市", 37.44, 105.43),
    ("大坝镇", ["青铜峡大坝"], "青铜峡市", "吴忠市", 37.90, 105.98),
    ("银川东", ["银川东互通"], "兴庆区", "银川市", 38.47, 106.38),
]

# expressway mountain stretches drive slower (grades, tunnels, winter closures)
MOUNTAIN_BOXES = [  # (lat_min, lat_max, lon_min, lon_max): Liupan Shan, Xiji, Longde, Jingyuan
    (35.2, 36.2, 105.3, 106.45),
    (35.2, 35.75, 106.45, 106.8),
]

SPEEDS = {  # km/h by class (DOMAIN.md: expressway 100, national 60, provincial 50, county 30)
    "motorway": 100.0,
    "trunk": 60.0,
    "primary": 50.0,
    "tertiary": 30.0,
}
MOUNTAIN_FACTOR = {"motorway": 0.8, "trunk": 0.7, "primary": 0.7, "tertiary": 0.8}
URBAN_KMH = 30.0  # non-expressway roads within URBAN_RADIUS_M of a city or county centre
URBAN_RADIUS_M = 5000.0
SHORT_SPUR_M = 3000.0  # dead-end spurs shorter than this are local roads (county class)


def _haversine_m(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(np.asarray(lon2) - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * np.arcsin(np.sqrt(a))


def build_places(shared: dict) -> list[dict]:
    """The gazetteer: prefecture cities, county seats, key sites and towns, in Chinese."""
    places = []
    cities = {c["name"]: c for c in shared["prefecture_cities"]}
    for c in shared["prefecture_cities"]:
        short = c["name"].removesuffix("市")
        places.append(
            dict(
                name=c["name"],
                aliases=[short, c["pinyin"]],
                kind="prefecture_city",
                county="",
                prefecture=c["name"],
                lat=c["lat"],
                lon=c["lon"],
                verified=True,
            )
        )
    seats = []
    for c in shared["counties"]:
        short = c["name"][:-1] if len(c["name"]) > 2 else c["name"]
        aliases = [short, c["pinyin"]]
        if c["name"] == "惠农区":
            aliases.append("石嘴山惠农")
        if c["name"] == "大武口区":
            aliases.append("石嘴山")
        if c["name"] == "利通区":
            aliases.append("吴忠")
        if c["name"] == "沙坡头区":
            aliases.append("中卫")
        if c["name"] == "原州区":
            aliases.append("固原")
        if c["name"] == "兴庆区":
            aliases.append("银川")
        if c["name"] == "青铜峡市":
            aliases.append("小坝")
        seat = dict(
            name=c["name"],
            aliases=aliases,
            kind="county",
            county=c["name"],
            prefecture=c["prefecture"],
            lat=c["lat"],
            lon=c["lon"],
            verified=bool(c.get("verified", False)),
        )
        places.append(seat)
        seats.append(seat)
    for s in shared["key_sites"]:
        short = s["name"].split("(")[0]
        lat, lon = s["lat"], s["lon"]
        nearest = min(seats, key=lambda c: _haversine_m(lat, lon, c["lat"], c["lon"]))
        places.append(
            dict(
                name=s["name"],
                aliases=[short] if short != s["name"] else [],
                kind="key_site",
                site_kind=s["kind"],
                county=nearest["county"],
                prefecture=nearest["prefecture"],
                lat=lat,
                lon=lon,
                verified=bool(s.get("verified", False)),
                precision_km=s.get("precision_km", ""),
            )
        )
    for name, aliases, county, prefecture, lat, lon in TOWNS:
        places.append(
            dict(name=name, aliases=aliases, kind="town", county=county, prefecture=prefecture, lat=lat, lon=lon, verified=False)
        )
    assert set(cities) <= {p["name"] for p in places}
    return places


def _waypoint(gaz: Gazetteer, text: str):
    """A corridor entry ("青铜峡(叶盛)", "大武口/平罗") to a place; None if outside Ningxia/unknown."""
    text = text.strip()
    if text.startswith("(") or text.startswith("…") or text.startswith("接"):
        return None
    inner = text[text.index("(") + 1 : text.rindex(")")] if "(" in text and ")" in text else ""
    head = text.split("(")[0].split("/")[0]
    # a town in brackets is the more precise point ("青铜峡(叶盛)" passes 叶盛)
    for candidate in [*inner.split("/"), head]:
        place = gaz.find(candidate) if candidate else None
        if place is not None:
            return place
    return None


def classify(G: nx.Graph, shared: dict, gaz: Gazetteer, log) -> None:
    """Set highway/ref/speed_kmh on each edge of the undirected backbone ``G`` (in place)."""
    pos = {n: (G.nodes[n]["lat"], G.nodes[n]["lon"]) for n in G}
    nodes = list(G)
    lat = np.array([pos[n][0] for n in nodes])
    lon = np.array([pos[n][1] for n in nodes])

    def nearest_node(p):
        return nodes[int(np.argmin(_haversine_m(lat, lon, p.lat, p.lon)))]

    for _u, _v, d in G.edges(data=True):
        d["highway"], d["ref"] = "primary", ""
        d["length_m"] = float(d["length_km"]) * 1000.0
    # dead-end short spurs are local access roads
    for u, v, d in G.edges(data=True):
        if (G.degree(u) == 1 or G.degree(v) == 1) and d["length_m"] < SHORT_SPUR_M:
            d["highway"] = "tertiary"

    def mark(corridors, highway):
        for c in corridors:
            seq = c.get("ningxia_sequence") or []
            points = [p for p in (_waypoint(gaz, t) for t in seq) if p is not None]
            used = [p.name for p in points]
            unresolved = [t for t in seq if _waypoint(gaz, t) is None]
            log(
                f"  {c['ref']:6} {highway:8} via {' > '.join(used)}"
                + (f"  (outside/unresolved: {', '.join(unresolved)})" if unresolved else "")
            )
            for a, b in itertools.pairwise(points):
                na, nb = nearest_node(a), nearest_node(b)
                if na == nb:
                    continue
                try:
                    path = nx.shortest_path(G, na, nb, weight="length_m")
                except nx.NetworkXNoPath:
                    log(f"    no path {a.name} -> {b.name}")
                    continue
                for x, y in itertools.pairwise(path):
                    d = G.edges[x, y]
                    d["highway"] = highway
                    refs = [r for r in d["ref"].split(";") if r]
                    if c["ref"] not in refs:
                        d["ref"] = ";".join([*refs, c["ref"]])

    log("national roads (trunk):")
    mark(shared["national_roads"], "trunk")
    log("expressways (motorway):")
    mark([c for c in shared["expressways"] if c.get("ningxia_sequence")], "motorway")

    seats = [p for p in gaz.places if p.kind in ("county", "prefecture_city")]
    slat = np.array([p.lat for p in seats])
    slon = np.array([p.lon for p in seats])
    for u, v, d in G.edges(data=True):
        mlat, mlon = (pos[u][0] + pos[v][0]) / 2, (pos[u][1] + pos[v][1]) / 2
        speed = SPEEDS[d["highway"]]
        if any(a <= mlat <= b and c <= mlon <= e for a, b, c, e in MOUNTAIN_BOXES):
            speed *= MOUNTAIN_FACTOR[d["highway"]]
            d["terrain"] = "mountain"
        if d["highway"] != "motorway" and float(_haversine_m(slat, slon, mlat, mlon).min()) < URBAN_RADIUS_M:
            speed = min(speed, URBAN_KMH)  # town streets 30-40 km/h (DOMAIN.md)
        d["speed_kmh"] = round(speed, 1)
        d["travel_time_s"] = round(d["length_m"] / (speed / 3.6), 3)


def write_graphml(G: nx.Graph, path: Path) -> None:
    """Write the directed network (both directions of every backbone road) as GraphML."""
    D = nx.DiGraph()
    for n, d in G.nodes(data=True):
        D.add_node(n, lat=float(d["lat"]), lon=float(d["lon"]))
    for u, v, d in G.edges(data=True):
        attrs = {k: d[k] for k in ("highway", "ref", "speed_kmh", "length_m", "travel_time_s")}
        D.add_edge(u, v, **attrs)
        D.add_edge(v, u, **attrs)
    D.graph["source"] = "OpenStreetMap-derived backbone (scgraph-data world_highways), data (c) OpenStreetMap contributors, ODbL"
    path.parent.mkdir(parents=True, exist_ok=True)
    nx.write_graphml(D, path)


def _fmt(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "—"
    m = round(seconds / 60)
    return f"{m // 60}:{m % 60:02d}"


def travel_tables(net: RoadNetwork, gaz: Gazetteer, log) -> tuple[str, dict]:
    """Markdown tables of drive times between county seats; also returns Yinchuan->X seconds."""
    seats = [p for p in gaz.places if p.kind == "county"]
    snaps = snap_points(net, [p.lat for p in seats], [p.lon for p in seats])
    for p, s in zip(seats, snaps, strict=False):
        if s.offroad_m > 5000:
            msg = f"county seat {p.name} is {s.offroad_m:.0f} m from the nearest road"
            raise SystemExit(msg)
    by_name = {p.name: s for p, s in zip(seats, snaps, strict=False)}
    origin = gaz.find("兴庆区")
    times: dict[str, dict[str, tuple[float, float]]] = {}
    for p in seats:
        # the service's off-road speed, straight legs when quicker (the shortcut), as /candidates ranks
        ranked = rank_sources(
            net,
            by_name[p.name],
            {q.name: by_name[q.name] for q in seats},
            k=len(seats),
            with_routes=False,
            offroad_kmh=OFFROAD_KMH,
            shortcut=True,
        )
        for r in ranked:
            times.setdefault(r.source, {})[p.name] = (r.arrival_s, r.distance_m)
    lines = ["| from 银川 (兴庆区) to | km | h:mm | seat off-road m |", "|---|---:|---:|---:|"]
    from_yc = {}
    for p, s in zip(seats, snaps, strict=False):
        t, dist = times[origin.name].get(p.name, (math.inf, math.inf))
        from_yc[p.name] = t
        lines.append(f"| {p.name} ({p.prefecture}) | {dist / 1000:.0f} | {_fmt(t)} | {s.offroad_m:.0f} |")
    short = [p.name.removesuffix("区").removesuffix("县").removesuffix("市") if len(p.name) > 2 else p.name for p in seats]
    matrix = ["| from \\ to | " + " | ".join(short) + " |", "|---" * (len(seats) + 1) + "|"]
    for p, sp_ in zip(seats, short, strict=False):
        row = [_fmt(times[p.name].get(q.name, (math.inf, 0))[0]) if q.name != p.name else "·" for q in seats]
        matrix.append(f"| **{sp_}** | " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n\nAll county seats, h:mm (rows drive to columns):\n\n" + "\n".join(matrix) + "\n", from_yc


# real driving times by car for the main pairs (map-app estimates quoted in the brief and common
# knowledge of the routes); the network should land within about +-30 % of them
REFERENCE = [  # (county seat, seconds, basis)
    ("灵武市", 40 * 60, "~45 km via G307/G211, ~40 min"),
    ("利通区", 60 * 60, "~60 km via G6/银吴, ~50-60 min"),
    ("大武口区", 60 * 60, "~80 km via G6/G110, ~1 h"),
    ("盐池县", 120 * 60, "~150 km via G20, ~2 h"),
    ("沙坡头区", 120 * 60, "~190 km via G6/G2012, ~2 h"),
    ("原州区", 180 * 60, "~330 km via G70, ~3 h (brief: ~3 h)"),
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="backbone GraphML (undirected, length_km)")
    ap.add_argument("--places", type=Path, default=DEFAULT_PLACES, help="shared ningxia_places.json")
    ap.add_argument("--root", type=Path, default=ROOT, help="repository root to write into")
    args = ap.parse_args(argv)
    root = args.root
    source = args.source if args.source.is_absolute() else root / args.source
    places_path = args.places if args.places.is_absolute() else root / args.places
    log = print
    shared = json.loads(places_path.read_text(encoding="utf-8"))
    places = build_places(shared)
    gaz = Gazetteer.from_records(places)

    G = nx.read_graphml(source)
    G = G.subgraph(max(nx.connected_components(G), key=len)).copy()
    log(f"backbone: {G.number_of_nodes()} nodes, {G.number_of_edges()} roads (largest component)")
    classify(G, shared, gaz, log)
    counts: dict[str, float] = {}
    for _, _, d in G.edges(data=True):
        counts[d["highway"]] = counts.get(d["highway"], 0) + d["length_m"] / 1000
    log("km by class: " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(counts.items())))

    write_graphml(G, root / OUT_GRAPH)
    (root / OUT_PLACES).parent.mkdir(parents=True, exist_ok=True)
    about = (
        "Gazetteer for Ningxia: prefecture cities, county seats (from the shared places file), key sites "
        "(approximate, +-3-10 km) and towns (general knowledge, ~1-3 km, verified=false). WGS-84. "
        "Built by `python -m seed.build_roads`."
    )
    (root / OUT_PLACES).write_text(
        json.dumps({"about": about, "places": places}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )

    net = RoadNetwork.from_graph(nx.read_graphml(root / OUT_GRAPH))
    for p in gaz.places:  # every seat and town must be reachable from the road
        if p.kind in ("county", "prefecture_city"):
            snap_point(net, p.lat, p.lon, max_offroad_m=5000)
    table, from_yc = travel_tables(net, gaz, log)
    check = ["| pair | network | reference | reference basis | ratio |", "|---|---:|---:|---|---:|"]
    for name, ref_s, basis in REFERENCE:
        t = from_yc[name]
        check.append(f"| 银川 → {name} | {_fmt(t)} | {_fmt(ref_s)} | {basis} | {t / ref_s:.2f} |")
    log("\n".join(check))
    write_doc(root / OUT_DOC, table, "\n".join(check), counts, net)
    log(f"wrote {OUT_GRAPH}, {OUT_PLACES}, {OUT_DOC}")
    return 0


def write_doc(path: Path, table: str, check: str, counts: dict, net: RoadNetwork) -> None:
    classes = ", ".join(f"{k} {v:.0f} km" for k, v in sorted(counts.items()))
    text = f"""# Travel times on the Ningxia default road network

Generated by `python -m seed.build_roads` (regenerate after changing the script or the shared data;
it rewrites `seed/roads/ningxia.graphml`, `seed/data/places.json` and this file).

Road data © OpenStreetMap contributors, available under the Open Database License (ODbL),
https://www.openstreetmap.org/copyright — via the `scgraph-data` world highways backbone,
clipped to Ningxia (34.8–39.9 N, 103.6–108.2 E).

## How the network is built
- The backbone has lengths only: {net.n_nodes} nodes and {net.n_edges} directed edges after keeping the
  largest connected part; every road is two-way (no one-ways are known in the backbone).
- Classes: edges on the shortest path between consecutive towns of each expressway corridor in the
  shared places file (G6, G20, G2012, G70, G22, G69, G85, G1816) are `motorway` ({SPEEDS["motorway"]:.0f} km/h),
  national road corridors (G109, G110, G211, G307, G309, G312) are `trunk` ({SPEEDS["trunk"]:.0f} km/h),
  other roads `primary` (provincial, {SPEEDS["primary"]:.0f} km/h), short dead-end spurs `tertiary` (county,
  {SPEEDS["tertiary"]:.0f} km/h). Speeds are the Ningxia study defaults in DOMAIN.md.
- Mountain roads (Liupan Shan, Xiji, Longde, Jingyuan boxes) drive slower: expressway ×0.8,
  national/provincial ×0.7. Non-expressway roads within {URBAN_RADIUS_M / 1000:.0f} km of a city or county centre
  are capped at {URBAN_KMH:.0f} km/h (town streets).
- Length by class: {classes}.
- Times below include the off-road legs from each county centre point to its road at {OFFROAD_KMH:g} km/h
  (the service's `RESCUE_OFFROAD_KMH` default), or the straight line at that speed when it is quicker
  (the shortcut `/candidates` and `/plan` use).
- Corridor routing follows the backbone's shortest paths, so a corridor may borrow a parallel road
  where the backbone lacks the expressway; corridor towns and their coordinates are general
  knowledge (`verified: false` in `seed/data/places.json`).

## Sanity check against real driving times
{check}

The references are the typical car driving times quoted in the project brief (Yinchuan→Guyuan ~3 h,
→Zhongwei ~2 h, →Dawukou ~1 h, →Lingwu ~40 min, →Yanchi ~2 h) plus general knowledge for
Yinchuan→Wuzhong (~1 h); they were not re-checked against a live map service. The network lands
within about ±25 %: Wuzhong and Yanchi come out fast (their backbone routes are short, mostly
expressway at the 100 km/h study average, with no toll-gate or city-exit delays), Guyuan a little
slow (mountain factor south of Tongxin). Emergency vehicles are usually somewhat faster than cars.

## From Yinchuan
{table}"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
