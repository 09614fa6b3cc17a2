"""Reading and checking a results file: one row per visit, or one row per visit and item.

A results file (CSV in UTF-8, UTF-8 with BOM or GBK/GB18030; or XLSX) is read with its headers as
officers write them, found in its first rows. Every problem in it is reported at once, by row and
column (codes S8xx); a file with any problem gives no results at all.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import NamedTuple, Protocol

import polars as pl

from spotcheck.directory.cells import CONTROL
from spotcheck.draw.reader import DrawFolder, Visit
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.results.categories import ACTIONS, CATEGORIES, METHODS, NO_PROBLEM, ordered_categories
from spotcheck.results.columns import DATE_HINT, _actions, _categories, _date, _methods, clean_rows, same_name
from spotcheck.results.tables import WHITE_SPACE, plain_rows, read_cells

FILE_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    # field: (title, accepted headers besides the field name)
    "visit_id": ("检查编号", ("检查编号", "检查记录编号", "visit", "visit id")),
    "task_id": ("抽查任务编号", ("抽查任务编号", "任务编号", "任务标识", "task", "task id")),
    "uscc": ("统一社会信用代码", ("统一社会信用代码", "信用代码", "社会信用代码")),
    "name": ("市场主体名称", ("市场主体名称", "企业名称", "主体名称", "名称")),
    "completed_on": ("检查完成日期", ("检查完成日期", "完成日期", "检查日期", "completion date", "completed")),
    "methods": ("检查方式", ("检查方式", "检查方法", "method")),
    "categories": ("检查结果", ("检查结果", "抽查结果", "结果类别", "result", "results")),
    "item_code": ("检查事项编码", ("检查事项编码", "抽查事项编码", "事项编码", "item", "item code")),
    "findings": ("检查情况", ("检查情况", "发现问题", "问题描述", "finding")),
    "actions": ("后续处置", ("后续处置", "后续处理", "处置措施", "follow_up", "follow-up", "action")),
    "remarks": ("备注", ("备注", "remark", "note")),
}
HEADER_SEARCH_ROWS = 20


def _norm_header(text: str) -> str:
    return unicodedata.normalize("NFKC", text).replace("\ufeff", "").strip().strip("*").strip().casefold()


_SPELLINGS = {
    _norm_header(spelling): field
    for field, (_, headers) in FILE_FIELDS.items()
    for spelling in (field, *headers)
}


@dataclass(frozen=True)
class ItemResult:
    code: str
    categories: tuple[str, ...]
    methods: tuple[str, ...]
    findings: str | None
    actions: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"code": self.code, "categories": list(self.categories), "methods": list(self.methods),
                "findings": self.findings, "actions": list(self.actions)}


@dataclass(frozen=True)
class Result:
    """One visit's result as the file gives it; `content()` is what a `result` record holds."""

    visit_id: str
    draw_id: str
    uscc: str
    name: str
    completed_on: dt.date
    categories: tuple[str, ...]
    methods: tuple[str, ...]
    findings: str | None
    actions: tuple[str, ...]
    remarks: str | None
    items: tuple[ItemResult, ...]  # empty when one row gave the result of the whole visit
    rows: tuple[int, ...]

    def content(self) -> dict:
        return {
            "visit_id": self.visit_id, "draw_id": self.draw_id, "uscc": self.uscc, "name": self.name,
            "completed_on": self.completed_on.isoformat(), "categories": list(self.categories),
            "methods": list(self.methods), "findings": self.findings, "actions": list(self.actions),
            "remarks": self.remarks, "items": [i.to_dict() for i in self.items],
        }


class _Visited(Protocol):
    """What a result needs of its visit: a draw's Visit, or the same fields of its visit_frame."""

    @property
    def visit_id(self) -> str: ...
    @property
    def uscc(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def item_codes(self) -> tuple[str, ...]: ...


class _Drawn(NamedTuple):
    visit_id: str
    uscc: str
    name: str
    item_codes: tuple[str, ...]


@dataclass(frozen=True)
class _Row:
    row: int
    visit: _Visited
    completed_on: dt.date | None
    methods: tuple[str, ...]
    categories: tuple[str, ...]
    item_code: str | None
    findings: str | None
    actions: tuple[str, ...]
    remarks: str | None
    text: Mapping[str, str]  # the row's cells by field, to tell identical duplicates from conflicting ones


class _Sheet:
    """A results file's rows with the headers as written, collecting problems by row and column."""

    def __init__(self, path: Path) -> None:
        self.file = str(path)
        self.problems: list[Problem] = []
        cells = read_cells(path)
        best = _header_row(cells[:HEADER_SEARCH_ROWS])
        header = cells[best] if cells else []
        self.headers: dict[str, str] = {}
        self.columns: dict[str, int] = {}
        for j, text in enumerate(header):
            field = _SPELLINGS.get(_norm_header(text))
            if field is None:
                continue
            if field in self.columns:
                self.add("S802", f"“{self.headers[field]}”与“{text.strip()}”两列都表示{FILE_FIELDS[field][0]}",
                         1 + best, None, hint="删去其中一列")
                continue
            self.headers[field], self.columns[field] = text.strip(), j
        # The rows with any text (some cell's text is not all white space), by their number.
        self.filled = [(i + 1, row) for i, row in enumerate(cells[best + 1:], start=best + 1) if "".join(row).strip()]
        self.header_row = best + 1
        self._check_shape(header, cells[best + 1:])

    @cached_property
    def rows(self) -> list[tuple[int, dict[str, str]]]:
        """Each filled row's cells with text, by field."""
        columns = list(self.columns.items())
        return [(n, {f: text for f, j in columns if j < len(row) and (text := row[j].strip())}) for n, row in self.filled]

    def values(self, field: str) -> list[str]:
        """A field's cells of the filled rows, stripped (\"\" for none)."""
        j = self.columns[field]
        return [row[j].strip() if j < len(row) else "" for _, row in self.filled]

    def _check_shape(self, header: list[str], rows: list[list[str]]) -> None:
        """The directory's rule (D220, D221): a row is as wide as the header, its text printable."""
        named = max((j + 1 for j, text in enumerate(header) if text.strip()), default=0)
        for n, row in enumerate(rows, start=self.header_row + 1):
            filled = len(row)
            while filled and not row[filled - 1].strip():
                filled -= 1
            if filled and len(row) < named:
                self.add("S860", f"这一行只有 {len(row)} 个单元格，比表头的 {len(header)} 列少，缺少末尾的列", n, None,
                         hint="这一行可能在导出或复制时被截断；请重新导出完整的结果表")
            elif filled > len(header):
                self.add("S860", f"这一行有 {filled} 个单元格，比表头的 {len(header)} 列多，多出的单元格不会被读取", n, None,
                         hint="多半是某个单元格中含有英文逗号而没有加引号；请在 Excel 或 WPS 中打开核对这一行后另存为 CSV")
            if not CONTROL.search("".join(row[: len(header)])):
                continue
            for j, text in enumerate(row[: len(header)]):
                if found := CONTROL.search(text):
                    self.problems.append(Problem(
                        "S861", f"第 {found.start() + 1} 个字符是看不见的控制字符 U+{ord(found.group()):04X}，无法写入公示和文书",
                        file=self.file, row=n, column=header[j].strip() or None,
                        hint="这类字符多是从其他系统复制时带入的；请删除它后重新保存"))

    def column(self, field: str) -> str:
        return self.headers.get(field, FILE_FIELDS[field][0])

    def add(self, code: str, message: str, row: int | None, field: str | None, *, where: str | None = None,
            hint: str | None = None) -> None:
        self.problems.append(Problem(code, message, file=self.file, row=row,
                                     column=self.column(field) if field else None, where=where, hint=hint))


def _header_row(rows: list[list[str]]) -> int:
    """Which of a file's first rows is its header: the first naming the most fields."""
    best, hits = 0, 0
    for i, row in enumerate(rows):
        n = sum(1 for c in row if _norm_header(c) in _SPELLINGS)
        if n > hits:
            best, hits = i, n
    return best


def _plain_read(rows: pl.Series | None, folder: DrawFolder, today: dt.date) -> Read | None:
    """A plain CSV file (its tables.plain_rows) with no problem, read by columns from the text up, without a Python
    list per row; None for any other file: _Sheet reads it, and names every problem."""
    if rows is None:
        return None
    best = _header_row(rows.head(HEADER_SEARCH_ROWS).to_list())
    header = rows[best].to_list()
    columns = {field: j for j, text in enumerate(header) if (field := _SPELLINGS.get(_norm_header(text)))}
    if len(columns) < len([field for text in header if (field := _SPELLINGS.get(_norm_header(text)))]) \
            or "visit_id" not in columns or not {"completed_on", "methods", "categories"} <= columns.keys():
        return None  # a field in two columns, or one missing (S802); or rows named by task and credit code
    cells = pl.col("cells")
    frame = rows.slice(best + 1).to_frame().with_columns(pl.int_range(best + 2, best + 2 + pl.len(), dtype=pl.Int64).alias("row")) \
        .filter(cells.list.join("").str.strip_chars(WHITE_SPACE) != "")
    if frame.is_empty() or frame.filter(cells.list.len() != len(header)).height:
        return None  # no row (S801), or a row not as wide as the header (S860)
    values = frame.select(cells.list.get(j).str.strip_chars(WHITE_SPACE).alias(field) for field, j in columns.items())
    clean = clean_rows(values.to_dict(), frame.get_column("row"), folder.visit_frame, drawn_on=folder.drawn_on,
                       today=today, date=_date)
    return _clean_read(folder, clean) if clean is not None else None


def _spellings_text(field: str) -> str:
    return "、".join(dict.fromkeys((FILE_FIELDS[field][1][0], field)))


# The columns of Read.several: a row's number, its visit's drawn credit code, name and items, the completion
# date read, and the row's cells (null when empty).
SEVERAL_SCHEMA = {"row": pl.Int64, "visit_uscc": pl.String, "visit_name": pl.String, "visit_items": pl.List(pl.String),
                  "completed": pl.Date, **{f: pl.String for f in FILE_FIELDS}}


@dataclass(frozen=True)
class Read:
    """A results file's visits, each part in the order of the visits' first rows: `alone`, the visits a
    clean file gives in one row for the whole visit, as columns (`ALONE`; a province's millions of them are
    never Python objects), `several`, the rows of a clean file's other visits (each given item by item), as
    columns (SEVERAL_SCHEMA, in file order), and `results`, every visit's Result of a file read row by row."""

    alone: pl.DataFrame
    results: list[Result]
    draw_id: str
    several: pl.DataFrame = dataclasses.field(default_factory=lambda: pl.DataFrame(schema=SEVERAL_SCHEMA))

    @property
    def rows(self) -> int:
        return self.alone.height + self.several.height + sum(len(r.rows) for r in self.results)

    def in_order(self) -> list[Result]:
        """Every visit's Result, in the order of its first row."""
        return sorted([*self.results, *alone_results(self.alone, self.draw_id), *several_results(self.several, self.draw_id)],
                      key=lambda r: r.rows[0])


# The columns of Read.alone: the row's number, its visit, the visit's drawn credit code and name, the
# completion date read, and the row's cells (null when empty).
ALONE = ("row", "visit_id", "uscc", "name", "completed", "completed_on", "methods", "categories", "findings", "actions",
         "remarks")


def alone_results(alone: pl.DataFrame, draw_id: str) -> Iterator[Result]:
    """Read.alone's visits as Results, in its order."""
    for n, vid, uscc, name, completed, _, method, category, findings, actions, remarks in alone.select(ALONE).iter_rows():
        yield Result(visit_id=vid, draw_id=draw_id, uscc=uscc, name=name, completed_on=completed,
                     categories=_categories(category)[0], methods=method_order(method), findings=findings,
                     actions=tuple(dict.fromkeys(_actions(actions)[0])) if actions is not None else (), remarks=remarks,
                     items=(), rows=(n,))


@lru_cache(maxsize=1 << 16)
def method_order(text: str) -> tuple[str, ...]:
    """A methods cell's methods in their official order, as a result holds them."""
    found = _methods(text)[0]
    return tuple(m for m in METHODS if m in found)


def read_results(path: str | Path, folder: DrawFolder, *, today: dt.date) -> list[Result]:
    """Every visit's result in a results file, or SpotcheckError with every problem in it (S8xx)."""
    return read_file(path, folder, today=today).in_order()


def read_file(path: str | Path, folder: DrawFolder, *, today: dt.date, split: pl.Series | None = None) -> Read:
    """`read_results`, with a clean file's one-row visits left as columns. `split`: the file's tables.plain_rows,
    when the caller has split it already."""
    plain = _plain_read(plain_rows(Path(path)) if split is None else split, folder, today)
    if plain is not None:
        return plain
    sheet = _Sheet(Path(path))
    has = sheet.columns.keys()
    if "visit_id" not in has and not {"task_id", "uscc"} <= has:
        sheet.add("S802", "缺少检查编号列（或“抽查任务编号”与“统一社会信用代码”两列）", sheet.header_row, None,
                  hint=f"表头写 {_spellings_text('visit_id')}；或同时写 抽查任务编号 与 统一社会信用代码")
    for field in ("completed_on", "methods", "categories"):
        if field not in has:
            sheet.add("S802", f"缺少“{FILE_FIELDS[field][0]}”列", sheet.header_row, None,
                      hint=f"表头可写：{'、'.join(FILE_FIELDS[field][1])}")
    if sheet.problems:
        raise SpotcheckError(sheet.problems)
    if not sheet.filled:
        raise SpotcheckError(Problem("S801", "文件中没有结果行", file=sheet.file, hint="每次检查至少一行"))
    clean = clean_rows({f: sheet.values(f) for f in has}, [n for n, _ in sheet.filled], folder.visit_frame,
                       drawn_on=folder.drawn_on, today=today, date=_date)
    if clean is not None:
        return _clean_read(folder, clean)

    by_uscc: dict[str, list[Visit]] = {}
    if any("visit_id" not in cells for _, cells in sheet.rows):
        # Only rows without a visit id are found by task and credit code.
        for visit in folder.visits.values():
            by_uscc.setdefault(visit.uscc, []).append(visit)
    parsed = [r for n, cells in sheet.rows if (r := _parse_row(sheet, folder, by_uscc, n, cells, today))]
    groups: dict[str, list[_Row]] = {}
    for r in parsed:
        groups.setdefault(r.visit.visit_id, []).append(r)
    for rows in groups.values():
        _check_visit(sheet, rows)
    if sheet.problems:
        # Row by row, as the officer fixes the file; sorted() keeps a row's problems in column order.
        raise SpotcheckError(sorted(sheet.problems, key=lambda p: p.row or 0))
    return Read(pl.DataFrame(schema=ALONE_SCHEMA), [_result(folder.draw_id, rows) for rows in groups.values()], folder.draw_id)


ALONE_SCHEMA = {"row": pl.Int64, "visit_id": pl.String, "uscc": pl.String, "name": pl.String, "completed": pl.Date,
                **{f: pl.String for f in ALONE[5:]}}


def _clean_read(folder: DrawFolder, frame: pl.DataFrame) -> Read:
    """The visits of a file `columns.clean_rows` found clean, as columns."""
    alone = frame.filter("alone").select(
        "row", "visit_id", pl.col("visit_uscc").alias("uscc"), pl.col("visit_name").alias("name"), *ALONE[4:])
    return Read(alone, [], folder.draw_id, frame.filter(~pl.col("alone")).select(*SEVERAL_SCHEMA))


def several_results(several: pl.DataFrame, draw_id: str) -> list[Result]:
    """Read.several's visits as Results, in the order of their first rows, as the row-by-row reading gives them."""
    visits: dict[str, list[_Row]] = {}
    for r in several.iter_rows(named=True):
        cells = {f: r[f] for f in FILE_FIELDS if r[f] is not None}
        visits.setdefault(r["visit_id"], []).append(_Row(
            r["row"], _Drawn(r["visit_id"], r["visit_uscc"], r["visit_name"], tuple(r["visit_items"])), r["completed"],
            _methods(r["methods"])[0], _categories(r["categories"])[0], r["item_code"], r["findings"],
            _actions(r["actions"])[0] if r["actions"] is not None else (), r["remarks"], cells))
    return [_result(draw_id, rows) for rows in visits.values()]


def _parse_row(sheet: _Sheet, folder: DrawFolder, by_uscc: Mapping[str, list[Visit]], n: int,
               cells: Mapping[str, str], today: dt.date) -> _Row | None:
    visit = _identify(sheet, folder, by_uscc, n, cells)
    if visit is None:
        return None
    where = f"检查 '{visit.visit_id}'"

    def need(field: str) -> str | None:
        value = cells.get(field)
        if value is None:
            sheet.add("S816", f"{FILE_FIELDS[field][0]}为空", n, field, where=where)
        return value

    name = cells.get("name")
    if name is not None and not same_name(name, visit.name):
        sheet.add("S814", f"市场主体名称“{name}”与检查 {visit.visit_id} 的“{visit.name}”不一致", n, "name", where=where,
                  hint="核对检查编号是否填错行")

    completed = None
    raw_date = need("completed_on")
    if raw_date is not None:
        completed = _date(raw_date)
        if completed is None:
            sheet.add("S806", f"检查完成日期“{raw_date}”不是有效日期", n, "completed_on", where=where, hint=DATE_HINT)
        elif completed < folder.drawn_on:
            sheet.add("S807", f"检查完成日期 {completed} 早于抽取日期 {folder.drawn_on}", n, "completed_on", where=where,
                      hint="检查只能在抽取之后完成；核对日期或检查编号")
        elif completed > today:
            sheet.add("S808", f"检查完成日期 {completed} 晚于今天（{today}）", n, "completed_on", where=where,
                      hint="只录入已完成的检查；核对年份和月份")

    methods: tuple[str, ...] = ()
    raw_methods = need("methods")
    if raw_methods is not None:
        methods, unknown = _methods(raw_methods)
        if unknown:
            sheet.add("S812", f"不认识的检查方式：{'、'.join(unknown)}", n, "methods", where=where,
                      hint=f"可填：{'、'.join(METHODS)}；多个用“、”分隔")

    categories: tuple[str, ...] = ()
    raw_categories = need("categories")
    if raw_categories is not None:
        categories, unknown, others = _categories(raw_categories)
        if unknown:
            sheet.add("S804", f"不认识的检查结果：{'、'.join(unknown)}", n, "categories", where=where,
                      hint=_closest_categories(unknown)
                      + "填写结果代码（如 R01）或官方结果名称，见 docs/results.md；多个用“、”或“；”分隔")
        if NO_PROBLEM in categories and others:
            sheet.add("S805", f"“未发现问题”不能与“{'、'.join(others)}”同时填写", n, "categories", where=where,
                      hint="发现了问题就不填“未发现问题”；否则删去其他结果")

    actions: tuple[str, ...] = ()
    if "actions" in cells:
        actions, unknown = _actions(cells["actions"])
        if unknown:
            sheet.add("S813", f"不认识的后续处置：{'、'.join(unknown)}", n, "actions", where=where,
                      hint=f"以这些措施开头：{'、'.join(ACTIONS)}（如“移送区卫生健康局”）")
        if categories == (NO_PROBLEM,):
            sheet.add("S805", "结果为“未发现问题”，却填写了后续处置", n, "actions", where=where,
                      hint="发现了问题就填写相应的问题类别；否则删去后续处置")

    item_code = cells.get("item_code")
    if item_code is not None and item_code not in visit.item_codes:
        sheet.add("S810", f"事项 {item_code} 不在检查 {visit.visit_id} 的检查事项中（{'、'.join(visit.item_codes)}）",
                  n, "item_code", where=where, hint="核对事项编码或检查编号")

    return _Row(n, visit, completed, tuple(methods), categories, item_code, cells.get("findings"), tuple(actions),
                cells.get("remarks"), cells)


def _identify(sheet: _Sheet, folder: DrawFolder, by_uscc: Mapping[str, list[Visit]], n: int,
              cells: Mapping[str, str]) -> Visit | None:
    vid = cells.get("visit_id")
    if vid is not None:
        visit = folder.visits.get(vid)
        if visit is None:
            sheet.add("S803", f"检查编号 {vid} 不在本次抽取的检查中", n, "visit_id",
                      hint=f"核对编号；本次抽取（{folder.draw_id}）的检查见 {folder.path / 'visits.csv'}")
        uscc = (cells.get("uscc") or "").strip().upper()
        if visit is not None and uscc and uscc != visit.uscc.upper():
            # The row names one entity and another's visit: recording it would put a result on the wrong entity.
            sheet.add("S819", f"统一社会信用代码 {uscc} 与检查 {vid} 的检查对象（{visit.name}，{visit.uscc}）不一致", n, "uscc",
                      hint="核对该行的检查编号和统一社会信用代码，改正其中错的一个")
            return None
        return visit
    task, uscc = cells.get("task_id"), cells.get("uscc")
    if task is None or uscc is None:
        field = "visit_id" if "visit_id" in sheet.columns else ("task_id" if task is None else "uscc")
        sheet.add("S816", "缺少检查编号（或抽查任务编号与统一社会信用代码）", n, field)
        return None
    matches = [v for v in by_uscc.get(uscc.upper(), []) if task in v.task_ids]
    if not matches:
        sheet.add("S803", f"本次抽取中没有任务 {task} 对统一社会信用代码 {uscc} 的检查", n,
                  "uscc" if uscc.upper() not in by_uscc else "task_id",
                  hint="核对任务编号与信用代码，或改填检查编号")
        return None
    if len(matches) > 1:
        sheet.add("S817", f"任务 {task} 对 {uscc} 有 {len(matches)} 次检查（{'、'.join(v.visit_id for v in matches)}），无法确定是哪一次",
                  n, "task_id", hint="改填检查编号")
        return None
    return matches[0]


def _check_visit(sheet: _Sheet, rows: list[_Row]) -> None:
    """Duplicates, per-visit rows mixed with per-item rows, and items a per-item visit leaves out."""
    if len(rows) == 1 and not rows[0].item_code:
        return  # one row for the whole visit, as most are: nothing to compare
    visit = rows[0].visit
    where = f"检查 '{visit.visit_id}'"
    seen: dict[str | None, _Row] = {}
    for r in rows:
        first = seen.get(r.item_code)
        if first is None:
            seen[r.item_code] = r
            continue
        same = "完全相同" if first.text == r.text else "重复，且内容不同"
        scope = f"检查 {visit.visit_id} 事项 {r.item_code}" if r.item_code else f"检查 {visit.visit_id}"
        sheet.add("S811", f"与第 {first.row} 行{same}（{scope}只能有一行）", r.row,
                  "item_code" if r.item_code else ("visit_id" if "visit_id" in sheet.columns else "task_id"),
                  where=where, hint="删去重复的行；更正结果时只保留更正后的一行")
    per_item = [r for r in rows if r.item_code]
    if per_item and None in seen:
        sheet.add("S815", f"检查 {visit.visit_id} 既有不填事项编码的整体结果行，又有分事项的结果行", seen[None].row,
                  "item_code", where=where, hint="要么一行写整次检查的结果，要么每个事项各一行")
    if per_item:
        missing = [c for c in visit.item_codes if c not in seen]
        if missing:
            sheet.add("S809", f"检查 {visit.visit_id} 分事项填写，但缺少事项 {'、'.join(missing)} 的结果行",
                      per_item[0].row, "item_code", where=where,
                      hint=f"本次检查的事项：{'、'.join(visit.item_codes)}；每个事项一行")


def _union(values: Iterable[Iterable[str]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for vs in values for v in vs))


def _result(draw_id: str, rows: list[_Row]) -> Result:
    visit = rows[0].visit
    if len(rows) == 1 and not rows[0].item_code:
        # Most visits are one row: its own cells, without merging rows.
        r = rows[0]
        return Result(
            visit_id=visit.visit_id, draw_id=draw_id, uscc=visit.uscc, name=visit.name,
            completed_on=r.completed_on, categories=r.categories, methods=tuple(m for m in METHODS if m in r.methods),
            findings=r.findings, actions=tuple(dict.fromkeys(r.actions)), remarks=r.remarks or None, items=(),
            rows=(r.row,),
        )
    rows = sorted(rows, key=lambda r: r.row)
    items: tuple[ItemResult, ...] = ()
    if rows[0].item_code:
        by_code = {r.item_code: r for r in rows}
        items = tuple(ItemResult(c, by_code[c].categories, by_code[c].methods, by_code[c].findings, by_code[c].actions)
                      for c in visit.item_codes)
        categories = ordered_categories(_union(r.categories for r in rows))
        if len(categories) > 1:
            # Per item 未发现问题 stands beside another item's problem; the visit as a whole found one.
            categories = tuple(c for c in categories if c != NO_PROBLEM)
        findings = None
    else:
        categories, findings = rows[0].categories, rows[0].findings
    remarks = "；".join(dict.fromkeys(r.remarks for r in rows if r.remarks)) or None
    methods = _union(r.methods for r in rows)
    return Result(
        visit_id=visit.visit_id, draw_id=draw_id, uscc=visit.uscc, name=visit.name,
        # The visit ends when its last item is checked.
        completed_on=max(r.completed_on for r in rows if r.completed_on),
        categories=categories, methods=tuple(m for m in METHODS if m in methods),
        findings=findings, actions=_union(r.actions for r in rows), remarks=remarks, items=items,
        rows=tuple(r.row for r in rows),
    )


def _closest_categories(unknown: Iterable[str]) -> str:
    """The official names an unknown result was likely short for or near ("发现问题" names two), as a question."""
    names = [c.name for c in CATEGORIES.values()]
    near = [n for word in unknown for n in ([n for n in names if n.startswith(word)] or [n for n in names if word in n]
                                              or difflib.get_close_matches(word, names, n=2, cutoff=0.5))]
    return f"是否想写：{'、'.join(dict.fromkeys(near))}？" if near else ""
