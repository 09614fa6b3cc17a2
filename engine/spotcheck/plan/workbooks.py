"""Per-unit workbooks: one .xlsx per inspecting unit with its visits and teams, written into the draw folder."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import polars as pl
from spotcheck.draw.folder import write_files
from spotcheck.plan.eligibility import LEAD, MEMBER
from spotcheck.spreadsheet import Sheet, workbook

VISIT_HEADERS = {
    "visit_id": "检查编号", "uscc": "统一社会信用代码", "name": "市场主体名称", "district": "所属辖区",
    "tier": "信用风险等级", "task_ids": "抽查任务", "item_codes": "抽查事项", "lead_unit": "牵头单位",
    "units": "参与单位", "joint": "跨部门联合", "staffed": "检查组已配齐", "reason": "未配齐原因",
    "list_fetched_by": "获取名单期限", "inspectors_matched_by": "匹配人员期限", "inspect_by": "检查完成期限",
    "results_due_by": "结果公示期限", "issue_by": "任务下发期限",
}
TEAM_HEADERS = {"visit_id": "检查编号", "uscc": "统一社会信用代码", "entity": "市场主体名称",
                 "inspector_id": "执法人员编号", "name": "姓名", "unit": "所属单位", "role": "角色", "certificate": "执法证号"}
_UNSAFE = re.compile(r'[\\/:*?"<>|\s]+')


_WRITERS = 2  # workbooks made at once (each holds its compressed bytes and one batch of rows)
_NAME_BYTES = 200  # of a file name's 255, leaving room for a digest and .xlsx


def unit_file(unit: str) -> str:
    name = _UNSAFE.sub('_', unit).strip('._') or '未命名单位'
    if len(name.encode("utf-8")) > _NAME_BYTES:
        # A long unit name is cut to fit the file system; the digest keeps two such units apart.
        cut = name.encode("utf-8")[:_NAME_BYTES].decode("utf-8", "ignore")
        name = f"{cut}_{hashlib.sha256(unit.encode('utf-8')).hexdigest()[:8]}"
    return f"units/{name}.xlsx"


def unit_workbooks(visits: pl.DataFrame, teams: pl.DataFrame, created: dt.date) -> Iterator[tuple[str, bytes]]:
    """One workbook per inspecting unit, in file-name order: its visits, and the joint visits its officers
    join. The next ones are made while one is written, so a province's workbooks are never all in memory."""
    at = visits.select("visit_id").with_row_index("_v")
    # Rows are picked by their place in `visits` and `teams`: one join for the year, not two per unit.
    members_at = teams.select("visit_id").join(at, on="visit_id", how="left", maintain_order="left")["_v"]
    home_units = visits["inspecting_unit"].fill_null("未指定检查单位")
    guest_rows = teams.select(members_at, "unit").filter(teams["role"].is_in([LEAD, MEMBER]) & teams["unit"].is_not_null())
    # Two units whose names make one file name: the last to appear (its visits, then its guests) has it.
    appearing = pl.concat([home_units.unique(maintain_order=True), guest_rows["unit"].drop_nulls().unique(maintain_order=True)])
    appearing = appearing.unique(maintain_order=True)
    names = sorted({unit_file(unit): unit for unit in appearing}.items())
    # A unit is its place among them: millions of rows are sorted and split by a small integer, not a name.
    unit = pl.Enum(appearing)

    def places(units: pl.Series) -> np.ndarray:
        return units.cast(unit).to_physical().to_numpy().astype(np.uint64)

    visits_of, members_of = _rows_of_units(places(home_units), guest_rows["_v"].to_numpy().astype(np.uint64),
                                           places(guest_rows["unit"]), members_at.to_numpy().astype(np.uint64),
                                           len(appearing))
    shown = visits.select(list(VISIT_HEADERS))
    entity = visits.select("uscc", pl.col("name").alias("entity"))
    place = {name: k for k, name in enumerate(appearing)}

    def book(name: str) -> bytes:
        taken = pl.Series(members_of[place[name]], dtype=pl.UInt32)
        members = pl.concat([teams[taken], entity[members_at.gather(taken)]], how="horizontal")
        return _workbook(name, shown[pl.Series(visits_of[place[name]], dtype=pl.UInt32)], members, created)

    # Units are made side by side: polars and zlib, most of the work, release the GIL.
    with ThreadPoolExecutor(max_workers=_WRITERS) as pool:
        made = deque(pool.submit(book, unit) for _, unit in names[:_WRITERS])
        for k, (name, _) in enumerate(names):
            data = made.popleft().result()
            if k + _WRITERS < len(names):
                made.append(pool.submit(book, names[k + _WRITERS][1]))
            yield name, data


def _rows_of_units(home: np.ndarray, guest_visit: np.ndarray, guest_unit: np.ndarray, member_visit: np.ndarray,
                   units: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """For each unit (by its place): its visits (their rows in `visits`, in order), its own and those its officers
    join, and the team rows of those visits (in order). A (unit, row) pair is one integer, unit << 32 | row, so
    sorting them groups by unit and orders within it."""
    away = guest_unit != home[guest_visit]
    guests = np.unique(guest_unit[away] << 32 | guest_visit[away])
    visit_keys = np.sort(np.concatenate([home << 32 | np.arange(len(home), dtype=np.uint64), guests]))
    # Each team row goes in its visit's own unit, and again in each unit whose officers join that visit.
    guest_unit, guest_visit = guests >> 32, guests & 0xFFFFFFFF
    by_visit = np.argsort(guest_visit, kind="stable")
    guest_unit, guest_visit = guest_unit[by_visit], guest_visit[by_visit]
    first = np.searchsorted(guest_visit, member_visit, "left")
    count = np.searchsorted(guest_visit, member_visit, "right") - first
    joined = np.repeat(first, count) + np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    rows = np.arange(len(member_visit), dtype=np.uint64)
    member_keys = np.sort(np.concatenate([home[member_visit] << 32 | rows, guest_unit[joined] << 32 | np.repeat(rows, count)]))

    def split(keys: np.ndarray) -> list[np.ndarray]:
        return np.split(keys & 0xFFFFFFFF, np.searchsorted(keys >> 32, np.arange(1, units, dtype=np.uint64)))

    return split(visit_keys), split(member_keys)


def write_workbooks(folder: Path, books: Iterable[tuple[str, bytes]]) -> None:
    """Each workbook into the (staging) folder as soon as it is made."""
    for name, data in books:
        write_files(folder, {name: data})


def _text(frame: pl.DataFrame, headers: dict[str, str]) -> pl.DataFrame:
    """The columns as officers read them: lists joined with |, yes/no as 是/否, dates as YYYY-MM-DD."""
    def column(name: str) -> pl.Expr:
        dtype = frame.schema[name]
        if isinstance(dtype, pl.List):
            return pl.col(name).list.join("|")
        if dtype == pl.Boolean:
            return pl.when(pl.col(name)).then(pl.lit("是")).when(pl.col(name).not_()).then(pl.lit("否"))
        return pl.col(name).cast(pl.String)
    return frame.select(column(c).alias(c) for c in headers)


def _workbook(unit: str, visits: pl.DataFrame, members: pl.DataFrame, created: dt.date) -> bytes:
    # Every cell is an inline string: a name starting with = + - @ stays text, never a formula or link.
    # The creation date is the draw's, so the bytes are reproducible from the draw.
    return workbook(
        [Sheet(title, list(headers.values()), _text(frame, headers))
         for title, frame, headers in (("检查任务", visits, VISIT_HEADERS), ("检查组", members, TEAM_HEADERS))],
        title=f"{unit}检查安排", created=created)
