"""Departments, who inspects, handed-down tasks, item conditions: each wrong input is a located Chinese problem."""

from conftest import edit, line_of
from spotcheck.policy.loader import load_policy
from spotcheck.policy.validate import validate_paths

DEPARTMENTS = """departments:
  - {id: 市场监管, name: 示范市市场监督管理局}
  - {id: 烟草, name: 示范市烟草专卖局, district_units: {"149901": 示范市东区烟草专卖局}}
  - {id: 计量科, name: 计量科, kind: 科室}
campaigns:
"""


def codes(problems):
    return [(p.code, p.line) for p in problems]


def test_departments_and_modes_load(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "campaigns:\n", DEPARTMENTS)
    edit(path, "    draw_months: [4, 11]\n", "    draw_months: [4, 11]\n    lead_department: 烟草\n"
         "    departments: [市场监管]\n    inspection: 市抽市查\n    origin: 市计划\n    cells: {基数: 约40065户}\n")
    task = load_policy(path).task("t01")
    assert (task.lead_department, task.departments, [r.mode for r in task.inspection]) == ("烟草", ["市场监管"], ["市抽市查"])
    assert task.cells == {"基数": "约40065户"}


def test_unknown_and_duplicate_departments(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "campaigns:\n", DEPARTMENTS.replace("{id: 计量科, name: 计量科", "{id: 烟草, name: 计量科")
         .replace('"149901"', '"149909"'))
    edit(path, "    draw_months: [4, 11]\n", "    draw_months: [4, 11]\n    lead_department: 烟叶\n    departments: [医保]\n")
    problems = validate_paths([path])
    assert codes(problems) == [
        ("P218", line_of(path, "149909")), ("P217", line_of(path, "{id: 烟草, name: 计量科")),
        ("P219", line_of(path, "lead_department: 烟叶")), ("P219", line_of(path, "departments: [医保]")),
    ]
    assert problems[2].message == "牵头部门 '烟叶' 不是策略声明的部门，是否想写 '烟草'？"
    assert "已声明：市场监管、烟草、烟草" in problems[2].hint


def test_inspection_modes_that_cannot_apply(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "    draw_months: [4, 11]\n", "    draw_months: [4, 11]\n    inspection:\n      - {mode: 市抽县(区)查}\n"
         "      - {mode: 市抽市查, when: {field: labels, op: contains, value: 市级}}\n")
    edit(path, "    draw_months: [6, 8]\n", "    draw_months: [6, 8]\n    inspection: 市抽省查\n")
    edit(path, "  拍卖企业:\n", "  拍卖企业:\n  市级:\n")
    problems = validate_paths([path])
    assert codes(problems) == [("P220", line_of(path, "{mode: 市抽县(区)查}")), ("P112", line_of(path, "市抽省查"))]
    assert "其后的模式永远用不到" in problems[0].message


def test_county_draws_need_district_strata(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "    draw_months: [6, 8]\n", "    draw_months: [6, 8]\n    inspection: 县抽县查\n")
    (problem,) = validate_paths([path])
    assert (problem.code, problem.line) == ("P220", line_of(path, "inspection: 县抽县查"))
    assert problem.message == "“县抽县查”由各辖区分别抽取，但任务未按辖区分层抽取"


def test_a_county_saying_county_draws_of_itself_needs_no_districts(policy_tree):
    # 潞州区 2025 prints 县抽县查 on every row of the county's own plan: the county draws and inspects.
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "    draw_months: [6, 8]\n", "    draw_months: [6, 8]\n    inspection: 县抽县查\n")
    edit(path, "  districts:\n    - {code: \"149901\", name: 东区, unit: 示范市东区市场监督管理局}\n"
         "    - {code: \"149902\", name: 西区, unit: 示范市西区市场监督管理局}\n", "")
    edit(path, "level: city", "level: district")
    assert "P220" not in {p.code for p in validate_paths([path])}
    # A city without districts still cannot hand its draws to districts it does not list.
    edit(path, "level: district", "level: city")
    assert "P220" in {p.code for p in validate_paths([path])}


def test_a_county_listing_only_itself_as_its_district_says_county_draws_of_itself(policy_tree):
    # What `spotcheck init --level district` writes: the county as its own one district, with its bureau as the unit.
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "    draw_months: [6, 8]\n", "    draw_months: [6, 8]\n    inspection: 县抽县查\n")
    edit(path, "    - {code: \"149901\", name: 东区, unit: 示范市东区市场监督管理局}\n"
         "    - {code: \"149902\", name: 西区, unit: 示范市西区市场监督管理局}\n",
         "    - {code: \"149900\", name: 示范县, unit: 示范市市场监督管理局}\n")
    edit(path, "level: city", "level: district")
    assert "P220" not in {p.code for p in validate_paths([path])}
    # One district of its own and another: the county has districts below it, and must stratify by them.
    edit(path, "    - {code: \"149900\", name: 示范县, unit: 示范市市场监督管理局}\n",
         "    - {code: \"149900\", name: 示范县, unit: 示范市市场监督管理局}\n    - {code: \"149902\", name: 西区, unit: 示范市西区市场监督管理局}\n")
    assert "P220" in {p.code for p in validate_paths([path])}


def test_task_without_months_or_window_is_an_error_not_january(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "    draw_months: [6, 8]\n", "")
    edit(path, "tasks:\n", '  - {id: c2, name: 示范市专项抽查, window: {start: "2023-05-01", end: "2023-06-30"}}\ntasks:\n')
    (problem,) = validate_paths([path])
    assert (problem.code, problem.line) == ("P221", line_of(path, "name: 对拍卖企业"))
    assert "既没有抽取月份" in problem.message


def test_wrong_team_and_method_inputs(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "merge:\n", "team: {min_per_department: 0}\nmethods:\n  网络监控: {site_visit: false}\n"
         "  书面检查: {site_visit: 否}\nmerge:\n")
    problems = validate_paths([path])
    assert [p.code for p in problems] == ["P112", "P112", "P112"]
    assert [p.line for p in problems] == [line_of(path, "min_per_department"), line_of(path, "网络监控"), line_of(path, "site_visit: 否")]


def test_wrong_item_condition_and_method(policy_tree):
    path = policy_tree / "items" / "demo-2023.yaml"
    text = path.read_text(encoding="utf-8")
    assert "  - code: J01\n" in text
    edit(path, "  - {code: S01, name: 拍卖活动经营资格的检查}", "  - code: S01\n    name: 拍卖活动经营资格的检查\n"
         "    method: [远程检查]\n    condition: {field: labls, op: contains, value: 实缴制企业}")
    problems = validate_paths([path])
    assert codes(problems) == [("P112", line_of(path, "远程检查")), ("P112", line_of(path, "labls"))]


PROVINCE = """# yaml-language-server: $schema=../../../../validators/policy.schema.json
id: fixture/province/2023
extends: ../national/baseline.yaml
jurisdiction: {code: "140000", name: 示范省市场监督管理局, region: 示范省, level: province}
year: 2023
item_lists: [../items/demo-2023.yaml]
tasks:
  - id: p01
    name: 全省不定向抽查
    type: 不定向
    items: [A99, G01]
    scope: {field: type, op: eq, value: 企业}
    scope_text: 全省企业
    sampling: {ratio: "3%"}
    draw_months: [3, 10]
  - id: p02
    name: 全省拍卖企业抽查
    type: 定向
    items: [S01]
    scope: {field: labels, op: contains, value: 拍卖企业}
    scope_text: 全省拍卖企业
    sampling: {ratio: "10%"}
    draw_months: [6, 8]
"""


def _province(policy_tree):
    (policy_tree / "province").mkdir()
    (policy_tree / "province" / "2023.yaml").write_text(PROVINCE, encoding="utf-8")
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "extends: ../national/baseline.yaml", "extends: ../province/2023.yaml")
    return path


def test_province_tasks_reach_the_city_with_their_origin(policy_tree):
    path = _province(policy_tree)
    policy = load_policy(path).policy
    assert [(t.id, t.origin) for t in policy.tasks] == [("p01", "省计划"), ("p02", "省计划"), ("t01", None), ("t02", None), ("t03", None)]


def test_a_child_tightens_a_handed_down_task_and_excludes_one_with_a_reason(policy_tree):
    path = _province(policy_tree)
    edit(path, "tasks:\n", "excluded_tasks:\n  - {task: p02, reason: 本市无拍卖企业}\ntasks:\n"
         "  - id: p01\n    name: 全省不定向抽查\n    type: 不定向\n    items: [A99, G01, S01]\n"
         "    scope: {field: type, op: eq, value: 企业}\n    scope_text: 全市企业\n    sampling: {ratio: \"5%\"}\n"
         "    draw_months: [3, 10]\n")
    policy = load_policy(path).policy
    assert [(t.id, t.origin) for t in policy.tasks] == [("p01", "省计划"), ("t01", None), ("t02", None), ("t03", None)]
    assert policy.tasks[0].sampling.ratio == 5 and policy.tasks[0].scope_text == "全市企业"


def test_loosening_or_excluding_what_was_not_handed_down_is_located(policy_tree):
    path = _province(policy_tree)
    edit(path, "tasks:\n", "excluded_tasks:\n  - {task: p03, reason: 无}\ntasks:\n"
         "  - id: p01\n    name: 全省不定向抽查\n    type: 不定向\n    items: [G01]\n"
         "    scope: {field: type, op: eq, value: 企业}\n    scope_text: 全市企业\n    sampling: {ratio: \"1%\"}\n"
         "    draw_months: [3, 10]\n")
    problems = validate_paths([path])
    assert codes(problems) == [("P305", line_of(path, "task: p03")), ("P306", line_of(path, "  - id: p01")),
                               ("P306", line_of(path, "  - id: p01"))]
    assert problems[1].message == "上级下达的任务“全省不定向抽查”抽查比例 1% 低于上级的 3%，只能收紧不能放宽"
    assert problems[2].message == "上级下达的任务“全省不定向抽查”去掉了上级规定的事项 A99，只能收紧不能放宽"


TABLES_DOCUMENT = """documents:
  - id: plan
    kind: plan_notice
    issuer: 示范市市场监督管理局
    title: 示范市2023年度双随机抽查工作计划
    date: "2023-03-01"
    tables:
      - title: 本局抽查计划
        columns: [{title: 序号, source: no}]
      - title: 本局抽查计划表
        columns: [{title: 抽查计划编号, source: no, merged: [[t01, t02]]}, {title: 名称, source: name}]
campaigns:
"""


def test_each_table_of_a_plan_numbers_its_rows_from_1(policy_tree):
    from spotcheck.policy.model import table_groups

    path = policy_tree / "city" / "2023.yaml"
    edit(path, "    no: 2\n", "    no: 1\n")
    assert codes(validate_paths([path])) == [("P202", line_of(path, "no: 1", after=line_of(path, "- id: t02")))]
    # 斗门 2023: a joint table and the bureau's own, each numbered from 1.
    edit(path, "  - id: t02\n", "  - id: t02\n    table: 本局抽查计划表\n")
    assert validate_paths([path]) == []
    groups = table_groups(load_policy(path).policy.tasks)
    assert [(title, [t.id for t in tasks]) for title, tasks in groups] == [(None, ["t01", "t03"]), ("本局抽查计划表", ["t02"])]


def test_a_documents_table_columns_name_one_of_the_plans_tables(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "  - id: t02\n", "  - id: t02\n    table: 本局抽查计划表\n")
    edit(path, "campaigns:\n", TABLES_DOCUMENT)
    problems = validate_paths([path])
    assert codes(problems) == [("P223", line_of(path, "- title: 本局抽查计划")), ("P222", line_of(path, "merged: [[t01, t02]]"))]
    assert problems[0].message == "计划表“本局抽查计划”没有任何任务（没有任务的 table 是这个标题）"
    assert "本局抽查计划表" in problems[0].hint
    assert problems[1].message == "栏目“抽查计划编号”合并的任务 t01、t02 不是同一张表中相邻的两行或多行"


def test_a_ratio_range_on_a_handed_down_task_may_not_hold_down_what_the_tiers_raise(policy_tree):
    path = _province(policy_tree)
    mine = ("tasks:\n  - id: p01\n    name: 全省不定向抽查\n    type: 不定向\n    items: [A99, G01]\n"
            "    scope: {field: type, op: eq, value: 企业}\n    scope_text: 全市企业\n    sampling: {ratio: \"3%\", ratio_max: \"5%\"}\n"
            "    draw_months: [3, 10]\n")
    edit(path, "tasks:\n", mine)
    problems = validate_paths([path])
    assert codes(problems) == [("P306", line_of(path, "  - id: p01"))]
    assert "比例上限 5%（上级没有上限）" in problems[0].message
    # The province's own range handed down as it is loosens nothing.
    province = policy_tree / "province" / "2023.yaml"
    edit(province, 'sampling: {ratio: "3%"}', 'sampling: {ratio: "3%", ratio_max: "5%"}')
    assert validate_paths([path]) == []
