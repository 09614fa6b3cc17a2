"""Who takes part in a visit: the items that apply to its entity, how each is checked, the departments
taking part and the unit of each, and who inspects.

Items. A visit carries its tasks' items (with 1+X and fused general items, LoadedPolicy.visit_items)
less the items whose condition the entity does not meet (“只针对实缴制企业”; answered at draw time,
spotcheck.draw.applies). Each item is checked by its first method; a method the policy schedules
without a site visit (`methods: {网络监测: {site_visit: false}}`) makes a check of its own beside the
site visit, staffed by that method's team size, so a merged visit with one online item still goes
on site for the others and names each item's own method.

Departments. A task's lead department (else its initiating department), its 配合部门 and the
departments of its items take part. Departments of kind 科室 are the bureau itself: a visit is
跨部门联合 only when two or more distinct bodies take part (the bureau counting once), or a task is
marked `joint`. Its team then holds officers of every department taking part
(team.min_per_department each, spotcheck.plan.teams).

Who inspects. The first of the visit's tasks (policy order) that says how (`inspection`) decides the
mode for this entity: the first mode whose condition the entity meets. 市抽市查: each department's
own unit at the policy's level inspects (the bureau itself, or the department's `unit`);
市抽县(区)查 and 县抽县查: the unit of the entity's district (jurisdiction.districts for the bureau and
its 科室, `district_units` for another department, its own unit when it lists none). Without a mode,
the entity's district unit inspects when the policy lists districts, else the bureau. The
inspecting unit (谁检查、谁录入、谁公开) is the lead department's unit, else the bureau's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from spotcheck.draw.applies import item_rule, mode_rule
from spotcheck.policy.departments import CITY_INSPECTS, OFFICE, Department
from spotcheck.policy.loader import LoadedPolicy
from spotcheck.policy.model import SITE_METHOD, Task

SITE = ""  # the channel of the site visit


@dataclass(frozen=True)
class Check:
    """One check of a visit: on site (method "") or by a method the policy schedules without a visit."""

    method: str
    item_codes: tuple[str, ...]
    departments: tuple[str, ...]
    joint: bool


def item_method(loaded: LoadedPolicy, code: str) -> str:
    item = loaded.items.get(code)
    return item.method[0] if item is not None and item.method else SITE_METHOD


def applying_items(loaded: LoadedPolicy, task_ids: Sequence[str], rules: frozenset[str]) -> list[str]:
    """The visit's items that apply to the entity (conditional items need their rule to hold)."""
    out = []
    for code in loaded.visit_items(task_ids):
        item = loaded.items.get(code)
        if item is None or item.condition is None or item_rule(code) in rules:
            out.append(code)
    return out


def checks(loaded: LoadedPolicy, tasks: Sequence[Task], rules: frozenset[str]) -> list[Check]:
    """The visit's checks: the site visit first (when any item needs one), then one per off-site method."""
    policy = loaded.policy
    declared = {d.id: d for d in policy.departments}
    own = [d for t in tasks for d in (t.lead_department or t.initiating_department, *t.departments) if d in declared]
    by_method: dict[str, list[str]] = {}
    for code in applying_items(loaded, [t.id for t in tasks], rules):
        method = item_method(loaded, code)
        rule = policy.methods.get(method)  # type: ignore[call-overload]
        by_method.setdefault(method if rule is not None and not rule.site_visit else SITE, []).append(code)
    marked = any(t.joint for t in tasks)
    out = []
    for method in sorted(by_method, key=lambda m: m != SITE):
        codes = by_method[method]
        item_depts = [d for c in codes if (d := getattr(loaded.items.get(c), "department", None)) in declared]
        depts = tuple(dict.fromkeys([*own, *item_depts]))
        bodies = {_body(loaded, declared[d]) for d in depts}
        out.append(Check(method, tuple(codes), depts, marked or len(bodies) > 1))
    return out


def _body(loaded: LoadedPolicy, dept: Department) -> str:
    return loaded.policy.jurisdiction.name if dept.kind == OFFICE else dept.name


def mode(tasks: Sequence[Task], rules: frozenset[str]) -> str | None:
    for task in tasks:
        for k, rule in enumerate(task.inspection):
            if rule.when is None or mode_rule(task.id, k) in rules:
                return rule.mode
    return None


def lead_department(loaded: LoadedPolicy, tasks: Sequence[Task]) -> Department | None:
    declared = {d.id: d for d in loaded.policy.departments}
    return next((declared[d] for t in tasks if (d := t.lead_department or t.initiating_department) in declared), None)


def district_units(loaded: LoadedPolicy) -> dict[str, str]:
    """District code and name → the bureau's unit that inspects entities there."""
    out: dict[str, str] = {}
    for d in loaded.policy.jurisdiction.districts:
        out[d.code] = d.unit
        out[d.name] = d.unit
    return out


def unit_of(loaded: LoadedPolicy, dept: Department | None, how: str | None, district: str | None) -> str | None:
    """The unit whose officers inspect for `dept` (None: the bureau) under mode `how` in `district`."""
    j = loaded.policy.jurisdiction
    own = dept is None or dept.kind == OFFICE or j.name in (dept.name, dept.unit)
    city = (dept.unit if dept is not None else None) or (j.name if own else dept.name)  # type: ignore[union-attr]
    if how in CITY_INSPECTS or not j.districts:
        return city
    if own:
        return district_units(loaded).get(district or "")
    codes = {d.name: d.code for d in j.districts}
    return dept.district_units.get(codes.get(district or "", district or "")) or city  # type: ignore[union-attr]
