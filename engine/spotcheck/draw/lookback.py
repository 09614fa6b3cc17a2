"""Past checks the frequency rules look back on: "近12个月内未被抽查的", "每3年至少抽查一次".

They read the ledger's history over the years they need (earlier years' rows too: a bureau keeps one
ledger across years, or imports the national system's export with `spotcheck ledger import-history`).
A draw whose policy has such a rule keeps what it read as lookback.csv (code, date counted from, item
codes) and commits to it with the history, so `verify` recomputes the same exclusions. Each row's date
follows spotcheck.policy.cadence.check_date.
"""

from __future__ import annotations

import datetime as dt
import io

import polars as pl

from spotcheck.draw.caps import EXCLUDED_COLUMNS
from spotcheck.policy.cadence import Lookback, check_date, lookback_years, lookbacks
from spotcheck.policy.model import Policy, Task

FILE = "lookback.csv"
LOOKBACK_COLUMNS = {"uscc": pl.String, "checked_on": pl.Date, "item_codes": pl.String}


def _draw_month(row: dict) -> int | None:
    """The month of the draw a drawn or planned check belongs to, from its visit id (draw|month|uscc)."""
    parts = (row.get("visit_id") or "").split("|")
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() and 1 <= int(parts[1]) <= 12 else None


def lookback_frame(rows: list[dict], policy: Policy) -> pl.DataFrame | None:
    """The past checks the policy's rules read, one row per (entity, date, items); None when no rule reads any."""
    first = lookback_years(policy)
    if first is None:
        return None
    picked = [
        {"uscc": r["uscc"], "checked_on": check_date(int(r["year"]), _day(r.get("checked_on")), _draw_month(r)),
         "item_codes": "|".join(r.get("item_codes") or [])}
        for r in rows if first <= int(r["year"]) <= policy.year
    ]
    return pl.DataFrame(picked, schema=LOOKBACK_COLUMNS).unique().sort(["uscc", "checked_on", "item_codes"])


def _day(value: object) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value) if isinstance(value, str) and value else None


def lookback_csv(frame: pl.DataFrame) -> bytes:
    return frame.write_csv().encode("utf-8")


def read_lookback(data: bytes) -> pl.DataFrame:
    return pl.read_csv(io.BytesIO(data), schema=LOOKBACK_COLUMNS)


def _counted(frame: pl.DataFrame, rule: Lookback) -> pl.DataFrame:
    """Per entity, its checks the rule counts: dated after the rule's day, with one of its items if it names any."""
    hits = frame.filter(pl.col("checked_on") > rule.after)
    if rule.items:
        hits = hits.filter(pl.col("item_codes").str.split("|").list.eval(pl.element().is_in(list(rule.items))).list.any())
    return hits.group_by("uscc").agg(pl.len().cast(pl.Int64).alias("recorded"))


def left_out(task: Task, year: int, on: dt.date, frame: pl.DataFrame | None, uscc: pl.Series) -> list[tuple[Lookback, pl.DataFrame]]:
    """Per rule of the task: the directory rows it leaves out (_row) with the checks it counted (recorded)."""
    if frame is None:
        return []
    out = []
    for rule in lookbacks(task, year, on):
        counted = _counted(frame, rule)
        rows = uscc.is_in(counted["uscc"].implode()).arg_true().alias("_row")
        found = pl.DataFrame([rows, uscc.gather(rows).alias("uscc")]).join(counted, on="uscc", how="left")
        out.append((rule, found.select("_row", "recorded")))
    return out


def past_words(rules: list[tuple[Lookback, pl.DataFrame]], gone: pl.DataFrame) -> list[str]:
    """How many each rule left out, in the plan's words, for summary.json."""
    return [f"{rule.name}的{gone.filter(pl.col('cap_id') == rule.reason).height}户不抽取" for rule, _ in rules]


def explain(task: Task, rules: list[tuple[Lookback, pl.DataFrame]], gone: pl.DataFrame, uscc: pl.Series) -> pl.DataFrame:
    """The pairs the task's lookback rules left out, as excluded.csv lists them (the rule for the cap)."""
    parts = []
    for rule, found in rules:
        rows = gone.filter(pl.col("cap_id") == rule.reason).select(pl.col("_row").cast(pl.UInt32))
        if rows.height == 0:
            continue
        detail = rows.join(found.with_columns(pl.col("_row").cast(pl.UInt32)), on="_row", how="left")
        parts.append(detail.select(
            pl.lit(task.id).alias("task_id"),
            uscc.gather(detail["_row"]).alias("uscc"),
            pl.lit(rule.reason).alias("cap_id"),
            pl.lit(rule.name).alias("cap"),
            pl.col("recorded").fill_null(0),
            pl.lit(0, pl.Int64).alias("this_draw"),
            pl.lit("").alias("kept_by"),
        ))
    return pl.concat(parts) if parts else pl.DataFrame(schema=EXCLUDED_COLUMNS)
