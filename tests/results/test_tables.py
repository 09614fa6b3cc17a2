import csv
import io
import sys
import zipfile

import polars as pl
import pytest
from conftest import RESULTS
from hypothesis import given, settings
from hypothesis import strategies as st
from spotcheck.errors import SpotcheckError
from spotcheck.results import tables


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig"])
def test_csv_encodings_read_the_same(tmp_path, encoding):
    good = RESULTS / "results-good.csv"
    path = tmp_path / "r.csv"
    path.write_bytes(good.read_text("utf-8").encode(encoding))
    cells = tables.read_cells(path)
    assert cells == tables.read_cells(good)
    assert cells[0][:2] == ["检查编号", "市场主体名称"]


def test_table_bytes_csv_has_bom_and_crlf():
    data = tables.table_bytes(".csv", ["甲", "乙"], [["1", "a,b"]])
    assert data == "\ufeff甲,乙\r\n1,\"a,b\"\r\n".encode("utf-8")
    assert list(csv.reader(io.StringIO(data.decode("utf-8-sig")))) == [["甲", "乙"], ["1", "a,b"]]


@pytest.mark.parametrize("value, shown", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1+2", "'+1+2"), ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"), (" =1+1", "' =1+1"), ("\t=1", "'\t=1"),
    ("-5", "-5"), ("+3.5", "+3.5"), ("某某公司", "某某公司"), ("A=B", "A=B"),
])
def test_csv_cells_that_would_be_formulas_are_neutralised(value, shown):
    data = tables.table_bytes(".csv", ["名称"], [[value]])
    assert list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[1] == [shown]


def test_xlsx_cells_are_text_never_formulas():
    data = tables.table_bytes(".xlsx", ["名称"], [["=1+1"]])
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode("utf-8")


def test_a_truncated_xlsx_is_s801_not_a_crash(tmp_path):
    whole = tables.table_bytes(".xlsx", ["名称"], [["甲"]])
    path = tmp_path / "r.xlsx"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(SpotcheckError) as exc:
        tables.read_cells(path)
    assert [p.code for p in exc.value.problems] == ["S801"]


def test_xlsx_round_trips_every_cell_as_written(tmp_path):
    rows = [["1", "A&B <公司>", " 前后空格 ", ""], ["2", "控制\x01字符", "_x0041_", "=SUM(A1)"], ["3"]]
    path = tmp_path / "t.xlsx"
    path.write_bytes(tables.table_bytes(".xlsx", ["序号", "名称", "备注", "公式"], rows))
    assert tables.read_cells(path) == [["序号", "名称", "备注", "公式"], *[r + [""] * (4 - len(r)) for r in rows]]
    with zipfile.ZipFile(path) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert 'state="frozen"' in sheet and '<c r="A1" s="1"' in sheet  # the header bold and frozen


def test_xlsx_is_the_same_bytes_for_the_same_table():
    one = tables.table_bytes(".xlsx", ["名称"], [["甲"], ["乙"]])
    assert one == tables.table_bytes(".xlsx", ["名称"], [["甲"], ["乙"]])


awkward = st.text(st.sampled_from(['a', '中', ',', '"', "'", '\r', '\n', ' ', '=', '-', '+', '@', '1', '\t', '\x01']), max_size=6)


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 4).flatmap(lambda width: st.lists(st.lists(awkward, min_size=width, max_size=width), max_size=7)))
def test_the_csv_in_pieces_is_what_the_csv_module_writes(rows):
    width = len(rows[0]) if rows else 3
    headers = [f"列{j}" for j in range(width)]
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows([[tables.spreadsheet_safe(v) for v in r] for r in rows])
    frame = pl.DataFrame(rows, schema={f"c{j}": pl.String for j in range(width)}, orient="row")
    assert b"".join(tables.csv_pieces(headers, frame, rows=2)) == b"\xef\xbb\xbf" + text.getvalue().encode("utf-8")


def test_white_space_is_pythons():
    assert set(tables.WHITE_SPACE) == {c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.text(st.sampled_from(' ,a中\t"\r\n\x0b\x1c\u3000\u2028'), max_size=4), max_size=4), max_size=6),
       st.sampled_from(["\n", "\r\n"]), st.booleans(), st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_a_plain_csv_is_split_as_the_csv_module_reads_it(tmp_path_factory, rows, end, last, encoding):
    """Lines of cells joined by commas (not quoted, so a cell's comma or line end makes more cells and rows):
    plain_rows reads them as read_cells does, or leaves the file to it (a quote, a lone carriage return, a
    control character)."""
    text = end.join(",".join(cells) for cells in rows) + (end if last else "")
    path = tmp_path_factory.mktemp("plain") / "r.csv"
    path.write_bytes(text.encode(encoding))
    plain = tables.plain_rows(path)
    # Exactly these are left to read_cells: a control character must reach its row-by-row check (S861).
    assert (plain is None) == (not text or any(c in text for c in '"\x0b\x1c') or "\r" in text.replace("\r\n", ""))
    if plain is not None:
        assert plain.to_list() == tables.read_cells(path)
