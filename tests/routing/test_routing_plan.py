"""Planner: exact on small seeded random cases, compared with brute force."""

import itertools
import random

import pytest

from routing import Offer, plan


def brute_force(needs, offers):
    """Best (uncovered, makespan, total, count) over every source -> need-or-nothing choice."""
    sources = sorted({o.source for os_ in offers.values() for o in os_})
    options = {s: [None] + [n for n in needs if any(o.source == s for o in offers.get(n, ()))] for s in sources}
    best = None
    for choice in itertools.product(*(options[s] for s in sources)):
        got = dict.fromkeys(needs, 0.0)
        chosen = {n: [] for n in needs}
        for s, n in zip(sources, choice, strict=False):
            if n is None:
                continue
            o = next(o for o in offers[n] if o.source == s)
            got[n] += o.amount
            chosen[n].append(o)
        covered = [n for n in needs if got[n] >= needs[n]]
        used = [o for n in covered for o in chosen[n]]
        key = (
            len(needs) - len(covered),
            max((o.arrival_s for o in used), default=0.0),
            sum(o.arrival_s for o in used),
            len(used),
        )
        if best is None or key < best:
            best = key
    return best


def random_case(seed):
    rng = random.Random(seed)
    needs = {f"n{i}": rng.choice([1, 1, 2, 3]) for i in range(rng.randint(1, 3))}
    sources = [f"s{i}" for i in range(rng.randint(2, 7))]
    offers = {n: [] for n in needs}
    for s in sources:
        for n in needs:
            if rng.random() < 0.5:
                offers[n].append(Offer(s, float(rng.randint(1, 12) * 60), float(rng.choice([1, 1, 2]))))
    return needs, offers


@pytest.mark.parametrize("seed", range(60))
def test_plan_matches_brute_force(seed):
    needs, offers = random_case(seed)
    p = plan(needs, offers)
    assert p.optimal
    key = (len(p.uncovered), p.makespan_s, p.total_arrival_s, len(p.assignments))
    assert key == brute_force(needs, offers)
    # each source used once, and every covered need really is covered
    assert len({a.source for a in p.assignments}) == len(p.assignments)
    for n in needs:
        if n not in p.uncovered:
            assert sum(a.amount for a in p.assignments if a.need == n) >= needs[n]


def test_makespan_beats_greedy():
    # greedy gives A to need x (earliest), leaving y to the slow C; the optimum swaps them
    needs = {"x": 1, "y": 1}
    offers = {"x": [Offer("A", 60), Offer("B", 120)], "y": [Offer("A", 60), Offer("C", 3600)]}
    p = plan(needs, offers)
    assert p.makespan_s == 120 and {(a.need, a.source) for a in p.assignments} == {("x", "B"), ("y", "A")}


def test_shortfall_reported_with_partial_help():
    p = plan({"pumps": 5, "medics": 1}, {"pumps": [Offer("d1", 600, 2), Offer("d2", 900, 1)], "medics": [Offer("m", 300)]})
    assert p.uncovered == {"pumps": 2.0}
    assert {a.source for a in p.partial} == {"d1", "d2"}
    assert p.makespan_s == 300


def test_shareable_offer_serves_two_needs():
    offers = {"a": [Offer("expert", 100, shareable=True)], "b": [Offer("expert", 100, shareable=True)]}
    p = plan({"a": 1, "b": 1}, offers)
    assert not p.uncovered and len(p.assignments) == 2


def test_large_input_returns_a_plan_quickly():
    rng = random.Random(5)
    needs = {f"c{i}": 3 for i in range(8)}
    offers = {n: [Offer(f"t{j}", rng.uniform(300, 5000), 1) for j in rng.sample(range(400), 150)] for n in needs}
    p = plan(needs, offers, max_nodes=20_000)
    assert not p.uncovered and len(p.assignments) == 24
