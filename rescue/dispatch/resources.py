"""The registry's resources as dispatch sees them: plain ``Resource`` values with their reasons and
blockers, read from a snapshot of the registry rows.

One explicit cache: ``snapshot(session)`` keeps the rows of the tables ranking reads (capabilities,
enterprises, depots, teams, experts, equipment, supply lots and their capabilities, and the facts of
the certificate check) per database, tagged with the registry revision they were read at. Database
triggers (migration 0011) raise that revision with any insert, update or delete in those tables,
in the same transaction, whichever process or tool makes it; so a request that finds another
revision reads the rows again, and an edit is seen by the very next ranking. What is computed from
those rows alone (each resource's own fields, reasons and blockers) is kept with the snapshot
(``Snapshot.derived``), so it goes when the snapshot does. What depends on the time (freshness,
expiry, inspections due, roster shifts on duty) and on assignments (busy, declined) is judged per
request, never cached.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session, aliased

from rescue.clock import CHINA, local_date
from rescue.models import Assignment, Capability, Depot, Enterprise, Equipment, Expert, Incident, SupplyLot, Team
from rescue.models.enums import LEVEL_NAMES, OPEN_ASSIGNMENT_STATUSES, TEAM_STATUS_NAMES
from rescue.models.registry import equipment_capabilities, expert_fields, registry_revision, team_capabilities
from rescue.readiness.certificates import CERTIFICATE_FACT_TABLES, CertificateFacts, certificate_facts, degraded_from
from rescue.readiness.inspections import unserviceable_reason
from rescue.roads.network import ActiveRoads

_EQUIPMENT_STATUS = {"unserviceable": "故障停用", "deployed": "已出动"}
_EXPERT_STATUS = {"busy": "忙碌", "unavailable": "不可用"}


def _mins(seconds: float) -> str:
    return f"{seconds / 60:.0f}"


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
    declined: bool = False  # declined a call-out for this incident: offered after the others, marked

    @cached_property
    def key(self) -> tuple[str, int]:  # read a thousand times a ranking: kept on first use (kind and id never change)
        return (self.kind, self.id)

    @property
    def order(self) -> int:
        """Sorts before arrival: declined after everything, unconfirmed after confirmed, related fields last."""
        return 100 * self.declined + 10 * self.stale + self.tier


_T, _D = aliased(Team), aliased(Depot)
# every row of each kind with one capability (or supply code) each, in id order
_ROWS = {
    "team": (
        select(
            Team.id,
            Team.name,
            Team.lat,
            Team.lon,
            Team.turnout_min,
            Team.status,
            Team.last_confirmed_dt,
            Team.enterprise_id,
            Team.level,
            Team.backbone,
            Team.headcount,
            team_capabilities.c.capability_code,
        )
        .join(team_capabilities, team_capabilities.c.team_id == Team.id)
        .order_by(Team.id)
    ),
    "equipment": (
        select(
            Equipment.id,
            Equipment.name,
            Equipment.quantity,
            Equipment.status,
            Equipment.last_confirmed_dt,
            Equipment.enterprise_id,
            Equipment.team_id,
            Equipment.depot_id,
            equipment_capabilities.c.capability_code,
            _T.name.label("team_name"),
            _T.lat.label("team_lat"),
            _T.lon.label("team_lon"),
            _T.turnout_min,
            _T.status.label("team_status"),
            _D.name.label("depot_name"),
            _D.lat.label("depot_lat"),
            _D.lon.label("depot_lon"),
            # inspections (readiness): an item overdue or failed is unserviceable
            Equipment.next_inspection,
            Equipment.inspection_interval_days,
            Equipment.last_inspection_on,
            Equipment.last_inspection_passed,
        )
        .join(equipment_capabilities, equipment_capabilities.c.equipment_id == Equipment.id)
        .outerjoin(_T, _T.id == Equipment.team_id)
        .outerjoin(_D, _D.id == Equipment.depot_id)
        .order_by(Equipment.id)
    ),
    "expert": (
        select(
            Expert.id,
            Expert.name,
            Expert.title,
            Expert.employer,
            Expert.lat,
            Expert.lon,
            Expert.availability,
            Expert.remote_ok,
            Expert.last_confirmed_dt,
            Expert.enterprise_id,
            expert_fields.c.capability_code,
        )
        .join(expert_fields, expert_fields.c.expert_id == Expert.id)
        .order_by(Expert.id)
    ),
    "supply": (
        select(
            SupplyLot.id,
            SupplyLot.code,
            SupplyLot.name,
            SupplyLot.unit,
            SupplyLot.quantity,
            SupplyLot.expiry_date,
            SupplyLot.last_confirmed_dt,
            SupplyLot.enterprise_id,
            Depot.name.label("depot_name"),
            Depot.lat,
            Depot.lon,
        )
        .join(Depot, Depot.id == SupplyLot.depot_id)
        .order_by(SupplyLot.id)
    ),
}


@dataclass(frozen=True)
class Snapshot:
    """The registry rows ranking reads, as of one revision (rows are immutable tuples)."""

    revision: tuple[str, int]
    cap_names: dict[str, str]
    cap_category: dict[str, str]
    enterprises: dict[int, str]
    by_code: dict[str, dict[str, list]]  # kind → capability (supply) code → rows in id order
    certificates: CertificateFacts
    read_at: datetime
    # values computed from the rows above alone (see ``derived``): they live and die with the snapshot
    _derived: dict = field(default_factory=dict, compare=False, repr=False)

    def rows(self, kind: str, codes: set[str]) -> list:
        """The rows of ``kind`` holding any of ``codes``, in id order (as one query would give them)."""
        table = self.by_code[kind]
        if len(codes) == 1:
            return table.get(next(iter(codes)), [])
        return sorted((r for c in codes for r in table.get(c, ())), key=lambda r: r.id)

    def derived(self, key: tuple, build: Callable[[], Any]) -> Any:
        """``build()``, computed once per snapshot: ``build`` must read nothing but this snapshot's rows
        (and ``key``), never the clock or the assignments, so a new revision (a new snapshot) is its
        only invalidation."""
        got = self._derived.get(key)
        if got is None:
            got = self._derived[key] = build()  # two threads may both build it: the same value either way
        return got


@dataclass(frozen=True, slots=True)
class _Static:
    """What one resource's registry rows say by themselves, kept per snapshot (``Snapshot.derived``):
    the fields of its ``Resource`` and the reasons and blockers that depend on no clock and no
    assignment. ``Loader`` adds what does, in the order the reasons have always been written."""

    args: tuple  # Resource(kind, id, name, owner, lat, lon, turnout_s, amount, confirmed)
    reasons: tuple[str, ...]
    blockers: tuple[str, ...]
    row: Any = None
    later_blockers: tuple[str, ...] = ()  # equipment: after the inspection check (which is dated)
    remote: bool = False
    tier: int = 0

    def resource(self) -> Resource:
        return Resource(*self.args, reasons=list(self.reasons), blockers=list(self.blockers), remote=self.remote, tier=self.tier)


_CAPABILITIES = select(Capability.code, Capability.name, Capability.category)
_ENTERPRISES = select(Enterprise.id, Enterprise.name)
READS = (*_ROWS.values(), _CAPABILITIES, _ENTERPRISES)  # the snapshot's own queries
# what the snapshot reads (READS and the certificate facts): the tables migration 0011 watches
WATCHED_TABLES = frozenset(
    {"capabilities", "enterprises", "depots", "teams", "team_capabilities", "experts", "expert_fields"}
    | {"equipment", "equipment_capabilities", "supply_lots", *CERTIFICATE_FACT_TABLES}
)

_REVISION = select(registry_revision.c.epoch, registry_revision.c.value).where(registry_revision.c.id == 1)
# PostgreSQL bumps the revision at commit: a transaction that has written anything (it has a
# transaction id) might see rows of its own that the revision does not count yet, so it reads
# them afresh and caches nothing. (SQLite bumps at once, so its own writes move the revision.)
_REVISION_PG = _REVISION.add_columns(func.txid_current_if_assigned())
# engine → its database's newest snapshot (weak: an engine disposed of takes its snapshot along)
_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def snapshot(session: Session, *, now: datetime) -> Snapshot:
    """The registry rows at the database's current revision: cached, or read now (and cached)."""
    engine = session.get_bind()
    if engine.dialect.name == "postgresql":
        epoch, value, writing = session.execute(_REVISION_PG).one()
    else:
        (epoch, value), writing = session.execute(_REVISION).one(), None
    cached = _cache.get(engine)
    if writing is None and cached is not None and cached.revision == (epoch, value) and cached.read_at <= now:
        return cached
    # the revision is read before the rows: rows newer than it are only read again next time
    names, category = {}, {}
    for code, name, cat in session.execute(_CAPABILITIES):
        names[code], category[code] = name, cat
    by_code: dict[str, dict[str, list]] = {}
    for kind, stmt in _ROWS.items():
        table: dict[str, list] = {}
        for r in session.execute(stmt):
            table.setdefault(r.code if kind == "supply" else r.capability_code, []).append(r)
        by_code[kind] = table
    fresh = Snapshot(
        revision=(epoch, value),
        cap_names=names,
        cap_category=category,
        enterprises=dict(session.execute(_ENTERPRISES).all()),
        by_code=by_code,
        certificates=certificate_facts(session, since=now),
        read_at=now,
    )
    if writing is None:
        with _cache_lock:
            _cache[engine] = fresh
    return fresh


# open assignments anywhere (availability) and every call-out of one incident (declines)
_ASSIGNMENTS = select(
    Assignment.resource_kind,
    Assignment.resource_id,
    Assignment.incident_id,
    Assignment.quantity,
    Assignment.need_id,
    Assignment.status,
    Assignment.created_dt,
).where(or_(Assignment.status.in_(OPEN_ASSIGNMENT_STATUSES), Assignment.incident_id == bindparam("incident_id")))


class Loader:
    """The resources of the capabilities asked for (from the snapshot), judged now: availability,
    freshness, inspections, certificates; and the open assignments (read per request)."""

    def __init__(self, session: Session, roads: ActiveRoads, incident: Incident, now: datetime) -> None:
        self.session, self.roads, self.incident, self.now = session, roads, incident, now
        s = roads.settings
        self.fresh_after = now - timedelta(days=s.freshness_days)
        self.today = local_date(now)
        self.snap = snap = snapshot(session, now=now)
        self.cap_names, self.cap_category = snap.cap_names, snap.cap_category
        self.supply_names: dict[str, str] = {}
        self.busy: dict[tuple[str, int], list[tuple[int, float]]] = {}
        self.declined: dict[tuple[str, int], datetime] = {}
        self.assigned_to_need: dict[int, float] = {}
        rows = session.execute(_ASSIGNMENTS, {"incident_id": incident.id}).all()
        for kind, rid, inc, qty, need_id, status, created in rows:
            key = (kind.value, rid)
            if status.value in OPEN_ASSIGNMENT_STATUSES:
                self.busy.setdefault(key, []).append((inc, qty))
                if inc == incident.id and need_id is not None:
                    self.assigned_to_need[need_id] = self.assigned_to_need.get(need_id, 0.0) + float(qty or 0)
            elif status.value == "declined" and inc == incident.id:
                self.declined[key] = created

    def _rows(self, kind: str, codes: set[str]) -> list:
        rows = self.snap.rows(kind, codes) if codes else []
        if kind == "supply":
            for r in rows:  # lots in id order: the first lot of a code names it
                self.supply_names.setdefault(r.code, r.name)
        return rows

    def need_names(self, needs: list) -> dict[str, str]:
        """What ``incidents.need_names`` reads, from the rows already read."""
        names = {n.capability_code: self.cap_names[n.capability_code] for n in needs if n.capability_code in self.cap_names}
        for n in needs:
            if n.supply_code and n.supply_code in self.supply_names:
                names.setdefault("supply:" + n.supply_code, self.supply_names[n.supply_code])
        return names

    def owner(self, enterprise_id: int | None, fallback: str) -> str:
        if enterprise_id is None:
            return fallback
        return self.snap.enterprises.get(enterprise_id) or fallback

    def _freshness(self, res: Resource) -> None:
        if res.confirmed is not None and res.confirmed < self.fresh_after:
            res.stale = True
            day = local_date(res.confirmed).isoformat()
            res.reasons.append(f"超过{self.roads.settings.freshness_days}天未确认 (上次 {day}), 排在已确认资源之后")

    def _busy(self, res: Resource) -> None:
        for inc, _qty in self.busy.get(res.key, []):
            where = "本事件" if inc == self.incident.id else "其他事件"
            res.blockers.append(f"已调派至{where} (任务未结束)")
            break
        when = self.declined.get(res.key)
        if when is not None and not res.blockers:
            res.declined = True
            res.reasons.append(f"已拒绝本事件的调派 ({when.astimezone(CHINA):%H:%M}), 排在其他资源之后")

    def _finish(self, res: Resource) -> Resource:
        """What is judged per request for every kind: busy or declined (assignments), freshness (clock)."""
        self._busy(res)
        self._freshness(res)
        return res

    def teams(self, caps: set[str]) -> dict[str, list[Resource]]:
        out: dict[str, list[Resource]] = {c: [] for c in caps}
        if not caps:
            return out
        statics = {c: self.snap.derived(("team", c), lambda c=c: self._team_statics(c)) for c in caps}
        # a lapsed certificate weakens the team, it does not rule it out: a reason, not a blocker
        degraded = degraded_from(self.snap.certificates, {st.args[1] for sts in statics.values() for st in sts}, now=self.now)
        for code, sts in statics.items():
            got = out[code]
            for st in sts:
                res = st.resource()
                if degraded and (why := degraded.get(res.id, {}).get(code)):
                    res.reasons.append(why)
                got.append(self._finish(res))
        return out

    def _team_statics(self, code: str) -> list[_Static]:
        out = []
        for r in self.snap.rows("team", {code}):
            reasons = [f"具备能力: {self.cap_names.get(code, code)}"]
            if r.backbone:
                reasons.append("骨干救援队伍")
            if r.headcount:
                reasons.append(f"{r.headcount}人")
            status = r.status.value
            owner = self.owner(r.enterprise_id, f"{LEVEL_NAMES.get(r.level.value, '')}级队伍")
            args = ("team", r.id, r.name, owner, r.lat, r.lon, 60.0 * float(r.turnout_min or 0), 1.0, r.last_confirmed_dt)
            blockers = () if status == "available" else (TEAM_STATUS_NAMES.get(status, status),)
            out.append(_Static(args, tuple(reasons), blockers))
        return out

    def equipment(self, caps: set[str]) -> dict[str, list[Resource]]:
        out: dict[str, list[Resource]] = {c: [] for c in caps}
        if not caps:
            return out
        loading = 60.0 * self.roads.settings.depot_loading_min
        for code in caps:
            got = out[code]
            for st in self.snap.derived(("equipment", code, loading), lambda c=code: self._equipment_statics(c, loading)):
                res = st.resource()
                if why := unserviceable_reason(st.row, self.today):  # overdue for inspection or failed it
                    res.blockers.append(why)
                res.blockers.extend(st.later_blockers)
                got.append(self._finish(res))
        return out

    def _equipment_statics(self, code: str, loading: float) -> list[_Static]:
        out = []
        for r in self.snap.rows("equipment", {code}):
            if r.team_id is not None:
                lat, lon, turnout, where = r.team_lat, r.team_lon, 60.0 * float(r.turnout_min or 0), r.team_name
            else:
                lat, lon, turnout, where = r.depot_lat, r.depot_lon, loading, r.depot_name
            args = (
                "equipment",
                r.id,
                r.name,
                self.owner(r.enterprise_id, where),
                lat,
                lon,
                turnout,
                float(r.quantity),
                r.last_confirmed_dt,
            )
            reasons = (
                f"具备能力: {self.cap_names.get(code, code)}, {r.quantity}件",
                f"随{where}出动" if r.team_id is not None else f"从{where}装车 ({_mins(loading)}分钟)",
            )
            blockers = () if r.status.value == "operational" else (_EQUIPMENT_STATUS.get(r.status.value, r.status.value),)
            later = []
            if r.team_id is not None and r.team_status.value != "available":
                later.append(f"保管队伍{TEAM_STATUS_NAMES.get(r.team_status.value, r.team_status.value)}")
            if r.quantity <= 0:
                later.append("数量为零")
            out.append(_Static(args, reasons, blockers, row=r, later_blockers=tuple(later)))
        return out

    def experts(self, caps: set[str]) -> dict[str, list[Resource]]:
        """Experts whose field matches (tier 0), then experts of a related field (same category, tier 1)."""
        out: dict[str, list[Resource]] = {c: [] for c in caps}
        if not caps:
            return out
        turnout = 60.0 * self.roads.settings.expert_turnout_min
        for code in caps:
            statics = self.snap.derived(("expert", code, turnout), lambda c=code: self._expert_statics(c, turnout))
            out[code] = [self._finish(st.resource()) for st in statics]
        return out

    def _expert_statics(self, cap: str, turnout: float) -> list[_Static]:
        """The experts able to serve ``cap``, in id order: its own field (tier 0) or a field of its category."""
        category = self.cap_category.get(cap)
        related = {c for c, cat in self.cap_category.items() if cat == category}
        by_expert: dict[int, list] = {}
        for r in self.snap.rows("expert", {cap} | related):
            by_expert.setdefault(r.id, []).append(r)
        out = []
        for group in by_expert.values():
            r = group[0]
            fields = {g.capability_code for g in group}
            if cap in fields:
                tier, why = 0, f"专业领域: {self.cap_names.get(cap, cap)}"
            elif any(self.cap_category.get(f) == category for f in fields):
                near = next(f for f in sorted(fields) if self.cap_category.get(f) == category)
                tier, why = 1, f"相近领域: {self.cap_names.get(near, near)}"
            else:
                continue
            args = (
                "expert",
                r.id,
                r.name,
                r.employer or self.owner(r.enterprise_id, ""),
                r.lat,
                r.lon,
                turnout,
                1.0,
                r.last_confirmed_dt,
            )
            reasons = [why + (f" ({r.title})" if r.title else "")]
            if r.remote_ok:
                reasons.append("可远程会商, 无需到场")
            status = r.availability.value
            blockers = () if status == "available" else (_EXPERT_STATUS.get(status, status),)
            out.append(_Static(args, tuple(reasons), blockers, remote=bool(r.remote_ok), tier=tier))
        return out

    def supplies(self, codes: set[str]) -> dict[str, list[Resource]]:
        out: dict[str, list[Resource]] = {c: [] for c in codes}
        if not codes:
            return out
        rows = self._rows("supply", codes)
        loading = 60.0 * self.roads.settings.depot_loading_min
        for r in rows:
            taken = sum(q for _inc, q in self.busy.get(("supply", r.id), []))
            left = max(0.0, float(r.quantity) - float(taken or 0))
            res = Resource(
                "supply",
                r.id,
                r.name,
                self.owner(r.enterprise_id, r.depot_name),
                r.lat,
                r.lon,
                loading,
                left,
                r.last_confirmed_dt,
            )
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
