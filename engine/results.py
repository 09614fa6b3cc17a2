"""一公开, first half: inspection results in, through 录入 → 审核 → 公示, against their deadline.

A results file (CSV in UTF-8, UTF-8 with BOM or GBK/GB18030; or XLSX) has one row per visit, or one
row per visit and item. Every problem in it is reported at once, by row and column (codes S8xx), and
a file with any problem changes nothing. A clean file appends one `result` record per visit whose
result is new or changed; the same file imported twice appends nothing the second time. A corrected
result is a new `result` record naming the record it replaces and what changed.

State is never stored beside the chain, it is read from it: a visit's latest `result` record is 录入
until a `result_state` record approves it (审核) and another publishes it (公示). A corrected result
starts again at 录入; the public list keeps showing the last published version until the correction
is approved and published. Follow-up of problems found is open until a `follow_up` record closes it.

Publication is due the policy's `results_public` deadline after the check was completed (the
national rule: 20 working days, on the policy's calendar).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import xlsxwriter
from spotcheck import deadlines
from spotcheck.calendar import WorkCalendar
from spotcheck.commitment import canonical, sha256_text
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.folder import write_file_atomic
from spotcheck.ledger import Ledger, Record, Transaction
from spotcheck.loader import LoadedPolicy, load_policy
from spotcheck.paths import POLICIES

# ---------------------------------------------------------------- vocabulary


@dataclass(frozen=True)
class Category:
    """One official result category (检查结果). `problem`: a problem was found and needs follow-up."""

    code: str
    name: str
    parent: str | None = None
    problem: bool = False
    aliases: tuple[str, ...] = ()


CATEGORIES: dict[str, Category] = {
    c.code: c
    for c in (
        Category("R01", "未发现问题", aliases=("未发现违法违规问题", "正常")),
        Category("R02", "发现问题待后续处理", problem=True),
        Category("R0201", "未按规定公示应当公示的信息", "R02", True),
        Category("R0202", "公示信息隐瞒真实情况弄虚作假", "R02", True, ("公示信息隐瞒真实情况、弄虚作假",)),
        Category("R0203", "通过登记的住所（经营场所）无法联系", "R02", True,
                 ("通过登记的住所或者经营场所无法联系", "通过登记的住所无法联系", "通过登记的经营场所无法联系")),
        Category("R0204", "违反其他市场监管规定", "R02", True),
        Category("R0205", "违反食品药品相关规定", "R02", True),
        Category("R0206", "违反质量相关规定", "R02", True),
        Category("R0207", "违反其他部门相关规定", "R02", True),
        Category("R0208", "违反公安相关规定", "R02", True),
        Category("R03", "发现问题已责令改正", problem=True),
        Category("R04", "未发现开展本次抽查涉及的经营活动"),
        Category("R05", "已关闭停业或正在组织清算", aliases=("已关闭停业", "正在组织清算")),
        Category("R06", "不配合检查情节严重", problem=True),
        Category("R07", "注销", aliases=("已注销",)),
        Category("R08", "被吊销", aliases=("吊销", "已吊销", "被吊销营业执照")),
        Category("R09", "被撤销", aliases=("撤销", "已撤销")),
        Category("R10", "迁出", aliases=("已迁出",)),
    )
}
NO_PROBLEM = "R01"
UNREACHABLE = "R0203"  # 经营异常名录: 通过登记的住所（经营场所）无法联系

METHODS: dict[str, tuple[str, ...]] = {
    "实地检查": ("现场检查", "实地核查"),
    "书面检查": ("书面审查", "材料审查"),
    "网络监测": ("网络检查", "网上检查", "网络核查"),
    "检验检测": ("抽样检验", "抽样检测", "检验"),
    "委托专业机构": ("委托第三方", "委托第三方机构", "专业机构"),
}

ACTIONS: dict[str, tuple[str, ...]] = {
    "责令改正": ("责令限期改正", "限期整改", "责令整改"),
    "立案查处": ("立案调查", "立案"),
    "移送": ("移交",),
    "列入经营异常名录": ("经营异常名录",),
    "列入严重违法失信名单": ("严重违法失信名单",),
    "行政指导": ("约谈", "提醒告诫"),
}

STATES = ("未录入", "录入", "审核", "公示")
APPROVED, PUBLISHED = "审核", "公示"

# ---------------------------------------------------------------- the draw folder's visits


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


# ---------------------------------------------------------------- reading a results file

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
_CSV_SUFFIXES = {".csv", ".txt"}
_EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}


def _norm_header(text: str) -> str:
    return unicodedata.normalize("NFKC", text).replace("\ufeff", "").strip().strip("*").strip().casefold()


_SPELLINGS = {
    _norm_header(spelling): field
    for field, (_, headers) in FILE_FIELDS.items()
    for spelling in (field, *headers)
}


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Platform exports are often GBK; GB18030 is its superset.
        return data.decode("gb18030")


def _read_cells(path: Path) -> list[list[str]]:
    suffix = path.suffix.lower()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SpotcheckError(Problem("S801", f"无法读取文件：{exc}", file=str(path))) from None
    try:
        if suffix in _CSV_SUFFIXES:
            return [[c or "" for c in row] for row in csv.reader(io.StringIO(_decode(data), newline=""))]
        if suffix in _EXCEL_SUFFIXES:
            frame = pl.read_excel(
                io.BytesIO(data), engine="calamine", has_header=False,
                # Keep leading empty rows so row numbers match what the officer sees in Excel.
                read_options={"header_row": None, "skip_rows": 0}, infer_schema_length=0,
                drop_empty_rows=False, drop_empty_cols=False, raise_if_empty=False,
            )
            return [[c or "" for c in row] for row in frame.select(pl.all().cast(pl.String)).iter_rows()]
    except (UnicodeDecodeError, csv.Error, pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise SpotcheckError(Problem("S801", f"无法读取文件：{exc}", file=str(path),
                                     hint="请确认文件没有损坏；CSV 请用 UTF-8 或 GBK 编码")) from None
    raise SpotcheckError(Problem("S801", f"不支持的文件类型 '{path.suffix or '（无扩展名）'}'", file=str(path),
                                 hint="请导出为 CSV（UTF-8 或 GBK）或 XLSX 文件"))


_DATE_FORMS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_EXCEL_SERIAL = re.compile(r"^(\d{5})(?:\.0+)?$")
DATE_HINT = "日期请写成 2023-09-25、2023/9/25、20230925 或 2023年9月25日"


def parse_date(text: str) -> dt.date | None:
    """A date as officers and spreadsheets write it; None when it is not one."""
    text = unicodedata.normalize("NFKC", text).strip()
    for form in _DATE_FORMS:
        m = form.match(text)
        if m:
            try:
                return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                return None
    m = _EXCEL_SERIAL.match(text)
    if m and 20000 < int(m.group(1)) < 80000:
        # A date cell formatted as a number: days since Excel's 1899-12-30 epoch.
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(m.group(1)))
    return None


def _key(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


_SEPARATORS = frozenset("、;,|\n\r\t :()/")


def _vocabulary(entries: Iterable[tuple[str, Iterable[str]]]) -> tuple[dict[str, str], list[str]]:
    vocab = {_key(spelling): canon for canon, spellings in entries for spelling in spellings}
    return vocab, sorted(vocab, key=len, reverse=True)


_CATEGORY_VOCAB = _vocabulary((c.code, (c.code, c.name, *c.aliases)) for c in CATEGORIES.values())
_METHOD_VOCAB = _vocabulary((m, (m, *aliases)) for m, aliases in METHODS.items())
_ACTION_PREFIXES = sorted(((_key(a), canon) for canon, al in ACTIONS.items() for a in (canon, *al)),
                          key=lambda p: len(p[0]), reverse=True)


def scan(text: str, vocabulary: tuple[dict[str, str], list[str]]) -> tuple[list[str], list[str]]:
    """Known terms in `text` (longest match first, so names holding 、 or （） stay whole) and the rest.

    "发现问题待后续处理（未按规定公示应当公示的信息）" and "R01；R03" both read; what matches nothing is
    returned as unknown words for the officer to fix.
    """
    vocab, keys = vocabulary
    s = _key(text)
    found: list[str] = []
    unknown: list[str] = []
    i = 0
    while i < len(s):
        if s[i] in _SEPARATORS:
            i += 1
            continue
        hit = next((k for k in keys if s.startswith(k, i) and (i + len(k) == len(s) or s[i + len(k)] in _SEPARATORS)), None)
        if hit is not None:
            if vocab[hit] not in found:
                found.append(vocab[hit])
            i += len(hit)
            continue
        j = i
        while j < len(s) and s[j] not in _SEPARATORS:
            j += 1
        unknown.append(s[i:j])
        i = j
    return found, unknown


def ordered_categories(codes: Iterable[str]) -> tuple[str, ...]:
    """Codes in the official order; a sub-category makes its parent implied, so the parent is dropped."""
    codes = set(codes)
    implied = {CATEGORIES[c].parent for c in codes if CATEGORIES[c].parent}
    return tuple(c for c in CATEGORIES if c in codes and c not in implied)


def category_text(codes: Iterable[str]) -> str:
    """检查结果 as published: 发现问题待后续处理（未按规定公示应当公示的信息）；发现问题已责令改正."""
    codes = ordered_categories(codes)
    parts: list[str] = []
    subs: dict[str, list[str]] = {}
    for code in codes:
        parent = CATEGORIES[code].parent
        if parent:
            if parent not in subs:
                subs[parent] = []
                parts.append(parent)
            subs[parent].append(CATEGORIES[code].name)
        else:
            parts.append(code)
    return "；".join(
        f"{CATEGORIES[p].name}（{'、'.join(subs[p])}）" if p in subs else CATEGORIES[p].name for p in parts
    )


def _actions(text: str) -> tuple[list[str], list[str]]:
    """Follow-up actions as written (e.g. "移送区卫生健康局"), each starting with a known action."""
    known, unknown = [], []
    for piece in re.split(r"[、;；,，|\n]", text):
        piece = piece.strip()
        if not piece:
            continue
        k = _key(piece)
        (known if any(k.startswith(prefix) for prefix, _ in _ACTION_PREFIXES) else unknown).append(piece)
    return known, unknown


# ---------------------------------------------------------------- results


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


CONTENT_KEYS = ("visit_id", "draw_id", "uscc", "name", "completed_on", "categories", "methods", "findings",
                "actions", "remarks", "items")


def content_of(body: Mapping) -> dict:
    return {k: body.get(k) for k in CONTENT_KEYS}


def needs_follow_up(body: Mapping) -> bool:
    """A problem was found (a problem category, or a follow-up action was entered)."""
    return any(CATEGORIES[c].problem for c in body.get("categories", []) if c in CATEGORIES) or bool(body.get("actions"))


@dataclass(frozen=True)
class _Row:
    row: int
    visit: Visit
    completed_on: dt.date | None
    methods: tuple[str, ...]
    categories: tuple[str, ...]
    item_code: str | None
    findings: str | None
    actions: tuple[str, ...]
    remarks: str | None
    text: tuple[tuple[str, str], ...]  # the row's cells, to tell identical duplicates from conflicting ones


class _Sheet:
    """A results file's rows with the headers as written, collecting problems by row and column."""

    def __init__(self, path: Path) -> None:
        self.file = str(path)
        self.problems: list[Problem] = []
        cells = _read_cells(path)
        best, hits = 0, 0
        for i, row in enumerate(cells[:HEADER_SEARCH_ROWS]):
            n = sum(1 for c in row if _norm_header(c) in _SPELLINGS)
            if n > hits:
                best, hits = i, n
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
        self.rows = [
            (i + 1, {f: row[j].strip() for f, j in self.columns.items() if j < len(row) and row[j].strip()})
            for i, row in enumerate(cells[best + 1:], start=best + 1)
            if any(c.strip() for c in row)
        ]
        self.header_row = best + 1

    def column(self, field: str) -> str:
        return self.headers.get(field, FILE_FIELDS[field][0])

    def add(self, code: str, message: str, row: int | None, field: str | None, *, where: str | None = None,
            hint: str | None = None) -> None:
        self.problems.append(Problem(code, message, file=self.file, row=row,
                                     column=self.column(field) if field else None, where=where, hint=hint))


def _spellings_text(field: str) -> str:
    return "、".join(dict.fromkeys((FILE_FIELDS[field][1][0], field)))


def read_results(path: str | Path, folder: DrawFolder, *, today: dt.date) -> list[Result]:
    """Every visit's result in a results file, or SpotcheckError with every problem in it (S8xx)."""
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
    if not sheet.rows:
        raise SpotcheckError(Problem("S801", "文件中没有结果行", file=sheet.file, hint="每次检查至少一行"))

    by_uscc: dict[str, list[Visit]] = {}
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
    return [_result(folder, rows) for rows in groups.values()]


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
    if name is not None and _key(re.sub(r"\s", "", name)) != _key(re.sub(r"\s", "", visit.name)):
        sheet.add("S814", f"市场主体名称“{name}”与检查 {visit.visit_id} 的“{visit.name}”不一致", n, "name", where=where,
                  hint="核对检查编号是否填错行")

    completed = None
    raw_date = need("completed_on")
    if raw_date is not None:
        completed = parse_date(raw_date)
        if completed is None:
            sheet.add("S806", f"检查完成日期“{raw_date}”不是有效日期", n, "completed_on", where=where, hint=DATE_HINT)
        elif completed < folder.drawn_on:
            sheet.add("S807", f"检查完成日期 {completed} 早于抽取日期 {folder.drawn_on}", n, "completed_on", where=where,
                      hint="检查只能在抽取之后完成；核对日期或检查编号")
        elif completed > today:
            sheet.add("S808", f"检查完成日期 {completed} 晚于今天（{today}）", n, "completed_on", where=where,
                      hint="只录入已完成的检查；核对年份和月份")

    methods: list[str] = []
    raw_methods = need("methods")
    if raw_methods is not None:
        methods, unknown = scan(raw_methods, _METHOD_VOCAB)
        if unknown:
            sheet.add("S812", f"不认识的检查方式：{'、'.join(unknown)}", n, "methods", where=where,
                      hint=f"可填：{'、'.join(METHODS)}；多个用“、”分隔")

    categories: tuple[str, ...] = ()
    raw_categories = need("categories")
    if raw_categories is not None:
        found, unknown = scan(raw_categories, _CATEGORY_VOCAB)
        if unknown:
            sheet.add("S804", f"不认识的检查结果：{'、'.join(unknown)}", n, "categories", where=where,
                      hint="填写结果代码（如 R01）或官方结果名称，见 docs/results.md；多个用“、”或“；”分隔")
        categories = ordered_categories(found)
        others = [CATEGORIES[c].name for c in categories if c != NO_PROBLEM]
        if NO_PROBLEM in categories and others:
            sheet.add("S805", f"“未发现问题”不能与“{'、'.join(others)}”同时填写", n, "categories", where=where,
                      hint="发现了问题就不填“未发现问题”；否则删去其他结果")

    actions: list[str] = []
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
                cells.get("remarks"), tuple(sorted((k, v) for k, v in cells.items())))


def _identify(sheet: _Sheet, folder: DrawFolder, by_uscc: Mapping[str, list[Visit]], n: int,
              cells: Mapping[str, str]) -> Visit | None:
    vid = cells.get("visit_id")
    if vid is not None:
        visit = folder.visits.get(vid)
        if visit is None:
            sheet.add("S803", f"检查编号 {vid} 不在本次抽取的检查中", n, "visit_id",
                      hint=f"核对编号；本次抽取（{folder.draw_id}）的检查见 {folder.path / 'visits.csv'}")
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


def _result(folder: DrawFolder, rows: list[_Row]) -> Result:
    visit = rows[0].visit
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
    return Result(
        visit_id=visit.visit_id, draw_id=folder.draw_id, uscc=visit.uscc, name=visit.name,
        # The visit ends when its last item is checked.
        completed_on=max(r.completed_on for r in rows if r.completed_on),
        categories=categories, methods=tuple(m for m in METHODS if m in _union(r.methods for r in rows)),
        findings=findings, actions=_union(r.actions for r in rows), remarks=remarks, items=items,
        rows=tuple(r.row for r in rows),
    )


# ---------------------------------------------------------------- importing


@dataclass(frozen=True)
class ImportOutcome:
    rows: int
    added: tuple[str, ...]  # visits with their first result
    replaced: tuple[tuple[str, int, tuple[str, ...]], ...]  # (visit, replaced record seq, fields changed)
    unchanged: tuple[str, ...]


FIELD_TITLES = {
    "uscc": "统一社会信用代码", "name": "市场主体名称", "completed_on": "检查完成日期", "categories": "检查结果",
    "methods": "检查方式", "findings": "检查情况", "actions": "后续处置", "remarks": "备注", "items": "分事项结果",
    "visit_id": "检查编号", "draw_id": "抽取编号",
}


def latest_result(ledger: Ledger, visit_id: str, draw_id: str | None = None) -> Record | None:
    """The latest `result` record of a visit (of one draw, when visit ids repeat across draws)."""
    for record in reversed(ledger.find("result", visit_id)):
        if draw_id is None or record.body.get("draw_id") == draw_id:
            return record
    return None


def import_results(path: str | Path, draw_dir: str | Path, *, ledger_path: str | Path, actor: str | None = None,
                   today: dt.date | None = None) -> ImportOutcome:
    """Read, check and record a results file: all of it, or (on any problem) none of it."""
    path = Path(path)
    today = today or dt.date.today()
    with Ledger.open(ledger_path, actor=actor) as ledger:
        folder = load_draw(draw_dir, ledger)
        results = read_results(path, folder, today=today)
        source = {"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
        added, replaced, unchanged = [], [], []
        with ledger.transaction() as tx:
            for result in results:
                new = result.content()
                old = latest_result(ledger, result.visit_id, folder.draw_id)
                if old is not None and content_of(old.body) == new:
                    unchanged.append(result.visit_id)
                    continue
                body = {**new, "source": {**source, "rows": list(result.rows)}}
                if old is not None:
                    before = content_of(old.body)
                    changed = [k for k in CONTENT_KEYS if before[k] != new[k]]
                    body["replaces"] = {"seq": old.seq, "hash": old.hash}
                    body["changes"] = {k: {"from": before[k], "to": new[k]} for k in changed}
                    replaced.append((result.visit_id, old.seq, tuple(FIELD_TITLES.get(k, k) for k in changed)))
                else:
                    added.append(result.visit_id)
                tx.append("result", result.visit_id, body)
    return ImportOutcome(sum(len(r.rows) for r in results), tuple(added), tuple(replaced), tuple(unchanged))


# ---------------------------------------------------------------- states, read from the chain


@dataclass(frozen=True)
class Track:
    """Everything the ledger says about one visit's result."""

    visit: Visit
    result: Record | None  # the latest result
    approved: Record | None  # its 审核 record
    published: Record | None  # its 公示 record
    public: tuple[Record, Record] | None  # (result, 公示 record) the public list shows: the last version published
    first_published: tuple[Record, Record] | None  # the first publication, for timeliness
    follow_up: Record | None  # the latest follow_up record

    @property
    def state(self) -> str:
        if self.result is None:
            return "未录入"
        return PUBLISHED if self.published else APPROVED if self.approved else "录入"

    @property
    def completed_on(self) -> dt.date | None:
        return dt.date.fromisoformat(self.result.body["completed_on"]) if self.result else None

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(self.result.body["categories"]) if self.result else ()

    @property
    def needs_follow_up(self) -> bool:
        return self.result is not None and needs_follow_up(self.result.body)

    @property
    def follow_up_closed_on(self) -> dt.date | None:
        if self.follow_up is None or self.follow_up.body.get("state") != "closed":
            return None
        return dt.date.fromisoformat(self.follow_up.body["closed_on"])

    @property
    def abnormal_candidate(self) -> bool:
        return UNREACHABLE in self.categories


def tracks(folder: DrawFolder, ledger: Ledger) -> list[Track]:
    """One Track per visit of the draw, in visit order, from one pass over the chain."""
    versions: dict[str, list[Record]] = {}
    for record in ledger.iter("result"):
        if record.key in folder.visits and record.body.get("draw_id") == folder.draw_id:
            versions.setdefault(record.key, []).append(record)
    states: dict[int, dict[str, Record]] = {}
    for record in ledger.iter("result_state"):
        states.setdefault(record.body.get("result_seq"), {}).setdefault(record.body.get("state"), record)
    follow_ups: dict[str, Record] = {}
    for record in ledger.iter("follow_up"):
        follow_ups[record.key] = record
    out = []
    for vid, visit in folder.visits.items():
        mine = versions.get(vid, [])
        latest = mine[-1] if mine else None
        marks = states.get(latest.seq, {}) if latest else {}
        published = [(r, states[r.seq][PUBLISHED]) for r in mine if PUBLISHED in states.get(r.seq, {})]
        out.append(Track(visit, latest, marks.get(APPROVED), marks.get(PUBLISHED),
                         published[-1] if published else None, published[0] if published else None,
                         follow_ups.get(vid)))
    return out


@dataclass(frozen=True)
class StateChange:
    changed: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]  # (visit, why)


def approve(draw_dir: str | Path, *, ledger_path: str | Path, actor: str, visit_ids: Iterable[str] | None = None,
            on: dt.date | None = None) -> StateChange:
    """录入 → 审核 for the named visits (all entered results when `visit_ids` is None)."""
    on = on or dt.date.today()
    with Ledger.open(ledger_path, actor=actor) as ledger:
        folder = load_draw(draw_dir, ledger)
        changed, skipped = [], []
        # States are read under the write lock, so two approvers cannot approve one result twice.
        with ledger.transaction() as tx:
            by_visit = {t.visit.visit_id: t for t in tracks(folder, ledger)}
            wanted = list(by_visit) if visit_ids is None else list(dict.fromkeys(visit_ids))
            problems = []
            for vid in wanted:
                if vid not in by_visit:
                    problems.append(Problem("S803", f"检查编号 {vid} 不在本次抽取的检查中",
                                            file=str(folder.path / "visits.csv")))
                elif visit_ids is not None and by_visit[vid].result is None:
                    problems.append(Problem("S820", f"检查 {vid} 还没有录入结果，不能审核", where=f"检查 '{vid}'",
                                            hint="先用 spotcheck results import 录入结果"))
            if problems:
                raise SpotcheckError(problems)
            for vid in wanted:
                track = by_visit[vid]
                if track.result is None:
                    continue
                if track.state != "录入":
                    skipped.append((vid, f"已是“{track.state}”状态"))
                    continue
                tx.append("result_state", vid, {"visit_id": vid, "result_seq": track.result.seq, "state": APPROVED,
                                                "on": on.isoformat()})
                changed.append(vid)
    return StateChange(tuple(changed), tuple(skipped))


def mark_published(tx: Transaction, approved: Iterable[Track], on: dt.date, out: str) -> list[str]:
    """审核 → 公示 for these tracks, in the publishing transaction."""
    done = []
    for track in approved:
        tx.append("result_state", track.visit.visit_id, {"visit_id": track.visit.visit_id, "result_seq": track.result.seq,
                                                        "state": PUBLISHED, "on": on.isoformat(), "out": out})
        done.append(track.visit.visit_id)
    return done


@dataclass(frozen=True)
class FollowUpOutcome:
    visit_id: str
    changed: bool
    closed_on: dt.date
    action: str


def close_follow_up(visit_id: str, *, ledger_path: str | Path, actor: str | None, closed_on: dt.date, action: str,
                    draw_dir: str | Path | None = None, today: dt.date | None = None) -> FollowUpOutcome:
    """Close the follow-up of a visit whose result found a problem, with the date and the action taken."""
    today = today or dt.date.today()
    with Ledger.open(ledger_path, create=False, actor=actor) as ledger:
        draw_id = load_draw(draw_dir, ledger).draw_id if draw_dir is not None else None
        result = latest_result(ledger, visit_id, draw_id)
        where = f"检查 '{visit_id}'"
        if result is None:
            raise SpotcheckError(Problem("S820", f"检查 {visit_id} 没有录入结果", where=where,
                                         hint="核对检查编号；先用 spotcheck results import 录入结果"))
        problems = []
        if not needs_follow_up(result.body):
            problems.append(Problem("S822", f"检查 {visit_id} 的结果未发现问题，没有需要办结的后续处置", where=where))
        completed = dt.date.fromisoformat(result.body["completed_on"])
        if closed_on < completed or closed_on > today:
            problems.append(Problem("S818", f"办结日期 {closed_on} 应在检查完成日期 {completed} 与今天（{today}）之间",
                                    where=where, hint="核对办结日期"))
        known, unknown = _actions(action)
        if unknown or not known:
            problems.append(Problem("S813", f"不认识的后续处置：{action}", where=where,
                                    hint=f"以这些措施开头：{'、'.join(ACTIONS)}"))
        if problems:
            raise SpotcheckError(problems)
        latest = ledger.latest("follow_up", visit_id)
        body = {"visit_id": visit_id, "result_seq": result.seq, "state": "closed", "closed_on": closed_on.isoformat(),
                "action": action.strip()}
        if latest is not None and latest.body == body:
            return FollowUpOutcome(visit_id, False, closed_on, action.strip())
        with ledger.transaction() as tx:
            tx.append("follow_up", visit_id, body)
    return FollowUpOutcome(visit_id, True, closed_on, action.strip())


# ---------------------------------------------------------------- deadlines and status

RULE = "results_public"
DUE_SOON = 3  # working days


def policy_for(folder: DrawFolder, policy_path: str | Path | None = None) -> LoadedPolicy:
    """The given policy, or the one the draw names (policies/<id>.yaml)."""
    return load_policy(policy_path if policy_path is not None else POLICIES / f"{folder.policy_id}.yaml")


def publication_due(loaded: LoadedPolicy, completed_on: dt.date) -> dt.date:
    """The policy's results_public deadline counted from the completion date (S833 without one)."""
    rules = loaded.policy.deadlines
    resolved = deadlines.resolve(rules, {"check_completed": completed_on}, loaded.calendar) if RULE in rules else {}
    if RULE not in resolved:
        raise SpotcheckError(Problem("S833", f"策略 {loaded.policy.id} 没有可从检查完成日起算的期限 {RULE}",
                                     file=str(loaded.path), where=f"deadlines → {RULE}",
                                     hint="写明 results_public：working_days: 20，after: check_completed"))
    return resolved[RULE]


@dataclass(frozen=True)
class StatusLine:
    visit_id: str
    unit: str
    name: str
    uscc: str
    state: str
    completed_on: dt.date | None
    due: dt.date | None  # publication due; for a result not yet entered, the plan's results_due_by
    published_on: dt.date | None
    working_days_left: int | None  # from today to due; negative when overdue
    overdue: bool
    due_soon: bool
    follow_up: str  # 无需 / 待处置 / 已办结
    abnormal_candidate: bool


@dataclass(frozen=True)
class Status:
    draw_id: str
    drawn_on: dt.date
    today: dt.date
    lines: tuple[StatusLine, ...]

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for line in self.lines if line.state == s) for s in STATES}

    @property
    def overdue(self) -> list[StatusLine]:
        return [line for line in self.lines if line.overdue]

    @property
    def due_soon(self) -> list[StatusLine]:
        return [line for line in self.lines if line.due_soon]

    @property
    def abnormal(self) -> list[StatusLine]:
        return [line for line in self.lines if line.abnormal_candidate]

    @property
    def open_follow_ups(self) -> list[StatusLine]:
        return [line for line in self.lines if line.follow_up == "待处置"]

    def to_dict(self) -> dict:
        def line(x: StatusLine) -> dict:
            return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in x.__dict__.items()}

        return {"draw_id": self.draw_id, "drawn_on": self.drawn_on.isoformat(), "today": self.today.isoformat(),
                "counts": self.counts(), "lines": [line(x) for x in self.lines]}


def status_line(track: Track, loaded: LoadedPolicy, today: dt.date) -> StatusLine:
    """Where one visit's result stands against its publication deadline on `today`."""
    completed = track.completed_on
    due = publication_due(loaded, completed) if completed else track.visit.results_due_by
    published_on = dt.date.fromisoformat(track.published.body["on"]) if track.published else None
    left = loaded.calendar.working_days_between(today, due) if due else None
    pending = track.state != PUBLISHED
    follow = "无需" if not track.needs_follow_up else ("已办结" if track.follow_up_closed_on else "待处置")
    return StatusLine(
        visit_id=track.visit.visit_id, unit=track.visit.unit, name=track.visit.name, uscc=track.visit.uscc,
        state=track.state, completed_on=completed, due=due, published_on=published_on, working_days_left=left,
        overdue=pending and due is not None and today > due,
        due_soon=pending and left is not None and 0 <= left <= DUE_SOON,
        follow_up=follow, abnormal_candidate=track.abnormal_candidate,
    )


def status(draw_dir: str | Path, *, ledger_path: str | Path, policy_path: str | Path | None = None,
           today: dt.date | None = None) -> Status:
    """Every visit of a draw with its state, publication deadline, follow-up and 经营异常名录 flag."""
    today = today or dt.date.today()
    with Ledger.open(ledger_path, create=False) as ledger:
        folder = load_draw(draw_dir, ledger)
        loaded = policy_for(folder, policy_path)
        lines = tuple(status_line(t, loaded, today) for t in tracks(folder, ledger))
    return Status(folder.draw_id, folder.drawn_on, today, lines)


# ---------------------------------------------------------------- a sample results file for demos

SAMPLE_HEADERS = ("检查编号", "市场主体名称", "统一社会信用代码", "检查完成日期", "检查方式", "检查结果", "检查事项编码",
                  "检查情况", "后续处置", "备注")
_SAMPLE_PROBLEMS = (
    ("R0201", "未按规定公示年度报告中的行政许可信息", "责令改正"),
    ("R0204", "经营场所未按规定明码标价", "立案查处"),
    ("R03", "产品标识不全，现场已责令改正", "责令改正"),
)
SAMPLE_PROBLEM_PERCENT = 15


@dataclass(frozen=True)
class SampleOutcome:
    path: Path
    rows: int
    visits: int
    problems: int
    unreachable: str | None


def sample_results(draw_dir: str | Path, out: str | Path, *, seed: str = "0", today: dt.date | None = None) -> SampleOutcome:
    """A plausible results file for a draw's visits, the same for the same seed: most 未发现问题, about
    one in seven with a problem on one item (one row per item), and one unreachable address."""
    today = today or dt.date.today()
    folder = load_draw(draw_dir)
    calendar = WorkCalendar.standard()
    digest = {vid: hashlib.sha256(f"{seed}|{vid}".encode()).hexdigest() for vid in folder.visits}
    unreachable = min(digest, key=digest.get) if digest else None
    rows: list[tuple[str, ...]] = []
    problems = 0
    for vid, visit in folder.visits.items():
        h = digest[vid]
        latest = min(visit.inspect_by or folder.drawn_on + dt.timedelta(days=30), today)
        span = calendar.working_days_between(folder.drawn_on, latest)
        # Checks are done on working days, so the sample's completion dates are too.
        done = (calendar.add_working_days(folder.drawn_on, 1 + int(h[8:16], 16) % span) if span > 0
                else folder.drawn_on).isoformat()
        if vid == unreachable:
            rows.append((vid, visit.name, visit.uscc, done, "实地检查", CATEGORIES[UNREACHABLE].name, "",
                         "按登记住所实地核查未找到该主体，登记电话无法接通", "列入经营异常名录", ""))
        elif int(h[:8], 16) % 100 < SAMPLE_PROBLEM_PERCENT and visit.item_codes:
            problems += 1
            code, finding, action = _SAMPLE_PROBLEMS[int(h[16:24], 16) % len(_SAMPLE_PROBLEMS)]
            bad = visit.item_codes[int(h[24:32], 16) % len(visit.item_codes)]
            for item in visit.item_codes:
                if item == bad:
                    rows.append((vid, visit.name, visit.uscc, done, "实地检查、书面检查", CATEGORIES[code].name, item,
                                 finding, action, ""))
                else:
                    rows.append((vid, visit.name, visit.uscc, done, "实地检查", CATEGORIES[NO_PROBLEM].name, item, "", "", ""))
        else:
            rows.append((vid, visit.name, visit.uscc, done, "实地检查", CATEGORIES[NO_PROBLEM].name, "", "", "", ""))
    out = Path(out)
    write_file_atomic(out, table_bytes(out.suffix.lower(), SAMPLE_HEADERS, rows))
    return SampleOutcome(out, len(rows), len(folder.visits), problems, unreachable)


def table_bytes(suffix: str, headers: Iterable[str], rows: Iterable[Iterable[str]]) -> bytes:
    """A table as XLSX (for .xlsx) or CSV in UTF-8 with BOM, so Excel opens it without mojibake."""
    if suffix == ".xlsx":
        buffer = io.BytesIO()
        book = xlsxwriter.Workbook(buffer, {"in_memory": True})
        sheet = book.add_worksheet()
        bold = book.add_format({"bold": True})
        widths: dict[int, int] = {}
        for j, h in enumerate(headers):
            sheet.write_string(0, j, h, bold)
            widths[j] = len(h) * 2
        for i, row in enumerate(rows, start=1):
            for j, value in enumerate(row):
                sheet.write_string(i, j, str(value))
                widths[j] = max(widths.get(j, 0), min(len(str(value)) * 2, 60))
        for j, w in widths.items():
            sheet.set_column(j, j, w + 2)
        sheet.freeze_panes(1, 0)
        book.close()
        return buffer.getvalue()
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(list(headers))
    writer.writerows([list(map(str, r)) for r in rows])
    return b"\xef\xbb\xbf" + text.getvalue().encode("utf-8")
