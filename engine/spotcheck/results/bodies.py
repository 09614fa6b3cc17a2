"""Record bodies written as their canonical text over whole columns: the `result` records of a clean file's
one-row visits, and the `result_state` records of an approval or a publication.

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
from spotcheck.results.columns import _actions, _categories, parse_date
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


def state_records(results: pl.DataFrame, state: str, on: dt.date, out: str | None = None) -> Iterator[tuple[str, str]]:
    """(visit id, body text) of the `result_state` record marking each result (`results`: visit_id, seq) with
    `state` on a day, as canonical_json writes {"on", "out" (a publication's folder, when given), "result_seq",
    "state", "visit_id"}."""
    head = f'{{"on":{canonical_json(on.isoformat())},' + ("" if out is None else f'"out":{canonical_json(out)},')
    # Refused as the chain's hash refuses a body that is not UTF-8 (a folder name with a lone surrogate): polars
    # would store U+FFFD in its place, a folder other than the one written.
    head.encode("utf-8")
    text = pl.concat_str(pl.lit(f'{head}"result_seq":'), pl.col("seq").cast(pl.String),
                         pl.lit(f',"state":{canonical_json(state)},"visit_id":'), json_string("visit_id"), pl.lit("}"))
    return _chunked(results, pl.col("visit_id"), text)


def _chunked(frame: pl.DataFrame, *columns: pl.Expr) -> Iterator[tuple]:
    """The rows of these columns of `frame`, in its order, made a chunk at a time: at a province's scale the
    texts of every visit at once are gigabytes."""
    for start in range(0, frame.height, CHUNK_ROWS):
        chunk = frame.slice(start, CHUNK_ROWS).select(*columns)
        yield from zip(*(series.to_list() for series in chunk.get_columns()), strict=True)
