"""Reading a CSV directory exactly: its first records, its width, and rows whose cells do not match the header.

polars takes a file's width from its first line, pads a shorter row with empty cells without a word
and refuses a longer one with an English message. A truncated export would so silently change who is
in scope, and a title line above the header would refuse the whole file. So the first records are read
here with Python's csv module (title lines may be narrower than the header), polars scans the file at
the widest of them, and one more pass counts each line's cells against the header, beside the main
pass. Lines are records unless a quoted cell holds a line break; only then are the cells counted
record by record in Python, the slow but exact way.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from pathlib import Path

import polars as pl

HEAD_BYTES = 1 << 20
# A quoted cell at the start of the line or after a comma, with "" for a quote inside it.
_QUOTED = r'(^|,)"(?:[^"]|"")*"'


class NotUtf8(ValueError):
    """The first bytes are not UTF-8: the file is tried again as GB18030."""


@dataclass(frozen=True)
class Fault(Exception):
    """A record polars and the csv module cannot split into cells; `row` is where it starts."""

    row: int | None
    reason: str


def column(i: int) -> str:
    return f"column_{i + 1}"


def read_head(source: Path, rows: int) -> list[list[str]]:
    """The first `rows` records (a BOM dropped), read from the first megabyte at most."""
    with source.open("rb") as f:
        data = f.read(HEAD_BYTES)
        whole = len(data) < HEAD_BYTES or not f.read(1)
    return head_records(data, whole, rows)


def head_records(data: bytes, whole: bool, rows: int) -> list[list[str]]:
    """The first `rows` records of a file's first bytes (`whole` when they are the whole file)."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        text = decoder.decode(data, final=whole)
    except UnicodeDecodeError as exc:
        raise NotUtf8(str(exc)) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[list[str]] = []
    start = 1
    try:
        for record in reader:
            records.append(record)
            if len(records) == rows:
                return records
            start = reader.line_num + 1
    except csv.Error as exc:
        if whole:
            raise Fault(start, fault_reason(exc)) from None
        # The first megabyte ended inside a record: the records before it are whole.
        return records
    return records if whole else records[:-1]


def scan(source: Path, width: int, dtypes: dict[str, pl.DataType] | None = None) -> pl.LazyFrame:
    """Every cell as text, `width` columns named as `column` names them; shorter rows padded, longer cut
    (`ragged_rows` reports both)."""
    schema = {column(i): pl.String for i in range(max(width, 1))} | (dtypes or {})
    # polars skips a UTF-8 BOM itself.
    return pl.scan_csv(
        source,
        has_header=False,
        schema=schema,
        truncate_ragged_lines=True,
        missing_columns="insert",
        raise_if_empty=False,
    )


def ragged_rows(source: Path, after: int, named: int, width: int) -> pl.LazyFrame:
    """Rows below row `after` (the header) with fewer cells than its `named` ones (the last non-empty
    header cell's position), or with filled cells beyond its `width`: `_row`, `_cells`, `_filled`.

    Empty cells at a row's end beyond the header are harmless (Excel pads every row to the widest);
    blank rows are left to the loader, which skips them.
    """
    lines = pl.scan_lines(source).select(pl.first().alias("line")).with_row_index("_row", offset=1)
    return ragged_lines(lines, after, named, width)


def ragged_lines(lines: pl.LazyFrame, after: int, named: int, width: int) -> pl.LazyFrame:
    """`ragged_rows` of lines (`_row`, `line`) however they were read."""
    line = pl.col("line")
    # Nearly every line has exactly the header's commas and no quote; only the others are looked at closely.
    plain = (line.str.count_matches(",", literal=True) == width - 1) & ~line.str.contains('"', literal=True)
    unquoted = line.str.replace_all(_QUOTED, "${1}")
    content = unquoted.str.strip_chars_end(", \t")
    return (
        lines.filter((pl.col("_row") > after) & ~plain)
        .select(
            "_row",
            (unquoted.str.count_matches(",", literal=True) + 1).alias("_cells"),
            pl.when(content == "").then(0).otherwise(content.str.count_matches(",", literal=True) + 1).alias("_filled"),
            (line.str.count_matches('"', literal=True) % 2 == 1).alias("_open"),
        )
        .filter(((pl.col("_cells") < named) | (pl.col("_filled") > width)) & (pl.col("_filled") > 0) | pl.col("_open"))
    )


def ragged_records(source: Path, after: int, named: int, width: int) -> pl.DataFrame:
    """`ragged_rows` counted record by record, for a file where a quoted cell holds a line break."""
    found: list[tuple[int, int, int]] = []
    with source.open("r", encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, strict=True)
        row = 0
        try:
            for row, record in enumerate(reader, start=1):
                filled = len(record)
                while filled and not record[filled - 1].strip():
                    filled -= 1
                if row > after and filled and (len(record) < named or filled > width):
                    found.append((row, len(record), filled))
        except csv.Error as exc:
            raise Fault(row + 1, fault_reason(exc)) from None
    return pl.DataFrame(found, schema={"_row": pl.UInt32, "_cells": pl.UInt32, "_filled": pl.UInt32}, orient="row")


def find_fault(source: Path) -> Fault:
    """Where a file polars could not parse goes wrong, as the csv module sees it (no row if it does not)."""
    try:
        with source.open("r", encoding="utf-8-sig", errors="replace", newline="") as f:
            reader = csv.reader(f, strict=True)
            start = 1
            for _ in reader:
                start = reader.line_num + 1
    except csv.Error as exc:
        return Fault(start, fault_reason(exc))
    return Fault(None, "单元格的引号或分隔符不符合 CSV 格式")


def fault_reason(exc: csv.Error) -> str:
    """What the csv module found wrong, in the officer's words."""
    text = str(exc)
    if "unexpected end of data" in text or "EOF" in text:
        return "引号没有配对：从这一行开始的带引号单元格一直到文件末尾都没有结束"
    if "expected after" in text:
        return "带引号的单元格在结束引号后还有其他字符（单元格内的引号应写成两个引号 \"\"）"
    if "field larger than field limit" in text:
        return "单元格过长（超过 131072 个字符），多半是引号没有配对"
    if "NUL" in text:
        return "含有空字符（NUL）"
    return "单元格的引号或分隔符不符合 CSV 格式"
