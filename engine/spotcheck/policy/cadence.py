"""When and how often an entity is checked, as plans write it: batches with their own months and
deadlines that repeat the sample or split it ("分两批次;第一批7月20日前完成,第二批10月15日前完成"); checks
looked back on in the ledger's history ("近12个月内未被抽查的", "每3年至少抽查一次"); and which task keeps an
entity when a cap would be exceeded ("专项任务优先").

A past check's date is its checked_on; a check drawn or planned but not yet done counts from the end of
its draw's month; a row with only a year counts from the end of that year, so a check of unknown date
never makes an entity look longer unchecked than it may be.

The draw reads these (spotcheck.draw.compute); the cross-checks here locate each problem at its line.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from math import ceil, floor
import datetime as dt
from calendar import monthrange
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, StrictInt, StrictStr

from spotcheck.errors import Problem
from spotcheck.policy.numbers import Date, Model, Month, PositivePercent, Year, percent_fraction
from spotcheck.policy.problems import did_you_mean

if TYPE_CHECKING:  # the model imports this module; the checks run on a Draft of it
    from spotcheck.policy.loaded import Draft


BatchMode = Literal["split", "repeat"]
BATCH_MODES = {"split": "拆分样本", "repeat": "重复抽取"}


class Batch(Model):
    """One batch of a task: drawn in its month, done by its deadline."""

    name: StrictStr = Field(title="批次名称", description="如 第一批")
    month: Month | None = Field(None, title="抽取月份", description="不填则为完成时限所在的月份")
    due: Date = Field(title="完成时限", description="该批次检查完成的日期，如“第一批2023年7月20日前完成”写 2023-07-20")
    share: PositivePercent | None = Field(
        None, title="本批占全年样本的比例", description="只用于拆分样本（split）；不填则各批均分，各批之和须为100%")

    @property
    def draw_month(self) -> int:
        return self.month if self.month is not None else self.due.month


class Recent(Model):
    """“近N个月内未被抽查的”: entities checked within the N months before the draw are left out."""

    months: Annotated[StrictInt, Field(ge=1, le=120)] = Field(title="月数", description="抽取日前多少个月内检查过的主体不抽取")
    items: list[StrictStr] = Field(default_factory=list, title="只计这些事项的检查", description="不填则计任何检查")
    text: StrictStr | None = Field(None, title="原文", description="如 近12个月内未被抽查的")


class Cycle(Model):
    """“每N年至少抽查一次”, “N年内全覆盖”: over each cycle of N years every entity in scope is drawn once;
    each year draws the entities not yet checked in the cycle, 1/(years left) of them."""

    years: Annotated[StrictInt, Field(ge=2, le=10)] = Field(title="年数", description="每几年至少抽查一次")
    since: Year = Field(title="周期起始年度", description="第一个周期开始的年度，此后每 years 年为一个周期")
    items: list[StrictStr] = Field(default_factory=list, title="只计这些事项的检查", description="不填则计任何检查")
    text: StrictStr | None = Field(None, title="原文", description="如 每3年至少抽查一次")

    def position(self, year: int) -> tuple[int, int]:
        """The first year of the cycle `year` falls in, and the years left in it, `year` included."""
        first = year - (year - self.since) % self.years
        return first, first + self.years - year

    def words(self, year: int) -> str:
        first, left = self.position(year)
        said = f"（原文：{self.text}）" if self.text else ""
        return (f"每{self.years}年至少抽查一次{said}：本周期{first}–{first + self.years - 1}年，{year}年尚余{left}年（含本年），"
                f"本周期尚未检查的主体按1/{left}抽取")


@dataclass(frozen=True)
class Lookback:
    """One rule that leaves out entities for their past checks: why, since when, which checks count."""

    reason: str  # "recent" or "cycle", the id excluded.csv gives it
    after: dt.date  # checks dated after this day count
    items: tuple[str, ...]  # empty: any check
    name: str  # in the plan's words

    @property
    def id(self) -> str:
        """As a cap is named where exclusions are listed (excluded.csv, a case's `capped`)."""
        return self.reason


def months_before(on: dt.date, months: int) -> dt.date:
    """The same day `months` months earlier (the month's last day where it is shorter)."""
    k = on.year * 12 + on.month - 1 - months
    year, month = divmod(k, 12)
    return dt.date(year, month + 1, min(on.day, monthrange(year, month + 1)[1]))


def lookbacks(task, year: int, on: dt.date) -> list[Lookback]:
    """The rules of `task` that read past checks, for a draw on `on`."""
    out = []
    recent: Recent | None = task.not_checked_within
    if recent is not None:
        after = months_before(on, recent.months)
        out.append(Lookback("recent", after, tuple(recent.items),
                            f"近{recent.months}个月内（{after.isoformat()}以后）已检查" + (f"（原文：{recent.text}）" if recent.text else "")))
    cycle: Cycle | None = task.sampling.once_in_years
    if cycle is not None:
        first, _ = cycle.position(year)
        out.append(Lookback("cycle", dt.date(first - 1, 12, 31), tuple(cycle.items),
                            f"本周期（{first}–{first + cycle.years - 1}年）已检查" + (f"（原文：{cycle.text}）" if cycle.text else "")))
    return out


def looked_back(task, year: int, on: dt.date, past: list[tuple[dt.date, list[str]]]) -> tuple[Lookback, list[str]] | None:
    """The task's rule that leaves an entity with these past checks (date, items) out of a draw on `on`, if one does."""
    for rule in lookbacks(task, year, on):
        for when, items in past:
            if when > rule.after and (not rule.items or set(items) & set(rule.items)):
                return rule, [f"{rule.name}：{when.isoformat()} 的检查"]
    return None


def lookback_years(policy) -> int | None:
    """The earliest year of past checks the policy's rules read (None when no task reads any)."""
    years = []
    for task in policy.tasks:
        if task.not_checked_within is not None:
            years.append(policy.year - (task.not_checked_within.months + 11) // 12)
        if task.sampling.once_in_years is not None:
            years.append(task.sampling.once_in_years.position(policy.year)[0])
    return min(years, default=None)


def check_date(year: int, checked_on: dt.date | None, draw_month: int | None) -> dt.date:
    """When a past check counts from (see the module's note)."""
    if checked_on is not None:
        return checked_on
    if draw_month is not None:
        return dt.date(year, draw_month, monthrange(year, draw_month)[1])
    return dt.date(year, 12, 31)


class CapPriority(Model):
    """Which task keeps an entity when one draw would give it more checks than a cap allows."""

    tasks: list[StrictStr] = Field(
        min_length=1, title="优先保留的任务",
        description="同一次抽取中主体超出频次上限时，按此顺序由前面的任务保留该主体；未列出的任务按计划中的顺序排在其后")
    text: StrictStr | None = Field(None, title="原文", description="计划中的原话，如“专项检查任务优先”")


def keeping_order(priority: CapPriority | None, task_ids: list[str]) -> list[int]:
    """The order in which a draw's tasks take entities (indices into `task_ids`): the listed tasks first,
    in the listed order, then the others in the plan's order."""
    listed = [] if priority is None else [t for t in priority.tasks if t in task_ids]
    first = [task_ids.index(t) for t in listed]
    return first + [i for i, t in enumerate(task_ids) if t not in listed]


def priority_words(priority: CapPriority | None, task_ids: list[str]) -> str | None:
    """How a draw decided which task keeps an entity, in the plan's words (None: the plan's order, as ever)."""
    if priority is None:
        return None
    order = [task_ids[i] for i in keeping_order(priority, task_ids)]
    said = f"（原文：{priority.text}）" if priority.text else ""
    return f"同一次抽取中主体超出频次上限时，按 {'、'.join(order)} 的顺序由在前的任务保留该主体{said}"


def shares(batches: list[Batch]) -> list[Fraction]:
    """Each batch's exact share of the year's sample (equal unless the plan gives them)."""
    if all(b.share is None for b in batches):
        return [Fraction(1, len(batches))] * len(batches)
    return [percent_fraction(b.share) for b in batches]  # type: ignore[arg-type]


def cumulative(total: int, parts: list[Fraction], k: int, upper: bool) -> int:
    """How many of `total` the batches up to the k-th (1-based) have drawn between them: the last batch
    completes the total; earlier ones round up (down for "不高于"), so no batch is left with nothing to do
    that the plan gave it."""
    if k >= len(parts):
        return total
    exact = total * sum(parts[:k], Fraction(0))
    return min(total, floor(exact) if upper else ceil(exact))


def batch_counts(batches: list[Batch], upper: bool, year: int, have: int, done: int, rounds: list[int]
                 ) -> tuple[list[int], int, str]:
    """For one stratum whose year's count is `year`: what each batch in `rounds` draws from the `have`
    entities earlier batches left, `done` of the count having been drawn by them; what they ask in
    all; and how, in words."""
    parts = shares(batches)
    asked = drawn = 0
    each, said = [], []
    for rnd in rounds:
        upto = cumulative(year, parts, rnd, upper)
        need = max(0, upto - done - asked)
        take = min(need, have - drawn)
        each.append(take)
        said.append(f"截至{batches[rnd - 1].name}累计应抽{upto}户")
        asked += need
        drawn += take
    return each, asked, f"全年应抽{year}户，{'，'.join(said)}，前批已抽{done}户，本次抽{drawn}户"


def split_counts(task, quotas, batch: int, earlier: dict[str, int]) -> tuple[dict[str, int], list[str]]:
    """What one batch of a split task draws per stratum, given the year's quotas (over everyone, earlier
    batches included) and what earlier batches drew per stratum: the draw's own rule, for a case."""
    upper = task.sampling.bound == "不高于"
    got, words = {}, []
    for q in quotas:
        done = earlier.get(q.stratum, 0)
        each, _, said = batch_counts(task.batches, upper, q.wanted, q.eligible - done, done, [batch])
        got[q.stratum] = each[0]
        words.append(f"{q.stratum}：{said}")
    return got, words


def batch_span(task) -> tuple[int, int] | None:
    """The months a task drawn in batches spans: the first batch's draw month to the last one's deadline."""
    return (task.batches[0].draw_month, task.batches[-1].due.month) if task.batches else None


def batch_words(mode: str, batches: list[Batch], text: str | None = None) -> str:
    """The batches as the plan says them: "分2批（拆分样本）：第一批7月抽取、2023-07-20前完成；…"."""
    parts = shares(batches)
    each = []
    for b, part in zip(batches, parts, strict=True):
        said = f"{b.name}{b.draw_month}月抽取、{b.due.isoformat()}前完成"
        if mode == "split" and any(x.share is not None for x in batches):
            said += f"（占全年样本{_pct(part)}）"
        each.append(said)
    how = "同一主体只在一个批次，后批不再抽前批已抽的主体" if mode == "split" else "每批各抽一次全年样本"
    return f"分{len(batches)}批（{BATCH_MODES[mode]}，{how}）：" + "；".join(each) + (f"（原文：{text}）" if text else "")


def _pct(f: Fraction) -> str:
    value = Decimal(f.numerator * 100) / Decimal(f.denominator)
    return f"{value.normalize():f}%"


def _batch_problems(draft: Draft) -> list[Problem]:
    policy = draft.policy
    assert policy is not None  # cadence_problems checks it
    found = []
    for i, task in enumerate(policy.tasks):
        at = draft.at("tasks", i)
        if not task.batches:
            if task.batch_mode is not None:
                found.append(draft.locate(Problem(
                    "P241", f"任务“{task.name}”写了分批方式（batch_mode），但没有列出批次（batches）",
                    hint="在 batches 中列出各批次的名称和完成时限，或去掉 batch_mode"), (*at, "batch_mode")))
            continue
        if len(task.batches) < 2:
            found.append(draft.locate(Problem(
                "P241", f"任务“{task.name}”只列了 1 个批次", hint="分批至少两批；只有一批的，写 draw_months 或 window 即可"),
                (*at, "batches"), key=True))
        if task.batch_mode is None:
            found.append(draft.locate(Problem(
                "P241", f"任务“{task.name}”分批抽查，但没有写分批方式（batch_mode）",
                hint="batch_mode: split（全年样本分批完成，同一主体只在一个批次）或 repeat（每批各抽一次全年样本）"),
                (*at, "batches"), key=True))
        if task.sampling.times_per_year is not None:
            found.append(draft.locate(Problem(
                "P242", f"任务“{task.name}”既写了每年次数（times_per_year），又列了批次（batches）",
                hint="分批的任务由批次决定抽取几次、何时抽取：去掉 times_per_year"),
                (*at, "sampling", "times_per_year")))
        found += _batch_dates(draft, task, at, policy.year)
        found += _batch_shares(draft, task, at)
    return found


def _batch_dates(draft: Draft, task, at: tuple, year: int) -> list[Problem]:
    found = []
    for j, b in enumerate(task.batches):
        path = (*at, "batches", j)
        if b.due.year != year:
            found.append(draft.locate(Problem(
                "P243", f"“{b.name}”的完成时限 {b.due} 不在策略年度 {year} 年内",
                hint=f"完成时限写 {year} 年内的日期；跨年的批次写进下一年度的策略"), (*path, "due")))
            continue
        if b.month is not None and b.month > b.due.month:
            found.append(draft.locate(Problem(
                "P243", f"“{b.name}”定于 {b.month} 月抽取，晚于其完成时限 {b.due}",
                hint="抽取月份不能晚于完成时限所在的月份"), (*path, "month")))
        elif task.draw_months is not None and not task.draw_months[0] <= b.draw_month <= task.draw_months[1]:
            first, last = task.draw_months
            found.append(draft.locate(Problem(
                "P243", f"“{b.name}”在 {b.draw_month} 月抽取，不在任务的抽取月份 {first}–{last} 月内",
                hint="批次的抽取月份须在 draw_months 之内；分批的任务也可以不写 draw_months"), path))
        if j and (b.due <= task.batches[j - 1].due or b.draw_month < task.batches[j - 1].draw_month):
            found.append(draft.locate(Problem(
                "P243", f"“{b.name}”排在“{task.batches[j - 1].name}”之后，其抽取月份或完成时限却不晚于前一批",
                hint="按时间先后列出批次：后一批的完成时限晚于前一批，抽取月份不早于前一批"), path))
    return found


def _batch_shares(draft: Draft, task, at: tuple) -> list[Problem]:
    given = [j for j, b in enumerate(task.batches) if b.share is not None]
    if not given or task.batch_mode is None:
        return []
    if task.batch_mode != "split":
        return [draft.locate(Problem(
            "P244", "只有拆分样本（batch_mode: split）的批次写占全年样本的比例（share）",
            hint="重复抽取的每一批都抽全年样本：去掉 share"), (*at, "batches", given[0], "share"))]
    if len(given) != len(task.batches):
        return [draft.locate(Problem(
            "P244", f"任务“{task.name}”只有部分批次写了占全年样本的比例（share）",
            hint="各批都写 share（之和为100%），或都不写（均分）"), (*at, "batches"), key=True)]
    total = sum((b.share for b in task.batches), start=Decimal(0))
    if total != 100:
        return [draft.locate(Problem(
            "P244", f"任务“{task.name}”各批次占全年样本的比例之和为 {total.normalize():f}%，应为100%",
            hint="调整各批的 share，使之和为100%"), (*at, "batches"), key=True)]
    return []


def cadence_problems(draft: Draft) -> list[Problem]:
    """Batches that contradict themselves or the plan, and cap_priority naming tasks the plan does not have."""
    policy = draft.policy
    if policy is None:
        return []
    found = _batch_problems(draft)
    if policy.cap_priority is None:
        return found
    ids = [t.id for t in policy.tasks]
    seen: set[str] = set()
    for j, task_id in enumerate(policy.cap_priority.tasks):
        path = ("cap_priority", "tasks", j)
        if task_id not in ids:
            found.append(draft.locate(Problem(
                "P240", f"频次上限冲突时优先保留的任务 '{task_id}' 不在计划中{did_you_mean(task_id, ids)}",
                hint=f"已有任务：{'、'.join(ids) or '（无）'}"), path))
        elif task_id in seen:
            found.append(draft.locate(Problem(
                "P240", f"优先保留的任务 '{task_id}' 写了不止一次", hint="每个任务在 cap_priority.tasks 中只写一次"), path))
        seen.add(task_id)
    return found


__all__ = ["BATCH_MODES", "Batch", "BatchMode", "CapPriority", "batch_span", "Cycle", "Lookback", "Recent", "check_date", "lookback_years",
           "looked_back", "lookbacks", "months_before", "batch_counts", "batch_words", "cadence_problems", "cumulative",
           "keeping_order", "priority_words", "shares", "split_counts"]
