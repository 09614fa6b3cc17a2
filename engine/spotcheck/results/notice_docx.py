"""A task's results announcement as Word, with its table rows written by substitution, not by docxtpl.

docxtpl renders the template's `{%tr for r in doc.results.rows %}` row by row and then re-parses and
rewrites the whole document several times (about 1 ms a row: a city's year is hundreds of thousands of
rows). Here the announcement is rendered once through docxtpl with a few rows only: a row of markers,
then guard rows taken from the real ones (the first, and the first with an empty, a non-empty and an
escaped cell). The marker row's XML, cut at the markers, is the pattern of every row; each real row is
that pattern with its cells XML-escaped as lxml writes them. The guard rows, as docxtpl rendered them,
must equal the pattern filled with their cells, or the whole announcement is rendered through docxtpl
as before: same bytes either way (tests/results/test_notice_docx.py compares part by part).

Every zip entry is dated 1980-01-01, as every Word file spotcheck writes (notices.docx_package), so the
same results give the same file on every run.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from itertools import chain, groupby

import polars as pl

from spotcheck.deflate import Deflater, into_entry
from spotcheck.notices import api as notice
from spotcheck.notices.announcements import ResultRow, results_notice
from spotcheck.notices.docx_package import dated, redated
from spotcheck.notices.model import Notice
from spotcheck.policy.loaded import LoadedPolicy
from spotcheck.results.substitution import FAST_ROWS, Survey, cell_frame, filled, marker, survey, with_rows

MAIN = "word/document.xml"
# The Word table's special characters, as a regular expression's class holds them: those its guard rows
# cover, and of them those lxml escapes.
WORD_SPECIAL, WORD_ESCAPED = "&<>\"'", "&<>"
_SPECIAL = re.compile(f"[{WORD_SPECIAL}]")
_TEXT_OPEN = re.compile(r"<w:t(?: [^>]*)?>$")
_TEXT_CLOSE = "</w:t>"
def _escape(text: str) -> str:
    """As lxml writes text: only &, < and > are escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") if _SPECIAL.search(text) else text


def _row_spans(xml: str, first: int, count: int) -> list[tuple[int, int]]:
    """(start, end) of `count` consecutive table rows, the first of which holds position `first`."""
    start = max(xml.rfind("<w:tr>", 0, first), xml.rfind("<w:tr ", 0, first))
    spans = []
    for _ in range(count):
        end = xml.index("</w:tr>", start) + len("</w:tr>")
        spans.append((start, end))
        start = end
    return spans


class _Pattern:
    """A table row's XML cut at its cells' text elements, each holding only its marker."""

    def __init__(self, row_xml: str, width: int) -> None:
        self.between: list[str] = []  # before the first cell's <w:t>, between cells, after the last
        self.opens: list[str] = []  # each cell's <w:t …> tag
        rest = row_xml
        for j in range(width):
            before, found, rest = rest.partition(marker(j))
            opening = _TEXT_OPEN.search(before)
            if not found or marker(j) in rest or opening is None or not rest.startswith(_TEXT_CLOSE):
                raise ValueError("each cell's marker is the whole text of one <w:t>, once")
            self.between.append(before[:opening.start()])
            self.opens.append(opening.group())
            rest = rest[len(_TEXT_CLOSE):]
        self.between.append(rest)
        # lxml writes an element without text as <w:t/>: an empty cell comes out the same.
        self.empties = [tag[:-1] + "/>" for tag in self.opens]

    def cell(self, j: int, text: str) -> str:
        """Cell j's text element holding `text`."""
        return f"{self.opens[j]}{_escape(text)}{_TEXT_CLOSE}" if text else self.empties[j]

    def fill(self, cells: Sequence[str]) -> str:
        return "".join(self.between[j] + self.cell(j, text) for j, text in enumerate(cells)) + self.between[-1]

    def expr(self, survey: Survey) -> pl.Expr:
        """`fill` as a column expression over the surveyed cells. A column holding the same text in every
        row (a task's plan, task and type, often its remarks) is written once as text, not joined into
        every row (on the bench's largest 1M task, 4 of 10 columns). The others are escaped only if they hold something to escape and tested
        for empty text only if they hold some."""
        parts: list[str | pl.Expr] = []
        for j, c in enumerate(survey.columns):
            parts.append(self.between[j])
            if survey.same[j] is not None:
                parts.append(self.cell(j, survey.same[j]))
                continue
            cell = pl.col(c)
            if survey.escapes[j]:
                cell = cell.str.replace_all("&", "&amp;", literal=True).str.replace_all("<", "&lt;", literal=True) \
                    .str.replace_all(">", "&gt;", literal=True)
            text = pl.concat_str([pl.lit(self.opens[j]), cell, pl.lit(_TEXT_CLOSE)])
            parts.append(pl.when(pl.col(c) == "").then(pl.lit(self.empties[j])).otherwise(text)
                         if survey.empties[j] else text)
        parts.append(self.between[-1])
        return pl.concat_str(_merged(parts))


def _merged(parts: list[str | pl.Expr]) -> list[pl.Expr]:
    """Expressions for `parts`, texts that follow one another joined into one."""
    out: list[pl.Expr] = []
    for text, run in groupby(parts, key=lambda part: isinstance(part, str)):
        out += [pl.lit("".join(run))] if text else list(run)
    return out


def _fast(loaded: LoadedPolicy, head: Notice, cells: pl.DataFrame, survey: Survey, root) -> bytes | None:
    width = cells.width
    guards = survey.guards
    probe = with_rows(head, cells, ((*(marker(j) for j in range(width)),), *(cells.row(i) for i in guards)))
    docx = notice.render_notice(loaded, probe, "docx", root)
    with zipfile.ZipFile(io.BytesIO(docx)) as z:
        infos = z.infolist()
        parts = {i.filename: z.read(i) for i in infos}
    xml = parts[MAIN].decode("utf-8")
    at = xml.find(marker(0))
    if at < 0:
        return None  # a template that does not lay the rows out as a row loop
    spans = _row_spans(xml, at, 1 + len(guards))
    try:
        pattern = _Pattern(xml[spans[0][0]:spans[0][1]], width)
    except ValueError:
        return None
    if any(pattern.fill(cells.row(i)) != xml[s:e] for i, (s, e) in zip(guards, spans[1:], strict=True)):
        return None
    expr = pattern.expr(survey)
    out = io.BytesIO()
    # zipfile, not docx_package: a province's announcement of one task can pass 4 GiB of XML (Zip64).
    with zipfile.ZipFile(out, "w") as z:
        for info in infos:
            if info.filename != MAIN:
                z.writestr(dated(info), parts[info.filename])
                continue
            texts = chain([xml[:spans[0][0]].encode("utf-8")], filled(cells, expr), [xml[spans[-1][1]:].encode("utf-8")])
            with z.open(dated(info), "w", force_zip64=True) as body:
                if info.compress_type == zipfile.ZIP_DEFLATED:
                    packer = Deflater()
                    into_entry(body, packer.stream(texts), packer)
                else:
                    for text in texts:
                        body.write(text)
    return out.getvalue()


def results_notice_docx(loaded: LoadedPolicy, rows: Iterable[ResultRow | Mapping], *, published_on: dt.date,
                        root=notice.TEMPLATES) -> bytes:
    """notice.render_results_notice(…, "docx") with the same bytes in each part, at the cost of a few rows' render."""
    return notice_docx(loaded, results_notice(loaded, rows, published_on), root)


def notice_docx(loaded: LoadedPolicy, full: Notice, root=notice.TEMPLATES) -> bytes:
    """A results announcement already built (notices.announcements.results_notice) as Word, as above."""
    return frame_docx(loaded, full, cell_frame(full.results.rows, len(full.results.columns)), root)


def frame_docx(loaded: LoadedPolicy, head: Notice, cells: pl.DataFrame, root=notice.TEMPLATES) -> bytes:
    """The announcement `head` with `cells` (text columns in its table's order) as its table's rows."""
    if cells.height >= FAST_ROWS:
        surveyed = survey(cells, WORD_SPECIAL, WORD_ESCAPED)
        fast = None if surveyed.laid_out else _fast(loaded, head, cells, surveyed, root)
        if fast is not None:
            return fast
    # Zipped again, as it was before every notice was dated: a table notices.docx_tables lays out comes deflated by
    # docx_package, and the announcements keep the bytes they had.
    return redated(notice.render_notice(loaded, with_rows(head, cells), "docx", root))
