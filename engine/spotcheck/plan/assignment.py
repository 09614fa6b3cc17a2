"""Assignment: the min-cost max-flow that fills the teams' places, and the workload caps it runs under.

How it is chosen
  Each (visit, person) pair gets the cost int(sha256("{key}|{visit_id}|{inspector_id}")[:10], 16):
  random, fixed by the seed key, 40 bits because OR-tools' cost scaling multiplies costs by the node
  count within int64. Officers and pool members are each matched by one min-cost max-flow:
  source → visit's specialty slots (1 each) and general places (team size minus the slots) → a
  (visit, person) node (1, so nobody fills two places on one team) → person (the pair's cost) →
  sink (the person's cap). The flow fills as many places as possible at the least total cost; with
  random 40-bit costs the optimum is unique with overwhelming probability, so any exact solver gives
  the same teams. Visits filled completely (on both sides) are fixed; the others are matched again
  with the capacity left. When a round completes none, the later half of the waiting visits, in the
  order of the hash of (key, visit_id), give way.

Default caps
  With no policy.team.max_visits_per_inspector: per unit, the least cap with which the unit's own
  people can staff every visit of the unit that can be staffed at all, plus 2 (and the same for the
  pools). The search starts from the even share, the larger of ceil(places / people) over the unit
  and over each specialty's holders, and probes caps by max flow. A joint visit's department places
  count for the unit of that department (department_places), so a partner agency with no visits of
  its own is not left at the slack. So the default never leaves a visit unstaffed by itself, and
  spreads the work as evenly as the specialties allow.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
import polars_hash as plh
from ortools.graph.python import max_flow, min_cost_flow
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from spotcheck.plan.eligibility import (
    DEFAULT_SLACK,
    DEPARTMENT,
    IN_POST,
    OFFICER,
    POOL_UNIT,
    pool_kinds,
    pool_ok,
)
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.policy.loaded import LoadedPolicy

COST_HEX = 10  # 40-bit costs: OR-tools needs max cost × node count to fit in int64


def cost_expr(key: str) -> pl.Expr:
    """The hashed random cost of a (visit_id, inspector_id) pair."""
    return (
        plh.concat_str([pl.lit(key + "|"), pl.col("visit_id"), pl.lit("|"), pl.col("inspector_id")])
        .chash.sha2_256()
        .str.slice(0, COST_HEX)
        .str.to_integer(base=16)
        .cast(pl.Int64)
    )


def pair_cost(key: str, visit: str, inspector: str) -> int:
    return int(hashlib.sha256(f"{key}|{visit}|{inspector}".encode()).hexdigest()[:COST_HEX], 16)


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

    def places(self) -> np.ndarray:
        return self.general + np.bincount(self.slot_visit, minlength=len(self.general))


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


def _network(side: _Side, active: np.ndarray, capacity: np.ndarray) -> _Net | None:
    """source → specialty slot (1) / general places (count) → (visit, person) gadget (1) → person
    (pair cost) → sink (cap). A pair whose person holds none of the visit's slot specialties goes
    from the general node to the person directly. None when there is nothing to match."""
    n_visits = len(side.general)
    general = np.where(active, side.general, 0)
    slot_on = active[side.slot_visit]
    pair_on = active[side.pair_visit] & (capacity[side.pair_person] > 0)
    hold_on = slot_on[side.hold_slot] & pair_on[side.hold_pair]
    supply = int(general.sum() + slot_on.sum())
    if supply == 0 or not pair_on.any():
        return None
    gadget = np.zeros(len(side.pair_visit), dtype=bool)
    gadget[side.hold_pair[hold_on]] = True
    gadget_ids = np.cumsum(gadget) - 1
    gen0, slot0 = 2, 2 + n_visits
    x0 = slot0 + len(side.slot_visit)
    person0 = x0 + int(gadget.sum())
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
    arcs(np.zeros(len(sv)), slot0 + sv, 1)
    arcs(slot0 + side.hold_slot[hold_on], x0 + gadget_ids[side.hold_pair[hold_on]], 1)
    g_idx = np.nonzero(gadget & pair_on & has_general[side.pair_visit])[0]
    arcs(gen0 + side.pair_visit[g_idx], x0 + gadget_ids[g_idx], 1)
    x_idx = np.nonzero(gadget & pair_on)[0]
    first = arcs(x0 + gadget_ids[x_idx], person0 + side.pair_person[x_idx], 1, side.pair_cost[x_idx])
    d_idx = np.nonzero(~gadget & pair_on & has_general[side.pair_visit])[0]
    arcs(gen0 + side.pair_visit[d_idx], person0 + side.pair_person[d_idx], 1, side.pair_cost[d_idx])
    people = np.unique(side.pair_person[pair_on])
    last = arcs(person0 + people, np.ones(len(people)), capacity[people])
    pairs = np.concatenate([x_idx, d_idx])
    return _Net(
        *(np.concatenate([p[i] for p in parts]) for i in range(4)), supply=supply,
        pair_arcs=np.arange(first, first + len(pairs)), pairs=pairs,
        sink_arcs=np.arange(last, last + len(people)), people=people,
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
    people, person = np.unique(person, return_inverse=True)
    size = n_visits + len(people)
    graph = coo_matrix((np.ones(len(visit), dtype=np.int8), (visit, n_visits + person)), shape=(size, size))
    _, label = connected_components(graph, directed=False)
    part = np.full(n_visits, -1, dtype=np.int64)
    joined = np.zeros(n_visits, dtype=bool)
    joined[visit] = True
    labels, part[joined] = np.unique(label[:n_visits][joined], return_inverse=True)
    return len(labels), part


def _solve(side: _Side, active: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Max flow at least cost over the active visits; the chosen pairs as a boolean mask.

    The problem is solved part by part (visits that share no eligible person are independent
    problems: a city's units, a window's visits), which gives the same optimum as one solve, keeps
    each network small enough for OR-tools' cost scaling (max cost × nodes within int64), and keeps
    memory to the largest part.
    """
    chosen = np.zeros(len(side.pair_visit), dtype=bool)
    n_parts, part = _components(side, active, capacity)
    if n_parts <= 1:
        chosen[:] = _solve_part(side, active, capacity)
        return chosen
    everyone = np.ones(len(capacity), dtype=bool)
    for k in range(n_parts):
        visits = active & (part == k)
        sub, pairs = _subset(side, visits, everyone, with_pairs=True)
        chosen[pairs] = _solve_part(sub, np.ones(len(sub.general), dtype=bool), capacity)
    return chosen


def _solve_part(side: _Side, active: np.ndarray, capacity: np.ndarray) -> np.ndarray:
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
    chosen[net.pairs[flow.flows(net.pair_arcs) > 0]] = True
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

    def chosen(self, n_pairs: int) -> np.ndarray:
        mask = np.zeros(n_pairs, dtype=bool)
        mask[self.net.pairs[self.flow.flows(self.net.pair_arcs) > 0]] = True
        return mask


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
    )
    return (part, keep_k) if with_pairs else part


@dataclass
class Matching:
    """One side's matching problem: its eligible pairs as a frame and as flow arrays, and the visits
    it could fill were nobody capped."""

    side: _Side
    pairs: pl.DataFrame  # v, p, cost
    feasible: np.ndarray


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
    return Matching(side, pairs, feasible)


# ---------------------------------------------------------------------------------------------
# Default caps


def _share(demand: pl.DataFrame, supply: pl.DataFrame, by: list[str]) -> dict:
    """Per group of `by[0]`: the largest ceil(places / people) over the groups `by`."""
    joined = demand.join(supply, on=by, how="inner").filter(pl.col("people") > 0)
    shares = joined.with_columns(((pl.col("places") + pl.col("people") - 1) // pl.col("people")).alias("share"))
    return dict(shares.group_by(by[0]).agg(pl.col("share").max()).iter_rows())


def department_places(visits: pl.DataFrame, per_department: int) -> pl.DataFrame:
    """unit, spec (部门:<id>), places: the places of joint visits another unit's department fills.

    A joint visit keeps places for every department taking part, filled by that department's own unit
    (烟草专卖局, 邮政管理局 …); they count towards that unit's share, or a partner with no visits of its
    own would be capped at the slack and leave joint visits unstaffed."""
    return (
        visits.filter(pl.col("joint"))
        .select("inspecting_unit", pl.col("departments").alias("d"), pl.col("department_units").alias("unit"))
        .explode("d", "unit")
        .filter(pl.col("unit").is_not_null() & (pl.col("unit") != "") & (pl.col("unit") != pl.col("inspecting_unit").fill_null("")))
        .group_by("unit", (pl.lit(DEPARTMENT) + pl.col("d")).alias("spec"))
        .agg((pl.len() * per_department).cast(pl.Int64).alias("places"))
        .select("unit", "spec", "places")
    )


def even_shares(loaded: LoadedPolicy, visits: pl.DataFrame, people: pl.DataFrame) -> dict[str, int]:
    """Per unit (and for the pools): the larger of ceil(places / people) over the unit's in-post
    certified officers and over each specialty's holders among them. A lower bound of any cap that
    staffs every visit, where the search for the default cap starts."""
    units = sorted(set(people["unit"].drop_nulls().to_list()))
    certified = people.filter((pl.col("role") == OFFICER) & (pl.col("status") == IN_POST) & pl.col("certificate").is_not_null())
    home = visits.select(pl.col("inspecting_unit").alias("unit"), "_n_off", "_off_specs").drop_nulls("unit")
    guests = department_places(visits, loaded.policy.team.min_per_department)
    all_places = pl.concat([
        home.group_by("unit").agg(pl.col("_n_off").sum().alias("places")),
        guests.group_by("unit").agg(pl.col("places").sum()),
    ], how="vertical_relaxed").group_by("unit").agg(pl.col("places").sum()).with_columns(pl.lit("").alias("spec"))
    spec_places = pl.concat([
        home.select("unit", pl.col("_off_specs").alias("spec")).explode("spec").drop_nulls("spec").group_by(
            "unit", "spec").agg(pl.len().alias("places")),
        guests,
    ], how="vertical_relaxed").group_by("unit", "spec").agg(pl.col("places").sum())
    all_people = certified.group_by("unit").agg(pl.len().alias("people")).with_columns(pl.lit("").alias("spec"))
    spec_people = certified.select("unit", pl.col("specialties").alias("spec")).explode("spec").drop_nulls("spec").group_by(
        "unit", "spec").agg(pl.len().alias("people"))
    demand = pl.concat([all_places.select("unit", "spec", pl.col("places").cast(pl.Int64)),
                        spec_places.select("unit", "spec", pl.col("places").cast(pl.Int64))])
    supply = pl.concat([all_people.select("unit", "spec", pl.col("people").cast(pl.Int64)),
                        spec_people.select("unit", "spec", pl.col("people").cast(pl.Int64))])
    share = _share(demand, supply, ["unit", "spec"])
    caps = {u: share.get(u, 0) for u in units}
    kinds = pool_kinds(loaded)
    members = people.filter(pl.col("role").is_in(list(kinds)) & (pl.col("status") == IN_POST)).to_dicts()
    wanted = visits.select(pl.col("_pool_specs").alias("spec")).explode("spec").drop_nulls("spec").group_by("spec").agg(pl.len().alias("places"))
    pool_share = 0
    for spec, places in wanted.iter_rows():
        able = sum(pool_ok(m, spec, kinds) for m in members)
        if able:
            pool_share = max(pool_share, -(-places // able))
    total = int(wanted["places"].sum() or 0)
    if members:
        pool_share = max(pool_share, -(-total // len(members)))
    caps[POOL_UNIT] = pool_share
    return caps


def _least_cap(side: _Side, n_people: int, low: int) -> int:
    """The smallest per-person cap, from `low` up, with which every visit of `side` that its people
    can staff at all is staffed (galloping, then bisection, on max flow alone)."""
    n = len(side.general)
    everyone = np.ones(n, dtype=bool)
    net = _network(side, everyone, np.full(n_people, max(n, 1), dtype=np.int64))
    if net is None:
        return low
    probe = _Probe(net)
    probe.run(n)
    can = np.bincount(side.pair_visit[probe.chosen(len(side.pair_visit))], minlength=n) == side.places()
    side = _subset(side, can, np.ones(n_people, dtype=bool))
    net = _network(side, np.ones(len(side.general), dtype=bool), np.full(n_people, max(n, 1), dtype=np.int64))
    if net is None:
        return low
    probe = _Probe(net)

    def fills(cap: int) -> bool:
        return probe.run(cap) == net.supply

    if fills(low):
        return low
    step, lo, hi = 1, low, low + 1
    while not fills(hi):
        lo, step = hi, step * 2
        hi = lo + step
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if fills(mid) else (mid, hi)
    return hi


def least_caps(lower: Mapping[str, int], v: pl.DataFrame, people: pl.DataFrame, officers: Matching, pool: Matching) -> dict[str, int]:
    """Per unit, and for the pools, the least cap that staffs every visit that can be staffed,
    searched from the even share `lower`, plus the slack. Visits count for the unit in charge of
    them and its own people only: people joining joint visits come on top."""
    n_people = people.height
    person_unit = people["unit"].to_numpy()
    visit_unit = v["inspecting_unit"].to_numpy()
    caps = {u: n + DEFAULT_SLACK for u, n in lower.items()}
    for unit in sorted(set(v["inspecting_unit"].drop_nulls().to_list()) & set(caps)):
        sub = _subset(officers.side, officers.feasible & (visit_unit == unit), person_unit == unit)
        caps[unit] = _least_cap(sub, n_people, max(1, lower[unit])) + DEFAULT_SLACK
    sub = _subset(pool.side, pool.feasible, np.ones(n_people, dtype=bool))
    caps[POOL_UNIT] = _least_cap(sub, n_people, max(1, lower[POOL_UNIT])) + DEFAULT_SLACK
    return caps
