"""What each results step reads of the ledger, field by field in SQLite, rather than whole records.

`records.tracks` gives every visit's full story as records (the status list, the public site, the
results lists use it). A city's year is hundreds of thousands of results, each a record and two marks: approving
needs only each visit's latest result and its state, and the report a few fields of each, so these
readers ask SQLite for exactly those fields (`Ledger.fields`) and answer as `tracks` would (the tests
compare them on every state).
"""

from __future__ import annotations

import gc
import io
import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

import polars as pl

from spotcheck.draw.reader import DrawFolder, Visit
from spotcheck.errors import SpotcheckError
from spotcheck.ledger.chain import Record, damaged, record_from_row
from spotcheck.ledger.store import Ledger
from spotcheck.results.categories import CATEGORIES

STATES = ("未录入", "录入", "审核", "公示")
APPROVED, PUBLISHED = "审核", "公示"


@contextmanager
def bulk() -> Iterator[None]:
    """No cycle collection while a draw's records are read or built: they hold no cycles, and each full
    pass of the collector walks every one of them again (a fifth of approve's time at 50,000 visits)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def needs_follow_up(body: Mapping) -> bool:
    """A problem was found (a problem category, or a follow-up action was entered)."""
    return any(CATEGORIES[c].problem for c in body.get("categories", []) if c in CATEGORIES) or bool(body.get("actions"))


ENTERED_SCHEMA = {"visit_id": pl.String, "seq": pl.Int64, "state": pl.String}
# A draw's results, read by `scan` front to back: through the kind index SQLite fetched each row by its seq in key
# order and sorted them again, twice the CPU.
_OF_DRAW = """kind = 'result' AND json_extract(body, '$."draw_id"') = ?"""
_ENTERED = {"seq": ("seq", pl.Int64), "visit_id": ("key", pl.String)}


def entered_frame(folder: DrawFolder, ledger: Ledger) -> pl.DataFrame:
    """Each visit's latest result of the draw (its seq) and that result's state, as `tracks` gives them: one row
    per visit of the draw with a result (ENTERED_SCHEMA), without a Python object per visit."""
    with ledger.snapshot():
        scanned = scan(ledger, _ENTERED, _OF_DRAW, (folder.draw_id,))
        marks = marks_frame(ledger)
    results = scanned.select("visit_id", "seq").unique("visit_id", keep="last", maintain_order=True) \
        .join(folder.visit_frame.select("visit_id"), on="visit_id", how="semi", maintain_order="left")

    def marked(state: str) -> pl.Expr:
        return pl.col("seq").is_in(marks.filter(pl.col("state") == state).get_column("result_seq").implode())

    return results.select("visit_id", "seq", pl.when(marked(PUBLISHED)).then(pl.lit(PUBLISHED))
                          .when(marked(APPROVED)).then(pl.lit(APPROVED)).otherwise(pl.lit("录入")).alias("state"))


# ---------------------------------------------------------------- 审核 and 公示 marks

MARKS_SCHEMA = {"mark": pl.Int64, "result_seq": pl.Int64, "state": pl.String, "on": pl.String}
# An approval or a publication is one `result_states` record per STATES_PER_RECORD results it names. Ledgers begun
# before that hold one `result_state` record per result: read through the kind index, which finds none in a newer one.
_STATE = """json_extract(body, '$."state"')"""
_ONE_MARKS = f"""SELECT seq, json_extract(body, '$."result_seq"'), {_STATE}, json_extract(body, '$."on"')
FROM records WHERE kind = 'result_state' AND {_STATE} LIKE ? ORDER BY seq"""
_ACTS = f"""SELECT seq, {_STATE}, json_extract(body, '$."on"') FROM records WHERE kind = 'result_states' AND {_STATE} LIKE ?
ORDER BY seq"""
# The results the acts name: each act's list as SQLite keeps it, parsed by polars. In SQLite, `->> 1` of each
# [visit, result seq] parses it again (json_each of a province's approval and publication, 5.27 million of them:
# 1.8 s of SQLite, and a Python tuple each). NAMED_AT_ONCE acts a query, at most STATES_PER_RECORD results each.
_NAMED = """SELECT seq, json_extract(body, '$."results"') FROM records WHERE seq IN (SELECT value FROM json_each(?))
ORDER BY seq"""
NAMED_AT_ONCE = 64


def marks_frame(ledger: Ledger, state: str | None = None) -> pl.DataFrame:
    """Every 审核 and 公示 mark of a result (or only those of `state`), in chain order (MARKS_SCHEMA: the marking
    record's seq, the marked result's seq, the state, the day), from records of either form."""
    wanted = ("%",) if state is None else (state,)
    with ledger.snapshot():
        one = _read(ledger, _ONE_MARKS, wanted, MARKS_SCHEMA)
        acts = _read(ledger, _ACTS, wanted, {"mark": pl.Int64, "state": pl.String, "on": pl.String})
        named = _named(ledger, acts.get_column("mark").to_list())
    batched = named.join(acts, on="mark", how="left", maintain_order="left").select(*MARKS_SCHEMA)
    return pl.concat([one, batched]).sort("mark", maintain_order=True)


def _named(ledger: Ledger, acts: list[int]) -> pl.DataFrame:
    """(mark, result_seq) of each result the `result_states` records `acts` name, in their order."""
    schema = {"mark": pl.Int64, "result_seq": pl.Int64}
    frames = [pl.DataFrame(schema=schema)]
    for k in range(0, len(acts), NAMED_AT_ONCE):
        for rows in ledger.chunks(_NAMED, (json.dumps(acts[k:k + NAMED_AT_ONCE]),)):
            lists = pl.DataFrame(rows, schema={"mark": pl.Int64, "results": pl.String}, orient="row")
            try:
                # [visit, result seq] pairs read as text: the seq is cast back, as `->> 1` gave it.
                named = lists.select("mark", pl.col("results").str.json_decode(pl.List(pl.List(pl.String)))) \
                    .explode("results").drop_nulls("results")  # an act naming none has no row, as in json_each
            except pl.exceptions.ComputeError as exc:  # a list that is not JSON
                raise SpotcheckError(damaged(ledger.path, sqlite3.DataError(str(exc)))) from None
            frames.append(named.select("mark", pl.col("results").list.get(1, null_on_oob=True).cast(pl.Int64, strict=False)
                                       .alias("result_seq")))
    return pl.concat(frames)


_NAMING = """SELECT seq, kind, key, at, actor, body, prev_hash, hash FROM records AS r WHERE r.kind = 'result_states'
AND EXISTS (SELECT 1 FROM json_each(r.body, '$."results"') AS j WHERE j.value ->> 0 = ?) ORDER BY seq"""


def records_of(ledger: Ledger, kind: str | None = None, key: str | None = None) -> list[Record]:
    """`Ledger.find`, and for a visit's key also the approvals and publications that name it: they are keyed by
    their draw, one record for many visits."""
    found = ledger.find(kind, key)
    if key is None or kind not in (None, "result_states"):
        return found
    naming = [record_from_row(row) for rows in ledger.chunks(_NAMING, (key,)) for row in rows]
    return sorted({r.seq: r for r in (*found, *naming)}.values(), key=lambda r: r.seq)


def mark_records(ledger: Ledger) -> dict[int, dict[str, Record]]:
    """Each marked result's seq → state → the record of its first mark of that state (one record of an approval
    marks many results: they share it)."""
    out: dict[int, dict[str, Record]] = {}
    # The older form first: a ledger holds it only from before the newer was written.
    for record in ledger.iter("result_state"):
        out.setdefault(record.body.get("result_seq"), {}).setdefault(record.body.get("state"), record)
    for record in ledger.iter("result_states"):
        state = record.body.get("state")
        for _, seq in record.body.get("results", ()):
            out.setdefault(seq, {}).setdefault(state, record)
    return out


PROGRESS_SCHEMA = {"draw_id": pl.String, "visit_id": pl.String, "completed_on": pl.Date, "needs_follow_up": pl.Boolean,
                   "follow_up_closed_on": pl.Date, "first_completed": pl.Date, "first_published_on": pl.Date}

# One pass over the records, in chain order: each result (its draw, completion date, whether it has follow-up
# actions and its categories as JSON text); the 公示 marks are read beside it (marks_frame). SQLite reads the
# records table front to back rather than through the kind index: at a province's millions of records, fetching
# each row by its index entry cost four times as much CPU as reading every page once. Each body is parsed once per
# field read (a result of another draw is left out by the join). The categories come as text because a year has only a few distinct lists of them, each
# judged once in Python (`needs_follow_up`); a `json_each` per result cost a province 7.3 s of CPU in SQLite.
_SCANNED = {
    "draw_id": ("""json_extract(body, '$."draw_id"')""", pl.String),
    "visit_id": ("key", pl.String),
    "seq": ("seq", pl.Int64),
    "day": ("""json_extract(body, '$."completed_on"')""", pl.String),
    "n": ("""ifnull(json_array_length(body, '$."actions"') > 0, 0)""", pl.Int64),
    "categories": ("""json_quote(json_extract(body, '$."categories"'))""", pl.String),
}
_SCAN_WHERE = "kind = 'result'"
_VISIT = ["draw_id", "visit_id"]


# Records a call of `scan`: their text is tens of megabytes, far below SQLite's limit of a billion bytes a string.
_RANGE = 1 << 18


def scan(ledger: Ledger, columns: Mapping[str, tuple[str, pl.DataType]], where: str, args: tuple = ()) -> pl.DataFrame:
    """The records matching `where` (with `args` for its parameters) in chain order, as columns (name: its SQL over
    a record and its dtype; `seq` among them), read front to back. SQLite gives a range of records as one text of
    JSON lines, which polars reads. Row by row, Python's sqlite3 lets go of its lock for each row it steps and must
    take it back: beside threads reading files (the report reads the directory and the visits meanwhile) the scan
    waited for the lock row by row, and each row was a tuple of Python values before it was columns. (JSON lines,
    not CSV: quoting every text field cost SQLite more than json_object does; a province's public list 10.2 → 7.6 s.)"""
    fields = ", ".join(f"'{name}', {_json_field(sql, dtype)}" for name, (sql, dtype) in columns.items())
    sql = (f"SELECT CAST(group_concat(line, char(10)) AS BLOB) FROM (SELECT json_object({fields}) AS line "
           f"FROM records NOT INDEXED WHERE seq > ? AND seq <= ? AND ({where}) ORDER BY seq)")
    schema = {name: dtype for name, (_, dtype) in columns.items()}
    last = next(ledger.chunks("SELECT max(seq) FROM records"))[0][0] or 0
    frames = []
    for start in range(0, last, _RANGE):
        text = next(ledger.chunks(sql, (start, start + _RANGE, *args)))[0][0]
        if text is None:
            continue
        try:
            frames.append(pl.read_ndjson(io.BytesIO(text), schema=schema))
        except pl.exceptions.ComputeError as exc:  # text that is not UTF-8, or not of its column's type
            raise SpotcheckError(damaged(ledger.path, sqlite3.DataError(str(exc)))) from None
    frame = pl.concat(frames) if frames else pl.DataFrame(schema=schema)
    # group_concat takes the rows in the order the range is read, which is chain order; SQLite does not promise it.
    return frame if frame.get_column("seq").is_sorted() else frame.sort("seq")


def _json_field(sql: str, dtype: pl.DataType) -> str:
    """A column's SQL as a value of a JSON line: a text column as text. Concatenating drops SQLite's JSON subtype, so
    the text of an array json_extract gives, or json_quote's null, stays text (CAST keeps the subtype: json_object
    would nest the array, or write null)."""
    return f"(({sql}) || '')" if dtype == pl.String else sql


@dataclass(frozen=True)
class Progress:
    """What the ledger says of every visit's results, whatever its draw (read_progress): each visit's latest result
    (completed_on, needs_follow_up), its first version published (first_completed, first_published_on), and when
    its follow-up was closed (follow_up_closed_on)."""

    latest: pl.DataFrame
    first: pl.DataFrame
    follow_ups: pl.DataFrame


def read_progress(ledger: Ledger) -> Progress:
    """The ledger's side of progress_frame, read without the draw folders: a province's scan is half a minute of
    SQLite, which lets go of Python's lock while it steps, so a caller may read the folders meanwhile."""
    with ledger.snapshot():
        scanned = scan(ledger, _SCANNED, _SCAN_WHERE).with_columns(pl.col("day").str.to_date("%Y-%m-%d"))
        published = marks_frame(ledger, PUBLISHED)
    texts = scanned.get_column("categories").drop_nulls().unique().to_list()
    problem_texts = pl.Series([t for t in texts if _problem_categories(json.loads(t))], dtype=pl.String)
    # Rows are in chain order: a visit's last result is its latest, a result's first mark its publication.
    results = scanned.select(
        *_VISIT, "seq", pl.col("day").alias("completed_on"),
        ((pl.col("n") != 0) | pl.col("categories").is_in(problem_texts.implode())).alias("problem"))
    marks = published.unique("result_seq", keep="first", maintain_order=True) \
        .select(pl.col("result_seq").alias("seq"), pl.col("on").str.to_date("%Y-%m-%d").alias("first_published_on"))
    latest = results.unique(_VISIT, keep="last") \
        .select(*_VISIT, "completed_on", (pl.col("completed_on").is_not_null() & pl.col("problem")).alias("needs_follow_up"))
    first = results.join(marks, on="seq", maintain_order="left").unique(_VISIT, keep="first") \
        .select(*_VISIT, pl.col("completed_on").alias("first_completed"), "first_published_on")
    closed: dict[str, str | None] = {}
    for _, key, state, closed_on in ledger.fields("follow_up", ("state", "closed_on")):
        closed[key] = closed_on if state == "closed" else None
    follow_ups = pl.DataFrame({"visit_id": list(closed), "follow_up_closed_on": list(closed.values())},
                              schema={"visit_id": pl.String, "follow_up_closed_on": pl.String}) \
        .filter(pl.col("follow_up_closed_on") != "").with_columns(pl.col("follow_up_closed_on").str.to_date("%Y-%m-%d"))
    return Progress(latest, first, follow_ups)


def progress_frame(folders: list[DrawFolder], progress: Progress,
                   carry: Callable[[pl.DataFrame], list[pl.Expr]] = lambda visits: []) -> pl.DataFrame:
    """What the year's report needs of each visit's result, as `tracks` answers it, without a Python object per
    visit: one row per visit of each folder, folder by folder in visit order (PROGRESS_SCHEMA, then what `carry`
    selects of each folder's visit_frame). completed_on and needs_follow_up are of the latest result (null and
    false before one is entered); first_completed and first_published_on of the first version published, and
    when it was."""
    visits = pl.concat([f.visit_frame.select(pl.lit(f.draw_id, pl.String).alias("draw_id"), "visit_id", *carry(f.visit_frame))
                        for f in folders], how="vertical_relaxed")
    return visits.join(progress.latest, on=_VISIT, how="left", maintain_order="left") \
        .join(progress.first, on=_VISIT, how="left", maintain_order="left") \
        .join(progress.follow_ups, on="visit_id", how="left", maintain_order="left") \
        .with_columns(pl.col("needs_follow_up").fill_null(False)).select(*PROGRESS_SCHEMA, pl.exclude(*PROGRESS_SCHEMA))


def _problem_categories(categories: object) -> bool:
    """A body's categories (as JSON gives them) name a problem, as `needs_follow_up` reads them."""
    return isinstance(categories, list) and needs_follow_up({"categories": categories})


@dataclass(frozen=True, slots=True)
class Version:
    """A result version as the public list prints it: its seq and the body's PUBLIC_FIELDS."""

    seq: int
    body: dict


@dataclass(frozen=True, slots=True)
class Shown:
    """A result a publication shows: approved (published now) or the last version published before."""

    visit: Visit
    version: Version
    published_on: str | None  # None when it is published now


PUBLIC_FIELDS = ("name", "uscc", "completed_on", "categories", "remarks")


def shown(folder: DrawFolder, ledger: Ledger) -> list[Shown]:
    """In visit order, what `tracks` gives a publication: a visit whose state is 审核 shows its result, any
    other its last version published (Track.public), if it has one."""
    with bulk():
        return [Shown(folder.visits[vid], _version(seq, values), on)
                for vid, seq, *values, on in shown_frame(folder, ledger).drop("n").iter_rows()]


# This draw's results with the fields the public list prints, read by `scan`.
_SHOWN = {"seq": ("seq", pl.Int64), "visit_id": ("key", pl.String),
          **{f: (f"""json_extract(body, '$."{f}"')""", pl.String) for f in PUBLIC_FIELDS}}


def shown_frame(folder: DrawFolder, ledger: Ledger) -> pl.DataFrame:
    """`shown` as columns, without a Python object per visit: n (the visit's place in visits.csv),
    visit_id, seq, the PUBLIC_FIELDS as SQLite gives them (categories as JSON text) and published_on (null
    when it is published now)."""
    order = folder.visit_frame.select(pl.col("visit_id"), pl.int_range(pl.len(), dtype=pl.Int64).alias("n"))
    with ledger.snapshot():
        versions = scan(ledger, _SHOWN, _OF_DRAW, (folder.draw_id,)).join(order, on="visit_id")
        marks = marks_frame(ledger)

    def first(state: str, name: str) -> pl.DataFrame:
        # A result's first mark of a state counts, as in `tracks`.
        return marks.filter(pl.col("state") == state).unique("result_seq", keep="first", maintain_order=True) \
            .select(pl.col("result_seq").alias("seq"), pl.col("on").alias(name))

    versions = versions.join(first(APPROVED, "_approved"), on="seq", how="left") \
        .join(first(PUBLISHED, "published_on"), on="seq", how="left")
    latest = pl.col("seq") == pl.col("seq").max().over("visit_id")
    now = versions.filter(latest & pl.col("_approved").is_not_null() & pl.col("published_on").is_null())
    before = versions.filter(pl.col("published_on").is_not_null() & ~pl.col("visit_id").is_in(now["visit_id"].implode())) \
        .filter(pl.col("seq") == pl.col("seq").max().over("visit_id"))
    return pl.concat([now, before]).sort("n").select("n", "visit_id", "seq", *PUBLIC_FIELDS, "published_on")


def _read(ledger: Ledger, sql: str, args: tuple, schema: dict) -> pl.DataFrame:
    """A query's rows as a frame of this schema, read a chunk at a time."""
    return pl.concat([pl.DataFrame(rows, schema=schema, orient="row", strict=False) for rows in ledger.chunks(sql, args)]
                     or [pl.DataFrame(schema=schema)])


def _version(seq: int, values: list) -> Version:
    name, uscc, completed_on, categories, remarks = values
    return Version(seq, {"name": name, "uscc": uscc, "completed_on": completed_on, "categories": codes(categories),
                         "remarks": remarks})


@lru_cache(maxsize=1 << 12)
def codes(categories: str | None) -> tuple[str, ...]:
    """A body's categories as SQLite gives them (JSON text)."""
    return tuple(json.loads(categories or "[]"))
