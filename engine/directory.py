"""The two directories of 一单两库 (entities, inspectors) and the recusal list, loaded and checked.

A directory is read as text first (CSV in UTF-8, UTF-8 with BOM or GBK/GB18030; XLSX; Parquet),
its headers are mapped onto the fields of `spotcheck.fields` (Chinese or English spellings), then
every cell is normalised and checked with polars expressions in one streaming pass, so a city's ten
million rows load in seconds and memory holds little more than the typed frame: the raw text is never
kept, only one flag per check, and the few rows a problem lists are looked up again. Columns that
repeat a few values (statuses, districts, dates) pass as Categorical and are normalised and checked
once per distinct value. Every problem in the file is collected before anything is raised: an officer
fixes the export once. The file's sha256 is kept because the draw commits to the exact bytes it read.
"""

from __future__ import annotations

import codecs
import difflib
import hashlib
import re
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, ClassVar

import fastexcel
import polars as pl
from spotcheck import uscc
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.fields import (
    ENTITY_FIELDS,
    ENTITY_STATUSES,
    ENTITY_TYPES,
    INSPECTOR_FIELDS,
    LABEL_SEPARATORS,
    RECUSAL_FIELDS,
    TIER_NAMES,
    Field,
)

# Problems listed one by one per (code, column); the rest are counted in one closing problem, so a
# file with a million bad dates neither floods the officer nor takes minutes to report.
ROW_PROBLEM_CAP = 100
# Export tools put a title line or two above the header; the header is looked for this far down.
HEADER_SEARCH_ROWS = 20
# "长期" and friends are how exports write an open-ended term.
OPEN_ENDED = ("长期", "永久", "长期有效", "无固定期限", "不约定期限")

_CSV_SUFFIXES = {".csv", ".txt"}
_EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}

_DATE_HINT = "日期请写成 2023-01-05、2023/1/5、20230105 或 2023年1月5日"
_USCC_HINT = "统一社会信用代码为 18 位，不使用字母 I、O、S、V、Z（常见错误：数字 0 写成字母 O）；请与营业执照核对"
_EXCEL_NUMBER_HINT = "；Excel 中 18 位数字会被当作数值而丢失末几位，请把该列设为“文本”格式后重新填写"


@dataclass(frozen=True, eq=False)
class Directory:
    """A loaded, checked directory file: canonical columns, where it came from and what exactly was read."""

    frame: pl.DataFrame  # one column per readable field, named as in fields.py
    path: Path
    sha256: str  # of the file's bytes
    headers: dict[str, str]  # field name → the header as written in the file (fields present only)
    source_rows: pl.Series  # spreadsheet row number (header is row 1) of each frame row

    def __len__(self) -> int:
        return self.frame.height

    FIELDS: ClassVar[dict[str, Field]] = {}

    def describe(self, field: str) -> str:
        """The column as the officer knows it: the header in the file, or the field's title."""
        return self.headers.get(field) or self.FIELDS[field].title


class EntityDirectory(Directory):
    """检查对象名录库."""

    FIELDS = ENTITY_FIELDS


class InspectorDirectory(Directory):
    """执法检查人员名录库."""

    FIELDS = INSPECTOR_FIELDS


class RecusalList(Directory):
    """回避名单: an inspector who must not inspect an entity."""

    FIELDS = RECUSAL_FIELDS

    def unknown_references(self, entities: EntityDirectory, inspectors: InspectorDirectory) -> list[Problem]:
        """Rows naming an inspector or an entity the directories lack: such a recusal would silently not apply."""
        problems: list[Problem] = []
        frame = self.frame.with_columns(_row=self.source_rows)
        for field, other, code, what in (
            ("inspector_id", inspectors.frame["inspector_id"], "D213", "执法人员名录库"),
            ("uscc", entities.frame["uscc"], "D214", "检查对象名录库"),
        ):
            known = other.to_frame(field).unique()
            missing = frame.filter(pl.col(field).is_not_null()).join(known, on=field, how="anti").sort("_row")
            column = self.describe(field)
            for row, value in missing.select("_row", field).head(ROW_PROBLEM_CAP).iter_rows():
                problems.append(
                    Problem(
                        code,
                        f"回避名单中的{RECUSAL_FIELDS[field].title} '{value}' 在{what}中不存在",
                        file=str(self.path),
                        row=row,
                        column=column,
                        hint=f"请核对编号，或确认{what}是否为最新版本；否则该回避不会生效",
                    )
                )
            problems.extend(_rest(code, missing.height, self.path, column, RECUSAL_FIELDS[field].title))
        return problems


def load_entities(path: str | Path) -> EntityDirectory:
    """Load and check an entity directory; SpotcheckError with every problem found."""
    return EntityDirectory(**_load(Path(path), _ENTITIES))


def load_inspectors(path: str | Path) -> InspectorDirectory:
    """Load and check an inspector directory; SpotcheckError with every problem found."""
    return InspectorDirectory(**_load(Path(path), _INSPECTORS))


def load_recusals(path: str | Path) -> RecusalList:
    """Load and check a recusal list (it may have no rows); SpotcheckError with every problem found."""
    return RecusalList(**_load(Path(path), _RECUSALS))


# ---------------------------------------------------------------------------------------------
# Reading


@dataclass(frozen=True)
class _Raw:
    """All cells as text, not yet read; `first_row` is the spreadsheet row number of the frame's first row."""

    frame: pl.LazyFrame
    first_row: int
    has_header_row: bool  # False for Parquet: names come from the schema, data starts at row 2
    csv: bool = False  # read as UTF-8; GB18030 is tried if that fails on bytes that are not UTF-8
    csv_source: Path | bytes | None = None  # the CSV file or its text in UTF-8

    def typed(self, dtypes: dict[str, pl.DataType]) -> pl.LazyFrame:
        """The cells with some columns cast to `dtypes`; CSV is parsed so, less work and memory than text cast."""
        if self.csv_source is not None:
            return _scan_csv(self.csv_source, dtypes)
        return self.frame.with_columns(pl.col(c).cast(t) for c, t in dtypes.items())


class _Unreadable(Exception):
    """polars failed while reading the file (the reading is lazy, so this happens at collect time)."""

    def __init__(self, cause: Exception):
        super().__init__(str(cause))
        self.cause = cause


# Files are checked and transcoded in pieces of this size, never held whole.
_CHUNK = 1 << 20


def _cannot_read(path: Path, exc: OSError) -> SpotcheckError:
    return SpotcheckError(
        Problem("D201", f"无法读取文件：{exc.strerror or exc}", file=str(path), hint="请检查文件路径和访问权限")
    )


def _sha256(path: Path, hashing: Future) -> str:
    try:
        return hashing.result().hexdigest()
    except OSError as exc:
        raise _cannot_read(path, exc) from None


def _unreadable(path: Path, exc: Exception) -> SpotcheckError:
    return SpotcheckError(
        Problem(
            "D201",
            f"无法读取文件：{exc}",
            file=str(path),
            hint="请确认文件没有损坏，且每一行的列数与表头一致",
        )
    )


def _read_raw(path: Path) -> _Raw:
    suffix = path.suffix.lower()
    try:
        if suffix in _CSV_SUFFIXES:
            return _Raw(_scan_csv(path), 1, True, csv=True, csv_source=path)
        if suffix in _EXCEL_SUFFIXES:
            frame = pl.read_excel(
                path,
                engine="calamine",
                has_header=False,
                # Keep leading empty rows so row numbers match what the officer sees in Excel.
                read_options={"header_row": None, "skip_rows": 0},
                infer_schema_length=0,
                drop_empty_rows=False,
                drop_empty_cols=False,
                raise_if_empty=False,
            )
            return _Raw(frame.lazy().select(pl.all().cast(pl.String)), 1, True)
        if suffix in _PARQUET_SUFFIXES:
            frame = pl.scan_parquet(path)
            return _Raw(frame.select(_as_text(frame.collect_schema())), 2, False)
    except (pl.exceptions.PolarsError, OSError, ValueError, fastexcel.FastExcelError) as exc:
        raise _unreadable(path, exc) from None
    raise SpotcheckError(
        Problem(
            "D201",
            f"不支持的文件类型 '{path.suffix or '（无扩展名）'}'",
            file=str(path),
            hint="请导出为 CSV（UTF-8 或 GBK）、XLSX 或 Parquet 文件",
        )
    )


def _scan_csv(source: Path | bytes, dtypes: dict[str, pl.DataType] | None = None) -> pl.LazyFrame:
    # polars skips a UTF-8 BOM itself.
    return pl.scan_csv(source, has_header=False, infer_schema=False, schema_overrides=dtypes, raise_if_empty=False)


def _collect(frame: pl.LazyFrame) -> pl.DataFrame:
    try:
        return frame.collect(engine="streaming")
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise _Unreadable(exc) from None


def _is_utf8(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _read_gb18030(path: Path) -> _Raw:
    """Platform exports are often GBK, read as GB18030, its superset, and handed to polars as UTF-8."""
    decoder = codecs.getincrementaldecoder("gb18030")()
    parts: list[bytes] = []
    try:
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                parts.append(decoder.decode(chunk).encode("utf-8"))
        parts.append(decoder.decode(b"", final=True).encode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("文件编码无法识别：既不是 UTF-8 也不是 GBK/GB18030") from None
    text = b"".join(parts)
    return _Raw(_scan_csv(text), 1, True, csv_source=text)


def _as_text(schema: pl.Schema) -> list[pl.Expr]:
    exprs = []
    for name, dtype in schema.items():
        col = pl.col(name)
        if isinstance(dtype, (pl.List, pl.Array)):
            col = col.cast(pl.List(pl.String)).list.join(LABEL_SEPARATORS[0])
        exprs.append(col.cast(pl.String))
    return exprs


# ---------------------------------------------------------------------------------------------
# Headers


def _norm_header(header: str) -> str:
    # Templates mark required columns with "*"; English headers may come in any case.
    return header.replace("\ufeff", "").strip().strip("*＊").strip().casefold()


def _spellings(fields: dict[str, Field]) -> dict[str, Field]:
    """Every accepted header spelling → its field. Fields without headers are derived, never read."""
    out: dict[str, Field] = {}
    for field in fields.values():
        if not field.headers:
            continue
        for spelling in (field.name, *field.headers):
            out[_norm_header(spelling)] = field
    return out


def _readable(fields: dict[str, Field]) -> list[Field]:
    return [f for f in fields.values() if f.headers]


def _find_header_row(head: pl.DataFrame, spellings: dict[str, Field]) -> int:
    """Index of the row with most recognised headers among the first rows (title lines sit above it)."""
    best, best_hits = 0, 0
    for i, cells in enumerate(head.iter_rows()):
        hits = sum(1 for c in cells if c is not None and _norm_header(c) in spellings)
        if hits > best_hits:
            best, best_hits = i, hits
    if best_hits == 0:
        # Nothing recognised: the first non-empty row is the header, so the officer sees it named.
        for i, cells in enumerate(head.iter_rows()):
            if any(c is not None and c.strip() for c in cells):
                return i
    return best


@dataclass(frozen=True)
class _Layout:
    columns: dict[str, str]  # field name → raw frame column
    headers: dict[str, str]  # field name → header as written


def _map_headers(
    headers: list[tuple[str, str]], fields: dict[str, Field], file: str
) -> tuple[_Layout, list[Problem]]:
    """Match (raw column, header as written) pairs to fields; problems for missing, doubled and mistyped headers."""
    spellings = _spellings(fields)
    columns: dict[str, str] = {}
    written: dict[str, str] = {}
    unknown: list[str] = []
    problems: list[Problem] = []
    for col, header in headers:
        field = spellings.get(_norm_header(header))
        if field is None:
            if header.strip():
                unknown.append(header)
            continue
        if field.name in columns:
            problems.append(
                Problem(
                    "D204",
                    f"列「{header}」与列「{written[field.name]}」都表示{field.title}",
                    file=file,
                    row=1,
                    column=header,
                    hint="请删除其中一列，或改正列名",
                )
            )
            continue
        columns[field.name] = col
        written[field.name] = header

    # A header close to a field the file lacks is most likely a typo of it; one close to a field
    # already present is an extra column of the export and is left alone.
    absent = {s: f for s, f in spellings.items() if f.name not in columns}
    claimed: dict[str, str] = {}  # field name → the unknown header suggested for it
    for header in unknown:
        match = difflib.get_close_matches(_norm_header(header), list(absent), n=1, cutoff=0.75)
        if not match:
            continue
        field = absent[match[0]]
        claimed.setdefault(field.name, header)
        if not field.required:
            problems.append(
                Problem(
                    "D203",
                    f"无法识别的列名「{header}」",
                    file=file,
                    row=1,
                    column=header,
                    hint=f"是否应为「{field.headers[0]}」？可用列名：{_spelling_list(field)}",
                )
            )
    for field in _readable(fields):
        if field.required and field.name not in columns:
            guess = claimed.get(field.name)
            problems.append(
                Problem(
                    "D202",
                    f"缺少必填列「{field.title}」" + (f"（文件中的列「{guess}」是否就是它？）" if guess else ""),
                    file=file,
                    row=1 if guess else None,
                    column=guess,
                    hint=f"请添加该列或改正列名，可用列名：{_spelling_list(field)}",
                )
            )
    return _Layout(columns, written), problems


def _spelling_list(field: Field) -> str:
    return "、".join((*field.headers, field.name))


# ---------------------------------------------------------------------------------------------
# Normalising and checking cells


@dataclass(frozen=True)
class _Check:
    """One kind of cell problem: rows where `bad` is true get a Problem built by `describe`."""

    code: str
    field: str
    bad: pl.Expr
    describe: Callable[[dict], tuple[str, str]]  # row values → (message, hint)
    extra: tuple[pl.Expr, ...] = ()  # named row-wise expressions the messages need, computed on listed rows only
    # Named row-wise expressions `bad` reads, computed once per row for all checks that share them:
    # polars works a subexpression out again wherever it appears.
    shared: tuple[pl.Expr, ...] = ()
    duplicates: bool = False  # listed rows also get `_first`, the row where their value first appears
    quotes_cell: bool = False  # listed rows also get `raw_<field>`, the cell as written


def _cell(name: str) -> pl.Expr:
    return pl.col(f"raw_{name}")


def _text(col: str) -> pl.Expr:
    """Trimmed text; an empty cell is null."""
    s = pl.col(col).str.strip_chars()
    return pl.when(s == "").then(None).otherwise(s)


def _normalise_uscc(raw: pl.Expr) -> pl.Expr:
    # Nearly every code is written right already, and testing for that is cheaper than rewriting it.
    written_right = ~raw.str.contains(f"[^{uscc.CHARSET}]")
    return pl.when(written_right).then(raw).otherwise(raw.str.replace_all(r"\s", "").str.to_uppercase())


def _tier(raw: pl.Expr) -> pl.Expr:
    names = {name: tier for tier, name in TIER_NAMES.items()}
    key = raw.str.to_uppercase().str.strip_chars_end("级类")
    mapping = {**{t: t for t in TIER_NAMES}, **names}
    return key.replace_strict(mapping, default=None, return_dtype=pl.String)


def _entity_type(raw: pl.Expr) -> pl.Expr:
    # Exports spell out the legal form ("有限责任公司（自然人独资）", "个人独资企业"); the plan only
    # distinguishes the three registration kinds.
    return (
        pl.when(raw.is_in(list(ENTITY_TYPES)))
        .then(raw)
        .when(raw.str.contains("个体"))
        .then(pl.lit("个体工商户"))
        .when(raw.str.contains("合作社"))
        .then(pl.lit("农民专业合作社"))
        .when(raw.str.contains("公司") | raw.str.contains("企业"))
        .then(pl.lit("企业"))
    )


def _entity_status(raw: pl.Expr) -> pl.Expr:
    # The national system writes "存续（在营、开业、在册）" and "吊销，未注销" / "吊销，已注销".
    key = raw.str.replace_all(r"\s", "").str.strip_prefix("已")
    chain = pl.when(key.is_in(list(ENTITY_STATUSES))).then(key)
    chain = chain.when(key.str.contains("已注销")).then(pl.lit("注销"))
    for status in sorted(ENTITY_STATUSES, key=len, reverse=True):
        chain = chain.when(key.str.starts_with(status)).then(pl.lit(status))
    return chain.otherwise(None)


def _enum(field: Field, aliases: dict[str, str] | None = None) -> Callable[[pl.Expr], pl.Expr]:
    mapping = {v: v for v in field.values} | (aliases or {})
    return lambda raw: raw.replace_strict(mapping, default=None, return_dtype=pl.String)


def _labels(raw: pl.Expr) -> pl.Expr:
    separators = "[" + "".join(re.escape(s) for s in LABEL_SEPARATORS) + "]"
    items = raw.str.replace_all(separators, "\x1f").str.split("\x1f")
    items = items.list.eval(pl.element().str.strip_chars()).list.eval(pl.element().filter(pl.element() != ""))
    return items.list.unique(maintain_order=True).fill_null(pl.lit([], dtype=pl.List(pl.String)))


_DATE_COMPACT = r"^(\d{4})(\d{2})(\d{2})$"
# Any of - / . 年月日 between the parts; a midnight time part is how Excel date cells arrive as text.
_DATE_YMD = r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"


def _date(raw: pl.Expr) -> pl.Expr:
    # Rewritten to Y-M-D then parsed once; chrono takes 1- or 2-digit months and days, and
    # rejects impossible dates such as 2023-02-30 (null, reported as a bad date).
    iso = raw.str.replace(_DATE_COMPACT, "${1}-${2}-${3}").str.replace(_DATE_YMD, "${1}-${2}-${3}")
    return iso.str.to_date("%Y-%m-%d", strict=False)


def _open_ended(raw: pl.Expr) -> pl.Expr:
    return raw.is_in(list(OPEN_ENDED))


_ENUM_NORMALISERS: dict[tuple[str, str], Callable[[pl.Expr], pl.Expr]] = {
    ("entity", "tier"): _tier,
    ("entity", "type"): _entity_type,
    ("entity", "status"): _entity_status,
    ("inspector", "status"): _enum(INSPECTOR_FIELDS["status"], {"在职": "在岗"}),
    ("inspector", "role"): _enum(INSPECTOR_FIELDS["role"], {"行政执法人员": "执法人员", "第三方": "第三方机构"}),
}


def _dtype(field: Field) -> pl.DataType:
    if field.kind == "labels":
        return pl.List(pl.String)
    if field.kind == "date":
        return pl.Date
    # The global categories, so that columns of different files compare and join with each other.
    return pl.Categorical() if field.few_values else pl.String


def _typed(field: Field, kind: str, present: bool) -> pl.Expr:
    """The canonical column for `field` from its raw text column (or a typed null when the file lacks it)."""
    if not present:
        if field.kind == "labels":
            return pl.lit([], dtype=pl.List(pl.String)).alias(field.name)
        return pl.lit(None, dtype=_dtype(field)).alias(field.name)
    raw = _cell(field.name)
    if field.name == "uscc":
        expr = _normalise_uscc(raw)
    elif field.kind == "enum":
        expr = _ENUM_NORMALISERS.get((kind, field.name), _enum(field))(raw)
    elif field.kind == "labels":
        expr = _labels(raw)
    elif field.kind == "date":
        expr = _date(raw)
    else:
        expr = raw
    return expr.cast(_dtype(field)).alias(field.name)


def _common_checks(fields: dict[str, Field], kind: str, present: set[str]) -> list[_Check]:
    checks: list[_Check] = []
    for field in _readable(fields):
        if field.name not in present:
            continue
        raw, value = _cell(field.name), pl.col(field.name)
        if field.required:
            checks.append(
                _Check(
                    "D205",
                    field.name,
                    raw.is_null(),
                    lambda r, f=field: (f"必填项「{f.title}」为空", f"请填写{f.title}"),
                )
            )
        if field.kind == "enum":
            checks.append(
                _Check(
                    "D209",
                    field.name,
                    raw.is_not_null() & value.is_null(),
                    lambda r, f=field: (
                        f"'{r[f'raw_{f.name}']}' 不是有效的{f.title}",
                        f"{f.title}应为 {'、'.join(f.values)} 之一",
                    ),
                    quotes_cell=True,
                )
            )
        elif field.kind == "date":
            bad = raw.is_not_null() & value.is_null()
            if field.name.endswith("expires"):
                bad = bad & ~_open_ended(raw)
            checks.append(
                _Check(
                    "D210",
                    field.name,
                    bad,
                    lambda r, f=field: (f"'{r[f'raw_{f.name}']}' 不是有效的{f.title}", _DATE_HINT),
                    quotes_cell=True,
                )
            )
    return checks


def _uscc_checks(excel: bool) -> list[_Check]:
    code = pl.col("uscc")
    remainder = (uscc.remainder_expr(code).alias("_remainder"),)  # null unless 18 legal characters
    expected = uscc.check_char_expr(code)
    extra_hint = _EXCEL_NUMBER_HINT if excel else ""

    def shape(r: dict) -> tuple[str, str]:
        value = r["uscc"]
        if len(value) != 18:
            return f"统一社会信用代码 '{value}' 应为 18 位，此处为 {len(value)} 位", _USCC_HINT + extra_hint
        illegal = next(c for c in value if c not in uscc.CHARSET)
        return f"统一社会信用代码 '{value}' 含有不允许的字符 '{illegal}'", _USCC_HINT

    def check(r: dict) -> tuple[str, str]:
        value = r["uscc"]
        return (
            f"统一社会信用代码 '{value}' 校验位错误：按前 17 位计算应为 '{r['_expected']}'，此处为 '{value[17]}'",
            "请与营业执照核对；前 17 位抄错时校验位也对不上" + (extra_hint if value.isdigit() else ""),
        )

    def duplicate(r: dict) -> tuple[str, str]:
        return (
            f"统一社会信用代码 '{r['uscc']}' 重复：第 {r['_first']} 行与第 {r['_row']} 行",
            "同一市场主体只能出现一次，请删除重复行或核对代码",
        )

    return [
        _Check("D206", "uscc", code.is_not_null() & pl.col("_remainder").is_null(), shape, shared=remainder),
        _Check("D207", "uscc", pl.col("_remainder") != 0, check, (expected.alias("_expected"),), shared=remainder),
        _duplicate_check("D208", "uscc", duplicate),
    ]


def _duplicate_check(code: str, field: str, describe: Callable[[dict], tuple[str, str]]) -> _Check:
    value = pl.col(field)
    return _Check(code, field, value.is_not_null() & ~value.is_first_distinct(), describe, duplicates=True)


def _entity_checks(present: set[str], excel: bool) -> list[_Check]:
    checks = _common_checks(ENTITY_FIELDS, "entity", present)
    if "uscc" in present:
        checks += _uscc_checks(excel)
    return checks


def _inspector_checks(present: set[str], excel: bool) -> list[_Check]:
    checks = _common_checks(INSPECTOR_FIELDS, "inspector", present)
    if "inspector_id" in present:
        checks.append(
            _duplicate_check(
                "D211",
                "inspector_id",
                lambda r: (
                    f"执法人员编号 '{r['inspector_id']}' 重复：第 {r['_first']} 行与第 {r['_row']} 行",
                    "每名人员只能出现一次，请删除重复行或核对编号",
                ),
            )
        )
    return checks


def _recusal_checks(present: set[str], excel: bool) -> list[_Check]:
    checks = _common_checks(RECUSAL_FIELDS, "recusal", present)
    if "uscc" in present:
        # The same pair listed twice is harmless; only the code itself must be right.
        checks += [c for c in _uscc_checks(excel) if c.code != "D208"]
    return checks


def _filled(not_blank: list[pl.Expr]) -> pl.Expr:
    return (pl.any_horizontal(not_blank) if not_blank else pl.lit(False)).alias("_filled")


def _per_value(cells: pl.Series, field: Field, kind: str, checks: list[_Check]) -> pl.DataFrame:
    """`field`'s typed column, `_blank` and its checks' `_bad{i}` flags, each worked out once per distinct cell.

    The distinct cells are the column's own categories, and a null for empty cells; a row takes the
    results of its category by the category's physical code.
    """
    distinct = cells.dtype.categories.to_series()
    mine = {i: c for i, c in enumerate(checks) if c.field == field.name and not c.duplicates}
    table = (
        # In one chunk: gathering lists from a table in pieces is many times slower.
        pl.DataFrame({"_cell": pl.concat([distinct, pl.Series([None], dtype=pl.String)], rechunk=True)})
        .select(_text("_cell").alias(f"raw_{field.name}"))
        .with_columns(_typed(field, kind, True))
        .select(
            field.name,
            _cell(field.name).is_null().alias("_blank"),
            *[c.bad.fill_null(False).alias(f"_bad{i}") for i, c in mine.items()],
        )
    )
    codes = cells.to_physical().fill_null(distinct.len())
    # A flag holds for few categories if any (blank cells, values in error): looking those up is
    # several times faster than gathering the flag for every row.
    return pl.DataFrame(
        [
            table.get_column(field.name).gather(codes),
            *[codes.is_in(table.get_column(flag).arg_true().implode()).alias(flag) for flag in table.columns[1:]],
        ]
    )


def _duplicates(work: pl.DataFrame, check: _Check) -> pl.Series:
    # Equal values have equal 64-bit hashes, so when the hashes are all distinct no value repeats;
    # counting them is several times faster than comparing the text of millions of codes, which only
    # a file with a repeat (or, very rarely, a hash collision) needs.
    if work.select(pl.col(check.field).hash().n_unique()).item() == work.height:
        return pl.repeat(False, work.height, eager=True)
    return work.select(check.bad.fill_null(False)).to_series()


def _rest(code: str, total: int, path: Path, column: str, title: str) -> list[Problem]:
    if total <= ROW_PROBLEM_CAP:
        return []
    return [
        Problem(
            code,
            f"另有 {total - ROW_PROBLEM_CAP} 行存在同类问题（{title}），未逐一列出",
            file=str(path),
            column=column,
        )
    ]


# ---------------------------------------------------------------------------------------------
# Putting it together


@dataclass(frozen=True)
class _Sheet:
    """What one kind of directory file holds and how its cells are checked."""

    fields: dict[str, Field]
    kind: str
    checks_for: Callable[[set[str], bool], list[_Check]]
    allow_empty: bool


_ENTITIES = _Sheet(ENTITY_FIELDS, "entity", _entity_checks, allow_empty=False)
_INSPECTORS = _Sheet(INSPECTOR_FIELDS, "inspector", _inspector_checks, allow_empty=False)
_RECUSALS = _Sheet(RECUSAL_FIELDS, "recusal", _recusal_checks, allow_empty=True)


def _load(path: Path, sheet: _Sheet) -> dict:
    try:
        file = path.open("rb")
    except OSError as exc:
        raise _cannot_read(path, exc) from None
    # The file is hashed while polars reads it: hashlib lets go of the GIL.
    with file, ThreadPoolExecutor(max_workers=1) as pool:
        hashing = pool.submit(hashlib.file_digest, file, "sha256")
        try:
            loaded = _read_checked(path, sheet)
        finally:
            # A file that cannot be hashed is reported as such, before any problem of its content.
            digest = _sha256(path, hashing)
    return {**loaded, "sha256": digest}


def _read_checked(path: Path, sheet: _Sheet) -> dict:
    raw = _read_raw(path)
    try:
        return _read_and_check(raw, path, sheet)
    except _Unreadable as failed:
        error = failed.cause
    # polars rejects invalid UTF-8, so a GBK file fails the first reading and is decoded only then.
    if raw.csv and isinstance(error, pl.exceptions.ComputeError):
        try:
            if not _is_utf8(path):
                return _read_and_check(_read_gb18030(path), path, sheet)
        except _Unreadable as failed:
            error = failed.cause
        except (OSError, ValueError) as exc:
            error = exc
    raise _unreadable(path, error) from None


def _data_rows(frame: pl.LazyFrame, raw: _Raw, first_row: int) -> pl.LazyFrame:
    return frame.with_row_index("_row", offset=raw.first_row).filter(pl.col("_row") >= first_row)


def _typed_rows(
    raw: _Raw, first_row: int, layout: _Layout, unmapped: list[str], sheet: _Sheet, checks: list[_Check]
) -> pl.DataFrame:
    """`_row`, every readable field's typed column and a `_bad{i}` flag per check; blank rows left out.

    One streaming pass keeps the typed columns and a flag per row-wise check, the raw text is dropped
    as it streams by. Few-valued columns are read as Categorical, each with categories of its own,
    and normalised and checked afterwards once per category. A duplicate needs the whole column, so
    those checks run last.
    """
    kind, readable = sheet.kind, _readable(sheet.fields)
    few = [f for f in readable if f.few_values and f.name in layout.columns]
    per_row = [f for f in readable if not f.few_values and f.name in layout.columns]
    categorical = {layout.columns[f.name]: pl.Categorical(pl.Categories.random()) for f in few}
    row_checks = {i: c for i, c in enumerate(checks) if not c.duplicates and c.field not in {f.name for f in few}}
    shared = {e.meta.output_name(): e for c in row_checks.values() for e in c.shared}
    scanned = _collect(
        _data_rows(raw.typed(categorical), raw, first_row)
        .with_columns(_text(layout.columns[f.name]).alias(f"raw_{f.name}") for f in per_row)
        .with_columns(_typed(f, kind, True) for f in per_row)
        .with_columns(shared.values())
        .select(
            "_row",
            *[f.name for f in per_row],
            *[c.bad.fill_null(False).alias(f"_bad{i}") for i, c in row_checks.items()],
            *[pl.col(layout.columns[f.name]).alias(f.name) for f in few],
            _filled([_cell(f.name).is_not_null() for f in per_row] + [_text(c).is_not_null() for c in unmapped]),
        )
    )
    filled = scanned.drop_in_place("_filled")
    for f in few:
        per_value = _per_value(scanned.drop_in_place(f.name), f, kind, checks)
        filled = filled | ~per_value.drop_in_place("_blank")
        scanned = scanned.hstack(per_value)
    work = scanned.select(
        "_row",
        *[f.name if f.name in layout.columns else _typed(f, kind, False) for f in readable],
        *[f"_bad{i}" for i, c in enumerate(checks) if not c.duplicates],
    )
    # Blank lines (and rows of empty cells Excel leaves behind) are not entities.
    if (layout.columns or unmapped) and not filled.all():
        work = work.filter(filled)
    return work.with_columns(_duplicates(work, c).alias(f"_bad{i}") for i, c in enumerate(checks) if c.duplicates)


def _read_and_check(raw: _Raw, path: Path, sheet: _Sheet) -> dict:
    file = str(path)
    fields, checks_for, allow_empty = sheet.fields, sheet.checks_for, sheet.allow_empty
    if raw.has_header_row:
        head = _collect(raw.frame.head(HEADER_SEARCH_ROWS))
        header_index = _find_header_row(head, _spellings(fields)) if head.height else 0
        header_cells = head.row(header_index) if head.height else ()
        headers = [(col, cell or "") for col, cell in zip(head.columns, header_cells)]
        first_row = raw.first_row + header_index + 1
    else:
        headers = [(col, col) for col in raw.frame.collect_schema().names()]
        first_row = raw.first_row

    layout, problems = _map_headers(headers, fields, file)
    # Header problems found below a title line point at the real header row.
    if raw.has_header_row and first_row != raw.first_row + 1:
        problems = [replace(p, row=first_row - 1) if p.row == 1 else p for p in problems]

    readable = _readable(fields)
    checks = checks_for(set(layout.columns), path.suffix.lower() in _EXCEL_SUFFIXES)
    unmapped = [c for c, _ in headers if c not in layout.columns.values()]
    work = _typed_rows(raw, first_row, layout, unmapped, sheet, checks)
    if work.height == 0 and not allow_empty:
        problems.append(Problem("D212", "文件没有数据行", file=file, hint="请确认导出了名录的全部数据"))

    listed: list[pl.DataFrame] = []
    totals: list[int] = []
    for i, check in enumerate(checks):
        totals.append(work.get_column(f"_bad{i}").sum())
        hits = work.lazy().filter(pl.col(f"_bad{i}")).select("_row", check.field)
        rows = hits.head(ROW_PROBLEM_CAP).collect().with_columns(*check.extra)
        if check.duplicates:
            firsts = (
                work.lazy()
                .select("_row", check.field)
                .join(rows.lazy().select(check.field).unique(), on=check.field, how="semi")
                .group_by(check.field)
                .agg(pl.col("_row").min().alias("_first"))
            )
            rows = rows.lazy().join(firsts, on=check.field, how="left").sort("_row").collect()
        listed.append(rows)

    # The cells as written, for messages that quote them: read again, for the listed rows only.
    quoted = [i for i, c in enumerate(checks) if c.quotes_cell and listed[i].height]
    if quoted:
        wanted = pl.concat([listed[i]["_row"] for i in quoted]).unique()
        cells = _data_rows(raw.frame, raw, first_row).filter(pl.col("_row").is_in(wanted.implode()))
        written = _collect(cells.select("_row", *[_text(col).alias(f"raw_{f}") for f, col in layout.columns.items()]))
        for i in quoted:
            column = f"raw_{checks[i].field}"
            listed[i] = listed[i].join(written.select("_row", column), on="_row", how="left").sort("_row")

    cell_problems: list[Problem] = []
    for check, rows, total in zip(checks, listed, totals):
        column = layout.headers[check.field]
        for r in rows.iter_rows(named=True):
            message, hint = check.describe(r)
            cell_problems.append(Problem(check.code, message, file=file, row=r["_row"], column=column, hint=hint))
        cell_problems.extend(_rest(check.code, total, path, column, fields[check.field].title))

    order = {f.name: i for i, f in enumerate(readable)}
    by_header = {h: order[f] for f, h in layout.headers.items()}
    cell_problems.sort(key=lambda p: (p.row is None, p.row or 0, by_header.get(p.column or "", 0)))
    problems += cell_problems
    if problems:
        raise SpotcheckError(problems)

    return {
        "frame": work.select(f.name for f in readable),
        "path": path,
        "headers": dict(layout.headers),
        "source_rows": work["_row"].alias("row"),
    }
