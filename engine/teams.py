"""Teams: staff every visit with inspectors matched at random, reproducibly from the draw's seed.

Who may be on a visit's team
  - 执法人员 (role 执法人员, or no role given): status 在岗; holds an enforcement certificate valid
    on the visit's planned check date, inspect_by (certificate_expires on or after it; an empty
    expiry with a certificate number is an open-ended “长期” certificate); works for the visit's
    inspecting unit (jurisdiction.districts) or, on a joint visit, for its lead unit when the
    inspector directory has people under exactly that unit name (“联查邀约”: the leading department
    sends its own people); not on the entity's recusal list.
  - 专家 / 第三方机构: from the jurisdiction-wide pools (policy.team.pools; with no pools declared,
    every 专家 and 第三方机构 of the directory), status 在岗, not recused, holding the specialty the
    item needs where the pool allows it. They hold no enforcement certificate and are not counted
    in the team's minimum size: administrative law asks for two enforcement officers.

What a team must be
  - at least policy.team.min_size officers (national floor 2);
  - each specialty needed by the visit's items (Item.specialty) covered by an officer of its own,
    so a visit needing more specialties than min_size gets a larger team; the specialty of an item
    that needs a specialist (Item.specialist) is covered by the pool member instead;
  - one pool member per specialty of the items needing a specialist;
  - nobody beyond their workload cap: policy.team.max_visits_per_inspector when the policy sets
    one; otherwise, per unit, the least cap with which the unit's own people can staff every visit
    of the unit that can be staffed at all, plus 2 (and the same for the pools). The search starts
    from the even share, the larger of ceil(places / people) over the unit and over each
    specialty's holders, and probes caps by max flow. So the default never leaves a visit
    unstaffed by itself, and spreads the work as evenly as the specialties allow;
  - the 主查 (lead) is not the entity's last recorded lead inspector when policy.team.rotate_lead
    (a one-officer team excludes that inspector altogether).

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
  order of the hash of (key, visit_id), give way. The 主查 is the team's cheapest officer, the
  inspecting unit's own people first, never the entity's last lead.
  A visit that cannot be staffed keeps no partial team and gets the reason in Chinese.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
import polars_hash as plh
from ortools.graph.python import max_flow, min_cost_flow
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.loader import LoadedPolicy

OFFICER = "执法人员"
IN_POST = "在岗"
LEAD, MEMBER = "主查", "组员"
POOL_KINDS = ("专家", "第三方机构")
ROLE_ORDER = {LEAD: 0, MEMBER: 1, "专家": 2, "第三方机构": 3}
POOL_UNIT = "专家库、第三方机构库"  # the cap key of pool members
DEFAULT_SLACK = 2
COST_HEX = 10  # 40-bit costs: OR-tools needs max cost × node count to fit in int64
TEAM_COLUMNS = ("visit_id", "inspector_id", "name", "unit", "role")


@dataclass(frozen=True)
class Needs:
    """What one visit's items ask of its team."""

    officers: int
    officer_specialties: tuple[str, ...]
    pool_specialties: tuple[str, ...]  # "" = any pool member


def needs_of(loaded: LoadedPolicy, item_codes: Sequence[str]) -> Needs:
    items = [loaded.items[c] for c in item_codes if c in loaded.items]
    pool = list(dict.fromkeys(i.specialty or "" for i in items if i.specialist))
    officer = [s for s in dict.fromkeys(i.specialty for i in items if i.specialty and not i.specialist) if s not in pool]
    return Needs(max(loaded.policy.team.min_size, len(officer)), tuple(officer), tuple(pool))


@dataclass(frozen=True)
class Staffing:
    """The teams of a draw's visits. `outcome`: visit_id, staffed, reason, one row per visit."""

    teams: pl.DataFrame  # TEAM_COLUMNS
    outcome: pl.DataFrame
    caps: dict[str, int]

    def workload(self) -> dict[str, int]:
        return workload_of(self.teams)

    def summary(self) -> dict:
        staffed = self.outcome.filter(pl.col("staffed")).height
        reasons = (
            self.outcome.filter(~pl.col("staffed")).group_by("reason").agg(pl.len()).sort(["len", "reason"], descending=[True, False])
        )
        return {
            "staffed": staffed,
            "unstaffed": self.outcome.height - staffed,
            "unstaffed_reasons": dict(reasons.iter_rows()),
            "members": self.teams.height,
            "inspectors_used": self.teams["inspector_id"].n_unique(),
            "caps": self.caps,
            "workload": workload_summary(self.teams),
        }


def workload_of(teams: pl.DataFrame) -> dict[str, int]:
    """Visits per inspector, by inspector id."""
    return dict(teams.group_by("inspector_id").agg(pl.len()).sort("inspector_id").iter_rows())


def workload_summary(teams: pl.DataFrame) -> dict:
    load = workload_of(teams)
    values = sorted(load.values())
    return {
        "max": values[-1] if values else 0,
        "min": values[0] if values else 0,
        "median": values[len(values) // 2] if values else 0,
        "per_inspector": load,
    }


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
# People and eligibility


def people_frame(inspectors: pl.DataFrame) -> pl.DataFrame:
    """The inspector directory as the matcher reads it, sorted by id (file order must not matter)."""
    return (
        inspectors.select("inspector_id", "name", "unit", "status", "certificate", "certificate_expires", "specialties", "role")
        .with_columns(pl.col("role").fill_null(OFFICER), pl.col("specialties").fill_null([]))
        .sort("inspector_id")
        .with_row_index("p")
    )


def pool_kinds(loaded: LoadedPolicy) -> dict[str, frozenset[str] | None]:
    """Pool kind → the specialties it may serve (None: any)."""
    pools = loaded.policy.team.pools
    if not pools:
        return {k: None for k in POOL_KINDS}
    out: dict[str, frozenset[str] | None] = {}
    for pool in pools:
        if not pool.specialties or out.get(pool.kind, frozenset()) is None:
            out[pool.kind] = None
        else:
            out[pool.kind] = out.get(pool.kind, frozenset()) | frozenset(pool.specialties)
    return out


def officer_ok(person: Mapping, inspect_by: dt.date) -> bool:
    """In post, certified through the planned check date."""
    return (
        person["role"] == OFFICER
        and person["status"] == IN_POST
        and person["certificate"] is not None
        and (person["certificate_expires"] is None or person["certificate_expires"] >= inspect_by)
    )


def pool_ok(person: Mapping, specialty: str, kinds: Mapping[str, frozenset[str] | None]) -> bool:
    if person["status"] != IN_POST or person["role"] not in kinds:
        return False
    if not specialty:
        return True
    allowed = kinds[person["role"]]
    return specialty in (person["specialties"] or []) and (allowed is None or specialty in allowed)


def allowed_units(visit: Mapping, directory_units: frozenset[str]) -> list[str]:
    units = [visit["inspecting_unit"]] if visit["inspecting_unit"] else []
    lead = visit.get("lead_unit")
    if visit.get("joint") and lead and lead in directory_units and lead not in units:
        units.append(lead)
    return units


def _share(demand: pl.DataFrame, supply: pl.DataFrame, by: list[str]) -> dict:
    """Per group of `by[0]`: the largest ceil(places / people) over the groups `by`."""
    joined = demand.join(supply, on=by, how="inner").filter(pl.col("people") > 0)
    shares = joined.with_columns(((pl.col("places") + pl.col("people") - 1) // pl.col("people")).alias("share"))
    return dict(shares.group_by(by[0]).agg(pl.col("share").max()).iter_rows())


def even_shares(loaded: LoadedPolicy, visits: pl.DataFrame, people: pl.DataFrame) -> dict[str, int]:
    """Per unit (and for the pools): the larger of ceil(places / people) over the unit's in-post
    certified officers and over each specialty's holders among them. A lower bound of any cap that
    staffs every visit, where the search for the default cap starts."""
    units = sorted(set(people["unit"].drop_nulls().to_list()))
    certified = people.filter((pl.col("role") == OFFICER) & (pl.col("status") == IN_POST) & pl.col("certificate").is_not_null())
    home = visits.select(pl.col("inspecting_unit").alias("unit"), "_n_off", "_off_specs").drop_nulls("unit")
    all_places = home.group_by("unit").agg(pl.col("_n_off").sum().alias("places")).with_columns(pl.lit("").alias("spec"))
    spec_places = home.select("unit", pl.col("_off_specs").alias("spec")).explode("spec").drop_nulls("spec").group_by(
        "unit", "spec").agg(pl.len().alias("places"))
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


def cap_of(person: Mapping, caps: Mapping[str, int]) -> int:
    key = POOL_UNIT if person["role"] in POOL_KINDS else person["unit"]
    return caps.get(key, DEFAULT_SLACK)


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


def _solve(side: _Side, active: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Max flow at least cost over the active visits; the chosen pairs as a boolean mask."""
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
        raise SpotcheckError(Problem("T811", f"检查人员匹配求解失败（{status}）", hint="请将抽取结果目录与名录文件报告给维护人员"))
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
            raise SpotcheckError(Problem("T811", f"检查人员匹配求解失败（{status}）", hint="请将抽取结果目录与名录文件报告给维护人员"))
        return self.flow.optimal_flow()

    def chosen(self, n_pairs: int) -> np.ndarray:
        mask = np.zeros(n_pairs, dtype=bool)
        mask[self.net.pairs[self.flow.flows(self.net.pair_arcs) > 0]] = True
        return mask


def _rounds(sides: Sequence[_Side], active: np.ndarray, capacity: np.ndarray, priority: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, list[np.ndarray]]:
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


def _subset(side: _Side, visits: np.ndarray, people: np.ndarray) -> _Side:
    """The part of a matching problem on some visits and some people, visits renumbered."""
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
    return _Side(
        general=side.general[keep_v],
        slot_visit=vmap[side.slot_visit[keep_s]],
        pair_visit=vmap[side.pair_visit[keep_k]],
        pair_person=side.pair_person[keep_k],
        pair_cost=side.pair_cost[keep_k],
        hold_slot=smap[side.hold_slot[hold_on]],
        hold_pair=kmap[side.hold_pair[hold_on]],
    )


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


def _least_caps(lower: Mapping[str, int], v: pl.DataFrame, people: pl.DataFrame, officers: _Built, pool: _Built) -> dict[str, int]:
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


# ---------------------------------------------------------------------------------------------
# Staffing a draw


def staff(
    loaded: LoadedPolicy,
    visits: pl.DataFrame,
    inspectors: pl.DataFrame,
    recusals: pl.DataFrame | None,
    *,
    key: str,
    previous_leads: Mapping[str, str],
) -> Staffing:
    """Teams for `visits` (visit_id, uscc, district, inspecting_unit, lead_unit, joint, item_codes,
    inspect_by); pure. `previous_leads`: uscc → the lead inspector of its last recorded visit."""
    team = loaded.policy.team
    people = people_frame(inspectors)
    recused = (
        recusals.select("inspector_id", "uscc").unique()
        if recusals is not None
        else pl.DataFrame(schema={"inspector_id": pl.String, "uscc": pl.String})
    )
    kinds = pool_kinds(loaded)
    needs = {codes: needs_of(loaded, codes) for codes in set(map(tuple, visits["item_codes"].to_list()))}
    v = visits.with_row_index("v").with_columns(
        pl.col("item_codes").map_elements(lambda c: needs[tuple(c)].officers, return_dtype=pl.Int64).alias("_n_off"),
        pl.col("item_codes").map_elements(lambda c: list(needs[tuple(c)].officer_specialties), return_dtype=pl.List(pl.String)).alias("_off_specs"),
        pl.col("item_codes").map_elements(lambda c: list(needs[tuple(c)].pool_specialties), return_dtype=pl.List(pl.String)).alias("_pool_specs"),
        pl.col("uscc").replace_strict(dict(previous_leads), default=None, return_dtype=pl.String).alias("_prev"),
    )
    officers = _officer_side(v, people, recused, team.rotate_lead, key)
    pool = _pool_side(v, people, recused, kinds, key)
    sides = [officers.side, pool.side]
    if team.max_visits_per_inspector is not None:
        caps = {u: team.max_visits_per_inspector for u in [*sorted(set(people["unit"].drop_nulls())), POOL_UNIT]}
    else:
        caps = _least_caps(even_shares(loaded, v, people), v, people, officers, pool)
    capacity = np.array([cap_of(r, caps) for r in people.select("role", "unit").iter_rows(named=True)], dtype=np.int64)
    static_ok = officers.feasible & pool.feasible
    # A visit's place in the queue when places run short: the cost of the pair (visit, "").
    priority = v.select("visit_id", pl.lit("").alias("inspector_id")).select(cost_expr(key))[:, 0].to_numpy()
    chosen, staffed, side_ok = _rounds(sides, static_ok, capacity, priority)

    teams = _team_rows(v, people, officers, pool, chosen, team.rotate_lead)
    failed = [~officers.feasible | (static_ok & ~side_ok[0]), ~pool.feasible | (static_ok & ~side_ok[1])]
    reasons = _reasons(loaded, v, people, recused, kinds, caps, staffed, failed)
    outcome = v.select("visit_id").with_columns(
        pl.Series("staffed", staffed), pl.Series("reason", reasons, dtype=pl.String)
    )
    return Staffing(teams, outcome, caps)


@dataclass
class _Built:
    side: _Side
    pairs: pl.DataFrame  # v, p, cost
    feasible: np.ndarray


def _slots(v: pl.DataFrame, column: str) -> pl.DataFrame:
    return (
        v.select("v", pl.col(column).alias("spec")).explode("spec").drop_nulls("spec").with_row_index("s")
    )


def _finish(v: pl.DataFrame, pairs: pl.DataFrame, slots: pl.DataFrame, holders: pl.DataFrame, general: np.ndarray) -> _Built:
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
    return _Built(side, pairs, feasible)


def _officer_side(v: pl.DataFrame, people: pl.DataFrame, recused: pl.DataFrame, rotate: bool, key: str) -> _Built:
    directory_units = frozenset(people["unit"].drop_nulls().to_list())
    home = v.select("v", pl.col("inspecting_unit").alias("unit")).drop_nulls("unit")
    guests = v.filter(
        pl.col("joint") & pl.col("lead_unit").is_in(list(directory_units)) & (pl.col("lead_unit") != pl.col("inspecting_unit").fill_null(""))
    ).select("v", pl.col("lead_unit").alias("unit"))
    units = pl.concat([home, guests]).unique(maintain_order=True)
    officers = people.filter(
        (pl.col("role") == OFFICER) & (pl.col("status") == IN_POST) & pl.col("certificate").is_not_null()
    ).select("p", "inspector_id", "unit", "certificate_expires")
    pairs = (
        units.join(officers, on="unit")
        .join(v.select("v", "visit_id", "uscc", "inspect_by", "_n_off", "_prev"), on="v")
        .filter(pl.col("certificate_expires").is_null() | (pl.col("certificate_expires") >= pl.col("inspect_by")))
        .join(recused, on=["inspector_id", "uscc"], how="anti")
    )
    if rotate:
        pairs = pairs.filter(~((pl.col("_n_off") == 1) & (pl.col("inspector_id") == pl.col("_prev").fill_null(""))))
    pairs = pairs.select("v", "p", cost_expr(key).alias("cost"))
    slots = _slots(v, "_off_specs")
    skills = people.select("p", pl.col("specialties").alias("spec")).explode("spec").drop_nulls("spec")
    holders = slots.join(pairs.select("v", "p"), on="v").join(skills, on=["p", "spec"], how="semi").select("s", "v", "p")
    general = (v["_n_off"] - v["_off_specs"].list.len()).clip(lower_bound=0).to_numpy().astype(np.int64)
    return _finish(v, pairs, slots, holders, general)


def _pool_side(v: pl.DataFrame, people: pl.DataFrame, recused: pl.DataFrame, kinds: Mapping, key: str) -> _Built:
    slots = _slots(v, "_pool_specs")
    members = people.filter(pl.col("role").is_in(list(kinds)) & (pl.col("status") == IN_POST))
    qualified = pl.DataFrame(
        [
            {"p": r["p"], "spec": s}
            for r in members.iter_rows(named=True)
            for s in ["", *(r["specialties"] or [])]
            if pool_ok(r, s, kinds)
        ],
        schema={"p": pl.UInt32, "spec": pl.String},
    )
    holders = (
        slots.join(qualified, on="spec")
        .join(v.select("v", "visit_id", "uscc"), on="v")
        .join(members.select("p", "inspector_id"), on="p")
        .join(recused, on=["inspector_id", "uscc"], how="anti")
    )
    pairs = holders.unique(["v", "p"]).select("v", "p", cost_expr(key).alias("cost"))
    return _finish(v, pairs, slots, holders.select("s", "v", "p"), np.zeros(v.height, dtype=np.int64))


def _team_rows(v: pl.DataFrame, people: pl.DataFrame, officers: _Built, pool: _Built, chosen: list[np.ndarray], rotate: bool) -> pl.DataFrame:
    person = people.select("p", "inspector_id", "name", "unit", "role")
    off = officers.pairs.filter(pl.Series(chosen[0])).join(person, on="p").join(
        v.select("v", "visit_id", "inspecting_unit", "_prev"), on="v"
    )
    off = off.with_columns(
        (pl.col("inspector_id") == pl.col("_prev")).fill_null(False).alias("_was_lead") if rotate else pl.lit(False).alias("_was_lead"),
        (pl.col("unit") != pl.col("inspecting_unit")).fill_null(True).alias("_guest"),
    ).sort(["v", "_was_lead", "_guest", "cost"])
    off = off.with_columns(
        pl.when(pl.int_range(pl.len()).over("v") == 0).then(pl.lit(LEAD)).otherwise(pl.lit(MEMBER)).alias("role")
    )
    extra = pool.pairs.filter(pl.Series(chosen[1])).join(person, on="p").join(v.select("v", "visit_id"), on="v")
    cols = ["v", "visit_id", "inspector_id", "name", "unit", "role", "cost"]
    rows = pl.concat([off.select(cols), extra.select(cols)])
    return (
        rows.with_columns(pl.col("role").replace_strict(ROLE_ORDER, return_dtype=pl.Int64).alias("_r"))
        .sort(["v", "_r", "inspector_id"])
        .select(TEAM_COLUMNS)
    )


# ---------------------------------------------------------------------------------------------
# Why a visit has no team


def _reasons(loaded, v, people, recused, kinds, caps, staffed, failed) -> list[str | None]:
    out: list[str | None] = [None] * v.height
    todo = np.nonzero(~staffed)[0]
    if len(todo) == 0:
        return out
    rows = people.to_dicts()
    by_unit: dict[str, list[dict]] = {}
    for r in rows:
        by_unit.setdefault(r["unit"], []).append(r)
    pool_people = [r for r in rows if r["role"] in kinds]
    directory_units = frozenset(by_unit)
    recusal = set(recused.iter_rows())
    rotate = loaded.policy.team.rotate_lead
    records = v.to_dicts()
    for i in todo:
        visit = records[i]
        parts = []
        if failed[0][i]:
            parts.append(_officer_reason(visit, by_unit, directory_units, recusal, rotate, caps))
        if failed[1][i]:
            parts.append(_pool_reason(visit, pool_people, recusal, kinds, caps))
        out[i] = "；".join(p for p in parts if p) or "符合条件的人员均已达到工作量上限"
    return out


def _officer_reason(visit, by_unit, directory_units, recusal, rotate, caps) -> str:
    need = visit["_n_off"]
    if not visit["inspecting_unit"]:
        return f"主体所在辖区“{visit['district']}”未在策略中指定负责检查的单位"
    units = allowed_units(visit, directory_units)
    staff = [r for u in units for r in by_unit.get(u, []) if r["role"] == OFFICER]
    where = "、".join(units)
    in_post = [r for r in staff if r["status"] == IN_POST]
    if len(in_post) < need:
        return f"{where}在岗执法人员不足 {need} 人（仅 {len(in_post)} 人）"
    certified = [r for r in in_post if officer_ok(r, visit["inspect_by"])]
    if len(certified) < need:
        return f"{where}执法证在 {visit['inspect_by']} 仍有效的在岗执法人员不足 {need} 人（仅 {len(certified)} 人）"
    free = [r for r in certified if (r["inspector_id"], visit["uscc"]) not in recusal]
    if len(free) < need:
        return f"回避后人数不足（需 {need} 人，回避后仅 {len(free)} 人）"
    for spec in visit["_off_specs"]:
        if not any(spec in (r["specialties"] or []) for r in free):
            return f"该单位无具备“{spec}”专业的在岗执法人员"
    if rotate and need == 1 and [r["inspector_id"] for r in free] == [visit["_prev"]]:
        return "除上次检查的主查人外无其他符合条件的执法人员"
    if _distinct_cover(visit["_off_specs"], free, lambda p, s: s in (p["specialties"] or [])):
        return "具备所需专业的执法人员人数不足，无法由不同人员分别承担各专业事项"
    cap = max(caps.get(u, DEFAULT_SLACK) for u in units)
    return f"符合条件的执法人员均已达到工作量上限（每人最多 {cap} 户）"


def _pool_reason(visit, pool_people, recusal, kinds, caps) -> str:
    for spec in visit["_pool_specs"]:
        label = f"具备“{spec}”专业的" if spec else ""
        able = [r for r in pool_people if pool_ok(r, spec, kinds)]
        if not able:
            return f"{POOL_UNIT}中无{label}在岗人员"
        if all((r["inspector_id"], visit["uscc"]) in recusal for r in able):
            return f"回避后{POOL_UNIT}中无{label}人员"
    free = [r for r in pool_people if (r["inspector_id"], visit["uscc"]) not in recusal]
    if _distinct_cover(visit["_pool_specs"], free, lambda p, s: pool_ok(p, s, kinds)):
        return f"{POOL_UNIT}中具备所需专业的人员不足，无法由不同人员分别承担各专业事项"
    return f"{POOL_UNIT}中符合条件的人员均已达到工作量上限（每人最多 {caps.get(POOL_UNIT, DEFAULT_SLACK)} 户）"


def to_csv(teams: pl.DataFrame) -> bytes:
    return teams.select(TEAM_COLUMNS).write_csv().encode("utf-8")


# ---------------------------------------------------------------------------------------------
# Replacing one member


@dataclass(frozen=True)
class Swap:
    teams: pl.DataFrame
    role: str
    person: Mapping  # the incoming inspector's directory row


def swap(teams: pl.DataFrame, visit_id: str, out_inspector: str, person: Mapping) -> pl.DataFrame:
    """The teams with `out_inspector` replaced on one visit; the newcomer takes over the role."""
    hit = (pl.col("visit_id") == visit_id) & (pl.col("inspector_id") == out_inspector)
    frame = teams.select(TEAM_COLUMNS).with_row_index("_i").with_columns(
        pl.when(hit).then(pl.lit(person["inspector_id"])).otherwise(pl.col("inspector_id")).alias("inspector_id"),
        pl.when(hit).then(pl.lit(person["name"])).otherwise(pl.col("name")).alias("name"),
        pl.when(hit).then(pl.lit(person["unit"])).otherwise(pl.col("unit")).alias("unit"),
    )
    return (
        frame.with_columns(
            pl.col("_i").min().over("visit_id").alias("_v"),
            pl.col("role").replace_strict(ROLE_ORDER, return_dtype=pl.Int64).alias("_r"),
        )
        .sort(["_v", "_r", "inspector_id"])
        .select(TEAM_COLUMNS)
    )


def _distinct_cover(required: Sequence[str], members: Sequence[Mapping], can) -> list[str]:
    """The required specialties no assignment of distinct members can cover (augmenting paths)."""
    holder: dict[int, int] = {}

    def place(r: int, seen: set[int]) -> bool:
        for m, person in enumerate(members):
            if m in seen or not can(person, required[r]):
                continue
            seen.add(m)
            if m not in holder or place(holder[m], seen):
                holder[m] = r
                return True
        return False

    return [spec for r, spec in enumerate(required) if not place(r, set())]


def check_swap(
    loaded: LoadedPolicy,
    visits: pl.DataFrame,
    teams: pl.DataFrame,
    inspectors: pl.DataFrame,
    recusals: pl.DataFrame | None,
    *,
    visit_id: str,
    out_inspector: str,
    in_inspector: str,
    caps: Mapping[str, int],
    previous_leads: Mapping[str, str],
) -> Swap:
    """Check that `in_inspector` may replace `out_inspector` on the visit under every rule the matcher
    applies (SpotcheckError T822–T826 with each reason otherwise) and return the new teams."""
    where = f"检查 '{visit_id}'"
    found = visits.filter(pl.col("visit_id") == visit_id)
    if found.height != 1:
        raise SpotcheckError(Problem("T822", f"本次抽取中没有检查 {visit_id}", where=where, hint="检查编号见 visits.csv"))
    visit = found.row(0, named=True)
    if not visit["staffed"]:
        raise SpotcheckError(Problem("T826", f"检查 {visit_id} 未配齐检查组（{visit['reason']}），没有可更换的人员", where=where))
    team = teams.filter(pl.col("visit_id") == visit_id)
    out_rows = team.filter(pl.col("inspector_id") == out_inspector)
    if out_rows.height != 1:
        raise SpotcheckError(Problem("T823", f"{out_inspector} 不在检查 {visit_id} 的检查组中", where=where,
                                     hint=f"该检查组：{'、'.join(team['inspector_id'].to_list())}"))
    people = people_frame(inspectors)
    found = people.filter(pl.col("inspector_id") == in_inspector)
    if found.height != 1:
        raise SpotcheckError(Problem("T824", f"执法检查人员名录中没有 {in_inspector}", where=where, hint="核对人员编号"))
    person = found.row(0, named=True)
    role = out_rows["role"][0]
    reasons: list[str] = []
    if in_inspector in team["inspector_id"].to_list():
        reasons.append("已在该检查组中")
    recused = recusals is not None and recusals.filter(
        (pl.col("inspector_id") == in_inspector) & (pl.col("uscc") == visit["uscc"])
    ).height > 0
    needs = needs_of(loaded, visit["item_codes"])
    by_id = {r["inspector_id"]: r for r in people.iter_rows(named=True)}
    stays = [by_id[i] for i in team["inspector_id"].to_list() if i != out_inspector and i in by_id]
    if role in (LEAD, MEMBER):
        inspect_by = visit["inspect_by"]
        if person["role"] != OFFICER:
            reasons.append(f"不是执法人员（人员类别：{person['role']}）")
        if person["status"] != IN_POST:
            reasons.append(f"不在岗（状态：{person['status']}）")
        if person["certificate"] is None:
            reasons.append("无执法证")
        elif person["certificate_expires"] is not None and person["certificate_expires"] < inspect_by:
            reasons.append(f"执法证 {person['certificate_expires']} 到期，早于检查完成期限 {inspect_by}")
        units = allowed_units(visit, frozenset(people["unit"].drop_nulls().to_list()))
        if person["unit"] not in units:
            reasons.append(f"所属单位“{person['unit']}”不负责该检查（应为 {'、'.join(units) or '策略指定的单位'}）")
        if role == LEAD and loaded.policy.team.rotate_lead and previous_leads.get(visit["uscc"]) == in_inspector:
            reasons.append("是该主体上次检查的主查人，不得连续担任主查")
        officers = [p for p in stays if p["role"] == OFFICER] + [person]
        missing = _distinct_cover(needs.officer_specialties, officers, lambda p, s: s in (p["specialties"] or []))
        reasons += [f"更换后检查组缺少具备“{s}”专业的执法人员" for s in missing]
    else:
        kinds = pool_kinds(loaded)
        if person["role"] not in kinds:
            reasons.append(f"不在{POOL_UNIT}中（人员类别：{person['role']}）")
        if person["status"] != IN_POST:
            reasons.append(f"不在岗（状态：{person['status']}）")
        members = [p for p in stays if p["role"] in POOL_KINDS] + [person]
        missing = _distinct_cover(needs.pool_specialties, members, lambda p, s: pool_ok(p, s, kinds))
        reasons += [f"更换后检查组缺少具备“{s}”专业的专家或第三方机构" if s else "更换后检查组缺少专家或第三方机构" for s in missing]
    if recused:
        reasons.append("在该主体的回避名单上")
    load = teams.filter(pl.col("inspector_id") == in_inspector).height
    cap = cap_of(person, caps)
    if load >= cap:
        reasons.append(f"已安排 {load} 户，达到工作量上限 {cap} 户")
    if reasons:
        raise SpotcheckError([
            Problem("T825", f"{in_inspector}（{person['name']}）不能接替 {out_inspector}：{r}", where=where,
                    hint="另选符合条件的人员")
            for r in reasons
        ])
    return Swap(swap(teams, visit_id, out_inspector, person), role, person)
