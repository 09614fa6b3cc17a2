"""Frequencies, batches and which task keeps an entity: each wrong input is a located Chinese problem."""

from conftest import edit, line_of
from spotcheck.policy.loader import load_policy
from spotcheck.policy.validate import validate_paths


def codes(problems):
    return [(p.code, p.line) for p in problems]


def test_cap_priority_names_tasks_of_the_plan(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "merge:\n", "cap_priority:\n  tasks: [t03, t1, t03]\n  text: 专项任务优先\nmerge:\n")
    problems = validate_paths([path])
    assert codes(problems) == [("P240", line_of(path, "tasks: [t03, t1, t03]"))] * 2
    assert problems[0].message == "频次上限冲突时优先保留的任务 't1' 不在计划中，是否想写 't01'？"
    assert problems[1].message == "优先保留的任务 't03' 写了不止一次"
    edit(path, "tasks: [t03, t1, t03]", "tasks: [t03]")
    assert load_policy(path).policy.cap_priority.tasks == ["t03"]
