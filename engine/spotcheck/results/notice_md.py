"""A task's results announcement as Markdown, with its table rows written by substitution, as notice_docx
does for Word: the template renders a row of markers and a few guard rows taken from the real ones; the
marker row, cut at its markers, is the pattern of every row (each cell as the `md_cell` filter writes
it), and the guard rows as rendered must equal the pattern filled with their cells. Any template whose
rows are not one line each, or whose guard rows differ, renders the whole table as before.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import polars as pl
from spotcheck.notices import api as notice
from spotcheck.notices.model import Notice
from spotcheck.policy.loaded import LoadedPolicy
from spotcheck.results.substitution import FAST_ROWS, Survey, filled, marker, survey, with_rows

# What the guard rows cover, and of it what md_cell escapes (a cell's line breaks send the table the slow way).
_SPECIAL, _ESCAPED = r"|\\", "|"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


class _Line:
    """A table row's line cut at its cells."""

    def __init__(self, line: str, width: int) -> None:
        self.between: list[str] = []
        rest = line
        for j in range(width):
            before, found, rest = rest.partition(marker(j))
            if not found or marker(j) in rest:
                raise ValueError("each cell's marker appears once, in order")
            self.between.append(before)
        self.between.append(rest)

    def fill(self, cells: Sequence[str]) -> str:
        out = [self.between[0]]
        for j, cell in enumerate(cells):
            out += (_cell(cell), self.between[j + 1])
        return "".join(out)

    def expr(self, survey: Survey) -> pl.Expr:
        """`fill` as a column expression over the surveyed cells (only columns holding a | are escaped)."""
        parts: list[pl.Expr] = [pl.lit(self.between[0])]
        for j, c in enumerate(survey.columns):
            parts += (pl.col(c).str.replace_all("|", "\\|", literal=True) if survey.escapes[j] else pl.col(c),
                      pl.lit(self.between[j + 1]))
        return pl.concat_str(parts)


def _fast(loaded: LoadedPolicy, head: Notice, cells: pl.DataFrame, survey: Survey, root) -> Iterator[bytes | memoryview] | None:
    width = cells.width
    guards = survey.guards
    probe = with_rows(head, cells, ((*(marker(j) for j in range(width)),), *(cells.row(i) for i in guards)))
    text = notice.render_notice(loaded, probe, "md", root)
    at = text.find(marker(0))
    end = text.find("\n", at) + 1
    if at < 0 or end == 0:
        return None
    start = text.rfind("\n", 0, at) + 1
    try:
        line = _Line(text[start:end], width)
    except ValueError:
        return None
    at = end
    for i in guards:
        row = line.fill(cells.row(i))
        if not text.startswith(row, at) or row.count("\n") != 1:
            return None
        at += len(row)

    def pieces() -> Iterator[bytes | memoryview]:
        yield text[:start].encode("utf-8")
        yield from filled(cells, line.expr(survey))
        yield text[at:].encode("utf-8")

    return pieces()


def frame_md(loaded: LoadedPolicy, head: Notice, cells: pl.DataFrame, root=notice.TEMPLATES) -> Iterator[bytes | memoryview]:
    """notice.render_notice(…, "md") of `head` with `cells` (text columns in its table's order) as its
    table's rows, in pieces of UTF-8."""
    if cells.height >= FAST_ROWS:
        surveyed = survey(cells, _SPECIAL, _ESCAPED)
        fast = None if surveyed.laid_out else _fast(loaded, head, cells, surveyed, root)
        if fast is not None:
            return fast
    return iter((notice.render_notice(loaded, with_rows(head, cells), "md", root).encode("utf-8"),))
