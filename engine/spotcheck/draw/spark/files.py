"""The draw folder's large files made by Spark's executors, for a draw whose rows stay on Spark
(spotcheck.draw.spark.counted): the driver holds none of their rows.

eligible.csv and draws.csv. Spark sorts the rows into the file's order; each executor writes its sorted
rows as CSV text with polars, exactly as spotcheck.draw.transcript writes them on one machine, and
Spark's text writer puts the pieces in part files whose names follow the sort. The driver writes the
header and then copies the part files' bytes, in name order, into the folder.

Each stratum's sha256 (the transcript's eligible_sha256). SHA-256 cannot be computed in pieces and
joined, so Spark gathers each stratum into one partition, sorted by row as eligible.csv lists it, and
the executor hashes it as one stream of newline-joined codes; the driver receives one digest per stratum.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pyarrow as pa
from spotcheck.draw.transcript import csv_bytes

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

# The columns of draws.csv, in order, with the drawn rows' types.
DRAWS = {"task_id": pl.String, "round": pl.Int64, "month": pl.Int64, "uscc": pl.String, "name": pl.String,
         "district": pl.String, "tier": pl.String, "stratum": pl.String, "rank": pl.Int64, "hash": pl.String}
_TEXT = pa.schema([("value", pa.string())])
_HASHES = pa.schema([("t", pa.int32()), ("s", pa.int32()), ("sha256", pa.string())])
# The driver copies part files in blocks of this many bytes.
_BLOCK = 1 << 20


@dataclass(frozen=True)
class Names:
    """What turns a pair's (t, s) into eligible.csv's words: the tasks' ids, and each task's strata."""

    tasks: tuple[str, ...]
    strata: tuple[tuple[str, ...], ...]

    def task(self, t: pl.Series) -> pl.Series:
        return pl.Series(self.tasks, dtype=pl.String).gather(t).alias("task_id")

    def stratum(self, t: pl.Series, s: pl.Series) -> pl.Series:
        starts = pl.Series([0, *(len(names) for names in self.strata)], dtype=pl.Int64).cum_sum()
        flat = pl.Series([name for names in self.strata for name in names], dtype=pl.String)
        return flat.gather(starts.gather(t) + s).alias("stratum")


def _text(frame: pl.DataFrame) -> Iterator[pa.RecordBatch]:
    """One row of text for the text writer, which ends it with the newline polars' last line has."""
    if frame.height:
        piece = csv_bytes(frame, include_header=False)[:-1].decode("utf-8")
        yield pa.RecordBatch.from_pylist([{"value": piece}], schema=_TEXT)


def _eligible_text(names: Names, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        frame = pl.from_arrow(batch)
        t = frame["t"].cast(pl.Int64)
        yield from _text(pl.DataFrame([names.task(t), names.stratum(t, frame["s"].cast(pl.Int64)), frame["uscc"].cast(pl.String)]))


def _draws_text(names: Names, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        frame = pl.from_arrow(batch)
        t = frame["t"].cast(pl.Int64)
        words = frame.with_columns(names.task(t), names.stratum(t, frame["s"].cast(pl.Int64)))
        yield from _text(words.select(pl.col(c).cast(kind) for c, kind in DRAWS.items()))


def _stratum_sha256(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The digests of the strata in a partition whose rows are sorted by (t, s, row)."""
    done: list[dict] = []
    key, digest = None, None
    for batch in batches:
        frame = pl.from_arrow(batch)
        runs = frame.group_by("t", "s", maintain_order=True).agg(pl.col("uscc").cast(pl.String).str.join("\n"))
        for t, s, text in runs.iter_rows():
            if (t, s) == key:
                digest.update(b"\n")
            else:
                if digest is not None:
                    done.append({"t": key[0], "s": key[1], "sha256": digest.hexdigest()})
                key, digest = (t, s), hashlib.sha256()
            digest.update(text.encode("utf-8"))
    if digest is not None:
        done.append({"t": key[0], "s": key[1], "sha256": digest.hexdigest()})
    yield pa.RecordBatch.from_pylist(done, schema=_HASHES)


def map_in_arrow(rows: DataFrame, fn, schema: pa.Schema) -> DataFrame:
    """rows.mapInArrow(fn): the executors run `fn` (polars) on each Arrow batch."""
    from pyspark.sql.pandas.types import from_arrow_schema

    with warnings.catch_warnings():
        # pyspark warns in English that it has not been tried with pandas 3; these functions use polars.
        warnings.simplefilter("ignore", FutureWarning)
        return rows.mapInArrow(fn, from_arrow_schema(schema))


def stratum_hashes(pairs: DataFrame) -> dict[tuple[int, int], str]:
    """(t, s) → the sha256 of the stratum's codes, newline-joined in row order, for every stratum with a pair."""
    by_stratum = pairs.select("t", "s", "row", "uscc").repartition("t", "s").sortWithinPartitions("t", "s", "row")
    got = map_in_arrow(by_stratum, _stratum_sha256, _HASHES).toArrow()
    return {(t, s): h for t, s, h in zip(got["t"].to_pylist(), got["s"].to_pylist(), got["sha256"].to_pylist(), strict=True)}


def write_text(rows: DataFrame, order: list[str], to_text, names: Names, target: Path) -> Path:
    """The rows sorted by `order`, as the executors' CSV text in part files whose names follow the sort."""
    map_in_arrow(rows.orderBy(*order), partial(to_text, names), _TEXT).write.option("compression", "none").text(target.as_uri())
    return target


def eligible_text(pairs: DataFrame, names: Names, target: Path) -> Path:
    return write_text(pairs.select("t", "s", "row", "uscc"), ["t", "row"], _eligible_text, names, target)


def draws_text(drawn: DataFrame, names: Names, target: Path) -> Path:
    return write_text(drawn, ["t", "round", "order", "rank"], _draws_text, names, target)


def pieces(header: bytes, text: Path) -> Iterator[bytes]:
    """A file of the folder: the header, then the part files Spark wrote, in name order."""
    yield header
    for part in sorted(text.glob("part-*")):
        with part.open("rb") as f:
            while block := f.read(_BLOCK):
                yield block


def header(columns: dict[str, pl.DataType]) -> bytes:
    return csv_bytes(pl.DataFrame(schema=columns))
