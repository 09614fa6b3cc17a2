"""Reading a results file: headers as officers write them, every problem by row and column (S8xx)."""

import datetime as dt

import pytest
from conftest import RESULTS
from conftest import RESULTS_TODAY as TODAY
from spotcheck.draw.reader import load_draw
from spotcheck.errors import SpotcheckError
from spotcheck.results.columns import parse_date
from spotcheck.results.file import read_results

HEADER = "检查编号,市场主体名称,检查完成日期,检查方式,检查结果,检查事项编码,检查情况,后续处置,备注"


@pytest.fixture(scope="module")
def folder():
    """The results fixture's draw folder as the results stage reads it (reading never writes to it)."""
    return load_draw(RESULTS / "draw")


@pytest.fixture(scope="module")
def visits(folder):
    """The draw's visits in visits.csv order."""
    return list(folder.visits.values())


def write(tmp_path, lines, name="r.csv"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def problems_of(path, folder, today=TODAY):
    with pytest.raises(SpotcheckError) as exc:
        read_results(path, folder, today=today)
    return exc.value.problems


def test_bad_file_reports_every_problem_by_row_and_column(folder):
    problems = problems_of(RESULTS / "results-bad.csv", folder)
    found = {(p.code, p.row, p.column) for p in problems}
    assert found == {("S803", 2, "检查编号"), ("S804", 3, "检查结果"), ("S808", 4, "检查完成日期")}
    assert all(p.file.endswith("results-bad.csv") for p in problems)


def test_xlsx_with_a_title_line_and_date_cells(tmp_path, folder, visits):
    import xlsxwriter

    path = tmp_path / "r.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    sheet.write_string(0, 0, "样例市2023年抽查检查结果录入表")
    for j, h in enumerate(["检查编号", "检查完成日期", "检查方式", "检查结果"]):
        sheet.write_string(1, j, h)
    sheet.write_string(2, 0, visits[1].visit_id)
    sheet.write_datetime(2, 1, dt.datetime(2023, 9, 26), book.add_format({"num_format": "yyyy-mm-dd"}))
    sheet.write_string(2, 2, "实地检查")
    sheet.write_string(2, 3, "R01")
    sheet.write_string(3, 0, "V-nope")
    sheet.write_string(3, 1, "2023-09-26")
    sheet.write_string(3, 2, "实地检查")
    sheet.write_string(3, 3, "R01")
    book.close()
    problems = problems_of(path, folder)
    # Row numbers are the spreadsheet's, counting the title line.
    assert [(p.code, p.row, p.column) for p in problems] == [("S803", 4, "检查编号")]


def test_english_headers_and_task_plus_uscc(tmp_path, folder, visits):
    v = visits[3]
    path = write(tmp_path, ["task,USCC,Completed,Method,Result", f"t02,{v.uscc},2023-10-09,on-site,R01"])
    problems = problems_of(path, folder)
    assert [(p.code, p.column) for p in problems] == [("S812", "Method")]
    path = write(tmp_path, ["task,USCC,Completed,Method,Result", f"t02,{v.uscc},2023-10-09,现场检查,R01"])
    assert [r.visit_id for r in read_results(path, folder, today=TODAY)] == [v.visit_id]


def test_task_plus_uscc_that_matches_no_visit(tmp_path, folder, visits):
    v = visits[3]  # drawn by t02 only
    path = write(tmp_path, ["抽查任务编号,统一社会信用代码,检查完成日期,检查方式,检查结果",
                            f"t01,{v.uscc},2023-10-09,实地检查,R01"])
    assert [(p.code, p.column) for p in problems_of(path, folder)] == [("S803", "抽查任务编号")]


def test_a_result_short_for_official_names_is_asked_which_one(tmp_path, folder, visits):
    path = write(tmp_path, [HEADER, f"{visits[1].visit_id},,2023-09-26,实地检查,发现问题,,,,",
                            f"{visits[2].visit_id},,2023-09-26,实地检查,发现问题已改正,,,,"])
    short, near = problems_of(path, folder)
    assert short.code == near.code == "S804"
    # Not 未发现问题, which holds the same words.
    assert short.hint.startswith("是否想写：发现问题待后续处理、发现问题已责令改正？")
    assert near.hint.startswith("是否想写：发现问题已责令改正")


def test_no_problem_with_a_problem_category_or_a_follow_up(tmp_path, folder, visits):
    path = write(tmp_path, [HEADER,
                            f"{visits[1].visit_id},,2023-09-26,实地检查,未发现问题、未按规定公示应当公示的信息,,,,",
                            f"{visits[3].visit_id},,2023-09-26,实地检查,R01,,,责令改正,"])
    problems = problems_of(path, folder)
    assert [(p.code, p.row, p.column) for p in problems] == [("S805", 2, "检查结果"), ("S805", 3, "后续处置")]


def test_dates_before_the_draw_and_bad_dates(tmp_path, folder, visits):
    path = write(tmp_path, [HEADER,
                            f"{visits[1].visit_id},,2023-08-31,实地检查,R01,,,,",
                            f"{visits[3].visit_id},,2023-02-30,实地检查,R01,,,,",
                            f"{visits[4].visit_id},,下周,实地检查,R01,,,,"])
    problems = problems_of(path, folder)
    assert [(p.code, p.row) for p in problems] == [("S807", 2), ("S806", 3), ("S806", 4)]


def test_today_decides_what_is_in_the_future(tmp_path, folder, visits):
    path = write(tmp_path, [HEADER, f"{visits[1].visit_id},,2023-10-09,实地检查,R01,,,,"])
    assert [p.code for p in problems_of(path, folder, today=dt.date(2023, 10, 8))] == ["S808"]
    assert [r.visit_id for r in read_results(path, folder, today=dt.date(2023, 10, 9))] == [visits[1].visit_id]


def test_per_item_rows_must_cover_the_visits_items(tmp_path, folder, visits):
    v = visits[0].visit_id  # items B01|C01|A01
    path = write(tmp_path, [HEADER,
                            f"{v},,2023-09-25,实地检查,R01,B01,,,",
                            f"{v},,2023-09-25,实地检查,R01,D01,,,"])
    problems = problems_of(path, folder)
    assert [(p.code, p.row, p.column) for p in problems] == [("S809", 2, "检查事项编码"), ("S810", 3, "检查事项编码")]
    assert "C01、A01" in problems[0].message


def test_duplicate_rows_and_mixed_rows(tmp_path, folder, visits):
    a, b = visits[1].visit_id, visits[3].visit_id
    path = write(tmp_path, [HEADER,
                            f"{a},,2023-09-26,实地检查,R01,,,,",
                            f"{a},,2023-09-26,实地检查,R01,,,,",
                            f"{b},,2023-09-26,实地检查,R01,,,,",
                            f"{b},,2023-09-26,实地检查,R03,,,责令改正,",
                            f"{b},,2023-09-26,实地检查,R01,C01,,,",
                            f"{b},,2023-09-26,实地检查,R01,A01,,,"])
    problems = problems_of(path, folder)
    assert [(p.code, p.row) for p in problems] == [("S811", 3), ("S815", 4), ("S811", 5)]
    assert "完全相同" in problems[0].message and "内容不同" in problems[2].message


def test_missing_columns_and_empty_cells(tmp_path, folder, visits):
    path = write(tmp_path, ["检查编号,检查结果", f"{visits[1].visit_id},R01"])
    problems = problems_of(path, folder)
    assert [p.code for p in problems] == ["S802", "S802"]
    assert "检查完成日期" in problems[0].message and "检查方式" in problems[1].message
    path = write(tmp_path, [HEADER, f"{visits[1].visit_id},,2023-09-26,,,,,,"])
    assert [(p.code, p.column) for p in problems_of(path, folder)] == [("S816", "检查方式"), ("S816", "检查结果")]


def test_unknown_follow_up_action_and_wrong_name(tmp_path, folder, visits):
    path = write(tmp_path, [HEADER, f"{visits[1].visit_id},别的公司,2023-09-26,实地检查,R03,,,批评一下,"])
    problems = problems_of(path, folder)
    assert [(p.code, p.column) for p in problems] == [("S814", "市场主体名称"), ("S813", "后续处置")]


@pytest.mark.parametrize("text, day", [
    ("2023-09-25", dt.date(2023, 9, 25)), ("2023/9/5", dt.date(2023, 9, 5)), ("2023.09.25", dt.date(2023, 9, 25)),
    ("20230925", dt.date(2023, 9, 25)), ("2023年9月25日", dt.date(2023, 9, 25)),
    ("2023-09-25 00:00:00", dt.date(2023, 9, 25)), ("45194", dt.date(2023, 9, 25)),
    ("2023-13-01", None), ("九月", None), ("123", None),
])
def test_parse_date(text, day):
    assert parse_date(text) == day


def test_short_and_long_rows_and_control_characters_are_named_by_row(tmp_path, folder):
    good = (RESULTS / "results-good.csv").read_text("utf-8").splitlines()
    lines = [good[0], good[1], good[2].rsplit(",", 3)[0], good[3] + ",多出", good[4].replace("实地检查", "实地\x1b检查")]
    found = [(p.code, p.row, p.column) for p in problems_of(write(tmp_path, lines), folder) if p.code >= "S860"]
    assert found == [("S860", 3, None), ("S860", 4, None), ("S861", 5, "检查方式")]


def test_a_broken_quote_is_named_at_its_row(tmp_path, folder):
    good = (RESULTS / "results-good.csv").read_text("utf-8").splitlines()
    (problem,) = problems_of(write(tmp_path, [good[0], good[1], good[2].replace(",R0201", ',"R0201"x')]), folder)
    assert (problem.code, problem.row) == ("S801", 3) and "引号" in problem.message
