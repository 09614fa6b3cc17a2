"""Eligibility: who may be on a visit's team, and what a team must be, person by person.

Who may be on a visit's team
  - 执法人员 (role 执法人员, or no role given): status 在岗; holds an enforcement certificate valid
    on the visit's planned check date, inspect_by (certificate_expires on or after it; an empty
    expiry with a certificate number is an open-ended “长期” certificate); works for the visit's
    inspecting unit (jurisdiction.districts) or, on a visit several units or departments take part
    in, for its lead unit when the inspector directory has people under exactly that unit name
    (“联查邀约”: the leading department sends its own people), or, on a 跨部门联合 visit, for the unit
    of a department taking part (spotcheck.plan.participants); not on the entity's recusal list.
  - 专家 / 第三方机构: from the jurisdiction-wide pools (policy.team.pools; with no pools declared,
    every 专家 and 第三方机构 of the directory), status 在岗, not recused, holding the specialty the
    item needs where the pool allows it. They hold no enforcement certificate and are not counted
    in the team's minimum size: administrative law asks for two enforcement officers.

What a team must be
  - at least policy.team.min_size officers (national floor 2), or the size the policy sets for the
    check's method when it is not a site visit (policy.methods);
  - on a 跨部门联合 visit, team.min_per_department officers of each department taking part (the
    directory's 所属部门, by department id or name): each is a place of its own, like a specialty;
  - each specialty needed by the visit's items (Item.specialty) covered by an officer of its own,
    so a visit needing more specialties than min_size gets a larger team; the specialty of an item
    that needs a specialist (Item.specialist) is covered by the pool member instead;
  - one pool member per specialty of the items needing a specialist;
  - nobody beyond their workload cap (cap_of): policy.team.max_visits_per_inspector when the policy
    sets one; otherwise the least cap found by spotcheck.plan.assignment, per unit and for the pools;
  - the 主查 (lead) is not the entity's last recorded lead inspector when policy.team.rotate_lead
    (a one-officer team excludes that inspector altogether).

Each rule is written here once per form: one person at a time with the reason in Chinese (to explain
an unstaffed visit and vet a reassignment), and as a frame filter for the matcher (spotcheck.plan.teams),
side by side so they change together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from spotcheck.policy.loaded import LoadedPolicy

OFFICER = "执法人员"
IN_POST = "在岗"
LEAD, MEMBER = "主查", "组员"
POOL_KINDS = ("专家", "第三方机构")
POOL_UNIT = "专家库、第三方机构库"  # the cap key of pool members
DEFAULT_SLACK = 2
OPEN_ENDED = np.iinfo(np.int64).max


@dataclass(frozen=True)
class Needs:
    """What one visit's items ask of its team."""

    officers: int
    officer_specialties: tuple[str, ...]
    pool_specialties: tuple[str, ...]  # "" = any pool member


DEPARTMENT = "部门:"  # a department's places on a joint team are specialty slots named so


def needs_of(loaded: LoadedPolicy, item_codes: Sequence[str], method: str = "", departments: Sequence[str] = ()) -> Needs:
    """What a check's items, method and (on a joint visit) departments ask of its team."""
    items = [loaded.items[c] for c in item_codes if c in loaded.items]
    pool = list(dict.fromkeys(i.specialty or "" for i in items if i.specialist))
    officer = [s for s in dict.fromkeys(i.specialty for i in items if i.specialty and not i.specialist) if s not in pool]
    officer += [f"{DEPARTMENT}{d}" for d in departments for _ in range(loaded.policy.team.min_per_department)]
    rule = loaded.policy.methods.get(method) if method else None  # type: ignore[call-overload]
    size = rule.min_size if rule is not None and rule.min_size is not None else loaded.policy.team.min_size
    return Needs(max(size, len(officer)), tuple(officer), tuple(pool))


def department_names(loaded: LoadedPolicy | None) -> dict[str, str]:
    """What the directory's 所属部门 may say (a department's id or name) → the department's id."""
    if loaded is None:
        return {}
    return {**{d.name: d.id for d in loaded.policy.departments}, **{d.id: d.id for d in loaded.policy.departments}}


def people_frame(inspectors: pl.DataFrame, loaded: LoadedPolicy | None = None) -> pl.DataFrame:
    """The inspector directory as the matcher reads it, sorted by id (file order must not matter).

    An officer's department is one more specialty (部门:<id>), so the places a joint team keeps for
    each department are filled like specialty places."""
    names = department_names(loaded)
    dept = pl.col("department") if "department" in inspectors.columns else pl.lit(None, dtype=pl.String)
    tag = pl.lit(DEPARTMENT) + dept.replace_strict(names, default=None, return_dtype=pl.String)
    return (
        inspectors.with_columns(dept.alias("department"))
        .select("inspector_id", "name", "unit", "status", "certificate", "certificate_expires", "specialties", "role", "department")
        .with_columns(
            pl.col("role").fill_null(OFFICER),
            pl.when(tag.is_not_null()).then(pl.col("specialties").fill_null([]).list.concat(pl.concat_list(tag)))
            .otherwise(pl.col("specialties").fill_null([])).alias("specialties"),
        )
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


def officer_reasons(person: Mapping, inspect_by: dt.date) -> list[str]:
    """Why the person may not serve as an officer on a visit checked by `inspect_by` (none: may)."""
    reasons = []
    if person["role"] != OFFICER:
        reasons.append(f"不是执法人员（人员类别：{person['role']}）")
    if person["status"] != IN_POST:
        reasons.append(f"不在岗（状态：{person['status']}）")
    if person["certificate"] is None:
        reasons.append("无执法证")
    elif person["certificate_expires"] is not None and person["certificate_expires"] < inspect_by:
        reasons.append(f"执法证 {person['certificate_expires']} 到期，早于检查完成期限 {inspect_by}")
    return reasons


def officer_ok(person: Mapping, inspect_by: dt.date) -> bool:
    """In post, certified through the planned check date."""
    return not officer_reasons(person, inspect_by)


def serving_officers(people: pl.DataFrame) -> pl.DataFrame:
    """officer_reasons over a frame, the person's part: officers in post holding a certificate."""
    return people.filter((pl.col("role") == OFFICER) & (pl.col("status") == IN_POST) & pl.col("certificate").is_not_null())


def days(dates: pl.Series) -> np.ndarray:
    """Dates as day numbers; an empty certificate expiry (an open-ended “长期” certificate) as the far future."""
    return dates.cast(pl.Date).cast(pl.Int64).fill_null(OPEN_ENDED).to_numpy()


def certified_through(expires: np.ndarray, inspect_by: np.ndarray) -> np.ndarray:
    """officer_reasons over arrays of day numbers (days()), the visit's part: the certificate still
    valid on the visit's inspect_by day (arrays broadcast: visits × people)."""
    return expires >= inspect_by


def pool_reasons(person: Mapping, kinds: Mapping[str, frozenset[str] | None]) -> list[str]:
    """Why the person may not serve from the pools (none: may, for a specialty they hold)."""
    reasons = []
    if person["role"] not in kinds:
        reasons.append(f"不在{POOL_UNIT}中（人员类别：{person['role']}）")
    if person["status"] != IN_POST:
        reasons.append(f"不在岗（状态：{person['status']}）")
    return reasons


def serving_pool(people: pl.DataFrame, kinds: Mapping[str, frozenset[str] | None]) -> pl.DataFrame:
    """pool_reasons over a frame: pool members in post."""
    return people.filter(pl.col("role").is_in(list(kinds)) & (pl.col("status") == IN_POST))


def pool_ok(person: Mapping, specialty: str, kinds: Mapping[str, frozenset[str] | None]) -> bool:
    if pool_reasons(person, kinds):
        return False
    if not specialty:
        return True
    allowed = kinds[person["role"]]
    return specialty in (person["specialties"] or []) and (allowed is None or specialty in allowed)


def visit_units(v: pl.DataFrame, directory_units: frozenset[str]) -> pl.DataFrame:
    """(v, unit): the units whose officers may join each visit of `v` (columns v, inspecting_unit,
    lead_unit, units, joint, department_units), per visit in this order: the inspecting unit; the lead
    unit of a visit several units or departments take part in, when the directory has people under
    that name; on a 跨部门联合 visit, the unit of each department taking part."""
    home = v.filter(pl.col("inspecting_unit").is_not_null() & (pl.col("inspecting_unit") != "")).select(
        "v", pl.col("inspecting_unit").alias("unit"))
    guests = v.filter(
        (pl.col("joint") | (pl.col("units").list.len() > 1)) & pl.col("lead_unit").is_in(list(directory_units))
        & (pl.col("lead_unit") != pl.col("inspecting_unit").fill_null(""))
    ).select("v", pl.col("lead_unit").alias("unit"))
    partners = v.filter(pl.col("joint")).select("v", pl.col("department_units").alias("unit")).explode("unit").filter(
        pl.col("unit").is_not_null() & (pl.col("unit") != ""))
    return pl.concat([home, guests, partners]).unique(maintain_order=True)


def allowed_units(visit: Mapping, directory_units: frozenset[str]) -> list[str]:
    """visit_units for one visit (a row of visits.csv as read back, or of the matcher's frame)."""
    row = pl.DataFrame(
        {"v": [0], "inspecting_unit": [visit["inspecting_unit"]], "lead_unit": [visit.get("lead_unit")],
         "units": [list(visit.get("units") or ())], "joint": [bool(visit.get("joint"))],
         "department_units": [list(visit.get("department_units") or ())]},
        schema={"v": pl.UInt32, "inspecting_unit": pl.String, "lead_unit": pl.String, "units": pl.List(pl.String),
                "joint": pl.Boolean, "department_units": pl.List(pl.String)},
    )
    return visit_units(row, directory_units)["unit"].to_list()


def cap_of(person: Mapping, caps: Mapping[str, int]) -> int:
    key = POOL_UNIT if person["role"] in POOL_KINDS else person["unit"]
    return caps.get(key, DEFAULT_SLACK)


def distinct_cover(required: Sequence[str], members: Sequence[Mapping], can) -> list[str]:
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
