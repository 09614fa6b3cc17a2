"""Long tables in Word (a task announcement's drawn lists at a city's scale): one row laid out, the rest filled in.

python-docx builds a table row as an XML tree in memory: a city's drawn lists, hundreds of thousands of
rows, took minutes and gigabytes. Every body row of a table is a copy of its first with its own text
(docx_styles.add_table), so the notice is rendered through docxtpl with each long table cut to one row
holding a marker per cell, and each row of the table is that row's XML with its own values put in,
escaped as XML text, as the file is written (docx_package). A value python-docx writes as more than
text (empty, or with spaces at an end) has its row made by python-docx's own rule (docx_styles.filled_row).

This decides nothing the notice says. The one render holds each long table's first rows as python-docx
writes them before the row of markers, and they must be that row filled with their values; if they are
not, or a value holds a tab, line break or other control character, render_tables returns None and the
notice is rendered the slow way.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator
from pathlib import Path

import polars as pl
from docx.opc.oxml import serialize_part_xml
from docx.oxml import parse_xml
from lxml import etree

from spotcheck.notices.docx_letters import (
    CLOSE,
    MARK,
    OPEN,
    REWRITTEN_RS,
    escaped,
    qualified,
    unqualified,
)
from spotcheck.notices.docx_package import Package, Text
from spotcheck.notices.docx_render import rendered
from spotcheck.notices.docx_styles import SHORT_CELL, filled_row
from spotcheck.notices.model import FrameRows, Notice, Table
from spotcheck.pieces import joined

LONG_ROWS = 40  # below this a table's rows cost less than the renders this needs
_PROOF_ROWS = 3
_CHUNK_ROWS = 32768  # rows whose XML is made at once: a few tens of megabytes
# Python's white space (str.strip's), all of it below U+3001: a value starting or ending with one is
# written by python-docx's own rule.
_SPACES = "".join(f"\\x{{{ord(c):X}}}" for c in map(chr, range(0x3001)) if c.isspace())
_EDGE_SPACE = f"^[{_SPACES}]|[{_SPACES}]$"


def long_tables(notice: Notice) -> list[int]:
    """The body blocks that are tables long enough to fill in (merged cells are laid out by python-docx)."""
    return [k for k, b in enumerate(notice.body) if isinstance(b, Table) and len(b.rows) >= LONG_ROWS and not b.spans]


def _texts(t: Table) -> pl.DataFrame:
    """A table's rows as text columns c0, c1, …: its FrameRows as they are, a tuple of rows as str() of each value."""
    names = [f"c{c}" for c in range(len(t.columns))]
    if isinstance(t.rows, FrameRows):
        return t.rows.frame.rename(dict(zip(t.rows.frame.columns, names, strict=True)))
    return pl.DataFrame([tuple(str(v) for v in row) for row in t.rows], schema={n: pl.String for n in names}, orient="row")


def render_tables(template: Path, notice: Notice) -> bytes | None:
    """The notice's Word file with its long tables filled in; None when the slow way must be taken."""
    tables = long_tables(notice)
    if not tables:
        return None
    texts = {k: _texts(notice.body[k]) for k in tables}
    for frame in texts.values():
        # A missing value, or one holding what docxtpl rewrites, is laid out by python-docx.
        if any(frame.schema[c] != pl.String for c in frame.columns) or frame.select(pl.any_horizontal(
                *(pl.col(c).is_null() | pl.col(c).str.contains(REWRITTEN_RS) for c in frame.columns)).any()).item():
            return None
    body = list(notice.body)
    for k in tables:
        t = body[k]
        marker = tuple(f"{OPEN}{k}.{c}{CLOSE}" for c in range(len(t.columns)))
        centred = texts[k].select(pl.all().str.len_chars().max() <= SHORT_CELL).row(0)
        # The first rows as python-docx writes them, then the row of markers every row is made from.
        body[k] = dataclasses.replace(t, rows=(*t.rows[:_PROOF_ROWS], marker), centred=tuple(centred))
    marked = rendered(template, dataclasses.replace(notice, body=tuple(body)))
    layout = _cut(serialize_part_xml(marked.docx.part._element).decode("utf-8"), notice, texts)
    if layout is None:
        return None
    out = io.BytesIO()
    marked.save(out)
    return Package(out.getvalue()).bytes(layout.document(texts))


@dataclasses.dataclass(frozen=True)
class _Row:
    cut: tuple[str, ...]  # the row's XML cut at its markers: text, cell 0, text, cell 1, …, text
    element: object  # the marked row as python-docx reads it, for rows it must make itself

    def xml(self, frame: pl.DataFrame) -> pl.Series:
        """Each row's XML (a frame of text columns c0, c1, …): its values escaped in their places, and a row
        with an empty value or spaces at a value's end made by python-docx's rule, as python-docx writes it."""
        made = pl.concat_str([escaped(pl.col(f"c{i // 2}")) if i % 2 else pl.lit(t)
                              for i, t in enumerate(self.cut) if i % 2 or t])
        plain = pl.all_horizontal([(pl.col(c) != "") & ~pl.col(c).str.contains(_EDGE_SPACE) for c in frame.columns])
        out = frame.select(pl.when(plain).then(made).alias("xml"), plain.alias("_plain"))
        odd = out.get_column("_plain").not_().arg_true()
        xml = out.get_column("xml")
        if odd.len():
            own = [unqualified(etree.tostring(filled_row(self.element, list(values)), encoding="unicode"))
                   for values in frame[odd].iter_rows()]
            xml = xml.scatter(odd, own)
        return xml


@dataclasses.dataclass(frozen=True)
class _Layout:
    """The marked document cut around each long table's rows: the text between them, and each table's row."""

    tables: list[int]
    segments: list[str]
    rows: list[_Row]

    def document(self, texts: dict[int, pl.DataFrame]) -> Iterator[Text]:
        """word/document.xml of the notice, its long tables' rows made a chunk at a time."""
        for segment, k, row in zip(self.segments, self.tables, self.rows, strict=False):
            yield segment
            frame = texts[k]
            for start in range(0, frame.height, _CHUNK_ROWS):
                yield joined(row.xml(frame.slice(start, _CHUNK_ROWS)))
        yield self.segments[-1]


def _cut(xml: str, notice: Notice, texts: dict[int, pl.DataFrame]) -> _Layout | None:
    """The layout, if each long table's first rows as python-docx wrote them are its row filled with their values."""
    tables = long_tables(notice)
    segments, rows = [], []
    start = 0
    for k in tables:
        at = xml.find(f"{OPEN}{k}.0{CLOSE}", start)
        begin = _row_start(xml, start, at) if at >= 0 else -1
        end = xml.find("</w:tr>", at) if begin >= 0 else -1
        if end < 0:
            return None
        end += len("</w:tr>")
        cut = tuple(MARK.split(xml[begin:end]))
        if list(cut[1::2]) != [f"{k}.{c}" for c in range(len(cut) // 2)] or len(cut) // 2 != texts[k].width:
            return None
        row = _Row(cut, parse_xml(qualified(xml[begin:end])))
        first = texts[k].head(_PROOF_ROWS)
        proof = begin
        for _ in range(first.height):
            proof = _row_start(xml, start, proof)
        if proof < 0 or xml[proof:begin] != row.xml(first).str.join("").item():
            return None
        segments.append(xml[start:proof])
        rows.append(row)
        start = end
    segments.append(xml[start:])
    if any(OPEN in s or CLOSE in s for s in segments):
        return None
    return _Layout(tables, segments, rows)


def _row_start(xml: str, start: int, before: int) -> int:
    """Where the last table row opening between `start` and `before` begins (-1: none)."""
    return max(xml.rfind("<w:tr>", start, before), xml.rfind("<w:tr ", start, before))
