"""The words a jurisdiction declares and a policy must then use as declared: its 监管标签 (`labels`).

Field names and operators are a closed vocabulary with "did you mean"; label values were free text, so
`加油占` for `加油站` validated and matched no entity. A policy (or its parent: `labels` merges down
the chain like any mapping) that declares its labels has every label a condition names checked
against them (P280); a policy naming labels without declaring any gets a warning (W930).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from spotcheck.errors import Problem
from spotcheck.policy.loaded import Draft
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
    return [draft.locate(Problem(
        "P280", f"监管标签“{label}”未在 labels 中声明{did_you_mean(label, known)}",
        hint=f"检查拼写；确是新标签的，加到 labels 中（已声明：{shown}）"), path)
        for path, label in label_values(draft.data, ()) if label not in declared]


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
