from click.testing import CliRunner
from conftest import edit, line_of
from spotcheck.cli import main
from spotcheck.policy.validate import validate_report
from spotcheck.starter import Starter, init

NOTICE = """default_document: notice
documents:
  - id: notice
    kind: plan_notice
    number: {prefix: 示市监, year: 2021, seq: 5}
    issuer: 示范市市场监督管理局
    title: 关于印发示范市2023年度抽查计划的通知
    date: "2022-03-01"
    preamble:
      - 为切实做好2022年全市抽查工作，按照《关于印发2022年度抽查计划的通知》和《抽查工作指引》（2020年8月版），检查2022年度年报。
"""


def _copied_from_last_year(tree):
    path = tree / "city" / "2023.yaml"
    edit(path, "item_lists:", NOTICE + "item_lists:")
    return path


def test_dates_and_texts_naming_another_year_are_warnings_at_their_lines(policy_tree):
    path = _copied_from_last_year(policy_tree)
    report = validate_report([path])
    assert report.problems == []
    found = [(w.code, w.line, w.message) for w in report.warnings]
    preamble = line_of(path, "为切实做好")
    assert found == [
        ("W921", line_of(path, "number:"), "发文字号的年份 2021 与成文日期 2022-03-01 的年份不同"),
        ("W920", line_of(path, 'date: "2022-03-01"'), "成文日期 2022-03-01 不在策略年度 2023 年"),
        ("W923", preamble, "文字中写有“2022年全市抽”，与策略年度 2023 年不同"),
        ("W923", preamble, "文字中写有“2022年度年报”，与策略年度 2023 年不同"),
    ]
    assert all(w.warning for w in report.warnings)


def test_acknowledged_mentions_and_a_correct_copy_give_no_warning(policy_tree):
    path = _copied_from_last_year(policy_tree)
    edit(path, "year: 2021, seq", "year: 2023, seq")
    edit(path, '"2022-03-01"', '"2023-03-01"')
    edit(path, "做好2022年", "做好2023年")
    edit(path, "item_lists:", "year_mentions: [2022年度年报]\nitem_lists:")
    assert validate_report([path]).warnings == []


def test_a_parents_texts_are_its_own_year(policy_tree):
    parent = policy_tree / "national" / "baseline.yaml"
    edit(parent, "name: 检查结果录入公示", "name: 2019年检查结果录入公示")
    child = policy_tree / "city" / "2023.yaml"
    assert validate_report([child]).warnings == []
    assert [w.code for w in validate_report([parent]).warnings] == []  # the baseline's own year is 2019


def test_validate_passes_with_warnings_and_says_so(policy_tree):
    path = _copied_from_last_year(policy_tree)
    text = CliRunner().invoke(main, ["validate", str(path)])
    assert text.exit_code == 0, text.output
    assert f"{path}:{line_of(path, 'date: ')}:11: W920（提醒） 成文日期" in text.stderr
    assert "未发现问题；另有 4 条提醒" in text.stdout
    github = CliRunner().invoke(main, ["validate", "--format", "github", str(path)])
    assert github.exit_code == 0
    assert github.stdout.startswith(f"::warning file={path},line={line_of(path, 'number:')},")


def test_a_year_whose_holidays_are_not_known_is_a_warning_at_its_year(tmp_path):
    # Next year's plan, started before the State Council's notice of its holidays: it validates, but its first
    # draw would stop at C301. (The library knows 2004-2026; a bureau starts 2027 in December 2026.)
    init(tmp_path, Starter(province="hubei", city="xiangyang", region="襄阳市", code="420600", year=2027, short="襄市监"))
    path = tmp_path / "policies" / "hubei" / "xiangyang" / "2027.yaml"
    report = validate_report([path])
    assert report.problems == []
    (warning,) = report.warnings
    assert (warning.code, warning.line) == ("W924", line_of(path, "year: 2027"))
    assert warning.warning and "2027 年的节假日安排" in warning.message and "calendars/2027.yaml" in warning.hint
    (path.parents[2] / "calendars").mkdir()
    (path.parents[2] / "calendars" / "2027.yaml").write_text(
        "year: 2027\nsource: 国务院办公厅关于2027年部分节假日安排的通知\n"
        "holidays:\n  - {name: 元旦, start: 2027-01-01, end: 2027-01-03}\nworkdays: []\n", "utf-8")
    assert validate_report([path]).warnings == []
