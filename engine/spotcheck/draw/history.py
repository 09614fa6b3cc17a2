"""The year's past checks: the ledger's history rows, one per (entity, visit, task), which the frequency
caps count and the draw folder keeps as history.csv; and the rows a draw and its plan add."""

from __future__ import annotations

from collections.abc import Mapping

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


def visit_key(draw_id: str, month: int, uscc: str) -> str:
    """What a check is counted by: one per entity per month of a draw, so tasks merged into one visit
    count once (the caps count distinct keys)."""
    return f"{draw_id}|{month}|{uscc}"


def history_rows(policy: Policy, draw_id: str, drawn: pl.DataFrame,
                 leads: Mapping[tuple[str, str], str] | None = None) -> list[dict]:
    """The history rows of a draw's drawn rows (task_id, uscc, tier, month). With `leads`
    ((uscc, task_id) → lead inspector, from the plan), only the rows with a lead, carrying it."""
    items = {t.id: list(t.items) for t in policy.tasks}
    rows = []
    for r in drawn.select("task_id", "uscc", "tier", "month").iter_rows(named=True):
        row = {
            "uscc": r["uscc"], "year": policy.year, "task_id": r["task_id"], "item_codes": items[r["task_id"]],
            "tier": r["tier"], "draw_id": draw_id, "visit_id": visit_key(draw_id, r["month"], r["uscc"]),
        }
        if leads is not None:
            lead = leads.get((r["uscc"], r["task_id"]))
            if lead is None:
                continue
            row["lead_inspector"] = lead
        rows.append(row)
    return rows
