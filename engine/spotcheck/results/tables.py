"""Tables in and out of the spreadsheets officers use: CSV in UTF-8, UTF-8 with BOM or GBK/GB18030,
and XLSX. Cells are read as text, keeping empty rows, so row numbers match what the officer sees.
What is read here are results files, so a file that cannot be read is their problem S801.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import fastexcel
import polars as pl
from spotcheck.directory.csvfile import fault_reason
from spotcheck.errors import Problem, SpotcheckError, reason
from spotcheck.spreadsheet import Sheet, workbook

_CSV_SUFFIXES = {".csv", ".txt"}
_EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Platform exports are often GBK; GB18030 is its superset.
        return data.decode("gb18030")


def read_cells(path: Path) -> list[list[str]]:
    """Every row of a CSV or Excel file as text cells ("" for an empty cell)."""
    suffix = path.suffix.lower()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SpotcheckError(Problem("S801", f"无法读取文件：{reason(exc)}", file=str(path))) from None
    try:
        if suffix in _CSV_SUFFIXES:
            return _csv_cells(path, _decode(data))
        if suffix in _EXCEL_SUFFIXES:
            frame = pl.read_excel(
                io.BytesIO(data), engine="calamine", has_header=False,
                # Keep leading empty rows so row numbers match what the officer sees in Excel.
                read_options={"header_row": None, "skip_rows": 0}, infer_schema_length=0,
                drop_empty_rows=False, drop_empty_cols=False, raise_if_empty=False,
            )
            return [[c or "" for c in row] for row in frame.select(pl.all().cast(pl.String)).iter_rows()]
    except UnicodeDecodeError:
        raise SpotcheckError(Problem("S801", "无法读取文件：文件编码无法识别，既不是 UTF-8 也不是 GBK/GB18030", file=str(path),
                                     hint="请在 Excel 或 WPS 中另存为“CSV UTF-8”后重试")) from None
    except (pl.exceptions.PolarsError, OSError, ValueError, fastexcel.FastExcelError):
        raise SpotcheckError(Problem("S801", "无法读取文件：Excel 文件已损坏、被截断或不是 Excel 格式", file=str(path),
                                     hint="请用 Excel 或 WPS 打开该文件确认无误后重新保存为 XLSX")) from None
    raise SpotcheckError(Problem("S801", f"不支持的文件类型 '{path.suffix or '（无扩展名）'}'", file=str(path),
                                 hint="请导出为 CSV（UTF-8 或 GBK）或 XLSX 文件"))


# Python's white space (str.strip, str.isspace), for polars' strip_chars.
WHITE_SPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009" \
    "\u200a\u2028\u2029\u202f\u205f\u3000"
# What the csv module reads differently from a plain split at line ends and commas: quotes, a line end on its
# own (csv ends a row at \r too), and characters below U+0020 but tab, which a results file refuses anyway (S861).
# Looked for in the file's bytes, which keep all but these: none of them is ever part of a character of several
# bytes in UTF-8 or in GB18030 (whose later bytes are 0x30 and above).
_PLAIN_BYTES = bytes(b for b in range(256) if b != ord('"') and (b >= 0x20 or b in b"\t\n\r"))


def plain_rows(path: Path) -> pl.Series | None:
    """A CSV file's rows as read_cells reads them, split into cells by polars (a list of texts per row), for a
    file with no quote, no control character and no lone carriage return, as nearly every exported results file
    is: a province's millions of rows are never Python lists. None for any other file, or one that cannot be
    read (read_cells reads it, or names its problem)."""
    if path.suffix.lower() not in _CSV_SUFFIXES:
        return None
    try:
        data = path.read_bytes()
        # A province's file is hundreds of megabytes: its bytes are scanned in C, not its text by a pattern.
        if data.translate(None, _PLAIN_BYTES) or data.count(b"\r") != data.count(b"\r\n"):
            return None
        text = _decode(data)
    except (OSError, UnicodeDecodeError):
        return None
    if not text:
        return None
    lines = pl.Series([text]).str.split("\n").explode()
    if text.endswith("\n"):
        lines = lines.head(-1)  # no row after the last line end
    lines = lines.str.strip_suffix("\r")
    if lines.str.len_chars().max() > csv.field_size_limit():
        return None  # a cell the csv module refuses
    # An empty line is a row of no cells, as the csv module reads it.
    return pl.select(pl.when(lines != "").then(lines.str.split(",")).otherwise(pl.lit([], dtype=pl.List(pl.String)))) \
        .to_series().alias("cells")


def _csv_cells(path: Path, text: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[list[str]] = []
    try:
        for row in reader:
            rows.append(row)
    except csv.Error as exc:
        # The record that failed starts on the row after the last one read.
        raise SpotcheckError(Problem("S801", f"CSV 格式有误：{fault_reason(exc)}", file=str(path), row=len(rows) + 1,
                                     hint="请在 Excel 或 WPS 中打开该文件核对这一行后另存为 CSV；单元格内的引号应写成两个引号")) from None
    return rows


# A cell a spreadsheet would read as a formula (OWASP, "CSV injection"): its first character, or the
# first after leading spaces or control characters, is one of these.
_FORMULA = re.compile(r"^[\s\x00-\x1f]*[=+\-@]")


def spreadsheet_safe(value: str) -> str:
    """A CSV cell that Excel and WPS show as the text it is: one that would start a formula gets a
    leading apostrophe, as OWASP advises (numbers such as -5 are left alone)."""
    # Nearly every cell starts with a letter, a digit or a Chinese character: only the others need the patterns.
    if not value or (value[0] not in "=+-@" and value[0] > " " and not value[0].isspace()):
        return value
    if _FORMULA.match(value) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


def _safe(column: pl.Expr) -> pl.Expr:
    """spreadsheet_safe as a column expression (Rust's \\s is the same set as Python's here: the control
    characters Python also counts as space are in the class anyway)."""
    formula = column.str.contains(r"^[\s\x00-\x1f]*[=+\-@]") & ~column.str.contains(r"^[+-]?[0-9]+(?:\.[0-9]+)?$")
    return pl.when(formula).then(pl.lit("'") + column).otherwise(column)


def table_bytes(suffix: str, headers: Iterable[str], rows: Iterable[Iterable[str]]) -> bytes:
    """A table as XLSX (for .xlsx) or CSV in UTF-8 with BOM, so Excel opens it without mojibake."""
    headers = [str(h) for h in headers]
    rows = [[str(v) for v in r] for r in rows]
    if suffix != ".xlsx" and (len(headers) < 2 or any(len(r) != len(headers) for r in rows)):
        # Rows of another width, or one column (where an empty row is written ""): as the csv module writes them.
        text = io.StringIO(newline="")
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(headers)
        writer.writerows([[spreadsheet_safe(v) for v in r] for r in rows])
        return b"\xef\xbb\xbf" + text.getvalue().encode("utf-8")
    width = max([len(headers), *map(len, rows)], default=0)
    frame = pl.DataFrame([r + [""] * (width - len(r)) for r in rows],
                         schema={f"c{j}": pl.String for j in range(width)}, orient="row")
    return frame_bytes(suffix, headers, frame)


def frame_bytes(suffix: str, headers: list[str], frame: pl.DataFrame) -> bytes:
    """A frame of text columns (in header order) as table_bytes writes its rows: the CSV byte for byte as
    the csv module writes it (minimal quoting, CRLF, formulas made text), column by column."""
    if suffix == ".xlsx":
        return workbook([Sheet("Sheet1", headers, frame)])
    return b"".join(csv_pieces(headers, frame))


CSV_ROWS = 1 << 16


def csv_pieces(headers: list[str], frame: pl.DataFrame, rows: int = CSV_ROWS) -> Iterator[bytes]:
    """frame_bytes(".csv", …) in pieces of `rows` rows: a province's public list is a gigabyte of text."""
    head = io.StringIO(newline="")
    csv.writer(head, lineterminator="\r\n").writerow(headers)
    yield b"\xef\xbb\xbf" + head.getvalue().encode("utf-8")
    for start in range(0, frame.height, rows):
        # An empty cell is written bare (polars would quote an empty string, not a missing value).
        body = frame.slice(start, rows).select(_safe(pl.col(c)).replace("", None).alias(f"c{j}")
                                                   for j, c in enumerate(frame.columns))
        # Into bytes: as text, polars' UTF-8 was decoded to a str and encoded again (a province's list is a gigabyte).
        out = io.BytesIO()
        body.write_csv(out, include_header=False, line_terminator="\r\n", quote_style="necessary")
        yield out.getvalue()
