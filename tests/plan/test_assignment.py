"""The matcher is an exact optimiser: same answer as brute force."""

import itertools

import numpy as np
import pytest
from conftest import QINGDAO
from spotcheck.plan import assignment, costs
from spotcheck.policy.loader import load_policy
from plan.test_teams import KEY, directory, members, person, staff, visit_rows, with_team


@pytest.fixture(scope="module")
def qingdao():
    return load_policy(QINGDAO)


def brute_force(v_ids, people_ids, needs, cap, cost, allowed):
    """Least total cost over all teams of each visit's size, within caps and specialty rules."""
    best = None
    options = [[c for c in itertools.combinations(people_ids, size) if allowed(v, c)] for v, size in zip(v_ids, needs)]
    for choice in itertools.product(*options):
        load = {}
        for team in choice:
            for p in team:
                load[p] = load.get(p, 0) + 1
        if any(n > cap for n in load.values()):
            continue
        total = sum(cost(v, p) for v, team in zip(v_ids, choice) for p in team)
        if best is None or total < best[0]:
            best = (total, choice)
    return best


def test_matches_brute_force_optimum_with_caps(qingdao):
    loaded = with_team(qingdao, max_visits_per_inspector=2)
    ids = ["P1", "P2", "P3", "P4"]
    v = visit_rows(("V1", "E1", ["SD20-03"]), ("V2", "E2", ["SD20-03"]), ("V3", "E3", ["SD20-03"]))
    result = staff(loaded, v, directory(*(person(i) for i in ids)))
    _, choice = brute_force(["V1", "V2", "V3"], ids, [2, 2, 2], 2, lambda a, b: costs.pair_cost(KEY, a, b), lambda *_: True)
    assert [sorted(members(result, vid)) for vid in ("V1", "V2", "V3")] == [sorted(t) for t in choice]


def test_matches_brute_force_with_specialties(qingdao):
    loaded = with_team(qingdao, max_visits_per_inspector=2)
    skills = {"P1": {"工业产品"}, "P2": {"食品相关产品"}, "P3": {"工业产品", "食品相关产品"}, "P4": set(), "P5": {"工业产品"}}
    people = directory(*(person(i, specialties=sorted(s)) for i, s in skills.items()))
    v = visit_rows(("V1", "E1", ["SD20-01", "SD20-02"]), ("V2", "E2", ["SD20-01"]), ("V3", "E3", ["SD20-02"]))
    needs = {"V1": ["工业产品", "食品相关产品"], "V2": ["工业产品"], "V3": ["食品相关产品"]}

    def covers(vid, team):
        return any(all(s in skills[p] for s, p in zip(needs[vid], perm)) for perm in itertools.permutations(team, len(needs[vid])))

    result = staff(loaded, v, people)
    _, choice = brute_force(["V1", "V2", "V3"], list(skills), [2, 2, 2], 2, lambda a, b: costs.pair_cost(KEY, a, b), covers)
    assert [sorted(members(result, vid)) for vid in ("V1", "V2", "V3")] == [sorted(t) for t in choice]
    assert result.outcome["staffed"].all()


def test_solver_failure_reads_as_chinese_without_enum_names():
    from ortools.graph.python import min_cost_flow

    status = min_cost_flow.SimpleMinCostFlow().BAD_COST_RANGE
    problem = assignment._solver_failure(status).problems[0]
    assert problem.code == "T811"
    assert "费用数值超出求解器范围" in problem.message
    assert "Status" not in problem.message + (problem.hint or "") and "BAD_" not in problem.message + (problem.hint or "")


def _grouped_side(seed: int, groups: int = 4, visits_per: int = 12, people_per: int = 6):
    """A matching problem of several units: each unit's people may only join its own visits, and a
    few visits need a specialty only some hold."""
    import numpy as np

    gen = np.random.default_rng(seed)
    general, slot_visit, pv, pp, pc, hold_slot, hold_pair = [], [], [], [], [], [], []
    for g in range(groups):
        v0, p0 = g * visits_per, g * people_per
        for v in range(v0, v0 + visits_per):
            general.append(int(gen.integers(1, 3)))
            members = gen.choice(np.arange(p0, p0 + people_per), size=int(gen.integers(2, people_per + 1)), replace=False)
            first = len(pv)
            for p in sorted(members):
                pv.append(v), pp.append(int(p)), pc.append(int(gen.integers(0, 2**40)))
            if gen.random() < 0.3:
                slot_visit.append(v)
                for k in range(first, len(pv)):
                    if gen.random() < 0.5:
                        hold_slot.append(len(slot_visit) - 1), hold_pair.append(k)
    as_array = lambda x: np.asarray(x, dtype=np.int64)  # noqa: E731
    side = assignment._Side(*(as_array(x) for x in (general, slot_visit, pv, pp, pc, hold_slot, hold_pair)))
    return side, groups * visits_per, groups * people_per


@pytest.mark.parametrize("seed", range(5))
def test_solving_part_by_part_equals_one_solve(seed):
    import numpy as np

    side, n_visits, n_people = _grouped_side(seed)
    active = np.ones(n_visits, dtype=bool)
    active[seed::7] = False
    capacity = np.full(n_people, 3, dtype=np.int64)
    n_parts, _ = assignment._components(side, active, capacity)
    assert n_parts >= 4  # the units are separate problems (a unit may split further)
    parts = assignment._solve(side, active, capacity)
    whole, _ = assignment._solve_part(side, active, capacity)
    assert parts.any()
    assert (parts == whole).all()


def _brute_force(general, slot_visit, slot_spec, holds, pairs, cost, capacity):
    """The fullest, then cheapest, choice of pairs by trying every subset: each chosen person fills a
    different place of the visit's team (a specialty place only if they hold it), within their cap."""
    def fits(visit, people):
        places = [None] * int(general[visit]) + [slot_spec[s] for s in np.flatnonzero(slot_visit == visit)]
        return any(all(places[i] is None or holds[p, places[i]] for p, i in zip(people, at))
                   for at in itertools.permutations(range(len(places)), len(people)))
    best = (0, 0, ())
    for mask in range(1 << len(pairs)):
        chosen = [k for k in range(len(pairs)) if mask >> k & 1]
        load = np.bincount([pairs[k][1] for k in chosen], minlength=len(capacity))
        if (load > capacity).any():
            continue
        teams = {}
        for k in chosen:
            teams.setdefault(pairs[k][0], []).append(pairs[k][1])
        if all(fits(v, ps) for v, ps in teams.items()):
            score = (len(chosen), -sum(cost[k] for k in chosen), tuple(chosen))
            best = max(best, score, key=lambda s: s[:2])
    return set(best[2])


@pytest.mark.parametrize("seed", range(25))
def test_the_flow_with_hubs_finds_what_trying_every_choice_finds(seed):
    """People who can fill the same specialty places of a visit share a hub node: still nobody fills two
    places of one team, a specialty place goes to a holder, and the choice is the fullest and cheapest."""
    gen = np.random.default_rng(seed)
    n_visits, n_people, n_specs = 3, 4, 2
    general = gen.integers(0, 2, size=n_visits)
    slot_visit = np.sort(gen.integers(0, n_visits, size=int(gen.integers(1, 5))))
    slot_spec = gen.integers(0, n_specs, size=len(slot_visit))
    holds = gen.random((n_people, n_specs)) < 0.6
    pairs = [(v, p) for v in range(n_visits) for p in range(n_people) if gen.random() < 0.55][:14]
    cost = gen.permutation(1000)[: len(pairs)]
    capacity = gen.integers(1, 3, size=n_people)
    hold = [(s, k) for k, (v, p) in enumerate(pairs) for s in np.flatnonzero(slot_visit == v) if holds[p, slot_spec[s]]]
    side = assignment._Side(
        general=general, slot_visit=slot_visit, pair_visit=np.array([v for v, _ in pairs], dtype=np.int64),
        pair_person=np.array([p for _, p in pairs], dtype=np.int64), pair_cost=cost.astype(np.int64),
        hold_slot=np.array([s for s, _ in hold], dtype=np.int64),
        hold_pair=np.array([k for _, k in hold], dtype=np.int64))
    chosen = assignment._solve(side, np.ones(n_visits, dtype=bool), capacity)
    assert set(np.flatnonzero(chosen).tolist()) == _brute_force(general, slot_visit, slot_spec, holds, pairs, cost, capacity)


@pytest.mark.parametrize("seed", range(3))
def test_the_largest_parts_are_solved_first(seed, monkeypatch):
    """The last part solved is the one a process may be left solving alone while the other waits: the smallest."""
    from spotcheck.plan import flows

    side, n_visits, n_people = _grouped_side(seed, groups=6)
    handed = []
    real = flows.optima
    monkeypatch.setattr(flows, "optima", lambda jobs, helper: real(((handed.append(len(key[1])) or key, job)
                                                                   for key, job in jobs), helper))
    assignment._solve(side, np.ones(n_visits, dtype=bool), np.full(n_people, 2, dtype=np.int64))
    assert len(handed) == 6 and len(set(handed)) > 1
    assert handed == sorted(handed, reverse=True)
