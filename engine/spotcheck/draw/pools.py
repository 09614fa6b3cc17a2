"""Who each task may draw and how many: scope and caps by the rules engine, then strata and quotas.

Scope and caps are decided once per distinct class of entity (spotcheck.rules.engine) and looked up
through each row's class; an entity whose checks this year reach a cap is excluded, with the cap named.
Strata are per task (tier, and district where the task says so); quotas are exact counts
(spotcheck.draw.allocation).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction

import polars as pl
from spotcheck.draw.allocation import Quota, by_count, by_ratio, by_weight
from spotcheck.policy.departments import addressed_to
from spotcheck.policy.lists import task_scope
from spotcheck.policy.loaded import LoadedPolicy
from spotcheck.policy.model import Cap, Task
from spotcheck.policy.sampling import (
    SampleClass,
    base_comparison,
    expected_comparison,
    size_rule,
    stratum_ratio,
    stratum_weight,
    total_for,
)
from spotcheck.rules import engine as rules
from spotcheck.rules.classes import Classes
from spotcheck.rules.conditions import resolve_dates


@dataclass(frozen=True)
class TaskPlan:
    task: Task
    campaign: str | None
    coordination: str  # "joint" or "independent"
    rounds: int
    months: tuple[int, ...]  # month of each round
    selected: tuple[int, ...] = ()  # the rounds this draw draws (all of them when empty)
    split: bool = False  # batches that split the sample: no entity in two of them

    def drawn_rounds(self) -> list[tuple[int, int]]:
        """(round, month) of every round this draw draws."""
        chosen = self.selected or tuple(range(1, self.rounds + 1))
        return [(r, self.months[r - 1]) for r in chosen]

    def unit_round(self, rnd: int) -> int:
        """The round whose rank unit ranks round `rnd`: split batches drawn together share the first one's."""
        return self.drawn_rounds()[0][0] if self.split else rnd

    def times(self) -> int:
        """How many times this draw takes a stratum's quota: once per round, once in all for split batches."""
        return 1 if self.split else len(self.drawn_rounds())


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


def plan_tasks(loaded: LoadedPolicy) -> list[TaskPlan]:
    policy = loaded.policy
    campaigns = {c.id: c for c in policy.campaigns}
    only = policy.campaigns[0].id if len(policy.campaigns) == 1 else None
    plans = []
    for task in policy.tasks:
        if not addressed_to(task.regions, policy.jurisdiction.code):
            continue  # a row of a province's plan for one of its cities: that city's policy draws it
        cid = task.campaign or only
        coordination = campaigns[cid].coordination if cid in campaigns else "independent"
        rounds = task.sampling.times_per_year or 1
        window = task.window or (campaigns[cid].window if cid in campaigns else None)
        if task.draw_months is not None:
            first, last = task.draw_months
        elif task.draw_by is not None:
            # “抽取日期：9月1日前”: from the window's first month (or January) to the deadline's month.
            first, last = (window.start.month if window is not None else 1), task.draw_by.month
        elif window is not None:
            first, last = window.start.month, window.end.month
        else:
            first, last = 1, 12
        span = last - first + 1
        # N次/年: N rounds spread evenly over the draw months; batches are rounds in their own months.
        months = tuple(first + (k * span) // rounds for k in range(rounds))
        if task.batches:
            rounds, months = len(task.batches), tuple(b.draw_month for b in task.batches)
        plans.append(TaskPlan(task, cid, coordination, rounds, months, split=task.batch_mode == "split"))
    return plans


def check_counts(history: pl.DataFrame, caps: list[Cap]) -> pl.DataFrame:
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


def compile_scope(loaded: LoadedPolicy, caps: list[Cap], select: Mapping[str, tuple[int, ...]] | None,
                  on: dt.date) -> rules.CompiledRules:
    """The drawn tasks' scopes and every cap's condition, compiled once for the rules engine, with
    dates relative to the draw (“抽取日前1年”) as the days they name for a draw on `on`.

    A draw of one task asks the engine only about that task: only the columns its scope reads are
    classified, so drawing one task costs little more than loading the directory."""
    tasks = [t for t in loaded.policy.tasks if select is None or t.id in select]
    rule_list = [rules.Rule(f"scope:{t.id}", task_scope(t)) for t in tasks]
    rule_list += [rules.Rule(f"cap:{c.id}", c.when) for c in caps]
    rule_list += [rules.Rule(_class_rule(t, c), c.when) for t in loaded.policy.tasks for c in t.sampling.classes]
    return rules.compile_rules([replace(r, when=resolve_dates(r.when, on)) for r in rule_list])


def checked_rows(uscc: pl.Series, counts: pl.DataFrame) -> pl.DataFrame:
    """The directory rows the history mentions, with their counts: a few rows, not the directory."""
    rows = uscc.is_in(counts["uscc"].implode()).arg_true().alias("_row")
    return pl.DataFrame([rows, uscc.gather(rows)]).join(counts, on="uscc", how="left", maintain_order="left")


def facts(frame: pl.DataFrame, compiled: rules.CompiledRules, checked: pl.DataFrame) -> pl.DataFrame:
    """The columns the rules read; checks_this_year comes from the history, zero for the unchecked."""
    facts = frame.select(c for c in frame.columns if c in compiled.fields_read)
    if "checks_this_year" in compiled.fields_read:
        checks = pl.zeros(frame.height, pl.Int64, eager=True).scatter(checked["_row"], checked["checks_this_year"])
        facts = facts.with_columns(checks.alias("checks_this_year"))
    return facts


def reached_caps(classes: Classes, checked: pl.DataFrame, caps: list[Cap]) -> dict[str, pl.Series]:
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


def pool_for(
    plan: TaskPlan, frame: pl.DataFrame, classes: Classes, reached: dict[str, pl.Series], caps: list[Cap], loaded: LoadedPolicy,
    leave_out: list[tuple[str, pl.Series]] | None = None,
) -> tuple[Pool, pl.DataFrame]:
    """The task's eligible rows, grouped into strata with quotas, and the rows its caps excluded.

    `leave_out` (reason, rows): rows the task's own rules leave out first, for their past checks."""
    task = plan.task
    rows = classes.holds(f"scope:{task.id}").arg_true().alias("_row")
    excluded = []
    for reason, out in leave_out or []:
        hit = out.filter(out.is_in(rows.implode()))
        for earlier in excluded:
            hit = hit.filter(~hit.is_in(earlier["_row"].implode()))
        excluded.append(pl.DataFrame([hit.cast(rows.dtype).alias("_row")]).with_columns(pl.lit(reason).alias("cap_id")))
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
            # A task stratified by class alone has no other key column to add the class to.
            column = _class_column(task, classes, rows)
            keys = keys.with_columns(column) if stratify else column.to_frame()
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
    quotas, explain = task_quotas(task, loaded.policy.risk.tiers, strata, loaded.policy.year)
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


def task_quotas(task: Task, risk_tiers: dict, strata: dict[str, tuple[int, str | None, SampleClass | None]],
                year: int | None = None) -> tuple[list[Quota], dict]:
    """Each stratum's quota from the task's sampling clause, and how each number follows from the plan.

    A fixed total (a count, a 目标数, or weights) is shared among the strata by size × weight; otherwise
    each stratum draws its own ratio. `strata` maps stratum -> (eligible, tier or None, class or None);
    `year`, the policy's, places "每N年至少抽查一次" in its cycle.
    """
    s = task.sampling
    if any(c.count is not None for c in s.classes):
        return _class_count_quotas(task, risk_tiers, strata, year)
    eligible = sum(n for n, _, _ in strata.values())
    if s.from_list is not None:
        # "以联合双随机牵头单位抽查数为准": the number is the list's, every listed entity in scope is drawn.
        words = [f"按名单“{s.from_list}”抽查：名单上在抽查范围内的{eligible}户全部抽取"]
        return [Quota(k, n, Fraction(1), n, n) for k, (n, _, _) in sorted(strata.items())], {"words": words}
    rule = size_rule(s, eligible, year)
    words = list(rule.words)
    if s.times_at_least:
        words.append(f"每年至少{s.times_per_year}次：按{s.times_per_year}次安排抽取，另加的抽取须写明理由并经批准")
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
    if s.min_per_stratum is not None:
        quotas = [_at_least(q, s.min_per_stratum, words) for q in quotas]
    if (compared := expected_comparison(s, sum(q.wanted for q in quotas))) is not None:
        explain["expected"] = compared
        words.append(compared["words"])
    explain["words"] = words
    return quotas, explain


def _at_least(q: Quota, floor_: int, words: list[str]) -> Quota:
    """“每层不少于N户”: a stratum below the floor draws the floor, or all it has."""
    want = min(q.eligible, floor_)
    if q.wanted >= want:
        return q
    words.append(f"{q.stratum}：按比例{q.wanted}户，少于每层最少户数{floor_}户，抽{want}户")
    return Quota(q.stratum, q.eligible, q.ratio, want, want)


def _class_count_quotas(task: Task, risk_tiers: dict, strata: dict[str, tuple[int, str | None, SampleClass | None]],
                        year: int | None) -> tuple[list[Quota], dict]:
    """Quotas when classes carry their own counts (各县区抽查数量分配表): each such class's count is shared
    among its strata by size; the other strata follow the task's own rule, or are not drawn when the
    task has none (the table is the whole plan)."""
    s = task.sampling
    quotas: list[Quota] = []
    words: list[str] = []
    for klass in (c for c in s.classes if c.count is not None):
        mine = {k: n for k, (n, _, c) in strata.items() if c is klass}
        shared = by_count(mine, klass.count) if mine else [Quota(klass.name, 0, None, klass.count, 0)]
        quotas += shared
        got = sum(q.drawn for q in shared)
        words.append(f"“{klass.name}”按分配户数{klass.count}户" + (f"，该类只有{got}户，全部抽取" if got < klass.count else "")
                     + (f"（{klass.text}）" if klass.text else ""))
    rest = {k: v for k, v in strata.items() if v[2] is None or v[2].count is None}
    explain: dict = {}
    if rest and (s.ratio is not None or s.unstated is not None or s.tier_ratios):
        others = s.model_copy(update={"classes": [c for c in s.classes if c.count is None]})
        more, explain = task_quotas(task.model_copy(update={"sampling": others}), risk_tiers, rest, year)
        quotas += more
    else:
        quotas += [Quota(k, n, None, 0, 0) for k, (n, _, _) in sorted(rest.items())]
        words += [f"{k}：不在按类别分配的户数中，不抽取" for k in sorted(rest) if rest[k][0]]
    explain["words"] = words + explain.get("words", [])
    return sorted(quotas, key=lambda q: q.stratum), explain
