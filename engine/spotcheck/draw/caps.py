"""Caps that hold within one draw as well as across the year.

A cap counts checks: distinct visits, and one entity's tasks in one month of one draw are one visit
(the history's visit key). The history (everything drawn, planned or done before this draw) gives
each entity's recorded checks; this module adds the checks the draw itself has already given it.
Tasks are drawn in the policy's order, or first the tasks its cap_priority lists, so an earlier task
keeps an entity and a later task that would give it one check too many leaves it out, naming the cap
and the tasks that kept it.

A task drawing several rounds in one draw takes an entity only if it can take every one of those
rounds within the cap: the pool is shared by the rounds, which keeps each round a plain top-n of one
eligible list (recomputable from eligible.csv alone).
"""

from __future__ import annotations

import polars as pl

from spotcheck.policy.model import Cap, Task
from spotcheck.rules.classes import Classes

EXCLUDED_COLUMNS = {
    "task_id": pl.String, "uscc": pl.String, "cap_id": pl.String, "cap": pl.String,
    "recorded": pl.Int64, "this_draw": pl.Int64, "kept_by": pl.String,
}
_HELD = {"_row": pl.UInt32, "month": pl.Int64, "task_id": pl.String}


def counts_for(cap: Cap, task: Task) -> bool:
    """Whether a check by `task` counts towards `cap` (a cap limited to items counts only tasks with them)."""
    return not cap.items or bool(set(cap.items) & set(task.items))


class Checks:
    """Each capped entity's checks: recorded before the draw and held by the tasks drawn so far."""

    def __init__(self, caps: list[Cap], classes: Classes, checked: pl.DataFrame, tasks: list[Task]) -> None:
        self.caps = caps
        self.tasks = {t.id: t for t in tasks}
        self.applies = {c.id: classes.holds(f"cap:{c.id}") for c in caps}
        self.recorded = {
            c.id: checked.select(pl.col("_row").cast(pl.UInt32), pl.col(f"_n:{c.id}").cast(pl.Int64).alias("recorded"))
            for c in caps
        }
        self.held = pl.DataFrame(schema=_HELD)

    def binding(self, task: Task, months: set[int]) -> bool:
        """Whether this draw's own checks can matter for `task` (otherwise the recorded ones decide alone)."""
        counted = any(counts_for(c, task) for c in self.caps)
        return counted and (self.held.height > 0 or len(months) > 1)

    def _held_for(self, cap: Cap) -> pl.DataFrame:
        ids = [t for t, task in self.tasks.items() if counts_for(cap, task)]
        return self.held.filter(pl.col("task_id").is_in(ids))

    def _totals(self, cap: Cap, months: set[int]) -> pl.DataFrame:
        """_row, recorded, this_draw (checks this draw already gave it in other months), kept_by."""
        held = self._held_for(cap)
        other = (
            held.group_by("_row")
            .agg(
                pl.col("month").filter(~pl.col("month").is_in(list(months))).n_unique().cast(pl.Int64).alias("this_draw"),
                pl.col("task_id").unique().sort().str.join("|").alias("kept_by"),
            )
        )
        both = self.recorded[cap.id].join(other, on="_row", how="full", coalesce=True)
        return both.with_columns(pl.col("recorded").fill_null(0), pl.col("this_draw").fill_null(0), pl.col("kept_by").fill_null(""))

    def reached(self, months: set[int]) -> dict[str, pl.Series]:
        """Per cap: the rows it applies to that taking every round in `months` would put over it."""
        out = {}
        for cap in self.caps:
            applies = self.applies[cap.id]
            if len(months) > cap.max_per_year:
                out[cap.id] = applies.arg_true().cast(pl.UInt32)
                continue
            totals = self._totals(cap, months)
            over = totals.filter(pl.col("recorded") + pl.col("this_draw") + len(months) > cap.max_per_year)["_row"]
            out[cap.id] = over.filter(applies.gather(over)).sort()
        return out

    def explain(self, task: Task, months: set[int], gone: pl.DataFrame, uscc: pl.Series) -> pl.DataFrame:
        """The pairs a task left out (_row, cap_id), with the cap's name and what it counted."""
        parts = []
        for cap in self.caps:
            rows = gone.filter(pl.col("cap_id") == cap.id).select(pl.col("_row").cast(pl.UInt32))
            if rows.height == 0:
                continue
            detail = rows.join(self._totals(cap, months), on="_row", how="left").with_columns(
                pl.col("recorded").fill_null(0), pl.col("this_draw").fill_null(0), pl.col("kept_by").fill_null("")
            )
            parts.append(
                detail.select(
                    pl.lit(task.id).alias("task_id"),
                    uscc.gather(detail["_row"]).alias("uscc"),
                    pl.lit(cap.id).alias("cap_id"),
                    pl.lit(cap.name).alias("cap"),
                    "recorded",
                    "this_draw",
                    "kept_by",
                )
            )
        return pl.concat(parts) if parts else pl.DataFrame(schema=EXCLUDED_COLUMNS)

    def hold(self, task: Task, picked: pl.DataFrame) -> None:
        """Count the task's drawn rows (with their months) for the tasks drawn after it."""
        if not any(counts_for(c, task) for c in self.caps) or picked.height == 0:
            return
        add = picked.select(pl.col("_row").cast(pl.UInt32), pl.col("month").cast(pl.Int64), pl.lit(task.id).alias("task_id"))
        self.held = pl.concat([self.held, add])
