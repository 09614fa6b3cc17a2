from pathlib import Path

import pytest
from conftest import POLICY_FIXTURES, edit, line_of
from pydantic import ValidationError
from spotcheck.policy.casefile import Case
from spotcheck.policy.cases import run_tests
from spotcheck.policy.validate import validate_report


def failures(run):
    return [(Path(r.file).name, r.line, r.name) for r in run.results if not r.passed]


def test_fixture_cases_pass():
    run = run_tests([POLICY_FIXTURES])
    assert run.ok and run.problems == ()
    assert (run.passed, run.failed) == (10, 0)


def test_changing_a_scope_fails_the_case_on_its_line(policy_tree):
    edit(policy_tree / "city" / "2023.yaml", "scope: {field: labels, op: contains, value: 加油站}",
         "scope: {field: labels, op: contains, value: 加油点}")
    edit(policy_tree / "city" / "2023.yaml", "  拍卖企业:\n", "  拍卖企业:\n  加油点:\n")  # declared: not a typo
    run = run_tests([policy_tree])
    cases = policy_tree / "city" / "2023.cases.yaml"
    assert failures(run) == [
        ("2023.cases.yaml", line_of(cases, "- name: 加油站在计量器具任务范围内"), "加油站在计量器具任务范围内，不在拍卖任务范围内"),
        ("2023.cases.yaml", line_of(cases, "- name: 本年度已查两次"), "本年度已查两次的低风险企业不再抽取"),
    ]
    first = next(r for r in run.results if not r.passed)
    text = first.format()
    assert text.startswith(f"{cases}:{first.line}: 用例“加油站在计量器具任务范围内，不在拍卖任务范围内”未通过")
    assert "✗ 应在任务 t01 的抽查范围内，实际不在" in text
    assert "✗ 监管标签含加油点（实际：加油站）" in text  # conditions.explain
    assert "合并检查事项应为 J01、J02、A99，实际为 A99；缺少 J01、J02" in text
    assert not run.ok


def test_ratio_cap_and_deadline_failures(policy_tree):
    cases = policy_tree / "city" / "2023.cases.yaml"
    edit(cases, 'ratio: {t01: "2.5%"}', 'ratio: {t01: "3%"}')
    edit(cases, "capped: {t01: low_risk, t03: true}", "capped: {t01: false, t03: tier-A}")
    edit(cases, 'expect: {date: "2023-10-27"}', 'expect: {date: "2023-10-26"}')
    run = run_tests([cases])
    assert [r.failures for r in run.results if not r.passed] == [
        ("任务 t01 对 A 级主体的抽查比例应为 3%，实际为 2.5%",),
        ("任务 t01：不应被频次上限排除，实际被 low_risk 排除", "任务 t03：应因频次上限 tier-A 被排除，实际被 low_risk 排除"),
        ("期限 results_public 自 2023-09-25 起算：应为 2023-10-26，实际为 2023-10-27",),
    ]
    deadline = [r for r in run.results if not r.passed][-1]
    assert "跳过" in deadline.explanation and "国庆节" in deadline.explanation


def test_tier_caps_count_as_caps(policy_tree):
    edit(policy_tree / "city" / "2023.yaml", 'D: {label: 高风险, ratio: "100%"}',
         'D: {label: 高风险, ratio: "100%"}\n    B: {label: 一般风险, max_checks_per_year: 1}')
    cases = policy_tree / "city" / "2023.cases.yaml"
    edit(cases, "  - name: 个体工商户不在广告任务范围内\n",
         "  - name: 一般风险企业每年至多一次\n"
         "    entity: {uscc: 91149901MA0K00001E, type: 企业, status: 存续, district: \"149901\", tier: B, labels: [加油站]}\n"
         "    history: [{year: 2023, task: t02}]\n"
         "    expect: {capped: {t01: tier-B}}\n"
         "  - name: 个体工商户不在广告任务范围内\n")
    assert run_tests([cases]).ok


def test_policy_without_cases_file_or_without_cases_fails(policy_tree):
    (policy_tree / "city" / "2022.cases.yaml").unlink()
    run = run_tests([policy_tree])
    assert [(p.code, p.file) for p in run.problems] == [("P402", str(policy_tree / "city" / "2022.yaml"))]
    assert not run.ok and run.failed == 0
    (policy_tree / "city" / "2022.cases.yaml").write_text("policy: 2022.yaml\ncases: []\n", encoding="utf-8")
    run = run_tests([policy_tree / "city" / "2022.yaml"])
    assert [(p.code, p.line) for p in run.problems] == [("P402", 2)]


def test_broken_policy_and_unknown_ids_are_problems(policy_tree):
    edit(policy_tree / "city" / "2022.yaml", 'ratio: "50%"', 'ratio: "5O%"')
    cases = policy_tree / "city" / "2023.cases.yaml"
    edit(cases, "not_in_scope: [t02, t03]", "not_in_scope: [t02, t30]")
    edit(cases, "deadline: {id: tasks_done", "deadline: {id: task_done")
    run = run_tests([policy_tree / "city"])
    assert [(Path(p.file).name, p.code, p.line) for p in run.problems] == [
        ("2022.cases.yaml", "P401", line_of(policy_tree / "city" / "2022.cases.yaml", "policy:")),
        ("2023.cases.yaml", "P403", line_of(cases, "t30")),
        ("2023.cases.yaml", "P404", line_of(cases, "task_done")),
    ]
    assert "是否想写 'tasks_done'" in run.problems[2].message


def test_case_shape_is_checked():
    entity = {"uscc": "91149901MA0K00001E", "tier": "B"}
    Case.model_validate({"name": "x", "entity": entity, "expect": {"in_scope": ["t01"]}})
    for bad in (
        {"name": "x", "entity": entity, "deadline": {"id": "d", "from": "2023-01-01"}, "expect": {"in_scope": ["t01"]}},
        {"name": "x", "entity": entity, "expect": {}},
        {"name": "x", "entity": entity, "expect": {"date": "2023-01-01"}},
        {"name": "x", "deadline": {"id": "d", "from": "2023-01-01"}, "expect": {"in_scope": ["t01"]}},
    ):
        with pytest.raises(ValidationError):
            Case.model_validate(bad)


def test_a_case_entity_with_an_undeclared_label_is_named(policy_tree):
    # 加油占 for 加油站 would make a not_in_scope case pass for the wrong reason.
    cases = policy_tree / "city" / "2023.cases.yaml"
    text = cases.read_text("utf-8")
    cases.write_text(text.replace("labels: [加油站]", "labels: [加油占]", 1), "utf-8")
    problems = validate_report([cases]).problems
    assert [(p.code, p.line) for p in problems] == [("P292", line_of(cases, "加油占"))]
    assert problems[0].message == "用例主体的监管标签“加油占”未在策略 labels 中声明，是否想写 '加油站'？"
