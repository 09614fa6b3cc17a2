"""Long tables in Word (a task announcement's drawn lists at a city's scale): one row laid out, the rest filled in.

python-docx builds a table row as an XML tree in memory: a city's drawn lists, hundreds of thousands of
rows, took minutes and gigabytes. Every body row of a table is a copy of its first with its own text
(docx_styles.add_table), so the notice is rendered through docxtpl with each long table cut to one row
holding a marker per cell, and each row of the table is that row's XML with its own values put in,
escaped as XML text, as the file is written (docx_package). A value python-docx writes as more than
text (empty, or with spaces at an end) has its row made by python-docx's own rule (docx_styles.filled_row).

This decides nothing the notice says. The notice with each long table cut to its first rows is also
rendered by docxtpl, and both ways must give the same bytes; if they do not, or a value holds a tab,
line break or other control character, render_tables returns None and the notice is rendered the slow way.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from docx.opc.oxml import serialize_part_xml
from docx.oxml import parse_xml
from lxml import etree
from spotcheck.notices.docx_letters import CLOSE, ESCAPE, MARK, OPEN, REWRITTEN, format_of, qualified, unqualified
from spotcheck.notices.docx_package import Package
from spotcheck.notices.docx_render import rendered
from spotcheck.notices.docx_styles import centred_columns, filled_row
from spotcheck.notices.model import Notice, Table

LONG_ROWS = 40  # below this a table's rows cost less than the renders this needs
_PROOF_ROWS = 3


def long_tables(notice: Notice) -> list[int]:
    """The body blocks that are tables long enough to fill in (merged cells are laid out by python-docx)."""
    return [k for k, b in enumerate(notice.body) if isinstance(b, Table) and len(b.rows) >= LONG_ROWS and not b.spans]


def render_tables(template: Path, notice: Notice) -> bytes | None:
    """The notice's Word file with its long tables filled in; None when the slow way must be taken."""
    tables = long_tables(notice)
    if not tables or any(REWRITTEN.search(str(v)) for k in tables for row in notice.body[k].rows for v in row):
        return None
    centred = {k: centred_columns(notice.body[k]) for k in tables}

    def cut(rows_of: Callable[[int, Table], tuple]) -> Notice:
        body = list(notice.body)
        for k in tables:
            body[k] = dataclasses.replace(body[k], rows=rows_of(k, body[k]), centred=centred[k])
        return dataclasses.replace(notice, body=tuple(body))

    marked = rendered(template, cut(lambda k, t: (tuple(f"{OPEN}{k}.{c}{CLOSE}" for c in range(len(t.columns))),)))
    layout = _cut(serialize_part_xml(marked.docx.part._element).decode("utf-8"), tables)
    if layout is None:
        return None
    proof = cut(lambda k, t: t.rows[:_PROOF_ROWS])
    slow = serialize_part_xml(rendered(template, proof).docx.part._element).decode("utf-8")
    if "".join(layout.document(proof)) != slow:
        return None
    out = io.BytesIO()
    marked.save(out)
    return Package(out.getvalue()).bytes(layout.document(notice))


@dataclasses.dataclass(frozen=True)
class _Row:
    form: str  # the row's XML as a str.format string, a field per cell
    element: object  # the marked row as python-docx reads it, for rows it must make itself


@dataclasses.dataclass(frozen=True)
class _Layout:
    """The marked document cut around each long table's one row: the text between the rows, and the rows."""

    tables: list[int]
    segments: list[str]
    rows: list[_Row]

    def document(self, notice: Notice) -> Iterator[str]:
        """word/document.xml of the notice, its long tables' rows filled in one by one."""
        for segment, k, row in zip(self.segments, self.tables, self.rows, strict=False):
            yield segment
            for values in notice.body[k].rows:
                texts = [str(v) for v in values]
                if all(t and t.strip() == t for t in texts):
                    yield row.form.format(*(t.translate(ESCAPE) for t in texts))
                else:
                    yield unqualified(etree.tostring(filled_row(row.element, texts), encoding="unicode"))
        yield self.segments[-1]


def _cut(xml: str, tables: Sequence[int]) -> _Layout | None:
    segments, rows = [], []
    start = 0
    for k in tables:
        at = xml.find(f"{OPEN}{k}.0{CLOSE}", start)
        begin = max(xml.rfind("<w:tr>", start, at), xml.rfind("<w:tr ", start, at)) if at >= 0 else -1
        end = xml.find("</w:tr>", at) if begin >= 0 else -1
        if end < 0:
            return None
        end += len("</w:tr>")
        row = xml[begin:end]
        form, names = format_of([tuple(MARK.split(row))])
        if list(names) != [f"{k}.{c}" for c in range(len(names))]:
            return None
        segments.append(xml[start:begin])
        rows.append(_Row(form, parse_xml(qualified(row))))
        start = end
    segments.append(xml[start:])
    if any(OPEN in s or CLOSE in s for s in segments):
        return None
    return _Layout(list(tables), segments, rows)
