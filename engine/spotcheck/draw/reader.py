"""A draw folder as the results stage reads it: the draw's transcript and its visits (visits.csv).

With the ledger at hand, visits.csv is checked against the `visit` records written when the visits were
planned, so a file edited after the fact is caught before any result is entered against it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from spotcheck.draw.commitment import canonical, sha256_text
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.ledger.chain import Record
from spotcheck.ledger.store import Ledger


@dataclass(frozen=True)
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
    draw_id: str
    drawn_on: dt.date
    policy_id: str
    drill: bool
    visits: dict[str, Visit]  # in file order
    summary: dict


_VISIT_COLUMNS = ("visit_id", "uscc", "name", "task_ids", "item_codes")
_TRUE = {"true", "1", "是", "yes", "y", "t"}


def _split(text: str | None, seps: str = "|") -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(p.strip() for p in re.split(f"[{re.escape(seps)}]", text) if p.strip())


def _iso(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip()) if text and text.strip() else None
    except ValueError:
        return None


def load_draw(draw_dir: str | Path, ledger: Ledger | None = None) -> DrawFolder:
    """Read a draw folder's transcript and visits (S830/S831); with a ledger, check the visits
    against their `visit` records there (S832), so a visits.csv edited after the fact is found."""
    path = Path(draw_dir)
    problems: list[Problem] = []
    for name in ("transcript.json", "visits.csv"):
        if not (path / name).is_file():
            hint = "先运行 spotcheck draw" if name == "transcript.json" else "先安排检查（生成 visits.csv）"
            problems.append(Problem("S830", f"抽取目录中没有 {name}", file=str(path / name), hint=hint))
    if problems:
        raise SpotcheckError(problems)
    try:
        transcript = json.loads((path / "transcript.json").read_text("utf-8"))
        summary_path = path / "summary.json"
        summary = json.loads(summary_path.read_text("utf-8")) if summary_path.is_file() else {}
        drawn_on = dt.date.fromisoformat(transcript["drawn_on"])
        policy_id = transcript["policy"]["id"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SpotcheckError(Problem("S831", f"抽取记录无法读取：{exc}", file=str(path / "transcript.json"),
                                     hint="抽取目录被改动；用 spotcheck verify 核对")) from None
    draw_id = summary.get("draw_id") or sha256_text(canonical(transcript))[:16]
    visits_file = path / "visits.csv"
    try:
        reader = csv.DictReader(io.StringIO(visits_file.read_text("utf-8-sig"), newline=""))
        rows = list(reader)
        header = reader.fieldnames or []
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SpotcheckError(Problem("S831", f"visits.csv 无法读取：{exc}", file=str(visits_file))) from None
    missing = [c for c in _VISIT_COLUMNS if c not in header]
    if missing:
        raise SpotcheckError(Problem("S831", f"visits.csv 缺少列：{'、'.join(missing)}", file=str(visits_file),
                                     row=1, hint="visits.csv 由检查安排生成，不要手工修改"))
    visits: dict[str, Visit] = {}
    for n, r in enumerate(rows, start=2):
        vid = (r.get("visit_id") or "").strip()
        if not vid or vid in visits:
            problems.append(Problem("S831", f"visits.csv 中检查编号{'为空' if not vid else f' {vid} 重复'}",
                                    file=str(visits_file), row=n, column="visit_id"))
            continue
        visits[vid] = Visit(
            visit_id=vid,
            uscc=(r.get("uscc") or "").strip(),
            name=(r.get("name") or "").strip(),
            district=(r.get("district") or "").strip(),
            tier=(r.get("tier") or "").strip(),
            task_ids=_split(r.get("task_ids")),
            item_codes=_split(r.get("item_codes")),
            lead_unit=(r.get("lead_unit") or "").strip(),
            units=_split(r.get("units")),
            joint=(r.get("joint") or "").strip().casefold() in _TRUE,
            inspecting_unit=(r.get("inspecting_unit") or "").strip(),
            inspect_by=_iso(r.get("inspect_by")),
            results_due_by=_iso(r.get("results_due_by")),
        )
    if ledger is not None:
        problems += _ledger_mismatches(visits, ledger, visits_file)
    if problems:
        raise SpotcheckError(problems)
    return DrawFolder(path, draw_id, drawn_on, policy_id, bool(transcript.get("drill")), visits, summary)


def _as_set(value: object) -> frozenset[str]:
    """A ledger body's list, or the same list joined with '|' as in visits.csv."""
    if isinstance(value, str):
        return frozenset(_split(value))
    if isinstance(value, list):
        return frozenset(str(v) for v in value)
    return frozenset()


def _ledger_mismatches(visits: Mapping[str, Visit], ledger: Ledger, file: Path) -> list[Problem]:
    latest: dict[str, Record] = {}
    for record in ledger.iter("visit"):
        if record.key in visits:
            latest[record.key] = record
    problems = []
    for key, record in latest.items():
        visit, body = visits[key], record.body
        differs = [
            title
            for field, title, mine in (
                ("uscc", "统一社会信用代码", frozenset([visit.uscc])),
                ("task_ids", "抽查任务", frozenset(visit.task_ids)),
                ("item_codes", "检查事项", frozenset(visit.item_codes)),
            )
            if field in body and _as_set(body[field]) != mine
        ]
        if differs:
            problems.append(Problem("S832", f"visits.csv 中检查 {visit.visit_id} 的{'、'.join(differs)}与台账记录 #{record.seq} 不一致",
                                    file=str(file), where=f"检查 '{visit.visit_id}'",
                                    hint="visits.csv 在记入台账后被改动；以台账为准恢复该文件"))
    return problems
