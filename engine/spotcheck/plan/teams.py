"""Teams: staff every visit with inspectors matched at random, reproducibly from the draw's seed.

staff() puts the stages together: the eligible (visit, person) pairs of the officers and of the pools
(the rules of spotcheck.plan.eligibility, applied to whole frames), the caps and the matching
(spotcheck.plan.assignment), the team rows, and why each visit left without a team has none.
The 主查 is the team's cheapest officer, the inspecting unit's own people first, never the entity's
last lead. A visit that cannot be staffed keeps no partial team and gets the reason in Chinese.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from spotcheck.plan import costs, flows
from spotcheck.plan.assignment import Matching, matching, priced_matching, rounds
from spotcheck.plan.caps import even_shares, least_caps
from spotcheck.plan.costs import mixed
from spotcheck.plan.pricing import Universe, distinct
from spotcheck.plan.eligibility import (
    DEFAULT_SLACK,
    DEPARTMENT,
    IN_POST,
    LEAD,
    MEMBER,
    OFFICER,
    OPEN_ENDED,
    POOL_UNIT,
    cap_of,
    days,
    distinct_cover,
    needs_of,
    officer_ok,
    people_frame,
    pool_kinds,
    pool_ok,
    serving_officers,
    serving_pool,
    visit_units,
)
from spotcheck.policy.loaded import LoadedPolicy

ROLE_ORDER = {LEAD: 0, MEMBER: 1, "专家": 2, "第三方机构": 3}
# certificate: the enforcement certificate number the 随机抽查通知书 names (empty for experts and institutions).
TEAM_COLUMNS = ("visit_id", "inspector_id", "name", "unit", "role", "certificate")


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
    if visits.height == 0:
        # A draw that took nobody (every scope empty that month) still gets its plan: no visits, no teams.
        return Staffing(pl.DataFrame(schema={c: pl.String for c in TEAM_COLUMNS}),
                        pl.DataFrame(schema={"visit_id": pl.String, "staffed": pl.Boolean, "reason": pl.String}), {})
    people = people_frame(inspectors, loaded)
    # Frames made before departments and methods existed lack their columns: no departments, on site.
    visits = visits.with_columns(
        pl.lit(default, dtype=dtype).alias(col)
        for col, default, dtype in (("units", [], pl.List(pl.String)), ("departments", [], pl.List(pl.String)),
                                    ("department_units", [], pl.List(pl.String)), ("method", "", pl.String))
        if col not in visits.columns
    )
    recused = (
        recusals.select("inspector_id", "uscc").unique()
        if recusals is not None
        else pl.DataFrame(schema={"inspector_id": pl.String, "uscc": pl.String})
    )
    kinds = pool_kinds(loaded)
    # What a visit needs depends on its items, its method and, when it is joint, its departments.
    joint_departments = pl.when(pl.col("joint")).then(pl.col("departments").list.join("|")).otherwise(pl.lit(""))
    shapes = visits.select(
        pl.concat_str([pl.col("item_codes").list.join("|"), pl.col("method"), joint_departments], separator="#")
    ).to_series()
    needs = {}
    for shape in shapes.unique():
        codes, method, depts = shape.split("#")
        needs[shape] = needs_of(loaded, [c for c in codes.split("|") if c], method, [d for d in depts.split("|") if d])
    v = visits.with_row_index("v").with_columns(shapes.alias("_shape")).with_columns(
        pl.col("_shape").replace_strict({k: n.officers for k, n in needs.items()}, return_dtype=pl.Int64).alias("_n_off"),
        pl.col("_shape").replace_strict({k: list(n.officer_specialties) for k, n in needs.items()}, return_dtype=pl.List(pl.String)).alias("_off_specs"),
        pl.col("_shape").replace_strict({k: list(n.pool_specialties) for k, n in needs.items()}, return_dtype=pl.List(pl.String)).alias("_pool_specs"),
        pl.col("uscc").replace_strict(dict(previous_leads), default=None, return_dtype=pl.String).alias("_prev"),
    )
    groups = _unit_groups(v, people)
    if groups.n_unique() <= 1:
        return _staff_group(loaded, v, people, recused, kinds, key)
    parts = [
        _staff_group(loaded, v.filter(groups == g).drop("v").with_row_index("v"), people, recused, kinds, key)
        for g in groups.unique(maintain_order=True)
    ]
    order = v.select("visit_id", "v")
    # Each part's rows are in its visits' order, a subsequence of the year's: a stable sort by the
    # year's visit order interleaves them exactly as one solve orders them.
    teams = (pl.concat([p.teams for p in parts]).join(order, on="visit_id", maintain_order="left")
             .sort("v", maintain_order=True).select(TEAM_COLUMNS))
    outcome = order.select("visit_id").join(pl.concat([p.outcome for p in parts]), on="visit_id", maintain_order="left")
    # A unit's cap is found from its own visits alone, so the part holding them gives it; the other
    # parts hold the floor (no visits of that unit), which is below it.
    caps = {u: max(p.caps.get(u, 0) for p in parts) for u in parts[0].caps}
    return Staffing(teams, outcome, caps)


def _unit_groups(v: pl.DataFrame, people: pl.DataFrame) -> pl.Series:
    """Per visit, which independent part of the year's staffing it falls in: visits share a part when
    people of one unit may join both (a joint visit joins its units' parts), and every visit needing
    a pool member is in one part with the others that need one (the pools serve the whole
    jurisdiction). Each part is staffed on its own with its own rounds, so the pairs held at once
    are one part's: a city's district units are separate parts."""
    units = visit_units(v, frozenset(people["unit"].drop_nulls().to_list()))
    # Tokens are small integers: each unit's place among the units named, and the pools after them.
    n_units = units["unit"].n_unique()
    pooled = v.filter(pl.col("_pool_specs").list.len() > 0)["v"].to_numpy().astype(np.int64)
    visit = np.concatenate([units["v"].to_numpy().astype(np.int64), pooled])
    token = np.concatenate([units["unit"].rank("dense").to_numpy().astype(np.int64) - 1, np.full(len(pooled), n_units)])
    # A visit joins each of its tokens to its least one: those pairs are few (the units a visit may take
    # people from), so the parts are the tokens they connect, not the visits' sets of tokens (lists polars sorts slowly).
    first = np.full(v.height, n_units + 1, dtype=np.int64)
    np.minimum.at(first, visit, token)
    graph = coo_matrix((np.ones(len(visit), dtype=np.int8), (first[visit], token)), shape=(n_units + 1, n_units + 1))
    _, part = connected_components(graph, directed=False)
    # A visit nobody may join (no inspecting unit) is in part -1: it is left unstaffed with its reason.
    return pl.Series("group", np.append(part, -1).astype(np.int64)[first])


def _staff_group(loaded: LoadedPolicy, v: pl.DataFrame, people: pl.DataFrame, recused: pl.DataFrame,
                 kinds: Mapping, key: str) -> Staffing:
    """staff() on one part of the year's visits (v: their row index, with the needs' columns)."""
    team = loaded.policy.team
    words = (costs.words(key, "visit", v["visit_id"]), costs.words(key, "inspector", people["inspector_id"]))
    with flows.helper_for(v.height) as helper:
        officers = _officer_side(v, people, recused, team.rotate_lead, words)
        pool = _pool_side(v, people, recused, kinds, words)
        sides = [officers.side, pool.side]
        if team.max_visits_per_inspector is not None:
            caps = {u: team.max_visits_per_inspector for u in [*sorted(set(people["unit"].drop_nulls())), POOL_UNIT]}
        else:
            caps = least_caps(even_shares(loaded, v, people), v, people, officers, pool)
        capacity = np.array([cap_of(r, caps) for r in people.select("role", "unit").iter_rows(named=True)], dtype=np.int64)
        static_ok = officers.feasible & pool.feasible
        # A visit's place in the queue when places run short: its keyed word (spotcheck.plan.costs).
        priority = words[0]
        chosen, staffed, side_ok = rounds(sides, static_ok, capacity, priority, helper)

    picked = [officers.chosen(chosen[0]), pool.chosen(chosen[1])]
    failed = [~officers.feasible | (static_ok & ~side_ok[0]), ~pool.feasible | (static_ok & ~side_ok[1])]
    # The sides (at a province, tens of millions of pairs and the universe they came from) are let go before
    # the team rows are sorted: held beside that sort, they made the plan's peak once the repairs' was lowered.
    del officers, pool, sides, chosen
    teams = _team_rows(v, people, *picked, team.rotate_lead)
    reasons = _reasons(loaded, v, people, recused, kinds, caps, staffed, failed)
    outcome = v.select("visit_id").with_columns(
        pl.Series("staffed", staffed), pl.Series("reason", reasons, dtype=pl.String)
    )
    return Staffing(teams, outcome, caps)


def _slots(v: pl.DataFrame, column: str) -> pl.DataFrame:
    return (
        v.select("v", pl.col(column).alias("spec")).explode("spec").drop_nulls("spec").with_row_index("s")
    )


def _officer_side(v: pl.DataFrame, people: pl.DataFrame, recused: pl.DataFrame, rotate: bool, words: tuple) -> Matching:
    """The officers' matching problem. A city's pairs run to tens of millions: they are held as blocks
    of (visits a unit may join) × (that unit's serving officers), less certificates ending before the
    visit and banned (v, p) pairs, and priced rather than listed (spotcheck.plan.pricing)."""
    units = visit_units(v, frozenset(people["unit"].drop_nulls().to_list()))
    officers = serving_officers(people).select("p", "inspector_id", "unit", "certificate_expires")
    p_of = officers.select("inspector_id", "p")
    banned = recused.join(v.select("v", "uscc"), on="uscc").join(p_of, on="inspector_id").select("v", "p")
    if rotate:
        previous = v.filter(pl.col("_n_off") == 1).select("v", pl.col("_prev").alias("inspector_id")).join(p_of, on="inspector_id")
        banned = pl.concat([banned, previous.select("v", "p")])
    n_people = people.height
    members = officers.group_by("unit").agg(pl.col("p").sort())
    # Each unit's visits as a slice of one sorted column, not a Python list per unit (a province's millions).
    held = units.join(members.select("unit"), on="unit").sort("unit", "v")
    runs = held.select(pl.col("unit").rle()).unnest("unit")
    people_of = dict(members.iter_rows())
    blocks = [
        (vs, np.asarray(people_of[unit], dtype=np.int64))
        for unit, vs in zip(runs["value"].to_list(),
                            np.split(held["v"].to_numpy().astype(np.int64), np.cumsum(runs["len"].to_numpy())[:-1]))
    ]
    slots = _slots(v, "_off_specs")
    specs = slots["spec"].unique().sort().to_list()
    code = {s: i for i, s in enumerate(specs)}
    holds = np.zeros((n_people, max(len(specs), 1)), dtype=bool)
    for p, spec in people.select("p", pl.col("specialties").alias("spec")).explode("spec").drop_nulls("spec").iter_rows():
        if spec in code:
            holds[p, code[spec]] = True
    expires = np.full(n_people, OPEN_ENDED, dtype=np.int64)
    expires[officers["p"].to_numpy()] = days(officers["certificate_expires"])
    universe = Universe(
        n_people=n_people, visit_words=words[0], person_words=words[1],
        inspect_by=days(v["inspect_by"]), expires=expires, blocks=blocks,
        banned=distinct(banned["v"].to_numpy().astype(np.int64) * n_people + banned["p"].to_numpy().astype(np.int64)),
        slot_visit=slots["v"].to_numpy().astype(np.int64),
        # cast: given an empty mapping (a year with no specialty place), polars hands the column back as it was.
        slot_spec=slots["spec"].replace_strict(code, return_dtype=pl.Int64).cast(pl.Int64).to_numpy(),
        holds=holds,
    )
    general = (v["_n_off"] - v["_off_specs"].list.len()).clip(lower_bound=0).to_numpy().astype(np.int64)
    return priced_matching(universe, general)


def _pool_side(v: pl.DataFrame, people: pl.DataFrame, recused: pl.DataFrame, kinds: Mapping, words: tuple) -> Matching:
    slots = _slots(v, "_pool_specs")
    members = serving_pool(people, kinds)
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
    pairs = holders.unique(["v", "p"]).select("v", "p")
    pairs = pairs.with_columns(pl.Series("cost", mixed(words[0][pairs["v"].to_numpy()], words[1][pairs["p"].to_numpy()])))
    return matching(v, pairs, slots, holders.select("s", "v", "p"), np.zeros(v.height, dtype=np.int64))


def _team_rows(v: pl.DataFrame, people: pl.DataFrame, officers: pl.DataFrame, pool: pl.DataFrame, rotate: bool) -> pl.DataFrame:
    """The team rows of the chosen pairs (v, p, cost) of each side, the 主查 first."""
    person = people.select("p", "inspector_id", "name", "unit", "role", pl.col("certificate").cast(pl.String))
    off = officers.join(person, on="p").join(
        v.select("v", "visit_id", "inspecting_unit", "_prev"), on="v"
    )
    off = off.with_columns(
        (pl.col("inspector_id") == pl.col("_prev")).fill_null(False).alias("_was_lead") if rotate else pl.lit(False).alias("_was_lead"),
        (pl.col("unit") != pl.col("inspecting_unit")).fill_null(True).alias("_guest"),
    ).sort(["v", "_was_lead", "_guest", "cost"])
    # A visit's first row in that order leads: is_first_distinct marks it as a window over the visits did, at about
    # half the CPU (a third of a second at a million entities).
    off = off.with_columns(pl.when(pl.col("v").is_first_distinct()).then(pl.lit(LEAD)).otherwise(pl.lit(MEMBER)).alias("role"))
    extra = pool.join(person, on="p").join(v.select("v", "visit_id"), on="v")
    cols = ["v", "visit_id", "inspector_id", "name", "unit", "role", "certificate", "cost"]
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
    waiting = v.filter(pl.Series(~staffed))
    units_of: dict[int, list[str]] = {}
    for i, unit in visit_units(waiting, directory_units).iter_rows():
        units_of.setdefault(i, []).append(unit)
    for visit in waiting.iter_rows(named=True):
        i = visit["v"]
        parts = []
        if failed[0][i]:
            parts.append(_officer_reason(visit, units_of.get(i, []), by_unit, recusal, rotate, caps))
        if failed[1][i]:
            parts.append(_pool_reason(visit, pool_people, recusal, kinds, caps))
        out[i] = "；".join(p for p in parts if p) or "符合条件的人员均已达到工作量上限"
    return out


def _officer_reason(visit, units, by_unit, recusal, rotate, caps) -> str:
    need = visit["_n_off"]
    if not visit["inspecting_unit"]:
        return f"主体所在辖区“{visit['district']}”未在策略中指定负责检查的单位"
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
        if spec.startswith(DEPARTMENT) and not any(spec in (r["specialties"] or []) for r in free):
            return f"参与部门“{spec[len(DEPARTMENT):]}”在{where}没有符合条件的在岗执法人员"
        if not any(spec in (r["specialties"] or []) for r in free):
            return f"该单位无具备“{spec}”专业的在岗执法人员"
    if rotate and need == 1 and [r["inspector_id"] for r in free] == [visit["_prev"]]:
        return "除上次检查的主查人外无其他符合条件的执法人员"
    if distinct_cover(visit["_off_specs"], free, lambda p, s: s in (p["specialties"] or [])):
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
    if distinct_cover(visit["_pool_specs"], free, lambda p, s: pool_ok(p, s, kinds)):
        return f"{POOL_UNIT}中具备所需专业的人员不足，无法由不同人员分别承担各专业事项"
    return f"{POOL_UNIT}中符合条件的人员均已达到工作量上限（每人最多 {caps.get(POOL_UNIT, DEFAULT_SLACK)} 户）"


def to_csv(teams: pl.DataFrame) -> bytes:
    return teams.select(TEAM_COLUMNS).write_csv().encode("utf-8")
