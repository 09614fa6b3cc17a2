"""China's working-day calendar: which days the State Council's holiday schedule makes working days.

chinese-calendar knows the years it ships data for. Every other year must come from a transcribed
State Council notice (a `YearSchedule`, usually a YAML file in policies/calendars/ or listed under a
policy's `calendars:`). A year nobody knows is an error, never a weekend-only guess: a guess misses
the holidays and the 调休 make-up working days and silently shifts every deadline.

Counting follows Chinese administrative practice: the start day is not counted, so "20 个工作日内"
after 2023-09-25 ends on the 20th working day after that date.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any

import chinese_calendar
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from spotcheck.errors import Problem, SpotcheckError, reason
from spotcheck.resources import POLICIES, local_policies
from spotcheck.policy.yamlsource import parse_text

CALENDARS = POLICIES / "calendars"
"""Schedule files named like `2027.yaml` here are part of every standard calendar."""

_LIBRARY = f"chinese-calendar {version('chinesecalendar')}"
_LIBRARY_YEARS = range(
    min(chinese_calendar.constants.holidays).year, max(chinese_calendar.constants.holidays).year + 1
)
# The library's Chinese names drop 节 from some festivals; officers read the notice's wording.
_FESTIVAL_NAMES = {h.value: h.chinese for h in chinese_calendar.constants.Holiday} | {
    "Tomb-sweeping Day": "清明节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
}
WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
FIRST_YEAR, LAST_YEAR = 2000, 2099
"""The years a policy, schedule or deadline may name: enough for any plan, and far from `date`'s limits,
so counting days from any date a file holds never leaves the calendar."""
DAY_SCHEMA = {"type": "string", "format": "date", "pattern": r"^20[0-9]{2}-[0-9]{2}-[0-9]{2}$"}


def in_years(day: date) -> date:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise PydanticCustomError("day_range", "日期 {value} 超出支持的范围（{first}—{last} 年）",
                                  {"value": day.isoformat(), "first": FIRST_YEAR, "last": LAST_YEAR})
    return day


def _parse_day(value: Any) -> date:
    if isinstance(value, datetime):
        raise PydanticCustomError("day", "应为日期（YYYY-MM-DD），不应带时间：{value}", {"value": str(value)})
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DAY.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise PydanticCustomError(
        "day", "不是有效日期，应写作 YYYY-MM-DD（如 2027-01-01）：{value}", {"value": repr(value)}
    )


Day = Annotated[date, BeforeValidator(_parse_day), AfterValidator(in_years), WithJsonSchema(DAY_SCHEMA)]
"""A calendar date given as a `date` or an ISO `YYYY-MM-DD` string (YAML files keep dates as text)."""


class HolidaySpan(BaseModel):
    """One holiday of a notice, e.g. 春节 2027-02-05 to 2027-02-11, both days off."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    start: Day
    end: Day

    @field_validator("name")
    @classmethod
    def _named(cls, name: str) -> str:
        if not name.strip():
            raise PydanticCustomError("blank", "假期名称不能为空")
        return name

    @model_validator(mode="after")
    def _ordered(self) -> HolidaySpan:
        if self.end < self.start:
            raise PydanticCustomError(
                "span_order",
                "假期 '{name}' 的结束日 {end} 早于开始日 {start}",
                {"name": self.name, "start": self.start.isoformat(), "end": self.end.isoformat()},
            )
        return self

    def days(self) -> Iterable[date]:
        return (self.start + timedelta(k) for k in range((self.end - self.start).days + 1))


@dataclass(frozen=True)
class _Origin:
    """Where a schedule was read from, so its problems point at a file line."""

    file: str
    marks: Mapping[tuple, tuple[int, int]]

    def locate(self, path: tuple) -> tuple[int, int]:
        while path not in self.marks:
            path = path[:-1]
        return self.marks[path]


class YearSchedule(BaseModel):
    """One year's 部分节假日安排 as the State Council published it.

    The New Year holiday of a notice may begin in December of the year before (the 2019 and 2023
    notices did); such dates correct the previous year's calendar.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    year: int = Field(ge=FIRST_YEAR, le=LAST_YEAR)
    source: str
    holidays: tuple[HolidaySpan, ...]
    workdays: tuple[Day, ...] = ()
    _origin: _Origin | None = PrivateAttr(default=None)

    @field_validator("year", mode="before")
    @classmethod
    def _year(cls, year: Any) -> int:
        if isinstance(year, bool) or not isinstance(year, int) or not 1949 < year < 2200:
            raise PydanticCustomError("year", "年份应为四位整数（如 2027）：{value}", {"value": repr(year)})
        return year

    @field_validator("workdays", mode="before")
    @classmethod
    def _none_is_empty(cls, workdays: Any) -> Any:
        # `workdays:` left empty in YAML reads as null: a notice without make-up days.
        return () if workdays is None else workdays

    @field_validator("source")
    @classmethod
    def _sourced(cls, source: str) -> str:
        if not source.strip():
            raise PydanticCustomError("blank", "source 不能为空：写明所抄录的国务院办公厅通知及文号")
        return source

    def holiday_days(self) -> dict[date, str]:
        return {d: span.name for span in self.holidays for d in span.days()}

    def problems(self) -> list[Problem]:
        """What is wrong with this schedule as a transcription of a real notice."""
        found: list[Problem] = []
        first, last = date(self.year - 1, 12, 1), date(self.year, 12, 31)

        def add(code: str, message: str, path: tuple, where: str, hint: str) -> None:
            line = col = None
            if self._origin is not None:
                line, col = self._origin.locate(path)
            found.append(Problem(code=code, message=message, file=self._origin.file if self._origin else None,
                                 line=line, col=col, where=f"{self.year} 年日程 → {where}", hint=hint))

        for i, span in enumerate(self.holidays):
            for key, day in (("start", span.start), ("end", span.end)):
                if not first <= day <= last:
                    add("C304", f"日期 {day} 不在 {self.year} 年日程的范围内", ("holidays", i, key),
                        f"假期 '{span.name}' → {key}",
                        f"日期应在 {first} 至 {last} 之间（元旦假期可从上一年 12 月开始）；其他年份请另写日程文件")
        # Only spans inside the year: a mistyped end year would otherwise expand to decades of days.
        off = {d: span.name for span in self.holidays if first <= span.start and span.end <= last for d in span.days()}
        for i, day in enumerate(self.workdays):
            where = f"调休上班日 {day}"
            if not first <= day <= last:
                add("C304", f"调休上班日 {day} 不在 {self.year} 年日程的范围内", ("workdays", i), where,
                    f"日期应在 {first} 至 {last} 之间；其他年份请另写日程文件")
            if day in off:
                add("C306", f"{day} 既列为调休上班日，又在假期 '{off[day]}' 之内", ("workdays", i), where,
                    "对照通知原文：上班日与放假日不会重叠，检查假期起止日或上班日是否抄错")
            elif day.weekday() < 5:
                add("C307", f"调休上班日 {day} 是{WEEKDAYS[day.weekday()]}，本来就是工作日", ("workdays", i), where,
                    "workdays 只列通知中“上班”的周六、周日；检查日期是否抄错")
        return found

    def content(self) -> tuple[frozenset[date], frozenset[date]]:
        """The days this schedule decides: (days off, make-up working days)."""
        return frozenset(self.holiday_days()), frozenset(self.workdays)


@dataclass(frozen=True)
class _Year:
    workdays: tuple[date, ...]  # sorted
    workday_set: frozenset[date]
    holiday_names: Mapping[date, str]
    source: str


class WorkCalendar:
    """Working days for every year chinese-calendar knows, plus the schedules given; immutable."""

    __slots__ = ("_schedules", "_years")

    def __init__(self, schedules: Iterable[YearSchedule] = ()) -> None:
        chosen, problems = _choose(schedules)
        if problems:
            raise SpotcheckError(problems)
        object.__setattr__(self, "_schedules", MappingProxyType(chosen))
        # Filled lazily, one entry per year asked for; values never change once computed.
        object.__setattr__(self, "_years", {})

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("WorkCalendar 构造后不可修改")

    @classmethod
    def from_files(cls, paths: Iterable[str | Path]) -> WorkCalendar:
        """A calendar from YAML schedule files; every problem in every file is reported at once."""
        schedules: list[YearSchedule] = []
        problems: list[Problem] = []
        for path in paths:
            loaded = _load_schedule(Path(path))
            if isinstance(loaded, YearSchedule):
                schedules.append(loaded)
            else:
                problems += loaded
        if problems:
            # Report the readable files' problems in the same pass as the unreadable ones.
            raise SpotcheckError(problems + _choose(schedules)[1])
        return cls(schedules)

    @classmethod
    def standard(cls, extra: Iterable[str | Path] = (), *, policy: Path | None = None) -> WorkCalendar:
        """The library's years, then the schedules named like 2027.yaml in calendars/ of the bundled policies, of
        the working folder's policies/ and of the policies tree `policy` is in (a bureau's own repository: where
        C301 tells an officer to put next year's), then `extra`."""
        folders = [CALENDARS, local_policies() / "calendars"]
        if policy is not None:
            # As given where it names the tree (a problem in the file then reads as validate names it), else resolved.
            trees = [t for t in (*Path(policy).parents, *Path(policy).resolve().parents) if t.name == "policies"]
            folders += [trees[0] / "calendars"] if trees else []
        seen: set[Path] = set()
        files = []
        for path in [*(f for folder in folders if folder.is_dir() for f in sorted(folder.glob("[0-9][0-9][0-9][0-9].yaml"))),
                     *map(Path, extra)]:
            if path.resolve() not in seen:  # one folder reached two ways (this checkout's policies/ is the bundled one)
                seen.add(path.resolve())
                files.append(path)
        return cls.from_files(files)

    def known_years(self) -> tuple[int, ...]:
        return tuple(sorted(set(_LIBRARY_YEARS) | set(self._schedules)))

    def source(self, year: int) -> str:
        """What the year's days rest on: the transcribed notice, or the chinese-calendar release."""
        return self._year(year).source

    def is_workday(self, day: date) -> bool:
        day = _as_day(day)
        return day in self._year(day.year).workday_set

    def holiday_name(self, day: date) -> str | None:
        """The festival a day off belongs to (None for plain weekends and working days)."""
        day = _as_day(day)
        return self._year(day.year).holiday_names.get(day)

    def working_day_on_or_after(self, day: date) -> date:
        day = _as_day(day)
        return day if self.is_workday(day) else self.add_working_days(day, 1)

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start`; `start` itself is not counted (起算日不计入)."""
        start = _as_day(start)
        if n < 0:
            raise ValueError(f"n must not be negative, got {n}")
        year = start.year
        days = self._year(year).workdays
        if n == 0:
            return start
        i = bisect_right(days, start)
        while i + n > len(days):
            n -= len(days) - i
            year, i = year + 1, 0
            days = self._year(year).workdays
        return days[i + n - 1]

    def add_calendar_days(self, start: date, n: int) -> date:
        """The n-th day after `start` (自然日), moved to the next working day when it is a day off:
        民法典 第二百零三条 — a period whose last day is a statutory day off ends on the day after it."""
        return self.working_day_on_or_after(_as_day(start) + timedelta(days=n))

    def working_days_between(self, a: date, b: date) -> int:
        """Working days after `a` up to and including `b`; negative when `b` is before `a`."""
        a, b = _as_day(a), _as_day(b)
        if b < a:
            return -self.working_days_between(b, a)
        total = 0
        for year in range(a.year, b.year + 1):
            days = self._year(year).workdays
            low = bisect_right(days, a) if year == a.year else 0
            high = bisect_right(days, b) if year == b.year else len(days)
            total += high - low
        return total

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is None:
            cached = self._years[year] = self._build(year)
        return cached

    def _build(self, year: int) -> _Year:
        schedule = self._schedules.get(year)
        every_day = [date(year, 1, 1) + timedelta(k) for k in range((date(year + 1, 1, 1) - date(year, 1, 1)).days)]
        if schedule is not None:
            off = schedule.holiday_days()
            extra = set(schedule.workdays)
            work = {d for d in every_day if (d.weekday() < 5 and d not in off) or d in extra}
            names = {d: name for d, name in off.items() if d.year == year}
            source = schedule.source
        elif year in _LIBRARY_YEARS:
            # get_holiday_detail's flag is exactly `not is_workday`, and it also names the festival.
            work, names = set(), {}
            for d in every_day:
                is_off, name = chinese_calendar.get_holiday_detail(d)
                if not is_off:
                    work.add(d)
                elif name:
                    names[d] = _FESTIVAL_NAMES.get(name, name)
            source = _LIBRARY
        else:
            raise SpotcheckError(_unknown_year(year))
        following = self._schedules.get(year + 1)
        if following is not None:
            # The next year's notice may move days at the end of December (its New Year holiday).
            moved_off = {d: name for d, name in following.holiday_days().items() if d.year == year}
            moved_work = {d for d in following.workdays if d.year == year}
            work = (work - moved_off.keys()) | moved_work
            names.update(moved_off)
            if moved_off or moved_work:
                source = f"{source}；12 月部分依据 {following.source}"
        return _Year(tuple(sorted(work)), frozenset(work), MappingProxyType(names), source)


def _choose(schedules: Iterable[YearSchedule]) -> tuple[dict[int, YearSchedule], list[Problem]]:
    """One schedule per year, and every problem of every schedule."""
    chosen: dict[int, YearSchedule] = {}
    problems: list[Problem] = []
    for schedule in schedules:
        own = schedule.problems()
        problems += own
        if own:
            continue
        kept = chosen.setdefault(schedule.year, schedule)
        if kept is not schedule and kept.content() != schedule.content():
            problems.append(_duplicate(kept, schedule))
    return chosen, problems


def _as_day(day: date) -> date:
    # A datetime compares unequal to every date, so it would silently count as a day off.
    if isinstance(day, datetime):
        return day.date()
    if not isinstance(day, date):
        raise TypeError(f"expected a date, got {type(day).__name__}")
    return day


UNKNOWN_YEAR = "C301"


def schedule_hint(year: int) -> str:
    """Where a year's schedule goes: the fix for C301, and for W924 before it comes to that."""
    return (f"按国务院办公厅关于{year}年部分节假日安排的通知，写一个日程文件放在 policies/calendars/{year}.yaml"
            f"（格式见 policies/calendars/README.md），或在政策文件的 calendars: 中列出该文件；"
            f"不会按“只有周末休息”推算")


def _unknown_year(year: int) -> Problem:
    return Problem(
        code=UNKNOWN_YEAR,
        message=f"不知道 {year} 年的节假日安排，无法计算工作日（已知年份："
        f"{_LIBRARY_YEARS.start}–{_LIBRARY_YEARS.stop - 1} 年及已提供日程的年份）",
        hint=schedule_hint(year),
    )


def _duplicate(kept: YearSchedule, other: YearSchedule) -> Problem:
    files = [s._origin.file if s._origin else "（程序内提供）" for s in (kept, other)]
    line = other._origin.locate(("year",)) if other._origin else (None, None)
    return Problem(
        code="C308",
        message=f"{other.year} 年有两份内容不同的日程：{files[0]} 与 {files[1]}",
        file=other._origin.file if other._origin else None,
        line=line[0],
        col=line[1],
        where=f"{other.year} 年日程",
        hint="同一年只保留一份，与国务院办公厅通知原文核对后删去另一份",
    )


def _load_schedule(path: Path) -> YearSchedule | list[Problem]:
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [Problem(code="C302", message=f"无法读取日程文件：{reason(exc)}", file=file,
                        hint="检查路径是否正确、文件是否为 UTF-8 编码的 YAML")]
    try:
        data, positions, duplicates = parse_text(text, file)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return [Problem(code="C302", message="日程文件不是有效的 YAML：此处的写法不符合 YAML 格式",
                        file=file, line=mark.line + 1 if mark else None, col=mark.column + 1 if mark else None,
                        hint="检查缩进、冒号和引号")]
    if not isinstance(data, dict):
        return [*duplicates, Problem(code="C303", message="日程文件应是一个映射（year、source、holidays、workdays）",
                                     file=file, line=1, col=1, hint="格式见 policies/calendars/README.md")]
    origin = _Origin(file, MappingProxyType({at: (pos.line, pos.col) for at, pos in positions.values.items()}))
    try:
        schedule = YearSchedule.model_validate(data)
    except ValidationError as exc:
        return [*duplicates, *(_field_problem(err, origin, data) for err in exc.errors())]
    if duplicates:
        return duplicates
    schedule._origin = origin
    return schedule


_PYDANTIC_MESSAGES = {
    "missing": "缺少必填项",
    "extra_forbidden": "不认识的键（拼写错误？）",
    "string_type": "应为文本",
    "tuple_type": "应为列表",
    "list_type": "应为列表",
    "model_type": "应为映射（键: 值）",
    "model_attributes_type": "应为映射（键: 值）",
    "dict_type": "应为映射（键: 值）",
}


def _field_problem(err: Mapping[str, Any], origin: _Origin, data: Mapping[str, Any]) -> Problem:
    loc = tuple(err["loc"])
    line, col = origin.locate(loc)
    message = _PYDANTIC_MESSAGES.get(err["type"], err["msg"])
    where = []
    for i, key in enumerate(loc):
        if isinstance(key, int) and loc[:i] == ("holidays",):
            spans = data.get("holidays")
            name = spans[key].get("name") if isinstance(spans, list) and isinstance(spans[key], dict) else None
            where.append(f"假期 '{name}'" if name else f"第 {key + 1} 项")
        elif isinstance(key, int):
            where.append(f"第 {key + 1} 项")
        else:
            where.append(str(key))
    return Problem(
        code="C303",
        message=f"{' → '.join(map(str, loc)) or '日程'}：{message}",
        file=origin.file,
        line=line,
        col=col,
        where=" → ".join(where) or None,
        hint="格式见 policies/calendars/README.md：year、source、holidays（name、start、end）、workdays",
    )
