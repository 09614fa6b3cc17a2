import pytest
from conftest import edit, line_of, policy_problems


@pytest.mark.parametrize(("old", "new", "at", "words", "where"), [
    ("fuse_general_items: true", "fuse_general_items: yes", "fuse_general_items", ("true 或 false", "'yes'"),
     "merge → fuse_general_items"),
    ('sampling: {ratio: "5%"}', "sampling: {ratio: 0.05}", "ratio: 0.05", ('"5%"',), "任务 't01' → sampling → ratio"),
], ids=["yes-for-a-bool", "float-ratio-gets-the-quoting-advice"])
def test_a_wrong_value_is_one_p112_in_chinese_on_its_line(policy_tree, old, new, at, words, where):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, old, new)
    (p,) = policy_problems(path)
    assert (p.code, p.line, p.where) == ("P112", line_of(path, at), where)
    assert all(w in p.message for w in words) and "Value error" not in p.message


def test_misspelt_key_suggests_the_field(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, 'sampling: {ratio: "100%"}', 'sampling: {ratoi: "100%"}')
    (p,) = policy_problems(path)
    line = line_of(path, "ratoi")
    assert (p.code, p.line, p.col) == ("P111", line, path.read_text().splitlines()[line - 1].index("ratoi") + 1)
    assert p.message == "未知的键 'ratoi'，是否想写 'ratio'？"
    assert p.where == "任务 't02' → sampling → ratoi"


@pytest.mark.parametrize(("old", "new", "hint"), [
    ('sampling: {ratio: "5%"}', 'sampling: {ratio: "5%"}\n    times_per_year: 2',
     "times_per_year 是 sampling 中的键：移到 sampling 下"),
    ('sampling: {ratio: "5%"}', 'sampling: {ratio: "5%", draw_by: "2023-05-01"}',
     "draw_by 不写在 sampling 中：移到上一层，与 sampling 并列"),
], ids=["one-level-in", "one-level-out"])
def test_a_key_written_a_level_off_is_told_where_it_belongs(policy_tree, old, new, hint):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, old, new)
    (p,) = policy_problems(path)
    assert p.code == "P111" and p.hint.startswith(hint), p.hint


@pytest.mark.parametrize(("new", "hint"), [
    ("draw_months: [4月, 11]", "只写数字 4，"),
    ("draw_months: 4月、11月", "列表写成 [4, 11]"),
    ("draw_months: 4月-11月", "“4月-11月”写成 [4, 11]（起始月, 结束月）"),
    ("draw_months: 3月份至12月份", "“3月份至12月份”写成 [3, 12]"),
    ("draw_months: 第二季度", "“第二季度”写成 [4, 6]"),
    ("draw_months: 全年", "“全年”写成 [1, 12]"),
    ("draw_months: 下半年", "“下半年”写成 [7, 12]"),
], ids=["a-month-with-its-unit", "a-list-as-text", "a-span", "a-span-with-至", "a-quarter", "the-year", "a-half"])
def test_numbers_and_lists_copied_from_the_plans_words_are_shown_as_written_in_a_policy(policy_tree, new, hint):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "draw_months: [4, 11]", new)
    (p,) = policy_problems(path)
    assert p.code == "P112" and p.hint.startswith(hint), p.hint


@pytest.mark.parametrize(("written", "meant"), [
    ("type: 定向抽查", "定向"), ("type: 不定向抽查", "不定向"), ("inspection: 市抽县查", "市抽县(区)查"),
    ("inspection: 市抽县（区）查", "市抽县(区)查"), ("inspection: 区抽区查", "县抽县查"), ("inspection: 市抽区查", "市抽县(区)查"),
])
def test_an_allowed_value_written_as_plans_write_it_is_told_which_it_is(policy_tree, written, meant):
    path = policy_tree / "city" / "2023.yaml"
    key = written.split(":")[0]
    if key == "type":
        edit(path, "    type: 定向\n", f"    {written}\n")
    else:
        edit(path, "    draw_months: [6, 8]\n", f"    draw_months: [6, 8]\n    {written}\n")
    problems = [p for p in policy_problems(path) if p.code == "P112"]
    assert [p.hint for p in problems] == [f"写成 '{meant}'"]


def test_an_allowed_value_unlike_any_is_given_no_guess(policy_tree):
    # 市抽县查 looks more like 市抽市查 than 市抽县(区)查: a guess by likeness would have named the wrong one.
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "    draw_months: [6, 8]\n", "    draw_months: [6, 8]\n    inspection: 省抽省查\n")
    (p,) = [p for p in policy_problems(path) if p.code == "P112"]
    assert p.hint is None


def test_a_span_of_months_off_the_calendar_gets_no_made_up_fix(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "draw_months: [4, 11]", "draw_months: 11月-4月")
    (p,) = policy_problems(path)
    assert p.code == "P112" and p.hint is None


def test_a_key_run_into_its_value_and_chinese_quotes_are_named_with_the_fix(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, 'sampling: {ratio: "5%"}', 'sampling: {ratio:"5%"}')
    (p,) = policy_problems(path)
    assert (p.code, p.hint) == ("P111", '冒号后加一个空格：ratio: "5%"')
    edit(path, 'sampling: {ratio:"5%"}', 'sampling: {ratio: “5%”}')
    (p,) = policy_problems(path)
    assert p.code == "P112" and p.hint.startswith('“”‘’ 是中文引号，YAML 只认英文引号：写成 "5%"')


def test_missing_key_and_bad_date_in_chinese(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "    scope_text: 全市拍卖企业\n", "")
    edit(path, 'window: {start: "2023-07-01"', 'window: {start: "2023-07-32"')
    problems = policy_problems(path)
    assert {(p.code, p.message.split("，")[0]) for p in problems} == {
        ("P110", "缺少必填项 'scope_text'"), ("P112", "日期格式不对")}
    missing = next(p for p in problems if p.code == "P110")
    assert missing.where == "任务 't02' → scope_text" and missing.line == line_of(path, "id: t02")


def test_a_pair_written_as_one_month_names_the_missing_position_and_the_form(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "draw_months: [4, 11]", "draw_months: [4]")
    (p,) = policy_problems(path)
    assert (p.code, p.line, p.where) == ("P110", line_of(path, "draw_months: [4]"), "任务 't01' → draw_months → 第 2 项")
    assert p.message.startswith("抽取月份（[起始月, 结束月]") and p.message.endswith("少写了第 2 项")


def test_condition_errors_point_into_the_scope(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "{field: type, op: eq, value: 企业}", "{field: type, op: eq, value: 公司}")
    (p,) = policy_problems(path)
    assert p.line == line_of(path, "value: 公司") and "'公司'" in p.message
    assert p.where == "任务 't03' → scope → all → 第 1 项 → value"
