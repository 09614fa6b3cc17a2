"""The year's past checks: the ledger's history rows, one per (entity, visit, task), which the frequency
caps count and the draw folder keeps as history.csv; and the rows a draw and its plan add."""

from __future__ import annotations

import polars as pl
from spotcheck.policy.model import Policy

HISTORY_COLUMNS = {"uscc": pl.String, "visit_id": pl.String, "task_id": pl.String, "item_codes": pl.String}


def history_frame(rows: list[dict], year: int) -> pl.DataFrame:
    """The ledger's history rows for `year`, as the frame the caps read (and the draw folder keeps)."""
    frame = pl.DataFrame(
        [
            {
                "uscc": r["uscc"],
                "visit_id": r.get("visit_id") or r.get("draw_id") or _own_visit(r),
                "task_id": r.get("task_id") or "",
                "item_codes": "|".join(r.get("item_codes") or []),
            }
            for r in rows
            if int(r.get("year", year)) == year
        ],
        schema=HISTORY_COLUMNS,
    )
    return frame.unique().sort(["uscc", "visit_id", "task_id"])


def _own_visit(row: dict) -> str:
    """A visit key for a check recorded without one (a past check brought in from another system): one
    entity's checks on one day are one visit, and a check without a date is a visit of its own. Left
    empty, every such check of an entity would count as one."""
    if row.get("checked_on"):
        return f"{row['uscc']}|{row['checked_on']}"
    return f"record {row.get('seq', '')}.{row.get('row_no', '')}"


def history_csv(history: pl.DataFrame) -> bytes:
    return history.write_csv().encode("utf-8")


def history_rows(policy: Policy, draw_id: str, drawn: pl.DataFrame, leads: pl.DataFrame | None = None) -> pl.DataFrame:
    """The history rows of a draw's drawn rows (task_id, uscc, tier, month), in their order, as a frame of the
    ledger's history fields. With `leads` (uscc, task_id, lead_inspector: one per pair, from the plan), only
    the rows with a lead, carrying it."""
    items = pl.DataFrame({"task_id": [t.id for t in policy.tasks], "item_codes": [list(t.items) for t in policy.tasks]},
                         schema={"task_id": pl.String, "item_codes": pl.List(pl.String)})
    rows = drawn.select("task_id", "uscc", "tier", "month")
    if leads is None:
        rows = rows.with_columns(pl.lit(None, pl.String).alias("lead_inspector"))
    else:
        rows = rows.join(leads.select("uscc", "task_id", "lead_inspector"), on=["uscc", "task_id"], maintain_order="left")
    return rows.join(items, on="task_id", how="left", maintain_order="left").select(
        "uscc", pl.lit(policy.year, pl.Int64).alias("year"), "task_id", "item_codes", pl.col("tier").cast(pl.String),
        pl.lit(draw_id, pl.String).alias("draw_id"),
        # What a check is counted by: one per entity per month of a draw, so tasks merged into one visit count
        # once (the caps count distinct keys).
        pl.concat_str(pl.lit(f"{draw_id}|"), pl.col("month").cast(pl.String), pl.lit("|"), "uscc").alias("visit_id"),
        pl.col("lead_inspector").cast(pl.String), pl.lit(None, pl.String).alias("checked_on"))
