from datetime import date, timedelta

import chinese_calendar
import pytest
from pydantic import ValidationError
from spotcheck.calendar.workdays import WorkCalendar, YearSchedule
from spotcheck.calendar.deadlines import (
    ANCHORS,
    DeadlineRule,
    check_rules,
    count_due,
    due,
    monthly_dates,
    resolve,
)
from spotcheck.errors import SpotcheckError

CAL = WorkCalendar()

# Seed 003 (青岛, 2020): list within 5 working days of receiving the scheme, inspectors matched within
# 5 working days of fetching the list; results published within 20 working days (every seed).
SEED_003 = {
    "list_fetched": DeadlineRule(name="获取检查对象名单", working_days=5, after="scheme_received",
                                 text="自收到本方案之日起5个工作日内"),
    "inspectors_matched": DeadlineRule(name="匹配检查人员", working_days=5, after="list_fetched",
                                       text="在获取名单后5个工作日内"),
    "results_public": DeadlineRule(name="检查结果公示", working_days=20, after="check_completed"),
    "all_done": DeadlineRule(name="全部完成", on="2020-11-15"),
}
MONTHLY = DeadlineRule(name="下发任务", monthly={"day": 5, "holiday": "postpone"},
                       text="在每个月5日前下发任务(遇节假日适当延期)")


def rule_error(**fields):
    with pytest.raises(ValidationError) as exc_info:
        DeadlineRule(**fields)
    return " ".join(err["msg"] for err in exc_info.value.errors())


def test_rule_needs_exactly_one_kind():
    assert "须且只能" in rule_error(name="公示")
    both = rule_error(name="公示", working_days=20, on="2023-12-31", after="check_completed")
    assert "working_days、calendar_days" in both


def test_counted_rule_needs_after_and_fixed_rule_refuses_it():
    assert "after" in rule_error(name="公示", working_days=20)
    assert "不能写 after" in rule_error(name="完成", on="2023-12-20", after="check_completed")
    assert "不能写 after" in rule_error(name="下发", monthly={"day": 5}, after="check_completed")


def test_rule_fields_are_checked_in_chinese():
    assert "正整数" in rule_error(name="公示", working_days=0, after="check_completed")
    assert "正整数" in rule_error(name="公示", working_days="20", after="check_completed")
    assert "正整数" in rule_error(name="公示", calendar_days=True, after="check_completed")
    assert "1 到 28" in rule_error(name="下发", monthly={"day": 31})
    assert "postpone" in rule_error(name="下发", monthly={"day": 5, "holiday": "later"})
    assert "YYYY-MM-DD" in rule_error(name="完成", on="2023-12-32")
    assert "不能为空" in rule_error(name=" ", on="2023-12-20")
    with pytest.raises(ValidationError):
        DeadlineRule(name="公示", working_days=20, after="check_completed", days=20)  # extra keys forbidden


def test_due_for_each_kind():
    results = SEED_003["results_public"]
    assert due(results, date(2023, 9, 25), CAL) == date(2023, 10, 27)
    ten_days = DeadlineRule(name="x", calendar_days=10, after="check_completed")
    assert due(ten_days, date(2023, 9, 25), CAL) == date(2023, 10, 7)  # 10-05 falls in the National Day holiday
    assert due(SEED_003["all_done"], None, CAL) == date(2020, 11, 15)
    assert due(MONTHLY, date(2023, 10, 20), CAL) == date(2023, 10, 7)
    with pytest.raises(ValueError):
        due(results, None, CAL)


def test_monthly_postpones_off_days_to_the_next_working_day():
    dates = monthly_dates(MONTHLY, 2023, CAL)
    # chinese-calendar: the 5th was off in Feb (Sun), Mar (Sun), Apr (清明), Aug (Sat), Oct (国庆), Nov (Sun).
    assert dates[3] == date(2023, 4, 6)
    assert dates[9] == date(2023, 10, 7)  # the make-up Saturday is the next working day
    assert dates[1] == date(2023, 2, 6)
    for month, deadline in enumerate(dates, start=1):
        expected = date(2023, month, 5)
        while not chinese_calendar.is_workday(expected):
            expected += timedelta(1)
        assert deadline == expected


def test_monthly_keep_stays_on_the_day():
    keep = DeadlineRule(name="下发任务", monthly={"day": 5})
    assert monthly_dates(keep, 2023, CAL) == [date(2023, m, 5) for m in range(1, 13)]
    with pytest.raises(ValueError):
        monthly_dates(SEED_003["all_done"], 2023, CAL)


def test_resolve_follows_chains_from_known_anchors():
    got = resolve(SEED_003, {"scheme_received": date(2020, 10, 23)}, CAL)
    assert got == {
        "list_fetched": chinese_calendar.find_workday(5, date(2020, 10, 23)),
        "inspectors_matched": date(2020, 11, 6),
        "all_done": date(2020, 11, 15),
    }
    assert got["list_fetched"] == date(2020, 10, 30)


def test_an_actual_event_date_overrides_the_deadline_it_follows():
    got = resolve(SEED_003, {"scheme_received": date(2020, 10, 23), "list_fetched": date(2020, 10, 26),
                             "check_completed": date(2020, 11, 10)}, CAL)
    assert got["list_fetched"] == date(2020, 10, 30)  # still the deadline for fetching
    assert got["inspectors_matched"] == date(2020, 11, 2)  # counted from the actual fetch
    assert got["results_public"] == CAL.add_working_days(date(2020, 11, 10), 20) == date(2020, 12, 8)


def test_resolve_crossing_into_an_unknown_year_is_c301():
    with pytest.raises(SpotcheckError) as exc_info:
        resolve(SEED_003, {"check_completed": date(2026, 12, 20)}, CAL)
    assert [p.code for p in exc_info.value.problems] == ["C301"]
    made_up = YearSchedule(year=2027, source="测试数据（虚构，不是国务院办公厅通知）",
                           holidays=[{"name": "元旦", "start": "2027-01-01", "end": "2027-01-03"}])
    got = resolve(SEED_003, {"check_completed": date(2026, 12, 20)}, WorkCalendar([made_up]))
    # 12-21..12-31: 9 working days; 01-01..03 off; 11 more from 01-04 → 2027-01-18.
    assert got["results_public"] == date(2027, 1, 18)


def test_resolve_told_to_leave_an_unknown_year_out_counts_the_rest():
    unknown = []
    got = resolve(SEED_003, {"scheme_received": date(2026, 12, 1), "check_completed": date(2026, 12, 20)}, CAL,
                  unknown=unknown)
    assert "results_public" not in got  # 20 working days after 12-20 run into 2027
    assert got["list_fetched"] == CAL.add_working_days(date(2026, 12, 1), 5)
    assert [p.code for p in unknown] == ["C301"] and "2027" in unknown[0].message
    with pytest.raises(SpotcheckError):  # without the list it is raised, as before
        resolve(SEED_003, {"check_completed": date(2026, 12, 20)}, CAL, unknown=None)


def test_check_rules_reports_unknown_anchors_with_their_path():
    rules = {"results_public": DeadlineRule(name="公示", working_days=20, after="check_finished")}
    ((path, problem),) = check_rules(rules)
    assert path == ("deadlines", "results_public", "after")
    assert problem.code == "C311"
    assert problem.where == "期限 'results_public' → after"
    assert "check_finished" in problem.message and "check_completed" in problem.hint


def test_check_rules_reports_each_cycle_once():
    rules = {
        "a": DeadlineRule(name="甲", working_days=1, after="b"),
        "b": DeadlineRule(name="乙", working_days=1, after="c"),
        "c": DeadlineRule(name="丙", working_days=1, after="a"),
        "d": DeadlineRule(name="丁", working_days=1, after="a"),
        "e": DeadlineRule(name="戊", calendar_days=1, after="e"),
        "ok": DeadlineRule(name="好", working_days=1, after="check_completed"),
    }
    problems = check_rules(rules)
    assert [(p.code, path[1]) for path, p in problems] == [("C312", "a"), ("C312", "e")]
    assert "a → b → c → a" in problems[0][1].message
    with pytest.raises(SpotcheckError) as exc_info:
        resolve(rules, {"check_completed": date(2023, 1, 3)}, CAL)
    assert [p.code for p in exc_info.value.problems] == ["C312", "C312"]


def test_counting_after_a_monthly_rule_is_refused():
    rules = {"issued": MONTHLY, "drawn": DeadlineRule(name="抽取", working_days=3, after="issued")}
    assert [p.code for _, p in check_rules(rules)] == ["C313"]


def test_resolve_refuses_unknown_anchor_names():
    with pytest.raises(SpotcheckError) as exc_info:
        resolve(SEED_003, {"check_complete": date(2023, 1, 3)}, CAL)
    assert [p.code for p in exc_info.value.problems] == ["C311"]
    assert set(ANCHORS) == {"check_completed", "scheme_received", "list_fetched"}


def test_count_due_explains_skipped_and_makeup_days():
    counted = count_due(CAL, date(2023, 9, 25), working_days=20)
    assert counted.due == date(2023, 10, 27)
    text = counted.explanation
    assert text.startswith("自 2023-09-25 起 20 个工作日（起算日不计入），至 2023-10-27（星期五）届满")
    assert "跳过 12 个休息日" in text
    assert "中秋节、国庆节 2023-09-29 至 2023-10-06（8 天）" in text and "周末 4 天" in text
    assert "计入调休上班日 2023-10-07、2023-10-08" in text
    assert "chinese-calendar 1.11.0" in text
    by_calendar = count_due(CAL, date(2026, 12, 1), calendar_days=20)
    assert by_calendar.due == date(2026, 12, 21)  # the 20th day is Sunday 12-20
    assert "20 个自然日" in by_calendar.explanation
