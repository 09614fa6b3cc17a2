import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from spotcheck.calendar import WorkCalendar
from spotcheck.errors import SpotcheckError
from spotcheck.loader import (
    CALENDAR,
    CASES,
    ITEM_LIST,
    POLICY,
    Session,
    file_kind,
    load_item_list,
    load_policy,
)
from spotcheck.yamlsource import parse_yaml, where_text

FIXTURES = Path(__file__).parent / "fixtures" / "policies"
ROOT = Path(__file__).parent.parent


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """A writable copy of the fixture policies, laid out as in the repository (validators/ three levels up)."""
    shutil.copytree(FIXTURES, tmp_path / "tests" / "fixtures" / "policies")
    shutil.copytree(ROOT / "validators", tmp_path / "validators")
    monkeypatch.chdir(tmp_path)
    return Path("tests/fixtures/policies")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str, after: int = 0) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if i > after and needle in line)


def problems_of(path: Path):
    with pytest.raises(SpotcheckError) as exc:
        load_policy(path)
    return exc.value.problems


# ---------------------------------------------------------------- resolution


def test_child_inherits_parent_rules_and_overrides_its_own():
    loaded = load_policy(FIXTURES / "city" / "2023.yaml")
    p = loaded.policy
    assert p.id == "fixture/city/2023" and p.year == 2023
    assert p.targets["enterprise_coverage"].value == Decimal("5")  # child's own, tighter
    assert p.deadlines["results_public"].working_days == 20  # inherited from the baseline
    assert p.deadlines["tasks_done"].on.isoformat() == "2023-12-20"  # the child's own entry beside it
    assert [c.id for c in p.caps] == ["low_risk"]
    assert p.team.min_size == 2
    assert p.jurisdiction.level == "city"  # identity is never inherited
    assert [str(c.relative_to(FIXTURES)) for c in loaded.chain] == ["national/baseline.yaml", "city/2023.yaml"]
    assert list(loaded.items) == ["J01", "J02", "S01", "G01", "A99"]
    assert [il.id for il in loaded.item_lists] == ["demo-2023"]
    assert isinstance(loaded.calendar, WorkCalendar)


def test_inherited_values_keep_the_parent_file_position():
    loaded = load_policy(FIXTURES / "city" / "2023.yaml")
    pos = loaded.pos("deadlines", "results_public", "working_days")
    assert pos.file.endswith("national/baseline.yaml")
    assert pos.line == line_of(FIXTURES / "national" / "baseline.yaml", "working_days: 20")
    own = loaded.pos("tasks", 1, "sampling", "ratio")
    assert own.file.endswith("city/2023.yaml")
    assert own.line == line_of(FIXTURES / "city" / "2023.yaml", 'ratio: "100%"')


def test_sha256_is_stable_and_follows_the_content(tree):
    path = tree / "city" / "2023.yaml"
    first = load_policy(path).sha256
    assert load_policy(path).sha256 == first and len(first) == 64
    edit(path, "# Test fixture", "# A comment changes nothing\n# Test fixture")
    assert load_policy(path).sha256 == first
    edit(path, 'sampling: {ratio: "5%"}', 'sampling: {ratio: "6%"}')
    assert load_policy(path).sha256 != first


def test_item_list_change_changes_the_sha256(tree):
    path = tree / "city" / "2023.yaml"
    first = load_policy(path).sha256
    edit(tree / "items" / "demo-2023.yaml", "计量标准的监督检查", "计量标准的检查")
    assert load_policy(path).sha256 != first


def test_visit_items_in_task_order_then_one_plus_x_then_general_items():
    loaded = load_policy(FIXTURES / "city" / "2023.yaml")
    assert loaded.visit_items(["t02", "t01"]) == ["J01", "S01", "J02", "A99"]
    assert loaded.visit_items(["t03"]) == ["G01", "A99"]
    with pytest.raises(SpotcheckError) as exc:
        loaded.visit_items(["t09"])
    assert exc.value.problems[0].code == "P403"


def test_general_items_only_when_fused(tree):
    path = tree / "city" / "2023.yaml"
    edit(path, "fuse_general_items: true", "fuse_general_items: false")
    assert load_policy(path).visit_items(["t03"]) == ["G01"]


def test_caps_merge_by_id_and_item_lists_accumulate(tree):
    base = tree / "national" / "baseline.yaml"
    edit(base, "team:", "item_lists: [../items/demo-2022.yaml]\nteam:")
    city = tree / "city" / "2023.yaml"
    edit(city, "deadlines:", "caps:\n  - {id: d_tier, name: 高风险每年至多4次, when: {field: tier, op: eq, value: D}, "
                             "max_per_year: 4}\n  - {id: low_risk, name: 低风险每年1次, when: {field: tier, op: eq, value: A}, "
                             "max_per_year: 1}\ndeadlines:")
    loaded = load_policy(city)
    assert [(c.id, c.max_per_year) for c in loaded.policy.caps] == [("low_risk", 1), ("d_tier", 4)]
    assert loaded.policy.item_lists == ["../items/demo-2022.yaml", "../items/demo-2023.yaml"]
    assert [il.id for il in loaded.item_lists] == ["demo-2022", "demo-2023"]
    assert loaded.pos("caps", 0, "max_per_year").line == line_of(city, "max_per_year: 1")


def test_child_deadline_entry_replaces_the_parents_whole(tree):
    city = tree / "city" / "2023.yaml"
    edit(city, "deadlines:\n", "deadlines:\n  results_public: {name: 结果公示, calendar_days: 10, after: check_completed}\n")
    rule = load_policy(city).policy.deadlines["results_public"]
    assert (rule.working_days, rule.calendar_days, rule.name) == (None, 10, "结果公示")


# ---------------------------------------------------------------- strict YAML


def test_file_kinds_by_location():
    assert file_kind(Path("policies/hebei/items/2023.yaml")) == ITEM_LIST
    assert file_kind(Path("policies/calendars/2027.yaml")) == CALENDAR
    assert file_kind(Path("policies/shanxi/shuozhou/2021.cases.yaml")) == CASES
    assert file_kind(Path("policies/shanxi/shuozhou/2021.yaml")) == POLICY
    assert file_kind(Path("/home/calendars/repo/policies/x/2021.yaml")) == POLICY
    assert file_kind(Path("policies/README.md")) is None


def test_dates_stay_text_and_only_true_false_are_booleans(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("a: 2023-10-01\nb: yes\nc: on\nd: true\ne: False\nf: 5%\n", encoding="utf-8")
    doc, problems = parse_yaml(path)
    assert problems == []
    assert doc.data == {"a": "2023-10-01", "b": "yes", "c": "on", "d": True, "e": "False", "f": "5%"}
    assert doc.positions.value(("b",)).line == 2 and doc.positions.key(("c",)).col == 1


def test_duplicate_key_names_both_lines(tree):
    path = tree / "city" / "2023.yaml"
    edit(path, "    scope_text: 本辖区加油站\n", "    scope_text: 本辖区加油站\n    scope_text: 加油站\n")
    first = line_of(path, "scope_text: 本辖区加油站")
    (p,) = problems_of(path)
    assert (p.code, p.line, p.col) == ("P102", first + 1, 5)
    assert f"第 {first} 行" in p.message and f"第 {first + 1} 行" in p.message
    assert p.where == "任务 't01' → scope_text"


def test_yes_where_a_bool_is_expected(tree):
    path = tree / "city" / "2023.yaml"
    edit(path, "fuse_general_items: true", "fuse_general_items: yes")
    (p,) = problems_of(path)
    assert (p.code, p.line) == ("P112", line_of(path, "fuse_general_items"))
    assert "true 或 false" in p.message and "'yes'" in p.message
    assert p.where == "merge → fuse_general_items"


def test_float_ratio_is_refused_with_the_quoting_advice(tree):
    path = tree / "city" / "2023.yaml"
    edit(path, 'sampling: {ratio: "5%"}', "sampling: {ratio: 0.05}")
    (p,) = problems_of(path)
    assert (p.code, p.line) == ("P112", line_of(path, "ratio: 0.05"))
    assert '"5%"' in p.message and "Value error" not in p.message
    assert p.where == "任务 't01' → sampling → ratio"


def test_misspelt_key_suggests_the_field(tree):
    path = tree / "city" / "2023.yaml"
    edit(path, 'sampling: {ratio: "100%"}', 'sampling: {ratoi: "100%"}')
    (p,) = problems_of(path)
    line = line_of(path, "ratoi")
    assert (p.code, p.line, p.col) == ("P111", line, path.read_text().splitlines()[line - 1].index("ratoi") + 1)
    assert p.message == "未知的键 'ratoi'，是否想写 'ratio'？"
    assert p.where == "任务 't02' → sampling → ratoi"


def test_syntax_error_has_the_line(tree):
    path = tree / "city" / "2023.yaml"
    edit(path, "    type: 定向\n", "    type: [定向\n")
    (p,) = problems_of(path)
    assert p.code == "P101" and p.message.startswith("YAML 语法错误：")
    assert line_of(path, "type: [定向") <= p.line <= line_of(path, "type: [定向") + 2


def test_tab_indentation_is_explained(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("id: x\n\tyear: 2023\n", encoding="utf-8")
    _, (p,) = parse_yaml(path)
    assert (p.code, p.line, p.col) == ("P101", 2, 1)
    assert p.message.startswith("YAML 语法错误：含有制表符（Tab），缩进只能用空格")


def test_missing_key_and_bad_date_in_chinese(tree):
    path = tree / "city" / "2023.yaml"
    edit(path, "    scope_text: 全市拍卖企业\n", "")
    edit(path, 'window: {start: "2023-07-01"', 'window: {start: "2023-07-32"')
    problems = problems_of(path)
    assert {(p.code, p.message.split("，")[0]) for p in problems} == {
        ("P110", "缺少必填项 'scope_text'"), ("P112", "日期格式不对")}
    missing = next(p for p in problems if p.code == "P110")
    assert missing.where == "任务 't02' → scope_text" and missing.line == line_of(path, "id: t02")


def test_condition_errors_point_into_the_scope(tree):
    path = tree / "city" / "2023.yaml"
    edit(path, "{field: type, op: eq, value: 企业}", "{field: type, op: eq, value: 公司}")
    (p,) = problems_of(path)
    assert p.line == line_of(path, "value: 公司") and "'公司'" in p.message
    assert p.where == "任务 't03' → scope → all → 第 1 项 → value"


def test_where_names_objects_by_id():
    data = {"tasks": [{"id": "t01"}, {"id": "t04", "sampling": {}}], "deadlines": {"results_public": {}},
            "items": [{"code": "A99"}]}
    assert where_text(("tasks", 1, "sampling", "ratio"), data) == "任务 't04' → sampling → ratio"
    assert where_text(("deadlines", "results_public", "after"), data) == "期限 'results_public' → after"
    assert where_text(("items", 0, "name"), data) == "事项 'A99' → name"
    assert where_text(("tasks", 1, "items", 2), {"tasks": [{}, {"id": "t02", "items": []}]}) == "任务 't02' → items → 第 3 项"


# ---------------------------------------------------------------- floors and chains


def test_lowering_the_national_floor_names_both_files_and_lines(tree):
    city, base = tree / "city" / "2023.yaml", tree / "national" / "baseline.yaml"
    edit(city, 'value: "5%"', 'value: "2%"')
    (p,) = problems_of(city)
    child_line, parent_line = line_of(city, 'value: "2%"'), line_of(base, 'value: "3%"')
    assert (p.code, p.file, p.line) == ("P301", str(city), child_line)
    assert p.message == (f"年度抽查企业占比 2% 低于上级策略 {base}:{parent_line}:12 规定的 3%，只能收紧不能放宽")


def test_every_floor_is_checked(tree):
    city = tree / "city" / "2023.yaml"
    edit(city, "deadlines:\n", "team: {min_size: 1}\ncaps:\n  - {id: low_risk, name: x, when: {field: tier, op: eq, "
                               "value: A}, max_per_year: 3}\ndeadlines:\n  results_public: {name: 公示, working_days: 25, "
                               "after: check_completed}\n")
    problems = problems_of(city)
    assert [(p.code, p.line) for p in problems] == [
        ("P301", line_of(city, "min_size: 1")), ("P301", line_of(city, "max_per_year: 3")),
        ("P301", line_of(city, "working_days: 25"))]
    assert "每组最少人数 1 人 少于上级策略" in problems[0].message
    assert "每年 3 次 多于上级策略" in problems[1].message
    assert "25个工作日 长于上级策略" in problems[2].message


def test_tightening_is_allowed(tree):
    city = tree / "city" / "2023.yaml"
    edit(city, "deadlines:\n", "team: {min_size: 3}\ndeadlines:\n  results_public: {name: 公示, working_days: 15, "
                               "after: check_completed}\n")
    policy = load_policy(city).policy
    assert (policy.team.min_size, policy.deadlines["results_public"].working_days) == (3, 15)


def test_extends_cycle_and_missing_parent(tree):
    base = tree / "national" / "baseline.yaml"
    edit(base, "id: fixture/national/baseline", "id: fixture/national/baseline\nextends: ../city/2023.yaml")
    problems = problems_of(tree / "city" / "2023.yaml")
    assert [p.code for p in problems] == ["P302"]
    assert "循环" in problems[0].message and problems[0].line == line_of(base, "extends:")
    edit(base, "extends: ../city/2023.yaml", "extends: ../nowhere.yaml")
    (p,) = problems_of(base)
    assert p.code == "P303" and "nowhere.yaml" in p.message


def test_missing_item_list_file(tree):
    city = tree / "city" / "2023.yaml"
    edit(city, "item_lists: [../items/demo-2023.yaml]", "item_lists: [../items/demo-2030.yaml]")
    (p,) = problems_of(city)
    assert p.code == "P304" and p.line == line_of(city, "item_lists")


def test_all_problems_of_a_file_are_raised_together(tree):
    city = tree / "city" / "2023.yaml"
    edit(city, "fuse_general_items: true", "fuse_general_items: no")
    edit(city, "    no: 2\n", "    no: two\n")
    edit(city, "items: [G01]", "items: [G09]")
    assert sorted(p.code for p in problems_of(city)) == ["P112", "P112", "P203"]


def test_session_reads_each_file_once(tree, monkeypatch):
    import spotcheck.loader as loader

    calls = []
    real = loader.parse_yaml
    monkeypatch.setattr(loader, "parse_yaml", lambda p: calls.append(p) or real(p))
    session = Session()
    for name in ("2022.yaml", "2023.yaml"):
        assert session.policy(tree / "city" / name).loaded is not None
    assert sorted(Path(c).name for c in calls) == ["2022.yaml", "2023.yaml", "baseline.yaml", "demo-2022.yaml",
                                                   "demo-2023.yaml"]


def test_item_list_duplicate_code(tree):
    path = tree / "items" / "demo-2023.yaml"
    edit(path, "code: G01", "code: J02")
    with pytest.raises(SpotcheckError) as exc:
        load_item_list(path)
    (p,) = exc.value.problems
    assert p.code == "P215" and p.line == line_of(path, "code: J02", after=line_of(path, "code: J02"))
