"""A list of the entities whose latest result is of given categories, for next year's plan to adopt.

Plans target "上年度检查发现问题的主体" or "上次检查未发现问题的" as often as they target a label. The
results are in the ledger; this writes the entities whose latest result (by completion date, over the
draws given) has one of the wanted categories as a list file, with its SHA-256, which a policy then
adopts under `lists:` (spotcheck.policy.lists) — so the draw reads exactly the list the plan names.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from spotcheck.draw.reader import load_draw
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.ledger.store import Ledger
from spotcheck.results.categories import CATEGORIES, CATEGORY_VOCAB, scan
from spotcheck.results.records import tracks

COLUMNS = {"uscc": "统一社会信用代码", "name": "市场主体名称", "categories": "检查结果", "completed_on": "检查完成日期",
           "visit_id": "检查编号"}


@dataclass(frozen=True)
class ResultList:
    path: Path
    rows: int
    sha256: str
    categories: tuple[str, ...]


def wanted_categories(words: Iterable[str], problems: bool) -> tuple[str, ...]:
    """The category codes the officer named (codes or names), plus every problem category with `problems`."""
    codes: list[str] = [c.code for c in CATEGORIES.values() if c.problem] if problems else []
    unknown: list[str] = []
    for word in words:
        found, rest = scan(word, CATEGORY_VOCAB)
        codes += [c for c in found if c not in codes]
        unknown += rest
    if unknown or not codes:
        known = "、".join(f"{c.code} {c.name}" for c in CATEGORIES.values())
        raise SpotcheckError(Problem("P275", f"不认识的检查结果：{'、'.join(unknown)}" if unknown else "没有指定检查结果",
                                     hint=f"用 --category 写检查结果的代码或名称（{known}），或用 --problems 选发现问题的全部结果"))
    return tuple(codes)


def result_list(draw_dirs: Iterable[str | Path], out: str | Path, *, ledger_path: str | Path,
                categories: tuple[str, ...]) -> ResultList:
    """Write the list: one row per entity whose latest recorded result has one of `categories`."""
    latest: dict[str, tuple[dt.date, str, dict]] = {}
    with Ledger.open(ledger_path, create=False) as ledger:
        for draw_dir in draw_dirs:
            folder = load_draw(draw_dir, ledger)
            for track in tracks(folder, ledger):
                if track.result is None or track.completed_on is None:
                    continue
                v = track.visit
                row = {"uscc": v.uscc, "name": v.name, "categories": "；".join(CATEGORIES[c].name for c in track.categories if c in CATEGORIES),
                       "completed_on": track.completed_on.isoformat(), "visit_id": v.visit_id, "_codes": track.categories}
                key = (track.completed_on, v.visit_id)
                if v.uscc not in latest or key > latest[v.uscc][:2]:
                    latest[v.uscc] = (*key, row)
    chosen = [row for _, _, row in sorted(latest.values(), key=lambda t: t[2]["uscc"])
              if set(row["_codes"]) & set(categories)]
    frame = pl.DataFrame([{k: r[k] for k in COLUMNS} for r in chosen], schema=dict.fromkeys(COLUMNS, pl.String))
    data = frame.rename(COLUMNS).write_csv().encode("utf-8")
    path = Path(out)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return ResultList(path, frame.height, hashlib.sha256(data).hexdigest(), categories)


__all__ = ["ResultList", "result_list", "wanted_categories"]
