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
from dataclasses import dataclass

import polars as pl
from spotcheck.directory.load import EntityDirectory
from spotcheck.draw.commitment import Seed
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
from spotcheck.draw.ranking import Ranking, distinct_drawn, draw_ranked
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
from spotcheck.policy.loaded import LoadedPolicy
from spotcheck.policy.model import effective_caps
from spotcheck.progress import Progress, silent
from spotcheck.rules.classes import classify


@dataclass(frozen=True)
class Draw:
    """Everything a draw produced; `files` are the exact contents written to the draw folder."""

    id: str
    seed: Seed
    drawn_on: dt.date
    drawn: pl.DataFrame  # task_id, round, month, uscc, stratum, rank, hash, name, type, district, tier
    exclusions: pl.DataFrame  # task_id, uscc, cap_id
    transcript: Transcript
    summary: Summary
    files: dict[str, Content]
    pools: tuple[Pool, ...]
    uscc: pl.Series  # the directory's codes, which pool rows index

    @property
    def eligible(self) -> pl.DataFrame:
        """task_id, stratum, uscc of every eligible pair, as eligible.csv lists them (built on demand)."""
        return pl.concat([eligible_part(pool, self.uscc, pool.rows, pool.stratum) for pool in self.pools])


def compute(
    loaded: LoadedPolicy,
    entities: EntityDirectory,
    history: pl.DataFrame,
    seed: Seed,
    drawn_on: dt.date,
    coordination_override: str | None = None,
    progress: Progress = silent,
) -> Draw:
    """Compute a draw. Pure: reads nothing but its arguments, writes nothing."""
    policy = loaded.policy
    caps = effective_caps(policy)
    compiled = compile_scope(loaded, caps)
    frame = entities.frame
    uscc = frame["uscc"]
    progress("按规则匹配抽查范围")
    checked = checked_rows(uscc, check_counts(history, caps))
    classes = classify(compiled, facts(frame, compiled, checked))
    reached = reached_caps(classes, checked, caps)

    plans = plan_tasks(loaded)
    if coordination_override is not None:
        plans = [TaskPlan(p.task, p.campaign, coordination_override, p.rounds, p.months) for p in plans]
    pools, gone = [], []
    for done, plan in enumerate(plans):
        progress("划定各任务的抽查对象", done, len(plans))
        pool, excluded = pool_for(plan, frame, classes, reached, caps, loaded)
        pools.append(pool)
        gone.append(excluded)

    progress("按随机数排序抽取")
    picked = draw_ranked(plans, pools, Ranking(plans, pools, uscc, seed), progress)
    shown = frame.select(pl.col(c).gather(picked["_row"]).cast(pl.String) for c in ("name", "type", "district", "tier"))
    drawn = pl.concat([picked.drop("_row"), shown], how="horizontal")
    other = "independent" if all(p.coordination == "joint" for p in plans) else "joint"
    alt_plans = [TaskPlan(p.task, p.campaign, other, p.rounds, p.months) for p in plans]
    coordination = Coordination(
        used=tuple(sorted({p.coordination for p in plans})),
        distinct_entities={
            "+".join(sorted({p.coordination for p in plans})): drawn["uscc"].n_unique(),
            other: distinct_drawn(alt_plans, pools, Ranking(alt_plans, pools, uscc, seed), progress),
        },
    )
    exclusions = (
        pl.concat(gone)
        .with_columns(uscc.gather(pl.concat(gone)["_row"]).alias("uscc"))
        .select("task_id", "uscc", "cap_id")
        .sort(["task_id", "uscc"])
    )

    progress("生成抽取记录")
    files_hist = history_csv(history)
    codes = Codes(uscc)
    transcript = make_transcript(loaded, entities, seed, drawn_on, files_hist, pools, codes)
    summary = make_summary(loaded, entities, drawn, exclusions, pools, caps, transcript.draw_id, seed, coordination)
    drawn_out = drawn.select("task_id", "round", "month", "uscc", "name", "district", "tier", "stratum", "rank", "hash")
    files: dict[str, Content] = {
        "transcript.json": json_bytes(transcript.to_json()),
        "draws.csv": lambda: csv_pieces(drawn_out),
        "eligible.csv": lambda: eligible_pieces(pools, uscc),
        "history.csv": files_hist,
        "summary.json": json_bytes(summary.to_json()),
    }
    return Draw(transcript.draw_id, seed, drawn_on, drawn, exclusions, transcript, summary, files, tuple(pools), uscc)
