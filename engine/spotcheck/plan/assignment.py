"""Assignment: the min-cost max-flow that fills the teams' places, and the workload caps it runs under.

How it is chosen
  Each (visit, person) pair gets a random cost below 2**32, fixed by the seed key (spotcheck.plan.costs,
  docs/teams.md). Officers and pool members are each matched by one min-cost max-flow:
  source → visit's specialty slots (1 each) and general places (team size minus the slots) → person
  (the pair's cost) → sink (the person's cap); the people who can fill the same set of a visit's
  specialty places reach it through one hub node of theirs (1 each from the hub to each of them, so
  nobody fills two places on one team). The flow fills as many places as possible at the least total cost; with
  random 32-bit costs the optimum is unique with overwhelming probability, so any exact solver gives
  the same teams. The officers' network starts from each visit's cheapest candidates and is priced
  against every eligible pair until it is proved optimal (spotcheck.plan.pricing). Visits filled
  completely (on both sides) are fixed; the others are matched again with the capacity left. When a
  round completes none, the later half of the waiting visits, in the order of their keyed words,
  give way.

The default caps: spotcheck.plan.caps.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass

import numpy as np
import polars as pl
from ortools.graph.python import max_flow
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.plan import flows as flows_
from spotcheck.plan.network import _beyond, _components, _joined, _Net, _network, _prefix, _Side, _subset
from spotcheck.plan.pricing import Potentials, Universe, _present
from spotcheck.plan.proof import residual_potentials

# ---------------------------------------------------------------------------------------------
# The flow


# OR-tools statuses by name (min-cost flow and max flow share some), as an officer reads them.
_SOLVER_STATUS = {
    "NOT_SOLVED": "未求解", "FEASIBLE": "只得到可行解，未得到最优解", "INFEASIBLE": "无可行解",
    "UNBALANCED": "供需不平衡", "BAD_RESULT": "求解结果校验未通过", "BAD_COST_RANGE": "费用数值超出求解器范围",
    "BAD_CAPACITY_RANGE": "容量数值超出求解器范围", "POSSIBLE_OVERFLOW": "流量可能溢出", "BAD_INPUT": "输入不合法",
}


def _solver_failure(status: object) -> SpotcheckError:
    """T811 in words: the enum's repr ("Status.BAD_COST_RANGE") means nothing to an officer."""
    name = getattr(status, "name", None) or str(status).rsplit(".", 1)[-1]
    return SpotcheckError(Problem("T811", f"检查人员匹配求解失败：{_SOLVER_STATUS.get(name, '未知原因')}",
                                  hint=f"这是程序内部错误，不是名录填写问题；请将抽取结果目录、名录文件和代码 {int(status)} "
                                       "报告给维护人员"))


def _lost() -> SpotcheckError:
    return SpotcheckError(Problem("T811", "检查人员匹配求解失败：求解子进程意外退出",
                                  hint="多为内存不足；请在内存更多的计算机上重新运行，仍失败的，将抽取结果目录和名录文件报告给维护人员"))


def _solve(side: _Side, active: np.ndarray, capacity: np.ndarray, helper: flows_.Helper | None = None) -> np.ndarray:
    """Max flow at least cost over the active visits; the chosen pairs as a boolean mask.

    The problem is solved part by part (visits that share no eligible person are independent
    problems: a city's units, a window's visits), which gives the same optimum as one solve, keeps
    each network small enough for OR-tools' cost scaling (max cost × nodes within int64), and keeps
    memory to the largest part. When the side holds only some of its eligible pairs (a universe),
    the solve is priced against all of them and the pairs that break the proof are added
    (spotcheck.plan.pricing): a part they stay inside has its optimum repaired along them
    (spotcheck.plan.repair), the others are solved again, until the proof holds; so the answer is
    that of one solve over every eligible pair. `helper`: a process solving every other part
    (spotcheck.plan.flows).
    """
    chosen, pot, solved = _solve_parts(side, active, capacity, helper=helper)
    changed = None
    while side.universe is not None:
        v, p = side.universe.violators(active, capacity, side.keys(), pot, changed)
        if not len(v):
            break
        parts = np.concatenate([pot.visit_part[v], pot.person_part[p]])
        touched = np.isin(pot.visit_part, parts[parts >= 0])
        touched[v] = True
        first = len(side.pair_visit)
        repaired = _repair_parts(side, active, capacity, pot, solved, _repairable(pot, v, p), v, p, first, helper)
        side.add(v, p)
        people = np.zeros(len(capacity), dtype=bool)
        people[side.pair_person[touched[side.pair_visit]]] = True
        changed = (touched, people)
        chosen = np.concatenate([chosen, np.zeros(len(v), dtype=bool)])
        again = touched.copy()
        for k, fixed in repaired:
            if fixed is not None:
                pairs, picked = fixed
                chosen[pairs] = picked
                again &= pot.visit_part != k
        chosen, pot, solved = _solve_parts(side, active, capacity, (chosen, pot, again, solved), helper)
    return chosen


@dataclass
class _Solved:
    """A part's last optimum: the flow on each arc of its network and the node potentials proving it,
    kept so that a few more pairs can be worked into it (spotcheck.plan.repair). The network itself is
    not kept (at a province it is most of the memory the matching holds): it is built again from the
    side's first `base` pairs, the pairs it was built from, and `grown` holds only the arcs and pairs
    repairs added after them (their pairs have hubs of their own, which the side does not build).
    `whole`: the part was solved as the whole side, not as a subset of it."""

    flows: np.ndarray
    d: np.ndarray
    whole: bool
    base: int
    grown: _Net | None = None

    def solved_network(self, side: _Side, visits: np.ndarray, capacity: np.ndarray) -> _Net | None:
        """The network OR-tools solved, built again (`visits`: the part's, or the side's active visits when whole)."""
        first = _prefix(side, self.base)
        if self.whole:
            return _network(first, visits, capacity)
        return _network(_subset(first, visits, np.ones(len(capacity), dtype=bool)), np.ones(int(visits.sum()), dtype=bool), capacity)


def _solve_parts(side: _Side, active: np.ndarray, capacity: np.ndarray, before=None,
                 helper: flows_.Helper | None = None) -> tuple[np.ndarray, Potentials | None, dict]:
    """Each part's optimum (and, on a priced side, its potentials and _Solved, by the part's first visit).
    `before`: the last solve's choice, potentials, the visits to solve again, and the _Solved; the
    other parts are taken from it. `helper`: a process solving every other part (spotcheck.plan.flows)."""
    if before is not None and not before[2][active].any():
        # Every part is as the last solve and its repairs left it (a new pair that joined two parts, or reached a
        # visit in none, leaves its visits to solve again): its parts, choice and proof stand, and a province's
        # parts are not looked for again (seconds of one core while the helper waits).
        return before[0], before[1], before[3]
    chosen = np.zeros(len(side.pair_visit), dtype=bool)
    n_parts, part = _components(side, active, capacity)
    pot = None if side.universe is None else Potentials.empty(len(side.general), len(side.slot_visit), len(capacity))
    solved: dict[int, _Solved] = {}
    if n_parts <= 1:
        chosen[:], state = _solve_part(side, active, capacity, pot, part, np.arange(len(side.general)), np.arange(len(side.slot_visit)))
        if state is not None and active.any():
            state.whole = True
            solved[int(np.flatnonzero(active)[0])] = state
        return chosen, pot, solved
    everyone = np.ones(len(capacity), dtype=bool)

    # The largest parts first: the last part is the one a process may be left solving alone.
    pairs_in = part[side.pair_visit]
    largest = np.argsort(-np.bincount(pairs_in[pairs_in >= 0], minlength=n_parts), kind="stable")
    del pairs_in

    def jobs():
        """The parts to solve, each with its network, built as the solver gets to it (up to three held at once)."""
        for k in largest:
            visits = active & (part == k)
            sub, pairs = _subset(side, visits, everyone, with_pairs=True)
            visit_ids, slot_ids = np.flatnonzero(visits), np.flatnonzero(visits[side.slot_visit])
            if before is not None and not before[2][visits].any():
                chosen[pairs] = before[0][pairs]
                pot.take(before[1], visit_ids, slot_ids, _present(sub.pair_person, len(capacity)), k)
                if int(visit_ids[0]) in before[3]:
                    solved[int(visit_ids[0])] = before[3][int(visit_ids[0])]
                continue
            net = _network(sub, np.ones(len(sub.general), dtype=bool), capacity)
            if net is not None:
                yield (sub, pairs, visit_ids, slot_ids, net), flows_.solve_job(net, _proof_nodes(net, capacity, pot))

    with closing(flows_.optima(jobs(), helper)) as answers:
        for (sub, pairs, visit_ids, slot_ids, net), status, flows in answers:
            chosen[pairs], state = _solved_part(sub, np.ones(len(sub.general), dtype=bool), capacity, net, status, flows,
                                                pot, part, visit_ids, slot_ids)
            if state is not None:
                state.base = len(side.pair_visit)  # the part's network is built again from the side's pairs
                solved[int(visit_ids[0])] = state
    return chosen, pot, solved


def _solve_part(side: _Side, active: np.ndarray, capacity: np.ndarray, pot: Potentials | None = None,
                part: np.ndarray | None = None, visit_ids: np.ndarray | None = None,
                slot_ids: np.ndarray | None = None) -> tuple[np.ndarray, _Solved | None]:
    """One part's optimum, solved here; with `pot`, also its potentials, entered at the year's visit
    and slot ids, and its _Solved."""
    net = _network(side, active, capacity)
    if net is None:
        return np.zeros(len(side.pair_visit), dtype=bool), None
    return _solved_part(side, active, capacity, net, *flows_.run(flows_.solve_job(net, _proof_nodes(net, capacity, pot))), pot,
                        part, visit_ids, slot_ids)


def _proof_nodes(net: _Net, capacity: np.ndarray, pot: Potentials | None) -> int:
    """The nodes whose potentials prove a part's optimum, when the side is priced (0: no proof wanted)."""
    return 0 if pot is None else net.person0 + len(capacity)


def _solved_part(side: _Side, active: np.ndarray, capacity: np.ndarray, net: _Net, status: int, answer: np.ndarray | None,
                 pot: Potentials | None, part: np.ndarray | None, visit_ids: np.ndarray | None,
                 slot_ids: np.ndarray | None) -> tuple[np.ndarray, _Solved | None]:
    """The chosen pairs of a part from OR-tools' answer for its network (and its potentials and _Solved, with `pot`)."""
    if status == flows_.LOST:
        raise _lost()
    if status != flows_.OPTIMAL:
        raise _solver_failure(flows_.status_of(status))
    flows, proof = flows_.proved(answer, len(net.tails))
    chosen = np.zeros(len(side.pair_visit), dtype=bool)
    chosen[net.pairs[flows[net.pair_arcs] > 0]] = True
    if pot is None:
        return chosen, None
    d = _potentials(pot, side, active, capacity, net, flows, net.person0 + len(capacity), part, visit_ids, slot_ids,
                    _present(side.pair_person, len(capacity)), proof)
    return chosen, _Solved(flows.astype(np.int32), d, whole=False, base=len(side.pair_visit))


def _potentials(pot: Potentials, side: _Side, active: np.ndarray, capacity: np.ndarray, net: _Net, flows: np.ndarray,
                n_nodes: int, part: np.ndarray, visit_ids: np.ndarray, slot_ids: np.ndarray, people: np.ndarray,
                proof: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    """Enter a solved part's potentials and reachability into `pot` (at the year's ids); returns every node's potential.
    `proof`: the potentials and reachability as the process that solved it worked them out, or None: work them out here."""
    n_visits = len(side.general)
    d, reached = proof or residual_potentials(net.tails, net.heads, net.caps, net.costs, flows, n_nodes)
    here = active & (side.general > 0)
    pot.general[visit_ids[here]] = d[2 + np.flatnonzero(here)]
    pot.general_reached[visit_ids] = reached[2 : 2 + n_visits]
    # The proof prices a left-out pair as a hub of its own fed by its places (one way of writing the
    # same problem), so it needs the places' potentials only, not the hubs'.
    pot.slot[slot_ids] = d[2 + n_visits : 2 + n_visits + len(side.slot_visit)]
    pot.slot_reached[slot_ids] = reached[2 + n_visits : 2 + n_visits + len(side.slot_visit)]
    pot.person[people] = d[net.person0 + people]
    pot.person_reached[people] = reached[net.person0 + people]
    pot.visit_part[visit_ids] = np.where(active, part[visit_ids], -1)
    pot.person_part[people] = part[visit_ids[active]].max(initial=-1)
    return d


def _repairable(pot: Potentials, v: np.ndarray, p: np.ndarray) -> list[int]:
    """The parts whose new pairs all stay inside them: visit in the part, person in it or in none (a
    person in no part joins no other part through them)."""
    vp, pp = pot.visit_part[v], pot.person_part[p]
    inside = (vp >= 0) & ((pp == vp) | (pp == -2))
    # A person in no part brought into two parts would join them.
    loose = pp == -2
    order = np.lexsort((vp[loose], p[loose]))
    lp, lv = p[loose][order], vp[loose][order]
    joins = np.zeros(len(v), dtype=bool)
    split = (lp[1:] == lp[:-1]) & (lv[1:] != lv[:-1])
    bad_people = np.unique(lp[1:][split])
    joins[loose] = np.isin(p[loose], bad_people)
    good = inside & ~joins
    broken = np.concatenate([vp[~good], pp[~good]])
    return [int(k) for k in np.unique(vp[good]) if k not in set(broken.tolist())]


def _repair_parts(side: _Side, active: np.ndarray, capacity: np.ndarray, pot: Potentials, solved: dict, parts: list[int],
                  v: np.ndarray, p: np.ndarray, first: int, helper: flows_.Helper | None) -> list[tuple[int, tuple | None]]:
    """Work the new pairs (v, p) into the last optimum of each of `parts` (spotcheck.plan.repair), before
    they are added to the side at index `first` on; with a helper, two parts at a time (one at the helper: a
    grown network and the residual matrix of its shortest paths are the plan's peak of memory at 10M). Per part: (the
    side's pairs of the part, old and new, and which are chosen), with its potentials entered into `pot`
    and its _Solved replaced; or None: solve it again."""
    out = []

    def jobs():
        """Each part's repair, its grown network made as the repairs get to it (up to two held at once)."""
        for k in parts:
            started = _repair_start(side, active, capacity, pot, solved, k, v, p, first)
            if started is None:
                out.append((k, None))
            else:
                yield (k, started[0]), started[1]

    with closing(flows_.optima(jobs(), helper, depth=1)) as answers:
        for (k, finish), status, flows in answers:
            if status == flows_.LOST:
                raise _lost()
            out.append((k, None if status == flows_.UNREPAIRED else finish(flows)))
    return out


def _repair_start(side: _Side, active: np.ndarray, capacity: np.ndarray, pot: Potentials, solved: dict, k: int,
                  v: np.ndarray, p: np.ndarray, first: int) -> tuple | None:
    """Part k's network grown by its new pairs (v, p), as the repair to work out on it and what enters its
    answer (into `pot` and `solved`; returns the part's pairs, old and new, and which are chosen); None:
    solve it again."""
    visits = active & (pot.visit_part == k)
    visit_ids = np.flatnonzero(visits)
    state = solved.get(int(visit_ids[0])) if len(visit_ids) else None
    if state is None:
        return None
    if state.whole:
        sub, pairs, sub_active = side, np.arange(len(side.pair_visit)), active
        visit_ids, slot_ids = np.arange(len(side.general)), np.arange(len(side.slot_visit))
    else:
        sub, pairs = _subset(side, visits, np.ones(len(capacity), dtype=bool), with_pairs=True)
        sub_active = np.ones(len(sub.general), dtype=bool)
        slot_ids = np.flatnonzero(visits[side.slot_visit])
    solved_net = state.solved_network(side, active if state.whole else visits, capacity)
    net = solved_net if solved_net is None or state.grown is None else _joined(solved_net, state.grown)
    if net is None or len(state.flows) != len(net.tails):
        return None
    mine = np.flatnonzero(pot.visit_part[v] == k)
    nv, np_ = np.searchsorted(visit_ids, v[mine]), p[mine]
    n_old_nodes = len(state.d)
    hubs = n_old_nodes + np.arange(len(mine))
    # A new pair goes through a hub of its own, fed by the places its person can fill.
    slot, at = side.universe.holdings(v[mine], np_)
    general = np.flatnonzero(sub.general[nv] > 0)
    into_t = np.concatenate([2 + nv[general], 2 + len(sub.general) + np.searchsorted(slot_ids, slot)])
    into_h = np.concatenate([hubs[general], hubs[at]])
    missing = np.setdiff1d(np_, net.people)
    tails = np.concatenate([net.tails, into_t, hubs, net.person0 + missing])
    heads = np.concatenate([net.heads, into_h, net.person0 + np_, np.ones(len(missing), dtype=np.int64)])
    caps = np.concatenate([net.caps, np.ones(len(into_t) + len(mine), dtype=np.int64), capacity[missing]])
    cost = np.concatenate([net.costs, np.zeros(len(into_t), dtype=np.int64), side.universe.cost(v[mine], np_),
                           np.zeros(len(missing), dtype=np.int64)])
    flows = np.concatenate([state.flows, np.zeros(len(tails) - len(net.tails), dtype=np.int32)])
    d = np.concatenate([state.d, np.zeros(len(mine), dtype=np.int64)])
    pair_arcs = len(net.tails) + len(into_t) + np.arange(len(mine))
    grown = _Net(tails, heads, caps, cost, net.supply,
                 pair_arcs=np.concatenate([net.pair_arcs, pair_arcs]),
                 pairs=np.concatenate([net.pairs, len(sub.pair_visit) + np.arange(len(mine))]),
                 sink_arcs=np.concatenate([net.sink_arcs, pair_arcs[-1] + 1 + np.arange(len(missing))]) if len(missing) else net.sink_arcs,
                 people=np.concatenate([net.people, missing]), person0=net.person0)
    # What the part keeps is taken now, so the networks it was grown from (each arc array again, at a
    # province's unit about 45 MB apiece) are not held while its repair and another are worked out.
    beyond, n_old = _beyond(grown, solved_net), len(net.tails)

    def finish(answer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        flows, proof = flows_.proved(answer, len(grown.tails))
        people = _present(np.concatenate([sub.pair_person, np_]), len(capacity))
        d = _potentials(pot, sub, sub_active, capacity, grown, flows, n_old_nodes + len(mine), pot.visit_part if state.whole else
                        np.full(len(side.general), k), visit_ids, slot_ids, people, proof)
        solved[int(np.flatnonzero(visits)[0])] = _Solved(flows.astype(np.int32), d, whole=state.whole, base=state.base,
                                                         grown=beyond)
        picked = np.zeros(len(sub.pair_visit) + len(mine), dtype=bool)
        picked[grown.pairs[flows[grown.pair_arcs] > 0]] = True
        return np.concatenate([pairs, first + mine]), picked

    return finish, flows_.repair_job(tails, heads, caps, cost, flows, d, n_old)


class _Probe:
    """Max flow only (no costs), re-solved as the people's caps change: is a cap enough?"""

    def __init__(self, net: _Net) -> None:
        self.net = net
        self.flow = max_flow.SimpleMaxFlow()
        self.flow.add_arcs_with_capacity(net.tails, net.heads, net.caps)

    def run(self, cap: int) -> int:
        self.flow.set_arcs_capacity(self.net.sink_arcs, np.full(len(self.net.sink_arcs), cap, dtype=np.int64))
        status = self.flow.solve(0, 1)
        if status != self.flow.OPTIMAL:
            raise _solver_failure(status)
        return self.flow.optimal_flow()

    def filled(self, side: _Side) -> np.ndarray:
        """Per visit of `side`: are all its places filled (for each visit it stands for)?"""
        got = np.bincount(side.pair_visit[self.net.pairs], weights=self.flow.flows(self.net.pair_arcs), minlength=len(side.general))
        return got == side.places() * (1 if side.mult is None else side.mult)


def rounds(sides: Sequence[_Side], active: np.ndarray, capacity: np.ndarray, priority: np.ndarray,
           helper: flows_.Helper | None = None) -> tuple[list[np.ndarray], np.ndarray, list[np.ndarray]]:
    """Match, fix the visits filled completely, match the rest again with what is left.

    Max flow may spread scarce places thinly over many visits. When a round completes none, the
    half of the waiting visits that come last in `priority` (a hash of the seed key and visit id)
    give way, so the capacity left goes to fewer visits, until none wait.
    Returns the chosen pairs per side, the staffed visits, and per side which visits its last
    attempt filled (to tell which side failed). `helper`: a process solving every other part
    (spotcheck.plan.flows).
    """
    capacity = capacity.copy()
    n_visits = len(active)
    chosen = [np.zeros(len(s.pair_visit), dtype=bool) for s in sides]
    side_ok = [np.zeros(n_visits, dtype=bool) for _ in sides]
    staffed = np.zeros(n_visits, dtype=bool)
    active = active.copy()
    while active.any():
        picks = [_solve(s, active, capacity, helper) for s in sides]
        # Pricing may have taken more pairs into a side: the choices so far keep their indices.
        chosen = [np.concatenate([c, np.zeros(len(s.pair_visit) - len(c), dtype=bool)]) for c, s in zip(chosen, sides)]
        full = active.copy()
        for k, (side, pick) in enumerate(zip(sides, picks)):
            filled = np.bincount(side.pair_visit[pick], minlength=n_visits)
            ok = filled == side.places()
            side_ok[k] = np.where(active, ok, side_ok[k])
            full &= ok
        if not full.any():
            waiting = np.nonzero(active)[0]
            waiting = waiting[np.argsort(priority[waiting], kind="stable")]
            active[waiting[(len(waiting) + 1) // 2 :] if len(waiting) > 1 else waiting] = False
            continue
        for k, (side, pick) in enumerate(zip(sides, picks)):
            keep = pick & full[side.pair_visit]
            chosen[k] |= keep
            np.subtract.at(capacity, side.pair_person[keep], 1)
        staffed |= full
        active &= ~full
    return chosen, staffed, side_ok


@dataclass
class Matching:
    """One side's matching problem as flow arrays, and the visits it could fill were nobody capped."""

    side: _Side
    feasible: np.ndarray

    def chosen(self, mask: np.ndarray) -> pl.DataFrame:
        """v, p, cost: the pairs of `mask` (over the pairs the side holds), in the side's order. Only
        those are copied: a province's side holds tens of millions of pairs and its teams a few."""
        s = self.side
        return pl.DataFrame({"v": s.pair_visit[mask], "p": s.pair_person[mask], "cost": s.pair_cost[mask]}).cast(
            {"v": pl.UInt32, "p": pl.UInt32})


def matching(v: pl.DataFrame, pairs: pl.DataFrame, slots: pl.DataFrame, holders: pl.DataFrame, general: np.ndarray) -> Matching:
    """The eligible pairs (v, p, cost), the specialty slots (s, v, spec) and the slots' holders
    (s, v, p) of one side, with each visit's general places, as a matching problem."""
    n = v.height
    pairs = pairs.sort(["v", "p"]).with_row_index("k")
    holds = holders.join(pairs.select("v", "p", "k"), on=["v", "p"]).select("s", "k").sort(["s", "k"])
    side = _Side(
        general=general,
        slot_visit=slots["v"].to_numpy().astype(np.int64),
        pair_visit=pairs["v"].to_numpy().astype(np.int64),
        pair_person=pairs["p"].to_numpy().astype(np.int64),
        pair_cost=pairs["cost"].to_numpy().astype(np.int64),
        hold_slot=holds["s"].to_numpy().astype(np.int64),
        hold_pair=holds["k"].to_numpy().astype(np.int64),
    )
    # Feasible ignoring caps: enough eligible people, and someone for every specialty slot.
    count = np.bincount(side.pair_visit, minlength=n)
    covered = np.zeros(len(side.slot_visit), dtype=bool)
    covered[side.hold_slot] = True
    uncovered = np.bincount(side.slot_visit[~covered], minlength=n)
    feasible = (count >= side.places()) & (uncovered == 0)
    return Matching(side, feasible)


def priced_matching(universe: Universe, general: np.ndarray) -> Matching:
    """The same matching problem over a universe of pairs: it starts from the candidates and is priced
    against every eligible pair (spotcheck.plan.pricing)."""
    n = len(general)
    v, p, count, holders = universe.candidates(n)
    side = _Side(general=general, slot_visit=universe.slot_visit,
                 pair_visit=np.zeros(0, dtype=np.int64), pair_person=np.zeros(0, dtype=np.int64),
                 pair_cost=np.zeros(0, dtype=np.int64), hold_slot=np.zeros(0, dtype=np.int64),
                 hold_pair=np.zeros(0, dtype=np.int64), universe=universe)
    side.add(v, p)
    uncovered = np.bincount(universe.slot_visit[holders == 0], minlength=n)
    feasible = (count >= side.places()) & (uncovered == 0)
    return Matching(side, feasible)
