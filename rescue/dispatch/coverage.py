"""Coverage: for every county seat and key site, the earliest arrival of a capable available resource."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.orm import Session

from rescue.db import utcnow
from rescue.dispatch.resources import Loader
from rescue.errors import ValidationError
from rescue.models import Capability, Incident
from rescue.roads.network import ActiveRoads, as_roads
from routing import coverage, lost_cover

TARGET_KINDS = ("county", "key_site")
_KEY = re.compile(r"^(team|equipment):(\d{1,10})$")


def parse_request(session: Session, args) -> tuple[str, float, list[tuple[str, int]]]:
    """capability, minutes and exclude=kind:id[,kind:id] from query arguments; every bad one at once."""
    errors: dict[str, str] = {}
    cap = (args.get("capability") or "").strip()
    if not cap:
        errors["capability"] = "必填"
    elif session.get(Capability, cap) is None:
        errors["capability"] = f"未知的能力代码: {cap}"
    minutes = 60.0
    try:
        minutes = float(args.get("minutes", 60))
        if not 1 <= minutes <= 1440:
            raise ValueError
    except ValueError:
        errors["minutes"] = "应为 1–1440 之间的分钟数"
    exclude = []
    raw = [
        x
        for v in (args.getlist("exclude") if hasattr(args, "getlist") else [args.get("exclude") or ""])
        for x in str(v).split(",")
        if x.strip()
    ]
    for item in raw:
        m = _KEY.match(item.strip())
        if m is None:
            errors["exclude"] = "格式应为 team:12 或 equipment:5 (可用逗号分隔多个)"
            break
        exclude.append((m.group(1), int(m.group(2))))
    if errors:
        raise ValidationError(errors, "查询参数有误")
    return cap, minutes, exclude


def usable_resources(session: Session, roads: ActiveRoads, capabilities: set[str], *, now: datetime) -> dict[str, list]:
    """Per capability, the teams and equipment holding it that ranking would send now (no blockers), by
    dispatch's eligibility rules: what coverage reports measure from. One read for all capabilities."""
    # a throwaway incident only scopes the loader's "assigned to this incident" notes
    loader = Loader(session, roads, Incident(id=-1), now)
    teams, equipment = loader.teams(capabilities), loader.equipment(capabilities)
    return {c: [r for r in teams[c] + equipment[c] if not r.blockers] for c in capabilities}


def coverage_report(
    session: Session,
    network,
    *,
    capability: str,
    minutes: float,
    exclude: list[tuple[str, int]] = (),
    now: datetime | None = None,
) -> dict:
    """Per target: arrival_s of the nearest capable available team or equipment, met (≤ minutes), and
    with ``exclude`` (e.g. a team about to be committed) which targets lose their cover."""
    roads = as_roads(network)
    now = now or utcnow()
    usable = {res.key: res for res in usable_resources(session, roads, {capability}, now=now)[capability]}
    names = {key: res.name for key, res in usable.items()}
    keys = list(usable)
    snaps = roads.snap_many([(usable[k].lat, usable[k].lon) for k in keys])
    sources = {k: s for k, s in zip(keys, snaps, strict=True) if not roads.too_far(s)}
    extra = {k: usable[k].turnout_s for k in sources}
    places = [p for p in (roads.gazetteer.places if roads.gazetteer else []) if p.kind in TARGET_KINDS]
    psnaps = roads.snap_many([(p.lat, p.lon) for p in places])
    targets = {p.name: s for p, s in zip(places, psnaps, strict=True) if not roads.too_far(s)}
    blocked = roads.closed_roads(session, now=now).blocked
    threshold = minutes * 60.0
    kw = {"extra_s": extra, "blocked": blocked, "offroad_kmh": roads.settings.offroad_kmh}
    after = {c.target: c for c in coverage(roads.net, targets, sources, exclude=exclude, **kw)} if targets else {}
    lost: list[str] = []
    if exclude and targets:
        before = coverage(roads.net, targets, sources, **kw)
        lost = lost_cover(before, list(after.values()), threshold_s=threshold)
    items = []
    for p in places:
        c = after.get(p.name)
        arrival = c.arrival_s if c is not None and c.source is not None else None
        src = None
        if arrival is not None:
            kind, rid = c.source
            src = {"kind": kind, "id": rid, "name": names.get(c.source, "")}
        items.append(
            {
                "name": p.name,
                "kind": p.kind,
                "county": p.county or p.name,
                "lat": p.lat,
                "lon": p.lon,
                "arrival_s": round(arrival, 1) if arrival is not None else None,
                "met": arrival is not None and arrival <= threshold,
                "source": src,
                "lost": p.name in lost,
            }
        )
    return {
        "capability": capability,
        "minutes": minutes,
        "exclude": [f"{k}:{i}" for k, i in exclude],
        "items": items,
        "met": sum(i["met"] for i in items),
        "missed": sum(not i["met"] for i in items),
        "lost": lost,
        "computed_at": now.isoformat(),
    }


def as_geojson(report: dict) -> dict:
    return {
        "type": "FeatureCollection",
        "properties": {k: report[k] for k in ("capability", "minutes", "exclude", "met", "missed", "lost")},
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [i["lon"], i["lat"]]},
                "properties": {k: v for k, v in i.items() if k not in ("lat", "lon")},
            }
            for i in report["items"]
        ],
    }


def far_from_roads(session: Session, network, *, enterprise_id: int | None = None) -> list[dict]:
    """Registry records (teams, depots, experts, enterprises) farther than ``flag_offroad_m`` from the
    road network, farthest first, for their owners to correct (or to show the network's limits).

    ``enterprise_id`` narrows the list to one enterprise's records (what its admin may see).
    """
    from sqlalchemy import select

    from rescue.models import Depot, Enterprise, Expert, Team

    roads = as_roads(network)
    limit_m = roads.settings.flag_offroad_m
    rows = []
    for kind, model in (("team", Team), ("depot", Depot), ("expert", Expert), ("enterprise", Enterprise)):
        owner = model.id if model is Enterprise else model.enterprise_id
        stmt = select(model.id, model.name, model.lat, model.lon, owner.label("owner")).where(model.lat.is_not(None))
        if enterprise_id is not None:
            stmt = stmt.where(owner == enterprise_id)
        rows += [(kind, r) for r in session.execute(stmt)]
    snaps = roads.snap_many([(r.lat, r.lon) for _k, r in rows])
    out = [
        {
            "kind": kind,
            "id": r.id,
            "name": r.name,
            "enterprise_id": r.owner,
            "lat": r.lat,
            "lon": r.lon,
            "offroad_m": round(s.offroad_m, 1),
            "reason": f"登记位置距最近道路 {s.offroad_m / 1000:.1f} km (超过 {limit_m / 1000:g} km): 请核对坐标; "
            "如位置无误, 到达时间按越野估算",
        }
        for (kind, r), s in zip(rows, snaps, strict=True)
        if s.far(limit_m)
    ]
    return sorted(out, key=lambda x: -x["offroad_m"])
