"""XLSX written directly: sheets of text for officers (a results public list, a unit's visits and teams).

A public list or a city's unit workbook is hundreds of thousands of rows; a general workbook writer
spends microseconds on every cell (xlsxwriter took about 50 of the 70 seconds of a 1M plan). This one
writes the few parts a sheet of text needs, column by column in polars: every cell an inline string
(never a formula or a link), the header bold and frozen, columns as wide as their text (up to 60), and
a fixed zip date, so the same tables are the same bytes. A sheet holds at most 1,048,576 rows: a table
longer than that (a province's public list) goes on as "名称 (2)", "名称 (3)"…, each with the header.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import polars as pl
import pyarrow as pa
from spotcheck.deflate import ZIP_DATE, Deflater, into_entry
from spotcheck.pieces import ahead, joined

_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_STYLES = _XML + (
    f'<styleSheet xmlns="{_MAIN}">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')
_ROWS_PER_WRITE = 8192  # rows made at once: a few MB of XML, not a sheet's worth, in memory per sheet
_SHEETS_AT_ONCE = 2  # each also makes its next rows while deflating the last
MAX_ROWS = 1_048_576  # Excel's and WPS's limit per sheet, the header row included
_NAME_LENGTH = 31  # Excel refuses a longer tab name
_SELECTED = ' tabSelected="1"'
# XML cannot hold most control characters: Excel writes them as _xHHHH_, and a literal _xHHHH_ as _x005F_xHHHH_.
_CONTROL_OR_CODE = r"[\x00-\x08\x0b\x0c\x0e-\x1f]|_x[0-9A-Fa-f]{4}_"
_CONTROL_RE = re.compile(_CONTROL_OR_CODE)
# Bytes a cell's text may hold that change how it is written: markup to escape; a control character or the _ of a
# literal _xHHHH_; white space, ASCII or the first byte of U+0085, U+00A0 (C2), U+1680 (E1), U+2000–U+205F (E2) and
# U+3000 (E3), the rest of Unicode's White_Space, which `\s` matches. A column without them is written as it is.
_MARKUP, _MAYBE_CODE, _MAYBE_SPACE = 1, 2, 4
_CARE = np.zeros(256, dtype=np.uint8)
_CARE[[ord("&"), ord("<"), ord(">")]] |= _MARKUP
_CARE[[*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), ord("_")]] |= _MAYBE_CODE
_CARE[[*range(0x09, 0x0E), 0x20, 0xC2, 0xE1, 0xE2, 0xE3]] |= _MAYBE_SPACE
_CARE_TABLE = _CARE.tobytes()
# A row's XML is always longer than the 12 bytes Arrow keeps inside a string view (`<row r="1"></row>` alone is 17).
_INLINE = 12


@dataclass(frozen=True)
class Sheet:
    """One sheet: its tab name, its header and its rows (a frame of text columns, in header order)."""

    name: str
    headers: Sequence[str]
    rows: pl.DataFrame


def _pieces(sheets: Sequence[Sheet]) -> list[Sheet]:
    """Each sheet as it fits: a table of more rows than a sheet holds, cut into sheets of the same header."""
    room = MAX_ROWS - 1
    pieces = []
    for sheet in sheets:
        pieces.append(Sheet(sheet.name, sheet.headers, sheet.rows.slice(0, room)))
        for k, start in enumerate(range(room, sheet.rows.height, room), 2):
            suffix = f" ({k})"
            pieces.append(Sheet(sheet.name[:_NAME_LENGTH - len(suffix)] + suffix, sheet.headers,
                                sheet.rows.slice(start, room)))
    return pieces


def _control_text(value: str) -> str:
    return _CONTROL_RE.sub(lambda m: "_x005F" + m.group() if len(m.group()) > 1 else f"_x{ord(m.group()):04X}_", value)


def _column_name(j: int) -> str:
    name = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        name = chr(65 + r) + name
    return name


def _bytes_seen(frame: pl.DataFrame) -> list[int]:
    """For each column, which of the bytes that need care its cells hold (_MARKUP, _MAYBE_CODE, _MAYBE_SPACE):
    one look-up per byte of the column's text end to end (bytes.translate, several times cheaper than indexing
    the table with a NumPy array of bytes), instead of a pattern per cell."""
    seen = []
    for name in frame.columns:
        bits = np.frombuffer(bytes(joined(frame[name])).translate(_CARE_TABLE), dtype=np.uint8)
        seen.append(int(np.bitwise_or.reduce(bits)) if bits.size else 0)
    return seen


def _controls(frame: pl.DataFrame, seen: Sequence[int]) -> bool:
    """Whether a cell holds a control character or a literal _xHHHH_ (only columns holding such bytes are searched)."""
    maybe = [name for name, bits in zip(frame.columns, seen) if bits & _MAYBE_CODE]
    return bool(maybe) and frame.select(pl.any_horizontal(pl.col(maybe).str.contains(_CONTROL_OR_CODE)).any()).item()


def _flags(frame: pl.DataFrame, seen: Sequence[int]) -> list[tuple[bool, bool, bool]]:
    """For each column: whether a cell holds markup to escape, white space at an end, or nothing."""
    if not frame.height:
        return [(False, False, False)] * frame.width
    spaced = [name for name, bits in zip(frame.columns, seen) if bits & _MAYBE_SPACE]
    got = frame.select(
        *[pl.col(n).str.contains(r"^\s|\s$").any().alias(f"s{n}") for n in spaced],
        *[(pl.col(n).is_null() | (pl.col(n) == "")).any().alias(f"e{n}") for n in frame.columns],
    ).row(0, named=True)
    return [(bool(bits & _MARKUP), bool(got.get(f"s{n}")), bool(got[f"e{n}"])) for n, bits in zip(frame.columns, seen)]


def _concat(parts: Sequence[str | pl.Expr]) -> pl.Expr:
    """concat_str with each run of literal markup as one literal: a row copies a few long pieces, not many short."""
    merged: list[str | pl.Expr] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    return pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in merged])


def _row_xml(columns: Sequence[str], names: list[str], style: str, flags: Sequence[tuple[bool, bool, bool]]) -> pl.Expr:
    """Each row as its <row> element (numbered by a column `_number`), built column by column.

    Escaping, xml:space and the test for empty cells are paid only by columns holding such a cell
    (`flags`, found once for the sheet): the same bytes, with most columns a plain concatenation."""
    number = pl.col("_number")
    parts: list[str | pl.Expr] = ['<row r="', number, '">']
    for j, name in enumerate(columns):
        markup, space, empty = flags[j]
        value = pl.col(name).fill_null("")
        text = value
        if markup:
            text = value.str.replace_all("&", "&amp;", literal=True).str.replace_all("<", "&lt;", literal=True) \
                .str.replace_all(">", "&gt;", literal=True)
        opening: str | pl.Expr = ">"
        if space:
            opening = pl.when(value.str.contains(r"^\s|\s$")).then(pl.lit(' xml:space="preserve">')).otherwise(pl.lit(">"))
        cell = [f'<c r="{names[j]}', number, f'"{style} t="inlineStr"><is><t', opening, text, "</t></is></c>"]
        parts.extend(cell if not empty else [pl.when(value == "").then(pl.lit("")).otherwise(_concat(cell))])
    return _concat([*parts, "</row>"])


def _rows(frame: pl.DataFrame, xml: pl.Expr, first: int) -> list[memoryview]:
    """The rows of `frame`, numbered from `first`, as `xml` makes them: UTF-8 pieces that, one after the other,
    are the rows' XML."""
    numbered = frame.with_columns(pl.int_range(first, first + frame.height).cast(pl.String).alias("_number"))
    return _in_order(numbered.select(xml).to_series())


def _in_order(texts: pl.Series) -> list[memoryview]:
    """The texts one after the other, as the buffers polars made them in when it can tell, without a copy.

    polars keeps strings as Arrow string views: a text longer than 12 bytes is appended to the end of the
    column's current buffer and its view says where. When every view starts where the one before ended (or at
    the start of the next buffer, the one before having filled its own), the buffers are the texts in order.
    Anything else (a short text, a reused buffer) is copied into one piece, as `joined` does."""
    array = texts.to_arrow(compat_level=pl.CompatLevel.newest())
    if array.type == pa.string_view() and len(array) and not array.offset and not array.null_count:
        views = np.frombuffer(array.buffers()[1], dtype=np.uint32, count=4 * len(array)).reshape(-1, 4)
        data = array.buffers()[2:]
        length, index, start = views[:, 0].astype(np.int64), views[:, 2].astype(np.int64), views[:, 3].astype(np.int64)
        end = start + length
        sizes = np.array([b.size for b in data], dtype=np.int64)
        if (length.min() > _INLINE and index[0] == 0 and start[0] == 0 and index[-1] == len(data) - 1
                and end[-1] == sizes[-1]):
            same = index[1:] == index[:-1]
            following = np.where(same, start[1:] == end[:-1],
                                 (index[1:] == index[:-1] + 1) & (start[1:] == 0) & (end[:-1] == sizes[index[:-1]]))
            if following.all():
                return [memoryview(b) for b in data]
    return [joined(texts)]


def _sheet_xml(sheet: Sheet, selected: bool) -> Iterator[list[bytes | memoryview]]:
    """The sheet's XML in batches of pieces: the rows a batch at a time, each straight from polars' buffers."""
    headers = [str(h) for h in sheet.headers]
    width = max(len(headers), sheet.rows.width)
    names = [_column_name(j) for j in range(width)]
    schema = {f"c{j}": pl.String for j in range(width)}
    frame = sheet.rows.select(pl.all().cast(pl.String))
    frame = frame.rename(dict(zip(frame.columns, schema))).with_columns(
        pl.lit("", dtype=pl.String).alias(c) for c in list(schema)[frame.width:])
    seen = _bytes_seen(frame)
    if frame.height and _controls(frame, seen):
        frame = frame.select(pl.all().map_elements(_control_text, return_dtype=pl.String))
        seen = _bytes_seen(frame)
    longest = frame.select(pl.all().str.len_chars().max()).row(0) if frame.height else [0] * width
    widths = [max(min((n or 0) * 2, 60), len(headers[j]) * 2 if j < len(headers) else 0) + 2 for j, n in enumerate(longest)]
    start = (_XML + f'<worksheet xmlns="{_MAIN}">'
             f'<sheetViews><sheetView{_SELECTED if selected else ""} workbookViewId="0">'
             '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
             '<selection pane="bottomLeft"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
             + ("<cols>" + "".join(f'<col min="{j + 1}" max="{j + 1}" width="{w}" customWidth="1"/>'
                                   for j, w in enumerate(widths)) + "</cols>" if widths else "")
             + "<sheetData>").encode("utf-8")
    header = pl.DataFrame([headers + [""] * (width - len(headers))], schema=schema, orient="row")
    yield [start, *_rows(header, _row_xml(header.columns, names, ' s="1"', _flags(header, _bytes_seen(header))), 1)]
    xml = _row_xml(frame.columns, names, "", _flags(frame, seen))
    for first in range(0, frame.height, _ROWS_PER_WRITE):
        yield _rows(frame.slice(first, _ROWS_PER_WRITE), xml, first + 2)
    yield [b"</sheetData></worksheet>"]


@dataclass(frozen=True)
class _Member:
    """A zip member deflated beforehand: its raw deflate stream, and the Deflater that made it (the text's CRC-32 and size)."""

    packer: Deflater
    data: list[bytes]


def _deflated(batches: Iterator[list[bytes | memoryview]]) -> _Member:
    """The batches deflated, the next batch made in another thread meanwhile: polars and the deflater both
    release the GIL."""
    packer = Deflater()
    return _Member(packer, list(packer.stream(piece for batch in ahead(batches) for piece in batch)))


def _parts(sheets: Sequence[Sheet], title: str | None, created: dt.date | None) -> dict[str, str]:
    props = title is not None or created is not None
    n = len(sheets)
    types = "".join(f'<Override PartName="/xl/worksheets/sheet{k}.xml" ContentType="{_TYPE}.worksheet+xml"/>'
                    for k in range(1, n + 1))
    parts = {
        "[Content_Types].xml": _XML + (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_TYPE}.sheet.main+xml"/>' + types
            + f'<Override PartName="/xl/styles.xml" ContentType="{_TYPE}.styles+xml"/>'
            + ('<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
               if props else "") + '</Types>'),
        "_rels/.rels": _XML + (
            f'<Relationships xmlns="{_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
            + (f'<Relationship Id="rId2" Type="{_PKG_REL}/metadata/core-properties" Target="docProps/core.xml"/>'
               if props else "") + '</Relationships>'),
        "xl/workbook.xml": _XML + (
            f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
            + "".join(f'<sheet name={quoteattr(s.name)} sheetId="{k}" r:id="rId{k}"/>' for k, s in enumerate(sheets, 1))
            + '</sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": _XML + (
            f'<Relationships xmlns="{_PKG_REL}">'
            + "".join(f'<Relationship Id="rId{k}" Type="{_REL}/worksheet" Target="worksheets/sheet{k}.xml"/>'
                      for k in range(1, n + 1))
            + f'<Relationship Id="rId{n + 1}" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'),
        "xl/styles.xml": _STYLES,
    }
    if props:
        parts["docProps/core.xml"] = _XML + (
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            + (f"<dc:title>{escape(title)}</dc:title>" if title is not None else "")
            + (f'<dcterms:created xsi:type="dcterms:W3CDTF">{created.isoformat()}T00:00:00Z</dcterms:created>'
               if created is not None else "")
            + "</cp:coreProperties>")
    return parts


def workbook(sheets: Sequence[Sheet], *, title: str | None = None, created: dt.date | None = None) -> bytes:
    """The sheets as one XLSX, the first selected; `title` and `created` as its document properties."""
    sheets = _pieces(sheets)
    # Sheets are made and deflated side by side; the zip is then put together from their deflated bytes.
    with ThreadPoolExecutor(max_workers=_SHEETS_AT_ONCE) as pool:
        members = [pool.submit(_deflated, _sheet_xml(sheet, k == 1)) for k, sheet in enumerate(sheets, 1)]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
            for name, text in _parts(sheets, title, created).items():
                z.writestr(zipfile.ZipInfo(name, ZIP_DATE), text, zipfile.ZIP_DEFLATED)
            for k, made in enumerate(members, 1):
                member = made.result()
                info = zipfile.ZipInfo(f"xl/worksheets/sheet{k}.xml", ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                with z.open(info, "w", force_zip64=True) as out:
                    into_entry(out, member.data, member.packer)
    return buffer.getvalue()
