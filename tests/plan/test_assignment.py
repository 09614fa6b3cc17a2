"""The matcher is an exact optimiser: same answer as brute force."""

import itertools

import pytest
from conftest import QINGDAO
from spotcheck.plan import assignment
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
    _, choice = brute_force(["V1", "V2", "V3"], ids, [2, 2, 2], 2, lambda a, b: assignment.pair_cost(KEY, a, b), lambda *_: True)
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
    _, choice = brute_force(["V1", "V2", "V3"], list(skills), [2, 2, 2], 2, lambda a, b: assignment.pair_cost(KEY, a, b), covers)
    assert [sorted(members(result, vid)) for vid in ("V1", "V2", "V3")] == [sorted(t) for t in choice]
    assert result.outcome["staffed"].all()


def test_solver_failure_reads_as_chinese_without_enum_names():
    from ortools.graph.python import min_cost_flow

    status = min_cost_flow.SimpleMinCostFlow().BAD_COST_RANGE
    problem = assignment._solver_failure(status).problems[0]
    assert problem.code == "T811"
    assert "费用数值超出求解器范围" in problem.message
    assert "Status" not in problem.message + (problem.hint or "") and "BAD_" not in problem.message + (problem.hint or "")
