import pytest
import spotcheck.calendar.workdays as calendar_module
from click.testing import CliRunner
from spotcheck.cli import main

# TEST DATA, made up for these tests: NOT the State Council's 2027 schedule.
MADE_UP_2027 = """\
# TEST DATA: invented for tests, not the State Council's 2027 notice.
year: 2027
source: 测试数据（虚构的 2027 年日程，不是国务院办公厅通知）
holidays:
  - {name: 元旦, start: 2027-01-01, end: 2027-01-03}
"""


@pytest.fixture(autouse=True)
def no_shipped_calendars(tmp_path, monkeypatch):
    # Keep the tests independent of schedule files someone adds to policies/calendars/ later.
    empty = tmp_path / "shipped"
    empty.mkdir()
    monkeypatch.setattr(calendar_module, "CALENDARS", empty)
    monkeypatch.setattr(calendar_module, "local_policies", lambda: empty)


def run(*args):
    return CliRunner().invoke(main, ["deadline", *args])


def test_twenty_working_days_after_2023_09_25():
    result = run("--from", "2023-09-25", "--working-days", "20")
    assert result.exit_code == 0, result.output
    first, second = result.stdout.splitlines()
    assert first == "2023-10-27"
    assert second.startswith("自 2023-09-25 起 20 个工作日（起算日不计入）")
    assert "国庆节" in second


def test_crossing_into_an_unknown_year_exits_1_with_the_reason():
    result = run("--from", "2026-12-20", "--working-days", "20")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "C301" in result.stderr and "2027" in result.stderr and "policies/calendars/2027.yaml" in result.stderr


def test_a_calendar_file_extends_the_count(tmp_path):
    schedule = tmp_path / "2027.yaml"
    schedule.write_text(MADE_UP_2027, encoding="utf-8")
    result = run("--from", "2026-12-25", "--working-days", "10", "--calendar", str(schedule))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == "2027-01-11"
    assert "测试数据" in result.stdout


def test_policy_calendars_are_relative_to_the_policy(tmp_path):
    (tmp_path / "cal").mkdir()
    (tmp_path / "cal" / "2027.yaml").write_text(MADE_UP_2027, encoding="utf-8")
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "id: test/2027\nyear: 2027\n"
        "jurisdiction: {code: \"100000\", name: 测试市场监督管理局, region: 测试市, level: city}\n"
        "calendars:\n  - cal/2027.yaml\n",
        encoding="utf-8",
    )
    result = run("--from", "2026-12-25", "--working-days", "10", "--policy", str(policy))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == "2027-01-11"


def test_a_bureaus_own_calendars_folder_is_read_where_c301_says_to_put_it(tmp_path, monkeypatch):
    # Installed from a wheel, spotcheck read only its own bundled policies/calendars/: a bureau that put its
    # 2027.yaml where C301 said still got C301.
    tree = tmp_path / "bureau" / "policies"
    (tree / "calendars").mkdir(parents=True)
    (tree / "calendars" / "2027.yaml").write_text(MADE_UP_2027, encoding="utf-8")
    (tree / "x").mkdir()
    policy = tree / "x" / "2027.yaml"
    policy.write_text("id: x/2027\nyear: 2027\n"
                      "jurisdiction: {code: \"100000\", name: 测试市场监督管理局, region: 测试市, level: city}\n", "utf-8")
    result = run("--from", "2026-12-25", "--working-days", "10", "--policy", str(policy))
    assert (result.exit_code, result.stdout.splitlines()[:1]) == (0, ["2027-01-11"]), result.stderr
    monkeypatch.undo()  # the working folder's policies/, as `spotcheck deadline` run in the bureau's repository
    monkeypatch.setattr(calendar_module, "CALENDARS", tmp_path / "none")
    monkeypatch.chdir(tmp_path / "bureau")
    result = run("--from", "2026-12-25", "--working-days", "10")
    assert (result.exit_code, result.stdout.splitlines()[:1]) == (0, ["2027-01-11"]), result.stderr


def test_bad_schedule_file_exits_1_with_file_and_line(tmp_path):
    schedule = tmp_path / "2027.yaml"
    schedule.write_text(MADE_UP_2027 + "workdays:\n  - 2027-03-03\n", encoding="utf-8")
    result = run("--from", "2026-12-25", "--working-days", "10", "--calendar", str(schedule))
    assert result.exit_code == 1
    assert f"{schedule}:7:5: C307" in result.stderr


def test_calendar_days_ending_on_a_holiday_move_to_the_next_working_day():
    # 2023-09-30 is in the National Day holiday; 2023-10-07 is a make-up working Saturday.
    result = run("--from", "2023-09-20", "--calendar-days", "10")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == "2023-10-07"
    assert "第二百零三条" in result.stdout and "国庆节" in result.stdout
    plain = run("--from", "2023-09-20", "--calendar-days", "8")
    assert plain.stdout.splitlines()[0] == "2023-09-28" and "顺延" not in plain.stdout


def test_calendar_days_ending_in_an_unknown_year_name_the_year():
    # Whether 2027-01-09 is a day off depends on the 2027 schedule, which chinese-calendar lacks.
    result = run("--from", "2026-12-20", "--calendar-days", "20")
    assert result.exit_code == 1
    assert "2027" in result.stderr


@pytest.mark.parametrize("args", [
    ["--from", "2023-09-25"],
    ["--from", "2023-09-25", "--working-days", "5", "--calendar-days", "5"],
    ["--from", "2023-13-01", "--working-days", "5"],
    ["--from", "2023-09-25", "--working-days", "-1"],
])
def test_bad_usage_exits_2(args):
    result = run(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
