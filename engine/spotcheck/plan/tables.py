"""Chinese copies of a draw folder's tables, for officers who open them in a spreadsheet.

draws.csv, visits.csv and teams.csv keep their English column names and compact values: `spotcheck
verify` and docs/recompute_draw.py read them, and they are hashed into the ledger. `spotcheck tables`
writes copies beside them in another folder, with Chinese column names and values written out
("t06|t13" → "t06、t13", "year:2021|round:1" → "2021年度，第1轮", true → 是), as UTF-8 with a BOM so
Excel opens them as Chinese.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
from spotcheck.draw.folder import staged, write_files
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.plan.workbooks import TEAM_HEADERS, VISIT_HEADERS

DRAW_HEADERS = {
    "task_id": "抽查任务", "round": "轮次", "month": "抽取月份", "uscc": "统一社会信用代码", "name": "市场主体名称",
    "district": "所属辖区", "tier": "信用风险等级", "stratum": "抽取分层", "rank": "层内名次", "hash": "排序哈希值",
}
EXTRA_VISIT_HEADERS = {"window": "合并范围", "month": "月份", "inspecting_unit": "检查单位"}
# file in the draw folder → (the copy's name, column titles)
TABLES = {
    "draws.csv": ("抽取名单.csv", DRAW_HEADERS),
    "visits.csv": ("检查安排.csv", {**VISIT_HEADERS, **EXTRA_VISIT_HEADERS}),
    "teams.csv": ("检查组.csv", TEAM_HEADERS),
}
_WINDOW_PART = re.compile(r"^(year|month|campaign|round):(.+)$")


def window_text(window: str) -> str:
    """A merge window as officers read it: "year:2021|round:1" → "2021年度，第1轮"."""
    words = []
    for part in window.split("|"):
        m = _WINDOW_PART.match(part)
        if m is None:
            words.append(f"第{part}次" if part.isdigit() else part)
            continue
        kind, value = m.groups()
        if kind == "year":
            words.append(f"{value}年度")
        elif kind == "month":
            year, _, month = value.partition("-")
            words.append(f"{year}年{int(month)}月" if month.isdigit() else value)
        elif kind == "round":
            words.append(f"第{value}轮")
        else:
            words.append(f"抽查活动 {value}")
    return "，".join(words)


def _chinese(frame: pl.DataFrame, titles: dict[str, str]) -> pl.DataFrame:
    exprs = []
    for name in frame.columns:
        col = pl.col(name)
        if name == "window":
            col = col.map_elements(window_text, return_dtype=pl.String)
        elif name == "stratum":
            col = col.str.replace_all("|", "·", literal=True)
        elif name in ("joint", "staffed"):
            col = col.replace_strict({"true": "是", "false": "否"}, default=col)
        else:
            col = col.str.replace_all("|", "、", literal=True)
        exprs.append(col.alias(titles.get(name, name)))
    return frame.select(exprs)


def write_tables(draw_dir: str | Path, out_dir: str | Path) -> list[Path]:
    """Chinese copies of the draw folder's tables in a new folder `out_dir`; returns the files written."""
    draw_dir = Path(draw_dir)
    present = [name for name in TABLES if (draw_dir / name).is_file()]
    if "draws.csv" not in present:
        raise SpotcheckError(Problem("F603", f"{draw_dir} 中没有 draws.csv，不是抽取结果目录",
                                     hint="指向 spotcheck draw 的 --out 目录"))
    files = {}
    for name in present:
        copy, titles = TABLES[name]
        frame = _chinese(pl.read_csv(draw_dir / name, infer_schema=False), titles)
        files[copy] = "\ufeff".encode() + frame.write_csv().encode("utf-8")
    with staged(Path(out_dir)) as folder:
        write_files(folder, files)
    return [Path(out_dir) / name for name in files]
