"""Pricing: solving on each visit's cheapest candidates, proved or extended, gives the full solve's teams;
classes of identical visits give the visit-by-visit default caps; the keyed cost is the documented one."""

import hashlib

import numpy as np
import pytest
from plan.test_teams import KEY, city, with_team  # noqa: F401 (city is a fixture)
from spotcheck.plan import assignment, caps, costs, pricing, teams
from spotcheck.plan.eligibility import OPEN_ENDED


def _universe(seed: int) -> tuple[pricing.Universe, np.ndarray]:
    """A random year: a few units, people whose certificates end on various days, visits allowing
    their unit (some also a second one), a few bans, specialty places only some people can fill."""
    gen = np.random.default_rng(seed)
    n_units = int(gen.integers(1, 4))
    unit_people = [int(gen.integers(3, 8)) for _ in range(n_units)]
    n_people, n_visits, n_specs = sum(unit_people), int(gen.integers(8, 30)), 3
    first = np.cumsum([0, *unit_people])
    home = gen.integers(0, n_units, size=n_visits)
    blocks = []
    for u in range(n_units):
        also = (home != u) & (gen.random(n_visits) < 0.15)
        blocks.append((np.flatnonzero((home == u) | also), np.arange(first[u], first[u + 1])))
    slot_visit = np.sort(gen.integers(0, n_visits, size=int(gen.integers(0, n_visits))))
    banned = np.unique(gen.integers(0, n_visits, size=4) * n_people + gen.integers(0, n_people, size=4))
    expires = np.where(gen.random(n_people) < 0.7, OPEN_ENDED, gen.integers(0, 12, size=n_people))
    universe = pricing.Universe(
        n_people=n_people, visit_words=gen.integers(0, 2**63, size=n_visits, dtype=np.uint64) * np.uint64(2),
        person_words=gen.integers(0, 2**63, size=n_people, dtype=np.uint64) * np.uint64(2) + np.uint64(1),
        inspect_by=gen.integers(0, 10, size=n_visits), expires=expires, blocks=blocks, banned=banned,
        slot_visit=slot_visit, slot_spec=gen.integers(0, n_specs, size=len(slot_visit)),
        holds=gen.random((n_people, n_specs)) < 0.4,
    )
    general = gen.integers(0, 3, size=n_visits)
    general[np.bincount(slot_visit, minlength=n_visits) + general == 0] = 1
    return universe, general


def _full(universe: pricing.Universe, general: np.ndarray) -> assignment._Side:
    """The same problem with every eligible pair listed (what the matcher solved before pricing)."""
    vs, ps = [], []
    for vc, people, _, ok in universe.chunks():
        r, c = np.nonzero(ok)
        vs.append(vc[r]), ps.append(people[c])
    v, p = np.concatenate(vs), np.concatenate(ps)
    slot, pair = universe.holdings(v, p)
    return assignment._Side(general=general, slot_visit=universe.slot_visit, pair_visit=v, pair_person=p,
                            pair_cost=universe.cost(v, p), hold_slot=slot, hold_pair=pair)


def _pairs(side: assignment._Side, chosen: np.ndarray) -> set:
    return set(zip(side.pair_visit[chosen].tolist(), side.pair_person[chosen].tolist()))


@pytest.mark.parametrize("seed", range(60))
def test_priced_solve_equals_the_full_solve(seed, monkeypatch):
    monkeypatch.setattr(pricing, "CANDIDATES", 2)
    universe, general = _universe(seed)
    full = _full(universe, general)
    priced = assignment.priced_matching(universe, general).side
    before = len(priced.pair_visit)
    gen = np.random.default_rng(1000 + seed)
    active = gen.random(len(general)) < 0.9
    capacity = gen.integers(0, 4, size=universe.n_people)
    assert _pairs(priced, assignment._solve(priced, active, capacity)) == _pairs(full, assignment._solve(full, active, capacity))
    # and through the give-way rounds, where capacity runs out and visits wait
    ok = np.ones(len(general), dtype=bool)
    (got,), staffed, _ = assignment.rounds([priced], ok, capacity, universe.visit_words)
    (want,), staffed_full, _ = assignment.rounds([full], ok, capacity, universe.visit_words)
    assert (staffed == staffed_full).all()
    assert _pairs(priced, got) == _pairs(full, want)
    assert before <= len(priced.pair_visit) <= len(full.pair_visit)


def test_pricing_adds_pairs_when_the_candidates_are_not_enough(monkeypatch):
    """With one candidate per visit and place, caps of 1 force pricing to bring in more pairs."""
    monkeypatch.setattr(pricing, "CANDIDATES", 1)
    grew = 0
    for seed in range(20):
        universe, general = _universe(seed)
        priced = assignment.priced_matching(universe, general).side
        before = len(priced.pair_visit)
        full = _full(universe, general)
        active = np.ones(len(general), dtype=bool)
        capacity = np.ones(universe.n_people, dtype=np.int64)
        assert _pairs(priced, assignment._solve(priced, active, capacity)) == _pairs(full, assignment._solve(full, active, capacity))
        grew += len(priced.pair_visit) > before
    assert grew >= 10


@pytest.mark.parametrize("seed", range(20))
def test_the_holdings_are_each_pairs_specialty_places_its_person_can_fill(seed):
    """For pairs in any order, repeated, of visits with no place, one, or several (two of one specialty)."""
    universe, general = _universe(seed)
    gen = np.random.default_rng(seed)
    v = gen.integers(0, len(general), size=50)
    p = gen.integers(0, universe.n_people, size=50)
    slot, pair = universe.holdings(v, p)
    want = {(s, i) for i in range(len(v)) for s in np.flatnonzero(universe.slot_visit == v[i]).tolist()
            if universe.holds[p[i], universe.slot_spec[s]]}
    assert len(slot) == len(want) and set(zip(slot.tolist(), pair.tolist())) == want


@pytest.mark.parametrize("seed", range(30))
def test_classes_of_identical_visits_give_the_visit_by_visit_cap(seed):
    universe, general = _universe(seed)
    priced = assignment.priced_matching(universe, general).side
    full = _full(universe, general)
    gen = np.random.default_rng(2000 + seed)
    visits = gen.random(len(general)) < 0.8
    people = gen.random(universe.n_people) < 0.8
    grouped = caps.classes(priced, visits, people)
    assert grouped.mult.sum() == visits.sum()
    one_by_one = assignment._subset(full, visits, people)
    assert caps._least_cap(grouped, universe.n_people, 1) == caps._least_cap(one_by_one, universe.n_people, 1)


@pytest.mark.parametrize("seed", range(30))
def test_class_labels_put_together_exactly_the_visits_alike(seed):
    """Two visits share a class when their general places, date, blocks (allowed units) and places'
    specialties (as multisets) are the same and neither has a ban of its own."""
    universe, general = _universe(seed)
    priced = assignment.priced_matching(universe, general).side
    banned = set((universe.banned // universe.n_people).tolist())
    alike = [(int(general[v]), int(universe.inspect_by[v]), v if v in banned else -1,
              tuple(k for k, (vs, _) in enumerate(universe.blocks) if v in vs),
              tuple(sorted(universe.slot_spec[universe.slot_visit == v].tolist()))) for v in range(len(general))]
    labels = caps.class_labels(priced).tolist()
    assert {(a, b) for a, b in zip(alike, labels)} == {(a, labels[alike.index(a)]) for a in alike}
    assert len(set(labels)) == len(set(alike))


@pytest.mark.parametrize("cap", [None, 12, 8])
def test_the_city_priced_from_one_candidate_equals_every_pair(city, monkeypatch, cap):  # noqa: F811
    loaded, frame, people, recused, leads = city
    if cap is not None:
        loaded = with_team(loaded, max_visits_per_inspector=cap)
    monkeypatch.setattr(pricing, "CANDIDATES", 1)
    few = teams.staff(loaded, frame, people, recused, key=KEY, previous_leads=leads)
    monkeypatch.setattr(pricing, "CANDIDATES", 10**6)
    every = teams.staff(loaded, frame, people, recused, key=KEY, previous_leads=leads)
    assert few.teams.equals(every.teams)
    assert few.outcome.equals(every.outcome)
    assert few.caps == every.caps
    assert few.outcome["staffed"].sum() > 0


def test_the_cost_is_the_documented_formula():
    """docs/teams.md, written out again here: SHA-256 words, XOR, splitmix64's finaliser, top 32 bits."""
    def word(text):
        return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")

    def documented(key, visit, inspector):
        z = word(f"{key}|visit|{visit}") ^ word(f"{key}|inspector|{inspector}")
        z ^= z >> 30
        z = z * 0xBF58476D1CE4E5B9 % 2**64
        z ^= z >> 27
        z = z * 0x94D049BB133111EB % 2**64
        z ^= z >> 31
        return z >> 32

    import polars as pl

    visits, inspectors = ["V1", "V二", "V" * 40], ["P1", "执法001", ""]
    vw = costs.words(KEY, "visit", pl.Series(visits))
    pw = costs.words(KEY, "inspector", pl.Series(inspectors))
    table = costs.mixed(vw[:, None], pw[None, :])
    for i, v in enumerate(visits):
        for j, p in enumerate(inspectors):
            assert table[i, j] == documented(KEY, v, p) == costs.pair_cost(KEY, v, p)
    assert 0 <= table.min() and table.max() < 2**costs.COST_BITS and len(set(table.ravel().tolist())) == 9


def test_a_visit_whose_candidates_are_all_capped_is_priced_against_the_others(monkeypatch):
    """Its one candidate has no capacity left, so no part holds the visit: every eligible pair of it is tried."""
    monkeypatch.setattr(pricing, "CANDIDATES", 1)
    universe = pricing.Universe(
        n_people=3, visit_words=np.array([7], dtype=np.uint64), person_words=np.array([1, 2, 3], dtype=np.uint64),
        inspect_by=np.array([0]), expires=np.full(3, OPEN_ENDED), blocks=[(np.array([0]), np.arange(3))],
        banned=np.zeros(0, dtype=np.int64), slot_visit=np.zeros(0, dtype=np.int64), slot_spec=np.zeros(0, dtype=np.int64),
        holds=np.zeros((3, 1), dtype=bool))
    general = np.array([1])
    priced = assignment.priced_matching(universe, general).side
    assert len(priced.pair_visit) == 1
    capacity = np.ones(3, dtype=np.int64)
    capacity[priced.pair_person[0]] = 0
    full = _full(universe, general)
    got = _pairs(priced, assignment._solve(priced, np.ones(1, dtype=bool), capacity))
    assert len(got) == 1 and got == _pairs(full, assignment._solve(full, np.ones(1, dtype=bool), capacity))


@pytest.mark.parametrize("dense", [0, pricing.DENSE, 1 << (costs.COST_BITS - 1)])
@pytest.mark.parametrize("seed", range(8))
def test_the_candidates_are_each_visits_and_slots_cheapest_eligible_pairs(seed, dense, monkeypatch):
    """The search below a line, and the partition of rows searched whole, find what sorting every
    eligible pair of a block finds: each visit's k cheapest officers and each slot's k cheapest
    holders, with the next cost as the floor, and the eligible counts (units of many people and of
    few, certificates ending, bans, repeated people; every row searched whole, or only those few
    pairs reach)."""
    gen = np.random.default_rng(seed)
    monkeypatch.setattr(pricing, "SIFT", int(gen.integers(200, 5000)))
    monkeypatch.setattr(pricing, "DENSE", dense)
    k, n_visits, n_specs = int(gen.integers(1, 5)), 300, 3
    unit_people = [int(gen.integers(5, 300)) for _ in range(3)]
    n_people = sum(unit_people)
    first = np.cumsum([0, *unit_people])
    home = gen.integers(0, 3, size=n_visits)
    blocks = [(np.flatnonzero((home == u) | (gen.random(n_visits) < 0.1)), np.arange(first[u], first[u + 1])) for u in range(3)]
    slot_visit = np.sort(gen.integers(0, n_visits, size=400))
    person_words = gen.integers(0, 2**63, size=n_people, dtype=np.uint64)
    person_words[gen.integers(0, n_people, size=30)] = person_words[0]
    universe = pricing.Universe(
        n_people=n_people, visit_words=gen.integers(0, 2**63, size=n_visits, dtype=np.uint64) * np.uint64(2),
        person_words=person_words, inspect_by=gen.integers(0, 10, size=n_visits),
        expires=np.where(gen.random(n_people) < 0.8, OPEN_ENDED, gen.integers(0, 12, size=n_people)), blocks=blocks,
        banned=np.unique(gen.integers(0, n_visits, size=500) * n_people + gen.integers(0, n_people, size=500)),
        slot_visit=slot_visit, slot_spec=gen.integers(0, n_specs, size=len(slot_visit)),
        holds=gen.random((n_people, n_specs)) < gen.choice([0.05, 0.5, 1.0]),
    )
    v, p, eligible, holders = universe.candidates(n_visits, k)
    got = set(zip(v.tolist(), p.tolist()))
    want, floor, slot_floor = set(), np.full(n_visits, pricing.INF), np.full(len(slot_visit), pricing.INF)
    count, held = np.zeros(n_visits, dtype=np.int64), np.zeros(len(slot_visit), dtype=np.int64)

    def cheapest(visit, people, cost):
        ranked = sorted(zip(cost.tolist(), people.tolist()))
        want.update((visit, person) for _, person in ranked[:k])
        return ranked[k][0] if len(ranked) > k else pricing.INF

    for vc, people, cost, ok in universe.chunks():
        for row, visit in enumerate(vc.tolist()):
            count[visit] += ok[row].sum()
            floor[visit] = min(floor[visit], cheapest(visit, people[ok[row]], cost[row][ok[row]]))
            for s in np.flatnonzero(slot_visit == visit):
                mine = ok[row] & universe.holds[people, universe.slot_spec[s]]
                held[s] += mine.sum()
                slot_floor[s] = min(slot_floor[s], cheapest(visit, people[mine], cost[row][mine]))
    assert got == want
    assert (eligible == count).all() and (holders == held).all()
    assert (universe.floor == floor).all() and (universe.slot_floor == slot_floor).all()


@pytest.mark.parametrize("sift", [1, 7, 40])
@pytest.mark.parametrize("seed", range(6))
def test_specialty_places_searched_in_pieces_find_what_one_piece_finds(seed, sift, monkeypatch):
    """The specialty places are searched a specialty at a time in pieces of SIFT pairs, which can part two places
    of one visit (and a visit's general row from its places): the candidates, counts and floors are those of
    a search in one piece."""
    universe, general = _universe(seed)
    gen = np.random.default_rng(seed)
    # Two places of one specialty on many visits, so the pieces cut between them.
    twice = gen.choice(len(universe.slot_visit), size=len(universe.slot_visit) // 2 + 1) if len(universe.slot_visit) else []
    order = np.argsort(np.concatenate([universe.slot_visit, universe.slot_visit[twice]]), kind="stable")
    universe.slot_visit = np.concatenate([universe.slot_visit, universe.slot_visit[twice]])[order]
    universe.slot_spec = np.concatenate([universe.slot_spec, universe.slot_spec[twice]])[order]
    monkeypatch.setattr(pricing, "SIFT", 1 << 12)  # more than any block of _universe holds
    whole = [*universe.candidates(len(general), 2), universe.floor, universe.slot_floor]
    monkeypatch.setattr(pricing, "SIFT", sift)
    pieces = [*universe.candidates(len(general), 2), universe.floor, universe.slot_floor]
    for got, want in zip(pieces, whole):
        assert np.array_equal(got, want)


@pytest.mark.parametrize("seed", range(6))
def test_pairs_are_eligible_as_their_block_says_with_bans_on_the_first_and_last_visits_asked(seed):
    """Pair by pair, eligibility is the block's (certificates and bans), whichever visits are asked about and in
    whatever order: the bans looked up are only those of the visits asked, from the least to the greatest."""
    universe, _ = _universe(seed)
    gen = np.random.default_rng(seed)
    n_visits = len(universe.inspect_by)
    v = gen.integers(n_visits // 3, n_visits - n_visits // 3, size=200)
    p = gen.integers(0, universe.n_people, size=200)
    ends = [int(np.argmin(v)), int(np.argmax(v))]
    universe.banned = np.unique(np.concatenate([universe.banned, v[ends] * universe.n_people + p[ends]]))
    want = [universe._eligible(np.array([a]), np.array([b]))[0, 0] for a, b in zip(v.tolist(), p.tolist())]
    assert universe._eligible_pairs(v, p).tolist() == want
    assert not universe._eligible_pairs(v[ends], p[ends]).any()


def test_the_largest_blocks_are_searched_first(monkeypatch):
    """The last block searched is searched while the other searcher may have nothing left: the smallest."""
    monkeypatch.setattr(pricing, "SEARCHERS", 1)
    searched = []
    real = pricing.Universe._block_candidates
    monkeypatch.setattr(pricing.Universe, "_block_candidates",
                        lambda self, block_v, people, *rest: searched.append(len(block_v) * len(people)) or real(self, block_v, people, *rest))
    seen = 0
    for seed in range(20):
        universe, general = _universe(seed)
        searched.clear()
        universe.candidates(len(general))
        assert searched == sorted(searched, reverse=True)
        seen += len(set(searched)) > 1
    assert seen


@pytest.mark.parametrize("case", ["random", "sorted", "repeats", "empty"])
def test_keys_sorted_on_every_core_are_numpys_sort(case, monkeypatch):
    monkeypatch.setattr(pricing, "SORTED_ON_EVERY_CORE", 0)  # every array through polars, or as it is if sorted
    gen = np.random.default_rng(7)
    keys = {"random": gen.integers(0, 1 << 40, 5000), "sorted": np.arange(0, 5000, 3), "repeats": gen.integers(0, 40, 5000),
            "empty": np.zeros(0, dtype=np.int64)}[case].astype(np.int64)
    got = pricing.sorted_keys(keys)
    assert got.dtype == np.int64 and np.array_equal(got, np.sort(keys))
    assert np.array_equal(pricing.distinct(keys, sort=pricing.sorted_keys), np.unique(keys))


def test_the_city_s_teams_are_the_same_with_keys_sorted_on_every_core(city, monkeypatch):  # noqa: F811
    loaded, frame, people, recused, leads = city
    monkeypatch.setattr(pricing, "CANDIDATES", 1)  # pricing rounds, whose keys are sorted too
    one_core = teams.staff(loaded, frame, people, recused, key=KEY, previous_leads=leads)
    monkeypatch.setattr(pricing, "SORTED_ON_EVERY_CORE", 0)
    every_core = teams.staff(loaded, frame, people, recused, key=KEY, previous_leads=leads)
    assert every_core.teams.equals(one_core.teams) and every_core.outcome.equals(one_core.outcome)
