import csv
import datetime as dt
import io
import shutil
from pathlib import Path

import pytest
from spotcheck import categories, results, results_file, results_sample, tables
from spotcheck.draw_folder import load_draw
from spotcheck.errors import SpotcheckError
from spotcheck.ledger import Ledger
from spotcheck.loader import load_policy

FIXTURES = Path(__file__).parent / "fixtures" / "results"
POLICY = FIXTURES / "policy-2023.yaml"
TODAY = dt.date(2023, 11, 1)
HEADER = "检查编号,市场主体名称,检查完成日期,检查方式,检查结果,检查事项编码,检查情况,后续处置,备注"


@pytest.fixture
def draw(tmp_path):
    """A copy of the fixture draw folder (publish writes into it)."""
    return Path(shutil.copytree(FIXTURES / "draw", tmp_path / "draw"))


@pytest.fixture
def visits(draw):
    with open(draw / "visits.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def ledger(tmp_path, visits):
    """A ledger holding the draw's `visit` records, as the visits stage writes them."""
    path = tmp_path / "ledger.db"
    with Ledger.open(path, actor="安排人") as led, led.transaction() as tx:
        for row in visits:
            tx.append("visit", row["visit_id"], dict(row))
    return path


def vid(visits, n):
    return visits[n]["visit_id"]


def write(tmp_path, lines, name="r.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes("\n".join(lines).encode(encoding) + b"\n")
    return path


def head(path):
    with Ledger.open(path) as led:
        return led.head(), len(led.find())


def do_import(path, draw, ledger, today=TODAY):
    return results.import_results(path, draw, ledger_path=ledger, today=today)


def problems_of(path, draw, ledger, today=TODAY):
    with pytest.raises(SpotcheckError) as exc:
        do_import(path, draw, ledger, today)
    return exc.value.problems


# ---------------------------------------------------------------- importing


def test_good_file_imports_every_visit(draw, ledger, visits):
    out = do_import(FIXTURES / "results-good.csv", draw, ledger)
    assert out.added == tuple(v["visit_id"] for v in visits)
    assert out.rows == 7
    with Ledger.open(ledger) as led:
        bodies = {r.key: r.body for r in led.find("result")}
    first = bodies[vid(visits, 0)]
    # Per item: B01 and A01 found nothing, C01 did; the visit as a whole found a problem.
    assert first["categories"] == ["R0201"]
    assert [i["code"] for i in first["items"]] == ["B01", "C01", "A01"]
    assert first["items"][1]["actions"] == ["责令改正"]
    assert first["methods"] == ["实地检查", "书面检查", "检验检测"]
    assert bodies[vid(visits, 1)]["completed_on"] == "2023-09-26"  # 2023/9/26
    assert bodies[vid(visits, 2)]["categories"] == ["R0203"]
    assert bodies[vid(visits, 2)]["completed_on"] == "2023-09-27"  # 2023年9月27日
    assert bodies[vid(visits, 3)]["completed_on"] == "2023-10-09"  # 20231009
    assert bodies[vid(visits, 3)]["methods"] == ["实地检查", "书面检查"]
    assert bodies[vid(visits, 4)]["remarks"] == "已当场整改"


def test_bad_file_reports_every_problem_by_row_and_column_and_changes_nothing(draw, ledger):
    do_import(FIXTURES / "results-good.csv", draw, ledger)
    before = head(ledger)
    problems = problems_of(FIXTURES / "results-bad.csv", draw, ledger)
    found = {(p.code, p.row, p.column) for p in problems}
    assert found == {("S803", 2, "检查编号"), ("S804", 3, "检查结果"), ("S808", 4, "检查完成日期")}
    assert all(p.file.endswith("results-bad.csv") for p in problems)
    assert head(ledger) == before


def test_importing_the_same_file_twice_changes_nothing(draw, ledger, visits):
    do_import(FIXTURES / "results-good.csv", draw, ledger)
    before = head(ledger)
    again = do_import(FIXTURES / "results-good.csv", draw, ledger)
    assert again.added == () and again.replaced == ()
    assert len(again.unchanged) == len(visits)
    assert head(ledger) == before


def test_a_corrected_row_replaces_the_result_and_says_what_changed(tmp_path, draw, ledger, visits):
    do_import(FIXTURES / "results-good.csv", draw, ledger)
    results.approve(draw, ledger_path=ledger, actor="审核员", on=TODAY)
    v = vid(visits, 1)
    with Ledger.open(ledger) as led:
        old = results.latest_result(led, v)
    lines = (FIXTURES / "results-good.csv").read_text("utf-8").splitlines()
    lines = [ln.replace("2023/9/26,实地检查,R01,,,,", "2023/9/26,实地检查,R03,,价签不全,责令改正,") if ln.startswith(v) else ln
             for ln in lines]
    out = do_import(write(tmp_path, lines), draw, ledger)
    assert out.unchanged == tuple(x["visit_id"] for x in visits if x["visit_id"] != v)
    assert out.replaced == ((v, old.seq, ("检查结果", "检查情况", "后续处置")),)
    with Ledger.open(ledger) as led:
        new = results.latest_result(led, v)
        track = {t.visit.visit_id: t for t in results.tracks(load_draw(draw), led)}[v]
    assert new.body["replaces"] == {"seq": old.seq, "hash": old.hash}
    assert new.body["changes"]["categories"] == {"from": ["R01"], "to": ["R03"]}
    # An approved result that is corrected must be approved again.
    assert track.state == "录入"


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig"])
def test_csv_encodings_read_the_same(tmp_path, draw, ledger, encoding):
    text = (FIXTURES / "results-good.csv").read_text("utf-8")
    path = tmp_path / "r.csv"
    path.write_bytes(text.encode(encoding))
    do_import(path, draw, ledger)
    # The same content in UTF-8 is then no change at all.
    before = head(ledger)
    assert do_import(FIXTURES / "results-good.csv", draw, ledger).added == ()
    assert head(ledger) == before


def test_xlsx_with_a_title_line_and_date_cells(tmp_path, draw, ledger, visits):
    import xlsxwriter

    path = tmp_path / "r.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    sheet.write_string(0, 0, "样例市2023年抽查检查结果录入表")
    for j, h in enumerate(["检查编号", "检查完成日期", "检查方式", "检查结果"]):
        sheet.write_string(1, j, h)
    sheet.write_string(2, 0, vid(visits, 1))
    sheet.write_datetime(2, 1, dt.datetime(2023, 9, 26), book.add_format({"num_format": "yyyy-mm-dd"}))
    sheet.write_string(2, 2, "实地检查")
    sheet.write_string(2, 3, "R01")
    sheet.write_string(3, 0, "V-nope")
    sheet.write_string(3, 1, "2023-09-26")
    sheet.write_string(3, 2, "实地检查")
    sheet.write_string(3, 3, "R01")
    book.close()
    problems = problems_of(path, draw, ledger)
    # Row numbers are the spreadsheet's, counting the title line.
    assert [(p.code, p.row, p.column) for p in problems] == [("S803", 4, "检查编号")]


def test_english_headers_and_task_plus_uscc(tmp_path, draw, ledger, visits):
    v = visits[3]
    path = write(tmp_path, ["task,USCC,Completed,Method,Result", f"t02,{v['uscc']},2023-10-09,on-site,R01"])
    problems = problems_of(path, draw, ledger)
    assert [(p.code, p.column) for p in problems] == [("S812", "Method")]
    path = write(tmp_path, ["task,USCC,Completed,Method,Result", f"t02,{v['uscc']},2023-10-09,现场检查,R01"])
    out = do_import(path, draw, ledger)
    assert out.added == (v["visit_id"],)


def test_task_plus_uscc_that_matches_no_visit(tmp_path, draw, ledger, visits):
    v = visits[3]  # drawn by t02 only
    path = write(tmp_path, ["抽查任务编号,统一社会信用代码,检查完成日期,检查方式,检查结果",
                            f"t01,{v['uscc']},2023-10-09,实地检查,R01"])
    assert [(p.code, p.column) for p in problems_of(path, draw, ledger)] == [("S803", "抽查任务编号")]


def test_no_problem_with_a_problem_category_or_a_follow_up(tmp_path, draw, ledger, visits):
    path = write(tmp_path, [HEADER,
                            f"{vid(visits, 1)},,2023-09-26,实地检查,未发现问题、未按规定公示应当公示的信息,,,,",
                            f"{vid(visits, 3)},,2023-09-26,实地检查,R01,,,责令改正,"])
    problems = problems_of(path, draw, ledger)
    assert [(p.code, p.row, p.column) for p in problems] == [("S805", 2, "检查结果"), ("S805", 3, "后续处置")]


def test_dates_before_the_draw_and_bad_dates(tmp_path, draw, ledger, visits):
    path = write(tmp_path, [HEADER,
                            f"{vid(visits, 1)},,2023-08-31,实地检查,R01,,,,",
                            f"{vid(visits, 3)},,2023-02-30,实地检查,R01,,,,",
                            f"{vid(visits, 4)},,下周,实地检查,R01,,,,"])
    problems = problems_of(path, draw, ledger)
    assert [(p.code, p.row) for p in problems] == [("S807", 2), ("S806", 3), ("S806", 4)]


def test_today_decides_what_is_in_the_future(tmp_path, draw, ledger, visits):
    path = write(tmp_path, [HEADER, f"{vid(visits, 1)},,2023-10-09,实地检查,R01,,,,"])
    assert [p.code for p in problems_of(path, draw, ledger, today=dt.date(2023, 10, 8))] == ["S808"]
    assert do_import(path, draw, ledger, today=dt.date(2023, 10, 9)).added == (vid(visits, 1),)


def test_per_item_rows_must_cover_the_visits_items(tmp_path, draw, ledger, visits):
    v = vid(visits, 0)  # items B01|C01|A01
    path = write(tmp_path, [HEADER,
                            f"{v},,2023-09-25,实地检查,R01,B01,,,",
                            f"{v},,2023-09-25,实地检查,R01,D01,,,"])
    problems = problems_of(path, draw, ledger)
    assert [(p.code, p.row, p.column) for p in problems] == [("S809", 2, "检查事项编码"), ("S810", 3, "检查事项编码")]
    assert "C01、A01" in problems[0].message


def test_duplicate_rows_and_mixed_rows(tmp_path, draw, ledger, visits):
    a, b = vid(visits, 1), vid(visits, 3)
    path = write(tmp_path, [HEADER,
                            f"{a},,2023-09-26,实地检查,R01,,,,",
                            f"{a},,2023-09-26,实地检查,R01,,,,",
                            f"{b},,2023-09-26,实地检查,R01,,,,",
                            f"{b},,2023-09-26,实地检查,R03,,,责令改正,",
                            f"{b},,2023-09-26,实地检查,R01,C01,,,",
                            f"{b},,2023-09-26,实地检查,R01,A01,,,"])
    problems = problems_of(path, draw, ledger)
    assert [(p.code, p.row) for p in problems] == [("S811", 3), ("S815", 4), ("S811", 5)]
    assert "完全相同" in problems[0].message and "内容不同" in problems[2].message


def test_missing_columns_and_empty_cells(tmp_path, draw, ledger, visits):
    path = write(tmp_path, ["检查编号,检查结果", f"{vid(visits, 1)},R01"])
    problems = problems_of(path, draw, ledger)
    assert [p.code for p in problems] == ["S802", "S802"]
    assert "检查完成日期" in problems[0].message and "检查方式" in problems[1].message
    path = write(tmp_path, [HEADER, f"{vid(visits, 1)},,2023-09-26,,,,,,"])
    assert [(p.code, p.column) for p in problems_of(path, draw, ledger)] == [("S816", "检查方式"), ("S816", "检查结果")]


def test_unknown_follow_up_action_and_wrong_name(tmp_path, draw, ledger, visits):
    path = write(tmp_path, [HEADER, f"{vid(visits, 1)},别的公司,2023-09-26,实地检查,R03,,,批评一下,"])
    problems = problems_of(path, draw, ledger)
    assert [(p.code, p.column) for p in problems] == [("S814", "市场主体名称"), ("S813", "后续处置")]


def test_visits_csv_edited_after_the_ledger_recorded_it(draw, ledger, visits):
    text = (draw / "visits.csv").read_text("utf-8").replace("t01|t02,B01|C01|A01", "t01|t02,B01|C01")
    (draw / "visits.csv").write_text(text, "utf-8")
    problems = problems_of(FIXTURES / "results-good.csv", draw, ledger)
    assert [p.code for p in problems] == ["S832"]
    assert "检查事项" in problems[0].message


def test_draw_folder_without_visits(tmp_path, ledger):
    (tmp_path / "empty").mkdir()
    problems = problems_of(FIXTURES / "results-good.csv", tmp_path / "empty", ledger)
    assert [p.code for p in problems] == ["S830", "S830"]


# ---------------------------------------------------------------- vocabulary


@pytest.mark.parametrize("text, codes", [
    ("R01", ["R01"]),
    ("r0201；R03", ["R0201", "R03"]),
    ("发现问题待后续处理（未按规定公示应当公示的信息、通过登记的住所(经营场所)无法联系）", ["R02", "R0201", "R0203"]),
    ("公示信息隐瞒真实情况、弄虚作假", ["R0202"]),
    ("发现问题待后续处理：违反其他市场监管规定", ["R02", "R0204"]),
])
def test_scan_categories(text, codes):
    found, unknown = categories.scan(text, categories.CATEGORY_VOCAB)
    assert (found, unknown) == (codes, [])


def test_scan_reports_what_it_does_not_know():
    assert categories.scan("R01、R011、没问题", categories.CATEGORY_VOCAB) == (["R01"], ["r011", "没问题"])


def test_category_text_reads_back():
    codes = ("R0201", "R0203", "R03")
    text = categories.category_text(codes)
    assert text == "发现问题待后续处理（未按规定公示应当公示的信息、通过登记的住所（经营场所）无法联系）；发现问题已责令改正"
    assert categories.ordered_categories(categories.scan(text, categories.CATEGORY_VOCAB)[0]) == codes


@pytest.mark.parametrize("text, day", [
    ("2023-09-25", dt.date(2023, 9, 25)), ("2023/9/5", dt.date(2023, 9, 5)), ("2023.09.25", dt.date(2023, 9, 25)),
    ("20230925", dt.date(2023, 9, 25)), ("2023年9月25日", dt.date(2023, 9, 25)),
    ("2023-09-25 00:00:00", dt.date(2023, 9, 25)), ("45194", dt.date(2023, 9, 25)),
    ("2023-13-01", None), ("九月", None), ("123", None),
])
def test_parse_date(text, day):
    assert results_file.parse_date(text) == day


# ---------------------------------------------------------------- deadlines and status


def test_due_date_counts_the_national_day_holiday_and_make_up_days():
    loaded = load_policy(POLICY)
    # 9-29..10-6 off (中秋、国庆), 10-7 and 10-8 (weekend) worked: the 20th working day is 10-27.
    assert results.publication_due(loaded, dt.date(2023, 9, 25)) == dt.date(2023, 10, 27)
    assert results.publication_due(loaded, dt.date(2023, 9, 26)) == dt.date(2023, 10, 30)


def _one(status, visit_id):
    return next(line for line in status.lines if line.visit_id == visit_id)


def test_status_overdue_and_due_soon(draw, ledger, visits):
    do_import(FIXTURES / "results-good.csv", draw, ledger)
    v = vid(visits, 0)  # completed 2023-09-25

    def status(day):
        return results.status(draw, ledger_path=ledger, policy_path=POLICY, today=day)

    on_time = _one(status(dt.date(2023, 10, 27)), v)
    assert (on_time.due, on_time.overdue, on_time.due_soon, on_time.working_days_left) == (dt.date(2023, 10, 27), False, True, 0)
    late = status(dt.date(2023, 10, 30))
    assert _one(late, v).overdue and not _one(late, v).due_soon and _one(late, v).working_days_left == -1
    assert [line.visit_id for line in late.overdue] == [v]
    assert _one(status(dt.date(2023, 10, 24)), v).due_soon  # 3 working days left
    assert not _one(status(dt.date(2023, 10, 23)), v).due_soon  # 4 left
    assert late.counts() == {"未录入": 0, "录入": 5, "审核": 0, "公示": 0}


def test_status_lists_abnormal_candidates_and_open_follow_ups(draw, ledger, visits):
    do_import(FIXTURES / "results-good.csv", draw, ledger)
    st = results.status(draw, ledger_path=ledger, policy_path=POLICY, today=TODAY)
    assert [line.visit_id for line in st.abnormal] == [vid(visits, 2)]
    assert [line.visit_id for line in st.open_follow_ups] == [vid(visits, i) for i in (0, 2, 4)]


def test_a_visit_without_result_is_overdue_after_the_plans_date(draw, ledger, visits):
    st = results.status(draw, ledger_path=ledger, policy_path=POLICY, today=dt.date(2024, 1, 19))
    line = _one(st, vid(visits, 0))
    assert (line.state, line.due, line.overdue) == ("未录入", dt.date(2024, 1, 18), True)


# ---------------------------------------------------------------- states and follow-up


def test_approve_moves_only_the_named_visits(draw, ledger, visits):
    do_import(FIXTURES / "results-good.csv", draw, ledger)
    out = results.approve(draw, ledger_path=ledger, actor="审核员乙", visit_ids=[vid(visits, 1)], on=TODAY)
    assert out.changed == (vid(visits, 1),)
    with Ledger.open(ledger) as led:
        states = {t.visit.visit_id: t for t in results.tracks(load_draw(draw), led)}
        record = led.latest("result_state", vid(visits, 1))
    assert states[vid(visits, 1)].state == "审核" and states[vid(visits, 0)].state == "录入"
    assert record.actor == "审核员乙" and record.body["on"] == "2023-11-01"
    again = results.approve(draw, ledger_path=ledger, actor="审核员乙", visit_ids=[vid(visits, 1)], on=TODAY)
    assert again.changed == () and again.skipped == ((vid(visits, 1), "已是“审核”状态"),)


def test_approve_refuses_unknown_and_unentered_visits(draw, ledger, visits):
    with pytest.raises(SpotcheckError) as exc:
        results.approve(draw, ledger_path=ledger, actor="审核员", visit_ids=["V-nope", vid(visits, 0)])
    assert [p.code for p in exc.value.problems] == ["S803", "S820"]


def test_follow_up_closes_with_date_and_action(draw, ledger, visits):
    do_import(FIXTURES / "results-good.csv", draw, ledger)
    v = vid(visits, 0)
    out = results.close_follow_up(v, ledger_path=ledger, actor="办理人", closed_on=dt.date(2023, 10, 20),
                                  action="责令改正", today=TODAY)
    assert out.changed
    same = results.close_follow_up(v, ledger_path=ledger, actor="办理人", closed_on=dt.date(2023, 10, 20),
                                   action="责令改正", today=TODAY)
    assert not same.changed
    st = results.status(draw, ledger_path=ledger, policy_path=POLICY, today=TODAY)
    assert _one(st, v).follow_up == "已办结" and _one(st, vid(visits, 4)).follow_up == "待处置"
    assert _one(st, vid(visits, 1)).follow_up == "无需"


def test_follow_up_refusals(draw, ledger, visits):
    do_import(FIXTURES / "results-good.csv", draw, ledger)
    with pytest.raises(SpotcheckError) as exc:
        results.close_follow_up(vid(visits, 1), ledger_path=ledger, actor="x", closed_on=dt.date(2023, 9, 1),
                                action="表扬", today=TODAY)
    assert [p.code for p in exc.value.problems] == ["S822", "S818", "S813"]


# ---------------------------------------------------------------- sample


def test_sample_is_deterministic_and_imports_cleanly(tmp_path, draw, ledger, visits):
    a = results_sample.sample_results(draw, tmp_path / "a.csv", policy_path=POLICY, seed="7", today=TODAY)
    b = results_sample.sample_results(draw, tmp_path / "b.csv", policy_path=POLICY, seed="7", today=TODAY)
    c = results_sample.sample_results(draw, tmp_path / "c.csv", policy_path=POLICY, seed="8", today=TODAY)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (tmp_path / "a.csv").read_bytes() != (tmp_path / "c.csv").read_bytes()
    assert a.visits == len(visits) and a.unreachable in {v["visit_id"] for v in visits}
    assert (tmp_path / "a.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    out = do_import(tmp_path / "a.csv", draw, ledger)
    assert len(out.added) == len(visits)
    with Ledger.open(ledger) as led:
        categories = [r.body["categories"] for r in led.find("result")]
    assert categories.count(["R0203"]) == 1
    assert categories.count(["R01"]) >= len(visits) - 1 - a.problems
    assert (b.rows, c.visits) == (a.rows, a.visits)


def test_sample_xlsx(tmp_path, draw, ledger):
    results_sample.sample_results(draw, tmp_path / "s.xlsx", policy_path=POLICY, seed="1", today=TODAY)
    assert len(do_import(tmp_path / "s.xlsx", draw, ledger).added) == 5


def test_table_bytes_csv_has_bom_and_crlf():
    data = tables.table_bytes(".csv", ["甲", "乙"], [["1", "a,b"]])
    assert data == "\ufeff甲,乙\r\n1,\"a,b\"\r\n".encode("utf-8")
    assert list(csv.reader(io.StringIO(data.decode("utf-8-sig")))) == [["甲", "乙"], ["1", "a,b"]]
