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
