"""Record bodies written as their canonical text over whole columns: the `result` records of a clean file's
one-row visits, and the `result_states` records of an approval or a publication.

A province's results file is millions of visits, nearly all given in one row for the whole visit, and each
is approved and published. Their record bodies are made here by polars, byte for byte as `canonical_json`
writes them (the tests compare the two): each distinct date, method, result and action cell, and each text
shared by every record, is written once by canonical_json itself, every other text is escaped as json.dumps
escapes it, and no visit becomes a Python object.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator

import polars as pl

from spotcheck.ledger.chain import canonical_json
from spotcheck.results.categories import METHODS, NO_PROBLEM, ordered_categories
from spotcheck.results.columns import _actions, _categories, _methods, parse_date
from spotcheck.results.file import ALONE, method_order

# What json.dumps(ensure_ascii=False) escapes in a string, and how: the quote, the backslash and the
# characters below U+0020 (the results file refuses most of those, S861, but not tab and line breaks).
_ESCAPED = ["\\", '"', *map(chr, range(0x20))]
_ESCAPES = [json.dumps(c)[1:-1] for c in _ESCAPED]
CHUNK_ROWS = 1 << 16


def json_string(column: str) -> pl.Expr:
    """A text column as canonical_json writes each text (null as null)."""
    text = pl.col(column)
    return pl.when(text.is_null()).then(pl.lit("null")) \
        .otherwise(pl.lit('"') + text.str.replace_many(_ESCAPED, _ESCAPES) + pl.lit('"'))


def _each(column: str, frame: pl.DataFrame, value: Callable[[str], object]) -> pl.Expr:
    """A column's body value, written by canonical_json once per distinct cell (an empty cell is [])."""
    distinct = frame.get_column(column).drop_nulls().unique().to_list()
    return pl.col(column).replace_strict({text: canonical_json(value(text)) for text in distinct},
                                         return_dtype=pl.String).fill_null("[]")


def alone_texts(alone: pl.DataFrame, draw_id: str, file: str, sha256: str) -> pl.Expr:
    """Each Read.alone row's `result` body text: its Result's content(), with the source {file, sha256, rows}."""
    pieces = [
        '{"actions":', _each("actions", alone, lambda text: list(dict.fromkeys(_actions(text)[0]))),
        ',"categories":', _each("categories", alone, lambda text: list(_categories(text)[0])),
        ',"completed_on":', _each("completed_on", alone, lambda text: parse_date(text).isoformat()),
        f',"draw_id":{canonical_json(draw_id)},"findings":', json_string("findings"),
        ',"items":[],"methods":', _each("methods", alone, lambda text: list(method_order(text))),
        ',"name":', json_string("name"), ',"remarks":', json_string("remarks"),
        f',"source":{{"file":{canonical_json(file)},"rows":[', pl.col("row").cast(pl.String),
        f'],"sha256":{canonical_json(sha256)}}},"uscc":', json_string("uscc"), ',"visit_id":', json_string("visit_id"), "}",
    ]
    return pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in pieces])


def alone_records(alone: pl.DataFrame, draw_id: str, file: str, sha256: str) -> Iterator[tuple[int, str, str]]:
    """(row, visit id, body text) of each Read.alone row, in its order."""
    return _chunked(alone, pl.col("row"), pl.col("visit_id"), alone_texts(alone.select(ALONE), draw_id, file, sha256))


def several_records(several: pl.DataFrame, draw_id: str, file: str, sha256: str) -> Iterator[tuple[int, str, str]]:
    """(first row, visit id, body text) of each Read.several visit, in the order of their first rows: its Result's
    content(), with the source {file, sha256, rows}, as `file._result` merges a visit given item by item."""
    # Each row is one item, written as ItemResult.to_dict(); the items in the order of the visit's items.
    item = pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in (
        '{"actions":', _each("actions", several, lambda text: list(_actions(text)[0])),
        ',"categories":', _each("categories", several, lambda text: list(_categories(text)[0])),
        ',"code":', json_string("item_code"), ',"findings":', json_string("findings"),
        ',"methods":', _each("methods", several, lambda text: list(_methods(text)[0])), "}")])
    places = several.select("visit_id", "visit_items").unique("visit_id", keep="first") \
        .with_columns(pl.int_ranges(pl.col("visit_items").list.len()).alias("place")).explode("visit_items", "place")
    items = places.join(several.select("visit_id", pl.col("item_code").alias("visit_items"), item.alias("item")),
                        on=["visit_id", "visit_items"]).group_by("visit_id").agg(pl.col("item").sort_by("place").str.join(","))
    # The visit's categories, methods and actions are merged from its rows' cells: each distinct set (or, for the
    # actions, sequence) of cells is merged once, as _result merges it.
    merged = {name: _Merged(several, name) for name in ("categories", "methods", "actions")}
    visits = several.group_by("visit_id", maintain_order=True).agg(
        pl.col("row").first().alias("first"), pl.col("row").cast(pl.String).str.join(",").alias("rows"),
        pl.col("completed").max().dt.to_string("%Y-%m-%d").alias("completed_on"),
        merged["categories"].key(ordered=False), merged["methods"].key(ordered=False), merged["actions"].key(ordered=True),
        pl.col("remarks").drop_nulls().unique(maintain_order=True).str.join("；").alias("remarks"),
        pl.col("visit_uscc").first().alias("uscc"), pl.col("visit_name").first().alias("name"),
    ).join(items, on="visit_id", how="left", maintain_order="left") \
        .with_columns(pl.when(pl.col("remarks") != "").then(pl.col("remarks")).alias("remarks"))
    text = pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in (
        '{"actions":', merged["actions"].text(visits, lambda actions: list(dict.fromkeys(actions))),
        ',"categories":', merged["categories"].text(visits, _visit_categories),
        ',"completed_on":"', pl.col("completed_on"), f'","draw_id":{canonical_json(draw_id)},"findings":null,"items":[',
        pl.col("item"), '],"methods":', merged["methods"].text(visits, lambda found: [m for m in METHODS if m in found]),
        ',"name":', json_string("name"), ',"remarks":', json_string("remarks"),
        f',"source":{{"file":{canonical_json(file)},"rows":[', pl.col("rows"),
        f'],"sha256":{canonical_json(sha256)}}},"uscc":', json_string("uscc"), ',"visit_id":', json_string("visit_id"), "}")])
    return _chunked(visits, pl.col("first"), pl.col("visit_id"), text)


class _Merged:
    """A cell column of Read.several, each distinct cell numbered, so that a visit's cells are a short key."""

    def __init__(self, several: pl.DataFrame, column: str) -> None:
        self.column = column
        self.cells = several.get_column(column).drop_nulls().unique().sort().to_list()
        self.number = pl.col(column).replace_strict({cell: n for n, cell in enumerate(self.cells)}, return_dtype=pl.Int64)
        self.read = {"categories": lambda cell: _categories(cell)[0], "methods": lambda cell: _methods(cell)[0],
                     "actions": lambda cell: _actions(cell)[0]}[column]

    def key(self, *, ordered: bool) -> pl.Expr:
        """A visit's cells, in row order without repeats when `ordered`, else as a set."""
        numbers = self.number.drop_nulls()
        numbers = numbers.unique(maintain_order=True) if ordered else numbers.unique().sort()
        return numbers.cast(pl.String).str.join(",").alias(self.column)

    def text(self, visits: pl.DataFrame, merge: Callable[[list[str]], list[str]]) -> pl.Expr:
        """Each visit's merged value as canonical_json writes it, merged once per distinct key by `merge` (which is
        given the values its cells read, in key order)."""
        def value(key: str) -> str:
            cells = [self.cells[int(n)] for n in key.split(",")] if key else []
            return canonical_json(merge([v for cell in cells for v in self.read(cell)]))

        keys = visits.get_column(self.column).unique().to_list()
        return pl.col(self.column).replace_strict({key: value(key) for key in keys}, return_dtype=pl.String)


def _visit_categories(codes: list[str]) -> list[str]:
    categories = ordered_categories(codes)
    # Per item 未发现问题 stands beside another item's problem; the visit as a whole found one.
    return [c for c in categories if c != NO_PROBLEM] if len(categories) > 1 else list(categories)


# Results one `result_states` record names: a province's approval is a few hundred records, each under a megabyte.
STATES_PER_RECORD = 20_000


def state_batches(results: pl.DataFrame, state: str, on: dt.date, draw_id: str, out: str | None = None) -> Iterator[tuple[str, str]]:
    """(draw id, body text) of the `result_states` records marking these results (`results`: visit_id, seq, in
    order) with `state` on a day: one record per STATES_PER_RECORD results, as canonical_json writes {"draw_id",
    "on", "out" (a publication's folder, when given), "results": [[visit_id, result seq], …], "state"}."""
    head = f'{{"draw_id":{canonical_json(draw_id)},"on":{canonical_json(on.isoformat())},' \
        + ("" if out is None else f'"out":{canonical_json(out)},') + '"results":['
    # Refused as the chain's hash refuses a body that is not UTF-8 (a folder name with a lone surrogate): polars
    # would store U+FFFD in its place, a folder other than the one written.
    head.encode("utf-8")
    tail = f'],"state":{canonical_json(state)}}}'
    pairs = pl.concat_str(pl.lit("["), json_string("visit_id"), pl.lit(","), pl.col("seq").cast(pl.String), pl.lit("]"))
    for start in range(0, results.height, STATES_PER_RECORD):
        chunk = results.slice(start, STATES_PER_RECORD).select(pairs.str.join(",")).item()
        yield draw_id, head + chunk + tail


def _chunked(frame: pl.DataFrame, *columns: pl.Expr) -> Iterator[tuple]:
    """The rows of these columns of `frame`, in its order, made a chunk at a time: at a province's scale the
    texts of every visit at once are gigabytes."""
    for start in range(0, frame.height, CHUNK_ROWS):
        chunk = frame.slice(start, CHUNK_ROWS).select(*columns)
        yield from zip(*(series.to_list() for series in chunk.get_columns()), strict=True)
