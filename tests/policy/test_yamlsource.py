import pytest
from conftest import edit, line_of, policy_problems
from spotcheck.policy.validate import validate_paths
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


@pytest.mark.parametrize(("copied", "ratio", "key"), [("不低于5%", "5%", "at_least: true"), ("不高于 10%", "10%", "at_most: true"),
                                                   ("≥20%", "20%", "at_least: true"), ("30%以上", "30%", "at_least: true"),
                                                   ("≤10%", "10%", "at_most: true"), ("10%及以下", "10%", "at_most: true")])
def test_a_ratio_copied_with_its_bound_from_the_plans_table_names_the_key_for_the_bound(policy_tree, copied, ratio, key):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, 'sampling: {ratio: "5%"}', f'sampling: {{ratio: "{copied}"}}')
    (p,) = policy_problems(path)
    assert p.code == "P112" and f'只写 "{ratio}"' in p.message and key in p.message


@pytest.mark.parametrize(("copied", "fix"), [
    ("3%-5%", 'ratio: "3%" 和 ratio_max: "5%"'), ("3—5%", 'ratio: "3%" 和 ratio_max: "5%"'),
    ("3‰", '"0.3%"'), ("千分之三", '"0.3%"'), ("百分之五", '"5%"'), ("百分之三十五", '"35%"'), ("百分之零点五", '"0.5%"'),
    ("不少于10户", "min_count: 10"), ("10户", "count: 10"), ("5 %", '"5%"'),
])
def test_a_ratio_copied_from_the_plans_words_says_how_the_policy_writes_it(policy_tree, copied, fix):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, 'sampling: {ratio: "5%"}', f'sampling: {{ratio: "{copied}"}}')
    (p,) = policy_problems(path)
    assert p.code == "P112" and fix in p.message and p.line == line_of(path, copied)


# ---------------------------------------------------------------- hostile files: a located P104/P106, never a crash


def test_deep_nesting_is_refused_at_its_line(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("id: x\nsteps: " + "[" * 2000 + "]" * 2000 + "\n", encoding="utf-8")
    _, (p,) = parse_yaml(path)
    assert (p.code, p.line) == ("P104", 2) and "嵌套超过" in p.message


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("id: x\nsteps: &r [*r]\n", encoding="utf-8")
    _, (p,) = parse_yaml(path)
    assert (p.code, p.line) == ("P104", 2) and "循环" in p.message


def test_an_alias_bomb_is_refused_before_it_expands(tmp_path):
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    lines += [f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi")]
    path = tmp_path / "x.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _, (p,) = parse_yaml(path)
    assert p.code == "P104" and "展开后超过" in p.message


def test_shared_anchors_within_budget_still_read(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("a: &a {x: 1}\nb: [*a, *a]\n", encoding="utf-8")
    doc, problems = parse_yaml(path)
    assert problems == [] and doc.data["b"] == [{"x": 1}, {"x": 1}]


@pytest.mark.parametrize("escape, code_point", [
    ("\\ud800", "U+D800"), ("\\x00", "U+0000"), ("\\x01", "U+0001"), ("\\e", "U+001B"), ("\\v", "U+000B"),
    ("\\ufffe", "U+FFFE"),
])
def test_unencodable_and_control_characters_are_refused(policy_tree, escape, code_point):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "name: 示范市市场监督管理局", f'name: "示范市{escape}市场监督管理局"')
    (p,) = policy_problems(path)
    assert (p.code, p.line) == ("P106", line_of(path, "name: \"示范市")) and code_point in p.message


def test_a_byte_order_mark_is_not_part_of_the_first_line(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    doc, problems = parse_yaml(path)
    assert problems == [] and doc.text.startswith("# yaml-language-server")
    assert validate_paths([path]) == []
