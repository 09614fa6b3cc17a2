"""The words a jurisdiction declares and a policy must then use as declared: its 监管标签 (`labels`)
and the names of its units.

Field names and operators are a closed vocabulary with "did you mean"; label values were free text, so
`加油占` for `加油站` validated and matched no entity. A policy (or its parent: `labels` merges down
the chain like any mapping) that declares its labels has every label a condition names checked
against them (P280); a policy naming labels without declaring any gets a warning (W930).

Units: a task's 指导单位 and 牵头单位 and a pairing's lead are cells transcribed as the plan prints
them, and the units a visit counts come from them, so "质量监管库" (a typo in the plan) and "质量监管科"
counted as two departments and made a visit "joint". Once a policy declares its departments, each of
these names must be a declared one — the bureau itself, a 科室 under `jurisdiction.departments`, a
department or its units, a district's unit — possibly after the bureau's own prefix ("市局信监科" is
信监科), or be mapped to one under `unit_names` (P281, P282). The plan table still prints the cell as
written; visits count the declared name (`unit_name`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from spotcheck.errors import Problem
from spotcheck.policy.loaded import Draft
from spotcheck.policy.model import Policy
from spotcheck.policy.problems import did_you_mean
from spotcheck.policy.yamlsource import Path_
from spotcheck.policy.years import WARNING

LABELS = "labels"


def label_problems(draft: Draft) -> list[Problem]:
    """P280 for each label a condition names that the policy's `labels` do not declare."""
    declared = draft.policy.labels if draft.policy is not None else {}
    if not declared:
        return []
    known = list(declared)
    shown = "、".join(known[:20]) + ("……" if len(known) > 20 else "")
    found = [draft.locate(Problem(
        "P280", f"监管标签“{label}”未在 labels 中声明{did_you_mean(label, known)}",
        hint=f"检查拼写；确是新标签的，加到 labels 中（已声明：{shown}）"), path)
        for path, label in label_values(draft.data, ()) if label not in declared]
    # An item's condition (“只针对实缴制企业”) lives in its item list, shared by many policies: each
    # policy checks the labels of the items it names, at the task that names the item, once per item.
    seen: set[str] = set()
    for i, task in enumerate(draft.policy.tasks):  # type: ignore[union-attr]
        for j, code in enumerate(task.items):
            item = (draft.items or {}).get(code)
            if item is None or item.condition is None or code in seen:
                continue
            seen.add(code)
            condition = item.condition.model_dump(mode="json", by_alias=True, exclude_none=True)
            found += [draft.locate(Problem(
                "P280", f"事项 {code} 的适用条件中的监管标签“{label}”未在本策略 labels 中声明{did_you_mean(label, known)}",
                hint=f"检查事项清单中的拼写，或把该标签加到本策略的 labels 中（已声明：{shown}）"), draft.at("tasks", i, "items", j))
                for _, label in label_values(condition, ()) if label not in declared]
    return found


def number_prefix_warning(draft: Draft) -> list[Problem]:
    """W925 at a document number whose 代字 is the issuing body's full name, as `spotcheck init` without --short
    writes it: the notice would print 沧州市市场监督管理局〔2027〕1号, where the bureau's 代字 (沧市监) belongs."""
    if draft.policy is None:
        return []
    found = []
    for i, document in enumerate(draft.policy.documents):
        number = document.number
        if number is None or number.prefix not in (document.issuer, draft.policy.jurisdiction.name):
            continue
        path = ("documents", i, "number", "prefix")
        pos = draft.positions.nearest(path)
        if pos is not None and pos.file == draft.file:
            found.append(replace(draft.locate(Problem(
                "W925", f"发文字号的代字写成了机关全称“{number.prefix}”，文件将印作“{number.text()}”",
                hint="改为本局的发文机关代字，如 冀市监、秦市监函"), path), severity=WARNING))
    return found


def undeclared_labels_warning(draft: Draft) -> list[Problem]:
    """W930, once, at the first label this file's own conditions name when no `labels` are declared."""
    if draft.policy is None or draft.policy.labels:
        return []
    for path, label in label_values(draft.data, ()):
        pos = draft.positions.nearest(path)
        if pos is not None and pos.file == draft.file:
            return [replace(draft.locate(Problem(
                "W930", f"条件中用了监管标签（如“{label}”），但策略及其上级都没有声明 labels，标签的笔误无法发现",
                hint="在 labels 中列出本辖区的监管标签目录（标签: 说明），之后每个未声明的标签都会报 P280 并提示相近的写法"),
                path), severity=WARNING)]
    return []


def label_values(value: Any, path: Path_) -> Iterator[tuple[Path_, str]]:
    """Every label named by a condition leaf `{field: labels, value: …}` under `value`, with its path."""
    if isinstance(value, dict):
        if value.get("field") == LABELS:
            written = value.get("value")
            if isinstance(written, str):
                yield (*path, "value"), written
            elif isinstance(written, list):
                yield from (((*path, "value", i), v) for i, v in enumerate(written) if isinstance(v, str))
            return
        for key, sub in value.items():
            if path or key != LABELS:  # not the declaration itself
                yield from label_values(sub, (*path, key))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from label_values(sub, (*path, i))


# How a plan names its own bureau before one of its 科室 ("市局广告监管科"), or alone ("市局").
_OWN_PREFIXES = ("市局", "省局", "本局", "局机关")


def declared_units(policy: Policy) -> list[str]:
    """Every unit name the policy declares, the bureau first."""
    names = [policy.jurisdiction.name, *policy.jurisdiction.departments]
    for dept in policy.departments:
        names += [dept.id, dept.name, *([dept.unit] if dept.unit else []), *dept.district_units.values()]
    names += [d.unit for d in policy.jurisdiction.districts]
    return list(dict.fromkeys(names))


def unit_name(policy: Policy, written: str) -> str:
    """The declared unit a cell names (itself when the policy declares none that fits)."""
    known = declared_units(policy)
    if written in known:
        return written
    if written in policy.unit_names:
        return policy.unit_names[written]
    for prefix in _OWN_PREFIXES:
        if written == prefix:
            return policy.jurisdiction.name
        if written.startswith(prefix) and written[len(prefix):] in known:
            return written[len(prefix):]
    return written


def unit_problems(draft: Draft) -> list[Problem]:
    """P281 for a 指导单位, 牵头单位 or pairing lead that names no declared unit; P282 for a `unit_names`
    entry mapping to an undeclared one. Only once the policy declares departments."""
    policy = draft.policy
    if policy is None or not (policy.jurisdiction.departments or policy.departments):
        return []
    known = declared_units(policy)
    shown = "、".join(known[:15]) + ("……" if len(known) > 15 else "")
    found = []
    for written, meant in policy.unit_names.items():
        if meant not in known:
            found.append(draft.locate(Problem(
                "P282", f"unit_names 把“{written}”对应到“{meant}”，但“{meant}”不是策略声明的单位{did_you_mean(meant, known)}",
                hint=f"对应到已声明的单位：{shown}"), ("unit_names", written)))
    named: list[tuple[Path_, str, str]] = []
    for i, task in enumerate(policy.tasks):
        named += [(draft.at("tasks", i, key), value, what) for key, what in (("guide", "指导单位"), ("lead_unit", "牵头单位"))
                  if (value := getattr(task, key)) is not None]
    named += [(("merge", "pairings", i, "lead"), p.lead, "配对检查的牵头单位") for i, p in enumerate(policy.merge.pairings)]
    for k, district in enumerate(policy.jurisdiction.districts):
        named += [(("jurisdiction", "districts", k, "contacts", c, "unit"), person.unit, "联系人所在科室")
                  for c, person in enumerate(district.contacts) if person.unit is not None]
    for d, doc in enumerate(policy.documents):
        named += [(("documents", d, "contacts", c, "unit"), person.unit, "联系人所在科室")
                  for c, person in enumerate(doc.contacts) if person.unit is not None]
    seen: set[str] = set()
    for i, task in enumerate(policy.tasks):
        for j, code in enumerate(task.items):
            item = (draft.items or {}).get(code)
            if item is not None and item.unit is not None and code not in seen:
                seen.add(code)
                named.append((draft.at("tasks", i, "items", j), item.unit, f"事项 {code} 的责任单位"))
    for path, written, what in named:
        if unit_name(policy, written) not in known:
            found.append(draft.locate(Problem(
                "P281", f"{what}“{written}”不是策略声明的科室、部门或单位{did_you_mean(written, known)}",
                hint=f"改写成已声明的名称（{shown}）；计划表须照印原文的，在 unit_names 中写“{written}: 声明的名称”"), path))
    return found
