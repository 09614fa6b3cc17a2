"""随机抽查通知书: one letter per planned visit, its own document beside the task announcement.

A letter is written after `spotcheck plan`: it reads the draw folder's visits.csv and teams.csv, so
every letter is one visit (all the tasks and items of that visit), signed by the unit that inspects,
with that unit's contact and the names and enforcement certificate numbers of the team, which the
inspectors must show (《市场监督管理行政处罚程序规定》: 执法人员不得少于两人并出示执法证件).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from spotcheck.directory.kinds import key_text
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.notices.announcements import (
    DrawFolder,
    district_name,
    district_order,
    plan_identity,
    same_policy,
    task_span,
)
from spotcheck.notices.content import item_line, numbered_lines, plan_document, task_no
from spotcheck.notices.model import EntityNotice, Notice
from spotcheck.policy.loader import LoadedPolicy
from spotcheck.policy.model import Contact
from spotcheck.policy.yamlsource import display

LEAD_ROLES = ("主查", "主查人")  # the plan's word and the results fixtures' word for the team's lead


def _rows(path: Path, needed: Sequence[str]) -> list[dict[str, str]]:
    try:
        text = path.read_text("utf-8-sig")
    except FileNotFoundError:
        raise SpotcheckError(Problem(
            "N815", f"抽取结果目录中没有 {path.name}：随机抽查通知书按检查安排（一户一次上门）生成", file=display(path),
            hint="先运行 spotcheck plan 抽取结果目录 --inspectors 执法检查人员名录，再生成通知书")) from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in needed if c not in (reader.fieldnames or [])]
    if missing:
        raise SpotcheckError(Problem("N812", f"{path.name} 缺少列：{'、'.join(missing)}", file=display(path), row=1,
                                     hint="该文件应由 spotcheck plan 生成，不要手工改动列名"))
    return list(reader)


def _member(row: Mapping[str, str]) -> str:
    certificate = (row.get("certificate") or "").strip()
    return f"{row['name']}（执法证号 {certificate}）" if certificate else f"{row['name']}（{row['role']}）"


def _unit_contacts(loaded: LoadedPolicy, unit: str, team: Sequence[Mapping[str, str]]) -> tuple[str, ...]:
    """The signing unit's own contact: a district bureau's declared contacts, the plan's contact when
    the issuing bureau itself inspects, else the team's lead — never another unit's telephone."""
    policy = loaded.policy
    for d in policy.jurisdiction.districts:
        if d.unit == unit and d.contacts:
            return tuple(_contact_text(d.contacts))
    if unit == policy.jurisdiction.name:
        doc = plan_document(policy)
        if doc is not None and doc.contacts:
            return tuple(_contact_text(doc.contacts))
    lead = next((m for m in team if m["role"] in LEAD_ROLES), team[0] if team else None)
    return (f"联系人：{lead['name']}（主查）",) if lead else ()


def _contact_text(contacts: Sequence[Contact]) -> list[str]:
    """A line per contact and the e-mail on its own line, so no code or address wraps mid-token."""
    lines = []
    for c in contacts:
        lines.append(f"联系人：{c.unit or ''}{c.name}" + (f"　联系电话：{c.phone}" if c.phone else ""))
        if c.email:
            lines.append(f"电子邮箱：{c.email}")
    return lines


def inspection_letters(loaded: LoadedPolicy, draw: DrawFolder) -> Notice:
    """One 随机抽查通知书 per planned visit, in district order, each a page of its own."""
    same_policy(loaded, draw)
    visits, teams = _planned(draw)
    return _notice(loaded, draw, _letters(loaded, draw, visits, teams))


@dataclass(frozen=True)
class LetterBatch:
    """The letters one inspecting unit sends for the visits of one month (month None: no month)."""

    unit: str
    month: int | None
    notice: Notice


def letters_by_unit(loaded: LoadedPolicy, draw: DrawFolder) -> Iterator[LetterBatch]:
    """inspection_letters split per inspecting unit and month, one batch at a time, units in the
    policy's district order: what each unit prints and sends together, and all a city's letters
    never in memory at once. Within a batch the letters keep inspection_letters' order."""
    same_policy(loaded, draw)
    visits, teams = _planned(draw)
    issuer = loaded.policy.jurisdiction.name
    groups: dict[tuple[str, int | None], list[dict[str, str]]] = {}
    for v in visits:
        month = int(v["month"]) if (v.get("month") or "").isdigit() else None
        groups.setdefault((v["inspecting_unit"] or issuer, month), []).append(v)
    order = {d.unit: k for k, d in enumerate(loaded.policy.jurisdiction.districts)}
    for (unit, month) in sorted(groups, key=lambda g: (order.get(g[0], len(order)), g[0], g[1] or 0)):
        yield LetterBatch(unit, month, _notice(loaded, draw, _letters(loaded, draw, groups.pop((unit, month)), teams)))


def _planned(draw: DrawFolder) -> tuple[list[dict[str, str]], dict[str, list[dict[str, str]]]]:
    visits = _rows(draw.path / "visits.csv", ("visit_id", "uscc", "name", "district", "task_ids", "item_codes",
                                              "inspecting_unit"))
    teams: dict[str, list[dict[str, str]]] = {}
    for row in _rows(draw.path / "teams.csv", ("visit_id", "name", "role")):
        teams.setdefault(row["visit_id"], []).append(row)
    return visits, teams


def _letters(loaded: LoadedPolicy, draw: DrawFolder, visits: Sequence[Mapping[str, str]],
             teams: Mapping[str, list[dict[str, str]]]) -> list[EntityNotice]:
    policy = loaded.policy
    _, plan = plan_identity(policy)
    letters = []
    for v in sorted(visits, key=lambda r: (district_order(policy, r["district"]), int(r.get("month") or 0), r["uscc"])):
        tasks = [loaded.task(t) for t in v["task_ids"].split("|") if t]
        codes = [c for c in v["item_codes"].split("|") if c]
        items = [loaded.items[c] for c in codes]
        nos = [f"第{task_no(policy, t):03d}号" for t in tasks]
        # One method for every item is said once; otherwise each item names its own.
        methods = {tuple(i.method) for i in items}
        shared = "、".join(next(iter(methods))) if len(methods) == 1 else ""
        lines = [item_line(loaded, c) + (f"（检查方式：{'、'.join(i.method)}）" if i.method and not shared else "")
                 for c, i in zip(codes, items, strict=True)]
        team = teams.get(v["visit_id"], [])
        unit = v["inspecting_unit"] or policy.jurisdiction.name
        letters.append(EntityNotice(
            entity=v["name"], uscc=key_text(v["uscc"]), district=district_name(policy, v["district"]), task_no="、".join(nos),
            tasks="、".join(f"{no}“{t.name}”" for t, no in zip(tasks, nos, strict=True)) + "抽查任务",
            plan=plan, basis="、".join(dict.fromkeys(i.basis for i in items if i.basis)),
            items=tuple(numbered_lines(lines, 1)), window=task_span(policy, tasks), methods=shared, inspector=unit,
            contacts=_unit_contacts(loaded, unit, team), signature=unit, date=draw.drawn_on, visit_id=v["visit_id"],
            team=tuple(_member(m) for m in team),
        ))
    return letters


def _notice(loaded: LoadedPolicy, draw: DrawFolder, letters: Sequence[EntityNotice]) -> Notice:
    issuer = loaded.policy.jurisdiction.name
    return Notice(
        kind="inspection_letter", letter=False, issuer=issuer, number=None,
        title=f"随机抽查通知书{'（演练）' if draw.drill else ''}", addressees=None, preamble=(), body=(), contacts=(),
        attachments=(), signature=issuer, date=draw.drawn_on, disclosure=None, cc=None, printed_by=None,
        entity_notices=tuple(letters), drill=draw.drill, draw_id=draw.draw_id,
    )
