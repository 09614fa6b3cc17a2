from conftest import edit, line_of, policy_problems
from spotcheck.policy.yamlsource import parse_yaml, where_text


def test_dates_stay_text_and_only_true_false_are_booleans(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("a: 2023-10-01\nb: yes\nc: on\nd: true\ne: False\nf: 5%\n", encoding="utf-8")
    doc, problems = parse_yaml(path)
    assert problems == []
    assert doc.data == {"a": "2023-10-01", "b": "yes", "c": "on", "d": True, "e": "False", "f": "5%"}
    assert doc.positions.value(("b",)).line == 2 and doc.positions.key(("c",)).col == 1


def test_duplicate_key_names_both_lines(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "    scope_text: 本辖区加油站\n", "    scope_text: 本辖区加油站\n    scope_text: 加油站\n")
    first = line_of(path, "scope_text: 本辖区加油站")
    (p,) = policy_problems(path)
    assert (p.code, p.line, p.col) == ("P102", first + 1, 5)
    assert f"第 {first} 行" in p.message and f"第 {first + 1} 行" in p.message
    assert p.where == "任务 't01' → scope_text"


def test_syntax_error_has_the_line(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "    type: 定向\n", "    type: [定向\n")
    (p,) = policy_problems(path)
    assert p.code == "P101" and p.message.startswith("YAML 语法错误：")
    assert line_of(path, "type: [定向") <= p.line <= line_of(path, "type: [定向") + 2


def test_tab_indentation_is_explained(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("id: x\n\tyear: 2023\n", encoding="utf-8")
    _, (p,) = parse_yaml(path)
    assert (p.code, p.line, p.col) == ("P101", 2, 1)
    assert p.message.startswith("YAML 语法错误：含有制表符（Tab），缩进只能用空格")


def test_where_names_objects_by_id():
    data = {"tasks": [{"id": "t01"}, {"id": "t04", "sampling": {}}], "deadlines": {"results_public": {}},
            "items": [{"code": "A99"}]}
    assert where_text(("tasks", 1, "sampling", "ratio"), data) == "任务 't04' → sampling → ratio"
    assert where_text(("deadlines", "results_public", "after"), data) == "期限 'results_public' → after"
    assert where_text(("items", 0, "name"), data) == "事项 'A99' → name"
    assert where_text(("tasks", 1, "items", 2), {"tasks": [{}, {"id": "t02", "items": []}]}) == "任务 't02' → items → 第 3 项"


def test_full_width_colon_is_named_with_the_fix(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "    draw_months: [4, 11]\n", "    draw_months： [4, 11]\n")
    (p,) = policy_problems(path)
    assert p.code == "P101" and "全角字符“：”" in p.message and "半角“:”" in p.message
    assert p.line == line_of(path, "draw_months：") and "英文输入法" in p.hint


def test_full_width_percent_and_bare_fraction_suggest_the_percentage(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, 'sampling: {ratio: "5%"}', 'sampling: {ratio: "5％"}')
    (p,) = policy_problems(path)
    assert p.code == "P112" and "全角百分号" in p.message and '"5%"' in p.message
    edit(path, 'sampling: {ratio: "5％"}', "sampling: {ratio: 0.05}")
    (p,) = policy_problems(path)
    assert '0.05 应写成 "5%"' in p.message
    edit(path, "sampling: {ratio: 0.05}", 'sampling: {ratio: "0.3"}')
    (p,) = policy_problems(path)
    assert '0.3 应写成 "30%"' in p.message
