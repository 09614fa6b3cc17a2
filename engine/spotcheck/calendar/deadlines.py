"""Deadlines as data: how a notice words a time limit, and the date it gives on a working calendar.

A rule counts from an anchor: either an event of the inspection (检查完成, 收到方案 …) or another
deadline, so chains like seed 003's “收到方案后5个工作日内获取名单，获取名单后5个工作日内完成匹配”
are two rules, the second `after` the first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from types import MappingProxyType
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError
from spotcheck.calendar.workdays import UNKNOWN_YEAR, WEEKDAYS, Day, WorkCalendar
from spotcheck.errors import Problem, SpotcheckError

ANCHORS: Mapping[str, str] = MappingProxyType({
    "check_completed": "检查完成",
    "scheme_received": "收到方案/任务",
    "list_fetched": "获取名单",
})
"""Events a deadline may count from. A deadline's own id is an anchor too (its due date, or the
actual date when the caller knows it)."""

_KINDS = ("working_days", "calendar_days", "on", "monthly")


MAX_DAYS = 1000  # no notice gives years to act; the bound keeps every due date inside the calendar


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
        raise PydanticCustomError("count", "天数应为不超过 {max} 的正整数：{value}", {"value": repr(value), "max": MAX_DAYS})
    return value


class MonthlyRule(BaseModel):
    """“在每个月N日前” — on or before day `day` of every month."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    day: int = Field(ge=1, le=28)
    holiday: Literal["postpone", "keep"] = "keep"
    """postpone: when day N is not a working day the deadline moves to the next working day
    (“遇节假日适当延期”, seed 004); keep: day N stands whatever it is."""

    @field_validator("day", mode="before")
    @classmethod
    def _day(cls, day: Any) -> int:
        if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= 28:
            raise PydanticCustomError("month_day", "每月期限的日期应为 1 到 28 的整数：{value}", {"value": repr(day)})
        return day

    @field_validator("holiday", mode="before")
    @classmethod
    def _holiday(cls, holiday: Any) -> str:
        if holiday not in ("postpone", "keep"):
            raise PydanticCustomError(
                "holiday_rule",
                "holiday 只能写 postpone（遇节假日顺延）或 keep（不顺延）：{value}",
                {"value": repr(holiday)},
            )
        return holiday


class DeadlineRule(BaseModel):
    """One time limit of a notice. Exactly one of working_days, calendar_days, on, monthly."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    working_days: int | None = Field(None, ge=1, le=MAX_DAYS)
    calendar_days: int | None = Field(None, ge=1, le=MAX_DAYS)
    on: Day | None = None
    monthly: MonthlyRule | None = None
    after: str | None = None
    text: str | None = None
    """How the document words it, e.g. “自抽查检查结束之日起20个工作日内”."""

    @field_validator("name")
    @classmethod
    def _named(cls, name: str) -> str:
        if not name.strip():
            raise PydanticCustomError("blank", "期限名称不能为空")
        return name

    @field_validator("working_days", "calendar_days", mode="before")
    @classmethod
    def _days(cls, value: Any) -> int | None:
        return None if value is None else _count(value)

    @model_validator(mode="after")
    def _one_kind(self) -> DeadlineRule:
        given = [k for k in _KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise PydanticCustomError(
                "deadline_kind",
                "期限 '{name}' 须且只能写 working_days、calendar_days、on、monthly 中的一种，实际写了：{given}",
                {"name": self.name, "given": "、".join(given) or "无"},
            )
        counted = given[0] in ("working_days", "calendar_days")
        if counted and not self.after:
            raise PydanticCustomError(
                "deadline_after", "期限 '{name}' 按天数计算，须用 after 写明从哪个事件或期限起算", {"name": self.name}
            )
        if not counted and self.after is not None:
            raise PydanticCustomError(
                "deadline_after", "期限 '{name}' 是{kind}，不能写 after",
                {"name": self.name, "kind": "固定日期" if given[0] == "on" else "每月期限"},
            )
        return self

    @property
    def kind(self) -> str:
        return next(k for k in _KINDS if getattr(self, k) is not None)


def due(rule: DeadlineRule, anchor_date: date | None, calendar: WorkCalendar) -> date:
    """The date `rule` gives counting from `anchor_date`.

    A fixed date ignores the anchor; a monthly rule gives the deadline of the anchor's month.
    """
    if rule.on is not None:
        return rule.on
    if anchor_date is None:
        raise ValueError(f"deadline {rule.name!r} ({rule.kind}) needs an anchor date")
    if rule.working_days is not None:
        return calendar.add_working_days(anchor_date, rule.working_days)
    if rule.calendar_days is not None:
        return calendar.add_calendar_days(anchor_date, rule.calendar_days)
    return _monthly_due(rule.monthly, anchor_date.year, anchor_date.month, calendar)


def monthly_dates(rule: DeadlineRule, year: int, calendar: WorkCalendar) -> list[date]:
    """The twelve deadlines of a monthly rule in `year`, January first."""
    if rule.monthly is None:
        raise ValueError(f"deadline {rule.name!r} is not monthly")
    return [_monthly_due(rule.monthly, year, month, calendar) for month in range(1, 13)]


def _monthly_due(monthly: MonthlyRule, year: int, month: int, calendar: WorkCalendar) -> date:
    day = date(year, month, monthly.day)
    return calendar.working_day_on_or_after(day) if monthly.holiday == "postpone" else day


def check_rules(rules: Mapping[str, DeadlineRule]) -> list[tuple[tuple[str, ...], Problem]]:
    """Problems in how deadlines refer to each other, each with its key path in the policy.

    The policy loader turns the path (e.g. ("deadlines", "results_public", "after")) into file and line.
    """
    found: list[tuple[tuple[str, ...], Problem]] = []

    def add(rid: str, code: str, message: str, hint: str) -> None:
        where = f"期限 '{rid}' → after"
        found.append((("deadlines", rid, "after"), Problem(code=code, message=message, where=where, hint=hint)))

    for rid, rule in rules.items():
        if rule.after is None:
            continue
        if rule.after not in ANCHORS and rule.after not in rules:
            events = "、".join(f"{key}（{label}）" for key, label in ANCHORS.items())
            add(rid, "C311", f"期限 '{rid}' 的起算点 '{rule.after}' 既不是已知事件，也不是本政策中的期限",
                f"after 可写事件 {events}，或另一个期限的 id：{'、'.join(rules) or '（无）'}")
        elif rule.after in rules and rules[rule.after].monthly is not None:
            add(rid, "C313", f"期限 '{rid}' 从每月期限 '{rule.after}' 起算，但每月期限没有单一日期",
                "改从某个事件起算，或改写为固定日期（on）")

    # Each rule has at most one `after`, so every cycle is found by walking the chains once.
    state: dict[str, int] = {}  # 1: on the current walk, 2: finished
    for first in rules:
        walk: list[str] = []
        rid: str | None = first
        while rid is not None and rid in rules and rid not in state:
            state[rid] = 1
            walk.append(rid)
            rid = rules[rid].after
        if rid is not None and state.get(rid) == 1:
            cycle = walk[walk.index(rid):]
            loop = " → ".join([*cycle, cycle[0]])
            add(cycle[0], "C312", f"期限之间循环引用：{loop}",
                "至少有一个期限应从事件（如 check_completed）起算，而不是从另一个期限起算")
        for seen in walk:
            state[seen] = 2
    return found


def resolve(rules: Mapping[str, DeadlineRule], anchors: Mapping[str, date], calendar: WorkCalendar, *,
            unknown: list[Problem] | None = None) -> dict[str, date]:
    """Every deadline computable from the anchor dates known, following chains.

    `anchors` holds the dates of events that happened, keyed by event name or deadline id; an actual
    date given for a deadline id is what later deadlines count from (a list fetched early moves the
    matching deadline earlier). Deadlines whose chain reaches an unknown date, and monthly rules
    (see `monthly_dates`), are left out. With `unknown` (a list), so is a deadline counted into a year
    whose holidays are not known (C301), and its problem is added to the list instead of raised.
    """
    problems = [problem for _, problem in check_rules(rules)]
    problems += [
        Problem(code="C311", message=f"起算日期 '{key}' 既不是已知事件，也不是期限",
                hint=f"可用：{'、'.join([*ANCHORS, *rules])}")
        for key in anchors if key not in ANCHORS and key not in rules
    ]
    if problems:
        raise SpotcheckError(problems)
    resolved: dict[str, date | None] = {}

    def date_of(rid: str) -> date | None:
        if rid not in resolved:
            rule = rules[rid]
            start = None
            if rule.after is not None:
                start = anchors.get(rule.after)
                if start is None and rule.after in rules:
                    start = date_of(rule.after)
            counted = rule.on is not None or (rule.monthly is None and start is not None)
            try:
                resolved[rid] = due(rule, start, calendar) if counted else None
            except SpotcheckError as err:
                # A year whose holidays nobody has given yet (the next one, late in this one): left out, said.
                if unknown is None or any(p.code != UNKNOWN_YEAR for p in err.problems):
                    raise
                unknown.extend(p for p in err.problems if p not in unknown)
                resolved[rid] = None
        return resolved[rid]

    return {rid: d for rid in rules if (d := date_of(rid)) is not None}


@dataclass(frozen=True)
class DueCount:
    """A count from a start date, with the explanation an officer can check against a paper calendar."""

    due: date
    explanation: str


def count_due(calendar: WorkCalendar, start: date, *, working_days: int | None = None,
              calendar_days: int | None = None) -> DueCount:
    """Count `working_days` or `calendar_days` after `start` (the start day is not counted)."""
    if (working_days is None) == (calendar_days is None):
        raise ValueError("give exactly one of working_days and calendar_days")
    if calendar_days is not None:
        end = calendar.add_calendar_days(start, calendar_days)
        last = start + timedelta(calendar_days)
        text = f"自 {start} 起 {calendar_days} 个自然日（起算日不计入），至 {end}（{WEEKDAYS[end.weekday()]}）届满"
        if end != last:
            off = _describe_days_off([last + timedelta(k) for k in range((end - last).days)], calendar)
            text += f"；第 {calendar_days} 天 {last} 是休息日（{off}），依民法典第二百零三条顺延至其后第一个工作日"
        return DueCount(end, text + "。")
    end = calendar.add_working_days(start, working_days)
    days = [start + timedelta(k) for k in range(1, (end - start).days + 1)]
    skipped = [d for d in days if not calendar.is_workday(d)]
    makeup = [d for d in days if d.weekday() >= 5 and calendar.is_workday(d)]
    parts = [f"自 {start} 起 {working_days} 个工作日（起算日不计入），至 {end}（{WEEKDAYS[end.weekday()]}）届满"]
    parts.append(f"跳过 {len(skipped)} 个休息日" + (f"：{_describe_days_off(skipped, calendar)}" if skipped else ""))
    if makeup:
        parts.append(f"计入调休上班日 {'、'.join(map(str, makeup))}")
    sources = "；".join(f"{year} 年：{calendar.source(year)}" for year in range(start.year, end.year + 1))
    parts.append(f"日历依据 {sources}")
    return DueCount(end, "，".join(parts[:2]) + "；" + "；".join(parts[2:]) + "。")


def _describe_days_off(days_off: list[date], calendar: WorkCalendar) -> str:
    """Runs of consecutive days off: a run holding a festival is named, plain weekends are summed."""
    runs: list[list[date]] = []
    for d in days_off:
        if runs and runs[-1][-1] + timedelta(1) == d:
            runs[-1].append(d)
        else:
            runs.append([d])
    described, weekend_days = [], 0
    for run in runs:
        names = list(dict.fromkeys(n for d in run if (n := calendar.holiday_name(d))))
        if names:
            span = f"{run[0]} 至 {run[-1]}" if len(run) > 1 else str(run[0])
            described.append(f"{'、'.join(names)} {span}（{len(run)} 天）")
        else:
            weekend_days += len(run)
    if weekend_days:
        described.append(f"周末 {weekend_days} 天")
    return "，".join(described)
