from conftest import edit, line_of
from spotcheck.policy.validate import validate_report


def test_a_misspelt_label_is_refused_with_the_declared_one_suggested(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "value: 加油站}", "value: 加油占}")
    report = validate_report([path])
    (problem,) = report.problems
    assert (problem.code, problem.line, problem.col) == ("P280", line_of(path, "加油占"), 49)
    assert problem.message == "监管标签“加油占”未在 labels 中声明，是否想写 '加油站'？"
    assert "已声明：加油站、拍卖企业、广告发布单位" in problem.hint


def test_labels_in_lists_and_nested_conditions_are_checked(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "{field: labels, op: contains, value: 广告发布单位}", "{field: labels, op: any_of, value: [广告发布单位, 广告经营单位]}")
    (problem,) = validate_report([path]).problems
    assert problem.message.startswith("监管标签“广告经营单位”未在 labels 中声明")
    assert problem.where == "任务 't03' → scope → all → 第 2 项 → value → 第 2 项"


def test_a_parents_labels_serve_the_child_and_the_child_may_add(policy_tree):
    parent, child = policy_tree / "national" / "baseline.yaml", policy_tree / "city" / "2023.yaml"
    edit(child, "  拍卖企业:\n", "")
    edit(parent, "\ncaps:", "\nlabels:\n  拍卖企业: 取得拍卖经营批准证书的企业\n\ncaps:")
    assert validate_report([child]).problems == []
    edit(child, "value: 拍卖企业}", "value: 拍买企业}")
    assert [p.code for p in validate_report([child]).problems] == ["P280"]


def test_labels_used_without_a_declared_list_are_a_warning_once(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "labels:\n  加油站: 成品油零售经营企业\n  拍卖企业:\n  广告发布单位:\n", "")
    report = validate_report([path])
    assert report.problems == []
    (warning,) = report.warnings
    assert (warning.code, warning.line, warning.warning) == ("W930", line_of(path, "value: 加油站"), True)


def _with_departments(path):
    edit(path, "  short: 示市监\n", "  short: 示市监\n  departments: [计量科, 信用监管科]\n")


def test_a_guide_naming_no_declared_unit_is_refused_with_a_suggestion(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    _with_departments(path)
    edit(path, "    draw_months: [4, 11]\n", "    draw_months: [4, 11]\n    guide: 计量库\n")
    edit(path, "    draw_months: [6, 8]\n", "    draw_months: [6, 8]\n    lead_unit: 市局信用监管科\n")  # the bureau's prefix
    (problem,) = validate_report([path]).problems
    assert (problem.code, problem.line) == ("P281", line_of(path, "guide: 计量库"))
    assert problem.message == "指导单位“计量库”不是策略声明的科室、部门或单位，是否想写 '计量科'？"
    edit(path, "labels:\n", "unit_names: {计量库: 计量科}\nlabels:\n")
    assert validate_report([path]).problems == []


def test_unit_names_must_map_to_a_declared_unit(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    _with_departments(path)
    edit(path, "labels:\n", "unit_names: {计量库: 计量处}\nlabels:\n")
    (problem,) = validate_report([path]).problems
    assert (problem.code, problem.line) == ("P282", line_of(path, "unit_names"))


def test_without_declared_departments_units_stay_free_text(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "    draw_months: [4, 11]\n", "    draw_months: [4, 11]\n    guide: 计量库\n")
    assert validate_report([path]).problems == []


def test_a_label_in_the_condition_of_an_item_a_task_names_is_checked(policy_tree):
    path, items = policy_tree / "city" / "2023.yaml", policy_tree / "items" / "demo-2023.yaml"
    edit(items, "  - {code: S01, name: 拍卖活动经营资格的检查}",
         "  - {code: S01, name: 拍卖活动经营资格的检查, condition: {field: labels, op: contains, value: 拍卖企")
    edit(items, "拍卖企\n", "拍卖企业}}\n")
    assert validate_report([path]).problems == []
    edit(items, "value: 拍卖企业}}", "value: 拍买企业}}")
    (problem,) = validate_report([path]).problems
    assert (problem.code, problem.where) == ("P280", "任务 't02' → items → 第 1 项")
    assert problem.message == "事项 S01 的适用条件中的监管标签“拍买企业”未在本策略 labels 中声明，是否想写 '拍卖企业'？"


def test_the_units_of_contacts_and_of_the_items_a_task_names_are_declared_ones(policy_tree):
    path, items = policy_tree / "city" / "2023.yaml", policy_tree / "items" / "demo-2023.yaml"
    _with_departments(path)
    edit(items, "    specialty: 计量\n", "    specialty: 计量\n    unit: 计量科\n")
    edit(path, "    - {code: \"149901\", name: 东区, unit: 示范市东区市场监督管理局}",
         "    - {code: \"149901\", name: 东区, unit: 示范市东区市场监督管理局, contacts: [{name: 张三, unit: 信用监管科}]}")
    assert validate_report([path]).problems == []
    edit(items, "unit: 计量科\n", "unit: 计量股\n")
    edit(path, "contacts: [{name: 张三, unit: 信用监管科}]", "contacts: [{name: 张三, unit: 信用科}]")
    problems = validate_report([path]).problems
    assert {p.message for p in problems} == {
        "联系人所在科室“信用科”不是策略声明的科室、部门或单位，是否想写 '信用监管科'？",
        "事项 J01 的责任单位“计量股”不是策略声明的科室、部门或单位，是否想写 '计量科'？"}
    assert {p.code for p in problems} == {"P281"}
