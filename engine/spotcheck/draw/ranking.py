"""Ranking: every eligible entity gets rank hash sha256("{key}|{unit}|{uscc}") and each stratum takes its
n smallest.

`unit` is "{campaign}|{round}" when the campaign coordinates its tasks (one permanent random number per
entity, so tasks overlap and become one visit) and "{task}|{round}|{stratum}" when tasks draw
independently. A per-row key plus a per-stratum top-n is a simple random sample, stable when
unrelated rows change, and partition-parallel. The ranking keeps the first 60 bits of each digest as
an integer; the full digest is computed for the chosen rows and breaks a tie at the n-th.
"""

from __future__ import annotations

import polars as pl
import polars_hash as plh
from spotcheck.draw.commitment import Seed
from spotcheck.draw.pools import Pool, TaskPlan
from spotcheck.progress import Progress

RANK_HASH = "sha256(key + '|' + unit + uscc), unit with {stratum} filled in; each stratum takes its n smallest hex digests"


def _joint(plan: TaskPlan) -> bool:
    return plan.coordination == "joint" and plan.campaign is not None


def _task_round(plan: TaskPlan, rnd: int) -> str:
    return f"{plan.task.id}|{rnd}|"


def rank_unit(plan: TaskPlan, rnd: int, stratum: str) -> str:
    """The unit of the rank hash; the transcript writes it with "{stratum}" for each stratum's name."""
    if _joint(plan):
        return f"{plan.campaign}|{rnd}|"
    return f"{_task_round(plan, rnd)}{stratum}|"


def _digest(parts: list[pl.Expr]) -> pl.Expr:
    """sha256 of the concatenated parts, as lowercase hex (polars-hash, equal to hashlib)."""
    return plh.concat_str(parts).chash.sha2_256()


def _digests(prefix: str, codes: pl.Series) -> pl.Series:
    """sha256(prefix + uscc), one per code."""
    return pl.select(_digest([pl.lit(prefix), pl.lit(codes)]).alias("hash")).to_series()


def _sort_keys(prefix: str, codes: pl.Series, strata: pl.Series | None = None) -> pl.Series:
    """The first 60 bits of each digest as an integer: orders like the digest, without keeping 64 hex characters a row.

    With `strata`, each row's message is prefix + its stratum + "|" + uscc (an independent task's unit).
    """
    frame = codes.to_frame("uscc")
    parts = [pl.lit(prefix), pl.col("uscc")]
    if strata is not None:
        frame = frame.with_columns(strata.alias("stratum"))
        parts = [pl.lit(prefix), pl.col("stratum"), pl.lit("|"), pl.col("uscc")]
    # Streaming keeps only a batch of hex digests in memory at a time.
    return frame.lazy().select(_digest(parts).str.slice(0, 15).str.to_integer(base=16).alias("k")).collect(engine="streaming").to_series()


def _smallest(rows: pl.Series, keys: pl.Series, n: int) -> tuple[pl.Series, pl.Series]:
    """The rows with the n smallest keys, and any rows tied with the n-th (their digests decide); with their keys."""
    if n >= rows.len():
        return rows, keys
    inside = keys <= keys.bottom_k(n).max()
    return rows.filter(inside), keys.filter(inside)


class Ranking:
    """Rank hashes for a set of plans; a joint campaign's per-entity keys are computed once and shared."""

    def __init__(self, plans: list[TaskPlan], pools: list[Pool], uscc: pl.Series, seed: Seed) -> None:
        self.uscc, self.seed = uscc, seed
        need: dict[str, list[pl.Series]] = {}
        for plan, pool in zip(plans, pools, strict=True):
            for rnd, _month in plan.drawn_rounds():
                if _joint(plan):
                    need.setdefault(rank_unit(plan, rnd, ""), []).append(pool.rows)
        self.joint: dict[str, pl.Series] = {}
        for unit, parts in need.items():
            wanted = pl.repeat(False, uscc.len(), dtype=pl.Boolean, eager=True)
            for rows in parts:
                wanted.scatter(rows, True)
            rows = wanted.arg_true()
            keys = _sort_keys(self.prefix(unit), uscc.gather(rows))
            self.joint[unit] = pl.zeros(uscc.len(), pl.Int64, eager=True).scatter(rows, keys)

    def prefix(self, unit: str) -> str:
        return f"{self.seed.key}|{unit}"

    def keys(self, plan: TaskPlan, rnd: int, pool: Pool) -> pl.Series:
        """The sort key of every row of the pool for one round, in one pass over the pool."""
        unit = rank_unit(plan, rnd, "")
        if unit in self.joint:
            return self.joint[unit].gather(pool.rows)
        # The unit is "{task}|{round}|{stratum}|": each row's stratum goes between prefix and code.
        strata = pl.Series(pool.strata, dtype=pl.String).gather(pool.stratum)
        return _sort_keys(self.prefix(_task_round(plan, rnd)), self.uscc.gather(pool.rows), strata)

    def take(self, unit: str, rows: pl.Series, keys: pl.Series, n: int) -> pl.DataFrame:
        """The n rows with the smallest digests, in digest order: _row, uscc, rank, hash."""
        chosen, chosen_keys = _smallest(rows, keys, n)
        codes = self.uscc.gather(chosen)
        ranked = pl.DataFrame(
            [chosen.alias("_row"), codes.alias("uscc"), _digests(self.prefix(unit), codes), chosen_keys.alias("_k")]
        )
        # The key is the digest's first 60 bits, so (key, digest) sorts as the digest does, and faster.
        ranked = ranked.sort(["_k", "hash"]).head(n).drop("_k")
        return ranked.with_columns(pl.int_range(1, n + 1, dtype=pl.Int64).alias("rank"))

    def draw_plan(self, plan: TaskPlan, pool: Pool) -> pl.DataFrame:
        return draw_plan(plan, pool, self)

    def top(self, plan: TaskPlan, rnd: int, pool: Pool) -> dict[str, pl.DataFrame]:
        """Each drawn stratum's n smallest under round `rnd`'s unit, as `take` gives them."""
        keys = self.keys(plan, rnd, pool)
        out = {}
        for q in pool.quotas:
            if q.drawn:
                at = pool.positions[q.stratum]
                out[q.stratum] = self.take(rank_unit(plan, rnd, q.stratum), pool.rows.gather(at), keys.gather(at), q.drawn)
        return out

    def distinct(self, plans: list[TaskPlan], pools: list[Pool], progress: Progress) -> int:
        return distinct_drawn(plans, pools, self, progress)

    def chosen(self, unit: str, rows: pl.Series, keys: pl.Series, n: int) -> pl.Series:
        """Only which rows `take` would choose; digests are computed only to break a tie at the n-th."""
        chosen, chosen_keys = _smallest(rows, keys, n)
        if chosen.len() <= n:
            return chosen
        return self.take(unit, chosen, chosen_keys, n)["_row"]


PICKED = {"task_id": pl.String, "round": pl.Int64, "month": pl.Int64, "_row": pl.UInt32, "uscc": pl.String,
           "stratum": pl.String, "rank": pl.Int64, "hash": pl.String}


def draw_plan(plan: TaskPlan, pool: Pool, ranking: Ranking) -> pl.DataFrame:
    """Each stratum's n smallest rank hashes, per round the draw draws."""
    parts = []
    for rnd, month in plan.drawn_rounds():
        keys = ranking.keys(plan, rnd, pool)
        for q in pool.quotas:
            if q.drawn == 0:
                continue
            at = pool.positions[q.stratum]
            picked = ranking.take(rank_unit(plan, rnd, q.stratum), pool.rows.gather(at), keys.gather(at), q.drawn)
            parts.append(as_picked(picked, plan, rnd, month, q.stratum))
    return pl.concat(parts) if parts else pl.DataFrame(schema=PICKED)


def as_picked(ranked: pl.DataFrame, plan: TaskPlan, rnd: int, month: int, stratum: str) -> pl.DataFrame:
    """Rows `Ranking.take` chose, as drawn rows of one round of the task (the PICKED columns)."""
    return ranked.select(
        pl.lit(plan.task.id).alias("task_id"),
        pl.lit(rnd).cast(pl.Int64).alias("round"),
        pl.lit(month).cast(pl.Int64).alias("month"),
        "_row",
        "uscc",
        pl.lit(stratum).alias("stratum"),
        "rank",
        "hash",
    )


def distinct_drawn(plans: list[TaskPlan], pools: list[Pool], ranking: Ranking, progress: Progress) -> int:
    """How many distinct entities the plans would draw (the other coordination mode, for the summary)."""
    parts = []
    for done, (plan, pool) in enumerate(zip(plans, pools, strict=True)):
        progress("按另一种协同方式对照抽取（用于统计）", done, len(plans))
        for rnd in dict.fromkeys(plan.unit_round(r) for r, _ in plan.drawn_rounds()):
            keys = ranking.keys(plan, rnd, pool)
            for q in pool.quotas:
                if q.drawn:
                    at = pool.positions[q.stratum]
                    parts.append(ranking.chosen(rank_unit(plan, rnd, q.stratum), pool.rows.gather(at), keys.gather(at), q.drawn))
    return pl.concat(parts).n_unique() if parts else 0
