"""Default caps: how many visits each person may take when the policy does not say.

With no policy.team.max_visits_per_inspector: per unit, the least cap with which the unit's own
people can staff every visit of the unit that can be staffed at all, plus 2 (and the same for the
pools). The search starts from the even share, the larger of ceil(places / people) over the unit
and over each specialty's holders, and probes caps by max flow over classes of identical visits
(classes(): exact for max flow, and small). A joint visit's department places count for the unit
of that department (department_places), so a partner agency with no visits of its own is not left
at the slack. So the default never leaves a visit unstaffed by itself, and spreads the work as
evenly as the specialties allow.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import polars as pl
from spotcheck.plan.assignment import Matching, _Probe
from spotcheck.plan.network import _network, _Side, _subset
from spotcheck.plan.eligibility import DEFAULT_SLACK, DEPARTMENT, IN_POST, OFFICER, POOL_UNIT, pool_kinds, pool_ok
from spotcheck.policy.loaded import LoadedPolicy


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
    big = max(int(side.mult.sum()) if side.mult is not None else n, 1)
    net = _network(side, everyone, np.full(n_people, big, dtype=np.int64))
    if net is None:
        return low
    probe = _Probe(net)
    probe.run(big)
    side = _subset(side, probe.filled(side), np.ones(n_people, dtype=bool))
    net = _network(side, np.ones(len(side.general), dtype=bool), np.full(n_people, big, dtype=np.int64))
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


def class_labels(side: _Side) -> np.ndarray:
    """Per visit of a priced side, its class: same general places, same specialty places, same allowed
    units, same date (so the same certificates), and no recusal or rotation of its own (such a visit
    is a class alone). Each visit is one row of integers (its blocks and its places' specialties sorted,
    -1 beyond them) and the rows are sorted and told apart: ranking structs of lists in polars took
    about 0.65 s of CPU at a million entities."""
    u = side.universe
    n = len(side.general)
    alone = np.zeros(n, dtype=bool)
    alone[u.banned // u.n_people] = True
    block_v = np.concatenate([b for b, _ in u.blocks]) if u.blocks else np.zeros(0, dtype=np.int64)
    block = np.repeat(np.arange(len(u.blocks)), [len(b) for b, _ in u.blocks])
    rows = np.column_stack([side.general, u.inspect_by, np.where(alone, np.arange(n), -1),
                            _sorted_rows(block_v, block, n), _sorted_rows(u.slot_visit, u.slot_spec, n)])
    order = np.lexsort(rows.T[::-1])
    new = np.ones(n, dtype=bool)
    new[1:] = (rows[order[1:]] != rows[order[:-1]]).any(axis=1)
    labels = np.empty(n, dtype=np.int64)
    labels[order] = np.cumsum(new)
    return labels


def _sorted_rows(owner: np.ndarray, value: np.ndarray, n: int) -> np.ndarray:
    """Per owner 0..n-1, its values sorted, as one row each (-1 beyond them)."""
    order = np.lexsort((value, owner))
    owner, value = owner[order], value[order]
    rank = np.arange(len(owner)) - np.searchsorted(owner, np.arange(n))[owner]
    out = np.full((n, int(rank.max()) + 1 if len(rank) else 0), -1, dtype=np.int64)
    out[owner, rank] = value
    return out


def classes(side: _Side, visits: np.ndarray, people: np.ndarray, labels: np.ndarray | None = None) -> _Side:
    """The visits `visits` of a priced side, with only the people `people`, as classes of identical
    visits (class_labels): each class is one visit standing for its size (mult), joined to every
    person eligible for it.

    Max flow over the classes equals max flow over the visits one by one: a class's flow spread
    evenly over its visits is a fractional flow of the visits', and flows are integral. A unit of a
    city is a few dozen classes instead of tens of thousands of visits × hundreds of officers."""
    u = side.universe
    labels = class_labels(side) if labels is None else labels
    ids = np.flatnonzero(visits)
    _, first, mult = np.unique(labels[ids], return_index=True, return_counts=True)
    reps = np.sort(ids[first])
    mult = mult[np.argsort(ids[first])]
    keep = np.zeros(len(side.general), dtype=bool)
    keep[reps] = True
    vs, ps = [], []
    for vc, persons, _, ok in u.chunks(keep, people):
        r, c = np.nonzero(ok)
        vs.append(vc[r]), ps.append(persons[c])
    v = np.concatenate(vs) if vs else np.zeros(0, dtype=np.int64)
    p = np.concatenate(ps) if ps else np.zeros(0, dtype=np.int64)
    slot_on = keep[u.slot_visit]
    renumber = np.full(len(side.general), -1, dtype=np.int64)
    renumber[reps] = np.arange(len(reps))
    slot_ids = np.full(len(u.slot_visit), -1, dtype=np.int64)
    slot_ids[slot_on] = np.arange(int(slot_on.sum()))
    hold_slot, hold_pair = u.holdings(v, p)
    return _Side(
        general=side.general[reps], slot_visit=renumber[u.slot_visit[slot_on]],
        pair_visit=renumber[v], pair_person=p, pair_cost=np.zeros(len(v), dtype=np.int64),
        hold_slot=slot_ids[hold_slot], hold_pair=hold_pair, mult=mult.astype(np.int64),
    )


def least_caps(lower: Mapping[str, int], v: pl.DataFrame, people: pl.DataFrame, officers: Matching, pool: Matching) -> dict[str, int]:
    """Per unit, and for the pools, the least cap that staffs every visit that can be staffed,
    searched from the even share `lower`, plus the slack. Visits count for the unit in charge of
    them and its own people only: people joining joint visits come on top."""
    n_people = people.height
    caps = {u: n + DEFAULT_SLACK for u, n in lower.items()}
    units = sorted(set(v["inspecting_unit"].unique().drop_nulls().to_list()) & set(caps))
    # Each unit as its place among them (-1: none of them): a province's millions of visits are compared
    # with an integer per unit, not a name (a Python string comparison per visit and unit took seconds).
    place = {unit: k for k, unit in enumerate(units)}
    person_unit, visit_unit = (column.replace_strict(place, default=-1, return_dtype=pl.Int64).to_numpy()
                               for column in (people["unit"], v["inspecting_unit"]))
    labels = class_labels(officers.side) if officers.side.universe is not None else None
    for k, unit in enumerate(units):
        mine = officers.feasible & (visit_unit == k)
        sub = (classes(officers.side, mine, person_unit == k, labels) if labels is not None
               else _subset(officers.side, mine, person_unit == k))
        caps[unit] = _least_cap(sub, n_people, max(1, lower[unit])) + DEFAULT_SLACK
    sub = _subset(pool.side, pool.feasible, np.ones(n_people, dtype=bool))
    caps[POOL_UNIT] = _least_cap(sub, n_people, max(1, lower[POOL_UNIT])) + DEFAULT_SLACK
    return caps
