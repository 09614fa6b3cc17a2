"""随机抽查通知书: one letter per planned visit, its own document beside the task announcement.

A letter is written after `spotcheck plan`: it reads the draw folder's visits.csv and teams.csv, so
every letter is one visit (all the tasks and items of that visit), signed by the unit that inspects,
with that unit's contact and the names and enforcement certificate numbers of the team, which the
inspectors must show (《市场监督管理行政处罚程序规定》: 执法人员不得少于两人并出示执法证件).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

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
_NAME_BYTES = 200  # of a file name's 255, leaving room for a digest and the suffix


def file_name(text: str) -> str:
    """A unit's or an entity's name as a file or folder name: path separators and control characters
    become “_”, and a long name is cut to fit the file system."""
    name = "".join("_" if c in '/\\:*?"<>|' or ord(c) < 32 else c for c in text).strip(". ") or "_"
    return name.encode("utf-8")[:_NAME_BYTES].decode("utf-8", "ignore")


def unique_name(text: str, taken: dict[str, str]) -> str:
    """file_name(text), told apart from a different text already given the same name (`a/b` and `a:b`)
    by a digest of the text; `taken` maps each name given to its text."""
    name = file_name(text)
    if taken.setdefault(name, text) != text:
        name = f"{name}_{hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]}"
        taken[name] = text
    return name


def _frame(path: Path, needed: Sequence[str], wanted: Sequence[str] = ()) -> pl.DataFrame:
    """A plan file's columns as text (empty cells as ""), `needed` ones checked, `wanted` ones kept when present."""
    try:
        frame = pl.read_csv(path, infer_schema=False, empty_string_is_null=False)
    except FileNotFoundError:
        raise SpotcheckError(Problem(
            "N815", f"抽取结果目录中没有 {path.name}：随机抽查通知书按检查安排（一户一次上门）生成", file=display(path),
            hint="先运行 spotcheck plan 抽取结果目录 --inspectors 执法检查人员名录，再生成通知书")) from None
    except pl.exceptions.PolarsError as exc:
        raise SpotcheckError(Problem("N812", f"{path.name} 无法读取：{type(exc).__name__}", file=display(path),
                                     hint="该文件应由 spotcheck plan 生成，不要手工改动")) from None
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise SpotcheckError(Problem("N812", f"{path.name} 缺少列：{'、'.join(missing)}", file=display(path), row=1,
                                     hint="该文件应由 spotcheck plan 生成，不要手工改动列名"))
    return frame.select(*needed, *(c for c in wanted if c in frame.columns and c not in needed)).fill_null("")


def _member(row: Mapping[str, str]) -> str:
    certificate = (row.get("certificate") or "").strip()
    return f"{row['name']}（执法证号 {certificate}）" if certificate else f"{row['name']}（{row['role']}）"


def _declared_contacts(loaded: LoadedPolicy, unit: str) -> tuple[str, ...] | None:
    """The signing unit's own contact lines: a district bureau's declared contacts, or the plan's contact
    when the issuing bureau itself inspects; None when the unit declares none."""
    policy = loaded.policy
    for d in policy.jurisdiction.districts:
        if d.unit == unit and d.contacts:
            return tuple(_contact_text(d.contacts))
    if unit == policy.jurisdiction.name:
        doc = plan_document(policy)
        if doc is not None and doc.contacts:
            return tuple(_contact_text(doc.contacts))
    return None


def _lead_contact(team: Sequence[Mapping[str, str]]) -> tuple[str, ...]:
    """Without a declared contact the team's lead is the contact — never another unit's telephone."""
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
    return _notice(loaded, draw, _Letters(loaded, draw).letters(visits, teams))


@dataclass(frozen=True)
class LetterBatch:
    """The letters one inspecting unit sends for the visits of one month (month None: no month)."""

    unit: str
    month: int | None
    notice: Notice


def letters_by_unit(loaded: LoadedPolicy, draw: DrawFolder) -> Iterator[LetterBatch]:
    """inspection_letters split per inspecting unit and month, one batch at a time, units in the
    policy's district order: what each unit prints and sends together, and all a city's letters
    never in memory at once (the plan's files are held as columns). Within a batch the letters keep
    inspection_letters' order."""
    same_policy(loaded, draw)
    visits, teams = _planned(draw)
    issuer = loaded.policy.jurisdiction.name
    month = pl.col("month")
    visits = visits.with_columns(
        pl.when(pl.col("inspecting_unit") == "").then(pl.lit(issuer)).otherwise(pl.col("inspecting_unit")).alias("_unit"),
        pl.when(month.str.contains(r"^[0-9]+$")).then(month.cast(pl.Int64, strict=False)).otherwise(None).alias("_month"))
    order = {d.unit: k for k, d in enumerate(loaded.policy.jurisdiction.districts)}
    groups = visits.select("_unit", "_month").unique()
    keys = sorted(((u, m) for u, m in groups.iter_rows()), key=lambda g: (order.get(g[0], len(order)), g[0], g[1] or 0))
    build = _Letters(loaded, draw)
    for unit, mon in keys:
        batch = visits.filter((pl.col("_unit") == unit) & (pl.col("_month").is_null() if mon is None else pl.col("_month") == mon))
        mine = teams.filter(pl.col("visit_id").is_in(batch.get_column("visit_id").implode()))
        yield LetterBatch(unit, mon, _notice(loaded, draw, build.letters(batch, mine)))


def _planned(draw: DrawFolder) -> tuple[pl.DataFrame, pl.DataFrame]:
    visits = _frame(draw.path / "visits.csv", ("visit_id", "uscc", "name", "district", "task_ids", "item_codes",
                                               "inspecting_unit"), ("month",))
    if "month" not in visits.columns:
        visits = visits.with_columns(pl.lit("").alias("month"))
    teams = _frame(draw.path / "teams.csv", ("visit_id", "name", "role"), ("certificate",))
    return visits, teams


class _Letters:
    """The letters of visits. What a letter says of its tasks and items, of its unit and of its district is
    the same for every visit with the same tasks and items, unit or district, so it is worked out once."""

    def __init__(self, loaded: LoadedPolicy, draw: DrawFolder) -> None:
        self.loaded, self.draw = loaded, draw
        self.plan = plan_identity(loaded.policy)[1]
        self._tasks: dict[tuple[str, str], tuple] = {}
        self._contacts: dict[str, tuple[str, ...] | None] = {}
        self._districts: dict[str, tuple[tuple[int, str], str]] = {}

    def _task_texts(self, task_ids: str, item_codes: str) -> tuple:
        key = (task_ids, item_codes)
        if key not in self._tasks:
            loaded, policy = self.loaded, self.loaded.policy
            tasks = [loaded.task(t) for t in task_ids.split("|") if t]
            codes = [c for c in item_codes.split("|") if c]
            items = [loaded.items[c] for c in codes]
            nos = [f"第{task_no(policy, t):03d}号" for t in tasks]
            # One method for every item is said once; otherwise each item names its own.
            methods = {tuple(i.method) for i in items}
            shared = "、".join(next(iter(methods))) if len(methods) == 1 else ""
            lines = [item_line(loaded, c) + (f"（检查方式：{'、'.join(i.method)}）" if i.method and not shared else "")
                     for c, i in zip(codes, items, strict=True)]
            self._tasks[key] = (
                "、".join(nos), "、".join(f"{no}“{t.name}”" for t, no in zip(tasks, nos, strict=True)) + "抽查任务",
                "、".join(dict.fromkeys(i.basis for i in items if i.basis)), tuple(numbered_lines(lines, 1)),
                task_span(policy, tasks), shared)
        return self._tasks[key]

    def _district(self, district: str) -> tuple[tuple[int, str], str]:
        if district not in self._districts:
            policy = self.loaded.policy
            self._districts[district] = (district_order(policy, district), district_name(policy, district))
        return self._districts[district]

    def _unit_contacts(self, unit: str, team: Sequence[Mapping[str, str]]) -> tuple[str, ...]:
        if unit not in self._contacts:
            self._contacts[unit] = _declared_contacts(self.loaded, unit)
        declared = self._contacts[unit]
        return declared if declared is not None else _lead_contact(team)

    def letters(self, visits: pl.DataFrame, teams: pl.DataFrame) -> list[EntityNotice]:
        by_visit: dict[str, list[dict[str, str]]] = {}
        for row in teams.iter_rows(named=True):
            by_visit.setdefault(row["visit_id"], []).append(row)
        issuer = self.loaded.policy.jurisdiction.name
        rows = sorted(visits.iter_rows(named=True), key=lambda r: (
            self._district(r["district"])[0], int(r["month"]) if r["month"].isdigit() else 0, r["uscc"]))
        letters = []
        for v in rows:
            task_no_text, tasks, basis, items, window, methods = self._task_texts(v["task_ids"], v["item_codes"])
            team = by_visit.get(v["visit_id"], [])
            unit = v["inspecting_unit"] or issuer
            letters.append(EntityNotice(
                entity=v["name"], uscc=key_text(v["uscc"]), district=self._district(v["district"])[1], task_no=task_no_text,
                tasks=tasks, plan=self.plan, basis=basis, items=items, window=window, methods=methods, inspector=unit,
                contacts=self._unit_contacts(unit, team), signature=unit, date=self.draw.drawn_on, visit_id=v["visit_id"],
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
