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


def test_batches_load_and_make_the_rounds(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "    draw_months: [4, 11]\n", "    draw_months: [4, 11]\n    batch_mode: split\n    batches:\n"
         '      - {name: 第一批, due: "2023-07-20", share: "60%"}\n      - {name: 第二批, month: 9, due: "2023-10-15", share: "40%"}\n')
    task = load_policy(path).task("t01")
    assert [(b.name, b.draw_month) for b in task.batches] == [("第一批", 7), ("第二批", 9)]


def test_wrong_batches_are_located(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "    sampling: {ratio: \"5%\"}\n    draw_months: [4, 11]\n",
         "    sampling: {ratio: \"5%\", times_per_year: 2}\n    draw_months: [4, 11]\n    batches:\n"
         '      - {name: 第一批, month: 8, due: "2023-07-20", share: "60%"}\n'
         '      - {name: 第二批, due: "2023-07-10"}\n'
         '      - {name: 第三批, due: "2024-01-15"}\n')
    edit(path, "    draw_months: [6, 8]\n", "    draw_months: [6, 8]\n    batch_mode: repeat\n")
    problems = validate_paths([path])
    assert codes(problems) == [
        ("P242", line_of(path, "times_per_year: 2")),
        ("P241", line_of(path, "batches:")),
        ("P243", line_of(path, "month: 8, due")),
        ("P243", line_of(path, "{name: 第二批")),
        ("P243", line_of(path, "{name: 第三批")),
        ("P241", line_of(path, "batch_mode: repeat")),
    ]
    assert problems[1].message == "任务“对在用计量器具的监督抽查”分批抽查，但没有写分批方式（batch_mode）"
    assert problems[2].message == "“第一批”定于 8 月抽取，晚于其完成时限 2023-07-20"
    assert problems[3].message == "“第二批”排在“第一批”之后，其抽取月份或完成时限却不晚于前一批"
    assert problems[4].message == "“第三批”的完成时限 2024-01-15 不在策略年度 2023 年内"


def test_a_single_batch_and_shares_not_adding_up(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "    draw_months: [4, 11]\n", "    draw_months: [4, 11]\n    batch_mode: split\n    batches:\n"
         '      - {name: 第一批, due: "2023-07-20", share: "60%"}\n      - {name: 第二批, due: "2023-10-15", share: "30%"}\n')
    edit(path, "    draw_months: [6, 8]\n", "    draw_months: [6, 8]\n    batch_mode: repeat\n    batches:\n"
         '      - {name: 第一批, due: "2023-07-20", share: "50%"}\n')
    problems = validate_paths([path])
    assert codes(problems) == [("P244", line_of(path, "batches:")), ("P241", line_of(path, "batches:", line_of(path, "batch_mode: repeat"))),
                               ("P244", line_of(path, 'share: "50%"'))]
    assert problems[0].message == "任务“对在用计量器具的监督抽查”各批次占全年样本的比例之和为 90%，应为100%"
