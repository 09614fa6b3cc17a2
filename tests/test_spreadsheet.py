"""Sheets written directly: a table longer than a sheet holds goes on in further sheets, each with the header."""

import io
import re
import zipfile

import polars as pl
import pytest

from spotcheck import spreadsheet
from spotcheck.spreadsheet import MAX_ROWS, Sheet, workbook


def _sheets(data: bytes) -> dict[str, list[list[str]]]:
    book = pl.read_excel(io.BytesIO(data), engine="calamine", sheet_id=0, has_header=False, infer_schema_length=0,
                         read_options={"header_row": None})
    return {name: [list(r) for r in frame.iter_rows()] for name, frame in book.items()}


def test_a_table_longer_than_a_sheet_goes_on_in_sheets_of_the_same_header(monkeypatch):
    monkeypatch.setattr(spreadsheet, "MAX_ROWS", 4)  # three rows and the header per sheet
    rows = pl.DataFrame({"a": [f"r{i}" for i in range(10)], "b": [str(i) for i in range(10)]})
    sheets = _sheets(workbook([Sheet("公示名单", ["名称", "序号"], rows), Sheet("说明", ["x"], pl.DataFrame({"x": ["1"]}))]))
    assert list(sheets) == ["公示名单", "公示名单 (2)", "公示名单 (3)", "公示名单 (4)", "说明"]
    pieces = [sheets[n] for n in list(sheets)[:4]]
    assert all(p[0] == ["名称", "序号"] and len(p) <= 4 for p in pieces)
    assert [r for p in pieces for r in p[1:]] == [[f"r{i}", str(i)] for i in range(10)]


def test_a_long_sheets_name_is_cut_to_fit_its_number(monkeypatch):
    monkeypatch.setattr(spreadsheet, "MAX_ROWS", 2)
    name = "某某省市场监督管理局2026年度双随机抽查结果公示名单"
    sheets = _sheets(workbook([Sheet(name, ["h"], pl.DataFrame({"h": ["1", "2", "3"]}))]))
    assert list(sheets)[1:] == [name[:27] + " (2)", name[:27] + " (3)"]


def test_a_sheet_of_exactly_the_rows_it_holds_stays_one_sheet(monkeypatch):
    monkeypatch.setattr(spreadsheet, "MAX_ROWS", 4)
    assert list(_sheets(workbook([Sheet("S", ["h"], pl.DataFrame({"h": ["1", "2", "3"]}))]))) == ["S"]


@pytest.mark.parametrize("extra", [0, 1])
def test_no_sheet_has_more_rows_than_excel_opens(extra):
    # At full size: the limit itself, not a stand-in, decides where the table is cut.
    rows = pl.DataFrame({"h": pl.repeat("x", MAX_ROWS - 1 + extra, eager=True)})
    with zipfile.ZipFile(io.BytesIO(workbook([Sheet("S", ["h"], rows)]))) as z:
        names = sorted(n for n in z.namelist() if n.startswith("xl/worksheets/"))
        last = [int(re.findall(rb'<row r="(\d+)"', z.read(n)[-200:])[-1]) for n in names]
    assert last == ([MAX_ROWS] if not extra else [MAX_ROWS, 2])
