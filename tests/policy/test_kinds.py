"""A jurisdiction's own kinds of object and scale values are words its conditions and cases may use."""

from __future__ import annotations

from conftest import line_of, policy_problems
from spotcheck.policy.cases import run_tests
from spotcheck.policy.loader import load_policy
from spotcheck.resources import POLICIES

POLICY = f"""\
id: test/grain/2023
extends: {POLICIES / "national" / "baseline.yaml"}
jurisdiction: {{code: "340225", name: 无为市市场监督管理局, region: 无为市, level: city}}
year: 2023
kinds:
  库点: {{uscc_codes: ["91"], scale: 粮食信用}}
scales:
  粮食信用: {{name: 粮食企业信用等级, values: {{一星: 较差, 三星: 一般, 五星: 优秀}}}}
tasks:
  - id: t01
    name: 储备粮库点抽查
    type: 定向
    items: []
    scope: {{field: type, op: eq, value: 库点}}
    scope_text: 备查库点
    sampling:
      ratio: "30%"
      stratify: [tier]
      classes: [{{id: low, name: 一星库点, when: {{field: tier, op: eq, value: 一星}}, ratio: "100%"}}]
    draw_months: [3, 10]
"""

CASES = """\
policy: 2023.yaml
cases:
  - name: 一星库点全部抽查
    entity: {uscc: 91340225MA2N000000, type: 库点, status: 存续, district: "340225", tier: 一星}
    expect: {in_scope: [t01], ratio: {t01: "100%"}}
"""


def test_declared_kinds_and_scale_values_are_condition_words(tmp_path):
    path = tmp_path / "2023.yaml"
    path.write_text(POLICY, encoding="utf-8")
    (tmp_path / "2023.cases.yaml").write_text(CASES, encoding="utf-8")
    task = load_policy(path).policy.tasks[0]
    assert task.scope.value == "库点" and task.sampling.classes[0].when.value == "一星"
    run = run_tests([tmp_path])
    assert run.ok and run.passed == 1


def test_an_undeclared_kind_in_a_condition_is_located_with_the_declared_one_suggested(tmp_path):
    path = tmp_path / "2023.yaml"
    path.write_text(POLICY.replace("value: 库点}", "value: 库典}").replace("value: 一星}", "value: 二星}"), encoding="utf-8")
    problems = policy_problems(path)
    assert [p.code for p in problems] == ["P112", "P112"]
    assert "'库典' 不是主体类型的可选值，是否想写 '库点'？" in problems[0].message
    assert problems[0].line == line_of(path, "value: 库典")
    assert "'二星' 不是信用风险等级的可选值" in problems[1].message and "五星" in problems[1].message


def test_a_case_entity_of_an_undeclared_kind_is_located(tmp_path):
    (tmp_path / "2023.yaml").write_text(POLICY, encoding="utf-8")
    cases = tmp_path / "2023.cases.yaml"
    cases.write_text(CASES.replace("type: 库点", "type: 库典").replace("tier: 一星", "tier: E"), encoding="utf-8")
    run = run_tests([tmp_path])
    kind, tier = run.problems
    assert kind.code == tier.code == "P251" and kind.line == line_of(cases, "type: 库典")
    assert "用例主体的主体类型 '库典' 不是策略可用的值，是否想写 '库点'？" in kind.message
    assert "用例主体的信用风险等级 'E' 不是策略可用的值" in tier.message and "五星" in tier.hint
