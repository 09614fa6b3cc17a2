import csv
import hashlib
import io
import tempfile
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st
from spotcheck.directory import load as directory
from spotcheck.directory import uscc
from spotcheck.directory.load import (
    ROW_PROBLEM_CAP,
    load_entities,
    load_inspectors,
    load_recusals,
)
from spotcheck.errors import SpotcheckError
from spotcheck.leftovers import Held
from spotcheck.rules.fields import ENTITY_FIELDS

A = "91350100M000100Y43"
B = "91110108551385082Q"
C = "91440300708461136T"
D = uscc.make("d", entity_type="个体工商户", region="350102")
E = uscc.make("e", entity_type="农民专业合作社", region="350121")

HEADER_ZH = ["统一社会信用代码", "企业名称", "主体类型", "登记状态", "所属辖区", "信用风险等级", "监管标签", "成立日期"]
HEADER_EN = ["uscc", "name", "type", "status", "district", "tier", "labels", "established"]
GOOD_ROWS = [
    [A, "福州甲商贸有限公司", "企业", "存续", "鼓楼区", "A", "加油站；食品经营", "2023-01-05"],
    [B, "鼓楼区乙便利店", "个体工商户", "在营", "鼓楼区", "B", "", "2023/1/5"],
    [C, "福州丙科技有限公司", "企业", "吊销", "台江区", "C", "特种设备使用", "20230105"],
    [D, "台江区丁小吃店", "个体工商户", "开业", "台江区", "D", "食品经营, 小餐饮", "2023年1月5日"],
]


def write_table(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    """Write rows (header first) as CSV in `encoding` or as XLSX with every cell a text cell."""
    if path.suffix == ".xlsx":
        book = xlsxwriter.Workbook(str(path))
        sheet = book.add_worksheet()
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                if cell != "":
                    sheet.write_string(r, c, cell)
        book.close()
    else:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rows)
        path.write_bytes(buf.getvalue().encode(encoding))
    return path


def problems_of(load, path):
    with pytest.raises(SpotcheckError) as info:
        load(path)
    return info.value.problems


# ---------------------------------------------------------------------------------------------
# The three problems at once, in every format


def _broken_rows() -> list[list[str]]:
    # No 信用风险等级 column; row 3 has a wrong check character; row 4 repeats row 2's code.
    header = [h for h in HEADER_ZH if h != "信用风险等级"]
    rows = [[cell for h, cell in zip(HEADER_ZH, row) if h != "信用风险等级"] for row in GOOD_ROWS[:3]]
    rows[1][0] = B[:17] + "0"
    rows[2][0] = A
    return [header, *rows]


@pytest.mark.parametrize(
    "name, encoding", [("gbk.csv", "gbk"), ("bom.csv", "utf-8-sig"), ("plain.csv", "utf-8"), ("book.xlsx", None)]
)
def test_bad_code_duplicate_and_missing_column_reported_together(tmp_path, name, encoding):
    path = write_table(tmp_path / name, _broken_rows(), encoding or "utf-8")
    problems = problems_of(load_entities, path)
    by_code = {p.code: p for p in problems}
    assert set(by_code) == {"D202", "D207", "D208"}, [p.format() for p in problems]

    missing = by_code["D202"]
    assert "信用风险等级" in missing.message and missing.file == str(path)

    bad = by_code["D207"]
    assert (bad.row, bad.column) == (3, "统一社会信用代码")
    assert f"应为 '{B[17]}'" in bad.message and "此处为 '0'" in bad.message

    dup = by_code["D208"]
    assert (dup.row, dup.column) == (4, "统一社会信用代码")
    assert "第 2 行" in dup.message and "第 4 行" in dup.message


def test_gbk_text_is_decoded(tmp_path):
    path = write_table(tmp_path / "gbk.csv", [HEADER_ZH, *GOOD_ROWS], "gbk")
    frame = load_entities(path).frame
    assert frame["name"].to_list()[0] == "福州甲商贸有限公司"


def test_gbk_text_goes_through_a_temporary_file_that_is_removed(tmp_path, monkeypatch):
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    good = write_table(tmp_path / "gbk.csv", [HEADER_ZH, *GOOD_ROWS], "gbk")
    assert load_entities(good).frame.height == len(GOOD_ROWS)
    bad = write_table(tmp_path / "bad.csv", [HEADER_ZH, *GOOD_ROWS, GOOD_ROWS[0]], "gbk")
    with pytest.raises(SpotcheckError):
        load_entities(bad)
    assert list(temp.iterdir()) == []


def test_a_transcoded_file_a_killed_run_left_is_removed_by_the_next_one(tmp_path, monkeypatch):
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    stranded = temp / "spotcheck-utf8-killed.csv"
    stranded.write_bytes(b"x" * 1000)
    in_use = temp / "spotcheck-utf8-running.csv"
    held = Held(in_use)  # another run still reading its file
    good = write_table(tmp_path / "gbk.csv", [HEADER_ZH, *GOOD_ROWS], "gbk")
    assert load_entities(good).frame.height == len(GOOD_ROWS)
    assert list(temp.iterdir()) == [in_use]
    held.release()


def test_bytes_in_no_known_encoding_are_reported_with_what_to_do(tmp_path, monkeypatch):
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    path = tmp_path / "e.csv"
    path.write_bytes(",".join(HEADER_ZH).encode("utf-8") + b"\n\xff\xfe\x80,x\n")
    (problem,) = problems_of(load_entities, path)
    assert (problem.code, problem.file) == ("D201", str(path))
    assert "编码" in problem.message and "UTF-8" in problem.hint
    assert list(temp.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# Headers


def test_chinese_and_english_headers_load_to_the_same_frame(tmp_path):
    zh = load_entities(write_table(tmp_path / "zh.csv", [HEADER_ZH, *GOOD_ROWS]))
    en = load_entities(write_table(tmp_path / "en.csv", [HEADER_EN, *GOOD_ROWS]))
    assert zh.frame.equals(en.frame)
    assert zh.frame.columns == en.frame.columns
    assert zh.headers["tier"] == "信用风险等级" and en.headers["tier"] == "tier"


def test_frame_is_typed_and_normalised(tmp_path):
    d = load_entities(write_table(tmp_path / "e.csv", [HEADER_ZH, *GOOD_ROWS]))
    f = d.frame
    assert f.schema["labels"] == pl.List(pl.String)
    assert f.schema["established"] == pl.Date and f.schema["expires"] == pl.Date
    # Every accepted date spelling gives the same date.
    assert f["established"].to_list() == [date(2023, 1, 5)] * 4
    assert f["labels"].to_list() == [["加油站", "食品经营"], [], ["特种设备使用"], ["食品经营", "小餐饮"]]
    assert f["tier"].to_list() == ["A", "B", "C", "D"]
    # Columns the file lacks are present and empty.
    assert f["office"].null_count() == 4
    assert d.source_rows.to_list() == [2, 3, 4, 5]
    assert len(d) == 4


HEADER_ALL = [f.headers[0] for f in ENTITY_FIELDS.values() if f.headers]


def test_few_valued_entity_columns_are_categorical(tmp_path):
    full_row = [A, "甲", "企业", "存续", "鼓楼区", "A", "加油站", "批发和零售业", "鼓楼局", "鼓楼所", "第1网格", "某路1号",
                "2020-01-01", "", "2024-05-06"]
    full = load_entities(write_table(tmp_path / "full.csv", [HEADER_ALL, full_row])).frame
    partial = load_entities(write_table(tmp_path / "partial.csv", [HEADER_ZH, *GOOD_ROWS])).frame
    categorical = {"type", "status", "district", "tier", "industry", "registration_authority", "office", "grid"}
    assert {name for name, dtype in full.schema.items() if dtype == pl.Categorical} == categorical
    assert {name for name, dtype in full.schema.items() if dtype == pl.String} == {"uscc", "name", "address"}
    # A column the file lacks has the type it would have had.
    assert partial.schema == full.schema
    # Categorical columns compare with text, and join with each other across files.
    assert partial.filter(pl.col("tier") == "B")["uscc"].to_list() == [B]
    joined = partial.select("uscc", "district").join(full.select("district", "grid"), on="district")
    assert joined["grid"].to_list() == ["第1网格"] * 2


def test_inspector_and_recusal_columns_stay_text(tmp_path):
    inspectors = load_inspectors(write_table(tmp_path / "i.csv", [INSPECTOR_HEADER, *INSPECTORS]))
    recusals = load_recusals(write_table(tmp_path / "r.csv", [["执法人员编号", "统一社会信用代码"], ["ZF001", A]]))
    for frame in (inspectors.frame, recusals.frame):
        assert not any(dtype == pl.Categorical for dtype in frame.schema.values())


def test_rows_blank_in_every_column_are_left_out(tmp_path):
    # Whitespace-only cells in the few-valued columns count as blank, text in any one of them does not.
    blank = ["", " ", "", "\u3000", " ", "", "", ""]
    district_only = ["", "", "", "", "鼓楼区", "", "", ""]
    d = load_entities(write_table(tmp_path / "e.csv", [HEADER_ZH, GOOD_ROWS[0], blank, GOOD_ROWS[1]]))
    assert d.source_rows.to_list() == [2, 4]
    problems = problems_of(load_entities, write_table(tmp_path / "f.csv", [HEADER_ZH, GOOD_ROWS[0], district_only]))
    assert {(p.code, p.row) for p in problems} == {("D205", 3)}
    assert len(problems) == 5  # code, name, type, status, tier


# Cells as exports write them: right in other spellings or padded, and wrong.
DATES = ["", "2023-01-05", "2023/1/5 ", "20230105", "2023年1月5日", "2023-01-05 00:00:00"]
TEXT = ["", "鼓楼区", " 鼓楼区", "第1网格\u3000"]
GOOD_CELLS = {
    "type": ["企业", " 个体户 ", "有限责任公司（自然人独资）", "农民专业合作社"],
    "status": ["存续（在营、开业、在册）", "吊销，已注销", "已迁出", " 在营"],
    "district": TEXT[1:],
    "tier": ["a", "B级", "低风险", "D"],
    "labels": ["", "加油站；食品经营", "食品经营, 小餐饮 ,", "；"],
    "industry": TEXT,
    "registration_authority": TEXT,
    "office": TEXT,
    "grid": TEXT,
    "established": DATES,
    "expires": [*DATES, "长期"],
    "last_checked": DATES,
}
BAD_CELLS = ["", " ", "\u3000", "合伙", "营业", "E", "2023-02-30", "5/1/2023", "长期", "；"]
FEW_VALUED = [f for f in ENTITY_FIELDS.values() if f.few_values]
good_row = st.tuples(*[st.sampled_from(GOOD_CELLS[f.name]) for f in FEW_VALUED])
any_cell = st.one_of(st.sampled_from(BAD_CELLS), st.text(alphabet="企业存续AB 年月-/0123；,\u3000", max_size=10))
messy_row = st.tuples(*[st.one_of(st.sampled_from(GOOD_CELLS[f.name]), any_cell) for f in FEW_VALUED])


def _load_outcome(path: Path) -> tuple[pl.DataFrame | None, list[tuple]]:
    try:
        return load_entities(path).frame, []
    except SpotcheckError as err:
        return None, [(p.code, p.row, p.column, p.message) for p in err.problems]


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(st.booleans(), st.one_of(good_row, messy_row)), min_size=1, max_size=6))
def test_few_valued_cells_load_as_they_would_row_by_row(tmp_path_factory, rows):
    # Few-valued columns are normalised and checked once per distinct cell; the frame and every
    # problem must be what working through the cells row by row gives (the fields unflagged).
    header = ["统一社会信用代码", "企业名称", *[f.headers[0] for f in FEW_VALUED]]
    lines = [[uscc.make(f"row{i}") if named else "", f"主体{i}" if named else "", *cells]
             for i, (named, cells) in enumerate(rows)]
    path = write_table(tmp_path_factory.mktemp("messy") / "e.csv", [header, *lines])
    frame, problems = _load_outcome(path)

    unflagged = {name: replace(f, few_values=False) for name, f in ENTITY_FIELDS.items()}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(directory, "ENTITY_SHEET", replace(directory.ENTITY_SHEET, fields=unflagged))
        row_by_row, row_by_row_problems = _load_outcome(path)
    assert problems == row_by_row_problems
    if frame is not None:
        assert frame.with_columns(pl.col(pl.Categorical).cast(pl.String)).equals(row_by_row)


def test_sha256_is_of_the_file_bytes(tmp_path):
    path = write_table(tmp_path / "e.csv", [HEADER_ZH, *GOOD_ROWS])
    assert load_entities(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_export_spellings_are_normalised(tmp_path):
    rows = [
        ["*统一社会信用代码", "企业名称", "市场主体类型", "登记状态", "辖区", "风险等级", "营业期限至"],
        [A, "甲", "有限责任公司（自然人独资）", "存续（在营、开业、在册）", "鼓楼区", "a", "长期"],
        [B, "乙", "个人独资企业", "吊销，未注销", "鼓楼区", "低风险", "2030-1-1"],
        [C, "丙", "个体户", "吊销，已注销", "鼓楼区", "B级", ""],
        [E, "丁", "农民专业合作社", "已迁出", "闽侯县", "D", "2023-01-05 00:00:00"],
    ]
    f = load_entities(write_table(tmp_path / "e.csv", rows)).frame
    assert f["type"].to_list() == ["企业", "企业", "个体工商户", "农民专业合作社"]
    assert f["status"].to_list() == ["存续", "吊销", "注销", "迁出"]
    assert f["tier"].to_list() == ["A", "A", "B", "D"]
    assert f["expires"].to_list() == [None, date(2030, 1, 1), None, date(2023, 1, 5)]


def test_mistyped_header_gets_did_you_mean(tmp_path):
    rows = [[*HEADER_ZH, "管辖单伟", "注册资本"], *[[*r, "鼓楼所", "100万"] for r in GOOD_ROWS]]
    problems = problems_of(load_entities, write_table(tmp_path / "e.csv", rows))
    assert [p.code for p in problems] == ["D203"]
    assert problems[0].column == "管辖单伟" and problems[0].row == 1
    assert "管辖单位" in problems[0].hint
    # 注册资本 is an ordinary extra column of the export: not a problem.


def test_mistyped_required_header_is_named_in_the_missing_column_problem(tmp_path):
    rows = [["统一社会信用代马", *HEADER_ZH[1:]], *GOOD_ROWS]
    problems = problems_of(load_entities, write_table(tmp_path / "e.csv", rows))
    assert [p.code for p in problems] == ["D202"]
    assert problems[0].column == "统一社会信用代马"
    assert "统一社会信用代马" in problems[0].message


def test_two_columns_for_one_field(tmp_path):
    rows = [[*HEADER_ZH, "名称"], *[[*r, "x"] for r in GOOD_ROWS]]
    problems = problems_of(load_entities, write_table(tmp_path / "e.csv", rows))
    assert [(p.code, p.column) for p in problems] == [("D204", "名称")]


def test_title_row_above_the_header_is_skipped(tmp_path):
    rows = [["福州市市场主体名录（2025年3月）", *[""] * 7], HEADER_ZH, *[list(r) for r in GOOD_ROWS]]
    rows[2][5] = "E"
    problems = problems_of(load_entities, write_table(tmp_path / "e.csv", rows))
    assert [(p.code, p.row, p.column) for p in problems] == [("D209", 3, "信用风险等级")]


def test_xlsx_rows_count_leading_blank_rows(tmp_path):
    path = tmp_path / "e.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for c, cell in enumerate(HEADER_ZH):
        sheet.write_string(2, c, cell)  # header on spreadsheet row 3
    for r, row in enumerate(GOOD_ROWS):
        for c, cell in enumerate(row):
            if cell:
                sheet.write_string(3 + r, c, cell)
    sheet.write_string(5, 5, "Z")  # second data row → spreadsheet row 6
    # A real date cell (not text) in the first data row.
    sheet.write_datetime(3, 7, datetime(2023, 1, 5), book.add_format({"num_format": "yyyy-mm-dd"}))
    book.close()
    problems = problems_of(load_entities, path)
    assert [(p.code, p.row, p.column) for p in problems] == [("D209", 6, "信用风险等级")]


def test_xlsx_numeric_code_hint(tmp_path):
    path = tmp_path / "e.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, HEADER_ZH)
    sheet.write_number(1, 0, 911100001000061630)  # 18 digits: Excel keeps only 15-17 significant
    sheet.write_row(1, 1, GOOD_ROWS[0][1:])
    book.close()
    problems = problems_of(load_entities, path)
    assert [p.code for p in problems] == ["D207"]
    assert "文本" in problems[0].hint


# ---------------------------------------------------------------------------------------------
# Cells


def test_every_cell_problem_located(tmp_path):
    rows = [
        HEADER_ZH,
        [A, "", "企业", "存续", "鼓楼区", "A", "", "2023-01-05"],
        [B, "乙", "合伙", "营业", "鼓楼区", "E", "", "2023-02-30"],
        [],
        ["9135010OM000100Y43", "丙", "企业", "存续", "", "A", "", "5/1/2023"],
        ["9135", "丁", "企业", "存续", "鼓楼区", "A", "", ""],
    ]
    problems = problems_of(load_entities, write_table(tmp_path / "e.csv", rows))
    got = [(p.code, p.row, p.column) for p in problems]
    assert got == [
        ("D205", 2, "企业名称"),
        ("D209", 3, "主体类型"),
        ("D209", 3, "登记状态"),
        ("D209", 3, "信用风险等级"),
        ("D210", 3, "成立日期"),
        ("D206", 5, "统一社会信用代码"),
        ("D205", 5, "所属辖区"),
        ("D210", 5, "成立日期"),
        ("D206", 6, "统一社会信用代码"),
    ]
    assert "'O'" in problems[5].message
    assert "4 位" in problems[8].message
    assert all(p.message and p.hint for p in problems)


def test_many_bad_rows_are_listed_up_to_the_cap_and_counted(tmp_path):
    bad = ROW_PROBLEM_CAP + 30
    rows = [HEADER_ZH] + [
        [uscc.make(f"x{i}"), f"主体{i}", "企业", "存续", "鼓楼区", "A", "", "2023-13-01"] for i in range(bad)
    ]
    problems = problems_of(load_entities, write_table(tmp_path / "e.csv", rows))
    assert len(problems) == ROW_PROBLEM_CAP + 1
    assert "另有 30 行" in problems[-1].message


def test_empty_directory(tmp_path):
    problems = problems_of(load_entities, write_table(tmp_path / "e.csv", [HEADER_ZH]))
    assert [p.code for p in problems] == ["D212"]


def test_unreadable_files(tmp_path):
    assert [p.code for p in problems_of(load_entities, tmp_path / "nope.csv")] == ["D201"]
    other = tmp_path / "e.json"
    other.write_text("{}")
    assert [p.code for p in problems_of(load_entities, other)] == ["D201"]
    ragged = tmp_path / "r.csv"
    ragged.write_text("uscc,name\n" + A + ",甲,多余,更多\n", encoding="utf-8")
    assert [p.code for p in problems_of(load_entities, ragged)][-1:] == ["D221"]


def test_parquet(tmp_path):
    csv_path = write_table(tmp_path / "e.csv", [HEADER_ZH, *GOOD_ROWS])
    frame = load_entities(csv_path).frame
    pq = tmp_path / "e.parquet"
    frame.rename({"uscc": "统一社会信用代码"}).write_parquet(pq)
    loaded = load_entities(pq)
    assert loaded.frame.equals(frame)
    assert loaded.headers["uscc"] == "统一社会信用代码"


# ---------------------------------------------------------------------------------------------
# Inspectors and recusals

INSPECTOR_HEADER = ["执法人员编号", "姓名", "所属单位", "所属辖区", "在岗状态", "执法证有效期至", "专业领域", "人员类别"]
INSPECTORS = [
    ["ZF001", "王伟", "鼓楼区市场监督管理局", "鼓楼区", "在岗", "2026-12-31", "食品安全；特种设备", "执法人员"],
    ["ZF002", "李娜", "鼓楼区市场监督管理局", "鼓楼区", "在职", "2026/6/30", "", ""],
    ["ZF003", "华测检测", "福州市市场监督管理局", "福州市", "在岗", "", "计量", "第三方机构"],
]


def test_inspectors_load(tmp_path):
    d = load_inspectors(write_table(tmp_path / "i.csv", [INSPECTOR_HEADER, *INSPECTORS]))
    f = d.frame
    assert f["status"].to_list() == ["在岗", "在岗", "在岗"]
    assert f["specialties"].to_list() == [["食品安全", "特种设备"], [], ["计量"]]
    assert f["role"].to_list() == ["执法人员", None, "第三方机构"]
    assert f["certificate_expires"].to_list() == [date(2026, 12, 31), date(2026, 6, 30), None]


def test_inspector_problems(tmp_path):
    rows = [INSPECTOR_HEADER, *INSPECTORS, ["ZF001", "张三", "鼓楼区市场监督管理局", "鼓楼区", "休假", "2026-02-30", "", "协管员"]]
    problems = problems_of(load_inspectors, write_table(tmp_path / "i.csv", rows, "gbk"))
    got = [(p.code, p.row, p.column) for p in problems]
    assert got == [
        ("D211", 5, "执法人员编号"),
        ("D209", 5, "在岗状态"),
        ("D210", 5, "执法证有效期至"),
        ("D209", 5, "人员类别"),
    ]
    assert "第 2 行" in problems[0].message


def test_recusals_load_check_codes_and_references(tmp_path):
    entities = load_entities(write_table(tmp_path / "e.csv", [HEADER_ZH, *GOOD_ROWS]))
    inspectors = load_inspectors(write_table(tmp_path / "i.csv", [INSPECTOR_HEADER, *INSPECTORS]))
    header = ["执法人员编号", "统一社会信用代码", "回避事由"]
    ok = load_recusals(write_table(tmp_path / "r.csv", [header, ["ZF001", A, "近亲属"], ["ZF009", E, ""]]))
    assert ok.frame["reason"].to_list() == ["近亲属", None]
    refs = ok.unknown_references(entities, inspectors)
    assert [(p.code, p.row) for p in refs] == [("D213", 3), ("D214", 3)]

    empty = load_recusals(write_table(tmp_path / "r0.csv", [header]))
    assert len(empty) == 0

    problems = problems_of(load_recusals, write_table(tmp_path / "r1.csv", [header, ["", A[:17] + "0", ""]]))
    assert [(p.code, p.row) for p in problems] == [("D205", 2), ("D207", 2)]


def test_a_corrupt_workbook_is_a_problem_not_a_crash(tmp_path):
    bad = tmp_path / "entities.xlsx"
    bad.write_bytes(b"not a zip archive")
    with pytest.raises(SpotcheckError) as err:
        load_entities(bad)
    assert [p.code for p in err.value.problems] == ["D201"]
    assert err.value.problems[0].file == str(bad)


# ---------------------------------------------------------------------------------------------
# A file checked clean before, read again for a few columns (load_known)

KNOWN_FIELDS = ("uscc", "type", "status", "district", "tier")


@pytest.mark.parametrize("name, encoding", [("e.csv", "utf-8"), ("e.csv", "gbk"), ("e.csv", "utf-8-sig"), ("e.xlsx", None)])
def test_a_known_file_gives_the_columns_a_full_reading_gives(tmp_path, name, encoding):
    # Export spellings to normalise, a title line above the header, a blank row, padded cells.
    rows = [["某某市场监管局名录导出"], HEADER_ZH, GOOD_ROWS[0], ["", " ", "", "\u3000", "", "", "", ""],
            [B, "鼓楼区乙便利店", " 个体户 ", "吊销，已注销", " 台江区", "b级", "", ""], *GOOD_ROWS[2:]]
    path = write_table(tmp_path / name, rows, encoding or "utf-8")
    whole = load_entities(path)
    known = directory.load_known(path, directory.ENTITY_SHEET, KNOWN_FIELDS, {whole.sha256})
    assert known is not None and known.sha256 == whole.sha256
    assert known.frame.columns == list(KNOWN_FIELDS)
    assert known.frame.equals(whole.frame.select(KNOWN_FIELDS))
    assert known.source_rows.to_list() == whole.source_rows.to_list() == [3, 5, 6, 7]
    assert known.headers == whole.headers


def test_a_file_whose_bytes_are_not_known_is_not_read_so(tmp_path):
    path = write_table(tmp_path / "e.csv", [HEADER_ZH, *GOOD_ROWS])
    other = hashlib.sha256(path.read_bytes() + b"\n").hexdigest()
    assert directory.load_known(path, directory.ENTITY_SHEET, KNOWN_FIELDS, {other}) is None
    assert directory.load_known(tmp_path / "missing.csv", directory.ENTITY_SHEET, KNOWN_FIELDS, {other}) is None
    # Nor one that cannot be read for its columns (here: a header missing), whatever its digest.
    broken = write_table(tmp_path / "b.csv", [HEADER_ZH[:2], *[r[:2] for r in GOOD_ROWS]])
    digest = hashlib.sha256(broken.read_bytes()).hexdigest()
    assert directory.load_known(broken, directory.ENTITY_SHEET, KNOWN_FIELDS, {digest}) is None
