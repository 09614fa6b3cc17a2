"""Warnings when a policy's dates and texts name another year than the policy's own, or its year's holidays are
not known yet.

A plan copied from last year keeps "为切实做好2021年…" or last year's 成文日期 and still validates;
these are warnings (the policy stays usable), each at the line that names the other year.

Only what the file itself writes is read: a parent's texts belong to the parent's year. A year cited
with a document — inside 《…》 or in the （…） right after its closing 》, as in
《…工作指引》（2020年8月版） — is that document's year and is not warned about; other intended mentions
("2019年度年报") are listed under the policy's `year_mentions`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import replace
from datetime import date
from typing import Any

from spotcheck.calendar.workdays import schedule_hint
from spotcheck.errors import Problem
from spotcheck.policy.yamlsource import Document, Path_, place

WARNING = "warning"

_YEAR = re.compile(r"(?<!\d)(20\d\d)\s*年")
# A cited document's title, and the edition or number in parentheses right after it.
_CITATION = re.compile(r"《[^《》]*》(?:[（(][^（）()]*[）)])?")
# Keys whose text is not prose: ids, file references and the acknowledged mentions themselves.
_NOT_PROSE = {"id", "extends", "item_lists", "calendars", "year_mentions", "default_document"}


def year_warnings(doc: Document, year: int) -> list[Problem]:
    """Every date and text in `doc` that names a year other than `year` (W920–W923)."""
    data = doc.data if isinstance(doc.data, dict) else {}
    acknowledged = [m for m in data.get("year_mentions", []) if isinstance(m, str) and m]
    found = [*_date_warnings(doc, data, year)]
    for path, text in _texts(data, ()):
        for other, phrase in _other_years(text, year, acknowledged):
            found.append(_warn(doc, path, Problem(
                "W923", f"文字中写有“{phrase}”，与策略年度 {year} 年不同",
                hint=f"沿用上一年度文件时请改成 {year} 年；确属有意提及（如上一年度年报），"
                     f"把这段原文（如“{phrase}”）加到 year_mentions 中")))
    return found


def calendar_warning(doc: Document, year: int, known: Collection[int]) -> list[Problem]:
    """W924 at `year:` when the year's holidays are not known. The policy is whole and validates, but every deadline
    of its year is counted in working days, so its draws, plans and year board would stop at C301: a bureau writing
    next year's plan in December learns it now, not on the day of its first draw."""
    if year in known:
        return []
    return [_warn(doc, ("year",), Problem(
        "W924", f"不知道策略年度 {year} 年的节假日安排：结果公示、获取名单、匹配人员等期限按工作日计算，"
                f"抽取和检查安排将无法进行（C301）",
        hint=schedule_hint(year)))]


def _date_warnings(doc: Document, data: dict[str, Any], year: int) -> Iterator[Problem]:
    for i, document in enumerate(data.get("documents") or []):
        if not isinstance(document, dict):
            continue
        written = _date(document.get("date"))
        if written is not None and written.year != year:
            yield _warn(doc, ("documents", i, "date"), Problem(
                "W920", f"成文日期 {written} 不在策略年度 {year} 年",
                hint=f"沿用上一年度文件时请改成本次发文的日期；{year} 年的计划在上一年年底发文的，可忽略此提醒"))
        number = document.get("number")
        seq_year = number.get("year") if isinstance(number, dict) else None
        if isinstance(seq_year, int) and written is not None and seq_year != written.year:
            yield _warn(doc, ("documents", i, "number", "year"), Problem(
                "W921", f"发文字号的年份 {seq_year} 与成文日期 {written} 的年份不同",
                hint=f"发文字号〔年份〕应为成文日期所在的年份 {written.year}"))
    revision = data.get("revision")
    others: list[tuple[Path_, str]] = [(("targets_due",), "目标完成时限")]
    if isinstance(revision, dict):
        others += [(("revision", "date"), "修订日期"), (("revision", "published"), "修订后公示日期")]
    deadlines = data.get("deadlines")
    if isinstance(deadlines, dict):
        others += [(("deadlines", key, "on"), "期限日期") for key in deadlines]
    for path, what in others:
        written = _date(_get(data, path))
        if written is not None and written.year != year:
            yield _warn(doc, path, Problem(
                "W922", f"{what} {written} 不在策略年度 {year} 年",
                hint=f"沿用上一年度文件时请改成 {year} 年的日期；确需跨年的（如次年初的时限）可忽略此提醒"))


def _other_years(text: str, year: int, acknowledged: list[str]) -> Iterator[tuple[int, str]]:
    covered = [m.span() for a in acknowledged for m in re.finditer(re.escape(a), text)]
    covered += [m.span() for m in _CITATION.finditer(text)]
    for match in _YEAR.finditer(text):
        other = int(match.group(1))
        if other == year or any(s <= match.start() and match.end() <= e for s, e in covered):
            continue
        yield other, _phrase(text, match)


def _phrase(text: str, match: re.Match[str]) -> str:
    """The year and the few characters after it ("2019年度年报"), cut at punctuation: enough to find
    the mention in the file and to acknowledge it under year_mentions."""
    end = match.end()
    while end < len(text) and end - match.end() < 3 and text[end] not in "，。；：、（）《》“”\n ":
        end += 1
    return text[match.start():end]


def _texts(value: Any, path: Path_) -> Iterator[tuple[Path_, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, sub in value.items():
            if key not in _NOT_PROSE:
                yield from _texts(sub, (*path, key))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from _texts(sub, (*path, i))


def _get(data: Any, path: Path_) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _warn(doc: Document, path: Path_, problem: Problem) -> Problem:
    return replace(place(problem, doc.positions, path, doc.data), severity=WARNING)
