"""What each results step reads of the ledger, field by field in SQLite, rather than whole records.

`records.tracks` gives every visit's full story as records (the status list, the public site, the
results lists use it). A city's year is hundreds of thousands of results, each three records: approving
needs only each visit's latest result and its state, and the report a few fields of each, so these
readers ask SQLite for exactly those fields (`Ledger.fields`) and answer as `tracks` would (the tests
compare them on every state).
"""

from __future__ import annotations

import datetime as dt
import gc
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

import polars as pl

from spotcheck.draw.reader import DrawFolder, Visit
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


def entered(folder: DrawFolder, ledger: Ledger) -> dict[str, tuple[int, str]]:
    """Each visit's latest result of the draw (its seq) and that result's state, as `tracks` gives them."""
    latest = {key: seq for seq, key in ledger.fields("result", (), where={"draw_id": folder.draw_id})
              if key in folder.visit_ids}
    marks: dict[int, set[str]] = {}
    for _, _, result_seq, state in ledger.fields("result_state", ("result_seq", "state")):
        marks.setdefault(result_seq, set()).add(state)
    return {vid: (seq, PUBLISHED if PUBLISHED in (m := marks.get(seq, ())) else APPROVED if APPROVED in m else "录入")
            for vid, seq in latest.items()}


@dataclass(frozen=True, slots=True)
class Progress:
    """What the year's report needs of one visit's result: a Track's answers without its records."""

    visit: Visit
    completed_on: dt.date | None  # of the latest result; None before one is entered
    needs_follow_up: bool
    follow_up_closed_on: dt.date | None
    first_published: tuple[dt.date, dt.date] | None  # (completion date of the first version published, published on)


def progress(folder: DrawFolder, ledger: Ledger) -> list[Progress]:
    """One Progress per visit of the draw, in visit order, as `tracks` would answer."""
    with bulk():
        versions: dict[str, list[tuple[int, str]]] = {}
        latest: dict[str, tuple[str, str | None, str | None]] = {}
        for seq, key, completed, categories, actions in ledger.fields(
                "result", ("completed_on", "categories", "actions"), where={"draw_id": folder.draw_id}):
            if key in folder.visits:
                versions.setdefault(key, []).append((seq, completed))
                latest[key] = (completed, categories, actions)
        published: dict[int, str] = {}
        for _, _, result_seq, state, on in ledger.fields("result_state", ("result_seq", "state", "on")):
            if state == PUBLISHED:
                published.setdefault(result_seq, on)
        closed: dict[str, str | None] = {}
        for _, key, state, closed_on in ledger.fields("follow_up", ("state", "closed_on")):
            closed[key] = closed_on if state == "closed" else None
        out = []
        for vid, visit in folder.visits.items():
            first = next(((_day(c), _day(published[seq])) for seq, c in versions.get(vid, ()) if seq in published), None)
            completed, categories, actions = latest.get(vid, (None, None, None))
            out.append(Progress(visit, _day(completed) if completed else None,
                                completed is not None and _problem_found(categories, actions),
                                _day(closed[vid]) if closed.get(vid) else None, first))
    return out


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


SHOWN_SCHEMA = {"seq": pl.Int64, "visit_id": pl.String, **{f: pl.String for f in PUBLIC_FIELDS}}


def shown_frame(folder: DrawFolder, ledger: Ledger) -> pl.DataFrame:
    """`shown` as columns, without a Python object per visit: n (the visit's place in visits.csv),
    visit_id, seq, the PUBLIC_FIELDS as SQLite gives them (categories as JSON text) and published_on (null
    when it is published now)."""
    order = folder.visit_frame.select(pl.col("visit_id"), pl.int_range(pl.len(), dtype=pl.Int64).alias("n"))
    versions = pl.DataFrame(ledger.fields("result", PUBLIC_FIELDS, where={"draw_id": folder.draw_id}),
                            schema=SHOWN_SCHEMA, orient="row").join(order, on="visit_id")
    marks = pl.DataFrame(ledger.fields("result_state", ("result_seq", "state", "on")),
                         schema={"_seq": pl.Int64, "_key": pl.String, "seq": pl.Int64, "state": pl.String,
                                 "on": pl.String}, orient="row", strict=False)

    def first(state: str, name: str) -> pl.DataFrame:
        # A result's first mark of a state counts, as in `tracks`.
        return marks.filter(pl.col("state") == state).unique("seq", keep="first", maintain_order=True) \
            .select("seq", pl.col("on").alias(name))

    versions = versions.join(first(APPROVED, "_approved"), on="seq", how="left") \
        .join(first(PUBLISHED, "published_on"), on="seq", how="left")
    latest = pl.col("seq") == pl.col("seq").max().over("visit_id")
    now = versions.filter(latest & pl.col("_approved").is_not_null() & pl.col("published_on").is_null())
    before = versions.filter(pl.col("published_on").is_not_null() & ~pl.col("visit_id").is_in(now["visit_id"].implode())) \
        .filter(pl.col("seq") == pl.col("seq").max().over("visit_id"))
    return pl.concat([now, before]).sort("n").select("n", "visit_id", "seq", *PUBLIC_FIELDS, "published_on")


def _version(seq: int, values: list) -> Version:
    name, uscc, completed_on, categories, remarks = values
    return Version(seq, {"name": name, "uscc": uscc, "completed_on": completed_on, "categories": codes(categories),
                         "remarks": remarks})


@lru_cache(maxsize=1 << 12)
def codes(categories: str | None) -> tuple[str, ...]:
    """A body's categories as SQLite gives them (JSON text)."""
    return tuple(json.loads(categories or "[]"))


_day = lru_cache(maxsize=1 << 12)(dt.date.fromisoformat)


@lru_cache(maxsize=1 << 12)
def _problem_found(categories: str | None, actions: str | None) -> bool:
    """needs_follow_up of a body's categories and actions as SQLite gives them (JSON text)."""
    return needs_follow_up({"categories": json.loads(categories or "[]"), "actions": json.loads(actions or "[]")})
