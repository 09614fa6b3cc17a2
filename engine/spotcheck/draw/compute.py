"""The draw: from a policy and the entity directory to a random sample anyone can recompute.

Stages, each a column operation over the whole directory (no per-row Python):
1. scope — which tasks each entity falls in, and which caps apply to it, decided by the rules engine
   once per distinct class of entity (spotcheck.rules.engine) and looked up through each row's class;
2. caps — entities whose checks this year (from the ledger's history) reach a cap are excluded, with
   the cap named;
3. strata and quotas — per task and stratum (tier, and district where the task says so), exact counts
   (spotcheck.draw.allocation);
4. ranking — every eligible entity gets rank hash sha256("{key}|{unit}|{uscc}") and each stratum takes
   its n smallest. `unit` is "{campaign}|{round}" when the campaign coordinates its tasks (one
   permanent random number per entity, so tasks overlap and become one visit) and
   "{task}|{round}|{stratum}" when tasks draw independently. A per-row key plus a per-stratum top-n is
   a simple random sample, stable when unrelated rows change, and partition-parallel.

A province has tens of millions of (task, entity) pairs, so they are never a table of strings: a pool
is row numbers into the directory, the ranking keeps the first 60 bits of each digest as an integer
(the full digest is computed for the chosen rows, and breaks a tie at the n-th), and the big CSV files
are produced in pieces as they are written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction

import numpy as np
import polars as pl
import polars_hash as plh
from spotcheck.version import engine_version
from spotcheck.rules import engine as rules
from spotcheck.draw.allocation import Quota, by_ratio, by_weight
from spotcheck.rules.classes import Classes, classify
from spotcheck.draw.caps import EXCLUDED_COLUMNS, Checks
from spotcheck.draw.commitment import Seed, canonical, sha256_text
from spotcheck.directory.load import EntityDirectory
from spotcheck.rules.fields import OPERATING_STATUSES
from spotcheck.draw.applies import FILE as APPLIES
from spotcheck.draw.applies import applies_csv
from spotcheck.draw.folder import Content
from spotcheck.policy.loader import LoadedPolicy
from spotcheck.policy.model import Cap, Task, coverage_kinds, effective_caps, percent_fraction
from spotcheck.policy.sampling import (
    SampleClass,
    base_comparison,
    sampling_text,
    size_rule,
    stratum_ratio,
    stratum_weight,
    total_for,
)
from spotcheck.progress import Progress, silent

FORMAT = "spotcheck-draw/1"
HISTORY_COLUMNS = {"uscc": pl.String, "visit_id": pl.String, "task_id": pl.String, "item_codes": pl.String}


@dataclass(frozen=True)
class TaskPlan:
    task: Task
    campaign: str | None
    coordination: str  # "joint" or "independent"
    rounds: int
    months: tuple[int, ...]  # month of each round
    selected: tuple[int, ...] = ()  # the rounds this draw draws (all of them when empty)

    def drawn_rounds(self) -> list[tuple[int, int]]:
        """(round, month) of every round this draw draws."""
        chosen = self.selected or tuple(range(1, self.rounds + 1))
        return [(r, self.months[r - 1]) for r in chosen]


@dataclass(frozen=True)
class Pool:
    """One task's eligible entities: directory rows in directory order, their strata and quotas."""

    plan: TaskPlan
    rows: pl.Series  # UInt32 directory rows, ascending
    stratum: pl.Series  # UInt32 per row: index into `strata`
    strata: tuple[str, ...]  # sorted
    positions: dict[str, pl.Series]  # stratum -> where its rows are in `rows`, ascending
    quotas: list[Quota]
    explain: dict = field(default_factory=dict)  # how the quotas follow from the plan's sampling clause

    def members(self, stratum: str) -> pl.Series:
        """The stratum's directory rows, ascending (none for a stratum without entities)."""
        if stratum not in self.positions:
            return self.rows.clear()
        return self.rows.gather(self.positions[stratum])


@dataclass(frozen=True)
class Draw:
    """Everything a draw produced; `files` are the exact contents written to the draw folder."""

    id: str
    seed: Seed
    drawn_on: dt.date
    drawn: pl.DataFrame  # task_id, round, month, uscc, stratum, rank, hash, name, type, district, tier
    exclusions: pl.DataFrame  # task_id, uscc, cap_id, cap, recorded, this_draw, kept_by
    transcript: dict
    summary: dict
    files: dict[str, Content]
    pools: tuple[Pool, ...]
    uscc: pl.Series  # the directory's codes, which pool rows index

    @property
    def eligible(self) -> pl.DataFrame:
        """task_id, stratum, uscc of every eligible pair, as eligible.csv lists them (built on demand)."""
        return pl.concat([_eligible_part(pool, self.uscc, pool.rows, pool.stratum) for pool in self.pools])


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


def plan_tasks(loaded: LoadedPolicy) -> list[TaskPlan]:
    policy = loaded.policy
    campaigns = {c.id: c for c in policy.campaigns}
    only = policy.campaigns[0].id if len(policy.campaigns) == 1 else None
    plans = []
    for task in policy.tasks:
        cid = task.campaign or only
        coordination = campaigns[cid].coordination if cid in campaigns else "independent"
        rounds = task.sampling.times_per_year or 1
        window = task.window or (campaigns[cid].window if cid in campaigns else None)
        if task.draw_months is not None:
            first, last = task.draw_months
        elif window is not None:
            first, last = window.start.month, window.end.month
        else:
            first, last = 1, 12
        span = last - first + 1
        # N次/年: N rounds spread evenly over the draw months.
        months = tuple(first + (k * span) // rounds for k in range(rounds))
        plans.append(TaskPlan(task, cid, coordination, rounds, months))
    return plans


def _check_counts(history: pl.DataFrame, caps: list[Cap]) -> pl.DataFrame:
    """Per entity in the history: its checks this year (distinct visits), and those each cap counts."""
    counts = history.group_by("uscc").agg(pl.col("visit_id").n_unique().cast(pl.Int64).alias("checks_this_year"))
    for cap in caps:
        h = history
        if cap.items:
            wanted = set(cap.items)
            h = h.filter(pl.col("item_codes").str.split("|").list.eval(pl.element().is_in(list(wanted))).list.any())
        c = h.group_by("uscc").agg(pl.col("visit_id").n_unique().cast(pl.Int64).alias(f"_n:{cap.id}"))
        counts = counts.join(c, on="uscc", how="left")
    return counts.fill_null(0)


def _rules(loaded: LoadedPolicy, caps: list[Cap], select: Mapping[str, tuple[int, ...]] | None) -> rules.CompiledRules:
    """The drawn tasks' scopes and every cap's condition, compiled once for the rules engine.

    A draw of one task asks the engine only about that task: only the columns its scope reads are
    classified, so drawing one task costs little more than loading the directory."""
    tasks = [t for t in loaded.policy.tasks if select is None or t.id in select]
    rule_list = [rules.Rule(f"scope:{t.id}", t.scope) for t in tasks]
    rule_list += [rules.Rule(f"cap:{c.id}", c.when) for c in caps]
    rule_list += [rules.Rule(_class_rule(t, c), c.when) for t in loaded.policy.tasks for c in t.sampling.classes]
    return rules.compile_rules(rule_list)


def _checked(uscc: pl.Series, counts: pl.DataFrame) -> pl.DataFrame:
    """The directory rows the history mentions, with their counts: a few rows, not the directory."""
    rows = uscc.is_in(counts["uscc"].implode()).arg_true().alias("_row")
    return pl.DataFrame([rows, uscc.gather(rows)]).join(counts, on="uscc", how="left", maintain_order="left")


def _facts(frame: pl.DataFrame, compiled: rules.CompiledRules, checked: pl.DataFrame) -> pl.DataFrame:
    """The columns the rules read; checks_this_year comes from the history, zero for the unchecked."""
    facts = frame.select(c for c in frame.columns if c in compiled.fields_read)
    if "checks_this_year" in compiled.fields_read:
        checks = pl.zeros(frame.height, pl.Int64, eager=True).scatter(checked["_row"], checked["checks_this_year"])
        facts = facts.with_columns(checks.alias("checks_this_year"))
    return facts


def _reached(classes: Classes, checked: pl.DataFrame, caps: list[Cap]) -> dict[str, pl.Series]:
    """Per cap: the rows it applies to whose checks this year already reach it."""
    out = {}
    for cap in caps:
        applies = classes.holds(f"cap:{cap.id}").gather(checked["_row"])
        out[cap.id] = checked["_row"].filter(applies & (checked[f"_n:{cap.id}"] >= cap.max_per_year))
    return out


def _class_rule(task: Task, klass: SampleClass) -> str:
    return f"class:{task.id}:{klass.id}"


# A row of a kind the policy grades on no scale has no tier: its stratum says so.
NO_TIER = "不涉及"


def _stratum_name(values: tuple) -> str:
    return "|".join(NO_TIER if v is None else str(v) for v in values)


def _class_column(task: Task, classes: Classes, rows: pl.Series) -> pl.Series:
    """Each row's sampling class: the first of the task's classes whose condition holds, else 其他."""
    names = [c.name for c in task.sampling.classes] + ["其他"]
    chain = None
    for k, klass in enumerate(task.sampling.classes):
        holds = classes.holds(_class_rule(task, klass)).gather(rows)
        chain = (pl.when(holds) if chain is None else chain.when(holds)).then(pl.lit(names[k]))
    return pl.select(chain.otherwise(pl.lit(names[-1])).alias("_class")).to_series()  # type: ignore[union-attr]


def _pool(
    plan: TaskPlan, frame: pl.DataFrame, classes: Classes, reached: dict[str, pl.Series], caps: list[Cap], loaded: LoadedPolicy
) -> tuple[Pool, pl.DataFrame]:
    """The task's eligible rows, grouped into strata with quotas, and the rows its caps excluded."""
    task = plan.task
    rows = classes.holds(f"scope:{task.id}").arg_true().alias("_row")
    excluded = []
    for cap in caps:
        if cap.items and not set(cap.items) & set(task.items):
            continue
        # A row is excluded once, by the first cap in the policy's order that reaches it.
        hit = reached[cap.id].filter(reached[cap.id].is_in(rows.implode()))
        for earlier in excluded:
            hit = hit.filter(~hit.is_in(earlier["_row"].implode()))
        excluded.append(pl.DataFrame([hit.alias("_row")]).with_columns(pl.lit(cap.id).alias("cap_id")))
    gone = pl.concat(excluded) if excluded else pl.DataFrame(schema={"_row": rows.dtype, "cap_id": pl.String})
    if gone.height:
        rows = rows.filter(~rows.is_in(gone["_row"].implode()))

    stratify = list(task.sampling.stratify)
    stratum = pl.zeros(rows.len(), pl.UInt32, eager=True)
    by = stratify + (["_class"] if task.sampling.classes else [])
    if not by:
        groups = [(("全部",), pl.int_range(0, rows.len(), dtype=pl.UInt32, eager=True))] if rows.len() else []
    else:
        keys = frame.select(pl.col(c).gather(rows) for c in stratify)
        if task.sampling.classes:
            keys = keys.with_columns(_class_column(task, classes, rows))
        keys = keys.with_row_index("_i")
        grouped = keys.group_by(by).agg(pl.col("_i"))
        at = grouped.get_column("_i")
        groups = [(key, at[k]) for k, key in enumerate(grouped.select(by).iter_rows())]
    groups.sort(key=lambda g: _stratum_name(g[0]))
    names = tuple(_stratum_name(key) for key, _ in groups)
    positions = {}
    for k, (key, idx) in enumerate(groups):
        stratum.scatter(idx, k)
        positions[names[k]] = idx
    strata = {name: (positions[name].len(), *stratum_parts(task, key)) for name, (key, _) in zip(names, groups, strict=True)}
    quotas, explain = task_quotas(task, loaded.policy.risk.tiers, strata)
    pool = Pool(plan, rows, stratum, names, positions, quotas, explain)
    return pool, gone.with_columns(pl.lit(task.id).alias("task_id"))


def stratum_parts(task: Task, values: tuple) -> tuple[str | None, SampleClass | None]:
    """A stratum's tier (None where tier rules do not apply to it) and sampling class, from its key:
    the values of the task's stratify fields, then the class name when the task has classes."""
    s = task.sampling
    tier = values[s.stratify.index("tier")] if "tier" in s.stratify else None
    if s.tier_kinds and values[s.stratify.index("type")] not in s.tier_kinds:
        tier = None  # the tier rules are for other kinds of object
    klass = next((c for c in s.classes if c.name == values[-1]), None) if s.classes else None
    return tier, klass


def stratum_key(task: Task, name: str) -> tuple:
    """The key of a stratum from its name, as a draw names it ("企业|A|一人多照")."""
    return tuple(None if part == NO_TIER else part for part in name.split("|"))


def task_quotas(task: Task, risk_tiers: dict, strata: dict[str, tuple[int, str | None, SampleClass | None]]) -> tuple[list[Quota], dict]:
    """Each stratum's quota from the task's sampling clause, and how each number follows from the plan.

    A fixed total (a count, a 目标数, or weights) is shared among the strata by size × weight; otherwise
    each stratum draws its own ratio. `strata` maps stratum -> (eligible, tier or None, class or None).
    """
    s = task.sampling
    eligible = sum(n for n, _, _ in strata.values())
    rule = size_rule(s, eligible)
    words = list(rule.words)
    explain: dict = {}
    if (compared := base_comparison(s, eligible)) is not None:
        explain["base"] = compared
    if rule.count is not None or s.target is not None or s.weighted:
        total, said = total_for(rule, s, eligible)
        words += said
        weights = {k: (n, stratum_weight(s, risk_tiers, tier, klass)) for k, (n, tier, klass) in strata.items()}
        if any(w != 1 for _, w in weights.values()):
            words.append("总数按各层 户数×权重 分配：" + "，".join(f"{k} 权重{w}" for k, (_, w) in sorted(weights.items())))
        quotas = by_weight(weights, total, upper=rule.bound == "不高于")
        explain["total"] = total
    else:
        ratios = {}
        for k, (n, tier, klass) in strata.items():
            r, said = stratum_ratio(s, risk_tiers, rule.ratio, tier, klass)  # type: ignore[arg-type]
            words += [f"{k}：{w}" for w in said]
            ratios[k] = (n, r)
        quotas = by_ratio(ratios, rule.bound)
        drawn = sum(q.wanted for q in quotas)
        if rule.min_count is not None and drawn < rule.min_count:
            total = min(eligible, rule.min_count)
            words.append(f"按比例共{drawn}户，少于最少户数{rule.min_count}户，按各层户数分配{total}户")
            quotas = by_weight({k: (n, Fraction(1)) for k, (n, _, _) in strata.items()}, total)
    explain["words"] = words
    return quotas, explain


def _unit(plan: TaskPlan, rnd: int, stratum: str) -> str:
    if plan.coordination == "joint" and plan.campaign is not None:
        return f"{plan.campaign}|{rnd}|"
    return f"{plan.task.id}|{rnd}|{stratum}|"


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


class _Ranking:
    """Rank hashes for a set of plans; a joint campaign's per-entity keys are computed once and shared."""

    def __init__(self, plans: list[TaskPlan], pools: list[Pool], uscc: pl.Series, seed: Seed) -> None:
        self.uscc, self.seed = uscc, seed
        need: dict[str, list[pl.Series]] = {}
        for plan, pool in zip(plans, pools, strict=True):
            for rnd, _month in plan.drawn_rounds():
                if plan.coordination == "joint" and plan.campaign is not None:
                    need.setdefault(_unit(plan, rnd, ""), []).append(pool.rows)
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
        unit = _unit(plan, rnd, "")
        if unit in self.joint:
            return self.joint[unit].gather(pool.rows)
        # The unit is "{task}|{round}|{stratum}|": each row's stratum goes between prefix and code.
        strata = pl.Series(pool.strata, dtype=pl.String).gather(pool.stratum)
        return _sort_keys(self.prefix(f"{plan.task.id}|{rnd}|"), self.uscc.gather(pool.rows), strata)

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

    def chosen(self, unit: str, rows: pl.Series, keys: pl.Series, n: int) -> pl.Series:
        """Only which rows `take` would choose; digests are computed only to break a tie at the n-th."""
        chosen, chosen_keys = _smallest(rows, keys, n)
        if chosen.len() <= n:
            return chosen
        return self.take(unit, chosen, chosen_keys, n)["_row"]


_PICKED = {"task_id": pl.String, "round": pl.Int64, "month": pl.Int64, "_row": pl.UInt32, "uscc": pl.String,
           "stratum": pl.String, "rank": pl.Int64, "hash": pl.String}


def _draw_plan(plan: TaskPlan, pool: Pool, ranking: _Ranking) -> pl.DataFrame:
    """Each stratum's n smallest rank hashes, per round the draw draws."""
    parts = []
    for rnd, month in plan.drawn_rounds():
        keys = ranking.keys(plan, rnd, pool)
        for q in pool.quotas:
            if q.drawn == 0:
                continue
            at = pool.positions[q.stratum]
            picked = ranking.take(_unit(plan, rnd, q.stratum), pool.rows.gather(at), keys.gather(at), q.drawn)
            parts.append(
                picked.select(
                    pl.lit(plan.task.id).alias("task_id"),
                    pl.lit(rnd).cast(pl.Int64).alias("round"),
                    pl.lit(month).cast(pl.Int64).alias("month"),
                    "_row",
                    "uscc",
                    pl.lit(q.stratum).alias("stratum"),
                    "rank",
                    "hash",
                )
            )
    return pl.concat(parts) if parts else pl.DataFrame(schema=_PICKED)


def _distinct_drawn(plans: list[TaskPlan], pools: list[Pool], ranking: _Ranking, progress: Progress) -> int:
    """How many distinct entities the plans would draw (the other coordination mode, for the summary)."""
    parts = []
    for done, (plan, pool) in enumerate(zip(plans, pools, strict=True)):
        progress("按另一种协同方式对照抽取（用于统计）", done, len(plans))
        for rnd, _month in plan.drawn_rounds():
            keys = ranking.keys(plan, rnd, pool)
            for q in pool.quotas:
                if q.drawn:
                    at = pool.positions[q.stratum]
                    parts.append(ranking.chosen(_unit(plan, rnd, q.stratum), pool.rows.gather(at), keys.gather(at), q.drawn))
    return pl.concat(parts).n_unique() if parts else 0


def compute(
    loaded: LoadedPolicy,
    entities: EntityDirectory,
    history: pl.DataFrame,
    seed: Seed,
    drawn_on: dt.date,
    coordination_override: str | None = None,
    progress: Progress = silent,
    select: Mapping[str, tuple[int, ...]] | None = None,
) -> Draw:
    """Compute a draw. Pure: reads nothing but its arguments, writes nothing.

    `select` draws only some tasks and rounds (task id → round numbers), as a draw of what is due does.
    """
    policy = loaded.policy
    caps = effective_caps(policy)
    compiled = _rules(loaded, caps, select)
    frame = entities.frame
    uscc = frame["uscc"]
    progress("按规则匹配抽查范围")
    checked = _checked(uscc, _check_counts(history, caps))
    classes = classify(compiled, _facts(frame, compiled, checked))
    reached = _reached(classes, checked, caps)

    plans = plan_tasks(loaded)
    if select is not None:
        plans = [replace(p, selected=tuple(select[p.task.id])) for p in plans if p.task.id in select]
    if coordination_override is not None:
        plans = [replace(p, coordination=coordination_override) for p in plans]
    first = []
    for done, plan in enumerate(plans):
        progress("划定各任务的抽查对象", done, len(plans))
        first.append(_pool(plan, frame, classes, reached, caps, loaded))
    ranking = _Ranking(plans, [pool for pool, _ in first], uscc, seed)

    # Tasks are drawn in the policy's order: what an earlier task drew counts towards the caps of the
    # later ones, so no entity leaves this draw with more checks than a cap allows.
    checks = Checks(caps, classes, checked, [p.task for p in plans])
    pools, excluded, parts = [], [], []
    for done, (plan, (pool, gone)) in enumerate(zip(plans, first, strict=True)):
        progress("按随机数排序抽取", done, len(plans))
        months = {m for _, m in plan.drawn_rounds()}
        if checks.binding(plan.task, months):
            pool, gone = _pool(plan, frame, classes, checks.reached(months), caps, loaded)
        excluded.append(checks.explain(plan.task, months, gone, uscc))
        part = _draw_plan(plan, pool, ranking)
        checks.hold(plan.task, part)
        pools.append(pool)
        parts.append(part)
    picked = pl.concat(parts) if parts else pl.DataFrame(schema=_PICKED)
    shown = frame.select(pl.col(c).gather(picked["_row"]).cast(pl.String) for c in ("name", "type", "district", "tier"))
    drawn = pl.concat([picked.drop("_row"), shown], how="horizontal")
    other = "independent" if all(p.coordination == "joint" for p in plans) else "joint"
    alt_plans = [replace(p, coordination=other) for p in plans]
    coordination = {
        "used": sorted({p.coordination for p in plans}),
        "distinct_entities": {
            "+".join(sorted({p.coordination for p in plans})): drawn["uscc"].n_unique(),
            other: _distinct_drawn(alt_plans, pools, _Ranking(alt_plans, pools, uscc, seed), progress),
        },
    }
    exclusions = pl.concat(excluded) if excluded else pl.DataFrame(schema=EXCLUDED_COLUMNS)
    exclusions = exclusions.sort(["task_id", "uscc", "cap_id"])

    progress("生成抽取记录")
    files_hist = history_csv(history)
    codes = _Codes(uscc)
    transcript = _transcript(loaded, entities, seed, drawn_on, files_hist, pools, codes)
    if select is not None:
        # A draw of what is due says which tasks and rounds it drew, so `verify` draws the same ones.
        transcript["selection"] = {p.task.id: [r for r, _ in p.drawn_rounds()] for p in plans}
    draw_id = sha256_text(canonical(transcript))[:16]
    summary = _summary(loaded, entities, drawn, exclusions, pools, caps, draw_id, seed)
    summary["coordination"] = coordination
    drawn_out = drawn.select("task_id", "round", "month", "uscc", "name", "district", "tier", "stratum", "rank", "hash")
    files: dict[str, Content] = {
        "transcript.json": json_bytes(transcript),
        "draws.csv": lambda: _csv_pieces(drawn_out),
        "eligible.csv": lambda: _eligible_pieces(pools, uscc),
        "history.csv": files_hist,
        "summary.json": json_bytes(summary),
        "excluded.csv": exclusions.write_csv().encode("utf-8"),
    }
    applies = applies_csv(loaded, frame, picked["_row"])
    if applies is not None:
        files[APPLIES] = applies
    return Draw(draw_id, seed, drawn_on, drawn, exclusions, transcript, summary, files, tuple(pools), uscc)


# A CSV of tens of millions of lines is written in pieces of this many rows, never held whole.
_PIECE_ROWS = 1_000_000


def _csv_pieces(frame: pl.DataFrame) -> Iterator[bytes]:
    for start in range(0, max(frame.height, 1), _PIECE_ROWS):
        yield frame.slice(start, _PIECE_ROWS).write_csv(include_header=start == 0).encode("utf-8")


def _eligible_part(pool: Pool, uscc: pl.Series, rows: pl.Series, stratum: pl.Series) -> pl.DataFrame:
    names = pl.Series(pool.strata, dtype=pl.String)
    return pl.DataFrame(
        [
            pl.repeat(pool.plan.task.id, rows.len(), dtype=pl.String, eager=True).alias("task_id"),
            names.gather(stratum).alias("stratum"),
            uscc.gather(rows).alias("uscc"),
        ]
    )


def _eligible_pieces(pools: list[Pool], uscc: pl.Series) -> Iterator[bytes]:
    yield b"task_id,stratum,uscc\n"
    for pool in pools:
        for start in range(0, pool.rows.len(), _PIECE_ROWS):
            part = _eligible_part(pool, uscc, pool.rows.slice(start, _PIECE_ROWS), pool.stratum.slice(start, _PIECE_ROWS))
            yield part.write_csv(include_header=False).encode("utf-8")


# A stratum this large is hashed from the fixed-width records; a smaller one from its joined codes.
_RECORDS_FROM = 100_000


class _Codes:
    """The directory's codes, for hashing each stratum's newline-joined list in the transcript.

    Validated codes are 18 ASCII characters, so for large strata they are kept once as fixed 19-byte
    records (code and newline) and a stratum's list is one gather of records, not millions of strings
    joined. The records are built on the first large stratum: a draw of one small task never pays for them.
    """

    def __init__(self, uscc: pl.Series) -> None:
        self.uscc = uscc
        self.records = None
        sizes = uscc.str.len_bytes()
        self.fixed = bool(uscc.len()) and sizes.min() == 18 == sizes.max()

    def _records(self) -> np.ndarray:
        if self.records is None:
            flat = np.frombuffer(self.uscc.str.join("").item().encode("utf-8"), dtype=np.uint8).reshape(-1, 18)
            self.records = np.empty((self.uscc.len(), 19), dtype=np.uint8)
            self.records[:, :18] = flat
            self.records[:, 18] = ord("\n")
        return self.records

    def sha256(self, rows: pl.Series) -> str:
        """sha256 of the codes of `rows` joined by newlines."""
        if rows.len() == 0:
            return hashlib.sha256(b"").hexdigest()
        if not self.fixed or rows.len() < _RECORDS_FROM:
            return hashlib.sha256(self.uscc.gather(rows).str.join("\n").item().encode("utf-8")).hexdigest()
        joined = self._records()[rows.to_numpy()].tobytes()
        return hashlib.sha256(memoryview(joined)[:-1]).hexdigest()


def json_bytes(obj: dict) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode("utf-8")


def _fraction_text(f: Fraction | None) -> str | None:
    return None if f is None else f"{f.numerator}/{f.denominator}"


def _transcript(loaded, entities, seed, drawn_on, history_bytes, pools, codes) -> dict:
    tasks = []
    for pool in pools:
        plan, quotas = pool.plan, pool.quotas
        tasks.append(
            {
                "task_id": plan.task.id,
                "campaign": plan.campaign,
                "coordination": plan.coordination,
                "rounds": [
                    {"round": r, "month": m, "unit": (f"{plan.campaign}|{r}|" if plan.coordination == "joint" and plan.campaign else f"{plan.task.id}|{r}|{{stratum}}|")}
                    for r, m in plan.drawn_rounds()
                ],
                "strata": [
                    {
                        "stratum": q.stratum,
                        "eligible": q.eligible,
                        "eligible_sha256": codes.sha256(pool.members(q.stratum)),
                        "ratio": _fraction_text(q.ratio),
                        "wanted": q.wanted,
                        "drawn": q.drawn,
                    }
                    for q in quotas
                ],
            }
        )
    return {
        "format": FORMAT,
        "engine_version": engine_version(),
        "drill": seed.drill,
        "seed": seed.to_dict(),
        "rank_hash": "sha256(key + '|' + unit + uscc), unit with {stratum} filled in; each stratum takes its n smallest hex digests",
        "drawn_on": drawn_on.isoformat(),
        "policy": {"id": loaded.policy.id, "sha256": loaded.sha256},
        "entities": {"file": entities.path.name, "sha256": entities.sha256, "rows": len(entities)},
        "history": {"file": "history.csv", "sha256": hashlib.sha256(history_bytes).hexdigest()},
        "tasks": tasks,
    }


def _summary(loaded, entities, drawn, exclusions, pools, caps, draw_id, seed) -> dict:
    policy = loaded.policy
    ent = entities.frame
    counted = list(coverage_kinds(policy))
    operating = ent.select((pl.col("type").is_in(counted) & pl.col("status").is_in(list(OPERATING_STATUSES))).sum()).item()
    distinct = drawn.select("uscc").unique()
    distinct_ent = drawn.filter(pl.col("type").is_in(counted)).select("uscc").unique()
    tasks = []
    for pool in pools:
        plan, quotas, t = pool.plan, pool.quotas, pool.plan.task
        d = drawn.filter(pl.col("task_id") == t.id)
        by_district = d.group_by("district").agg(pl.len().alias("n")).sort("district")
        exc = exclusions.filter(pl.col("task_id") == t.id).group_by("cap_id").agg(pl.len().alias("n")).sort("cap_id")
        tasks.append(
            {
                "task_id": t.id,
                "name": t.name,
                "risk_based": "tier" in t.sampling.stratify,
                "eligible": sum(q.eligible for q in quotas),
                "wanted": sum(q.wanted for q in quotas) * len(plan.drawn_rounds()),
                "drawn": d.height,
                "shortfall": sum(q.shortfall for q in quotas) * len(plan.drawn_rounds()),
                "strata": [
                    {"stratum": q.stratum, "eligible": q.eligible, "ratio": _fraction_text(q.ratio), "wanted": q.wanted, "drawn": q.drawn, "shortfall": q.shortfall}
                    for q in quotas
                ],
                "by_district": dict(by_district.iter_rows()),
                "excluded_by_cap": dict(exc.iter_rows()),
                "sampling": {"text": sampling_text(t.sampling), **pool.explain},
            }
        )
    total_draws = drawn.height
    risk_based = sum(t["drawn"] for t in tasks if t["risk_based"])
    target = policy.targets.get("enterprise_coverage")
    coverage = Fraction(distinct_ent.height, operating) if operating else Fraction(0)
    return {
        "draw_id": draw_id,
        "drill": seed.drill,
        "policy": policy.id,
        "directory": {"entities": ent.height, "enterprises_operating": operating},
        "distinct_entities_drawn": distinct.height,
        "distinct_enterprises_drawn": distinct_ent.height,
        "enterprise_coverage": {
            "value": f"{float(coverage) * 100:.2f}%",
            "target": f"{target.value}%" if target else None,
            "met": (coverage >= percent_fraction(target.value)) if target else None,
        },
        "risk_based_share": {
            "value": f"{(risk_based / total_draws * 100) if total_draws else 0:.2f}%",
            "target": f"{policy.targets['risk_based_share'].value}%" if "risk_based_share" in policy.targets else None,
        },
        "caps": {c.id: c.name for c in caps},
        "tasks": tasks,
    }
