"""Batches that split a task's sample: no entity in two batches, across separate draws.

The year's sample is counted as ever, on everyone the task may draw now (spotcheck.draw.pools); the
batches up to this one have drawn the cumulative share of it between them (policy.cadence.cumulative),
so this batch draws that less what earlier batches drew, from the entities not drawn by them. Earlier
batches are read from the history (the ledger's rows with this task's id), so a later draw excludes
them and `verify` recomputes the same from history.csv. Batches drawn together take one ranking
(the first batch's unit), the first batch the smallest hashes, so each stratum is still one top-n of
the eligible list.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from spotcheck.draw.allocation import Quota
from spotcheck.draw.pools import Pool, TaskPlan
from spotcheck.draw.ranking import PICKED, Ranking, as_picked
from spotcheck.policy.cadence import batch_counts, batch_words


def earlier_rows(history: pl.DataFrame, task_id: str, uscc: pl.Series) -> pl.Series:
    """Directory rows of the entities earlier batches of the task drew this year, as the history records them."""
    drawn = history.filter(pl.col("task_id") == task_id)["uscc"].unique()
    return uscc.is_in(drawn.implode()).arg_true().alias("_row")


def split_pool(pool: Pool, earlier: pl.Series) -> tuple[Pool, dict[str, list[int]]]:
    """The pool less the entities earlier batches drew, each stratum's quota now this draw's batches'
    share; and the count per stratum and batch this draw draws (in the order of its batches)."""
    gone = pool.rows.is_in(earlier.implode())
    kept = ~gone
    rows, stratum = pool.rows.filter(kept), pool.stratum.filter(kept)
    before = {name: int(gone.filter(pool.stratum == k).sum()) for k, name in enumerate(pool.strata)}
    positions = {name: (stratum == k).arg_true() for k, name in enumerate(pool.strata)}
    quotas, explain, counts = split_quotas(pool, before, {name: rows.len() for name, rows in positions.items()})
    return replace(pool, rows=rows, stratum=stratum, positions=positions, quotas=quotas, explain=explain), counts


def split_quotas(pool: Pool, before: dict[str, int], have: dict[str, int]
                 ) -> tuple[list[Quota], dict, dict[str, list[int]]]:
    """split_pool's quotas, words and counts per batch, from each stratum's count of rows earlier batches
    drew (`before`) and of rows left (`have`): a draw whose rows are on Spark counts them there."""
    plan = pool.plan
    task = plan.task
    upper = task.sampling.bound == "不高于"
    rounds = [r for r, _ in plan.drawn_rounds()]
    counts: dict[str, list[int]] = {}
    quotas, words = [], schedule_words(plan)
    for q in pool.quotas:
        each, asked, said = batch_counts(task.batches, upper, q.wanted, have[q.stratum], before[q.stratum], rounds)
        counts[q.stratum] = each
        quotas.append(Quota(q.stratum, have[q.stratum], q.ratio, asked, sum(each)))
        words.append(f"{q.stratum}：{said}")
    # The same numbers as fields, so the site's verify panel reads them rather than the sentence.
    year = {q.stratum: {"year": q.wanted, "earlier": before[q.stratum]} for q in pool.quotas}
    return quotas, {**pool.explain, "batches": words, "batch_counts": year}, counts


def schedule_words(plan: TaskPlan) -> list[str]:
    """The task's batches in the plan's words, and which of them this draw draws."""
    task = plan.task
    names = "、".join(task.batches[r - 1].name for r, _ in plan.drawn_rounds())
    return [batch_words(task.batch_mode or "repeat", task.batches), f"本次抽取：{names}"]


def draw_split(pool: Pool, ranking: Ranking, counts: dict[str, list[int]]) -> pl.DataFrame:
    """Each stratum's smallest hashes under the first batch's unit, handed out batch by batch."""
    plan = pool.plan
    chosen = plan.drawn_rounds()
    first = chosen[0][0]
    top = ranking.top(plan, first, pool)
    parts: dict[int, list[pl.DataFrame]] = {rnd: [] for rnd, _ in chosen}
    for q in pool.quotas:
        if q.drawn == 0:
            continue
        picked = top[q.stratum]
        start = 0
        for (rnd, month), n in zip(chosen, counts[q.stratum], strict=True):
            if n:
                parts[rnd].append(as_picked(picked.slice(start, n), plan, rnd, month, q.stratum))
            start += n
    drawn = [part for rnd, _ in chosen for part in parts[rnd]]
    return pl.concat(drawn) if drawn else pl.DataFrame(schema=PICKED)
