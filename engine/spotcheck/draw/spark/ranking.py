"""The draw's ranking on Apache Spark: the same rank hashes and the same per-stratum top-n as
spotcheck.draw.ranking, computed by Spark's SHA-256 and a window.

Every (task, stratum, round) has one prefix, "{key}|{unit}" with the stratum filled in, so a row's
rank hash is sha2(prefix || uscc) whichever way the campaign coordinates: a small table of prefixes
and quotas made on the driver is broadcast and joined to the pool's rows, and each stratum keeps the
rows whose row_number over the hash is within its quota, among the rows whose hash is below a cut a
little above the quota's share (`cut_for`), so Spark sorts about the drawn rows, not the pools; a
stratum the cut left short is ranked again whole. SHA-256 hex is one function of the bytes, so
Spark's digests are the local engine's and the draw folder is byte for byte the same (tests/draw/
test_spark.py compares every file). Scope, caps, strata and quotas stay on the driver
(spotcheck.draw.pools), as do the files (spotcheck.draw.transcript).
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from spotcheck.draw.commitment import Seed
from spotcheck.draw.pools import Pool, TaskPlan
from spotcheck.draw.ranking import rank_unit
from spotcheck.draw.spark.directory import staging_dir
from spotcheck.progress import Progress

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_RANKED = {"t": pl.Int32, "round": pl.Int64, "month": pl.Int64, "order": pl.Int32, "row": pl.Int64,
           "uscc": pl.String, "s": pl.Int32, "rank": pl.Int32, "hash": pl.String}

# The pools reach Spark in Parquet pieces of this many rows.
_PIECE_ROWS = 1_000_000


def ranking_on(spark: SparkSession) -> partial:
    """The `ranking` argument of spotcheck.draw.compute.compute for a draw on `spark`."""
    return partial(SparkRanking, spark)


class SparkRanking:
    """The local Ranking's two questions (one task's draw; how many distinct entities a set of plans
    would draw) answered on Spark.

    The draw asks task by task, because what an earlier task drew can change a later task's pool
    (caps). The first question ranks every task's first pool in one Spark job; a task whose pool is
    still that one takes its part of the answer, and only a task whose pool the caps changed is
    ranked again on its own.
    """

    def __init__(self, spark: SparkSession, plans: list[TaskPlan], pools: list[Pool], uscc: pl.Series | None, seed: Seed,
                 pairs: str | None = None, staging: Path | None = None) -> None:
        self.spark, self.uscc, self.seed = spark, uscc, seed
        self.plans, self.pools = plans, pools
        # The pools' rows (t, s, row, uscc) already on Spark, as Parquet at this address (a draw whose
        # directory the driver never holds, spotcheck.draw.spark.counted); else written from the pools.
        # The drawn rows of such a draw stay on Spark too, written in `staging`.
        self.pairs, self.staging = pairs, staging
        self.first: pl.DataFrame | None = None

    def _write_pairs(self, pools: list[Pool], path: Path) -> None:
        """Every pool's rows as Parquet: t (the pool's index), s (stratum index), row, uscc; written pool
        by pool in pieces, so a province's tens of millions of pairs are never whole in the driver."""
        schema = pa.schema([("t", pa.int32()), ("s", pa.int32()), ("row", pa.int64()), ("uscc", pa.string())])
        with pq.ParquetWriter(path, schema) as writer:
            for t, pool in enumerate(pools):
                for start in range(0, pool.rows.len(), _PIECE_ROWS):
                    rows = pool.rows.slice(start, _PIECE_ROWS)
                    piece = pl.DataFrame([
                        pl.repeat(t, rows.len(), dtype=pl.Int32, eager=True).alias("t"),
                        pool.stratum.slice(start, _PIECE_ROWS).cast(pl.Int32).alias("s"),
                        rows.cast(pl.Int64).alias("row"),
                        self.uscc.gather(rows).cast(pl.String).alias("uscc"),
                    ])
                    writer.write_table(piece.to_arrow(compat_level=pl.CompatLevel.oldest()).cast(schema))

    def _units(self, plans: list[TaskPlan], pools: list[Pool]) -> pa.Table:
        """Per (pool, round, stratum) drawn from: the hash prefix, the quota, and the order draws.csv lists it in."""
        rows = []
        for t, (plan, pool) in enumerate(zip(plans, pools, strict=True)):
            index = {name: k for k, name in enumerate(pool.strata)}
            # Split batches drawn together are ranked once, under the first batch's unit.
            months = dict(plan.drawn_rounds())
            for rnd in dict.fromkeys(plan.unit_round(r) for r in months):
                month = months[rnd]
                for order, q in enumerate(pool.quotas):
                    if q.drawn:
                        prefix = f"{self.seed.key}|{rank_unit(plan, rnd, q.stratum)}"
                        rows.append((t, index[q.stratum], rnd, month, order, prefix, q.drawn, cut_for(q.drawn, q.eligible)))
        names = ["t", "s", "round", "month", "order", "prefix", "n", "cut"]
        types = [pa.int32(), pa.int32(), pa.int64(), pa.int64(), pa.int32(), pa.string(), pa.int64(), pa.int64()]
        return pa.table([pa.array([r[k] for r in rows], type=types[k]) for k in range(len(names))], names=names)

    @contextmanager
    def _pairs(self, pools: list[Pool]) -> Iterator[DataFrame]:
        """The pools' rows on Spark: t, s, row, uscc.

        Unless they are there already, they reach Spark as a Parquet file, which Spark reads in parallel
        splits (a local table of tens of millions of rows would sit whole in the driver's JVM); the file
        is removed when the caller has its answer. It is written in TMPDIR, or on a cluster in the
        directory the session's `spark.spotcheck.staging` names, which the driver and every executor must see."""
        if self.pairs is not None:
            if pools is not self.pools:
                raise ValueError("pairs on Spark rank only the pools they were made from")
            yield self.spark.read.parquet(self.pairs)
            return
        with staging_dir(self.spark) as staging:
            path = Path(staging) / "pairs.parquet"
            self._write_pairs(pools, path)
            yield self.spark.read.parquet(path.as_uri())

    def _collect(self, plans: list[TaskPlan], pools: list[Pool], columns: tuple[str, ...] = tuple(_RANKED)) -> pl.DataFrame:
        """Each drawn stratum's rows within its quota: t, round, s and the `columns` asked for
        (month, order, row, uscc, rank, hash).

        A stratum whose cut kept fewer rows than its quota (its digests bunched above the cut) is
        ranked again with every row: the answer is the n smallest whatever the cut."""
        units = self._units(plans, pools)
        columns = tuple(dict.fromkeys(("t", "round", "s", *columns)))
        if units.num_rows == 0:
            return pl.DataFrame(schema={c: _RANKED[c] for c in columns})
        with self._pairs(pools) as pairs:
            got = self._top_n(pairs, units, columns)
            short = _short(units, got.group_by("t", "round", "s").len())
            if short is None:
                return got
            again = self._top_n(pairs, short.to_arrow(), columns)
        return pl.concat([got.join(short.select("t", "round", "s"), on=["t", "round", "s"], how="anti"), again])

    def ranked(self, columns: tuple[str, ...] = tuple(_RANKED)) -> DataFrame:
        """What `_collect` gives for every plan, left on Spark (a draw whose pairs are on Spark): each
        stratum's first ranking written once in the staging directory, the strata the cut left short
        ranked again whole; the driver holds the strata's counts."""
        from pyspark.sql import functions as F

        if self.pairs is None:
            raise ValueError("only pairs already on Spark are ranked there")
        units = self._units(self.plans, self.pools)
        columns = tuple(dict.fromkeys(("t", "round", "s", *columns)))
        if units.num_rows == 0:
            return self.spark.createDataFrame(pl.DataFrame(schema={c: _RANKED[c] for c in columns}).to_arrow())
        with self._pairs(self.pools) as pairs:
            first = Path(tempfile.mkdtemp(prefix="ranked-", dir=self.staging)) / "ranked.parquet"
            self._top_n_on_spark(pairs, units, columns).write.parquet(first.as_uri())
            got = self.spark.read.parquet(first.as_uri())
            kept = pl.from_arrow(got.groupBy("t", "round", "s").agg(F.count("*").alias("len")).toArrow())
            short = _short(units, kept.cast({"t": pl.Int32, "round": pl.Int64, "s": pl.Int32, "len": pl.UInt32}))
            if short is None:
                return got
            again = self._top_n_on_spark(pairs, short.to_arrow(), columns)
        shorts = F.broadcast(self.spark.createDataFrame(short.select("t", "round", "s").to_arrow()))
        return got.join(shorts, ["t", "round", "s"], "left_anti").unionByName(again)

    def _top_n(self, pairs: DataFrame, units: pa.Table, columns: tuple[str, ...]) -> pl.DataFrame:
        return pl.from_arrow(self._top_n_on_spark(pairs, units, columns).toArrow()).cast({c: _RANKED[c] for c in columns})  # type: ignore[return-value]

    def _top_n_on_spark(self, pairs: DataFrame, units: pa.Table, columns: tuple[str, ...]) -> DataFrame:
        """Each unit's rows within its quota, by rank hash sha2(prefix || uscc), among the rows below its cut."""
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        hashed = pairs.join(F.broadcast(self.spark.createDataFrame(units)), ["t", "s"]).withColumn(
            "hash", F.sha2(F.concat(F.col("prefix"), F.col("uscc")), 256))
        # The digest's first 15 hex digits are its first 60 bits: below the cut, a row may be among the n smallest.
        kept = hashed.where(F.conv(F.substring("hash", 1, 15), 16, 10).cast("long") < F.col("cut"))
        by_hash = Window.partitionBy("t", "round", "s").orderBy("hash")
        ranked = kept.withColumn("rank", F.row_number().over(by_hash)).filter(F.col("rank") <= F.col("n"))
        return ranked.select(*columns)

    def _ranked_pool(self, plan: TaskPlan, pool: Pool) -> pl.DataFrame:
        at = next((t for t, (p, q) in enumerate(zip(self.plans, self.pools)) if p is plan and q is pool), None)
        if at is None:
            return self._collect([plan], [pool])
        if self.first is None:
            self.first = self._collect(self.plans, self.pools)
        return self.first.filter(pl.col("t") == at)

    def top(self, plan: TaskPlan, rnd: int, pool: Pool) -> dict[str, pl.DataFrame]:
        """Each drawn stratum's n smallest under round `rnd`'s unit: _row, uscc, hash, rank, as the local `take`."""
        got = self._ranked_pool(plan, pool).filter(pl.col("round") == rnd).sort("order", "rank")
        return {
            pool.strata[s]: part.select(pl.col("row").cast(pl.UInt32).alias("_row"), "uscc", "hash", pl.col("rank").cast(pl.Int64))
            for (s,), part in got.group_by("s", maintain_order=True)
        }

    def draw_plan(self, plan: TaskPlan, pool: Pool) -> pl.DataFrame:
        """Each stratum's n smallest rank hashes, per round, in the rows and order of the local draw_plan."""
        got = self._ranked_pool(plan, pool).sort("round", "order", "rank")
        return got.select(
            pl.lit(plan.task.id).alias("task_id"),
            "round",
            "month",
            pl.col("row").cast(pl.UInt32).alias("_row"),
            "uscc",
            pl.Series("stratum", pool.strata, dtype=pl.String).gather(got["s"]),
            pl.col("rank").cast(pl.Int64),
            "hash",
        )

    def distinct(self, plans: list[TaskPlan], pools: list[Pool], progress: Progress) -> int:
        """How many distinct entities the plans would draw, in one Spark job over every pool."""
        progress("按另一种协同方式对照抽取（用于统计）")
        if self.pairs is not None:
            from pyspark.sql import functions as F

            return int(self.ranked(("row",)).agg(F.count_distinct("row")).first()[0])
        return self._collect(plans, pools, ("row",))["row"].n_unique()


# Rank hashes' first 60 bits range over [0, _ALL).
_ALL = 2**60


def _short(units: pa.Table, kept: pl.DataFrame) -> pl.DataFrame | None:
    """The units whose cut kept fewer rows than their quota (`kept`: t, round, s, len), to be ranked
    again with every row; None when there are none."""
    short = (pl.from_arrow(units).join(kept, on=["t", "round", "s"], how="left")
             .filter((pl.col("len").fill_null(0) < pl.col("n")) & (pl.col("cut") < _ALL)))
    return short.drop("len").with_columns(pl.lit(_ALL, pl.Int64).alias("cut")) if short.height else None


def cut_for(n: int, eligible: int) -> int:
    """Where a stratum's ranking stops looking: the 60-bit prefix below which n + 8 standard deviations
    + 64 of its `eligible` rows are expected. Only those are sorted, about n rows and not `eligible`;
    uniform digests fall short of n below it less than once in 10^14 strata, and then the stratum is
    ranked again whole (SparkRanking._collect)."""
    want = n + 8 * math.isqrt(n) + 64
    return _ALL if want >= eligible else want * _ALL // eligible
