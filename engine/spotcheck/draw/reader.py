"""A draw folder as every stage reads it: the transcript and summary as typed records
(spotcheck.draw.records), the drawn list (draws.csv) and, once planned, the visits (visits.csv).

One reader, one set of codes: a missing file is R510, a file that cannot be read or is not in the
shape the draw writes is R511, a drawn list that disagrees with the summary's counts is R512. The
lists are read when first asked for. With the ledger at hand (`load_draw`), visits.csv is checked
against the `visit` records written when the visits were planned (S832), so a file edited after the
fact is caught before any result is entered against it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import polars as pl
from pydantic import BaseModel, ValidationError
from spotcheck.draw.commitment import Seed
from spotcheck.draw.records import Summary, Transcript
from spotcheck.errors import Problem, SpotcheckError, reason
from spotcheck.ledger.store import Ledger
from spotcheck.plan.visits import DEADLINE_COLUMNS, DRAWS_SCHEMA
from spotcheck.policy.problems import translate

TRANSCRIPT, SUMMARY, DRAWS, VISITS = "transcript.json", "summary.json", "draws.csv", "visits.csv"
_HINT = "抽取结果目录被改动；用 spotcheck verify 核对"
_VISIT_COLUMNS = ("visit_id", "uscc", "name", "task_ids", "item_codes")
_VISIT_LISTS = ("task_ids", "item_codes", "units", "departments", "department_units")
_VISIT_FLAGS = ("joint", "staffed")  # written as true/false


@dataclass(frozen=True, slots=True)
class Visit:
    """One row of DIR/visits.csv: one entity, its tasks and items, checked in one visit."""

    visit_id: str
    uscc: str
    name: str
    district: str
    tier: str
    task_ids: tuple[str, ...]
    item_codes: tuple[str, ...]
    lead_unit: str
    units: tuple[str, ...]
    joint: bool
    inspecting_unit: str
    inspect_by: dt.date | None
    results_due_by: dt.date | None

    @property
    def unit(self) -> str:
        """The body that inspects, enters and publishes the result (谁检查、谁录入、谁公开)."""
        return self.inspecting_unit or self.lead_unit or "（未指定检查机关）"


@dataclass(frozen=True)
class DrawFolder:
    path: Path
    transcript: Transcript
    summary: Summary

    @property
    def draw_id(self) -> str:
        return self.summary.draw_id

    @property
    def drill(self) -> bool:
        return self.transcript.drill

    @property
    def drawn_on(self) -> dt.date:
        return self.transcript.drawn_on

    @property
    def policy_id(self) -> str:
        return self.transcript.policy.id

    @property
    def seed(self) -> Seed:
        return self.transcript.seed.seed()

    @cached_property
    def drawn(self) -> pl.DataFrame:
        """draws.csv, every code column kept as text; checked against the summary's counts (R512)."""
        return self._drawn(list(DRAWS_SCHEMA))

    def drawn_columns(self, *columns: str) -> pl.DataFrame:
        """`drawn`'s `columns` alone, checked as `drawn` is: a province's draws.csv is half a gigabyte, most
        of it hashes and ranks that the notices and the report never read."""
        if "drawn" in self.__dict__:
            return self.drawn.select(columns)
        return self._drawn(list(dict.fromkeys(("task_id", "district", *columns)))).select(columns)

    def _drawn(self, columns: list[str]) -> pl.DataFrame:
        file = self.path / DRAWS
        try:
            frame = pl.read_csv(file, schema=DRAWS_SCHEMA, columns=columns)
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise SpotcheckError(_unreadable(file, exc)) from None
        problems = _count_problems(self.summary, frame, file)
        if problems:
            raise SpotcheckError(problems)
        return frame

    @cached_property
    def visit_frame(self) -> pl.DataFrame:
        """visits.csv with its lists split, its deadlines as dates and its flags as booleans."""
        return read_visits(self.path / VISITS)

    @cached_property
    def visit_ids(self) -> frozenset[str]:
        """The planned visits' ids, without a record per visit."""
        return frozenset(self.visit_frame.get_column("visit_id").to_list())

    @cached_property
    def visits(self) -> dict[str, Visit]:
        """The planned visits by id, in file order."""
        frame = self.visit_frame
        n = frame.height

        def column(name: str) -> list:
            return frame.get_column(name).to_list() if name in frame.columns else [None] * n

        # Column by column: a row dict per visit costs more than the visit itself, at a city's scale. A
        # province's millions of visits repeat a few hundred districts, units, task and item lists and
        # dates: each distinct value is held once (a quarter of the visits' memory).
        shared: dict[object, object] = {}

        def same(value):
            return shared.setdefault(value, value)

        return {
            vid: Visit(vid, uscc or "", name or "", same(district or ""), tier or "", same(tuple(tasks)), same(tuple(items)),
                       same(lead or ""), same(tuple(units or ())), bool(joint), same(inspecting or ""), same(inspect_by),
                       same(due))
            for vid, uscc, name, district, tier, tasks, items, lead, units, joint, inspecting, inspect_by, due in zip(
                *(column(c) for c in ("visit_id", "uscc", "name", "district", "tier", "task_ids", "item_codes",
                                      "lead_unit", "units", "joint", "inspecting_unit", "inspect_by", "results_due_by")),
                strict=True)
        }


def visit_unit(visits: pl.DataFrame) -> pl.Expr:
    """Visit.unit over a visit_frame: the inspecting unit, else the lead unit."""
    def named(column: str) -> pl.Expr:
        return pl.col(column).fill_null("") if column in visits.columns else pl.lit("")

    return pl.when(named("inspecting_unit") != "").then(named("inspecting_unit")) \
        .when(named("lead_unit") != "").then(named("lead_unit")).otherwise(pl.lit("（未指定检查机关）"))


def read_folder(draw_dir: str | Path, *, needs: Iterable[str] = ()) -> DrawFolder:
    """Read a draw folder's transcript and summary (R510 when a file is missing, R511 when unreadable);
    `needs` names the other files the caller reads (draws.csv, visits.csv), checked to be there."""
    path = Path(draw_dir)
    missing = [n for n in dict.fromkeys((TRANSCRIPT, SUMMARY, *needs)) if not (path / n).is_file()]
    if missing:
        raise SpotcheckError([
            Problem("R510", f"抽取结果目录中没有 {name}", file=str(path / name),
                    hint="先安排检查（spotcheck plan 生成 visits.csv 等）" if name in (VISITS, "teams.csv", "workplan.json")
                    else "应指向 spotcheck draw 生成的抽取结果目录")
            for name in missing
        ])
    problems: list[Problem] = []
    transcript = _record(path / TRANSCRIPT, Transcript, problems)
    summary = _record(path / SUMMARY, Summary, problems)
    if problems or transcript is None or summary is None:
        raise SpotcheckError(problems)
    return DrawFolder(path, transcript, summary)


def load_draw(draw_dir: str | Path, ledger: Ledger | None = None) -> DrawFolder:
    """A planned draw folder with its visits read; with a ledger, the visits checked against their
    `visit` records there (S832), so a visits.csv edited after the fact is found."""
    folder = read_folder(draw_dir, needs=(VISITS,))
    # Read now, so a malformed file is reported before anything is done; the visits as records are made
    # only for a caller that asks for them (a province's millions of them take seconds and gigabytes).
    _ = folder.visit_frame
    return folder if ledger is None else checked(folder, ledger)


def checked(folder: DrawFolder, ledger: Ledger) -> DrawFolder:
    """A folder load_draw read without the ledger, checked against it as load_draw with the ledger does (S832)."""
    problems = _ledger_mismatches(folder.visit_frame, ledger, folder.path / VISITS)
    if problems:
        raise SpotcheckError(problems)
    return folder


def read_visits(file: Path) -> pl.DataFrame:
    """visits.csv as the plan wrote it (R511 when it is not)."""
    try:
        frame = pl.read_csv(file, infer_schema=False)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise SpotcheckError(_unreadable(file, exc)) from None
    missing = [c for c in _VISIT_COLUMNS if c not in frame.columns]
    if missing:
        raise SpotcheckError(Problem("R511", f"visits.csv 缺少列：{'、'.join(missing)}", file=str(file), row=1,
                                     hint="visits.csv 由检查安排生成，不要手工修改"))
    # Found by column: a province's millions of ids are not put in a Python set one by one.
    ids = frame.get_column("visit_id")
    wrong = (ids.is_null() | (ids == "") | ~ids.is_first_distinct()).arg_true()
    if wrong.len():
        raise SpotcheckError([
            Problem("R511", f"visits.csv 中检查编号{'为空' if not vid else f' {vid} 重复'}", file=str(file), row=n + 2,
                    column="visit_id")
            for n, vid in zip(wrong.to_list(), ids.gather(wrong).to_list(), strict=True)
        ])
    present = set(frame.columns)
    return frame.with_columns(
        *[pl.col(c).fill_null("") for c in ("method",) if c in present],
        *[pl.col(c).fill_null("").str.split("|").list.eval(pl.element().filter(pl.element() != ""))
          for c in _VISIT_LISTS if c in present],
        *[pl.col(c).str.to_date(strict=False) for c in DEADLINE_COLUMNS if c in present],
        *[pl.col(c) == "true" for c in _VISIT_FLAGS if c in present],
    )


def _unreadable(file: Path, exc: Exception) -> Problem:
    return Problem("R511", f"{file.name} 无法读取：{reason(exc)}", file=str(file), hint=_HINT)


def _record(file: Path, model: type[BaseModel], problems: list[Problem]):
    try:
        return model.model_validate(json.loads(file.read_text("utf-8")))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.append(_unreadable(file, exc))
    except ValidationError as exc:
        for e in exc.errors():
            _, message, hint = translate(e, model)
            problems.append(Problem("R511", f"{file.name} 不是 spotcheck draw 写出的格式：{message}", file=str(file),
                                    where=" → ".join(str(p) for p in e["loc"]) or None,
                                    hint=f"{hint}；{_HINT}" if hint else _HINT))
    return None


def _count_problems(summary: Summary, drawn: pl.DataFrame, file: Path) -> list[Problem]:
    """Where the drawn list disagrees with the summary's counts per task and district."""
    problems = []
    for task in summary.tasks:
        mine = drawn.filter(pl.col("task_id") == task.task_id)
        counted = dict(mine.group_by("district").agg(pl.len()).sort("district").iter_rows())
        if counted != task.by_district or mine.height != task.drawn:
            problems.append(Problem(
                "R512", f"任务 '{task.task_id}' 的抽取名单与 summary.json 不一致：名单 {mine.height} 户 {counted}，"
                        f"汇总 {task.drawn} 户 {task.by_district}",
                file=str(file), hint="抽取结果目录可能被改动过，请用 spotcheck verify 重新核验"))
    unknown = sorted(set(drawn["task_id"].unique().to_list()) - {t.task_id for t in summary.tasks})
    if unknown:
        problems.append(Problem("R512", f"draws.csv 中的任务 {'、'.join(unknown)} 不在 summary.json 中", file=str(file),
                                hint="抽取结果目录可能被改动过，请用 spotcheck verify 重新核验"))
    return problems


# Each compared field's JSON type and value, read by SQLite: a province's millions of `visit` records are never
# decoded into Python. The rowid range (`+kind` keeps SQLite off the kind index) reads the records in chain order
# and in page order, not hopping through the table by key.
_COMPARED = (("uscc", "统一社会信用代码"), ("task_ids", "抽查任务"), ("item_codes", "检查事项"))
_VISIT_RECORDS = ("SELECT key, seq" + "".join(f""", json_type(body, '$."{f}"'), CAST(json_extract(body, '$."{f}"') AS TEXT)"""
                                              for f, _ in _COMPARED)
                  + " FROM records WHERE +kind = 'visit' AND seq BETWEEN ? AND ?")
_VISIT_RANGE = "SELECT min(seq), max(seq) FROM records WHERE kind = 'visit'"


def _as_set(kind: pl.Expr, value: pl.Expr) -> pl.Expr:
    """A ledger body's list, or the same list joined with '|' as in visits.csv (any other value is empty)."""
    # Each branch is given only its own rows' values (null elsewhere): a joined text is not JSON.
    array, text = pl.when(kind == "array").then(value), pl.when(kind == "text").then(value)
    joined = (text.str.split("|").list.eval(pl.element().str.strip_chars())
              .list.eval(pl.element().filter(pl.element() != "")))
    return (pl.when(kind == "array").then(array.str.json_decode(pl.List(pl.Utf8)))
            .when(kind == "text").then(joined)
            .otherwise(pl.lit([], pl.List(pl.Utf8))))


def _ledger_mismatches(visits: pl.DataFrame, ledger: Ledger, file: Path) -> list[Problem]:
    """The `visit` records (the latest of each) that visits.csv (a visit_frame) disagrees with, compared by
    column; a field a record does not have is not compared."""
    lo, hi = next(ledger.chunks(_VISIT_RANGE))[0]
    if lo is None:
        return []
    schema = {"key": pl.Utf8, "seq": pl.Int64} | {f"{c}{f}": pl.Utf8 for f, _ in _COMPARED for c in ("type_", "body_")}
    records = pl.concat([pl.DataFrame(rows, schema=schema, orient="row")
                         for rows in ledger.chunks(_VISIT_RECORDS, (lo, hi))])
    # Read in chain order: grouped keeping it, problems come in the order the visits were first recorded, and
    # `last` is each visit's latest record.
    latest = records.group_by("key", maintain_order=True).last()
    mine = visits.select(pl.col("visit_id").alias("key"), pl.concat_list(pl.col("uscc").fill_null("")).alias("uscc"),
                         "task_ids", "item_codes")
    compared = latest.join(mine, on="key", how="inner", maintain_order="left").select(
        "key", "seq",
        *[(pl.col(f"type_{f}").is_not_null()
           # Compared as sets (`list.sort` costs seconds at a city's size; this does not)
           & (_as_set(pl.col(f"type_{f}"), pl.col(f"body_{f}")).list.set_symmetric_difference(f).list.len() > 0)).alias(f)
          for f, _ in _COMPARED])
    differing = compared.filter(pl.any_horizontal(f for f, _ in _COMPARED))
    return [
        Problem("S832", f"visits.csv 中检查 {key} 的{'、'.join(t for (_, t), d in zip(_COMPARED, flags, strict=True) if d)}"
                        f"与台账记录 #{seq} 不一致",
                file=str(file), where=f"检查 '{key}'", hint="visits.csv 在记入台账后被改动；以台账为准恢复该文件")
        for key, seq, *flags in differing.iter_rows()
    ]
