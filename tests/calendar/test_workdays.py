from datetime import date, datetime, timedelta

import chinese_calendar
import pytest
import spotcheck.calendar.workdays as calendar_module
from hypothesis import given, settings
from hypothesis import strategies as st
from spotcheck.calendar.workdays import HolidaySpan, WorkCalendar, YearSchedule
from spotcheck.errors import SpotcheckError
from spotcheck.resources import POLICIES

LIBRARY = WorkCalendar()

# TEST DATA, made up for these tests: NOT the State Council's 2027 schedule.
MADE_UP_2027 = """\
# TEST DATA: invented for tests, not the State Council's 2027 notice.
year: 2027
source: 测试数据（虚构的 2027 年日程，不是国务院办公厅通知）
holidays:
  - {name: 元旦, start: 2027-01-01, end: 2027-01-03}
  - {name: 春节, start: 2027-02-06, end: 2027-02-12}
workdays:
  - 2027-02-14
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def codes(exc_info):
    return [p.code for p in exc_info.value.problems]


def test_twenty_working_days_skip_national_day_and_count_makeup_days():
    due = LIBRARY.add_working_days(date(2023, 9, 25), 20)
    assert due == date(2023, 10, 27)
    # The same count done with chinese-calendar's own API: 20 working days in (start, due].
    assert len(chinese_calendar.get_workdays(date(2023, 9, 26), due)) == 20
    assert chinese_calendar.is_workday(due)
    assert not any(LIBRARY.is_workday(date(2023, 9, 29) + timedelta(k)) for k in range(8))
    assert LIBRARY.is_workday(date(2023, 10, 7)) and LIBRARY.is_workday(date(2023, 10, 8))


def test_every_library_day_matches_chinese_calendar():
    day = date(2004, 1, 1)
    while day.year <= 2026:
        assert LIBRARY.is_workday(day) == chinese_calendar.is_workday(day), day
        day += timedelta(1)


@settings(max_examples=300, deadline=None)
# 250 working days are at most about 13 months: starts up to mid-2025 stay inside the library's years (to 2026),
# past which counting is C301 (a start of 2025-12-30 reached 2027 and failed).
@given(start=st.dates(date(2004, 1, 1), date(2025, 6, 30)), n=st.integers(0, 250))
def test_add_working_days_agrees_with_chinese_calendar(start, n):
    due = LIBRARY.add_working_days(start, n)
    if n == 0:
        assert due == start
    else:
        assert chinese_calendar.is_workday(due)
        assert len(chinese_calendar.get_workdays(start + timedelta(1), due)) == n
    assert LIBRARY.working_days_between(start, due) == n
    assert LIBRARY.working_days_between(due, start) == -n


def test_start_on_a_holiday_is_not_counted_either():
    # 2023-10-01 is a holiday; the first working day after it is the make-up Saturday 10-07.
    assert LIBRARY.add_working_days(date(2023, 10, 1), 1) == date(2023, 10, 7)
    assert LIBRARY.working_days_between(date(2023, 10, 1), date(2023, 10, 7)) == 1


def test_calendar_days_and_negative_count():
    assert LIBRARY.add_calendar_days(date(2023, 9, 25), 20) == date(2023, 10, 16)  # the 20th day is a Sunday
    with pytest.raises(ValueError):
        LIBRARY.add_working_days(date(2023, 9, 25), -1)


def test_holiday_names_in_chinese():
    assert LIBRARY.holiday_name(date(2023, 9, 29)) == "中秋节"
    assert LIBRARY.holiday_name(date(2023, 10, 2)) == "国庆节"
    assert LIBRARY.holiday_name(date(2023, 10, 14)) is None  # a plain Saturday
    assert LIBRARY.holiday_name(date(2023, 10, 7)) is None  # a make-up working day


def test_crossing_into_2027_without_a_schedule_is_c301_naming_the_year():
    with pytest.raises(SpotcheckError) as exc_info:
        LIBRARY.add_working_days(date(2026, 12, 25), 10)
    (problem,) = exc_info.value.problems
    assert problem.code == "C301"
    assert "2027" in problem.message
    assert "policies/calendars/2027.yaml" in problem.hint and "calendars:" in problem.hint
    for call in (lambda: LIBRARY.is_workday(date(2027, 3, 1)),
                 lambda: LIBRARY.working_days_between(date(2026, 12, 1), date(2027, 1, 5)),
                 lambda: LIBRARY.is_workday(date(2003, 12, 31))):
        with pytest.raises(SpotcheckError) as exc_info:
            call()
        assert codes(exc_info) == ["C301"]


def test_a_supplied_2027_schedule_extends_the_count(tmp_path):
    cal = WorkCalendar.from_files([write(tmp_path, "2027.yaml", MADE_UP_2027)])
    # 12-28..12-31 are working days 1-4; the made-up 元旦 2027-01-01..03 is skipped; 01-04..01-11 are 5-10.
    assert cal.add_working_days(date(2026, 12, 25), 10) == date(2027, 1, 11)
    assert cal.is_workday(date(2027, 2, 14))  # made-up make-up Sunday
    assert not cal.is_workday(date(2027, 2, 8))  # Monday inside the made-up 春节
    assert cal.holiday_name(date(2027, 2, 8)) == "春节"
    assert cal.working_days_between(date(2026, 12, 25), date(2027, 1, 11)) == 10
    assert cal.source(2027).startswith("测试数据")
    assert cal.known_years()[-1] == 2027


def test_a_supplied_schedule_wins_over_the_library(tmp_path):
    corrected = YearSchedule(year=2023, source="测试数据：删去清明节的虚构更正", holidays=[], workdays=[])
    cal = WorkCalendar([corrected])
    assert not LIBRARY.is_workday(date(2023, 4, 5))
    assert cal.is_workday(date(2023, 4, 5))
    assert not cal.is_workday(date(2023, 10, 7))  # its make-up days are gone too: only this schedule counts


def test_the_example_file_transcribes_2023_exactly():
    cal = WorkCalendar.from_files([POLICIES / "calendars" / "examples" / "2023.yaml"])
    day = date(2022, 12, 1)
    while day <= date(2023, 12, 31):
        assert cal.is_workday(day) == chinese_calendar.is_workday(day), day
        day += timedelta(1)
    assert "国办发明电〔2022〕16号" in cal.source(2023)


def test_new_year_holiday_starting_in_december_moves_the_previous_year(tmp_path):
    spill = MADE_UP_2027.replace("start: 2027-01-01", "start: 2026-12-31")
    cal = WorkCalendar.from_files([write(tmp_path, "2027.yaml", spill)])
    assert LIBRARY.is_workday(date(2026, 12, 31))
    assert not cal.is_workday(date(2026, 12, 31))
    assert cal.holiday_name(date(2026, 12, 31)) == "元旦"
    assert cal.add_working_days(date(2026, 12, 25), 10) == date(2027, 1, 12)
    assert "测试数据" in cal.source(2026)


def test_structural_problems_carry_file_and_line(tmp_path):
    bad = write(tmp_path, "bad.yaml", (
        "year: 2027\n"
        "colour: red\n"
        "holidays:\n"
        "  - {name: 元旦, start: 2027-01-01, end: 2027-01-03}\n"
        "  - {name: 春节, start: 2027-02-30, end: 2027-02-12}\n"
        "  - {name: 劳动节, start: 2027-05-05, end: 2027-05-01}\n"
    ))
    with pytest.raises(SpotcheckError) as exc_info:
        WorkCalendar.from_files([bad])
    found = {(p.code, p.line) for p in exc_info.value.problems}
    assert found == {("C303", 1), ("C303", 2), ("C303", 5), ("C303", 6)}  # source missing, colour, bad date, order
    assert all(p.file == str(bad) for p in exc_info.value.problems)
    assert any("2027-02-30" in p.message for p in exc_info.value.problems)


def test_duplicate_key_in_a_schedule_is_p102_on_its_line(tmp_path):
    text = MADE_UP_2027.replace("holidays:\n", "source: 另一个来源\nholidays:\n")
    path = write(tmp_path, "2027.yaml", text)
    lines = text.splitlines()
    first, again = (i for i, line in enumerate(lines, 1) if line.startswith("source:"))
    with pytest.raises(SpotcheckError) as exc_info:
        WorkCalendar.from_files([path])
    (problem,) = exc_info.value.problems
    assert (problem.code, problem.file, problem.line) == ("P102", str(path), again)
    assert f"第 {first} 行" in problem.message and f"第 {again} 行" in problem.message


def test_semantic_problems_all_reported_with_lines(tmp_path):
    bad = write(tmp_path, "2027.yaml", (
        "year: 2027\n"
        "source: 测试数据（虚构）\n"
        "holidays:\n"
        "  - {name: 元旦, start: 2027-01-01, end: 2027-01-03}\n"
        "  - {name: 劳动节, start: 2027-05-01, end: 2028-05-05}\n"
        "workdays:\n"
        "  - 2027-01-02\n"
        "  - 2027-03-03\n"
        "  - 2026-05-02\n"
    ))
    other = write(tmp_path, "broken.yaml", "year: [2027\n")
    with pytest.raises(SpotcheckError) as exc_info:
        WorkCalendar.from_files([bad, other, tmp_path / "missing.yaml"])
    found = {(p.code, p.file, p.line) for p in exc_info.value.problems}
    assert found == {
        ("C304", str(bad), 5),
        ("C306", str(bad), 7),
        ("C307", str(bad), 8),
        ("C304", str(bad), 9),
        ("C302", str(other), 2),
        ("C302", str(tmp_path / "missing.yaml"), None),
    }


def test_schedules_for_one_year_must_agree(tmp_path):
    first = write(tmp_path, "a.yaml", MADE_UP_2027)
    same = write(tmp_path, "b.yaml", MADE_UP_2027.replace("source: 测试数据", "source: 另一份测试数据"))
    assert WorkCalendar.from_files([first, same]).is_workday(date(2027, 2, 14))
    differing = write(tmp_path, "c.yaml", MADE_UP_2027.replace("  - 2027-02-14\n", ""))
    with pytest.raises(SpotcheckError) as exc_info:
        WorkCalendar.from_files([first, differing])
    assert codes(exc_info) == ["C308"]
    assert str(first) in exc_info.value.problems[0].message


def test_schedule_model_accepts_dates_and_iso_text_only():
    span = HolidaySpan(name="元旦", start="2027-01-01", end=date(2027, 1, 3))
    assert span.start == date(2027, 1, 1)
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        HolidaySpan(name="元旦", start=20270101, end="2027-01-03")
    with pytest.raises(SpotcheckError) as exc_info:
        WorkCalendar([YearSchedule(year=2027, source="测试", holidays=[], workdays=["2027-03-03"])])
    assert codes(exc_info) == ["C307"]


def test_standard_calendar_reads_policies_calendars(tmp_path, monkeypatch):
    write(tmp_path, "2027.yaml", MADE_UP_2027)
    write(tmp_path, "notes.yaml", "not: a schedule\n")  # only files named by a year are schedules
    monkeypatch.setattr(calendar_module, "CALENDARS", tmp_path)
    assert WorkCalendar.standard().add_working_days(date(2026, 12, 25), 10) == date(2027, 1, 11)


def test_calendar_is_immutable_and_takes_datetimes():
    with pytest.raises(AttributeError):
        LIBRARY._schedules = {}
    assert LIBRARY.is_workday(datetime(2023, 10, 7, 9, 30))
    with pytest.raises(TypeError):
        LIBRARY.is_workday("2023-10-07")
