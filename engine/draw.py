"""The draw: from a policy and the entity directory to a random sample anyone can recompute.

Stages, each a column operation over the whole directory (no per-row Python):
1. scope — which tasks each entity falls in, and which caps apply to it, decided by the rules engine
   once per distinct class of entity (spotcheck.rules), then joined back to the rows;
2. caps — entities whose checks this year (from the ledger's history) reach a cap are excluded, with
   the cap named;
3. strata and quotas — per task and stratum (tier, and district where the task says so), exact counts
   (spotcheck.allocation);
4. ranking — every eligible entity gets rank hash sha256("{key}|{unit}|{uscc}") and each stratum takes
   its n smallest. `unit` is "{campaign}|{round}" when the campaign coordinates its tasks (one
   permanent random number per entity, so tasks overlap and become one visit) and
   "{task}|{round}|{stratum}" when tasks draw independently. A per-row key plus a per-stratum top-n is
   a simple random sample, stable when unrelated rows change, and partition-parallel.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from fractions import Fraction

import polars as pl
import polars_hash as plh
from spotcheck import __version__, rules
from spotcheck.allocation import Quota, by_count, by_ratio
from spotcheck.commitment import Seed, canonical, sha256_text
from spotcheck.directory import EntityDirectory
from spotcheck.fields import OPERATING_STATUSES
from spotcheck.loader import LoadedPolicy
from spotcheck.policy import Cap, Task, effective_caps, percent_fraction, tier_ratio

FORMAT = "spotcheck-draw/1"
HISTORY_COLUMNS = {"uscc": pl.String, "visit_id": pl.String, "task_id": pl.String, "item_codes": pl.String}


@dataclass(frozen=True)
class TaskPlan:
    task: Task
    campaign: str | None
    coordination: str  # "joint" or "independent"
    rounds: int
    months: tuple[int, ...]  # month of each round


@dataclass(frozen=True)
class Draw:
    """Everything a draw produced; `files` are the exact bytes written to the draw folder."""

    id: str
    seed: Seed
    drawn_on: dt.date
    drawn: pl.DataFrame  # task_id, round, month, uscc, name, district, tier, stratum, rank, hash
    eligible: pl.DataFrame  # task_id, stratum, uscc
    exclusions: pl.DataFrame  # task_id, uscc, cap_id
    transcript: dict
    summary: dict
    files: dict[str, bytes]


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
    """Per entity, how many checks this year count against each cap (distinct visits)."""
    counts = history.select("uscc").unique()
    for cap in caps:
        h = history
        if cap.items:
            wanted = set(cap.items)
            h = h.filter(pl.col("item_codes").str.split("|").list.eval(pl.element().is_in(list(wanted))).list.any())
        c = h.group_by("uscc").agg(pl.col("visit_id").n_unique().alias(f"_n:{cap.id}"))
        counts = counts.join(c, on="uscc", how="left")
    return counts.fill_null(0)


def _rules(loaded: LoadedPolicy, caps: list[Cap]) -> rules.CompiledRules:
    """Every task's scope and every cap's condition, compiled once for the rules engine."""
    rule_list = [rules.Rule(f"scope:{t.id}", t.scope) for t in loaded.policy.tasks]
    rule_list += [rules.Rule(f"cap:{c.id}", c.when) for c in caps]
    return rules.compile_rules(rule_list)


def _scope(compiled: rules.CompiledRules, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(row, task_id) pairs in scope and (row, cap_id) pairs a cap applies to, through the rules engine."""
    # matches_by_class answers by position; `frame` is in _row order, so position and _row agree.
    hits = rules.matches_by_class(compiled, frame).rename({"row": "_row"}).explode("rules").drop_nulls("rules")
    scope = hits.filter(pl.col("rules").str.starts_with("scope:")).select(
        "_row", pl.col("rules").str.slice(6).alias("task_id")
    )
    capped = hits.filter(pl.col("rules").str.starts_with("cap:")).select(
        "_row", pl.col("rules").str.slice(4).alias("cap_id")
    )
    return scope, capped


def _stratum_expr(stratify: list[str]) -> pl.Expr:
    if not stratify:
        return pl.lit("全部")
    return pl.concat_str([pl.col(s) for s in stratify], separator="|")


def _rank_units(plan: TaskPlan, rnd: int) -> pl.Expr:
    if plan.coordination == "joint" and plan.campaign is not None:
        return pl.lit(f"{plan.campaign}|{rnd}|")
    return pl.concat_str([pl.lit(f"{plan.task.id}|{rnd}|"), pl.col("stratum"), pl.lit("|")])


def _quotas(plan: TaskPlan, loaded: LoadedPolicy, counts: pl.DataFrame) -> list[Quota]:
    task = plan.task
    strata = {row["stratum"]: row for row in counts.iter_rows(named=True)}
    if task.sampling.count is not None:
        return by_count({k: v["n"] for k, v in strata.items()}, task.sampling.count)
    stratified_by_tier = "tier" in task.sampling.stratify
    ratios: dict[str, tuple[int, Fraction]] = {}
    for key, row in strata.items():
        if stratified_by_tier:
            r = tier_ratio(task, loaded.policy.risk, row["tier"])
        else:
            r = percent_fraction(task.sampling.ratio)
        ratios[key] = (row["n"], r)
    return by_ratio(ratios)


def compute(
    loaded: LoadedPolicy,
    entities: EntityDirectory,
    history: pl.DataFrame,
    seed: Seed,
    drawn_on: dt.date,
    coordination_override: str | None = None,
) -> Draw:
    """Compute a draw. Pure: reads nothing but its arguments, writes nothing."""
    policy = loaded.policy
    caps = effective_caps(policy)
    compiled = _rules(loaded, caps)
    # Only the columns the rules read and the outputs show: a directory of millions of rows is not copied whole.
    wanted = {"uscc", "name", "type", "district", "tier"} | set(compiled.fields_read)
    frame = entities.frame.select([c for c in entities.frame.columns if c in wanted]).with_row_index("_row")
    counts = _check_counts(history, caps)
    frame = frame.join(counts, on="uscc", how="left", maintain_order="left").with_columns(pl.col(r"^_n:.*$").fill_null(0))
    frame = frame.with_columns(
        pl.max_horizontal([pl.col(f"_n:{c.id}") for c in caps] or [pl.lit(0)]).cast(pl.Int64).alias("checks_this_year")
    )
    scope, cap_hits = _scope(compiled, frame)

    plans = plan_tasks(loaded)
    if coordination_override is not None:
        plans = [TaskPlan(p.task, p.campaign, coordination_override, p.rounds, p.months) for p in plans]
    base = frame.select("_row", "uscc", "name", "type", "district", "tier", *[f"_n:{c.id}" for c in caps])

    # Caps: a pair is excluded when a cap applies to the entity, counts this task's items, and is reached.
    excl_parts = []
    for cap in caps:
        tasks_counted = [p.task.id for p in plans if not cap.items or set(cap.items) & set(p.task.items)]
        hit = cap_hits.filter(pl.col("cap_id") == cap.id).select("_row")
        reached = hit.join(base.select("_row", f"_n:{cap.id}"), on="_row").filter(pl.col(f"_n:{cap.id}") >= cap.max_per_year)
        excl_parts.append(
            scope.filter(pl.col("task_id").is_in(tasks_counted))
            .join(reached.select("_row"), on="_row")
            .with_columns(pl.lit(cap.id).alias("cap_id"))
        )
    excluded = (
        pl.concat(excl_parts).unique(["_row", "task_id"], keep="first", maintain_order=True)
        if excl_parts
        else pl.DataFrame(schema={"_row": pl.UInt32, "task_id": pl.String, "cap_id": pl.String})
    )
    eligible_pairs = scope.join(excluded.select("_row", "task_id"), on=["_row", "task_id"], how="anti")

    pools = _pools(plans, eligible_pairs, base, loaded)
    drawn = _rank(plans, pools, seed).join(
        base.select("_row", "name", "type", "district", "tier"), on="_row", maintain_order="left"
    ).drop("_row")
    other = "independent" if all(p.coordination == "joint" for p in plans) else "joint"
    alt_plans = [TaskPlan(p.task, p.campaign, other, p.rounds, p.months) for p in plans]
    alt_drawn = _rank(alt_plans, pools, seed, columns=("uscc",))
    coordination = {
        "used": sorted({p.coordination for p in plans}),
        "distinct_entities": {
            "+".join(sorted({p.coordination for p in plans})): drawn["uscc"].n_unique(),
            other: alt_drawn["uscc"].n_unique(),
        },
    }
    task_reports = [(plan, quotas) for plan, (_, quotas) in zip(plans, pools, strict=True)]
    eligible = pl.concat([rows.select(pl.lit(plan.task.id).alias("task_id"), "stratum", "uscc") for plan, (rows, _) in zip(plans, pools, strict=True)])
    exclusions = excluded.join(base.select("_row", "uscc"), on="_row").select("task_id", "uscc", "cap_id").sort(
        ["task_id", "uscc"]
    )

    files_hist = history_csv(history)
    transcript = _transcript(loaded, entities, seed, drawn_on, files_hist, task_reports, eligible)
    draw_id = sha256_text(canonical(transcript))[:16]
    summary = _summary(loaded, entities, drawn, exclusions, task_reports, caps, draw_id, seed)
    summary["coordination"] = coordination
    drawn_out = drawn.select("task_id", "round", "month", "uscc", "name", "district", "tier", "stratum", "rank", "hash")
    files = {
        "transcript.json": json_bytes(transcript),
        "draws.csv": drawn_out.write_csv().encode("utf-8"),
        "eligible.csv": eligible.write_csv().encode("utf-8"),
        "history.csv": files_hist,
        "summary.json": json_bytes(summary),
    }
    return Draw(draw_id, seed, drawn_on, drawn, eligible, exclusions, transcript, summary, files)


def _pools(plans, eligible_pairs, base, loaded) -> list[tuple[pl.DataFrame, list[Quota]]]:
    """Per task: its eligible rows in directory order with their stratum, and each stratum's quota."""
    pools = []
    for plan in plans:
        # Only what ranking needs travels with every eligible pair; names join the drawn rows later.
        rows = (
            eligible_pairs.filter(pl.col("task_id") == plan.task.id)
            .select("_row")
            .join(base.select("_row", "uscc", "district", "tier"), on="_row")
            .sort("_row")
            .with_columns(_stratum_expr(plan.task.sampling.stratify).alias("stratum"))
            .select("_row", "uscc", "tier", "stratum")
        )
        strata_counts = rows.group_by("stratum").agg(pl.len().alias("n"), pl.col("tier").first()).sort("stratum")
        pools.append((rows, _quotas(plan, loaded, strata_counts)))
    return pools


DRAWN_COLUMNS = ("_row", "uscc", "stratum", "rank", "hash")


def _rank(plans, pools, seed, columns=DRAWN_COLUMNS) -> pl.DataFrame:
    """Each stratum's n smallest rank hashes, per task and round, in the plan's task order."""
    parts = []
    for order, (plan, (rows, quotas)) in enumerate(zip(plans, pools, strict=True)):
        take = pl.DataFrame(
            {"stratum": [q.stratum for q in quotas], "take": [q.drawn for q in quotas]},
            schema={"stratum": pl.String, "take": pl.Int64},
        )
        for rnd, month in zip(range(1, plan.rounds + 1), plan.months, strict=True):
            hashed = rows.with_columns(
                plh.concat_str([pl.lit(seed.key + "|"), _rank_units(plan, rnd), pl.col("uscc")]).chash.sha2_256().alias("hash")
            )
            # Sort on a 60-bit integer prefix first (fast), the full digest only breaks its ties.
            ranked = (
                hashed.with_columns(pl.col("hash").str.slice(0, 15).str.to_integer(base=16).alias("_k"))
                .sort(["stratum", "_k", "hash"])
                .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("stratum").alias("rank"))
            )
            picked = ranked.join(take, on="stratum").filter(pl.col("rank") <= pl.col("take"))
            parts.append(
                picked.select(
                    pl.lit(order).alias("_o"),
                    pl.lit(plan.task.id).alias("task_id"),
                    pl.lit(rnd).cast(pl.Int64).alias("round"),
                    pl.lit(month).cast(pl.Int64).alias("month"),
                    *columns,
                )
            )
    keys = ["_o", "round", "stratum", "rank"] if "rank" in columns else ["_o", "round"]
    return pl.concat(parts).sort(keys, maintain_order=True).drop("_o")


def json_bytes(obj: dict) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode("utf-8")


def _fraction_text(f: Fraction | None) -> str | None:
    return None if f is None else f"{f.numerator}/{f.denominator}"


def _transcript(loaded, entities, seed, drawn_on, history_bytes, task_reports, eligible) -> dict:
    tasks = []
    for plan, quotas in task_reports:
        mine = eligible.filter(pl.col("task_id") == plan.task.id).group_by("stratum").agg(pl.col("uscc").str.join("\n"))
        uscc_by_stratum = dict(mine.iter_rows())
        tasks.append(
            {
                "task_id": plan.task.id,
                "campaign": plan.campaign,
                "coordination": plan.coordination,
                "rounds": [
                    {"round": r, "month": m, "unit": (f"{plan.campaign}|{r}|" if plan.coordination == "joint" and plan.campaign else f"{plan.task.id}|{r}|{{stratum}}|")}
                    for r, m in zip(range(1, plan.rounds + 1), plan.months, strict=True)
                ],
                "strata": [
                    {
                        "stratum": q.stratum,
                        "eligible": q.eligible,
                        "eligible_sha256": sha256_text(uscc_by_stratum.get(q.stratum, "")),
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
        "engine_version": __version__,
        "drill": seed.drill,
        "seed": seed.to_dict(),
        "rank_hash": "sha256(key + '|' + unit + uscc), unit with {stratum} filled in; each stratum takes its n smallest hex digests",
        "drawn_on": drawn_on.isoformat(),
        "policy": {"id": loaded.policy.id, "sha256": loaded.sha256},
        "entities": {"file": entities.path.name, "sha256": entities.sha256, "rows": len(entities)},
        "history": {"file": "history.csv", "sha256": hashlib.sha256(history_bytes).hexdigest()},
        "tasks": tasks,
    }


def _summary(loaded, entities, drawn, exclusions, task_reports, caps, draw_id, seed) -> dict:
    policy = loaded.policy
    ent = entities.frame
    enterprises = ent.filter((pl.col("type") == "企业") & pl.col("status").is_in(list(OPERATING_STATUSES)))
    distinct = drawn.select("uscc").unique()
    distinct_ent = drawn.filter(pl.col("type") == "企业").select("uscc").unique()
    tasks = []
    for plan, quotas in task_reports:
        t = plan.task
        d = drawn.filter(pl.col("task_id") == t.id)
        by_district = d.group_by("district").agg(pl.len().alias("n")).sort("district")
        exc = exclusions.filter(pl.col("task_id") == t.id).group_by("cap_id").agg(pl.len().alias("n")).sort("cap_id")
        tasks.append(
            {
                "task_id": t.id,
                "name": t.name,
                "risk_based": "tier" in t.sampling.stratify,
                "eligible": sum(q.eligible for q in quotas),
                "wanted": sum(q.wanted for q in quotas) * plan.rounds,
                "drawn": d.height,
                "shortfall": sum(q.shortfall for q in quotas) * plan.rounds,
                "strata": [
                    {"stratum": q.stratum, "eligible": q.eligible, "ratio": _fraction_text(q.ratio), "wanted": q.wanted, "drawn": q.drawn, "shortfall": q.shortfall}
                    for q in quotas
                ],
                "by_district": dict(by_district.iter_rows()),
                "excluded_by_cap": dict(exc.iter_rows()),
            }
        )
    total_draws = drawn.height
    risk_based = sum(t["drawn"] for t in tasks if t["risk_based"])
    target = policy.targets.get("enterprise_coverage")
    coverage = Fraction(distinct_ent.height, enterprises.height) if enterprises.height else Fraction(0)
    return {
        "draw_id": draw_id,
        "drill": seed.drill,
        "policy": policy.id,
        "directory": {"entities": ent.height, "enterprises_operating": enterprises.height},
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
