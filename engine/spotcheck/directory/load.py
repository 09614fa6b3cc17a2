"""The two directories of 一单两库 (entities, inspectors) and the recusal list, loaded and checked.

A directory is read as text first (CSV in UTF-8, UTF-8 with BOM or GBK/GB18030; XLSX; Parquet),
its headers are mapped onto the fields of `spotcheck.rules.fields` (Chinese or English spellings), then
every cell is normalised and checked with polars expressions in one streaming pass, so a city's ten
million rows load in seconds and memory holds little more than the typed frame: the raw text is never
kept, only one flag per check, and the few rows a problem lists are looked up again. Columns that
repeat a few values (statuses, districts, dates) pass as Categorical and are normalised and checked
once per distinct value. Every problem in the file is collected before anything is raised: an officer
fixes the export once. The file's sha256 is kept because the draw commits to the exact bytes it read.

This module holds the public API, the reading of files and the putting together; the header row is
mapped in `directory_headers`, and the cells normalised and checked in `directory_cells`.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import tempfile
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import fastexcel
import polars as pl
from spotcheck.directory import csvfile
from spotcheck.directory.cells import (
    CellCheck,
    any_filled,
    duplicate_rows,
    NUMBERED_FIELDS,
    OBJECT_FIELDS,
    entity_checks,
    numbered_checks,
    object_checks,
    inspector_checks,
    normalise_per_value,
    raw_cell,
    recusal_checks,
    trimmed,
    typed_column,
)
from spotcheck.directory.headers import (
    HeaderLayout,
    find_header_row,
    header_spellings,
    map_headers,
    readable_fields,
)
from spotcheck.leftovers import Held, remove, unheld
from spotcheck.errors import Problem, SpotcheckError, reason
from spotcheck.rules.fields import (
    ENTITY_FIELDS,
    INSPECTOR_FIELDS,
    LABEL_SEPARATORS,
    RECUSAL_FIELDS,
    Field,
)

# Problems listed one by one per (code, column); the rest are counted in one closing problem, so a
# file with a million bad dates neither floods the officer nor takes minutes to report.
ROW_PROBLEM_CAP = 100
# Export tools put a title line or two above the header; the header is looked for this far down.
HEADER_SEARCH_ROWS = 20

_CSV_SUFFIXES = {".csv", ".txt"}
_EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}


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

    def unknown_references(self, entities: EntityDirectory | None, inspectors: InspectorDirectory) -> list[Problem]:
        """Rows naming an inspector or an entity the directories lack: such a recusal would silently not apply.
        Without `entities` (planning a draw, whose entity directory is not at hand) only inspectors are checked."""
        problems: list[Problem] = []
        frame = self.frame.with_columns(_row=self.source_rows)
        checks = [("inspector_id", inspectors.frame["inspector_id"], "D213", "执法人员名录库")]
        if entities is not None:
            checks.append(("uscc", entities.frame["uscc"], "D214", "检查对象名录库"))
        for field, other, code, what in checks:
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
    return load_sheet(path, ENTITY_SHEET)


def load_sheet(path: str | Path, sheet: Sheet) -> EntityDirectory:
    """Load and check an entity directory of the given sheet (ENTITY_SHEET, or object_sheet())."""
    return EntityDirectory(**_load(Path(path), sheet))


def load_known(path: str | Path, sheet: Sheet, fields: Collection[str], sha256s: Collection[str]) -> EntityDirectory | None:
    """Only the columns `fields` of an entity directory already checked clean, read and normalised as
    load_sheet reads them but not checked again; None when the file's bytes are not one of `sha256s` (or
    cannot be read so): the caller then loads it whole and gets every problem.

    For a later stage given the directory its draw read: the draw recorded the SHA-256 of the bytes it
    checked, so when the caller knows the draw checked them under the same sheet (same policy, same
    engine), a province's directory is read for five columns instead of checked whole. A clean file's
    data rows all have their required cells filled, so the rows kept are those load_sheet keeps. The
    file is hashed while it is read."""
    path = Path(path)
    try:
        file = path.open("rb")
    except OSError:
        return None
    with file, ThreadPoolExecutor(max_workers=1) as pool:
        hashing = pool.submit(hashlib.file_digest, file, "sha256")
        try:
            loaded = _read_checked(path, sheet, frozenset(fields))
        except SpotcheckError:
            loaded = None
        try:
            digest = hashing.result().hexdigest()
        except OSError:
            return None
    if loaded is None or digest not in sha256s:
        return None
    return EntityDirectory(**loaded, sha256=digest)


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
    csv_source: Path | None = None  # the CSV file, in UTF-8
    head: list[list[str]] | None = None  # CSV: its first records, read exactly (csvfile)

    @property
    def width(self) -> int:
        return max((len(r) for r in self.head or ()), default=0)

    def typed(self, dtypes: dict[str, pl.DataType]) -> pl.LazyFrame:
        """The cells with some columns cast to `dtypes`; CSV is parsed so, less work and memory than text cast."""
        if self.csv_source is not None:
            return csvfile.scan(self.csv_source, self.width, dtypes)
        return self.frame.with_columns(pl.col(c).cast(t) for c, t in dtypes.items())


class _Unreadable(Exception):
    """polars failed while reading the file (the reading is lazy, so this happens at collect time)."""

    def __init__(self, cause: Exception):
        super().__init__(str(cause))
        self.cause = cause


# Files are checked and transcoded in pieces of this size, never held whole.
_CHUNK = 1 << 20


def _cannot_read(path: Path, exc: OSError) -> SpotcheckError:
    return SpotcheckError(Problem("D201", f"无法读取文件：{reason(exc)}", file=str(path), hint="请检查文件路径和访问权限"))


def _sha256(path: Path, hashing: Future) -> str:
    try:
        return hashing.result().hexdigest()
    except OSError as exc:
        raise _cannot_read(path, exc) from None


class _UnknownEncoding(ValueError):
    """The bytes are neither UTF-8 nor GB18030 (which covers GBK)."""


def _unreadable(path: Path, exc: Exception) -> SpotcheckError:
    # What polars or the Excel reader says is English and names their internals: the officer is told
    # what kind of file could not be read instead.
    if isinstance(exc, _UnknownEncoding):
        message, hint = str(exc), "请在 Excel 或 WPS 中把名录另存为“CSV UTF-8”（或 GBK 编码的 CSV）后重试"
    elif isinstance(exc, OSError) and exc.errno is not None:
        return _cannot_read(path, exc)
    elif path.suffix.lower() in _EXCEL_SUFFIXES:
        message, hint = "Excel 文件已损坏、被截断或不是 Excel 格式", "请用 Excel 或 WPS 打开该文件确认无误后重新保存为 XLSX"
    elif path.suffix.lower() in _PARQUET_SUFFIXES:
        message, hint = "Parquet 文件已损坏或被截断", "请重新导出 Parquet 文件，或改为导出 CSV（UTF-8）"
    else:
        message, hint = "文件内容无法按 CSV 解析", "请在 Excel 或 WPS 中打开确认无误后另存为“CSV UTF-8”"
    return SpotcheckError(Problem("D201", f"无法读取文件：{message}", file=str(path), hint=hint))


def csv_fault(path: Path, fault: csvfile.Fault) -> SpotcheckError:
    return SpotcheckError(
        Problem(
            "D222",
            f"CSV 格式有误：{fault.reason}",
            file=str(path),
            row=fault.row,
            hint="请在 Excel 或 WPS 中打开该文件，核对这一行后另存为“CSV UTF-8”；不要用文本编辑器手工改动引号",
        )
    )


def _read_raw(path: Path) -> _Raw:
    suffix = path.suffix.lower()
    try:
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
            return _Raw(frame.select(as_text(frame.collect_schema())), 2, False)
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


def _read_csv(source: Path, path: Path, sheet: Sheet, only: frozenset[str] | None) -> dict:
    """`path` read from `source`, the file itself or its UTF-8 copy; csvfile.NotUtf8 if it is neither UTF-8
    nor that copy. (polars checks the whole file's UTF-8 whichever columns it keeps, so reading `only` some
    columns takes the same way as reading all.)"""
    try:
        head = csvfile.read_head(source, HEADER_SEARCH_ROWS)
        raw = _Raw(csvfile.scan(source, max((len(r) for r in head), default=0)), 1, True, source, head)
        return _read_and_check(raw, path, sheet, only)
    except csvfile.Fault as found:
        fault = found
    except _Unreadable as failed:
        # polars reads UTF-8 only; bytes past the first megabyte may be GBK too.
        if isinstance(failed.cause, pl.exceptions.ComputeError) and source == path and not _is_utf8(path):
            raise csvfile.NotUtf8(str(failed.cause)) from None
        if isinstance(failed.cause, OSError):
            raise _unreadable(path, failed.cause) from None
        fault = csvfile.find_fault(source)
    raise csv_fault(path, fault) from None


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


_TRANSCODED = "spotcheck-utf8-"


@contextmanager
def _gb18030_as_utf8(path: Path) -> Iterator[Path]:
    """Platform exports are often GBK: read as GB18030, its superset, and handed to polars as UTF-8.

    The UTF-8 text goes to a temporary file (TMPDIR), removed after reading, so a province's
    directory is never held in memory as text; one a killed run left is removed by the next
    (spotcheck.leftovers).
    """
    decoder = codecs.getincrementaldecoder("gb18030")()
    fd, name = tempfile.mkstemp(prefix=_TRANSCODED, suffix=".csv")
    utf8 = Path(name)
    held = Held(utf8, fd)
    # What a killed run left behind: the files of this kind nobody holds any more.
    for stranded in unheld(Path(tempfile.gettempdir()).glob(f"{_TRANSCODED}*.csv")):
        remove(stranded)
    try:
        try:
            with os.fdopen(os.dup(fd), "wb") as out, path.open("rb") as f:
                while chunk := f.read(_CHUNK):
                    out.write(decoder.decode(chunk).encode("utf-8"))
                out.write(decoder.decode(b"", final=True).encode("utf-8"))
        except UnicodeDecodeError:
            raise _UnknownEncoding("文件编码无法识别：既不是 UTF-8 也不是 GBK/GB18030") from None
        yield utf8
    finally:
        held.release()


def as_text(schema: pl.Schema) -> list[pl.Expr]:
    exprs = []
    for name, dtype in schema.items():
        col = pl.col(name)
        if isinstance(dtype, (pl.List, pl.Array)):
            col = col.cast(pl.List(pl.String)).list.join(LABEL_SEPARATORS[0])
        exprs.append(col.cast(pl.String))
    return exprs


# ---------------------------------------------------------------------------------------------
# Putting it together


@dataclass(frozen=True)
class Sheet:
    """What one kind of directory file holds and how its cells are checked."""

    fields: dict[str, Field]
    kind: str
    checks_for: Callable[[set[str], bool], list[CellCheck]]
    allow_empty: bool


ENTITY_SHEET = Sheet(ENTITY_FIELDS, "entity", entity_checks, allow_empty=False)
_OBJECTS = Sheet(OBJECT_FIELDS, "object", object_checks, allow_empty=False)
_NUMBERED = Sheet(NUMBERED_FIELDS, "object", numbered_checks, allow_empty=False)


def object_sheet(numbered: bool) -> Sheet:
    """The sheet of a directory a policy's kinds check; `numbered` when some kinds have no USCC of their own."""
    return _NUMBERED if numbered else _OBJECTS
_INSPECTORS = Sheet(INSPECTOR_FIELDS, "inspector", inspector_checks, allow_empty=False)
_RECUSALS = Sheet(RECUSAL_FIELDS, "recusal", recusal_checks, allow_empty=True)


def _load(path: Path, sheet: Sheet) -> dict:
    try:
        file = path.open("rb")
    except OSError as exc:
        raise _cannot_read(path, exc) from None
    # The file is hashed while polars reads it: hashlib lets go of the GIL.
    with file, ThreadPoolExecutor(max_workers=1) as pool:
        hashing = pool.submit(hashlib.file_digest, file, "sha256")
        try:
            loaded = _read_checked(path, sheet, None)
        finally:
            # A file that cannot be hashed is reported as such, before any problem of its content.
            digest = _sha256(path, hashing)
    return {**loaded, "sha256": digest}


def _read_checked(path: Path, sheet: Sheet, only: frozenset[str] | None) -> dict:
    """The file read and checked whole, or with `only`, those fields read and not checked (load_known)."""
    if path.suffix.lower() not in _CSV_SUFFIXES:
        try:
            return _read_and_check(_read_raw(path), path, sheet, only)
        except _Unreadable as failed:
            raise _unreadable(path, failed.cause) from None
    try:
        return _read_csv(path, path, sheet, only)
    except csvfile.NotUtf8:
        pass
    except OSError as exc:
        raise _cannot_read(path, exc) from None
    # A GBK file fails the first reading and is decoded only then.
    try:
        with _gb18030_as_utf8(path) as utf8:
            return _read_csv(utf8, path, sheet, only)
    except (OSError, ValueError) as exc:
        raise _unreadable(path, exc) from None


def _data_rows(frame: pl.LazyFrame, raw: _Raw, first_row: int) -> pl.LazyFrame:
    return frame.with_row_index("_row", offset=raw.first_row).filter(pl.col("_row") >= first_row)


def _typed_rows(
    raw: _Raw, first_row: int, layout: HeaderLayout, unmapped: list[str], sheet: Sheet, checks: list[CellCheck]
) -> pl.DataFrame:
    """`_row`, every readable field's typed column and a `_bad{i}` flag per check; blank rows left out.

    One streaming pass keeps the typed columns and a flag per row-wise check, the raw text is dropped
    as it streams by. Few-valued columns are read as Categorical, each with categories of its own,
    and normalised and checked afterwards once per category. A duplicate needs the whole column, so
    those checks run last.
    """
    kind, readable = sheet.kind, readable_fields(sheet.fields)
    few = [f for f in readable if f.few_values and f.name in layout.columns]
    per_row = [f for f in readable if not f.few_values and f.name in layout.columns]
    categorical = {layout.columns[f.name]: pl.Categorical(pl.Categories.random()) for f in few}
    row_checks = {i: c for i, c in enumerate(checks) if not c.duplicates and c.field not in {f.name for f in few}}
    shared = {e.meta.output_name(): e for c in row_checks.values() for e in c.shared}
    scanned = _collect(
        _data_rows(raw.typed(categorical), raw, first_row)
        .with_columns(trimmed(layout.columns[f.name]).alias(f"raw_{f.name}") for f in per_row)
        .with_columns(typed_column(f, kind, True) for f in per_row)
        .with_columns(shared.values())
        .select(
            "_row",
            *[f.name for f in per_row],
            *[c.bad.fill_null(False).alias(f"_bad{i}") for i, c in row_checks.items()],
            *[pl.col(layout.columns[f.name]).alias(f.name) for f in few],
            any_filled([raw_cell(f.name).is_not_null() for f in per_row] + [trimmed(c).is_not_null() for c in unmapped]),
        )
    )
    filled = scanned.drop_in_place("any_filled")
    for f in few:
        per_value = normalise_per_value(scanned.drop_in_place(f.name), f, kind, checks)
        filled = filled | ~per_value.drop_in_place("_blank")
        scanned = scanned.hstack(per_value)
    work = scanned.select(
        "_row",
        *[f.name if f.name in layout.columns else typed_column(f, kind, False) for f in readable],
        *[f"_bad{i}" for i, c in enumerate(checks) if not c.duplicates],
    )
    # Blank lines (and rows of empty cells Excel leaves behind) are not entities.
    if (layout.columns or unmapped) and not filled.all():
        work = work.filter(filled)
    return work.with_columns(duplicate_rows(work, c).alias(f"_bad{i}") for i, c in enumerate(checks) if c.duplicates)


def _read_and_check(raw: _Raw, path: Path, sheet: Sheet, only: frozenset[str] | None = None) -> dict:
    file = str(path)
    fields, checks_for, allow_empty = sheet.fields, sheet.checks_for, sheet.allow_empty
    if raw.has_header_row:
        head = _collect(raw.frame.head(HEADER_SEARCH_ROWS)) if raw.head is None else head_frame(raw.head)
        header_index, headers = header_row(head, fields)
        first_row = raw.first_row + header_index + 1
    else:
        headers = [(col, col) for col in raw.frame.collect_schema().names()]
        first_row = raw.first_row
    if only is not None:
        return _read_only(raw, path, sheet, only, first_row, headers)
    ragged: Future | None = None
    if raw.csv_source is not None and raw.head:
        # Counted beside the main pass: it reads the file again, the main pass mostly computes.
        header = raw.head[header_index]
        named = max((i + 1 for i, cell in enumerate(header) if cell.strip()), default=0)
        pool = ThreadPoolExecutor(max_workers=1)
        ragged = pool.submit(_ragged_rows, raw.csv_source, first_row - 1, named, len(header))
        pool.shutdown(wait=False)

    layout, problems = header_layout(headers, fields, file, first_row if raw.has_header_row else None)

    readable = readable_fields(fields)
    checks = checks_for(set(layout.columns), path.suffix.lower() in _EXCEL_SUFFIXES)
    unmapped = [c for c, _ in headers if c not in layout.columns.values()]
    try:
        work = _typed_rows(raw, first_row, layout, unmapped, sheet, checks)
    finally:
        short_long = ragged.result() if ragged is not None else None
    if short_long is not None:
        problems += ragged_problems(short_long, path, len(raw.head[header_index]))
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
        written = _collect(cells.select("_row", *[trimmed(col).alias(f"raw_{f}") for f, col in layout.columns.items()]))
        for i in quoted:
            column = f"raw_{checks[i].field}"
            listed[i] = listed[i].join(written.select("_row", column), on="_row", how="left").sort("_row")

    problems += listed_problems(checks, listed, totals, layout, path, fields)
    if problems:
        raise SpotcheckError(problems)

    return {
        "frame": work.select(f.name for f in readable),
        "path": path,
        "headers": dict(layout.headers),
        "source_rows": work["_row"].alias("row"),
    }


def _read_only(raw: _Raw, path: Path, sheet: Sheet, only: frozenset[str], first_row: int,
               headers: list[tuple[str, str]]) -> dict:
    """The fields `only` of a file checked clean before: its headers mapped as a full reading maps them, those
    columns typed by the same expressions, no cell checked."""
    layout, problems = header_layout(headers, sheet.fields, str(path), first_row if raw.has_header_row else None)
    if problems:
        raise SpotcheckError(problems)
    kept = {f.name: f for f in readable_fields(sheet.fields) if f.name in only}
    narrow = HeaderLayout({f: c for f, c in layout.columns.items() if f in kept}, layout.headers)
    work = _typed_rows(raw, first_row, narrow, [], replace(sheet, fields=kept), [])
    return {
        "frame": work.select(list(kept)),
        "path": path,
        "headers": dict(layout.headers),
        "source_rows": work["_row"].alias("row"),
    }


def header_row(head: pl.DataFrame, fields: dict[str, Field]) -> tuple[int, list[tuple[str, str]]]:
    """Which of the first rows is the header, and its (raw column, header as written) pairs."""
    header_index = find_header_row(head, header_spellings(fields)) if head.height else 0
    header_cells = head.row(header_index) if head.height else ()
    return header_index, [(col, cell or "") for col, cell in zip(head.columns, header_cells)]


def header_layout(headers: list[tuple[str, str]], fields: dict[str, Field], file: str,
                  first_row: int | None) -> tuple[HeaderLayout, list[Problem]]:
    """The headers mapped onto fields; problems of a header below a title line point at its real row
    (`first_row`, the first data row, when the file has a header row)."""
    layout, problems = map_headers(headers, fields, file)
    if first_row is not None and first_row != 2:
        problems = [replace(p, row=first_row - 1) if p.row == 1 else p for p in problems]
    return layout, problems


def listed_problems(checks: list[CellCheck], listed: list[pl.DataFrame], totals: list[int], layout: HeaderLayout,
                    path: Path, fields: dict[str, Field]) -> list[Problem]:
    """The cell problems of the listed rows (`_row`, the field and what each check's words need) of each
    check, and one closing problem per check for the rest of its `totals`; by row, then column."""
    file = str(path)
    cell_problems: list[Problem] = []
    for check, rows, total in zip(checks, listed, totals):
        column = layout.headers[check.field]
        for r in rows.iter_rows(named=True):
            message, hint = check.describe(r)
            cell_problems.append(Problem(check.code, message, file=file, row=r["_row"], column=column, hint=hint))
        cell_problems.extend(_rest(check.code, total, path, column, fields[check.field].title))
    order = {f.name: i for i, f in enumerate(readable_fields(fields))}
    by_header = {h: order[f] for f, h in layout.headers.items()}
    cell_problems.sort(key=lambda p: (p.row is None, p.row or 0, by_header.get(p.column or "", 0)))
    return cell_problems


def head_frame(records: list[list[str]]) -> pl.DataFrame:
    width = max((len(r) for r in records), default=0)
    padded = [[cell or None for cell in r] + [None] * (width - len(r)) for r in records]
    return pl.DataFrame(padded, schema={csvfile.column(i): pl.String for i in range(width)}, orient="row")


def _ragged_rows(source: Path, after: int, named: int, width: int) -> pl.DataFrame:
    found = _collect(csvfile.ragged_rows(source, after, named, width))
    if found.get_column("_open").any():
        return csvfile.ragged_records(source, after, named, width)
    return found


def ragged_problems(found: pl.DataFrame, path: Path, width: int, total: int | None = None) -> list[Problem]:
    """D221 for the rows `found` (`_row`, `_cells`, `_filled`) lists, of `total` (found's own count by default)."""
    total = found.height if total is None else total
    problems = []
    for row, cells, filled in found.head(ROW_PROBLEM_CAP).select("_row", "_cells", "_filled").iter_rows():
        if filled > width:
            message = f"这一行有 {filled} 个单元格，比表头的 {width} 列多，多出的单元格不会被读取"
            hint = "多半是名称或地址中含有英文逗号而没有加引号；请在 Excel 或 WPS 中打开核对这一行后另存为 CSV"
        else:
            message = f"这一行只有 {cells} 个单元格，比表头的 {width} 列少，缺少末尾的列"
            hint = "这一行可能在导出或复制时被截断；请重新导出完整的名录，不要手工删改 CSV 中的逗号"
        problems.append(Problem("D221", message, file=str(path), row=row, hint=hint))
    if total > ROW_PROBLEM_CAP:
        problems.append(
            Problem("D221", f"另有 {total - ROW_PROBLEM_CAP} 行的单元格数与表头不一致，未逐一列出", file=str(path))
        )
    return problems


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
