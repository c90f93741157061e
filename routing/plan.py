"""Pick resources that cover every need, minimising the time the last need is covered.

Approach (exact for small inputs): a depth-first branch-and-bound over needs, most constrained
first. For each need it enumerates *minimal* covers (sets of offers whose amounts reach the
quantity and from which no offer can be dropped), earliest offers first, and prunes with a lower
bound on the lexicographic objective (needs left uncovered, makespan, total arrival, number of
resources). A greedy plan (smallest makespan threshold at which earliest-first filling works)
seeds the incumbent, so a search cut short by ``max_nodes`` still returns a good plan, flagged
``optimal=False``. Each source is used for at most one need unless its offer is ``shareable``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Offer:
    """A source able to serve a need: arrives after ``arrival_s`` seconds bringing ``amount``."""

    source: Hashable
    arrival_s: float
    amount: float = 1.0
    shareable: bool = False  # may also serve other needs (e.g. an expert on the phone)


@dataclass(frozen=True)
class Assignment:
    need: Hashable
    source: Hashable
    arrival_s: float
    amount: float


@dataclass(frozen=True)
class Plan:
    """Chosen assignments; ``makespan_s`` is when the last covered need is covered.

    ``uncovered`` maps each need the offers cannot cover to its shortfall; whatever could still
    help such a need is assigned to it as ``partial`` (not counted in the makespan).
    """

    assignments: list[Assignment]
    makespan_s: float
    total_arrival_s: float
    uncovered: dict[Hashable, float]
    partial: list[Assignment] = field(default_factory=list)
    optimal: bool = True

    @property
    def sources(self) -> list[Hashable]:
        return list(dict.fromkeys(a.source for a in self.assignments))


_Key = tuple[int, float, float, int]  # (needs uncovered, makespan, total arrival, resources)


class _Budget(Exception):
    pass


def plan(
    needs: Mapping[Hashable, float],
    offers: Mapping[Hashable, Sequence[Offer]],
    *,
    max_nodes: int = 200_000,
) -> Plan:
    """Return the Plan covering ``needs`` (need -> quantity) from ``offers`` (need -> offers)."""
    keys = list(needs)
    cands: dict[Hashable, list[Offer]] = {
        n: sorted((o for o in offers.get(n, ()) if o.amount > 0), key=lambda o: (o.arrival_s, -o.amount)) for n in keys
    }
    qty = {n: float(needs[n]) for n in keys}
    # most constrained first: fewest candidates relative to the quantity asked
    order = sorted((n for n in keys if qty[n] > 0), key=lambda n: (len(cands[n]), -qty[n]))

    greedy = _greedy(order, qty, cands)
    # the incumbent: the search only accepts strictly better plans
    best: list = [_objective(greedy, len(order)), greedy]
    nodes = [0]

    def available(n, used):
        return [o for o in cands[n] if o.shareable or o.source not in used]

    def bound(i, used, cur_unc, cur_max, cur_total, cur_count) -> _Key:
        unc, mk, tot, cnt = cur_unc, cur_max, cur_total, cur_count
        for n in order[i:]:
            avail = available(n, used)
            if sum(o.amount for o in avail) < qty[n]:
                unc += 1
                continue
            mk = max(mk, _min_makespan(avail, qty[n]))
            tot += avail[0].arrival_s
            cnt += 1
        return unc, mk, tot, cnt

    def covers(avail: list[Offer], need_q: float):
        """Minimal covers of ``need_q`` from ``avail`` (sorted by arrival), earliest first."""
        suffix = [0.0] * (len(avail) + 1)
        for j in range(len(avail) - 1, -1, -1):
            suffix[j] = suffix[j + 1] + avail[j].amount
        chosen: list[Offer] = []

        def rec(j, got):
            nodes[0] += 1
            if nodes[0] > max_nodes:
                raise _Budget
            if got >= need_q:
                # minimal: dropping any chosen offer must break the cover
                if all(got - o.amount < need_q for o in chosen):
                    yield list(chosen)
                return
            if j == len(avail) or got + suffix[j] < need_q:
                return
            chosen.append(avail[j])
            yield from rec(j + 1, got + avail[j].amount)
            chosen.pop()
            yield from rec(j + 1, got)

        yield from rec(0, 0.0)

    def dfs(i, used, picked, cur_unc, cur_max, cur_total, cur_count):
        nodes[0] += 1
        if nodes[0] > max_nodes:
            raise _Budget
        if bound(i, used, cur_unc, cur_max, cur_total, cur_count) >= best[0]:
            return
        if i == len(order):
            best[0], best[1] = (cur_unc, cur_max, cur_total, cur_count), dict(picked)
            return
        n = order[i]
        for cover in covers(available(n, used), qty[n]):
            new_used = used | {o.source for o in cover if not o.shareable}
            picked[n] = cover
            dfs(
                i + 1,
                new_used,
                picked,
                cur_unc,
                max(cur_max, max(o.arrival_s for o in cover)),
                cur_total + sum(o.arrival_s for o in cover),
                cur_count + len(cover),
            )
            del picked[n]
        dfs(i + 1, used, picked, cur_unc + 1, cur_max, cur_total, cur_count)

    optimal = True
    try:
        dfs(0, frozenset(), {}, 0, 0.0, 0.0, 0)
    except _Budget:
        optimal = False
    return _finish(keys, qty, cands, best[1], optimal)


def _min_makespan(avail: list[Offer], need_q: float) -> float:
    """Earliest time by which ``avail`` (sorted by arrival) can bring ``need_q``."""
    got = 0.0
    for o in avail:
        got += o.amount
        if got >= need_q:
            return o.arrival_s
    return float("inf")


def _objective(picked: dict, n_needs: int) -> _Key:
    chosen = [o for cover in picked.values() for o in cover]
    return (
        n_needs - len(picked),
        max((o.arrival_s for o in chosen), default=0.0),
        sum(o.arrival_s for o in chosen),
        len(chosen),
    )


def _greedy(order, qty, cands) -> dict:
    """Smallest threshold at which earliest-first filling covers everything (else: what it can)."""
    times = sorted({o.arrival_s for n in order for o in cands[n]})
    for limit in [*times, float("inf")]:
        used, picked, ok = set(), {}, True
        for n in order:
            got, cover = 0.0, []
            for o in cands[n]:
                if got >= qty[n] or o.arrival_s > limit:
                    break
                if o.shareable or o.source not in used:
                    cover.append(o)
                    got += o.amount
            if got >= qty[n]:
                picked[n] = cover
                used |= {o.source for o in cover if not o.shareable}
            else:
                ok = False
        if ok or limit == float("inf"):
            return picked
    return {}


def _finish(keys, qty, cands, picked: dict, optimal: bool) -> Plan:
    assignments = [Assignment(n, o.source, o.arrival_s, o.amount) for n in keys if n in picked for o in picked[n]]
    used = {a.source for n in picked for a in picked[n] if not a.shareable}
    uncovered, partial = {}, []
    for n in keys:
        if n in picked or qty[n] <= 0:
            continue
        got = 0.0
        for o in cands[n]:
            if got >= qty[n]:
                break
            if o.shareable or o.source not in used:
                partial.append(Assignment(n, o.source, o.arrival_s, o.amount))
                used |= set() if o.shareable else {o.source}
                got += o.amount
        uncovered[n] = qty[n] - got
    return Plan(
        assignments=assignments,
        makespan_s=max((a.arrival_s for a in assignments), default=0.0),
        total_arrival_s=sum(a.arrival_s for a in assignments),
        uncovered=uncovered,
        partial=partial,
        optimal=optimal,
    )
