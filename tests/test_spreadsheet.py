"""Sheets written directly: the bytes of writing each cell by hand; a table longer than a sheet holds goes on in
further sheets, each with the header."""

import datetime as dt
import io
import random
import re
import zipfile

import polars as pl
import pytest

from spotcheck.deflate import Deflater
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


def _white_space() -> list[str]:
    """Every character polars' `\\s` matches (the rule for xml:space), found by asking it, not listed."""
    chars = pl.Series([chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF])
    return chars.filter(chars.str.contains(r"^\s$")).to_list()


def _by_hand(sheet: Sheet) -> str:
    """A sheet's <sheetData>, cell by cell in Python: escaped, xml:space where a cell starts or ends with white
    space, control characters as _xHHHH_ (a literal _xHHHH_ as _x005F_xHHHH_), no element for an empty cell."""
    def code(m: re.Match) -> str:
        return "_x005F" + m.group() if len(m.group()) > 1 else f"_x{ord(m.group()):04X}_"

    def cell(ref: str, value: str, style: str) -> str:
        space = ' xml:space="preserve"' if re.search(r"^\s|\s$", value) else ""
        escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{escaped}</t></is></c>'

    def row(r: int, values: list[str], style: str) -> str:
        return f'<row r="{r}">' + "".join(cell(f"{column(j)}{r}", v, style) for j, v in enumerate(values) if v) + "</row>"

    def column(j: int) -> str:
        return chr(65 + j) if j < 26 else column(j // 26 - 1) + chr(65 + j % 26)

    width = max(len(sheet.headers), sheet.rows.width)
    lines = [row(1, list(sheet.headers) + [""] * (width - len(sheet.headers)), ' s="1"')]
    for r, values in enumerate(sheet.rows.iter_rows(), 2):
        text = ["" if v is None else re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]|_x[0-9A-Fa-f]{4}_", code, str(v)) for v in values]
        lines.append(row(r, text + [""] * (width - len(text)), ""))
    return "<sheetData>" + "".join(lines) + "</sheetData>"


def test_sheets_made_from_columns_are_the_bytes_written_cell_by_cell(monkeypatch):
    # Rows go out a few at a time, so cells needing care fall in some batches and not others.
    monkeypatch.setattr(spreadsheet, "_ROWS_PER_WRITE", 3)
    rng = random.Random(15)
    pool = ["甲", "市场", "a", "9", "&", "<", ">", "|", "_", "_x0041_", "_X00a1_", "\x01", "\x0b", "\x1f", "\t", "\n",
            "=1+1", "😀", "、", "·", "’", *_white_space()]

    def text() -> str | None:
        return rng.choice([None, "", "".join(rng.choice(pool) for _ in range(rng.randint(1, 4)))])

    sheets = [Sheet(name, headers, pl.DataFrame({
        "plain": [f"甲{i}" for i in range(rows)],
        "mixed": pl.Series([text() for _ in range(rows)], dtype=pl.String),
        "number": pl.Series([rng.choice([None, rng.randint(-9, 10**6)]) for _ in range(rows)], dtype=pl.Int64),
        "spaced": pl.Series([rng.choice(pool) + "x" + rng.choice(pool) for _ in range(rows)], dtype=pl.String),
    })) for name, headers, rows in (("公示名单", ["名称", "a&b", " 空格"], 40), ("检查组", ["一", "二", "三", "四", "五"], 7),
                                    ("空", ["h"], 0))]
    # Each character needing care alone in a column of plain text, in one row of it: no other cell gives it away.
    # (A control character or a literal _xHHHH_ is written as code in every cell of its sheet: each has one of its own.)
    alone = [*(c + "甲" for c in _white_space()), *("甲" + c for c in _white_space()), "&", "<", ">"]
    controls = [[chr(c)] for c in range(0x20) if chr(c) not in "\t\n\r"]
    for k, care in enumerate([alone, *controls, ["_x0041_"]]):
        sheets.append(Sheet(f"各一{k}", [], pl.DataFrame({f"c{j}": [c if i == j % 9 else f"甲{i}" for i in range(9)]
                                                         for j, c in enumerate(care)})))
    data = workbook(sheets, title="标题", created=dt.date(2021, 4, 1))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        members = {info.filename: z.read(info) for info in z.infolist()}
    for k, sheet in enumerate(sheets, 1):
        xml = members[f"xl/worksheets/sheet{k}.xml"].decode("utf-8")
        assert xml[xml.index("<sheetData>"):xml.index("</sheetData>") + 12] == _by_hand(sheet)
    # The sheets deflated beforehand, side by side, make the zip that writing each member through zipfile
    # with the same deflater makes.
    again = io.BytesIO()
    with zipfile.ZipFile(again, "w", zipfile.ZIP_DEFLATED) as z:
        for name, member in members.items():
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            if not name.startswith("xl/worksheets/"):
                z.writestr(info, member, zipfile.ZIP_DEFLATED)
                continue
            info.compress_type = zipfile.ZIP_DEFLATED
            with z.open(info, "w", force_zip64=True) as out:
                out._compressor = Deflater()
                out.write(member)
    assert data == again.getvalue()


def test_rows_handed_on_from_polars_buffers_are_the_rows_in_order():
    """Rows made by concat_str go on as the buffers polars made them in (no copy) only when those buffers hold
    exactly the rows, one after the other; any other column is copied whole, as `joined` does."""
    made = pl.select(pl.concat_str([pl.lit('<row r="'), pl.int_range(0, 40_000).cast(pl.String), pl.lit('">文字</row>')])).to_series()
    expected = "".join(made.to_list()).encode("utf-8")
    pieces = spreadsheet._in_order(made)
    assert len(pieces) > 1 and b"".join(bytes(p) for p in pieces) == expected
    # Rows picked or reordered point into the same buffers, out of order or leaving text out; short texts live in
    # their views.
    swapped, dropped = [0, 2, 1, *range(3, 40_000)], [*range(0, 20_000), *range(20_001, 40_000)]
    for column in (made.gather(swapped), made.gather(dropped), made.slice(5, 100), pl.Series(["<a/>", "<b/>"] * 99)):
        pieces = spreadsheet._in_order(column)
        assert len(pieces) == 1 and bytes(pieces[0]) == "".join(column.to_list()).encode("utf-8")
