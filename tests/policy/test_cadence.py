"""Frequencies, batches and which task keeps an entity: each wrong input is a located Chinese problem."""

from conftest import edit, line_of
from spotcheck.policy.cases import run_tests
from spotcheck.policy.diff import diff_files
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


LOOKBACK_CASES = """  - name: 近12个月内查过的不抽
    drawn_on: "2023-04-10"
    entity: {uscc: 91149901MA0K00001E, type: 企业, status: 存续, district: "149901", tier: B, labels: [加油站]}
    history: [{year: 2022, task: t08, on: "2022-05-20"}]
    expect: {capped: {t08: recent}}
  - name: 13个月前查过的照常抽
    drawn_on: "2023-04-10"
    entity: {uscc: 91149901MA0K00001E, type: 企业, status: 存续, district: "149901", tier: B, labels: [加油站]}
    history: [{year: 2022, task: t08, on: "2022-03-01"}]
    expect: {capped: {t08: false}}
  - name: 只记年度的往年检查按年底计
    drawn_on: "2023-04-10"
    entity: {uscc: 91149901MA0K00001E, type: 企业, status: 存续, district: "149901", tier: B, labels: [加油站]}
    history: [{year: 2022, task: t08}]
    expect: {capped: {t08: recent}}
  - name: 每3年至少一次：本周期已查过的不再抽
    entity: {uscc: 91149901MA0K00011F, type: 企业, status: 存续, district: "149901", tier: D, labels: [拍卖企业]}
    history: [{year: 2022, task: t09}]
    expect: {capped: {t09: cycle}}
  - name: 每3年至少一次的户数：周期第2年抽未查主体的一半
    sample: {task: t09, eligible: {B: 9}}
    expect: {total: 5}
"""


CYCLE_TASK = """  - id: t08
    name: 近12个月内未被抽查的加油站
    type: 定向
    items: [J01]
    scope: {field: labels, op: contains, value: 加油站}
    scope_text: 本辖区加油站
    sampling: {ratio: "5%"}
    draw_months: [4, 11]
    not_checked_within: {months: 12, text: 近12个月内未被抽查的}
  - id: t09
    name: 拍卖企业每3年至少抽查一次
    type: 定向
    items: [S01]
    scope: {field: labels, op: contains, value: 拍卖企业}
    scope_text: 全市拍卖企业
    sampling: {once_in_years: {years: 3, since: 2022, text: 每3年至少抽查一次}}
    draw_months: [6, 8]
"""


def test_lookback_rules_in_cases(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "labels:\n", CYCLE_TASK + "labels:\n")
    cases = policy_tree / "city" / "2023.cases.yaml"
    cases.write_text(cases.read_text("utf-8") + LOOKBACK_CASES, "utf-8")
    run = run_tests([cases])
    assert [r.format() for r in run.results if not r.passed] == [] and run.ok
    assert load_policy(path).task("t09").sampling.once_in_years.position(2023) == (2022, 2)
    # A case that expects the wrong reason fails and says which rule holds.
    cases.write_text(cases.read_text("utf-8").replace("capped: {t08: recent}}\n  - name: 13", "capped: {t08: false}}\n  - name: 13"), "utf-8")
    failed = [r for r in run_tests([cases]).results if not r.passed]
    assert [r.name for r in failed] == ["近12个月内查过的不抽"]
    assert "实际被 recent 排除" in failed[0].format() and "2022-05-20 的检查" in failed[0].format()


def test_wrong_frequencies_are_located(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "    sampling: {ratio: \"5%\"}\n", "    sampling: {ratio: \"5%\", times_at_least: true}\n")
    edit(path, "    sampling: {ratio: \"100%\"}\n", "    sampling: {ratio: \"100%\", once_in_years: {years: 1, since: 2022}}\n")
    edit(path, "    draw_months: [6, 8]\n", "    draw_months: [6, 8]\n    not_checked_within: {month: 12}\n")
    problems = validate_paths([path])
    lines = [p.line for p in problems]
    assert lines == [line_of(path, "times_at_least"), line_of(path, "once_in_years"), line_of(path, "once_in_years"),
                     line_of(path, "not_checked_within")]
    said = "\n".join(p.message for p in problems)
    assert "“至少N次”（times_at_least）须与每年次数（times_per_year）同用" in said
    assert "每N年至少抽查一次（once_in_years）由周期决定每年抽多少，不再写 ratio" in said
    assert problems[2].message == "不能小于 2，实际为 1" and problems[3].message == "未知的键 'month'，是否想写 'months'？"


def test_diff_names_batches_and_lookback(policy_tree, tmp_path):
    old = policy_tree / "city" / "2023.yaml"
    new = old.with_name("2023-revised.yaml")
    new.write_text(old.read_text("utf-8"), "utf-8")
    edit(new, "    draw_months: [4, 11]\n", "    draw_months: [4, 11]\n    not_checked_within: {months: 6}\n    batch_mode: split\n"
         '    batches:\n      - {name: 第一批, due: "2023-07-20"}\n      - {name: 第二批, due: "2023-10-15"}\n')
    said = [c.text for c in diff_files(old, new)]
    assert "任务“对在用计量器具的监督抽查”分批 不分批 → 分2批（拆分样本，同一主体只在一个批次，后批不再抽前批已抽的主体）：" \
           "第一批7月抽取、2023-07-20前完成；第二批10月抽取、2023-10-15前完成" in said
    assert "任务“对在用计量器具的监督抽查”近期未检查 未规定 → 近6个月内检查过的不抽" in said
