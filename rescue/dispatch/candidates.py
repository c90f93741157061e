"""Rank the capable, available resources of every need of an incident by arrival time, and plan the response.

Arrival (s) = turnout (team turnout, depot loading, expert departure) + off-road leg + road travel
+ the incident's off-road leg, driving TO the incident (one-way roads respected), around closures.
One reverse search from the incident gives every resource's arrival; routes are rebuilt only for
the resources shown.
"""

from __future__ import annotations

import gc
import threading
import time
from collections import OrderedDict
from dataclasses import astuple, dataclass, field
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import String, cast, event, func, select, union_all
from sqlalchemy.orm import Session, aliased

from rescue.db import utcnow
from rescue.models import Assignment, Capability, Depot, Enterprise, Equipment, Expert, Incident, IncidentNeed, SupplyLot, Team
from rescue.models.enums import LEVEL_NAMES, OPEN_ASSIGNMENT_STATUSES, TEAM_STATUS_NAMES
from rescue.models.registry import equipment_capabilities, expert_fields, team_capabilities
from rescue.readiness.inspections import unserviceable_reason
from rescue.roads.network import ActiveRoads, as_roads
from routing import Offer, rank_sources
from routing import plan as plan_routing

BEIJING_OFFSET = timedelta(hours=8)
_REGISTRY_MODELS = (Team, Equipment, Expert, SupplyLot, Depot, Enterprise, Capability)
_EQUIPMENT_STATUS = {"unserviceable": "故障停用", "deployed": "已出动"}
_EXPERT_STATUS = {"busy": "忙碌", "unavailable": "不可用"}


@dataclass
class Resource:
    """One resource as the ranking sees it (plain values, no ORM objects)."""

    kind: str
    id: int
    name: str
    owner: str
    lat: float
    lon: float
    turnout_s: float
    amount: float
    confirmed: datetime | None
    reasons: list[str] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)
    remote: bool = False
    tier: int = 0  # experts: 0 field match, 1 related field
    stale: bool = False

    @property
    def key(self) -> tuple[str, int]:
        return (self.kind, self.id)


@dataclass
class Option:
    """A resource able to serve a need, with its arrival (inf: cannot arrive)."""

    res: Resource
    eta_s: float
    travel_s: float | None = None
    offroad_s: float | None = None
    distance_m: float | None = None
    route: dict | None = None
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
    options: list[Option] = field(default_factory=list)  # usable, best first
    excluded: list[tuple[Resource, list[str]]] = field(default_factory=list)


def _kind_of(need: IncidentNeed | NeedRow) -> str:
    if need.supply_code:
        return "supply"
    return {"item": "equipment", "person": "expert"}.get(need.unit, "team")


def _mins(seconds: float) -> str:
    return f"{seconds / 60:.0f}"


class _Snapshot:
    """The registry rows ranking reads, cached per process and re-read when the registry changes.

    Changed = a flush in this process touched a registry record (SQLAlchemy hook), or the
    fingerprint (row counts, latest update and confirmation, latest audit entry: every registry
    change through the services is audited) differs — that also catches other workers' changes.
    Assignments are never cached: availability is read fresh on every ranking.
    """

    version = 0

    def __init__(self) -> None:
        self.key = None
        self.rows: dict = {}
        self.lock = threading.Lock()

    _statement = None

    @classmethod
    def fingerprint(cls, session: Session):
        if cls._statement is None:  # built once: constructing the UNION costs more than running it
            from rescue.models import AuditEntry

            def text_of(col):
                return cast(col, String)  # one column type for the whole UNION

            parts = [select(func.count(), text_of(func.max(m.updated_dt)), text_of(func.max(m.last_confirmed_dt))).select_from(m)
                     for m in (Team, Equipment, Expert, SupplyLot, Depot, Enterprise)]
            parts.append(select(func.count(), text_of(func.max(AuditEntry.id)), text_of(func.count())).select_from(AuditEntry))
            parts.append(select(func.count(), text_of(func.count()), text_of(func.count())).select_from(Capability))
            cls._statement = union_all(*parts)
        return tuple(tuple(r) for r in session.execute(cls._statement).all())

    def get(self, session: Session) -> tuple[dict, tuple]:
        key = (_Snapshot.version, self.fingerprint(session), session.get_bind().url.render_as_string())
        if key != self.key:
            rows = _read_registry(session)
            with self.lock:
                self.rows, self.key = rows, key
            gc.freeze()  # long-lived rows: spare the cyclic GC from walking them per request
        return self.rows, key


def _registry_touched(session, _flush_context) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, _REGISTRY_MODELS):
            _Snapshot.version += 1
            return


event.listen(Session, "after_flush", _registry_touched)
_SNAPSHOTS: dict[str, _Snapshot] = {}


def _snapshot(session: Session) -> tuple[dict, tuple]:
    url = session.get_bind().url.render_as_string()
    snap = _SNAPSHOTS.get(url)
    if snap is None:
        snap = _SNAPSHOTS[url] = _Snapshot()
        if len(_SNAPSHOTS) > 16:  # tests create many databases
            _SNAPSHOTS.pop(next(iter(_SNAPSHOTS)))
    return snap.get(session)


class _Search:
    """One incident's reverse search over a set of sources: arrivals, and routes filled in on demand."""

    def __init__(self, arrival: dict, blocked) -> None:
        self.arrival, self.blocked = arrival, blocked
        self.routes: dict[tuple[str, int], tuple[dict | None, list[str], float]] = {}


class _RecentCache:
    """Recent results keyed by everything they depend on, kept briefly (LRU, thread-safe).

    Searches are keyed by network, incident point, closures and each source's position and
    turnout, so candidates and plan of one incident search once; a hit is exact, the lifetime
    only bounds memory. Need views add the registry version and open assignments to the key;
    their key holds the minute, so a resource turns "unconfirmed for too long" at most a minute late.
    """

    def __init__(self, *, size: int = 64, ttl_s: float = 120.0) -> None:
        self.size, self.ttl_s = size, ttl_s
        self.items: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            hit = self.items.get(key)
            if hit is None or time.monotonic() - hit[0] > self.ttl_s:
                return None
            self.items.move_to_end(key)
            return hit[1]

    def put(self, key, value):
        with self.lock:
            self.items[key] = (time.monotonic(), value)
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return value


_SEARCHES = _RecentCache(ttl_s=120.0)
_VIEWS = _RecentCache(ttl_s=30.0)


_T, _D = aliased(Team), aliased(Depot)


def _read_registry(session: Session) -> dict:
    """Every row ranking may need, as plain tuples (a few hundred in Ningxia)."""
    out = {}
    out["capabilities"] = session.execute(select(Capability.code, Capability.name, Capability.category)).all()
    out["enterprises"] = dict(session.execute(select(Enterprise.id, Enterprise.name)).all())
    out["team"] = session.execute(
        select(Team.id, Team.name, Team.lat, Team.lon, Team.turnout_min, Team.status, Team.last_confirmed_dt,
               Team.enterprise_id, Team.level, Team.backbone, Team.headcount, team_capabilities.c.capability_code)
        .join(team_capabilities, team_capabilities.c.team_id == Team.id).order_by(Team.id)
    ).all()
    out["equipment"] = session.execute(
        select(Equipment.id, Equipment.name, Equipment.quantity, Equipment.status, Equipment.last_confirmed_dt,
               Equipment.enterprise_id, Equipment.team_id, Equipment.depot_id, equipment_capabilities.c.capability_code,
               _T.name.label("team_name"), _T.lat.label("team_lat"), _T.lon.label("team_lon"),
               _T.turnout_min, _T.status.label("team_status"),
               _D.name.label("depot_name"), _D.lat.label("depot_lat"), _D.lon.label("depot_lon"),
               Equipment.next_inspection, Equipment.inspection_interval_days, Equipment.last_inspection_on,
               Equipment.last_inspection_passed)
        .join(equipment_capabilities, equipment_capabilities.c.equipment_id == Equipment.id)
        .outerjoin(_T, _T.id == Equipment.team_id)
        .outerjoin(_D, _D.id == Equipment.depot_id)
        .order_by(Equipment.id)
    ).all()
    out["expert"] = session.execute(
        select(Expert.id, Expert.name, Expert.title, Expert.employer, Expert.lat, Expert.lon, Expert.availability,
               Expert.remote_ok, Expert.last_confirmed_dt, Expert.enterprise_id, expert_fields.c.capability_code)
        .join(expert_fields, expert_fields.c.expert_id == Expert.id).order_by(Expert.id)
    ).all()
    out["supply"] = session.execute(
        select(SupplyLot.id, SupplyLot.code, SupplyLot.name, SupplyLot.unit, SupplyLot.quantity, SupplyLot.expiry_date,
               SupplyLot.last_confirmed_dt, SupplyLot.enterprise_id, Depot.name.label("depot_name"), Depot.lat, Depot.lon)
        .join(Depot, Depot.id == SupplyLot.depot_id).order_by(SupplyLot.id)
    ).all()
    return out


_OPEN_ASSIGNMENTS = select(
    Assignment.resource_kind, Assignment.resource_id, Assignment.incident_id, Assignment.quantity, Assignment.need_id
).where(Assignment.status.in_(OPEN_ASSIGNMENT_STATUSES))


class _Loader:
    """Reads the resources the needs ask for with a few column queries (cheap enough per request)."""

    def __init__(self, session: Session, roads: ActiveRoads, incident: Incident, now: datetime) -> None:
        self.session, self.roads, self.incident, self.now = session, roads, incident, now
        s = roads.settings
        self.fresh_after = now - timedelta(days=s.freshness_days)
        self.today = (now + BEIJING_OFFSET).date()
        self.snap, self.snap_key = _snapshot(session)
        self.cap_names: dict[str, str] = {}
        self.cap_category: dict[str, str] = {}
        for code, name, cat in self.snap["capabilities"]:
            self.cap_names[code], self.cap_category[code] = name, cat
        self.enterprises: dict[int, str] = self.snap["enterprises"]
        self.busy: dict[tuple[str, int], list[tuple[int, float]]] = {}
        rows = session.execute(_OPEN_ASSIGNMENTS).all()
        self.open_rows = tuple(tuple(r) for r in rows)
        self.assigned_to_need: dict[int, float] = {}
        for kind, rid, inc, qty, need_id in rows:
            self.busy.setdefault((kind.value, rid), []).append((inc, qty))
            if inc == incident.id and need_id is not None:
                self.assigned_to_need[need_id] = self.assigned_to_need.get(need_id, 0.0) + float(qty or 0)

    def need_names(self, needs: list[IncidentNeed]) -> dict[str, str]:
        """What ``incidents.need_names`` reads, from the registry snapshot instead of two queries."""
        names = {n.capability_code: self.cap_names[n.capability_code]
                 for n in needs if n.capability_code in self.cap_names}
        codes = {n.supply_code for n in needs if n.supply_code}
        if codes:
            for r in self.snap["supply"]:  # lots in id order: the first lot of a code names it
                if r.code in codes:
                    names.setdefault("supply:" + r.code, r.name)
        return names

    def owner(self, enterprise_id: int | None, fallback: str) -> str:
        if enterprise_id is None:
            return fallback
        return self.enterprises.get(enterprise_id) or fallback

    def _freshness(self, res: Resource) -> None:
        if res.confirmed is not None and res.confirmed < self.fresh_after:
            res.stale = True
            day = (res.confirmed + BEIJING_OFFSET).date().isoformat()
            res.reasons.append(f"超过{self.roads.settings.freshness_days}天未确认 (上次 {day}), 排在已确认资源之后")

    def _busy(self, res: Resource) -> None:
        for inc, _qty in self.busy.get(res.key, []):
            where = "本事件" if inc == self.incident.id else "其他事件"
            res.blockers.append(f"已调派至{where} (任务未结束)")
            break

    def teams(self, caps: set[str]) -> dict[str, list[Resource]]:
        out: dict[str, list[Resource]] = {c: [] for c in caps}
        if not caps:
            return out
        rows = [r for r in self.snap["team"] if r.capability_code in caps]
        for r in rows:
            res = Resource("team", r.id, r.name, self.owner(r.enterprise_id, f"{LEVEL_NAMES.get(r.level.value, '')}级队伍"),
                           r.lat, r.lon, 60.0 * float(r.turnout_min or 0), 1.0, r.last_confirmed_dt)
            res.reasons.append(f"具备能力: {self.cap_names.get(r.capability_code, r.capability_code)}")
            if r.backbone:
                res.reasons.append("骨干救援队伍")
            if r.headcount:
                res.reasons.append(f"{r.headcount}人")
            if r.status.value != "available":
                res.blockers.append(TEAM_STATUS_NAMES.get(r.status.value, r.status.value))
            self._busy(res)
            self._freshness(res)
            out[r.capability_code].append(res)
        return out

    def equipment(self, caps: set[str]) -> dict[str, list[Resource]]:
        out: dict[str, list[Resource]] = {c: [] for c in caps}
        if not caps:
            return out
        rows = [r for r in self.snap["equipment"] if r.capability_code in caps]
        loading = 60.0 * self.roads.settings.depot_loading_min
        for r in rows:
            if r.team_id is not None:
                lat, lon, turnout, where = r.team_lat, r.team_lon, 60.0 * float(r.turnout_min or 0), r.team_name
            else:
                lat, lon, turnout, where = r.depot_lat, r.depot_lon, loading, r.depot_name
            res = Resource("equipment", r.id, r.name, self.owner(r.enterprise_id, where), lat, lon, turnout,
                           float(r.quantity), r.last_confirmed_dt)
            res.reasons.append(f"具备能力: {self.cap_names.get(r.capability_code, r.capability_code)}, {r.quantity}件")
            res.reasons.append(f"随{where}出动" if r.team_id is not None else f"从{where}装车 ({_mins(loading)}分钟)")
            if r.status.value != "operational":
                res.blockers.append(_EQUIPMENT_STATUS.get(r.status.value, r.status.value))
            if why := unserviceable_reason(r, self.today):  # overdue for inspection or failed it
                res.blockers.append(why)
            if r.team_id is not None and r.team_status.value != "available":
                res.blockers.append(f"保管队伍{TEAM_STATUS_NAMES.get(r.team_status.value, r.team_status.value)}")
            if r.quantity <= 0:
                res.blockers.append("数量为零")
            self._busy(res)
            self._freshness(res)
            out[r.capability_code].append(res)
        return out

    def experts(self, caps: set[str]) -> dict[str, list[Resource]]:
        """Experts whose field matches (tier 0), then experts of a related field (same category, tier 1)."""
        out: dict[str, list[Resource]] = {c: [] for c in caps}
        if not caps:
            return out
        categories = {self.cap_category.get(c) for c in caps}
        related = {c for c, cat in self.cap_category.items() if cat in categories}
        wanted = caps | related
        rows = [r for r in self.snap["expert"] if r.capability_code in wanted]
        by_expert: dict[int, list] = {}
        for r in rows:
            by_expert.setdefault(r.id, []).append(r)
        turnout = 60.0 * self.roads.settings.expert_turnout_min
        for group in by_expert.values():
            r = group[0]
            fields = {g.capability_code for g in group}
            for cap in caps:
                if cap in fields:
                    tier, why = 0, f"专业领域: {self.cap_names.get(cap, cap)}"
                elif any(self.cap_category.get(f) == self.cap_category.get(cap) for f in fields):
                    near = next(f for f in sorted(fields) if self.cap_category.get(f) == self.cap_category.get(cap))
                    tier, why = 1, f"相近领域: {self.cap_names.get(near, near)}"
                else:
                    continue
                res = Resource("expert", r.id, r.name, r.employer or self.owner(r.enterprise_id, ""), r.lat, r.lon,
                               turnout, 1.0, r.last_confirmed_dt, remote=bool(r.remote_ok), tier=tier)
                res.reasons.append(why + (f" ({r.title})" if r.title else ""))
                if r.remote_ok:
                    res.reasons.append("可远程会商, 无需到场")
                if r.availability.value != "available":
                    res.blockers.append(_EXPERT_STATUS.get(r.availability.value, r.availability.value))
                self._busy(res)
                self._freshness(res)
                out[cap].append(res)
        return out

    def supplies(self, codes: set[str]) -> dict[str, list[Resource]]:
        out: dict[str, list[Resource]] = {c: [] for c in codes}
        if not codes:
            return out
        rows = [r for r in self.snap["supply"] if r.code in codes]
        loading = 60.0 * self.roads.settings.depot_loading_min
        for r in rows:
            taken = sum(q for _inc, q in self.busy.get(("supply", r.id), []))
            left = max(0.0, float(r.quantity) - float(taken or 0))
            res = Resource("supply", r.id, r.name, self.owner(r.enterprise_id, r.depot_name), r.lat, r.lon, loading,
                           left, r.last_confirmed_dt)
            res.reasons.append(f"{r.depot_name}库存 {left:g}{r.unit}" + (f" (已调出 {taken:g})" if taken else ""))
            res.reasons.append(f"装车 {_mins(loading)} 分钟")
            if r.quantity <= 0:
                res.blockers.append("库存为零")
            elif left <= 0:
                res.blockers.append("库存已全部调出")
            if r.expiry_date is not None and r.expiry_date < self.today:
                res.blockers.append(f"已过期 ({r.expiry_date.isoformat()})")
            self._freshness(res)
            out[r.code].append(res)
        return out


def _views(session: Session, roads: ActiveRoads, incident: Incident, now: datetime) -> tuple[list[NeedView], _Search]:
    """Every need with its usable options (arrival times) and the resources left out, with reasons;
    and the search they came from (routes are added to it on demand)."""
    from rescue.dispatch.incidents import need_name

    target = roads.reachable_snap(incident.lat, incident.lon)
    closure_ids, blocked = roads.closures(session, now=now)
    loader = _Loader(session, roads, incident, now)
    needs = [NeedRow(n.id, n.capability_code, n.supply_code, n.quantity, n.unit) for n in incident.needs]
    # candidates then plan of one incident: the same views unless something they read changed
    vkey = (roads.net, astuple(roads.settings), incident.id, target, closure_ids, loader.snap_key, loader.open_rows,
            now.replace(second=0, microsecond=0),  # freshness and expiry: at most a minute late
            tuple(needs))
    hit = _VIEWS.get(vkey)
    if hit is not None:
        return hit
    by_kind: dict[str, set[str]] = {"team": set(), "equipment": set(), "expert": set(), "supply": set()}
    for n in needs:
        by_kind[_kind_of(n)].add(n.supply_code or n.capability_code)
    pools = {
        "team": loader.teams(by_kind["team"]), "equipment": loader.equipment(by_kind["equipment"]),
        "expert": loader.experts(by_kind["expert"]), "supply": loader.supplies(by_kind["supply"]),
    }
    names = loader.need_names(needs)
    views: list[NeedView] = []
    usable: dict[tuple[str, int], Resource] = {}
    for n in needs:
        kind = _kind_of(n)
        assigned = loader.assigned_to_need.get(n.id, 0.0)
        view = NeedView(n, need_name(names, n), kind, max(0.0, float(n.quantity) - assigned), assigned)
        for res in pools[kind].get(n.supply_code or n.capability_code, []):
            if res.blockers:
                view.excluded.append((res, res.blockers))
            else:
                usable.setdefault(res.key, res)
                view.options.append(Option(res, float("inf")))
        views.append(view)

    # snap every usable resource once (cached by coordinates across requests)
    keys = list(usable)
    snaps = roads.snap_many([(usable[k].lat, usable[k].lon) for k in keys])
    sources, extra = {}, {}
    far: dict[tuple[str, int], str] = {}
    for k, s in zip(keys, snaps, strict=True):
        if roads.too_far(s):
            far[k] = f"距最近道路 {s.offroad_m / 1000:.1f} km, 超过 {roads.settings.max_offroad_m / 1000:g} km 上限"
        else:
            sources[k], extra[k] = s, usable[k].turnout_s
    # one reverse search from the incident: every resource's arrival at once (shared by the
    # candidates and plan requests of the same incident while nothing it depends on changes)
    key = (roads.net, target, closure_ids, roads.settings.offroad_kmh,
           tuple((k, s.edge, s.fraction, s.offroad_m, extra[k]) for k, s in sources.items()))
    search = _SEARCHES.get(key)
    if search is None:
        # distances come with the routes of the options shown (no path walked for the others)
        ranked = rank_sources(roads.net, target, sources, k=len(sources), extra_s=extra, blocked=blocked,
                              offroad_kmh=roads.settings.offroad_kmh, with_routes=False,
                              with_distances=False) if sources else []
        search = _SEARCHES.put(key, _Search({r.source: r for r in ranked}, blocked))
    arrival = search.arrival
    remote_s = 60.0 * roads.settings.expert_remote_min
    for view in views:
        kept = []
        for opt in view.options:
            k = opt.res.key
            r = arrival.get(k)
            if r is not None:
                opt.eta_s, opt.travel_s, opt.offroad_s = r.arrival_s, r.travel_s, r.offroad_s
            if opt.res.remote:
                # a remote consultation needs no road: joining the call is its arrival
                opt.eta_s = remote_s
                kept.append(opt)
            elif r is not None:
                kept.append(opt)
            else:
                why = far.get(k) or "道路不通 (封闭或单行限制, 无法到达事发地)"
                view.excluded.append((opt.res, [why]))
        kept.sort(key=lambda o: (o.res.stale, o.res.tier, o.eta_s, o.res.kind, o.res.id))
        view.options = kept
    return _VIEWS.put(vkey, (views, search))


def _attach_routes(roads: ActiveRoads, search: _Search, incident: Incident, options: list[Option]) -> None:
    """Routes (GeoJSON) and main roads of the options shown, from one more search limited to those
    the search has not routed yet."""
    targets = {o.res.key: o for o in options if o.travel_s is not None}
    missing = [k for k in targets if k not in search.routes]
    if missing:
        target = roads.reachable_snap(incident.lat, incident.lon)
        snaps = roads.snap_many([(targets[k].res.lat, targets[k].res.lon) for k in missing])
        extra = {k: targets[k].res.turnout_s for k in missing}
        ranked = rank_sources(roads.net, target, dict(zip(missing, snaps, strict=True)), k=len(missing), extra_s=extra,
                              blocked=search.blocked, offroad_kmh=roads.settings.offroad_kmh, with_routes=True)
        for r in ranked:
            search.routes[r.source] = (_rounded(r.route), roads.via(r.edges), r.distance_m)
    for k, opt in targets.items():
        got = search.routes.get(k)
        if got is not None:
            opt.route, opt.via, opt.distance_m = got


def _rounded(coordinates: list[tuple[float, float]] | None) -> dict | None:
    """A GeoJSON LineString with coordinates to 6 decimals (~0.1 m): a third of the JSON, nothing visible lost."""
    if coordinates is None:
        return None
    return {"type": "LineString", "coordinates": np.round(np.asarray(coordinates, dtype=float), 6).tolist()}


def _candidate(opt: Option, rank: int) -> dict:
    res = opt.res
    reasons = list(res.reasons)
    if res.remote:
        reasons.append("远程会商: 约" + _mins(opt.eta_s) + "分钟接入")
        if opt.travel_s is not None:
            reasons.append(f"如需到场: 约{_mins(res.turnout_s + opt.travel_s + (opt.offroad_s or 0))}分钟")
    else:
        reasons.append(f"出动准备 {_mins(res.turnout_s)} 分钟 + 路程 {_mins(opt.travel_s + (opt.offroad_s or 0))} 分钟"
                       f" ({(opt.distance_m or 0) / 1000:.1f} km)")
    if opt.via:
        reasons.append("经" + "、".join(opt.via))
    return {
        "rank": rank, "kind": res.kind, "id": res.id, "name": res.name, "owner": res.owner,
        "eta_s": round(opt.eta_s, 1),
        "travel_s": round(opt.travel_s, 1) if opt.travel_s is not None else None,
        "turnout_s": round(res.turnout_s, 1),
        "offroad_s": round(opt.offroad_s, 1) if opt.offroad_s is not None else None,
        "distance_m": round(opt.distance_m, 1) if opt.distance_m is not None else None,
        "route": opt.route, "via": "、".join(opt.via), "via_refs": opt.via,
        "amount": res.amount, "reasons": reasons, "stale": res.stale, "remote": res.remote,
    }


def _need_head(view: NeedView) -> dict:
    n = view.need
    head = {"need_id": n.id, "capability": n.capability_code, "supply_code": n.supply_code, "name": view.name,
            "quantity": n.quantity, "unit": n.unit, "resource_kind": view.kind}
    if view.assigned:
        head["assigned"] = view.assigned
    return head


def rank_candidates(session: Session, network, incident: Incident, *, k: int = 10, explain: bool = False,
                    now: datetime | None = None) -> dict:
    """Per need, the ``k`` best capable and available resources, earliest arrival first.

    Supplies are listed in arrival order until their summed quantity meets the need (at least
    ``k`` lots when there are so many). Resources unconfirmed for longer than the freshness limit
    come after confirmed ones, flagged ``stale``. With ``explain`` each need also lists the
    resources left out and why.
    """
    roads = as_roads(network)
    now = now or utcnow()
    views, search = _views(session, roads, incident, now)
    shown: dict[int, list[Option]] = {}
    for view in views:
        opts = view.options
        if view.kind == "supply":
            got, cut = 0.0, 0
            for cut, o in enumerate(opts, start=1):  # noqa: B007 - `cut` is read after the loop
                got += o.res.amount
                if got >= view.quantity:
                    break
            shown[view.need.id] = opts[: max(k, cut)]
        else:
            shown[view.need.id] = opts[:k]
    unique = {o.res.key: o for opts in shown.values() for o in opts}
    _attach_routes(roads, search, incident, list(unique.values()))
    out = []
    for view in views:
        entry = _need_head(view)
        cands, got, covered = [], 0.0, None
        for rank, o in enumerate(shown[view.need.id], start=1):
            same = unique[o.res.key]
            o.route, o.via, o.distance_m = same.route, same.via, same.distance_m
            c = _candidate(o, rank)
            got += o.res.amount
            c["cumulative"] = got
            if covered is None and got >= view.quantity:
                covered = o.eta_s
            cands.append(c)
        entry["candidates"] = cands
        entry["covered_eta_s"] = round(covered, 1) if covered is not None else None
        if explain:
            entry["excluded"] = [{"kind": r.kind, "id": r.id, "name": r.name, "reasons": why} for r, why in view.excluded]
            entry["demoted"] = [{"kind": o.res.kind, "id": o.res.id, "name": o.res.name,
                                 "reasons": [x for x in o.res.reasons if "未确认" in x]} for o in view.options if o.res.stale]
        out.append(entry)
    return {"incident_id": incident.id, "computed_at": now.isoformat(), "needs": out}


def plan_response(session: Session, network, incident: Incident, *, now: datetime | None = None) -> dict:
    """A set of resources covering every need so that the last need is covered as early as possible.

    Each resource serves one need (remote experts may serve several). Needs the registry cannot
    cover are listed with their shortfall; what could still help them is listed as ``partial``.
    """
    roads = as_roads(network)
    now = now or utcnow()
    views, search = _views(session, roads, incident, now)
    needs, offers, by_key = {}, {}, {}
    # resources of one kind compete across needs; the others never take more than they ask
    asked = {}
    for view in views:
        asked[view.kind] = asked.get(view.kind, 0.0) + view.quantity
    for view in views:
        if view.quantity <= 0:
            continue
        nid = view.need.id
        needs[nid] = view.quantity
        # stale resources only when the confirmed ones cannot cover the need
        fresh = [o for o in view.options if not o.res.stale]
        pool = fresh if sum(o.res.amount for o in fresh) >= view.quantity else view.options
        pool = _useful(pool, view, asked[view.kind])
        offers[nid] = [Offer(o.res.key, o.eta_s, o.res.amount if view.kind in ("supply", "equipment") else 1.0,
                             shareable=o.res.remote) for o in pool]
        for o in pool:
            by_key[o.res.key] = o
    result = _plan_by_component(needs, offers)
    need_by_id = {v.need.id: v for v in views}
    via_needed = [by_key[a.source] for a in result.assignments if a.source[0] != "expert" or not by_key[a.source].res.remote]
    _attach_routes(roads, search, incident, list({o.res.key: o for o in via_needed}.values()))

    def item(a) -> dict:
        o = by_key[a.source]
        view = need_by_id[a.need]
        qty = a.amount
        if view.kind in ("supply", "equipment"):
            # take only what the need still lacks from the last lot/item set
            qty = min(a.amount, o.res.amount)
        return {"need_id": a.need, "kind": o.res.kind, "id": o.res.id, "name": o.res.name, "quantity": qty,
                "eta_s": round(a.arrival_s, 1), "via": "、".join(o.via), "remote": o.res.remote, "stale": o.res.stale}

    assignments = [item(a) for a in result.assignments]
    _trim_quantities(assignments, needs, need_by_id)
    uncovered = [{"need_id": nid, "capability": need_by_id[nid].need.capability_code,
                  "supply_code": need_by_id[nid].need.supply_code, "name": need_by_id[nid].name,
                  "quantity": need_by_id[nid].need.quantity, "shortfall": round(short, 3)}
                 for nid, short in result.uncovered.items()]
    return {
        "incident_id": incident.id,
        "assignments": assignments,
        "uncovered": uncovered,
        "partial": [item(a) for a in result.partial],
        "makespan_s": round(result.makespan_s, 1),
        "optimal": result.optimal,
        "computed_at": now.isoformat(),
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
