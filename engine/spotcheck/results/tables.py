"""Tables in and out of the spreadsheets officers use: CSV in UTF-8, UTF-8 with BOM or GBK/GB18030,
and XLSX. Cells are read as text, keeping empty rows, so row numbers match what the officer sees.
What is read here are results files, so a file that cannot be read is their problem S801.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

import fastexcel
import polars as pl
from spotcheck.directory.csvfile import fault_reason
from spotcheck.errors import Problem, SpotcheckError, reason

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


def table_bytes(suffix: str, headers: Iterable[str], rows: Iterable[Iterable[str]]) -> bytes:
    """A table as XLSX (for .xlsx) or CSV in UTF-8 with BOM, so Excel opens it without mojibake."""
    if suffix == ".xlsx":
        return _xlsx([str(h) for h in headers], [[str(v) for v in r] for r in rows])
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(list(headers))
    writer.writerows([[spreadsheet_safe(str(v)) for v in r] for r in rows])
    return b"\xef\xbb\xbf" + text.getvalue().encode("utf-8")


# ---------------------------------------------------------------- XLSX, written directly
# A public list is hundreds of thousands of rows; a general workbook writer spends microseconds on
# every cell. This one writes the few parts a sheet of text needs: every cell an inline string (never
# a formula), the header bold and frozen, columns as wide as their text (up to 60).

_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_STATIC = {
    "[Content_Types].xml": _XML + (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '</Types>'),
    "_rels/.rels": _XML + (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        '</Relationships>'),
    "xl/workbook.xml": _XML + (
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": _XML + (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
        '</Relationships>'),
    "xl/styles.xml": _XML + (
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'),
}
_SHEET = "xl/worksheets/sheet1.xml"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the same table, the same bytes
# XML cannot hold most control characters: Excel writes them as _xHHHH_, and a literal _xHHHH_ as _x005F_xHHHH_.
_CONTROL_OR_CODE = r"[\x00-\x08\x0b\x0c\x0e-\x1f]|_x[0-9A-Fa-f]{4}_"
_CONTROL_RE = re.compile(_CONTROL_OR_CODE)


def _control_text(value: str) -> str:
    return _CONTROL_RE.sub(lambda m: "_x005F" + m.group() if len(m.group()) > 1 else f"_x{ord(m.group()):04X}_", value)


def _column_name(j: int) -> str:
    name = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        name = chr(65 + r) + name
    return name


def _cells_xml(frame: pl.DataFrame, names: list[str], first: int, style: str) -> pl.Series:
    """Each row of `frame` as its <row> element, numbered from `first`, built column by column."""
    number = pl.int_range(first, first + frame.height, eager=False).cast(pl.String)
    cells = []
    for j, name in enumerate(frame.columns):
        value = pl.col(name).fill_null("")
        text = value.str.replace_all("&", "&amp;", literal=True).str.replace_all("<", "&lt;", literal=True) \
            .str.replace_all(">", "&gt;", literal=True)
        opening = pl.when(value.str.contains(r"^\s|\s$")).then(pl.lit(' xml:space="preserve">')).otherwise(pl.lit(">"))
        cells.append(pl.when(value == "").then(pl.lit("")).otherwise(pl.concat_str(
            [pl.lit(f'<c r="{names[j]}'), number, pl.lit(f'"{style} t="inlineStr"><is><t'), opening, text,
             pl.lit("</t></is></c>")])))
    return frame.select(pl.concat_str([pl.lit('<row r="'), number, pl.lit('">'), *cells, pl.lit("</row>")])).to_series()


def _xlsx(headers: list[str], rows: list[list[str]]) -> bytes:
    width = max([len(headers), *map(len, rows)], default=0)
    names = [_column_name(j) for j in range(width)]
    schema = {f"c{j}": pl.String for j in range(width)}
    frame = pl.DataFrame([r + [""] * (width - len(r)) for r in rows], schema=schema, orient="row")
    if frame.height and frame.select(pl.any_horizontal(pl.all().str.contains(_CONTROL_OR_CODE)).any()).item():
        frame = frame.select(pl.all().map_elements(_control_text, return_dtype=pl.String))
    longest = frame.select(pl.all().str.len_chars().max()).row(0) if frame.height else [0] * width
    widths = [max(min((n or 0) * 2, 60), len(headers[j]) * 2 if j < len(headers) else 0) + 2 for j, n in enumerate(longest)]
    head = (_XML + '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<sheetViews><sheetView tabSelected="1" workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
            + ("<cols>" + "".join(f'<col min="{j + 1}" max="{j + 1}" width="{w}" customWidth="1"/>'
                                  for j, w in enumerate(widths)) + "</cols>" if widths else "")
            + "<sheetData>")
    header = pl.DataFrame([headers + [""] * (width - len(headers))], schema=schema, orient="row")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in _STATIC.items():
            z.writestr(zipfile.ZipInfo(name, _ZIP_DATE), text, zipfile.ZIP_DEFLATED)
        info = zipfile.ZipInfo(_SHEET, _ZIP_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        # Level 1: a sheet of repeated markup compresses nearly as small, several times faster. (ZipFile.open
        # takes the level only from the entry; Python 3.11 and 3.12 name it _compresslevel.)
        info._compresslevel = 1
        with z.open(info, "w", force_zip64=True) as sheet:
            sheet.write(head.encode("utf-8"))
            sheet.write("".join(_cells_xml(header, names, 1, ' s="1"')).encode("utf-8"))
            for start in range(0, frame.height, 65536):
                sheet.write("".join(_cells_xml(frame.slice(start, 65536), names, start + 2, "")).encode("utf-8"))
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()
