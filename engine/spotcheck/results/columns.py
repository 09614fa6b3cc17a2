"""A results file checked column by column: the usual case, a file with no problem in it.

A province's results file is millions of rows, and nearly every file an officer imports is clean. Each
of file.py's row checks is made here over whole columns, or once per distinct cell (a year repeats a
few hundred dates, methods, results and actions), only to learn whether ANY row has a problem. When
one has, the file is read again row by row (`file.read_results`), which names every problem by row and
column: the problems an officer sees are written in one place.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache

import polars as pl

from spotcheck.results.categories import (
    CATEGORIES,
    CATEGORY_VOCAB,
    METHOD_VOCAB,
    NO_PROBLEM,
    fold,
    ordered_categories,
    scan,
    split_actions,
)

# The readings of one cell, shared with the row-by-row check. Each distinct cell is read once; the
# readings are tuples, so a row cannot change another's.
_methods = lru_cache(maxsize=1 << 16)(lambda text: tuple(map(tuple, scan(text, METHOD_VOCAB))))
_actions = lru_cache(maxsize=1 << 16)(lambda text: tuple(map(tuple, split_actions(text))))


@lru_cache(maxsize=1 << 16)
def _categories(text: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(the codes in official order, the words not known, the names of the codes other than 未发现问题)."""
    found, unknown = scan(text, CATEGORY_VOCAB)
    categories = ordered_categories(found)
    return categories, tuple(unknown), tuple(CATEGORIES[c].name for c in categories if c != NO_PROBLEM)


_DATE_FORMS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_EXCEL_SERIAL = re.compile(r"^(\d{5})(?:\.0+)?$")
DATE_HINT = "日期请写成 2023-09-25、2023/9/25、20230925 或 2023年9月25日"


def parse_date(text: str) -> dt.date | None:
    """A date as officers and spreadsheets write it; None when it is not one."""
    text = unicodedata.normalize("NFKC", text).strip()
    for form in _DATE_FORMS:
        m = form.match(text)
        if m:
            try:
                return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                return None
    m = _EXCEL_SERIAL.match(text)
    if m and 20000 < int(m.group(1)) < 80000:
        # A date cell formatted as a number: days since Excel's 1899-12-30 epoch.
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(m.group(1)))
    return None


# A city's results file repeats a few dates in every row: each distinct cell is read once.
_date = lru_cache(maxsize=1 << 16)(parse_date)


def same_name(name: str, drawn: str) -> bool:
    """The entity's name as written in the results file is the drawn one, spaces and width aside (S814)."""
    return name == drawn or fold(re.sub(r"\s", "", name)) == fold(re.sub(r"\s", "", drawn))


FIELDS = ("visit_id", "task_id", "uscc", "name", "completed_on", "methods", "categories", "item_code", "findings",
          "actions", "remarks")


def clean_rows(values: Mapping[str, Sequence[str]], rows: Sequence[int], visits: pl.DataFrame, *, drawn_on: dt.date,
               today: dt.date, date: Callable[[str], dt.date | None]) -> pl.DataFrame | None:
    """The rows of a results file with no problem, or None when one has any (or names its visit by task
    and credit code: found row by row).

    `values` holds each field's stripped cells ("" for none), row by row; `rows` their row numbers;
    `visits` a draw's visit_frame; `date` reads a date cell. The frame has the row's number and cells (null
    when empty), its visit's `visit_uscc`, `visit_name` and `visit_items`, the `completed` date, and
    `alone`: the visit's only row, for the whole visit."""
    if "visit_id" not in values:
        return None
    frame = pl.DataFrame({"row": rows, **{f: values.get(f, [""] * len(rows)) for f in FIELDS}},
                         schema={"row": pl.Int64, **{f: pl.String for f in FIELDS}})
    frame = frame.with_columns(pl.when(pl.col(f) != "").then(pl.col(f)).alias(f) for f in FIELDS)
    known = visits.select("visit_id", pl.col("uscc").fill_null("").alias("visit_uscc"),
                          pl.col("name").fill_null("").alias("visit_name"), pl.col("item_codes").alias("visit_items"),
                          pl.lit(True).alias("known"))
    frame = frame.join(known, on="visit_id", how="left", maintain_order="left")
    if frame.get_column("known").null_count():
        return None  # S803, or a row without its visit id
    if _any_row(frame, "uscc", "visit_uscc", lambda uscc, drawn: uscc.upper() != drawn.upper()):
        return None  # S819
    if _any_row(frame, "name", "visit_name", lambda name, drawn: not same_name(name, drawn)):
        return None  # S814
    if any(frame.get_column(f).null_count() for f in ("completed_on", "methods", "categories")):
        return None  # S816
    days = {text: date(text) for text in frame.get_column("completed_on").unique().to_list()}
    if None in days.values() or min(days.values()) < drawn_on or max(days.values()) > today:
        return None  # S806, S807, S808
    if any(_methods(text)[1] for text in frame.get_column("methods").unique().to_list()):
        return None  # S812
    readings = {text: _categories(text) for text in frame.get_column("categories").unique().to_list()}
    if any(unknown or (NO_PROBLEM in codes and others) for codes, unknown, others in readings.values()):
        return None  # S804, S805
    if any(_actions(text)[1] for text in frame.get_column("actions").drop_nulls().unique().to_list()):
        return None  # S813
    nothing_found = [text for text, (codes, _, _) in readings.items() if codes == (NO_PROBLEM,)]
    if frame.filter(pl.col("actions").is_not_null() & pl.col("categories").is_in(nothing_found)).height:
        return None  # S805
    if frame.filter(pl.col("item_code").is_not_null() & ~pl.col("visit_items").list.contains(pl.col("item_code")).fill_null(False)).height:
        return None  # S810
    visit = pl.col("visit_id")
    frame = frame.with_columns(
        pl.col("completed_on").replace_strict(days, return_dtype=pl.Date).alias("completed"),
        ((pl.len().over(visit) == 1) & pl.col("item_code").is_null()).alias("alone"))
    # A visit of several rows: no item twice (or two whole-visit rows, S811), not whole-visit and per-item
    # rows mixed (S815), and per item, a row for each of its items (S809; every row's item is one of them).
    groups = frame.filter(~pl.col("alone")).group_by(visit).agg(
        pl.len().alias("n"), pl.col("item_code").n_unique().alias("distinct"),
        pl.col("item_code").null_count().alias("whole"), pl.col("visit_items").first().list.n_unique().alias("items"))
    if groups.filter((pl.col("distinct") < pl.col("n")) | (pl.col("whole") > 0)
                     | (pl.col("n") != pl.col("items"))).height:
        return None
    return frame


def _any_row(frame: pl.DataFrame, field: str, drawn: str, differs: Callable[[str, str], bool]) -> bool:
    """Whether a row's cell differs from its visit's by `differs`, asked only where the two are not equal."""
    unequal = frame.filter(pl.col(field).is_not_null() & (pl.col(field) != pl.col(drawn))).select(field, drawn)
    return any(differs(a, b) for a, b in unequal.iter_rows())
