import json

from conftest import edit, line_of
from spotcheck.errors import format_problems
from spotcheck.resources import POLICIES
from spotcheck.policy.validate import validate_paths, validate_report


def codes(problems):
    return [(p.code, p.line) for p in problems]


def test_fixture_tree_is_clean(policy_tree):
    report = validate_report([policy_tree])
    assert report.problems == []
    assert {k: len(v) for k, v in report.files.items()} == {"policy": 3, "item_list": 2, "calendar": 0, "cases": 3}


def test_three_mistakes_give_exactly_three_problems_on_their_lines(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, 'sampling: {ratio: "5%"}', 'sampling: {ratoi: "5%"}')
    edit(path, 'sampling: {ratio: "100%"}', 'sampling: {ratio: "150%"}')
    edit(path, "items: [G01]", "items: [G02]")
    problems = validate_paths([path])
    assert codes(problems) == [("P111", line_of(path, "ratoi")), ("P112", line_of(path, "150%")),
                               ("P203", line_of(path, "G02"))]
    assert all(p.file == str(path) for p in problems)
    assert problems[1].message == "比例 150% 超过 100%"
    assert problems[2].message.startswith("事项编码 'G02' 不在引用的事项清单中")

    as_json = json.loads(format_problems(problems, "json"))
    assert [(d["code"], d["line"], d["file"]) for d in as_json] == [(p.code, p.line, str(path)) for p in problems]
    github = format_problems(problems, "github").splitlines()
    assert len(github) == 3
    assert github[0].startswith(f"::error file={path},line={line_of(path, 'ratoi')},col=")
    assert "150%25" in github[1]


def test_model_errors_do_not_hide_cross_reference_checks_elsewhere(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "    type: 定向\n", "    type: 直接\n")  # t01 fails the model …
    edit(path, "campaign: c1", "campaign: c9")  # … so its own cross-references are not checked,
    edit(path, "items: [S01]", "items: [S09]")  # … but t02's unknown item is still found
    assert [p.code for p in validate_paths([path])] == ["P112", "P203"]


def test_cross_reference_checks(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "  - id: t02\n    no: 2", "  - id: t01\n    no: 1")
    edit(path, "    type: 定向\n    items: [G01]", "    campaign: c9\n    type: 定向\n    items: [G01]")
    edit(path, "draw_months: [6, 8]", "draw_months: [8, 6]")
    edit(path, 'window: {start: "2023-07-01", end: "2023-10-31"}', 'window: {start: "2023-07-01", end: "2024-01-31"}')
    edit(path, "merge:\n", "merge:\n  pairings: [{tasks: [t01, t04], lead: 计量科}]\n")
    edit(path, "deadlines:\n", "default_document: plan\ndeadlines:\n")
    problems = validate_paths([path])
    assert codes(problems) == [
        ("P201", line_of(path, "  - id: t01") + 10), ("P202", line_of(path, "  - id: t01") + 11),
        ("P208", line_of(path, "draw_months: [8, 6]")),
        ("P205", line_of(path, "campaign: c9")),
        ("P206", line_of(path, "2024-01-31")),
        ("P204", line_of(path, "pairings")),
        ("P209", line_of(path, "default_document")),
    ]
    assert "是否想写 't02'" not in problems[5].message and "'t04'" in problems[5].message


def test_window_of_a_campaign_outside_the_year(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, 'window: {start: "2023-04-01"', 'window: {start: "2022-12-01"')
    assert codes(validate_paths([path])) == [("P207", line_of(path, "2022-12-01"))]


def test_deadline_checks(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, '    "on": "2023-12-20"\n', '    "on": "2023-03-01"\n  late:\n    name: 以后\n    "on": "2031-05-01"\n'
                                            '  chained:\n    name: 链\n    working_days: 5\n    after: nowhere\n')
    problems = validate_paths([path])
    assert codes(problems) == [("P213", line_of(path, "2023-03-01")), ("C301", line_of(path, "2031-05-01")),
                               ("C311", line_of(path, "after: nowhere"))]
    assert "2031" in problems[1].message


def test_district_strata_need_districts(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[:text.index("  districts:\n")] + text[text.index("year: 2023"):], encoding="utf-8")
    assert codes(validate_paths([path])) == [("P214", line_of(path, "stratify"))]


def test_schema_declaration_is_checked(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "validators/policy.schema.json", "validators/item-list.schema.json")
    items = policy_tree / "items" / "demo-2023.yaml"
    edit(items, "# yaml-language-server: $schema=../../../../validators/item-list.schema.json\n", "")
    problems = validate_paths([policy_tree])
    assert [(p.code, p.file, p.line) for p in problems] == [("P190", str(path), 1), ("P190", str(items), 1)]
    assert problems[0].message == "JSON Schema 声明 ../../../../validators/item-list.schema.json 应指向 policy.schema.json"
    assert "缺少 JSON Schema 声明" in problems[1].message
    assert "validators/item-list.schema.json" in problems[1].hint
    edit(path, "validators/item-list.schema.json", "schemas/policy.schema.json")
    assert validate_paths([path])[0].message.endswith("policy.schema.json 指向的文件不存在")


def test_other_kinds_are_validated(policy_tree):
    items = policy_tree / "items" / "demo-2022.yaml"
    edit(items, "code: S01", "cod: S01")
    calendars = policy_tree / "calendars"
    calendars.mkdir()
    (calendars / "2027.yaml").write_text("year: 2027\nsource: x\nholidays:\n  - {name: 元旦, start: 2027-01-01, "
                                         "end: 2026-12-31}\n", encoding="utf-8")
    problems = validate_paths([policy_tree])
    # The misspelt required key is one problem (P111 with its suggestion), not also a P110 "missing".
    assert [p.code for p in problems] == ["C303", "P111"]
    c303, p111 = problems
    assert c303.file == str(calendars / "2027.yaml")
    assert p111.file == str(items) and p111.message.endswith("是否想写 'code'？")
    assert p111.line == line_of(items, "cod: S01")
    # Validating only the cases file still shows why its policy cannot be tested: its item list, and the
    # schedules in its policies tree's calendars/, which its calendar reads.
    assert validate_paths([policy_tree / "city" / "2022.cases.yaml"]) == [c303, p111]


def test_unknown_task_in_a_cases_file(policy_tree):
    cases = policy_tree / "city" / "2022.cases.yaml"
    edit(cases, "in_scope: [t02]", "in_scope: [t20]")
    edit(cases, "ratio: {t02:", "ratio: {t2:")
    problems = validate_paths([cases])
    assert codes(problems) == [("P403", line_of(cases, "t20")), ("P403", line_of(cases, "{t2:"))]
    assert "是否想写 't02'" in problems[1].message
    assert problems[1].where == "用例 '拍卖企业按50%抽取' → expect → ratio → t2"


def test_missing_path_and_empty_folder(tmp_path):
    assert [p.code for p in validate_paths([tmp_path / "nope"])] == ["P100"]
    assert [p.code for p in validate_paths([tmp_path])] == ["P105"]


def test_repository_policies_validate():
    assert format_problems(validate_paths([POLICIES])) == ""
