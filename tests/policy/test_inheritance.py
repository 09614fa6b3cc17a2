from decimal import Decimal

from conftest import POLICY_FIXTURES, edit, line_of, policy_problems
from spotcheck.calendar.workdays import WorkCalendar
from spotcheck.policy.loader import load_policy

# ---------------------------------------------------------------- laying a child over its parent


def test_child_inherits_parent_rules_and_overrides_its_own():
    loaded = load_policy(POLICY_FIXTURES / "city" / "2023.yaml")
    p = loaded.policy
    assert p.id == "fixture/city/2023" and p.year == 2023
    assert p.targets["enterprise_coverage"].value == Decimal("5")  # child's own, tighter
    assert p.deadlines["results_public"].working_days == 20  # inherited from the baseline
    assert p.deadlines["tasks_done"].on.isoformat() == "2023-12-20"  # the child's own entry beside it
    assert [c.id for c in p.caps] == ["low_risk"]
    assert p.team.min_size == 2
    assert p.jurisdiction.level == "city"  # identity is never inherited
    assert [str(c.relative_to(POLICY_FIXTURES)) for c in loaded.chain] == ["national/baseline.yaml", "city/2023.yaml"]
    assert list(loaded.items) == ["J01", "J02", "S01", "G01", "A99"]
    assert [il.id for il in loaded.item_lists] == ["demo-2023"]
    assert isinstance(loaded.calendar, WorkCalendar)


def test_inherited_values_keep_the_parent_file_position():
    loaded = load_policy(POLICY_FIXTURES / "city" / "2023.yaml")
    pos = loaded.pos("deadlines", "results_public", "working_days")
    assert pos.file.endswith("national/baseline.yaml")
    assert pos.line == line_of(POLICY_FIXTURES / "national" / "baseline.yaml", "working_days: 20")
    own = loaded.pos("tasks", 1, "sampling", "ratio")
    assert own.file.endswith("city/2023.yaml")
    assert own.line == line_of(POLICY_FIXTURES / "city" / "2023.yaml", 'ratio: "100%"')


def test_caps_merge_by_id_and_item_lists_accumulate(policy_tree):
    base = policy_tree / "national" / "baseline.yaml"
    edit(base, "team:", "item_lists: [../items/demo-2022.yaml]\nteam:")
    city = policy_tree / "city" / "2023.yaml"
    edit(city, "deadlines:", "caps:\n  - {id: d_tier, name: 高风险每年至多4次, when: {field: tier, op: eq, value: D}, "
                             "max_per_year: 4}\n  - {id: low_risk, name: 低风险每年1次, when: {field: tier, op: eq, value: A}, "
                             "max_per_year: 1}\ndeadlines:")
    loaded = load_policy(city)
    assert [(c.id, c.max_per_year) for c in loaded.policy.caps] == [("low_risk", 1), ("d_tier", 4)]
    assert loaded.policy.item_lists == ["../items/demo-2022.yaml", "../items/demo-2023.yaml"]
    assert [il.id for il in loaded.item_lists] == ["demo-2022", "demo-2023"]
    assert loaded.pos("caps", 0, "max_per_year").line == line_of(city, "max_per_year: 1")


def test_child_deadline_entry_replaces_the_parents_whole(policy_tree):
    city = policy_tree / "city" / "2023.yaml"
    edit(city, "deadlines:\n", "deadlines:\n  results_public: {name: 结果公示, calendar_days: 10, after: check_completed}\n")
    rule = load_policy(city).policy.deadlines["results_public"]
    assert (rule.working_days, rule.calendar_days, rule.name) == (None, 10, "结果公示")


# ---------------------------------------------------------------- floors


def test_lowering_the_national_floor_names_both_files_and_lines(policy_tree):
    city, base = policy_tree / "city" / "2023.yaml", policy_tree / "national" / "baseline.yaml"
    edit(city, 'value: "5%"', 'value: "2%"')
    (p,) = policy_problems(city)
    child_line, parent_line = line_of(city, 'value: "2%"'), line_of(base, 'value: "3%"')
    assert (p.code, p.file, p.line) == ("P301", str(city), child_line)
    assert p.message == (f"年度抽查企业占比 2% 低于上级策略 {base}:{parent_line}:12 规定的 3%，只能收紧不能放宽")


def test_every_floor_is_checked(policy_tree):
    city = policy_tree / "city" / "2023.yaml"
    edit(city, "deadlines:\n", "team: {min_size: 1}\ncaps:\n  - {id: low_risk, name: x, when: {field: tier, op: eq, "
                               "value: A}, max_per_year: 3}\ndeadlines:\n  results_public: {name: 公示, working_days: 25, "
                               "after: check_completed}\n")
    problems = policy_problems(city)
    assert [(p.code, p.line) for p in problems] == [
        ("P301", line_of(city, "min_size: 1")), ("P301", line_of(city, "max_per_year: 3")),
        ("P301", line_of(city, "working_days: 25"))]
    assert "每组最少人数 1 人 少于上级策略" in problems[0].message
    assert "每年 3 次 多于上级策略" in problems[1].message
    assert "25个工作日 长于上级策略" in problems[2].message


def test_tightening_is_allowed(policy_tree):
    city = policy_tree / "city" / "2023.yaml"
    edit(city, "deadlines:\n", "team: {min_size: 3}\ndeadlines:\n  results_public: {name: 公示, working_days: 15, "
                               "after: check_completed}\n")
    policy = load_policy(city).policy
    assert (policy.team.min_size, policy.deadlines["results_public"].working_days) == (3, 15)


def test_a_child_restating_every_floor_exactly_is_not_loosening(policy_tree):
    city = policy_tree / "city" / "2023.yaml"
    edit(city, 'value: "5%"', 'value: "3%"')
    edit(city, "deadlines:\n", "team: {min_size: 2}\ncaps:\n  - {id: low_risk, name: 低风险每年2次, when: {field: tier, "
                               "op: eq, value: A}, max_per_year: 2}\ndeadlines:\n  results_public: {name: 公示, "
                               "working_days: 20, after: check_completed}\n")
    policy = load_policy(city).policy
    assert (policy.targets["enterprise_coverage"].value, policy.team.min_size, policy.caps[0].max_per_year,
            policy.deadlines["results_public"].working_days) == (Decimal("3"), 2, 2, 20)


def test_caps_in_another_order_than_the_parents_are_matched_by_id(policy_tree):
    base, city = policy_tree / "national" / "baseline.yaml", policy_tree / "city" / "2023.yaml"
    edit(base, "    max_per_year: 2\n", "    max_per_year: 2\n  - {id: d_tier, name: 高风险每年至多4次, when: {field: tier, "
                                       "op: eq, value: D}, max_per_year: 4}\n")
    edit(city, "deadlines:", "caps:\n  - {id: d_tier, name: 高风险每年至多5次, when: {field: tier, op: eq, value: D}, "
                             "max_per_year: 5}\n  - {id: low_risk, name: 低风险每年1次, when: {field: tier, op: eq, value: A}, "
                             "max_per_year: 1}\ndeadlines:")
    (p,) = policy_problems(city)
    assert (p.code, p.line) == ("P301", line_of(city, "max_per_year: 5"))
    assert "每年 5 次 多于上级策略" in p.message and f"{base}:{line_of(base, 'max_per_year: 4')}" in p.message
    edit(city, "max_per_year: 5", "max_per_year: 4")
    assert [(c.id, c.max_per_year) for c in load_policy(city).policy.caps] == [("low_risk", 1), ("d_tier", 4)]


def test_a_row_addressed_to_one_city_reaches_that_city_and_its_counties_only(tmp_path):
    # 山西 2021's joint plan (各市): each row names its 地市; 太原's rows are 太原's business alone.
    from spotcheck.draw.pools import plan_tasks
    from spotcheck.resources import POLICIES

    province = POLICIES / "examples" / "shanxi" / "joint-2021.yaml"
    rel = f"{province.parent.as_posix()}/joint-2021.yaml"

    def city(name: str, code: str, level: str = "city") -> list[str]:
        path = tmp_path / f"{code}.yaml"
        path.write_text(f"id: test/{code}\nextends: {rel}\nyear: 2021\njurisdiction: {{code: \"{code}\", name: {name}市场监督管理局, "
                        f"region: {name}, level: {level}}}\n", "utf-8")
        return [t.id for t in load_policy(path).policy.tasks if t.origin == "省计划"]

    assert city("太原市", "140100") == ["ty01", "ty02", "ty03", "ty04", "ty05"]
    assert city("小店区", "140105", "district") == ["ty01", "ty02", "ty03", "ty04", "ty05"]
    assert city("大同市", "140200") == []
    # The province writes the rows but does not draw them.
    assert [p.task.id for p in plan_tasks(load_policy(province))] == []


def test_a_region_outside_the_policys_jurisdiction_is_located(policy_tree):
    from spotcheck.policy.validate import validate_paths

    path = policy_tree / "city" / "2023.yaml"
    edit(path, "    draw_months: [6, 8]\n", '    draw_months: [6, 8]\n    regions: ["149901", "140100", "1499"]\n')
    problems = validate_paths([path])
    assert [(p.code, p.where) for p in problems] == [("P293", "任务 't02' → regions → 第 2 项"), ("P293", "任务 't02' → regions → 第 3 项")]
    assert problems[0].message == "地市“140100”不是本策略辖区（149900）下辖或所属的6位行政区划代码"


def test_row_numbers_may_restart_for_each_city_a_row_is_addressed_to(policy_tree):
    from spotcheck.policy.validate import validate_paths

    path = policy_tree / "city" / "2023.yaml"
    edit(path, "    no: 2\n", "    no: 1\n")
    assert [p.code for p in validate_paths([path])] == ["P202"]
    # Row 1 of 东区's rows and row 1 of the whole city's are different rows.
    edit(path, "    draw_months: [6, 8]\n", '    draw_months: [6, 8]\n    regions: ["149901"]\n')
    assert validate_paths([path]) == []
