"""Tables written by substitution (the results announcement as Word in notice_docx, as Markdown in
notice_md): the template renders a row of markers and a few guard rows, and every real row is the marker
row's pattern filled with its cells. What both writers share: the markers, the survey of the cells that
picks the guard rows, the rows' text made a batch at a time, and the announcement holding its rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

import polars as pl

from spotcheck.notices.docx_styles import SHORT_CELL
from spotcheck.notices.model import Notice
from spotcheck.pieces import ahead, joined

# Below this many rows one docxtpl render costs no more than the few this path needs.
FAST_ROWS = 40
# Rows made into text at once: about 3 KB of Word XML a row, so a few MB a batch, which the allocator reuses.
# Batches of 32,768 rows were 100 MB of fresh memory each, and the kernel's share of the CPU grew with it.
_BATCH = 1 << 11
# Characters docxtpl turns into breaks, tabs or new paragraphs inside a cell: such a table is rendered as before.
_LAYOUT = r"\t\n\a\f\r"


def marker(j: int) -> str:
    return f"SPOTCHECKCELL{j:02d}X"


def cell_frame(rows: Sequence[Sequence[str]], width: int) -> pl.DataFrame:
    """A table's rows as text columns c0, c1, …"""
    return pl.DataFrame([list(map(str, r)) for r in rows], schema={f"c{j}": pl.String for j in range(width)},
                        orient="row")


@dataclasses.dataclass(frozen=True)
class Survey:
    """What a table written by substitution (Word in notice_docx, Markdown in notice_md) needs to know of every cell:
    each column is searched once for all the characters looked for, and only the rows holding one (usually
    none or a few) again for each kind. Searching every column for each kind was three passes of a
    province's 3.3 million rows."""

    columns: tuple[str, ...]
    laid_out: bool  # a cell holds a character docxtpl lays out
    # The rows docxtpl also renders: the first, and per column the first with an empty, a non-empty and a
    # special cell, so the pattern is checked on every kind of cell text it fills in.
    guards: list[int]
    escapes: tuple[bool, ...]  # per column: a cell holds a character the table escapes
    empties: tuple[bool, ...]  # per column: a cell is empty
    same: tuple[str | None, ...]  # per column: the text every cell holds, if they hold one


def survey(cells: pl.DataFrame, special: str, escaped: str) -> Survey:
    """`special`: the characters the guard rows cover, `escaped`: those of them the table escapes (each as a
    regular expression's class holds them)."""
    columns = cells.columns
    looked_for = f"[{_LAYOUT}{special}]"
    found = cells.with_row_index("_row").filter(pl.any_horizontal(pl.col(c).str.contains(looked_for) for c in columns))
    laid_out = found.select(pl.any_horizontal(pl.col(c).str.contains(f"[{_LAYOUT}]").any() for c in columns)).item()
    firsts_special = found.select(pl.col("_row").filter(pl.col(c).str.contains(f"[{special}]")).first().alias(c)
                                  for c in columns).row(0)
    escapes = found.select(pl.col(c).str.contains(f"[{escaped}]").any() for c in columns).row(0)
    width = len(columns)
    firsts = cells.select(*((pl.col(c) == "").arg_true().first().alias(f"e{c}") for c in columns),
                          *((pl.col(c) != "").arg_true().first().alias(f"n{c}") for c in columns),
                          *(pl.col(c).first().alias(f"f{c}") for c in columns),
                          # A missing text is never the same as another.
                          *((pl.col(c) == pl.col(c).first()).all(ignore_nulls=False).alias(f"s{c}") for c in columns)).row(0)
    guards = sorted({0, *(i for i in (*firsts[:2 * width], *firsts_special) if i is not None)})
    same = tuple(first if alike else None for first, alike in zip(firsts[2 * width:3 * width], firsts[3 * width:], strict=True))
    return Survey(tuple(columns), laid_out, guards, tuple(bool(e) for e in escapes),
                   tuple(i is not None for i in firsts[:width]), same)


def filled(cells: pl.DataFrame, expr: pl.Expr) -> Iterator[memoryview]:
    """The rows' text as UTF-8, a batch of rows at a time (a city's table is hundreds of megabytes of it),
    each batch made on a thread while the one before is written: polars and zlib both let go of Python's
    lock, so on two cores the text and its compression overlap."""
    def batch(start: int) -> memoryview:
        return joined(cells.slice(start, _BATCH).select(expr).to_series())

    yield from ahead(map(batch, range(0, cells.height, _BATCH)))


def with_rows(head: Notice, cells: pl.DataFrame, rows: Sequence[Sequence[str]] | None = None) -> Notice:
    """The announcement `head` with these rows in its table (all of `cells` when `rows` is None), laid out
    as with all of them (centred columns are read from every row)."""
    table = head.results
    centred = cells.select((pl.col(c).str.len_chars() <= SHORT_CELL).all() for c in cells.columns).row(0)
    return dataclasses.replace(head, results=dataclasses.replace(
        table, rows=tuple(cells.iter_rows()) if rows is None else tuple(rows), centred=tuple(centred)))
