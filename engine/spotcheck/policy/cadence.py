"""When and how often an entity is checked, as plans write it: which task keeps an entity when a cap
would be exceeded ("专项任务优先").

The draw reads these (spotcheck.draw.compute); the cross-checks here locate each problem at its line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field, StrictStr

from spotcheck.errors import Problem
from spotcheck.policy.numbers import Model
from spotcheck.policy.problems import did_you_mean

if TYPE_CHECKING:  # the model imports this module; the checks run on a Draft of it
    from spotcheck.policy.loaded import Draft


class CapPriority(Model):
    """Which task keeps an entity when one draw would give it more checks than a cap allows."""

    tasks: list[StrictStr] = Field(
        min_length=1, title="优先保留的任务",
        description="同一次抽取中主体超出频次上限时，按此顺序由前面的任务保留该主体；未列出的任务按计划中的顺序排在其后")
    text: StrictStr | None = Field(None, title="原文", description="计划中的原话，如“专项检查任务优先”")


def keeping_order(priority: CapPriority | None, task_ids: list[str]) -> list[int]:
    """The order in which a draw's tasks take entities (indices into `task_ids`): the listed tasks first,
    in the listed order, then the others in the plan's order."""
    listed = [] if priority is None else [t for t in priority.tasks if t in task_ids]
    first = [task_ids.index(t) for t in listed]
    return first + [i for i, t in enumerate(task_ids) if t not in listed]


def priority_words(priority: CapPriority | None, task_ids: list[str]) -> str | None:
    """How a draw decided which task keeps an entity, in the plan's words (None: the plan's order, as ever)."""
    if priority is None:
        return None
    order = [task_ids[i] for i in keeping_order(priority, task_ids)]
    said = f"（原文：{priority.text}）" if priority.text else ""
    return f"同一次抽取中主体超出频次上限时，按 {'、'.join(order)} 的顺序由在前的任务保留该主体{said}"


def cadence_problems(draft: Draft) -> list[Problem]:
    """Tasks named in cap_priority that the plan does not have, or names written twice."""
    policy = draft.policy
    if policy is None or policy.cap_priority is None:
        return []
    ids = [t.id for t in policy.tasks]
    found = []
    seen: set[str] = set()
    for j, task_id in enumerate(policy.cap_priority.tasks):
        path = ("cap_priority", "tasks", j)
        if task_id not in ids:
            found.append(draft.locate(Problem(
                "P240", f"频次上限冲突时优先保留的任务 '{task_id}' 不在计划中{did_you_mean(task_id, ids)}",
                hint=f"已有任务：{'、'.join(ids) or '（无）'}"), path))
        elif task_id in seen:
            found.append(draft.locate(Problem(
                "P240", f"优先保留的任务 '{task_id}' 写了不止一次", hint="每个任务在 cap_priority.tasks 中只写一次"), path))
        seen.add(task_id)
    return found


__all__ = ["CapPriority", "cadence_problems", "keeping_order", "priority_words"]
