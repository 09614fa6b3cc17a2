"""The year's past checks as the draw reads them: the ledger's history rows, one per (entity, visit, task),
which the frequency caps count and the draw folder keeps as history.csv."""

from __future__ import annotations

import polars as pl

HISTORY_COLUMNS = {"uscc": pl.String, "visit_id": pl.String, "task_id": pl.String, "item_codes": pl.String}


def history_frame(rows: list[dict], year: int) -> pl.DataFrame:
    """The ledger's history rows for `year`, as the frame the caps read (and the draw folder keeps)."""
    frame = pl.DataFrame(
        [
            {
                "uscc": r["uscc"],
                "visit_id": r.get("visit_id") or r.get("draw_id") or "",
                "task_id": r.get("task_id") or "",
                "item_codes": "|".join(r.get("item_codes") or []),
            }
            for r in rows
            if int(r.get("year", year)) == year
        ],
        schema=HISTORY_COLUMNS,
    )
    return frame.unique().sort(["uscc", "visit_id", "task_id"])


def history_csv(history: pl.DataFrame) -> bytes:
    return history.write_csv().encode("utf-8")
