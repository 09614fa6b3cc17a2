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
from dataclasses import dataclass

import numpy as np
import polars as pl
from ortools.graph.python import max_flow, min_cost_flow
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.plan.pricing import Potentials, Universe, _present, residual_potentials

# ---------------------------------------------------------------------------------------------
# The flow


@dataclass
class _Side:
    """One matching problem (officers, or pool members) over the visits, as flat arrays."""

    general: np.ndarray  # per visit: places any eligible person may fill
    slot_visit: np.ndarray  # per specialty slot: its visit
    pair_visit: np.ndarray  # per eligible pair
    pair_person: np.ndarray
    pair_cost: np.ndarray
    hold_slot: np.ndarray  # per (slot, pair) where the pair's person can fill the slot
    hold_pair: np.ndarray
    # How many identical visits each visit stands for (the default caps' search), or None: one each.
    mult: np.ndarray | None = None
    # Every eligible pair when the pairs above are only some of them (spotcheck.plan.pricing).
    universe: Universe | None = None

    def places(self) -> np.ndarray:
        return self.general + np.bincount(self.slot_visit, minlength=len(self.general))

    def keys(self) -> np.ndarray:
        return np.sort(self.pair_visit * np.int64(len(self.universe.person_words)) + self.pair_person)

    def add(self, v: np.ndarray, p: np.ndarray) -> None:
        """Take more of the universe's pairs into the problem (with the specialty places they can fill)."""
        first = len(self.pair_visit)
        slot, pair = self.universe.holdings(v, p)
        self.pair_visit = np.concatenate([self.pair_visit, v])
        self.pair_person = np.concatenate([self.pair_person, p])
        self.pair_cost = np.concatenate([self.pair_cost, self.universe.cost(v, p)])
        self.hold_slot = np.concatenate([self.hold_slot, slot])
        self.hold_pair = np.concatenate([self.hold_pair, first + pair])


@dataclass
class _Net:
    """A matching problem as one flow network: node 0 is the source, node 1 the sink."""

    tails: np.ndarray
    heads: np.ndarray
    caps: np.ndarray
    costs: np.ndarray
    supply: int
    pair_arcs: np.ndarray  # arcs into a person, one per usable pair
    pairs: np.ndarray  # the pair of each of those arcs
    sink_arcs: np.ndarray  # person → sink
    people: np.ndarray  # the person of each of those arcs
    person0: int  # node of person 0 (visit v's general places are node 2 + v, its slot s node 2 + visits + s)


def _hubs(side: _Side, holding: np.ndarray, hold_on: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each holding pair's hub: pairs of one visit whose people can fill the same set of its specialty
    places share one. Returns each holding pair's hub, and the (slot, hub) arcs feeding the hubs."""
    pairs = np.flatnonzero(holding)
    k, s = side.hold_pair[hold_on], side.hold_slot[hold_on]
    order = np.lexsort((s, k))
    k, s = k[order], s[order]
    row = np.searchsorted(pairs, k)
    start = np.searchsorted(row, np.arange(len(pairs)))
    col = np.arange(len(row)) - start[row]
    # One row per holding pair: its visit, then the places it can fill in order (-1 beyond them).
    kind = np.full((len(pairs), 1 + (int(col.max()) + 1 if len(col) else 0)), -1, dtype=np.int64)
    kind[:, 0] = side.pair_visit[pairs]
    kind[row, 1 + col] = s
    order = np.lexsort(kind.T[::-1])
    new = np.ones(len(pairs), dtype=bool)
    new[1:] = (kind[order[1:]] != kind[order[:-1]]).any(axis=1)
    hub = np.empty(len(pairs), dtype=np.int64)
    hub[order] = np.cumsum(new) - 1
    first = order[new]
    h, c = np.nonzero(kind[first, 1:] >= 0)
    return hub, kind[first, 1:][h, c], h


def _network(side: _Side, active: np.ndarray, capacity: np.ndarray) -> _Net | None:
    """source → specialty slot (1) / general places (count) → person (pair cost) → sink (cap).

    A person who can fill one of the visit's specialty places could fill two places of one team
    through two entries; so the pairs of people who can fill the same set of a visit's specialty
    places go through one hub node of that visit (the places they can fill → hub → each of them, 1
    each), which keeps each person to one place a team. A pair whose person holds none of the visit's
    slot specialties goes from the general node to the person directly. None when there is nothing
    to match."""
    n_visits = len(side.general)
    mult = np.ones(n_visits, dtype=np.int64) if side.mult is None else side.mult
    general = np.where(active, side.general, 0) * mult
    slot_on = active[side.slot_visit]
    pair_on = active[side.pair_visit] & (capacity[side.pair_person] > 0)
    hold_on = slot_on[side.hold_slot] & pair_on[side.hold_pair]
    supply = int(general.sum() + mult[side.slot_visit[slot_on]].sum())
    if supply == 0 or not pair_on.any():
        return None
    holding = np.zeros(len(side.pair_visit), dtype=bool)
    holding[side.hold_pair[hold_on]] = True
    hub, feed_slot, feed_hub = _hubs(side, holding, hold_on)
    n_hubs = int(hub.max()) + 1 if len(hub) else 0
    hub_visit = np.zeros(n_hubs, dtype=np.int64)
    hub_visit[hub] = side.pair_visit[holding]
    gen0, slot0 = 2, 2 + n_visits
    hub0 = slot0 + len(side.slot_visit)
    person0 = hub0 + n_hubs
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def arcs(t, h, c, k=None) -> int:
        t = np.asarray(t, dtype=np.int64)
        parts.append((t, np.asarray(h, dtype=np.int64), np.broadcast_to(np.asarray(c, dtype=np.int64), len(t)),
                      np.zeros(len(t), dtype=np.int64) if k is None else np.asarray(k, dtype=np.int64)))
        return sum(len(p[0]) for p in parts) - len(t)

    has_general = general > 0
    gv = np.nonzero(has_general)[0]
    arcs(np.zeros(len(gv)), gen0 + gv, general[gv])
    sv = np.nonzero(slot_on)[0]
    arcs(np.zeros(len(sv)), slot0 + sv, mult[side.slot_visit[sv]])
    arcs(slot0 + feed_slot, hub0 + feed_hub, mult[side.slot_visit[feed_slot]])
    gh = np.flatnonzero(has_general[hub_visit])
    arcs(gen0 + hub_visit[gh], hub0 + gh, general[hub_visit[gh]])
    x_idx = np.flatnonzero(holding)
    first = arcs(hub0 + hub, person0 + side.pair_person[x_idx], mult[side.pair_visit[x_idx]], side.pair_cost[x_idx])
    d_idx = np.nonzero(~holding & pair_on & has_general[side.pair_visit])[0]
    arcs(gen0 + side.pair_visit[d_idx], person0 + side.pair_person[d_idx], mult[side.pair_visit[d_idx]], side.pair_cost[d_idx])
    people = _present(side.pair_person[pair_on], len(capacity))
    last = arcs(person0 + people, np.ones(len(people)), capacity[people])
    pairs = np.concatenate([x_idx, d_idx])
    return _Net(
        *(np.concatenate([p[i] for p in parts]) for i in range(4)), supply=supply,
        pair_arcs=np.arange(first, first + len(pairs)), pairs=pairs,
        sink_arcs=np.arange(last, last + len(people)), people=people, person0=person0,
    )


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


def _components(side: _Side, active: np.ndarray, capacity: np.ndarray) -> tuple[int, np.ndarray]:
    """The independent parts of one matching problem: visits joined by a person who may fill places
    on both. Returns the number of parts and each visit's part (-1 for a visit nobody can join)."""
    n_visits = len(side.general)
    pair_on = active[side.pair_visit] & (capacity[side.pair_person] > 0)
    visit, person = side.pair_visit[pair_on], side.pair_person[pair_on]
    person = _dense(person, len(capacity))
    size = n_visits + (int(person.max()) + 1 if len(person) else 0)
    graph = coo_matrix((np.ones(len(visit), dtype=np.int8), (visit, n_visits + person)), shape=(size, size))
    _, label = connected_components(graph, directed=False)
    part = np.full(n_visits, -1, dtype=np.int64)
    joined = np.zeros(n_visits, dtype=bool)
    joined[visit] = True
    part[joined] = _dense(label[:n_visits][joined], size)
    return int(part.max()) + 1 if joined.any() else 0, part


def _dense(ids: np.ndarray, n: int) -> np.ndarray:
    """Small non-negative ids renumbered 0, 1, … in their order (np.unique's inverse without the sort)."""
    used = np.bincount(ids, minlength=n) > 0
    return (np.cumsum(used) - 1)[ids]


def _solve(side: _Side, active: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Max flow at least cost over the active visits; the chosen pairs as a boolean mask.

    The problem is solved part by part (visits that share no eligible person are independent
    problems: a city's units, a window's visits), which gives the same optimum as one solve, keeps
    each network small enough for OR-tools' cost scaling (max cost × nodes within int64), and keeps
    memory to the largest part. When the side holds only some of its eligible pairs (a universe),
    the solve is priced against all of them and repeated with the pairs that break the proof
    (spotcheck.plan.pricing), so the answer is that of one solve over every eligible pair.
    """
    chosen, pot = _solve_parts(side, active, capacity)
    changed = None
    while side.universe is not None:
        v, p = side.universe.violators(active, capacity, side.keys(), pot, changed)
        if not len(v):
            break
        # Only the parts the new pairs reach are solved again (and priced again); the others stand.
        parts = np.concatenate([pot.visit_part[v], pot.person_part[p]])
        touched = np.isin(pot.visit_part, parts[parts >= 0])
        touched[v] = True
        side.add(v, p)
        people = np.zeros(len(capacity), dtype=bool)
        people[side.pair_person[touched[side.pair_visit]]] = True
        changed = (touched, people)
        chosen = np.concatenate([chosen, np.zeros(len(v), dtype=bool)])
        chosen, pot = _solve_parts(side, active, capacity, (chosen, pot, touched))
    return chosen


def _solve_parts(side: _Side, active: np.ndarray, capacity: np.ndarray, before=None) -> tuple[np.ndarray, Potentials | None]:
    """Each part's optimum (and, on a priced side, its potentials). `before`: the last solve's choice and
    potentials, with the visits whose parts changed since; the other parts are taken from it."""
    chosen = np.zeros(len(side.pair_visit), dtype=bool)
    n_parts, part = _components(side, active, capacity)
    pot = None if side.universe is None else Potentials.empty(len(side.general), len(side.slot_visit), len(capacity))
    if n_parts <= 1:
        chosen[:] = _solve_part(side, active, capacity, pot, part, np.arange(len(side.general)), np.arange(len(side.slot_visit)))
        return chosen, pot
    everyone = np.ones(len(capacity), dtype=bool)
    for k in range(n_parts):
        visits = active & (part == k)
        sub, pairs = _subset(side, visits, everyone, with_pairs=True)
        visit_ids, slot_ids = np.flatnonzero(visits), np.flatnonzero(visits[side.slot_visit])
        if before is not None and not before[2][visits].any():
            chosen[pairs] = before[0][pairs]
            pot.take(before[1], visit_ids, slot_ids, _present(sub.pair_person, len(capacity)), k)
            continue
        chosen[pairs] = _solve_part(sub, np.ones(len(sub.general), dtype=bool), capacity, pot, part, visit_ids, slot_ids)
    return chosen, pot


def _solve_part(side: _Side, active: np.ndarray, capacity: np.ndarray, pot: Potentials | None = None,
                part: np.ndarray | None = None, visit_ids: np.ndarray | None = None, slot_ids: np.ndarray | None = None) -> np.ndarray:
    """One part's optimum; with `pot`, also its potentials, entered at the year's visit and slot ids."""
    chosen = np.zeros(len(side.pair_visit), dtype=bool)
    net = _network(side, active, capacity)
    if net is None:
        return chosen
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(net.tails, net.heads, net.caps, net.costs)
    flow.set_node_supply(0, net.supply)
    flow.set_node_supply(1, -net.supply)
    status = flow.solve_max_flow_with_min_cost()
    if status != flow.OPTIMAL:
        raise _solver_failure(status)
    flows = flow.flows(np.arange(len(net.tails)))
    chosen[net.pairs[flows[net.pair_arcs] > 0]] = True
    if pot is not None:
        n_visits = len(side.general)
        d, reached = residual_potentials(net.tails, net.heads, net.caps, net.costs, flows, net.person0 + len(capacity))
        here = active & (side.general > 0)
        pot.general[visit_ids[here]] = d[2 + np.flatnonzero(here)]
        pot.general_reached[visit_ids] = reached[2 : 2 + n_visits]
        # The proof prices a left-out pair as a hub of its own fed by its places (one way of writing the
        # same problem), so it needs the places' potentials only, not the hubs'.
        pot.slot[slot_ids] = d[2 + n_visits : 2 + n_visits + len(side.slot_visit)]
        pot.slot_reached[slot_ids] = reached[2 + n_visits : 2 + n_visits + len(side.slot_visit)]
        people = _present(side.pair_person, len(capacity))
        pot.person[people] = d[net.person0 + people]
        pot.person_reached[people] = reached[net.person0 + people]
        pot.visit_part[visit_ids] = np.where(active, part[visit_ids], -1)
        pot.person_part[people] = part[visit_ids[active]].max(initial=-1)
    return chosen


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


def rounds(sides: Sequence[_Side], active: np.ndarray, capacity: np.ndarray, priority: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, list[np.ndarray]]:
    """Match, fix the visits filled completely, match the rest again with what is left.

    Max flow may spread scarce places thinly over many visits. When a round completes none, the
    half of the waiting visits that come last in `priority` (a hash of the seed key and visit id)
    give way, so the capacity left goes to fewer visits, until none wait.
    Returns the chosen pairs per side, the staffed visits, and per side which visits its last
    attempt filled (to tell which side failed).
    """
    capacity = capacity.copy()
    n_visits = len(active)
    chosen = [np.zeros(len(s.pair_visit), dtype=bool) for s in sides]
    side_ok = [np.zeros(n_visits, dtype=bool) for _ in sides]
    staffed = np.zeros(n_visits, dtype=bool)
    active = active.copy()
    while active.any():
        picks = [_solve(s, active, capacity) for s in sides]
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


def _subset(side: _Side, visits: np.ndarray, people: np.ndarray, with_pairs: bool = False) -> _Side | tuple[_Side, np.ndarray]:
    """The part of a matching problem on some visits and some people, visits renumbered (and, with
    `with_pairs`, which of the problem's pairs the part's pairs are)."""
    keep_v = np.nonzero(visits)[0]
    vmap = np.full(len(side.general), -1, dtype=np.int64)
    vmap[keep_v] = np.arange(len(keep_v))
    pair_on = visits[side.pair_visit] & people[side.pair_person]
    keep_k = np.nonzero(pair_on)[0]
    kmap = np.full(len(side.pair_visit), -1, dtype=np.int64)
    kmap[keep_k] = np.arange(len(keep_k))
    slot_on = visits[side.slot_visit]
    keep_s = np.nonzero(slot_on)[0]
    smap = np.full(len(side.slot_visit), -1, dtype=np.int64)
    smap[keep_s] = np.arange(len(keep_s))
    hold_on = slot_on[side.hold_slot] & pair_on[side.hold_pair]
    part = _Side(
        general=side.general[keep_v],
        slot_visit=vmap[side.slot_visit[keep_s]],
        pair_visit=vmap[side.pair_visit[keep_k]],
        pair_person=side.pair_person[keep_k],
        pair_cost=side.pair_cost[keep_k],
        hold_slot=smap[side.hold_slot[hold_on]],
        hold_pair=kmap[side.hold_pair[hold_on]],
        mult=None if side.mult is None else side.mult[keep_v],
    )
    return (part, keep_k) if with_pairs else part


@dataclass
class Matching:
    """One side's matching problem as flow arrays, and the visits it could fill were nobody capped."""

    side: _Side
    feasible: np.ndarray

    @property
    def pairs(self) -> pl.DataFrame:
        """v, p, cost: the pairs the side holds, in its order."""
        return pl.DataFrame({"v": self.side.pair_visit, "p": self.side.pair_person, "cost": self.side.pair_cost}).cast(
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
