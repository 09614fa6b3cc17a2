"""Reassignment: one member of a planned team replaced (`spotcheck teams reassign`), the newcomer
checked against every rule the matcher applies (spotcheck.plan.eligibility) and the plan's workload caps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl
from spotcheck.plan.eligibility import (
    LEAD,
    MEMBER,
    OFFICER,
    POOL_KINDS,
    allowed_units,
    cap_of,
    distinct_cover,
    needs_of,
    officer_reasons,
    people_frame,
    pool_kinds,
    pool_ok,
    pool_reasons,
)
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.policy.loaded import LoadedPolicy
from spotcheck.plan.teams import ROLE_ORDER, TEAM_COLUMNS


@dataclass(frozen=True)
class Swap:
    teams: pl.DataFrame
    role: str
    person: Mapping  # the incoming inspector's directory row


def swap(teams: pl.DataFrame, visit_id: str, out_inspector: str, person: Mapping) -> pl.DataFrame:
    """The teams with `out_inspector` replaced on one visit; the newcomer takes over the role."""
    hit = (pl.col("visit_id") == visit_id) & (pl.col("inspector_id") == out_inspector)
    if "certificate" not in teams.columns:  # a plan written before teams.csv carried certificates
        teams = teams.with_columns(pl.lit(None, dtype=pl.String).alias("certificate"))
    frame = teams.select(TEAM_COLUMNS).with_row_index("_i").with_columns(
        pl.when(hit).then(pl.lit(person["inspector_id"])).otherwise(pl.col("inspector_id")).alias("inspector_id"),
        pl.when(hit).then(pl.lit(person["name"])).otherwise(pl.col("name")).alias("name"),
        pl.when(hit).then(pl.lit(person["unit"])).otherwise(pl.col("unit")).alias("unit"),
        pl.when(hit).then(pl.lit(person.get("certificate"), dtype=pl.String)).otherwise(pl.col("certificate")).alias("certificate"),
    )
    return (
        frame.with_columns(
            pl.col("_i").min().over("visit_id").alias("_v"),
            pl.col("role").replace_strict(ROLE_ORDER, return_dtype=pl.Int64).alias("_r"),
        )
        .sort(["_v", "_r", "inspector_id"])
        .select(TEAM_COLUMNS)
    )


@dataclass(frozen=True)
class _Slot:
    """One place on one visit's team, and what a newcomer to it must meet."""

    visit: Mapping
    team: pl.DataFrame
    role: str
    stays: list  # the members who remain, as directory rows
    needs: object
    units: tuple[str, ...]


def _slot(loaded: LoadedPolicy, visits: pl.DataFrame, teams: pl.DataFrame, people: pl.DataFrame, visit_id: str,
          out_inspector: str) -> _Slot:
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
    by_id = {r["inspector_id"]: r for r in people.iter_rows(named=True)}
    stays = [by_id[i] for i in team["inspector_id"].to_list() if i != out_inspector and i in by_id]
    units = tuple(allowed_units(visit, frozenset(people["unit"].drop_nulls().to_list())))
    needs = needs_of(loaded, visit["item_codes"], visit.get("method") or "",
                     visit.get("departments") or () if visit.get("joint") else ())
    return _Slot(visit, team, out_rows["role"][0], stays, needs, units)


def _reasons(loaded: LoadedPolicy, slot: _Slot, person: Mapping, teams: pl.DataFrame, recusals: pl.DataFrame | None,
             caps: Mapping[str, int], previous_leads: Mapping[str, str]) -> list[str]:
    """Every rule the matcher applies that `person` fails for this place; empty when they may take it."""
    visit, role, needs = slot.visit, slot.role, slot.needs
    reasons: list[str] = []
    if person["inspector_id"] in slot.team["inspector_id"].to_list():
        reasons.append("已在该检查组中")
    recused = recusals is not None and recusals.filter(
        (pl.col("inspector_id") == person["inspector_id"]) & (pl.col("uscc") == visit["uscc"])
    ).height > 0
    if role in (LEAD, MEMBER):
        reasons += officer_reasons(person, visit["inspect_by"])
        if person["unit"] not in slot.units:
            reasons.append(f"所属单位“{person['unit']}”不负责该检查（应为 {'、'.join(slot.units) or '策略指定的单位'}）")
        if role == LEAD and loaded.policy.team.rotate_lead and previous_leads.get(visit["uscc"]) == person["inspector_id"]:
            reasons.append("是该主体上次检查的主查人，不得连续担任主查")
        officers = [p for p in slot.stays if p["role"] == OFFICER] + [person]
        missing = distinct_cover(needs.officer_specialties, officers, lambda p, s: s in (p["specialties"] or []))
        reasons += [f"更换后检查组缺少具备“{s}”专业的执法人员" for s in missing]
    else:
        kinds = pool_kinds(loaded)
        reasons += pool_reasons(person, kinds)
        members = [p for p in slot.stays if p["role"] in POOL_KINDS] + [person]
        missing = distinct_cover(needs.pool_specialties, members, lambda p, s: pool_ok(p, s, kinds))
        reasons += [f"更换后检查组缺少具备“{s}”专业的专家或第三方机构" if s else "更换后检查组缺少专家或第三方机构" for s in missing]
    if recused:
        reasons.append("在该主体的回避名单上")
    load = teams.filter(pl.col("inspector_id") == person["inspector_id"]).height
    cap = cap_of(person, caps)
    if load >= cap:
        reasons.append(f"已安排 {load} 户，达到工作量上限 {cap} 户")
    return reasons


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
    people = people_frame(inspectors, loaded)
    slot = _slot(loaded, visits, teams, people, visit_id, out_inspector)
    found = people.filter(pl.col("inspector_id") == in_inspector)
    if found.height != 1:
        raise SpotcheckError(Problem("T824", f"执法检查人员名录中没有 {in_inspector}", where=where, hint="核对人员编号"))
    person = found.row(0, named=True)
    reasons = _reasons(loaded, slot, person, teams, recusals, caps, previous_leads)
    if reasons:
        raise SpotcheckError([
            Problem("T825", f"{in_inspector}（{person['name']}）不能接替 {out_inspector}：{r}", where=where,
                    hint=f"另选符合条件的人员（spotcheck teams candidates --visit {visit_id} --out-inspector {out_inspector} 列出可接替的人）")
            for r in reasons
        ])
    return Swap(swap(teams, visit_id, out_inspector, person), slot.role, person)


@dataclass(frozen=True)
class Candidate:
    inspector_id: str
    name: str
    unit: str
    reasons: tuple[str, ...]  # empty: may replace


def candidates(
    loaded: LoadedPolicy,
    visits: pl.DataFrame,
    teams: pl.DataFrame,
    inspectors: pl.DataFrame,
    recusals: pl.DataFrame | None,
    *,
    visit_id: str,
    out_inspector: str,
    caps: Mapping[str, int],
    previous_leads: Mapping[str, str],
) -> list[Candidate]:
    """Everyone in the directory against the place `out_inspector` leaves: who may take it, and why each
    other person may not — the same rules `check_swap` applies. Eligible first, then by reason count."""
    people = people_frame(inspectors, loaded)
    slot = _slot(loaded, visits, teams, people, visit_id, out_inspector)
    out = [Candidate(p["inspector_id"], p["name"], p["unit"] or "",
                     tuple(_reasons(loaded, slot, p, teams, recusals, caps, previous_leads)))
           for p in people.iter_rows(named=True) if p["inspector_id"] != out_inspector]
    return sorted(out, key=lambda c: (len(c.reasons) > 0, c.unit != (slot.units[0] if slot.units else ""), len(c.reasons), c.inspector_id))
