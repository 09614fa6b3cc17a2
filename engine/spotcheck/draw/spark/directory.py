"""The entity directory read and checked on Spark: the same typed columns, and the same problems with the
same row numbers and columns, as this machine's loader (spotcheck.directory.load).

Row numbers. A CSV file is read as lines (spark.read.text), which Spark splits anywhere in the file. A
line's number is the lines of the splits before its own (one small job counts each split's lines, by
input_file_block_start) plus its place in its split, so it is the line the officer sees in a text
editor, as the loader numbers it. A record is a line: a quoted cell holding a line break would make one
record of two lines, so such a file is refused at the row where it happens (D250), as is a line whose
bytes are not UTF-8 below a UTF-8 start (D251). A Parquet file's rows are numbered by Spark's
_metadata.row_index, from 2 as the loader numbers them (the header is row 1).

The cells. Each Arrow batch of lines is parsed by polars exactly as the loader parses the file, and
normalised and checked by the loader's own expressions (spotcheck.directory.cells) on the executors
(mapInArrow): the executors run Python with spotcheck installed (the wheel, see the README). A repeated
code is a groupBy. The driver receives counts and the first 100 rows of each kind of problem, and words
them with the loader's own functions. A file with problems is refused with all of them; a good one stays
as Parquet in a staging directory (check_on_spark): a draw works on it there (spotcheck.draw.spark.counted),
or the driver reads it back, typed, when the policy needs the rows (read_directory).

An XLSX file is read on the driver (a worksheet holds at most 1,048,576 rows), as is a GBK/GB18030 CSV
file on the driver's disk (Spark reads text as UTF-8); a GBK file at another address is refused (D251).
"""

from __future__ import annotations

import csv
import hashlib
import io
import tempfile
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pyarrow as pa
from spotcheck.directory import csvfile
from spotcheck.directory.cells import any_filled, raw_cell, trimmed, typed_column
from spotcheck.directory.headers import HeaderLayout, readable_fields
from spotcheck.directory.load import (
    HEADER_SEARCH_ROWS,
    ROW_PROBLEM_CAP,
    EntityDirectory,
    Sheet,
    as_text,
    csv_fault,
    head_frame,
    header_layout,
    header_row,
    listed_problems,
    load_sheet,
    ragged_problems,
)
from spotcheck.errors import Problem, SpotcheckError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_CSV = {".csv", ".txt"}
_PARQUET = {".parquet", ".pq"}
_D250_HINT = "请去掉单元格中的换行、核对引号后重新导出；或导出为 Parquet；或去掉 --engine spark 在本机抽取（本机可读单元格内换行）"


def reader(spark: SparkSession) -> Callable[[str | Path, Sheet], EntityDirectory]:
    """The `read` argument of spotcheck.directory.kinds.load_for for a directory read on `spark`."""
    return partial(read_directory, spark)


def read_directory(spark: SparkSession, path: str | Path, sheet: Sheet) -> EntityDirectory:
    """Load and check a directory on Spark: a local path, or any address Spark reads (hdfs://, s3a://, file:)."""
    checked = check_on_spark(spark, path, sheet)
    if checked is None:
        return load_sheet(path, sheet)
    try:
        return EntityDirectory(**_typed(checked.rows, checked.checks, checked.path), sha256=checked.sha256)
    finally:
        checked.staging.cleanup()


@dataclass(frozen=True)
class Checked:
    """A directory Spark read and found without problems: its checked rows as Parquet in `staging`
    (`rows`, one part per split, the typed fields as text), until `staging.cleanup()`."""

    path: Path  # as messages and the transcript name it
    sha256: str
    rows: Path
    checks: _Checks
    staging: tempfile.TemporaryDirectory

    @property
    def present(self) -> list:
        return self.checks.present

    @property
    def headers(self) -> dict[str, str]:
        return dict(self.checks.layout.headers)


def check_on_spark(spark: SparkSession, path: str | Path, sheet: Sheet) -> Checked | None:
    """Read and check a directory on Spark; None for a file the loader reads on the driver instead
    (missing, XLSX, a GBK file on the driver's disk); SpotcheckError with every problem of a bad one.

    The checked rows are written once, as Parquet in a staging directory (`spark.spotcheck.staging`,
    else the driver's TMPDIR: a path the driver and the executors see)."""
    uri, local = _where(path)
    suffix = Path(str(path)).suffix.lower()
    if (local is not None and not local.is_file()) or suffix not in _CSV | _PARQUET:
        return None
    shown = Path(path) if local is not None else Path(uri)
    staging = staging_dir(spark)
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            hashing = pool.submit(_sha256, spark, uri, local)
            try:
                if suffix in _PARQUET:
                    found = _parquet(spark, uri, shown, sheet)
                else:
                    found = _csv(spark, uri, local, shown, sheet)
                if found is None:
                    staging.cleanup()
                    return None  # a GBK file on the driver's disk
                rows, checks, problems, ragged = found
                target = Path(staging.name) / "checked.parquet"
                rows.write.parquet(target.as_uri())
                _raise_problems(spark.read.parquet(target.as_uri()), checks, shown, problems, ragged)
            finally:
                digest = hashing.result()
    except BaseException:
        staging.cleanup()
        raise
    return Checked(shown, digest, target, checks, staging)


def staging_dir(spark: SparkSession) -> tempfile.TemporaryDirectory:
    """A new directory for the files a draw hands between Spark and the driver, in `spark.spotcheck.staging`
    (a path the driver and every executor see) or, by default, the driver's TMPDIR."""
    root = spark.conf.get("spark.spotcheck.staging", None)
    try:
        return tempfile.TemporaryDirectory(prefix="spotcheck-spark-", dir=root)
    except OSError as exc:
        raise SpotcheckError(Problem(
            "R572", f"Spark 暂存目录 {root} 无法使用：{exc.strerror or type(exc).__name__}",
            hint="spark.spotcheck.staging 须是已存在、可写、驱动端和各执行端都能访问的目录（如共享的 NFS 目录）")) from None


def _where(path: str | Path) -> tuple[str, Path | None]:
    text = str(path)
    if "://" in text or text.startswith("file:"):
        return text, Path(text[len("file://"):]) if text.startswith("file://") else None
    local = Path(path).resolve()
    return local.as_uri(), local


def _hadoop_stream(spark: SparkSession, uri: str):
    jvm = spark.sparkContext._jvm
    target = jvm.org.apache.hadoop.fs.Path(uri)
    return target.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).open(target)


def _sha256(spark: SparkSession, uri: str, local: Path | None) -> str:
    """The file's sha256: hashed here from the driver's disk, else by the driver's JVM where Spark reads it."""
    if local is not None:
        with local.open("rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    stream = _hadoop_stream(spark, uri)
    try:
        return spark.sparkContext._jvm.org.apache.commons.codec.digest.DigestUtils.sha256Hex(stream)
    finally:
        stream.close()


def _head_bytes(spark: SparkSession, uri: str, local: Path | None) -> tuple[bytes, bool]:
    """The file's first bytes (a megabyte at most) and whether they are the whole file."""
    if local is not None:
        with local.open("rb") as f:
            data = f.read(csvfile.HEAD_BYTES + 1)
    else:
        jvm = spark.sparkContext._jvm
        stream = _hadoop_stream(spark, uri)
        try:
            bounded = jvm.org.apache.commons.io.input.BoundedInputStream(stream, csvfile.HEAD_BYTES + 1)
            data = bytes(jvm.org.apache.commons.io.IOUtils.toByteArray(bounded))
        finally:
            stream.close()
    return data[: csvfile.HEAD_BYTES], len(data) <= csvfile.HEAD_BYTES


def _refused(code: str, message: str, path: Path, row: int | None, hint: str) -> SpotcheckError:
    return SpotcheckError(Problem(code, message, file=str(path), row=row, hint=hint))


# ---------------------------------------------------------------------------------------------
# On the executors: one Arrow batch at a time


@dataclass(frozen=True)
class _Checks:
    """What every executor needs to check a batch of rows, and the columns it hands back."""

    sheet: Sheet
    layout: HeaderLayout
    columns: tuple[str, ...]  # the raw text columns, as the loader names them
    first_row: int
    # CSV only: the header's width and named cells (for rows of too few or too many cells), and where
    # each split starts in lines.
    width: int = 0
    named: int = 0
    starts: dict[int, int] = field(default_factory=dict)

    @property
    def present(self) -> list:
        return [f for f in readable_fields(self.sheet.fields) if f.name in self.layout.columns]

    @property
    def checks(self) -> list:
        return self.sheet.checks_for(set(self.layout.columns), False)

    def quoting(self) -> dict[str, list[int]]:
        """Per field whose cells a message quotes: the checks that quote it."""
        out: dict[str, list[int]] = {}
        for i, c in enumerate(self.checks):
            if c.quotes_cell and not c.duplicates:
                out.setdefault(c.field, []).append(i)
        return out

    def schema(self) -> pa.Schema:
        """The columns each batch gives back: `_row`, the typed fields, a flag per check, quoted cells and the line's faults."""
        def arrow(f) -> pa.DataType:
            return {"date": pa.date32(), "labels": pa.list_(pa.string())}.get(f.kind, pa.string())

        return pa.schema(
            [("_row", pa.int64())]
            + [(f.name, arrow(f)) for f in self.present]
            + [(f"_bad{i}", pa.bool_()) for i, c in enumerate(self.checks) if not c.duplicates]
            + [(f"raw_{name}", pa.string()) for name in self.quoting()]
            + [("_filled", pa.bool_()), ("_cells", pa.int64()), ("_wide", pa.int64()), ("_fault", pa.string())]
        )

    def checked(self, raw: pl.DataFrame, lines: pl.DataFrame | None) -> pa.Table:
        """The batch's rows (`_row` and the raw text columns) typed and checked as the loader checks them."""
        layout, kind, checks = self.layout, self.sheet.kind, self.checks
        row_checks = {i: c for i, c in enumerate(checks) if not c.duplicates}
        shared = {e.meta.output_name(): e for c in row_checks.values() for e in c.shared}
        quoted = [
            pl.when(pl.any_horizontal(pl.col(f"_bad{i}") for i in at)).then(raw_cell(name)).alias(f"raw_{name}")
            for name, at in self.quoting().items()
        ]
        out = (
            raw.lazy()
            .with_columns(trimmed(layout.columns[f.name]).alias(f"raw_{f.name}") for f in self.present)
            .with_columns(typed_column(f, kind, True) for f in self.present)
            .with_columns(shared.values())
            .with_columns(c.bad.fill_null(False).alias(f"_bad{i}") for i, c in row_checks.items())
            .select(
                "_row",
                *[pl.col(f.name).cast(pl.String) if f.kind not in ("date", "labels") else pl.col(f.name) for f in self.present],
                *[f"_bad{i}" for i in row_checks],
                *quoted,
                any_filled([trimmed(c).is_not_null() for c in self.columns]).alias("_filled"),
            )
        )
        if lines is not None:
            wrong = csvfile.ragged_lines(lines.lazy(), self.first_row - 1, self.named, self.width)
            out = out.join(wrong.select("_row", pl.col("_cells").cast(pl.Int64), pl.col("_filled").cast(pl.Int64).alias("_wide")),
                           on="_row", how="left", maintain_order="left")
        else:
            out = out.with_columns(pl.lit(None, pl.Int64).alias("_cells"), pl.lit(None, pl.Int64).alias("_wide"))
        out = out.with_columns(pl.lit(None, pl.String).alias("_fault"))
        return out.collect().to_arrow(compat_level=pl.CompatLevel.oldest()).cast(self.schema())

    def faults(self, rows: list[int], reasons: list[str]) -> pa.Table:
        """Lines that cannot be read as cells: only their numbers and why."""
        given = {"_row": pa.array(rows, pa.int64()), "_fault": pa.array(reasons, pa.string()),
                 "_filled": pa.array([False] * len(rows))}
        schema = self.schema()
        return pa.table([given.get(f.name, pa.nulls(len(rows), f.type)) for f in schema], schema=schema)


# Why a line cannot be read on Spark, as the driver words it.
_OPEN, _NOT_UTF8 = "open", "utf8"


def _csv_cells(checks: _Checks, lines: pl.DataFrame) -> pl.DataFrame | None:
    """The lines parsed as the loader parses the file: one record per line, `checks.columns` wide."""
    text = lines.get_column("line").str.join("\n").item() + "\n"
    schema = {c: pl.String for c in checks.columns}
    try:
        cells = pl.read_csv(io.BytesIO(text.encode("utf-8")), has_header=False, schema=schema, truncate_ragged_lines=True,
                            missing_columns="insert", raise_if_empty=False)
    except (pl.exceptions.PolarsError, ValueError):
        return None
    return cells if cells.height == lines.height else None


def _csv_batches(checks: _Checks, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    seen: dict[int, int] = {}  # lines of each split in the batches before
    for batch in batches:
        part = pl.from_arrow(batch).with_columns(pl.int_range(pl.len(), dtype=pl.Int64).over("_b").alias("_p"))
        start = {b: checks.starts[b] + seen.get(b, 0) for b in part.get_column("_b").unique().to_list()}
        for b, n in part.group_by("_b").len().iter_rows():
            seen[b] = seen.get(b, 0) + n
        lines = part.select(
            (pl.col("_b").replace_strict(start, return_dtype=pl.Int64) + pl.col("_p") + 1).alias("_row"),
            pl.col("value").alias("line"),
        )
        lines = lines.with_columns(
            pl.when(pl.col("_row") == 1).then(pl.col("line").str.strip_prefix("\ufeff")).otherwise(pl.col("line"))
        ).filter(pl.col("_row") >= checks.first_row)
        if lines.height == 0:
            continue
        line = pl.col("line")
        wrong = lines.select(
            "_row",
            pl.when(line.str.count_matches('"', literal=True) % 2 == 1).then(pl.lit(_OPEN))
            .when(line.str.contains("\ufffd", literal=True)).then(pl.lit(_NOT_UTF8)).alias("_fault"),
        ).filter(pl.col("_fault").is_not_null())
        if wrong.height:
            yield from checks.faults(wrong["_row"].to_list(), wrong["_fault"].to_list()).to_batches()
            continue
        cells = _csv_cells(checks, lines)
        if cells is None:
            found = _first_fault(lines)
            yield from checks.faults([found[0]], [found[1]]).to_batches()
            continue
        yield from checks.checked(pl.concat([lines.select("_row"), cells], how="horizontal"), lines).to_batches()


def _first_fault(lines: pl.DataFrame) -> tuple[int, str]:
    """The first line the csv module cannot split, and why (the loader's words), or the batch's first line."""
    for row, line in lines.select("_row", "line").iter_rows():
        try:
            next(csv.reader([line], strict=True), None)
        except csv.Error as exc:
            return row, csvfile.fault_reason(exc)
    return lines.item(0, "_row"), "单元格的引号或分隔符不符合 CSV 格式"


def _parquet_batches(checks: _Checks, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        part = pl.from_arrow(batch)
        rows = part.select(
            (pl.col("_f").replace_strict(checks.starts, return_dtype=pl.Int64) + pl.col("_i") + checks.first_row).alias("_row"))
        raw = part.drop("_f", "_i")
        raw = raw.select(as_text(raw.schema))
        yield from checks.checked(pl.concat([rows, raw], how="horizontal"), None).to_batches()


# ---------------------------------------------------------------------------------------------
# On the driver


def _csv(spark: SparkSession, uri: str, local: Path | None, path: Path, sheet: Sheet) -> tuple | None:
    from pyspark.sql import functions as F

    try:
        head = csvfile.head_records(*_head_bytes(spark, uri, local), HEADER_SEARCH_ROWS)
    except csvfile.NotUtf8:
        if local is not None:
            return None
        raise _refused("D251", "文件不是 UTF-8 编码，Spark 只能读取 UTF-8 文本", path, None,
                       "请把名录另存为“CSV UTF-8”，或导出为 Parquet") from None
    except csvfile.Fault as fault:
        raise csv_fault(path, fault) from None
    line = 1
    for record in head:
        if any("\n" in cell or "\r" in cell for cell in record):
            raise _refused("D250", "这一行的带引号单元格内有换行，用 Spark 读取时无法按行编号", path, line, _D250_HINT)
        line += 1
    frame = head_frame(head)
    header_index, headers = header_row(frame, sheet.fields) if frame.height else (0, [])
    first_row = header_index + 2
    layout, problems = header_layout(headers, sheet.fields, str(path), first_row)
    header = head[header_index] if head else []
    width = max((len(r) for r in head), default=0)
    text = spark.read.text(uri).select(F.input_file_block_start().alias("_b"), "value")
    counts = sorted(text.groupBy("_b").count().collect())
    starts, before = {}, 0
    for b, n in counts:
        starts[b], before = before, before + n
    checks = _Checks(sheet, layout, tuple(csvfile.column(i) for i in range(max(width, 1))), first_row,
                     width=len(header), named=max((i + 1 for i, cell in enumerate(header) if cell.strip()), default=0), starts=starts)
    return _checked_on_executors(text, _csv_batches, checks), checks, problems, True


def _checked_on_executors(frame: DataFrame, batches: Callable, checks: _Checks) -> DataFrame:
    from pyspark.sql.pandas.types import from_arrow_schema

    with warnings.catch_warnings():
        # pyspark warns in English that it has not been tried with pandas 3; the checks use polars.
        warnings.simplefilter("ignore", FutureWarning)
        return frame.mapInArrow(partial(batches, checks), from_arrow_schema(checks.schema()))


def _parquet(spark: SparkSession, uri: str, path: Path, sheet: Sheet) -> tuple:
    from pyspark.sql import functions as F

    data = spark.read.parquet(uri)
    names = data.columns
    located = data.select(*[F.col(f"`{n}`") for n in names], F.col("_metadata.file_path").alias("_f"),
                          F.col("_metadata.row_index").alias("_i"))
    counts = sorted(located.groupBy("_f").count().collect())
    starts, before = {}, 0
    for f, n in counts:
        starts[f], before = before, before + n
    layout, problems = header_layout([(n, n) for n in names], sheet.fields, str(path), None)
    checks = _Checks(sheet, layout, tuple(names), 2, starts=starts)
    return _checked_on_executors(located, _parquet_batches, checks), checks, problems, False


def _top(frame: DataFrame, *columns: str) -> pl.DataFrame:
    """The first rows of a problem, by row number, as the loader lists them."""
    return pl.from_arrow(frame.orderBy("_row").limit(ROW_PROBLEM_CAP).select("_row", *columns).toArrow())


def _raise_problems(rows: DataFrame, checks: _Checks, path: Path, problems: list[Problem], ragged: bool) -> None:
    from pyspark.sql import functions as F

    all_checks = checks.checks
    filled, row = F.col("_filled"), F.col("_row")
    counted = [F.sum((F.col(f"_bad{i}") & filled).cast("long")).alias(f"_bad{i}") for i, c in enumerate(all_checks) if not c.duplicates]
    stats = rows.agg(
        F.min(F.when(F.col("_fault").isNotNull(), row)).alias("fault"),
        F.sum(F.col("_cells").isNotNull().cast("long")).alias("ragged"),
        F.sum(filled.cast("long")).alias("filled"),
        *counted,
    ).first()
    if stats["fault"] is not None:
        why = rows.where(row == stats["fault"]).select("_fault").first()[0]
        if why == _OPEN:
            raise _refused("D250", "这一行的引号没有配对，或带引号的单元格内有换行，用 Spark 读取时无法按行编号", path, stats["fault"], _D250_HINT)
        if why == _NOT_UTF8:
            raise _refused("D251", "这一行的字节不是 UTF-8 编码，Spark 只能读取 UTF-8 文本", path, stats["fault"],
                           "请把整个名录另存为“CSV UTF-8”后重试，或导出为 Parquet")
        raise csv_fault(path, csvfile.Fault(stats["fault"], why))
    if ragged and stats["ragged"]:
        found = _top(rows.where(F.col("_cells").isNotNull()), "_cells", F.col("_wide").alias("_filled"))
        problems += ragged_problems(found, path, checks.width, total=stats["ragged"])
    if not stats["filled"] and not checks.sheet.allow_empty:
        problems.append(Problem("D212", "文件没有数据行", file=str(path), hint="请确认导出了名录的全部数据"))

    data = rows.where(filled)
    listed, totals = [], []
    for i, check in enumerate(all_checks):
        if check.duplicates:
            total, found = _duplicates(data, check.field)
        else:
            total = stats[f"_bad{i}"] or 0
            quoted = [f"raw_{check.field}"] if check.quotes_cell else []
            found = _top(data.where(F.col(f"_bad{i}")), check.field, *quoted) if total else None
        if found is None:
            found = pl.DataFrame(schema={"_row": pl.Int64, check.field: pl.String})
        listed.append(found.with_columns(*check.extra))
        totals.append(total)
    problems += listed_problems(all_checks, listed, totals, checks.layout, path, checks.sheet.fields)
    if problems:
        raise SpotcheckError(problems)


def _duplicates(data: DataFrame, name: str) -> tuple[int, pl.DataFrame | None]:
    """A value's rows after its first: how many, and the first of them with `_first`, where the value first appears."""
    from pyspark.sql import functions as F

    value = F.col(name)
    firsts = (
        data.where(value.isNotNull()).groupBy(name)
        .agg(F.min("_row").alias("_first"), F.count(F.lit(1)).alias("_n"))
        .where(F.col("_n") > 1).select(name, "_first")
    )
    again = data.select("_row", name).join(firsts, name).where(F.col("_row") != F.col("_first"))
    total = again.count()
    return total, (_top(again, name, "_first") if total else None)


def _typed(checked: Path, checks: _Checks, path: Path) -> dict:
    """The checked rows Spark wrote, typed as the loader types them, in row order.

    The loader's types (few-valued columns Categorical, the fields the file lacks as typed nulls) are
    given as the file streams in, so the driver never holds the text of a few-valued column."""
    kind = checks.sheet.kind
    present, readable = checks.present, readable_fields(checks.sheet.fields)
    mine = {f.name for f in present}
    rows = (
        pl.scan_parquet(str(checked / "*.parquet"))
        .filter(pl.col("_filled"))
        .select("_row", *[pl.col(f.name).cast(_dtype_of(f, kind)) for f in present])
        .with_columns(typed_column(f, kind, False) for f in readable if f.name not in mine)
    )
    work = _in_row_order(rows.collect(engine="streaming"))
    return {
        "frame": work.select(f.name for f in readable),
        "path": path,
        "headers": dict(checks.layout.headers),
        "source_rows": work.get_column("_row").cast(pl.UInt32).alias("row"),
    }


def _in_row_order(work: pl.DataFrame) -> pl.DataFrame:
    """The rows by row number. Spark's part files of one file's splits mostly are in order already; when
    not, columns are put in order one at a time, so the driver never holds the directory twice."""
    if work.get_column("_row").is_sorted():
        return work
    order = work.get_column("_row").arg_sort()
    columns = work.get_columns()
    del work
    for k, column in enumerate(columns):
        columns[k] = column.gather(order)
    return pl.DataFrame(columns)


def _dtype_of(f, kind: str) -> pl.DataType:
    return pl.select(typed_column(f, kind, False)).to_series().dtype
