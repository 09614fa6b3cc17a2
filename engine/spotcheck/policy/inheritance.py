"""Inheritance (`extends:`): a child policy laid over its parent's resolved policy, and the floors
the parent sets.

The parent is loaded and resolved first (loader.Session), then the child is laid over it:
  - `id`, `extends`, `version`, `revision`, `year`, `jurisdiction`, `documents`, `default_document` and
    `year_mentions` describe the file itself and are never inherited;
  - a top-level mapping (`risk`, `merge`, `team`, `deadlines`, `targets`, …) is merged one level deep:
    each entry the child writes (`team.min_size`, `deadlines.results_public`) replaces the parent's
    entry whole;
  - `caps` are merged by id (a child cannot drop a parent's cap, only replace it);
  - `tasks` are handed down: merged by id like caps, so a province's or city's tasks reach every
    policy that extends it; the child may replace one (tightening it) or add its own, and drops one
    only by naming it under `excluded_tasks` with a reason (`excluded_tasks` belongs to the file).
    A handed-down task without an `origin` gets the parent's level (省计划, 市计划), kept down the chain;
    a task the parent addresses to some of its cities or counties (`regions`, the plan's 地市 column)
    reaches only the policies of those and of the jurisdictions under them;
  - `departments` are merged by id (a child adds its own departments and may redeclare one);
  - `item_lists` and `calendars` accumulate along the chain (each path relative to the file that
    names it);
  - every other value the child writes (lists included) replaces the parent's.
Floors: a child may tighten the parent's resolved targets, counted deadlines, team size and caps,
never loosen them (P301).
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

from spotcheck.errors import Problem
from spotcheck.policy import references
from spotcheck.policy.departments import ORIGIN_BY_LEVEL, addressed_to
from spotcheck.policy.joint import handed_down_problems
from spotcheck.policy.loaded import Draft, LoadedPolicy
from spotcheck.policy.model import METRIC_NAMES, Policy
from spotcheck.policy.yamlsource import Document, Path_, Pos, SourceMap, SourceMapBuilder

# Keys describing the file itself; a child never inherits them.
_OWN_KEYS = frozenset({"id", "extends", "version", "revision", "year", "jurisdiction", "documents", "default_document",
                       "excluded_tasks", "year_mentions"})
_BY_ID = ("caps", "tasks", "departments")
_PATH_LISTS = ("item_lists", "calendars")


def merge_child(parent: LoadedPolicy, child: Document) -> tuple[dict[str, Any], SourceMap]:
    """The child document laid over the parent's resolved document (rules in the module docstring)."""
    pdata, pmap = parent.data, parent.positions
    cdata, cmap = child.data, child.positions
    data: dict[str, Any] = {}
    out = SourceMapBuilder()
    out.values[()] = cmap.values.get((), Pos(child.file, 1, 1))

    def take(key: str, src: dict[str, Any], smap: SourceMap) -> None:
        data[key] = src[key]
        out.graft((key,), smap, (key,))

    def head(key: str, smap: SourceMap) -> None:
        for table, src in ((out.keys, smap.keys), (out.values, smap.values)):
            if (key,) in src:
                table[(key,)] = src[(key,)]

    for key in pdata:
        if key not in _OWN_KEYS and key not in cdata:
            take(key, pdata, pmap)
    for key in _PATH_LISTS:
        own = cdata.get(key, [])
        if not isinstance(own, list):
            take(key, cdata, cmap)  # not a list: left for the model to report
            continue
        if key not in cdata and key not in pdata:
            continue
        head(key, cmap if key in cdata else pmap)
        inherited = pdata.get(key, [])
        # Paths are relative to the file naming them; the resolved document's are relative to the child
        # (or bundled names, references.rebase).
        merged: list[Any] = []
        seen: set[str] = set()
        rebased = [(references.rebase(ref, parent.path.parent, child.path.parent), pmap, i)
                   for i, ref in enumerate(inherited)]
        for ref, smap, i in [*rebased, *((ref, cmap, i) for i, ref in enumerate(own))]:
            norm = os.path.normpath(ref) if isinstance(ref, str) else None
            if norm is not None and norm in seen:
                continue
            if norm is not None:
                seen.add(norm)
            out.graft((key, len(merged)), smap, (key, i))
            merged.append(norm if norm is not None else ref)
        data[key] = merged
    for key, value in cdata.items():
        if key in _PATH_LISTS:
            continue
        inherited = pdata.get(key) if key not in _OWN_KEYS else None
        if inherited is None:
            take(key, cdata, cmap)
        elif key in _BY_ID and isinstance(value, list) and isinstance(inherited, list):
            head(key, cmap)
            data[key] = _merge_by_id(key, inherited, pmap, value, cmap, out)
        elif isinstance(value, dict) and isinstance(inherited, dict):
            data[key] = {**inherited, **value}
            out.graft((key,), pmap, (key,))
            head(key, cmap)
            for entry in value:
                for table in (out.values, out.keys):
                    for stale in [p for p in table if p[:2] == (key, entry)]:
                        del table[stale]
                out.graft((key, entry), cmap, (key, entry))
        else:
            take(key, cdata, cmap)
    if isinstance(data.get("tasks"), list):
        data["tasks"] = _handed_down(parent, cdata, data["tasks"], cmap, out)
    return data, out.build()


def _handed_down(parent: LoadedPolicy, cdata: dict[str, Any], tasks: list[Any], cmap: SourceMap,
                 out: SourceMapBuilder) -> list[Any]:
    """The resolved tasks less those the child excludes, each of the parent's marked with its origin."""
    excluded = {e.get("task") for e in cdata.get("excluded_tasks") or [] if isinstance(e, dict)}
    theirs = {t.id: t for t in parent.policy.tasks}
    origin = ORIGIN_BY_LEVEL.get(parent.policy.jurisdiction.level)
    jurisdiction = cdata.get("jurisdiction")
    code = str(jurisdiction.get("code", "")) if isinstance(jurisdiction, dict) else ""
    own = {t.get("id") for t in cdata.get("tasks") or [] if isinstance(t, dict)}
    kept: list[tuple[int, Any]] = []
    for i, task in enumerate(tasks):
        if isinstance(task, dict) and task.get("id") in theirs:
            if task["id"] in excluded:
                continue
            # A row the parent addresses to other cities (地市) never reaches this one, unless it writes its own.
            if task["id"] not in own and not addressed_to(theirs[task["id"]].regions, code):
                continue
            if "origin" not in task:
                task = {**task, "origin": theirs[task["id"]].origin or origin}
        kept.append((i, task))
    # Positions follow each task to its new index, so problems still point at its lines.
    new_index = {i: k for k, (i, _) in enumerate(kept)}
    for table in (out.values, out.keys):
        moved = {p: table.pop(p) for p in [p for p in table if p[:1] == ("tasks",) and len(p) > 1]}
        for path, pos in moved.items():
            if path[1] in new_index:
                table[("tasks", new_index[path[1]], *path[2:])] = pos
    return [task for _, task in kept]


def _merge_by_id(key: str, inherited: list[Any], pmap: SourceMap, own: list[Any], cmap: SourceMap,
                 out: SourceMapBuilder) -> list[Any]:
    """The parent's elements, each replaced by the child's element of the same id, then the child's new ones."""
    child_ids = {c.get("id"): j for j, c in enumerate(own) if isinstance(c, dict) and "id" in c}
    merged: list[Any] = []
    used: set[int] = set()
    for i, elem in enumerate(inherited):
        j = child_ids.get(elem.get("id"))
        if j is None:
            out.graft((key, len(merged)), pmap, (key, i))
            merged.append(elem)
        else:
            out.graft((key, len(merged)), cmap, (key, j))
            merged.append(own[j])
            used.add(j)
    for j, elem in enumerate(own):
        if j not in used:
            out.graft((key, len(merged)), cmap, (key, j))
            merged.append(elem)
    return merged


# ---------------------------------------------------------------- floors


def floor_problems(draft: Draft, child: Policy, parent: LoadedPolicy) -> list[Problem]:
    """Where the child loosens what its parent's resolved policy requires (P301)."""
    base = parent.policy
    found: list[Problem] = []

    def loosened(path: Path_, parent_path: Path_, message: str, hint: str) -> None:
        theirs = parent.positions.nearest(parent_path)
        found.append(draft.locate(Problem(
            "P301", message.replace("{parent}", f"上级策略 {theirs.text()}" if theirs else "上级策略"), hint=hint), path))

    for metric, target in base.targets.items():
        mine = child.targets.get(metric)
        if mine is not None and mine.value < target.value:
            path = ("targets", metric, "value")
            loosened(path, path, f"{METRIC_NAMES.get(metric, metric)} {_pct(mine.value)} 低于{{parent}} 规定的 "
                     f"{_pct(target.value)}，只能收紧不能放宽", "改为不低于上级策略的目标值，或删去该项以沿用上级规定")
    for rid, rule in base.deadlines.items():
        mine_rule = child.deadlines.get(rid)
        if mine_rule is None or rule.kind not in ("working_days", "calendar_days"):
            continue
        limit, unit = getattr(rule, rule.kind), "个工作日" if rule.kind == "working_days" else "个自然日"
        days = getattr(mine_rule, rule.kind)
        path = ("deadlines", rid, rule.kind)
        if days is not None and days > limit:
            loosened(path, path, f"期限“{mine_rule.name}” {days}{unit} 长于{{parent}} 规定的 {limit}{unit}，只能收紧不能放宽",
                     f"改为不多于 {limit}{unit}，或删去该期限以沿用上级规定")
        # Fewer calendar days than the parent's working days is always tighter; any other change of kind is unknowable.
        elif days is None and not (rule.kind == "working_days" and (mine_rule.calendar_days or limit + 1) <= limit):
            loosened(("deadlines", rid), path, f"期限“{mine_rule.name}”改变了计算方式（{{parent}} 规定 {limit}{unit}），"
                     f"无法确认没有放宽", f"沿用上级的写法 {rule.kind}: {limit} 或更少")
    if "team" not in draft.broken and child.team.min_size < base.team.min_size:
        path = ("team", "min_size")
        loosened(path, path, f"每组最少人数 {child.team.min_size} 人 少于{{parent}} 规定的 {base.team.min_size} 人，"
                 f"只能收紧不能放宽", f"改为不少于 {base.team.min_size} 人")
    mine_caps = {cap.id: i for i, cap in enumerate(child.caps)}
    for k, cap in enumerate(base.caps):
        i = mine_caps.get(cap.id)
        if i is not None and child.caps[i].max_per_year > cap.max_per_year:
            loosened(draft.at("caps", i, "max_per_year"), ("caps", k, "max_per_year"),
                     f"频次上限“{cap.name}” 每年 {child.caps[i].max_per_year} 次 多于{{parent}} 规定的 "
                     f"{cap.max_per_year} 次，只能收紧不能放宽", f"改为每年不多于 {cap.max_per_year} 次")
    return found + handed_down_problems(draft, child, parent)


def _pct(value: Decimal) -> str:
    return f"{value.normalize():f}%"
