"""The draw: from a policy and the entity directory to a random sample anyone can recompute.

Stages, each a column operation over the whole directory (no per-row Python):
1. scope and caps — who each task may draw (spotcheck.draw.pools);
2. strata and quotas — exact counts per stratum (spotcheck.draw.pools, spotcheck.draw.allocation);
3. ranking — each stratum takes the n smallest rank hashes (spotcheck.draw.ranking);
4. the files — transcript, summary, draws and eligible lists (spotcheck.draw.transcript).

A province has tens of millions of (task, entity) pairs, so they are never a table of strings: a pool
is row numbers into the directory, and the big CSV files are produced in pieces as they are written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

import polars as pl
from spotcheck.directory.load import EntityDirectory
from spotcheck.draw.commitment import Seed
from spotcheck.draw.applies import FILE as APPLIES
from spotcheck.draw.applies import applies_csv
from spotcheck.draw.folder import Content
from spotcheck.draw.history import history_csv
from spotcheck.draw.pools import (
    Pool,
    TaskPlan,
    check_counts,
    checked_rows,
    compile_scope,
    facts,
    plan_tasks,
    pool_for,
    reached_caps,
)
from spotcheck.draw.batches import draw_split, earlier_rows, schedule_words, split_pool
from spotcheck.draw.caps import EXCLUDED_COLUMNS, Checks
from spotcheck.draw.lookback import FILE as LOOKBACK
from spotcheck.draw.lookback import explain as explain_past
from spotcheck.draw.lookback import left_out, lookback_csv, past_words
from spotcheck.draw.ranking import PICKED, Ranking
from spotcheck.draw.records import Coordination, Summary, Transcript
from spotcheck.draw.transcript import (
    Codes,
    csv_pieces,
    eligible_part,
    eligible_pieces,
    json_bytes,
    make_summary,
    make_transcript,
)
from spotcheck.policy.cadence import keeping_order
from spotcheck.policy.lists import list_members, listed_words, with_lists
from spotcheck.policy.loaded import LoadedPolicy
from spotcheck.policy.model import effective_caps
from spotcheck.progress import Progress, silent
from spotcheck.rules.classes import classify


def _past(reached: dict[str, pl.Series], earlier: pl.Series | None) -> dict[str, pl.Series]:
    """The caps' reached rows, less the entities earlier batches drew: they are counted in the year's
    sample and left out as drawn before, not as capped."""
    if earlier is None:
        return reached
    return {cap: rows.filter(~rows.is_in(earlier.implode())) for cap, rows in reached.items()}


def _ranked_alike(plans: list) -> bool:
    """Whether the other coordination mode would draw exactly what this draw drew: a task outside every
    campaign ranks by its own unit in both modes, so when no task is in one, the summary's count for the
    other mode is this draw's own, and hashing every eligible pair again would only repeat it."""
    return all(p.campaign is None and not p.split for p in plans)


@dataclass(frozen=True)
class Draw:
    """Everything a draw produced; `files` are the exact contents written to the draw folder."""

    id: str
    seed: Seed
    drawn_on: dt.date
    # task_id, round, month, uscc, stratum, rank, hash, name, type, district, tier; None for a drill on Spark
    # whose rows stay there (spotcheck.draw.spark.counted): the summary counts them
    drawn: pl.DataFrame | None
    exclusions: pl.DataFrame  # task_id, uscc, cap_id, cap, recorded, this_draw, kept_by
    transcript: Transcript
    # The summary, or the summary still being made: its count for the other coordination mode hashes
    # every eligible pair again, on a thread of its own while the files are written.
    later_summary: Summary | Future[Summary]
    files: dict[str, Content]
    pools: tuple[Pool, ...]
    uscc: pl.Series  # the directory's codes, which pool rows index

    @property
    def summary(self) -> Summary:
        s = self.later_summary
        return s.result() if isinstance(s, Future) else s

    @property
    def eligible(self) -> pl.DataFrame:
        """task_id, stratum, uscc of every eligible pair, as eligible.csv lists them (built on demand)."""
        return pl.concat([eligible_part(pool, self.uscc, pool.rows, pool.stratum) for pool in self.pools])


def coordinated(plans: list[TaskPlan], distinct: int, count_other: Callable[[list[TaskPlan]], int]) -> Coordination:
    """The coordination the plans use, and the distinct entities drawn: by them (`distinct`), and by the
    same plans in the other mode (`count_other` counts what the plans given would draw)."""
    other = "independent" if all(p.coordination == "joint" for p in plans) else "joint"
    return Coordination(
        used=tuple(sorted({p.coordination for p in plans})),
        distinct_entities={
            "+".join(sorted({p.coordination for p in plans})): distinct,
            other: distinct if _ranked_alike(plans) else count_other([replace(p, coordination=other) for p in plans]),
        },
    )


def compute(
    loaded: LoadedPolicy,
    entities: EntityDirectory,
    history: pl.DataFrame,
    seed: Seed,
    drawn_on: dt.date,
    coordination_override: str | None = None,
    progress: Progress = silent,
    select: Mapping[str, tuple[int, ...]] | None = None,
    lookback: pl.DataFrame | None = None,
    ranking: Callable[..., Ranking] = Ranking,
) -> Draw:
    """Compute a draw. Pure: reads nothing but its arguments, writes nothing.

    `select` draws only some tasks and rounds (task id → round numbers), as a draw of what is due does.
    `ranking` makes the per-row keys and per-stratum top-n from (plans, pools, uscc, seed): the local
    engine's, or another over the same bytes (spotcheck.draw.spark).
    `lookback`: the past checks, earlier years' too, that "近N个月内未被抽查" and "每N年至少一次" read.
    """
    policy = loaded.policy
    caps = effective_caps(policy)
    compiled = compile_scope(loaded, caps, select, drawn_on)
    members = list_members(loaded)
    frame = with_lists(entities.frame, members)
    uscc = frame["uscc"]
    progress("按规则匹配抽查范围")
    checked = checked_rows(uscc, check_counts(history, caps))
    classes = classify(compiled, facts(frame, compiled, checked))
    reached = reached_caps(classes, checked, caps)

    plans = plan_tasks(loaded)
    if select is not None:
        plans = [replace(p, selected=tuple(select[p.task.id])) for p in plans if p.task.id in select]
    if coordination_override is not None:
        plans = [replace(p, coordination=coordination_override) for p in plans]
    past = [left_out(p.task, policy.year, drawn_on, lookback, uscc) for p in plans]
    leave = [[(rule.reason, found["_row"]) for rule, found in rules] for rules in past]
    first = []
    for done, plan in enumerate(plans):
        progress("划定各任务的抽查对象", done, len(plans))
        first.append(pool_for(plan, frame, classes, reached, caps, loaded, leave[done]))
    ranks = ranking(plans, [pool for pool, _ in first], uscc, seed)

    # Tasks take entities in the policy's order (or its cap_priority): what an earlier task drew counts
    # towards the caps of the later ones, so no entity leaves this draw with more checks than a cap allows.
    # The files list the tasks in the plan's order whatever the order of taking.
    checks = Checks(caps, classes, checked, [p.task for p in plans])
    earlier = {i: earlier_rows(history, p.task.id, uscc) for i, p in enumerate(plans) if p.split}
    taken: dict[int, tuple[Pool, pl.DataFrame, pl.DataFrame]] = {}
    for done, i in enumerate(keeping_order(policy.cap_priority, [p.task.id for p in plans])):
        plan, (pool, gone) = plans[i], first[i]
        progress("按随机数排序抽取", done, len(plans))
        # Split batches give an entity one check in all, in one of their months.
        months = {m for _, m in plan.drawn_rounds()[: 1 if plan.split else None]}
        if checks.binding(plan.task, months) or plan.split:
            pool, gone = pool_for(plan, frame, classes, _past(checks.reached(months), earlier.get(i)), caps, loaded, leave[i])
        if plan.split:
            pool, counts = split_pool(pool, earlier[i])
            part = draw_split(pool, ranks, counts)
        else:
            if plan.task.batches:
                pool.explain["batches"] = schedule_words(plan)
            part = ranks.draw_plan(plan, pool)
        checks.hold(plan.task, part)
        if plan.task.sampling.from_list is not None:
            pool.explain["list"] = listed_words(loaded, plan.task, members, pool.rows.len(), uscc)
        left = pl.concat([checks.explain(plan.task, months, gone, uscc), explain_past(plan.task, past[i], gone, uscc)])
        if past[i]:
            pool.explain["lookback"] = past_words(past[i], gone)
        taken[i] = (pool, left, part)
    pools = [taken[i][0] for i in range(len(plans))]
    excluded = [taken[i][1] for i in range(len(plans))]
    parts = [taken[i][2] for i in range(len(plans))]
    picked = pl.concat(parts) if parts else pl.DataFrame(schema=PICKED)
    shown = frame.select(pl.col(c).gather(picked["_row"]).cast(pl.String) for c in ("name", "type", "district", "tier"))
    drawn = pl.concat([picked.drop("_row"), shown], how="horizontal")
    # The other mode's count needs nothing the rest computes: it runs beside the records and the writing.
    counting = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spotcheck-other-mode")
    coordination = counting.submit(coordinated, plans, drawn["uscc"].n_unique(),
                                   lambda alt: ranking(alt, pools, uscc, seed).distinct(alt, pools, silent))
    exclusions = pl.concat(excluded) if excluded else pl.DataFrame(schema=EXCLUDED_COLUMNS)
    exclusions = exclusions.sort(["task_id", "uscc", "cap_id"])

    progress("生成抽取记录")
    files_hist = history_csv(history)
    codes = Codes(uscc, sum(pool.rows.len() for pool in pools))
    # A draw of what is due says which tasks and rounds it drew, so `verify` draws the same ones.
    selection = {p.task.id: tuple(r for r, _ in p.drawn_rounds()) for p in plans} if select is not None else None
    files_past = lookback_csv(lookback) if lookback is not None else None
    transcript = make_transcript(loaded, entities, seed, drawn_on, files_hist, pools, codes, selection, files_past)
    draw_id = transcript.draw_id
    summary = counting.submit(lambda: make_summary(loaded, entities, drawn, exclusions, pools, caps, draw_id, seed, coordination.result()))
    counting.shutdown(wait=False)
    drawn_out = drawn.select("task_id", "round", "month", "uscc", "name", "district", "tier", "stratum", "rank", "hash")
    files: dict[str, Content] = {
        "transcript.json": json_bytes(transcript.to_json()),
        "draws.csv": lambda: csv_pieces(drawn_out),
        "eligible.csv": lambda: eligible_pieces(pools, uscc),
        "history.csv": files_hist,
        "summary.json": lambda: [json_bytes(summary.result().to_json())],
        "excluded.csv": exclusions.write_csv().encode("utf-8"),
    }
    if files_past is not None:
        files[LOOKBACK] = files_past
    applies = applies_csv(loaded, frame, picked["_row"], drawn_on)
    if applies is not None:
        files[APPLIES] = applies
    return Draw(draw_id, seed, drawn_on, drawn, exclusions, transcript, summary, files, tuple(pools), uscc)
