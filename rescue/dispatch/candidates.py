"""Rank the capable, available resources of every need of an incident by arrival time, and plan the response.

Arrival (s) = turnout (team turnout, depot loading, expert departure) + off-road leg + road travel
+ the incident's off-road leg, driving TO the incident (one-way roads respected), around impassable
closures; or straight across country when that is quicker (``routing.rank_groups`` with the
shortcut). One bounded search from the incident ranks every need at once: it stops once each
need's top ``k`` (and enough to cover its quantity) are certain.

The registry rows come from ``resources.snapshot`` (kept per registry revision, which database
triggers raise with every change, so an edit is seen by the very next ranking); the open
assignments are read per request. The other cached inputs are the snaps of positions (keyed by
coordinates), the set of active closures (keyed by the closure rows' content) and the main roads
of a route (keyed by its edges), all in ``rescue.roads.network.ActiveRoads``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from rescue.db import utcnow
from rescue.dispatch.resources import Loader, Resource, _mins
from rescue.models import Depot, Equipment, Expert, Incident, IncidentNeed, SupplyLot, Team
from rescue.roads.network import ActiveClosures, ActiveRoads, as_roads
from routing import Group, Offer, Ranked, Snap, rank_groups
from routing import plan as plan_routing

OFFROAD_WARNING = "需越野/徒步接近"
# why a capable resource cannot be offered, by the first words of its blocker (for "why empty")
_WHY = (("已调派至", "busy"), ("已拒绝本事件", "declined"), ("已过期", "expired"), ("道路不通", "closure"), ("距最近道路", "far"))
_WHY_TEXT = {
    "busy": "{n} 个正在执行任务",
    "declined": "{n} 个已拒绝本事件",
    "expired": "{n} 个已过期",
    "closure": "{n} 个被道路封闭阻断",
    "far": "{n} 个登记位置距道路过远",
    "other": "{n} 个不可用 (停用、库存为零等)",
}


@dataclass
class Option:
    """A resource able to serve a need, with its arrival (inf: cannot arrive)."""

    res: Resource
    eta_s: float
    travel_s: float | None = None
    offroad_s: float | None = None
    distance_m: float | None = None
    offroad_m: float | None = None
    direct: bool = False
    closure_m: float = 0.0
    route: dict | None = None
    edges: tuple[int, ...] | None = None
    via: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class NeedRow:
    """The fields of an IncidentNeed the views read (plain values: views outlive the session)."""

    id: int
    capability_code: str | None
    supply_code: str | None
    quantity: float
    unit: str


@dataclass
class NeedView:
    need: NeedRow
    name: str
    kind: str  # team | equipment | expert | supply
    quantity: float  # still to cover (already assigned amounts deducted)
    assigned: float
    pool: list[Resource] = field(default_factory=list)  # every capable resource, usable or not
    options: list[Option] = field(default_factory=list)  # usable, best first
    excluded: list[tuple[Resource, list[str]]] = field(default_factory=list)


def _tied(eta_s: float) -> float:
    """An arrival time as orders and plans compare it: to the millisecond. Two exact searches (the
    hierarchy, the live search) sum the same roads in another order and may differ in the last
    bits; that must never reorder candidates or change a plan."""
    return round(eta_s, 3)


def _kind_of(need: IncidentNeed | NeedRow) -> str:
    if need.supply_code:
        return "supply"
    return {"item": "equipment", "person": "expert"}.get(need.unit, "team")


def _rank(
    roads: ActiveRoads, target: Snap, sources: dict, groups: dict[int, Group], extra: dict, blocked, *, with_routes: bool
) -> tuple[dict[int, list[Ranked]], set]:
    """``rank_groups`` with straight cross-country legs no longer than the service's limit.

    A straight leg beyond ``max_offroad_m`` (or the scene's own off-road leg, when longer) is not a
    way to get there: such a source takes its road route instead, if any. Rare (a closure cutting
    a place off, a remote scene), so it is handled by ranking the affected groups in full once.
    Returns the ranking per group and the members found unreachable.
    """
    net, kmh = roads.net, roads.settings.offroad_kmh
    cap_m = max(roads.settings.max_offroad_m, target.offroad_m)
    kw = {"extra_s": extra, "blocked": blocked, "offroad_kmh": kmh, "with_routes": with_routes}
    out = rank_groups(net, target, sources, groups, **kw)
    unreachable: set = set()
    for gk, g in groups.items():
        if len(out[gk]) < min(len(g.members), _wanted(g, out[gk])):
            unreachable.update(set(g.members) - {r.source for r in out[gk]})
    too_long = {r.source for rs in out.values() for r in rs if r.direct and r.offroad_m > cap_m}
    if not too_long:
        return out, unreachable
    hit = {gk for gk, rs in out.items() if any(r.source in too_long for r in rs)}
    full = rank_groups(net, target, sources, {gk: replace(groups[gk], k=len(groups[gk].members)) for gk in hit}, **kw)
    long_ones = {r.source for rs in full.values() for r in rs if r.direct and r.offroad_m > cap_m}
    by_road = (
        rank_groups(
            net, target, {s: sources[s] for s in long_ones}, {0: Group(list(long_ones), k=len(long_ones))}, **kw, shortcut=False
        )[0]
        if long_ones
        else []
    )
    road = {r.source: r for r in by_road}
    for gk in hit:
        g = groups[gk]
        rs = [road.get(r.source) if r.source in long_ones else r for r in full[gk]]
        rs = [r for r in rs if r is not None]
        tier = g.tier or {}
        rs.sort(key=lambda r: (tier.get(r.source, 0), r.arrival_s))
        unreachable.update(set(g.members) - {r.source for r in rs})
        out[gk] = rs[: _wanted(g, rs)]
    return out, unreachable


def _wanted(g: Group, ranked: list[Ranked]) -> int:
    """How many leading members of ``ranked`` the group asks for (at least k, enough for its quantity)."""
    p = g.k
    if g.quantity > 0:
        got = 0.0
        for i, r in enumerate(ranked, start=1):
            got += 1.0 if g.amount is None else float(g.amount.get(r.source, 1.0))
            if got >= g.quantity:
                p = max(p, i + g.beyond)
                break
        else:
            p = max(p, len(ranked) + 1)
    return p


@dataclass
class _Ranking:
    """What candidates and plan read: the needs with their options, the scene's snap, the closures."""

    views: list[NeedView]
    target: Snap
    closures: ActiveClosures
    warnings: list[str]


def _views(session: Session, roads: ActiveRoads, incident: Incident, now: datetime, *, group_of) -> _Ranking:
    """Every need with its options ranked by arrival (``group_of(view)`` says how many each needs)
    and the resources left out, with reasons."""
    from rescue.dispatch.incidents import need_name

    s = roads.settings
    target = roads.snap(incident.lat, incident.lon)
    active = roads.closed_roads(session, now=now)
    loader = Loader(session, roads, incident, now)
    needs = [NeedRow(n.id, n.capability_code, n.supply_code, n.quantity, n.unit) for n in incident.needs]
    by_kind: dict[str, set[str]] = {"team": set(), "equipment": set(), "expert": set(), "supply": set()}
    for n in needs:
        by_kind[_kind_of(n)].add(n.supply_code or n.capability_code)
    pools = {
        "team": loader.teams(by_kind["team"]),
        "equipment": loader.equipment(by_kind["equipment"]),
        "expert": loader.experts(by_kind["expert"]),
        "supply": loader.supplies(by_kind["supply"]),
    }
    names = loader.need_names(needs)
    views: list[NeedView] = []
    usable: dict[tuple[str, int], Resource] = {}
    for n in needs:
        kind = _kind_of(n)
        assigned = loader.assigned_to_need.get(n.id, 0.0)
        view = NeedView(n, need_name(names, n), kind, max(0.0, float(n.quantity) - assigned), assigned)
        view.pool = pools[kind].get(n.supply_code or n.capability_code, [])
        for res in view.pool:
            if res.blockers:
                view.excluded.append((res, res.blockers))
            else:
                usable.setdefault(res.key, res)
        views.append(view)

    warnings = []
    if target.far(s.flag_offroad_m):
        warnings.append(
            f"事发地距最近道路 {target.offroad_m / 1000:.1f} km: {OFFROAD_WARNING}"
            f" (最后一段按越野 {s.offroad_kmh:g} km/h 估算, 约 {_mins(target.offroad_s(offroad_kmh=s.offroad_kmh))} 分钟)"
        )
    if active.blocked is not None and any(c.blocks and c.contains(incident.lat, incident.lon) for c in active.by_id.values()):
        warnings.append("事发地位于道路中断封闭区内: 最后进场不受该封闭限制")

    # snap every usable resource that must travel (cached by coordinates across requests)
    road_keys = [k for k, r in usable.items() if not r.remote]
    snaps = roads.snap_many([(usable[k].lat, usable[k].lon) for k in road_keys])
    sources, extra, far = {}, {}, {}
    for k, sn in zip(road_keys, snaps, strict=True):
        if roads.too_far(sn):
            far[k] = f"距最近道路 {sn.offroad_m / 1000:.1f} km, 超过 {s.max_offroad_m / 1000:g} km 上限 (请核对登记位置)"
        else:
            sources[k], extra[k] = sn, usable[k].turnout_s
    groups: dict[int, Group] = {}
    for i, view in enumerate(views):
        members = [r.key for r in view.pool if not r.blockers and r.key in sources]
        if members:
            groups[i] = group_of(view, members)
    ranked, unreachable = (
        _rank(roads, target, sources, groups, extra, active.blocked, with_routes=True) if groups else ({}, set())
    )
    remote_s = 60.0 * s.expert_remote_min
    closed_why = "道路不通: " + (
        "被道路中断封闭阻断, 越野距离超过上限" if active.blocked is not None else "无法到达事发地 (单行限制或越野距离超过上限)"
    )
    for i, view in enumerate(views):
        opts = []
        for r in ranked.get(i, []):
            # routes as GeoJSON and main roads: only for what is shown or planned (see _shown)
            opt = Option(
                usable[r.source],
                r.arrival_s,
                r.travel_s,
                r.offroad_s,
                r.distance_m,
                r.offroad_m,
                r.direct,
                r.closure_m if r.closure_m == r.closure_m else 0.0,
                r.route,
                r.edges,
            )
            opts.append(opt)
        for res in view.pool:
            if res.blockers:
                continue
            if res.remote:
                # a remote consultation needs no road: joining the call is its arrival
                opts.append(Option(res, remote_s))
            elif res.key in far:
                view.excluded.append((res, [far[res.key]]))
            elif res.key in unreachable:
                view.excluded.append((res, [closed_why]))
        opts.sort(key=lambda o: (o.res.order, _tied(o.eta_s), o.res.kind, o.res.id))
        view.options = opts
    return _Ranking(views, target, active, warnings)


def _rounded(coordinates: list[tuple[float, float]] | None) -> dict | None:
    """A GeoJSON LineString with coordinates to 6 decimals (~0.1 m): a third of the JSON, nothing visible lost."""
    if coordinates is None:
        return None
    return {"type": "LineString", "coordinates": np.round(np.asarray(coordinates, dtype=float), 6).tolist()}


def _group(view: NeedView, members: list, k: int, *, beyond: int = 0) -> Group:
    amounts = view.kind in ("supply", "equipment")
    res = {r.key: r for r in view.pool}
    return Group(
        members,
        k=k,
        quantity=view.quantity,
        amount={m: res[m].amount for m in members} if amounts else None,
        beyond=beyond if amounts else 0,
        tier={m: res[m].order for m in members},
    )


def _km(metres: float | None) -> str:
    return f"{(metres or 0) / 1000:.1f} km"


def _shown(roads: ActiveRoads, opt: Option, *, geometry: bool = True) -> Option:
    """Fill in the main roads of an option about to be shown, and its GeoJSON route (once)."""
    if geometry and isinstance(opt.route, list):
        opt.route = _rounded(opt.route)
    if opt.edges is not None and not opt.via:
        opt.via = roads.via(opt.edges)
    return opt


def _candidate(opt: Option, rank: int, closures: ActiveClosures, kmh: float) -> dict:
    res = opt.res
    reasons = list(res.reasons)
    warnings = []
    if res.remote:
        reasons.append("远程会商: 约" + _mins(opt.eta_s) + "分钟接入")
    elif opt.direct:
        reasons.append(
            f"出动准备 {_mins(res.turnout_s)} 分钟 + 越野直线 {_km(opt.offroad_m)} 约 {_mins(opt.offroad_s)} 分钟"
            f" (按 {kmh:g} km/h; 道路 0.0 km)"
        )
        warnings.append(f"{OFFROAD_WARNING}: 无可用道路或道路更慢, 越野 {_km(opt.offroad_m)}")
    else:
        total_s = (opt.travel_s or 0) + (opt.offroad_s or 0)
        share = f", 其中越野 {_km(opt.offroad_m)} 约 {_mins(opt.offroad_s or 0)} 分钟" if (opt.offroad_m or 0) >= 50 else ""
        reasons.append(
            f"出动准备 {_mins(res.turnout_s)} 分钟 + 路程 {_mins(total_s)} 分钟"
            f" ({_km((opt.distance_m or 0) + (opt.offroad_m or 0))}: 道路 {_km(opt.distance_m)} + 越野 {_km(opt.offroad_m)}"
            f"{share})"
        )
        if (opt.offroad_m or 0) > 5000:
            warnings.append(f"{OFFROAD_WARNING}: 越野段 {_km(opt.offroad_m)}")
    if opt.via:
        reasons.append("经" + "、".join(opt.via))
    if opt.closure_m > 0:
        reasons.append(f"路线进入封闭区 (道路中断) 约 {opt.closure_m:.0f} m 抵达现场: 现场在封闭区内, 最后进场不受封闭限制")
    tc = closures.on_route(opt.edges, (opt.route or {}).get("coordinates"))
    if tc:
        reasons.append("途经交通管制: " + "、".join(closures.reasons[i] for i in tc) + " (应急车辆可通行)")
    return {
        "rank": rank,
        "kind": res.kind,
        "id": res.id,
        "name": res.name,
        "owner": res.owner,
        "eta_s": round(opt.eta_s, 1),
        "travel_s": round(opt.travel_s, 1) if opt.travel_s is not None else None,
        "turnout_s": round(res.turnout_s, 1),
        "offroad_s": round(opt.offroad_s, 1) if opt.offroad_s is not None else None,
        "distance_m": round(opt.distance_m, 1) if opt.distance_m is not None else None,
        "offroad_m": round(opt.offroad_m, 1) if opt.offroad_m is not None else None,
        "direct": opt.direct,
        "route": opt.route,
        "via": "、".join(opt.via),
        "via_refs": opt.via,
        "amount": res.amount,
        "reasons": reasons,
        "warnings": warnings,
        "stale": res.stale,
        "remote": res.remote,
        "declined": res.declined,
        "enters_closure_m": round(opt.closure_m, 1),
    }


def why_empty(view: NeedView) -> str:
    """Why a need has no candidate: none registered, or how many capable ones are busy, declined … ."""
    if not view.pool:
        return "登记中没有具备该能力的资源"
    counts: dict[str, int] = {}
    for _res, why in view.excluded:
        text = " ".join(why)
        cat = next((c for prefix, c in _WHY if prefix in text), "other")
        counts[cat] = counts.get(cat, 0) + 1
    parts = [_WHY_TEXT[c].format(n=n) for c, n in sorted(counts.items(), key=lambda kv: -kv[1])]
    return f"具备能力的 {len(view.pool)} 个资源均不可用: " + ", ".join(parts)


def _need_head(view: NeedView) -> dict:
    n = view.need
    head = {
        "need_id": n.id,
        "capability": n.capability_code,
        "supply_code": n.supply_code,
        "name": view.name,
        "quantity": n.quantity,
        "unit": n.unit,
        "resource_kind": view.kind,
        "assigned": view.assigned,
        "dispatched": f"已调派 {view.assigned:g}/{n.quantity:g}" if view.assigned else None,
    }
    return head


def rank_candidates(
    session: Session, network, incident: Incident, *, k: int = 10, explain: bool = False, now: datetime | None = None
) -> dict:
    """Per need, the ``k`` best capable and available resources, earliest arrival first.

    At least ``k`` per need, and as many as it takes for their summed amount to cover what the need
    still lacks. Resources unconfirmed for longer than the freshness limit come after confirmed
    ones (``stale``); resources that declined this incident after all others (``declined``). A
    need without candidates says why (``empty_reason``); a need already served says so
    (``dispatched``: 已调派 n/m). With ``explain`` every capable resource is ranked (slower) and
    each need also lists the resources left out and why.
    """
    roads = as_roads(network)
    now = now or utcnow()

    def group_of(view: NeedView, members: list) -> Group:
        return _group(view, members, len(members) if explain else k)

    ranking = _views(session, roads, incident, now, group_of=group_of)
    out = []
    for view in ranking.views:
        entry = _need_head(view)
        cands, got, covered = [], 0.0, None
        shown = view.options if explain else view.options[: max(k, _cover_count(view))]
        for rank, o in enumerate(shown, start=1):
            c = _candidate(_shown(roads, o), rank, ranking.closures, roads.settings.offroad_kmh)
            got += o.res.amount
            c["cumulative"] = got
            if covered is None and got >= view.quantity:
                covered = o.eta_s
            cands.append(c)
        entry["candidates"] = cands
        entry["covered_eta_s"] = round(covered, 1) if covered is not None else None
        entry["empty_reason"] = None
        if not cands and view.quantity > 0:
            entry["empty_reason"] = why_empty(view)
        if explain:
            entry["excluded"] = [{"kind": r.kind, "id": r.id, "name": r.name, "reasons": why} for r, why in view.excluded]
            entry["demoted"] = [
                {
                    "kind": o.res.kind,
                    "id": o.res.id,
                    "name": o.res.name,
                    "reasons": [x for x in o.res.reasons if "未确认" in x or "拒绝" in x],
                }
                for o in view.options
                if o.res.stale or o.res.declined
            ]
        out.append(entry)
    return {
        "incident_id": incident.id,
        "computed_at": now.isoformat(),
        "warnings": ranking.warnings,
        "scene_offroad_m": round(ranking.target.offroad_m, 1),
        "needs": out,
    }


def _cover_count(view: NeedView) -> int:
    got = 0.0
    for i, o in enumerate(view.options, start=1):
        got += o.res.amount
        if got >= view.quantity:
            return i
    return len(view.options)


def plan_response(session: Session, network, incident: Incident, *, now: datetime | None = None) -> dict:
    """A set of resources covering every need so that the last need is covered as early as possible.

    Each resource serves one need (remote experts may serve several). Needs the registry cannot
    cover are listed with their shortfall and why; what could still help them is listed as ``partial``.
    """
    roads = as_roads(network)
    now = now or utcnow()
    asked: dict[str, float] = {}
    for n in incident.needs:
        asked[_kind_of(n)] = asked.get(_kind_of(n), 0.0) + float(n.quantity)

    def group_of(view: NeedView, members: list) -> Group:
        # units (teams, experts): other needs of the same kind hold at most what they ask, so the
        # first ``asked`` offers always leave enough free; amounts: the covering prefix plus a few
        return _group(view, members, max(1, math.ceil(asked[view.kind])) if view.kind in ("team", "expert") else 1, beyond=3)

    ranking = _views(session, roads, incident, now, group_of=group_of)
    views = ranking.views
    needs, offers, by_key = {}, {}, {}
    for view in views:
        if view.quantity <= 0:
            continue
        nid = view.need.id
        needs[nid] = view.quantity
        # unconfirmed or declined resources only when the others cannot cover the need
        fresh = [o for o in view.options if not o.res.stale and not o.res.declined]
        pool = fresh if sum(o.res.amount for o in fresh) >= view.quantity else view.options
        pool = _useful(pool, view, asked[view.kind])
        offers[nid] = [
            Offer(
                o.res.key, _tied(o.eta_s), o.res.amount if view.kind in ("supply", "equipment") else 1.0, shareable=o.res.remote
            )
            for o in pool
        ]
        for o in pool:
            by_key[o.res.key] = o
    result = _plan_by_component(needs, offers)
    need_by_id = {v.need.id: v for v in views}

    def item(a) -> dict:
        o = _shown(roads, by_key[a.source], geometry=False)  # the plan names roads, draws none
        view = need_by_id[a.need]
        qty = a.amount
        if view.kind in ("supply", "equipment"):
            # take only what the need still lacks from the last lot/item set
            qty = min(a.amount, o.res.amount)
        return {
            "need_id": a.need,
            "kind": o.res.kind,
            "id": o.res.id,
            "name": o.res.name,
            "quantity": qty,
            "eta_s": round(a.arrival_s, 1),
            "via": "、".join(o.via),
            "remote": o.res.remote,
            "stale": o.res.stale,
            "direct": o.direct,
            "offroad_m": round(o.offroad_m, 1) if o.offroad_m is not None else None,
        }

    assignments = [item(a) for a in result.assignments]
    _trim_quantities(assignments, needs, need_by_id)
    uncovered = [
        {
            "need_id": nid,
            "capability": need_by_id[nid].need.capability_code,
            "supply_code": need_by_id[nid].need.supply_code,
            "name": need_by_id[nid].name,
            "quantity": need_by_id[nid].need.quantity,
            "shortfall": round(short, 3),
            "reason": why_empty(need_by_id[nid]) if not need_by_id[nid].options else "可用资源数量不足",
        }
        for nid, short in result.uncovered.items()
    ]
    return {
        "incident_id": incident.id,
        "assignments": assignments,
        "uncovered": uncovered,
        "partial": [item(a) for a in result.partial],
        "makespan_s": round(result.makespan_s, 1),
        "optimal": result.optimal,
        "warnings": ranking.warnings,
        "computed_at": now.isoformat(),
    }


def route_note(session: Session, network, incident: Incident, kind: str, resource_id: int, *, now: datetime | None = None) -> str:
    """The SMS route note of one resource's way to the incident: the traffic-control closures (交通管制)
    it drives through, e.g. "途经交通管制: 银川绕城高速事故 (应急车辆可通行)", or "" when none.

    For the messaging side (dispatch SMS). The route is the one the ranking shows (around impassable
    closures, shortcut included); an unknown or unreachable resource gives "".
    """
    from rescue.roads.closures import route_note as note_for_edges

    roads = as_roads(network)
    now = now or utcnow()
    active = roads.closed_roads(session, now=now)
    if not active.traffic_control():
        return ""
    loc = _LOCATIONS.get(kind)
    if loc is None:
        return ""
    row = session.execute(loc(resource_id)).first()
    if row is None or row.lat is None or row.lon is None:
        return ""
    target, source = roads.snap(incident.lat, incident.lon), roads.snap(row.lat, row.lon)
    got = rank_groups(
        roads.net,
        target,
        {0: source},
        {0: Group([0], k=1)},
        blocked=active.blocked,
        offroad_kmh=roads.settings.offroad_kmh,
        with_routes=True,
    )[0]
    return note_for_edges(roads, session, got[0].edges, got[0].route, now=now) if got else ""


_T, _D = aliased(Team), aliased(Depot)
_LOCATIONS = {
    "team": lambda i: select(Team.lat, Team.lon).where(Team.id == i),
    "expert": lambda i: select(Expert.lat, Expert.lon).where(Expert.id == i),
    "supply": lambda i: select(Depot.lat, Depot.lon).join(SupplyLot, SupplyLot.depot_id == Depot.id).where(SupplyLot.id == i),
    "equipment": lambda i: (
        select(func.coalesce(_T.lat, _D.lat).label("lat"), func.coalesce(_T.lon, _D.lon).label("lon"))
        .select_from(Equipment)
        .outerjoin(_T, _T.id == Equipment.team_id)
        .outerjoin(_D, _D.id == Equipment.depot_id)
        .where(Equipment.id == i)
    ),
}


def _plan_by_component(needs: dict, offers: dict):
    """Plan needs that share no resources separately (supplies, items, experts, teams rarely mix):
    the same uncovered needs and makespan, a much smaller search."""
    from routing import Plan

    parent = {n: n for n in needs}

    def find(n):
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    owner: dict = {}
    for n, offs in offers.items():
        for o in offs:
            if o.shareable:
                continue
            if o.source in owner:
                parent[find(n)] = find(owner[o.source])
            else:
                owner[o.source] = n
    groups: dict = {}
    for n in needs:
        groups.setdefault(find(n), []).append(n)
    parts = [plan_routing({n: needs[n] for n in g}, {n: offers.get(n, []) for n in g}) for g in groups.values()]
    order = {n: i for i, n in enumerate(needs)}
    assignments = sorted((a for p in parts for a in p.assignments), key=lambda a: order[a.need])
    return Plan(
        assignments=assignments,
        makespan_s=max((p.makespan_s for p in parts), default=0.0),
        total_arrival_s=sum(p.total_arrival_s for p in parts),
        uncovered={n: short for p in parts for n, short in p.uncovered.items()},
        partial=[a for p in parts for a in p.partial],
        optimal=all(p.optimal for p in parts),
    )


def _useful(pool: list[Option], view: NeedView, asked_of_kind: float) -> list[Option]:
    """The earliest offers that an optimal plan can use (keeps the exact search small).

    Unit offers (teams, experts): other needs of the same kind hold at most what they ask, so
    among the first ``asked_of_kind`` offers (this need's quantity included) enough stay free, and
    a later one is never better. Amounts (supplies, equipment): the prefix that first covers the
    need, plus a few more for the other needs and for fewer, larger lots.
    """
    if view.kind in ("team", "expert"):
        return pool[: int(-(-asked_of_kind // 1))]
    got, cut = 0.0, len(pool)
    for i, o in enumerate(pool, start=1):
        got += o.res.amount
        if got >= view.quantity:
            cut = i
            break
    return pool[: cut + 3]


def _trim_quantities(assignments: list[dict], needs: dict, views: dict) -> None:
    """Supplies/equipment: ask each lot only for what the need still lacks (last lot partly)."""
    left = dict(needs)
    for a in assignments:
        if views[a["need_id"]].kind not in ("supply", "equipment"):
            continue
        take = min(a["quantity"], max(0.0, left[a["need_id"]]))
        left[a["need_id"]] -= take
        a["quantity"] = take
