import dataclasses
import datetime as dt
import io
import struct
import time
import zipfile
import zlib

import polars as pl
import pytest
from docx import Document
from conftest import announced_rows as rows
from spotcheck import deflate
from spotcheck.notices import api as notice
from spotcheck.notices.announcements import results_notice
from spotcheck.results import notice_docx, substitution

ON = dt.date(2023, 12, 20)


def parts(docx: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(docx)) as z:
        return {n: z.read(n) for n in z.namelist()}


def cells(full):
    return substitution.cell_frame(full.results.rows, len(full.results.columns))


def fast_path(loaded, full):
    table = cells(full)
    return notice_docx._fast(loaded, full, table, substitution.survey(table, notice_docx.WORD_SPECIAL, notice_docx.WORD_ESCAPED), notice.TEMPLATES)


# The template's two tables: 检查机关 as a column (row 11's body is the task's own, the others a district's),
# and stated above the table (every row's body the same).
@pytest.mark.parametrize("body, columns", [("", 7), ("示范市东区市场监督管理局", 6)])
def test_rows_by_substitution_equal_docxtpl_part_by_part(demo_policy, body, columns):
    given = rows(substitution.FAST_ROWS + 5, r7={"name": "示范<丁>A&B \"工作室\" '甲'", "remarks": "<备注>&"},
                 r11={"inspecting_body": body})
    full = results_notice(demo_policy, given, ON)
    assert len(full.results.columns) == columns
    fast = fast_path(demo_policy, full)
    assert fast is not None  # the fast path was taken, not the fallback
    assert parts(fast) == parts(notice.render_results_notice(demo_policy, given, "docx", published_on=ON))
    assert parts(notice_docx.results_notice_docx(demo_policy, given, published_on=ON)) == parts(fast)


def test_a_pattern_that_does_not_reproduce_the_guard_rows_falls_back(demo_policy, monkeypatch):
    given = rows(substitution.FAST_ROWS)
    monkeypatch.setattr(notice_docx, "_escape", lambda text: text + " ")
    full = results_notice(demo_policy, given, ON)
    assert fast_path(demo_policy, full) is None
    assert parts(notice_docx.results_notice_docx(demo_policy, given, published_on=ON)) == parts(
        notice.render_results_notice(demo_policy, given, "docx", published_on=ON))


@pytest.mark.parametrize("text", ["第一行\n第二行", "甲\t乙"])
def test_cells_docxtpl_lays_out_are_rendered_by_docxtpl(demo_policy, monkeypatch, text):
    given = rows(substitution.FAST_ROWS, r3={"remarks": text})
    monkeypatch.setattr(notice_docx, "_fast", lambda *a: pytest.fail("a line break or tab went through the fast path"))
    assert parts(notice_docx.results_notice_docx(demo_policy, given, published_on=ON)) == parts(
        notice.render_results_notice(demo_policy, given, "docx", published_on=ON))


@pytest.mark.parametrize("count", [3, substitution.FAST_ROWS + 2])
def test_the_same_results_give_the_same_file_whenever_they_are_written(demo_policy, monkeypatch, count):
    # Both paths (docxtpl below FAST_ROWS rows, substitution above): python-docx dates its entries the time
    # of saving, which would make each publication's file differ from the last.
    given = rows(count)
    written = []
    for now in (1_700_000_000, 1_800_000_000):
        monkeypatch.setattr(time, "time", lambda now=now: now)
        written.append(notice_docx.results_notice_docx(demo_policy, given, published_on=ON))
    assert written[0] == written[1]
    with zipfile.ZipFile(io.BytesIO(written[0])) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_rows_made_in_several_batches_equal_docxtpl(demo_policy, monkeypatch):
    # A city's table is made a batch at a time, the next batch on a thread while one is written: small batches
    # here, so the rows of every batch, in order, and each batch's end are checked.
    monkeypatch.setattr(substitution, "_BATCH", 7)
    given = rows(substitution.FAST_ROWS + 23, r9={"name": "甲&乙<丙>"}, r30={"remarks": ""}, r31={"remarks": "备注"})
    full = results_notice(demo_policy, given, ON)
    fast = fast_path(demo_policy, full)
    assert fast is not None
    assert parts(fast) == parts(notice.render_results_notice(demo_policy, given, "docx", published_on=ON))


def test_columns_without_empty_or_escaped_cells_are_filled_as_the_pattern_fills_them():
    # Only the columns holding them are escaped and tested for empty text; every column is filled as `fill` does.
    table = [("1", "A&B", ""), ("2", "<乙>", "x"), ("3", "丙", "")]
    frame = substitution.cell_frame(table, 3)
    pattern = notice_docx._Pattern("<w:tr>" + "".join(f"<w:tc><w:t>{substitution.marker(j)}</w:t></w:tc>" for j in range(3))
                                   + "</w:tr>", 3)
    survey = substitution.survey(frame, notice_docx.WORD_SPECIAL, notice_docx.WORD_ESCAPED)
    assert (survey.escapes, survey.empties) == ((False, True, False), (False, False, True))
    assert frame.select(pattern.expr(survey)).to_series().to_list() == [pattern.fill(r) for r in table]


def test_a_column_with_one_text_in_every_row_is_written_as_that_text():
    # The same rows however each column is written: as text, escaped, or tested for empty text.
    table = [("1", "A&B<丙>", "", "甲", "x"), ("2", "A&B<丙>", "", "甲", ""), ("3", "A&B<丙>", "", "甲", "y")]
    frame = substitution.cell_frame(table, 5)
    pattern = notice_docx._Pattern("<w:tr>" + "".join(f"<w:tc><w:t xml:space=\"preserve\">{substitution.marker(j)}</w:t></w:tc>"
                                                       for j in range(5)) + "</w:tr>", 5)
    survey = substitution.survey(frame, notice_docx.WORD_SPECIAL, notice_docx.WORD_ESCAPED)
    assert survey.same == (None, "A&B<丙>", "", "甲", None)
    assert frame.select(pattern.expr(survey)).to_series().to_list() == [pattern.fill(r) for r in table]
    assert substitution.survey(pl.DataFrame({"c0": [None, None], "c1": ["a", None]}, schema={"c0": pl.String, "c1": pl.String}), "&", "&").same == (None, None)


def test_the_table_is_deflated_by_spotchecks_deflater_in_a_zip64_entry(demo_policy):
    """One task's announcement of a province's year can pass 4 GiB of XML: its body is written with Zip64
    sizes (docx_package's plain zip would refuse it), deflated as every other Word file is."""
    given = rows(substitution.FAST_ROWS + 5)
    full = results_notice(demo_policy, given, ON)
    fast = fast_path(demo_policy, full)
    with zipfile.ZipFile(io.BytesIO(fast)) as z:
        info = z.getinfo(notice_docx.MAIN)
        body = z.read(info)
    name, extra = struct.unpack("<HH", fast[info.header_offset + 26: info.header_offset + 30])
    start = info.header_offset + 30 + name
    assert struct.unpack("<H", fast[start: start + 2])[0] == 0x0001  # the local header's Zip64 field
    assert fast[start + extra: start + extra + info.compress_size] == deflate.deflated(body)[1]


def test_zipfile_counts_the_crc_of_the_deflated_table_not_of_its_text(demo_policy, monkeypatch):
    """The Deflater counts the text's CRC: zipfile's own count (by zlib) goes over the deflated bytes only. The
    last row is no guard row: its text is only ever in the table written."""
    given = rows(substitution.FAST_ROWS + 400)
    last = given[-1]["name"].encode("utf-8")
    seen = []

    def crc32(data, value=0):
        seen.append(last in bytes(data))
        return zlib.crc32(data, value)

    monkeypatch.setattr(zipfile, "crc32", crc32)
    full = results_notice(demo_policy, given, ON)
    fast = fast_path(demo_policy, full)
    monkeypatch.undo()
    assert seen and not any(seen)
    with zipfile.ZipFile(io.BytesIO(fast)) as z:
        info = z.getinfo(notice_docx.MAIN)
        assert last in z.read(info)  # zipfile checks the CRC and size as it reads


def test_the_fast_writers_title_is_broken_into_the_computed_lines(demo_policy):
    issuer = "秦皇岛市市场监督管理局"
    full = dataclasses.replace(results_notice(demo_policy, rows(substitution.FAST_ROWS), ON), issuer=issuer,
                               title=f"{issuer}2023年度第001号抽查任务检查结果公告")
    fast = fast_path(demo_policy, full)
    assert fast is not None
    title = next(p for p in Document(io.BytesIO(fast)).paragraphs if p.style.name == "公文标题")
    # Landscape: the line holds 28 em; this title's 28.5 would leave "告" alone on a second line.
    assert title.text == f"{issuer}2023年度\n第001号抽查任务检查结果公告"
