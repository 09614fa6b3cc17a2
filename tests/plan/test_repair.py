"""Repair: an optimum worked along a few new arcs equals a fresh solve over all of them, and the
priced matching repairs parts instead of solving them again."""

import gc
import weakref

import numpy as np
import pytest
from ortools.graph.python import min_cost_flow
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order
from plan.test_pricing import _full, _pairs, _universe
from spotcheck.plan import assignment, pricing, proof, repair


def _network(seed: int):
    """source → visit (its places) → person (a random 32-bit cost, 1) → sink (the person's cap)."""
    gen = np.random.default_rng(seed)
    n_visits, n_people = int(gen.integers(3, 12)), int(gen.integers(2, 8))
    visits, people = 2 + np.arange(n_visits), 2 + n_visits + np.arange(n_people)
    pairs = np.argwhere(gen.random((n_visits, n_people)) < 0.6)
    tails = np.concatenate([np.zeros(n_visits, dtype=np.int64), visits[pairs[:, 0]], people])
    heads = np.concatenate([visits, people[pairs[:, 1]], np.ones(n_people, dtype=np.int64)])
    caps = np.concatenate([gen.integers(1, 3, size=n_visits), np.ones(len(pairs), dtype=np.int64), gen.integers(1, 4, size=n_people)])
    costs = np.concatenate([np.zeros(n_visits, dtype=np.int64), gen.integers(0, 2**32, size=len(pairs)), np.zeros(n_people, dtype=np.int64)])
    return tails, heads, caps, costs, gen


def _optimum(tails, heads, caps, costs) -> np.ndarray:
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supply = int(caps[tails == 0].sum())
    flow.set_node_supply(0, supply)
    flow.set_node_supply(1, -supply)
    assert flow.solve_max_flow_with_min_cost() == flow.OPTIMAL
    return flow.flows(np.arange(len(tails)))


def _late(seed: int):
    """Network `seed` with some of its pairs left out of the first solve and come back as new arcs at the end:
    (tails, heads, caps, costs, the first optimum's flows, its potentials, the number of old arcs)."""
    tails, heads, caps, costs, gen = _network(seed)
    late = (tails > 1) & (heads > 1) & (gen.random(len(tails)) < 0.3)
    order = np.concatenate([np.flatnonzero(~late), np.flatnonzero(late)])
    tails, heads, caps, costs = tails[order], heads[order], caps[order], costs[order]
    n_old = int((~late).sum())
    first = _optimum(tails[:n_old], heads[:n_old], caps[:n_old], costs[:n_old])
    n_nodes = int(max(tails.max(), heads.max())) + 1
    d, _ = proof.residual_potentials(tails[:n_old], heads[:n_old], caps[:n_old], costs[:n_old], first, n_nodes)
    return tails, heads, caps, costs, np.concatenate([first, np.zeros(len(tails) - n_old, dtype=np.int64)]), d, n_old


@pytest.mark.parametrize("seed", range(40))
def test_a_repaired_optimum_is_the_fresh_solve_over_every_arc(seed):
    tails, heads, caps, costs, flows, d, n_old = _late(seed)
    got = repair.repair(tails, heads, caps, costs, flows, d, n_old)
    want = _optimum(tails, heads, caps, costs)
    assert got is not None
    assert (got == want).all()



def test_one_search_sends_several_excesses_back(monkeypatch):
    """A search from the excesses serves each excess the nearest deficit of its own tree at once: over the
    random repairs above, fewer searches than the excess units they send back (a search per unit was most
    of a repair's time at a province's unit). The searches toward the sink (step 2) are not counted."""
    searches, units, toward_sink = 0, 0, False
    nearest, push = repair._Residual.nearest, repair._Residual.push

    def counted_nearest(self, flows, caps, costs, d, sources, targets, *args, **kwargs):
        nonlocal searches, toward_sink
        toward_sink = bool(targets[1])
        searches += not toward_sink
        return nearest(self, flows, caps, costs, d, sources, targets, *args, **kwargs)

    def counted_push(self, flows, entries):
        nonlocal units
        units += not toward_sink
        return push(self, flows, entries)

    monkeypatch.setattr(repair._Residual, "nearest", counted_nearest)
    monkeypatch.setattr(repair._Residual, "push", counted_push)
    for seed in range(40):
        tails, heads, caps, costs, flows, d, n_old = _late(seed)
        assert (repair.repair(tails, heads, caps, costs, flows, d, n_old) == _optimum(tails, heads, caps, costs)).all()
    assert 0 < searches < units


@pytest.mark.parametrize("seed", range(10))
def test_the_residual_matrix_holds_each_arcs_reduced_cost_where_it_has_room(seed):
    """Forward entry (tail → head): the reduced cost while the arc has room, backward (head → tail): minus
    it while the arc carries flow, infinity otherwise; and the sink is reached exactly along such entries."""
    tails, heads, caps, costs, gen = _network(seed)
    n = int(max(tails.max(), heads.max())) + 1
    flows = np.where(gen.random(len(tails)) < 0.6, caps, gen.integers(0, 2, size=len(tails)))
    d = gen.integers(-2**33, 2**33, size=n)
    graph = repair._Residual(tails, heads, n)
    matrix = graph.matrix(flows, caps, costs, d)
    rc = costs + d[tails] - d[heads]
    for a in range(len(tails)):
        assert matrix[tails[a], heads[a]] == (rc[a] if flows[a] < caps[a] else np.inf)
        assert matrix[heads[a], tails[a]] == (-rc[a] if flows[a] > 0 else np.inf)
    fwd, bwd = flows < caps, flows > 0
    rows, cols = np.concatenate([tails[fwd], heads[bwd]]), np.concatenate([heads[fwd], tails[bwd]])
    room = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    assert graph.reaches_sink(flows, caps) == (1 in breadth_first_order(room, 0, directed=True, return_predecessors=False))


def test_potentials_that_do_not_prove_the_old_flow_are_refused():
    tails, heads, caps, costs, _ = _network(3)
    flows = _optimum(tails, heads, caps, costs)
    d, _ = proof.residual_potentials(tails, heads, caps, costs, flows, int(heads.max()) + 1)
    wrong = d.copy()
    wrong[tails[np.argmax(costs)]] -= 2**40
    assert repair.repair(tails, heads, caps, costs, flows, d, len(tails)) is not None
    assert repair.repair(tails, heads, caps, costs, flows, wrong, len(tails)) is None


def priced_and_full(seed: int, cap: int = 1, helper=None) -> tuple:
    """The teams of random problem `seed` (spotcheck.plan.pricing's tests) from the priced matching (with
    `helper`, if any) and from one solve over every pair, each person taking up to `cap` visits."""
    universe, general = _universe(seed)
    priced = assignment.priced_matching(universe, general).side
    full = _full(universe, general)
    active = np.ones(len(general), dtype=bool)
    capacity = np.full(universe.n_people, cap, dtype=np.int64)
    return _pairs(priced, assignment._solve(priced, active, capacity, helper)), _pairs(full, assignment._solve(full, active, capacity))


def test_the_priced_matching_repairs_parts_and_still_equals_the_full_solve(monkeypatch):
    monkeypatch.setattr(pricing, "CANDIDATES", 1)
    results = []
    real = assignment._repair_parts

    def spy(*args):
        got = real(*args)
        results.extend(got)
        return got

    monkeypatch.setattr(assignment, "_repair_parts", spy)
    for seed in range(20):
        priced, full = priced_and_full(seed)
        assert priced == full
    assert sum(fixed is not None for _, fixed in results) >= 10


def test_a_round_whose_new_pairs_were_all_repaired_in_keeps_its_parts(monkeypatch):
    """When every part a pricing round touched was repaired, nothing is solved again: the parts, choice and
    proof stand, the parts are not looked for again, and the teams are still the full solve's."""
    monkeypatch.setattr(pricing, "CANDIDATES", 1)
    rounds, looked = [], []
    real_parts, real_components = assignment._solve_parts, assignment._components
    monkeypatch.setattr(assignment, "_components", lambda *a: looked.append(1) or real_components(*a))

    def spy(side, active, capacity, before=None, helper=None):
        looked.clear()
        got = real_parts(side, active, capacity, before, helper)
        if before is not None:
            rounds.append((not before[2][active].any(), bool(looked)))
        return got

    monkeypatch.setattr(assignment, "_solve_parts", spy)
    for seed in range(20):
        priced, full = priced_and_full(seed)
        assert priced == full
    kept = [parts_looked_for for nothing_again, parts_looked_for in rounds if nothing_again]
    assert len(kept) >= 3 and not any(kept)


def test_a_part_repaired_twice_is_built_again_from_its_first_pairs_and_still_equals_the_full_solve(monkeypatch):
    """A repaired part keeps no network: the second repair builds it again from the pairs it was solved
    with, adds the arcs the first repair added, and must still give the full solve's teams."""
    monkeypatch.setattr(pricing, "CANDIDATES", 1)
    again = []
    real = assignment._repair_parts

    def spy(side, active, capacity, pot, solved, parts, v, p, first, helper):
        before = {}
        for k in parts:
            ids = np.flatnonzero(active & (pot.visit_part == k))
            before[k] = solved.get(int(ids[0])) if len(ids) else None
        got = real(side, active, capacity, pot, solved, parts, v, p, first, helper)
        again.extend(before[k].whole for k, fixed in got if before[k] is not None and before[k].grown is not None and fixed is not None)
        return got

    monkeypatch.setattr(assignment, "_repair_parts", spy)
    for cap in (1, 2):
        for seed in range(100):
            priced, full = priced_and_full(seed, cap)
            assert priced == full
    # Both kinds of part were repaired a second time: the whole side, and one part of several.
    assert True in again and False in again


def test_a_repair_waiting_for_its_answer_holds_none_of_the_networks_it_was_grown_from(monkeypatch):
    """The part's network built again (and joined to what earlier repairs added) is copied into the grown one:
    at a province's unit each is every arc array over again, and two repairs wait at once."""
    monkeypatch.setattr(pricing, "CANDIDATES", 1)
    built, held = [], []
    solved_network, joined, start = assignment._Solved.solved_network, assignment._joined, assignment._repair_start

    def built_again(state, *args):
        net = solved_network(state, *args)
        if net is not None:
            built.append(weakref.ref(net.tails))
        return net

    def joined_up(*args):
        net = joined(*args)
        built.append(weakref.ref(net.tails))
        return net

    def started(*args):
        built.clear()
        got = start(*args)
        gc.collect()
        if got is not None:
            held.append([ref() is not None for ref in built])
        return got

    monkeypatch.setattr(assignment._Solved, "solved_network", built_again)
    monkeypatch.setattr(assignment, "_joined", joined_up)
    monkeypatch.setattr(assignment, "_repair_start", started)
    for cap in (1, 2):
        for seed in range(60):
            priced, full = priced_and_full(seed, cap)
            assert priced == full
    assert len(held) >= 10 and sum(len(h) for h in held) > len(held)
    assert not any(any(h) for h in held)
