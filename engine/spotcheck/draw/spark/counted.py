"""The draw on Spark with a driver that holds classes and quotas, never the directory's rows.

The directory stays where Spark read and checked it (spotcheck.draw.spark.directory: Parquet in the
staging directory). The executors encode each row into the rules engine's fact codes, with the
expressions spotcheck.rules.classes uses, compiled once on the driver; one groupBy over the codes and
the stratify fields gives every class with its strata and counts. The driver asks the one rules module
about each class, and works out scope, strata and quotas exactly as spotcheck.draw.pools does, from
counts. A broadcast table of (class, stratum key) → (task, stratum) makes every eligible pair on
Spark, written as Parquet. The ranking is spotcheck.draw.spark.ranking's, on those pairs, and the
drawn rows stay on Spark too: the executors write eligible.csv and draws.csv and hash each stratum
(spotcheck.draw.spark.files), Spark counts what the summary says of the drawn rows, and the driver
copies the files' bytes into the folder. Only a reveal brings the drawn rows to the driver: its ledger
record lists them.

What this covers: a policy whose draw needs nothing row by row on the driver. Split batches are
counted too: the entities earlier batches drew (the history) leave the task's pairs on Spark, the
strata's counts give this draw's batches' quotas, and the ranks are handed out batch by batch. Caps
(what an earlier task drew counts towards a later task's cap, so each capped task's pool depends on
the rows drawn before it, and excluded.csv names each pair a cap left out), lists, look-backs over
past checks, objects known by their own numbers, and conditions answered per drawn entity
(applies.csv) still need the rows: spotcheck.draw.pipeline draws such a policy on Spark with the
directory on the driver (`counted` says which). Either way the folder is byte for byte the local engine's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pyarrow as pa
from spotcheck.directory.kinds import kind_row_problems, kind_verdicts, load_for
from spotcheck.directory.load import ENTITY_SHEET, ROW_PROBLEM_CAP, EntityDirectory, object_sheet
from spotcheck.draw.applies import entity_rules
from spotcheck.draw.batches import schedule_words, split_quotas
from spotcheck.draw.caps import EXCLUDED_COLUMNS
from spotcheck.draw.commitment import Seed
from spotcheck.draw.compute import Draw, coordinated
from spotcheck.draw.folder import Content
from spotcheck.draw.history import history_csv
from spotcheck.draw.pools import Pool, TaskPlan, _class_rule, _stratum_name, compile_scope, plan_tasks, stratum_parts, task_quotas
from spotcheck.draw.records import DirectoryCounts
from spotcheck.draw.spark.directory import Checked, _dtype_of, check_on_spark, reader
from spotcheck.draw.spark.files import DRAWS, Names, draws_text, eligible_text, header, map_in_arrow, pieces, stratum_hashes
from spotcheck.draw.spark.ranking import SparkRanking
from spotcheck.draw.transcript import DrawnCounts, json_bytes, make_summary, make_transcript, operating_enterprises
from spotcheck.errors import SpotcheckError
from spotcheck.policy.cadence import lookback_years
from spotcheck.policy.loaded import LoadedPolicy
from spotcheck.policy.model import coverage_kinds, effective_caps
from spotcheck.progress import Progress, silent

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# The columns draws.csv and the summary read for the drawn rows.
_SHOWN = ("name", "type", "district", "tier")


def counted(loaded: LoadedPolicy) -> bool:
    """Whether a Spark draw of this policy can leave the directory's rows on Spark (see the module's words)."""
    policy = loaded.policy
    if any(k.identified_by is not None for k in policy.kinds.values()):
        return False  # an object known by its own number is keyed row by row (spotcheck.directory.kinds)
    if policy.lists or effective_caps(policy) or lookback_years(policy) is not None or entity_rules(loaded):
        return False
    return "checks_this_year" not in compile_scope(loaded, [], None, dt.date(policy.year, 1, 1)).fields_read


@dataclass(frozen=True, eq=False)
class CountedDirectory:
    """A directory read and checked on Spark that stays there: the driver holds its name and digest."""

    checked: Checked

    @property
    def path(self) -> Path:
        return self.checked.path

    @property
    def sha256(self) -> str:
        return self.checked.sha256

    def close(self) -> None:
        """Remove the staged rows and everything the draw staged beside them (gigabytes for a province)."""
        self.checked.staging.cleanup()


@contextmanager
def released(entities: object) -> Iterator[None]:
    """Around a draw: a directory left on Spark is removed from the staging directory when the draw's
    files are written, or when it fails; any other directory is the caller's."""
    try:
        yield
    finally:
        if isinstance(entities, CountedDirectory):
            entities.close()


def load(spark: SparkSession, loaded: LoadedPolicy, path: str | Path) -> EntityDirectory | CountedDirectory:
    """The directory of a Spark draw: left on Spark when the policy allows, else read onto the driver."""
    if counted(loaded):
        kinds = bool(loaded.policy.kinds)
        found = check_on_spark(spark, path, object_sheet(False) if kinds else ENTITY_SHEET)
        if found is not None:
            if kinds:
                _check_kinds(spark, found, loaded.policy)
            return CountedDirectory(found)
    return load_for(loaded.policy, path, reader(spark))


def _check_kinds(spark: SparkSession, checked: Checked, policy) -> None:
    """spotcheck.directory.kinds' checks of each row's kind, code and tier: per distinct combination on
    the driver, and the rows of a wrong one found by Spark."""
    from pyspark.sql import functions as F

    rows = spark.read.parquet(checked.rows.as_uri()).where(F.col("_filled"))
    present = {f.name for f in checked.present}
    text = [F.col(c).cast("string").alias(c) if c in present else F.lit(None).cast("string").alias(c) for c in ("type", "tier")]
    keyed = rows.select("_row", "uscc", text[0], F.substring("uscc", 1, 2).alias("code"), text[1])
    keys, verdicts = kind_verdicts(policy, [tuple(r) for r in keyed.select("type", "code", "tier").distinct().collect()])
    if not verdicts:
        return
    bad = spark.createDataFrame(keys.rename({c: f"m{c}" for c in ("type", "code", "tier")}).to_arrow())
    wrong = keyed.join(F.broadcast(bad), [keyed[c].eqNullSafe(bad[f"m{c}"]) for c in ("type", "code", "tier")])
    first = pl.from_arrow(wrong.orderBy("_row").limit(ROW_PROBLEM_CAP).select("_row", "uscc", "_v").toArrow())
    headers = checked.headers
    raise SpotcheckError(kind_row_problems(first, wrong.count(), verdicts, checked.path,
                                           lambda field: headers.get(field) or EntityDirectory.FIELDS[field].title))


@dataclass(frozen=True)
class _Coding:
    """What every executor needs to turn checked rows into coded rows: the loader's types, the rules'
    helper columns and codes, the stratify fields' keys and the columns the files show."""

    types: dict[str, pl.DataType]
    masks: list[pl.Expr]
    codes: list[pl.Expr]
    keys: tuple[str, ...]
    operating: pl.Expr

    def schema(self) -> pa.Schema:
        return pa.schema(
            [("_row", pa.int64()), ("uscc", pa.string())]
            + [(c, pa.string()) for c in _SHOWN]
            + [(f"_k{j}", pa.string()) for j in range(len(self.keys))]
            + [(f"_c{k}", pa.int32()) for k in range(len(self.codes))]
            + [("_op", pa.bool_())]
        )

    def text(self, name: str) -> pl.Expr:
        return (pl.col(name).cast(pl.String) if name in self.types else pl.lit(None, pl.String)).alias(name)

    def coded(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            frame = pl.from_arrow(batch).filter(pl.col("_filled"))
            frame = frame.select("_row", *[pl.col(n).cast(t) for n, t in self.types.items()])
            if self.masks:
                frame = frame.with_columns(self.masks)
            out = frame.select(
                "_row",
                pl.col("uscc").cast(pl.String),
                *[self.text(c) for c in _SHOWN],
                *[self.text(name).alias(f"_k{j}") for j, name in enumerate(self.keys)],
                *[code.cast(pl.Int32).alias(f"_c{k}") for k, code in enumerate(self.codes)],
                self.operating.fill_null(False).alias("_op"),
            )
            yield from out.to_arrow(compat_level=pl.CompatLevel.oldest()).cast(self.schema()).to_batches()


class _StratumHashes:
    """Each stratum's sha256 of its newline-joined codes, as spotcheck.draw.transcript.Codes gives it,
    for the pools below (whose members are named, not listed)."""

    def __init__(self) -> None:
        self.by_key: dict[tuple[int, str], str] = {}

    def sha256(self, key: tuple[int, str]) -> str:
        return self.by_key.get(key, hashlib.sha256(b"").hexdigest())


@dataclass(frozen=True)
class _CountedPool(Pool):
    """A pool known by its strata's counts; its rows are pairs on Spark, named (pool, stratum)."""

    index: int = -1

    def members(self, stratum: str) -> tuple[int, str]:  # type: ignore[override]
        return (self.index, stratum)


@dataclass(frozen=True)
class _Shown:
    """The directory as the transcript names it."""

    path: Path
    sha256: str
    rows: int

    def __len__(self) -> int:
        return self.rows


def counted_draw(
    spark: SparkSession,
    loaded: LoadedPolicy,
    entities: CountedDirectory,
    history: pl.DataFrame,
    seed: Seed,
    drawn_on: dt.date,
    progress: Progress = silent,
    select: Mapping[str, tuple[int, ...]] | None = None,
    keep_drawn: bool = False,
) -> Draw:
    """spotcheck.draw.compute.compute for a policy `counted` accepts, with the directory on Spark.

    The drawn rows come to the driver only with `keep_drawn` (a reveal lists them in the ledger);
    without it the Draw's `drawn` is None and its files and summary are made on Spark."""
    from pyspark.sql import functions as F

    policy = loaded.policy
    checked = entities.checked
    staging = Path(checked.staging.name)
    compiled = compile_scope(loaded, [], select, drawn_on)
    plans = plan_tasks(loaded)
    if select is not None:
        plans = [replace(p, selected=tuple(select[p.task.id])) for p in plans if p.task.id in select]
    progress("按规则匹配抽查范围")
    kind = checked.checks.sheet.kind
    types = {f.name: _dtype_of(f, kind) for f in checked.present}
    masks, coded = compiled.code_exprs(pl.DataFrame(schema=types))
    keys = tuple(dict.fromkeys(f for p in plans for f in p.task.sampling.stratify))
    coding = _Coding(types, masks, [expr for _, expr, _ in coded], keys, operating_enterprises(policy))
    rows = _coded_rows(spark, checked, coding, staging / "coded.parquet")
    codes = [f"_c{k}" for k in range(len(coded))]
    key_columns = [f"_k{j}" for j in range(len(keys))]
    groups = pl.from_arrow(rows.groupBy(*codes, *key_columns, "_op").count().toArrow())
    counts = DirectoryCounts(entities=int(groups["count"].sum() or 0),
                             enterprises_operating=int(groups.filter(pl.col("_op"))["count"].sum() or 0))
    by = codes + key_columns
    groups = groups.group_by(by).agg(pl.col("count").sum()) if by else groups.select(pl.col("count").sum())
    if codes:
        distinct = groups.select(codes).unique().sort(codes)
        answers = compiled.evaluate_classes(distinct.rename({c: name for c, (name, _, _) in zip(codes, coded, strict=True)}))
        groups = groups.join(distinct.with_row_index("_class"), on=codes, how="left")
    else:
        answers = [compiled.evaluate_encoded([{}])[0]]
        groups = groups.with_columns(pl.lit(0, pl.UInt32).alias("_class"))

    pools, members = [], []
    for t, plan in enumerate(plans):
        progress("划定各任务的抽查对象", t, len(plans))
        pool, member = _pool(loaded, plan, t, groups, answers, dict(zip(keys, key_columns, strict=True)))
        pools.append(pool)
        members.append(member)
    pairs_at = _pairs(spark, rows, members, codes + key_columns, staging / "pairs.parquet")
    earlier = {t: history.filter(pl.col("task_id") == plan.task.id)["uscc"].unique() for t, plan in enumerate(plans) if plan.split}
    pairs_at, batches = _split(spark, pairs_at, pools, earlier) if earlier else (pairs_at, None)
    pairs = spark.read.parquet(pairs_at.as_uri())
    names = Names(tuple(plan.task.id for plan in plans), tuple(pool.strata for pool in pools))
    hashes = _StratumHashes()
    hashes.by_key = {(t, names.strata[t][s]): h for (t, s), h in stratum_hashes(pairs).items()}
    eligible = eligible_text(pairs, names, staging / "eligible")

    progress("按随机数排序抽取")
    ranking = partial(SparkRanking, spark, pairs=pairs_at.as_uri(), staging=staging)
    shown = rows.select(F.col("_row").alias("row"), *_SHOWN)
    ranked = ranking(plans, pools, None, seed).ranked()
    if batches is not None:
        ranked = _handed_out(spark, ranked, batches)
    ranked.join(shown, "row").write.parquet((staging / "drawn.parquet").as_uri())
    drawn = spark.read.parquet((staging / "drawn.parquet").as_uri())
    tally = _tally(drawn, names, policy)
    coordination = coordinated(plans, tally.entities, lambda alt: ranking(alt, pools, None, seed).distinct(alt, pools, progress))
    exclusions = pl.DataFrame(schema=EXCLUDED_COLUMNS)

    progress("生成抽取记录")
    files_hist = history_csv(history)
    selection = {p.task.id: tuple(r for r, _ in p.drawn_rounds()) for p in plans} if select is not None else None
    counted_shown = _Shown(entities.path, entities.sha256, counts.entities)
    transcript = make_transcript(loaded, counted_shown, seed, drawn_on, files_hist, pools, hashes, selection, None)
    draw_id = transcript.draw_id
    summary = make_summary(loaded, None, tally, exclusions, pools, [], draw_id, seed, coordination, counts=counts)
    draws = draws_text(drawn, names, staging / "draws")
    files: dict[str, Content] = {
        "transcript.json": json_bytes(transcript.to_json()),
        "draws.csv": partial(_staged, checked.staging, header(DRAWS), draws),
        "eligible.csv": partial(_staged, checked.staging, b"task_id,stratum,uscc\n", eligible),
        "history.csv": files_hist,
        "summary.json": json_bytes(summary.to_json()),
        "excluded.csv": exclusions.write_csv().encode("utf-8"),
    }
    rows_drawn = _drawn_rows(drawn, names) if keep_drawn else None
    return Draw(draw_id, seed, drawn_on, rows_drawn, exclusions, transcript, summary, files, tuple(pools), pl.Series("uscc", [], pl.String))


def _split(spark: SparkSession, at: Path, pools: list[_CountedPool], earlier: dict[int, pl.Series]
           ) -> tuple[Path, pl.DataFrame]:
    """Split batches, as spotcheck.draw.batches splits a pool: each split task's pairs less the entities
    its earlier batches drew (`earlier`, from the history), its quotas this draw's batches' share, from
    the strata's counts (the `pools` list takes the split pools); and which ranks of each stratum go to
    which batch (t, s, lo, hi, round, month): the batches drawn together are ranked once."""
    from pyspark.sql import functions as F

    drew = pl.DataFrame([pl.Series("t", [t for t, us in earlier.items() for _ in range(us.len())], dtype=pl.Int32),
                         pl.concat(list(earlier.values())).cast(pl.String).alias("uscc")])
    pairs, gone = spark.read.parquet(at.as_uri()), spark.createDataFrame(drew.to_arrow())
    before = pl.from_arrow(pairs.join(F.broadcast(gone), ["t", "uscc"]).groupBy("t", "s").agg(F.count("*").alias("n")).toArrow())
    kept = at.with_name("pairs-split.parquet")
    pairs.join(F.broadcast(gone), ["t", "uscc"], "left_anti").write.parquet(kept.as_uri())
    handed = []
    for t in earlier:
        pool = pools[t]
        gone_from = {pool.strata[s]: n for _, s, n in before.filter(pl.col("t") == t).iter_rows()}
        was = {name: gone_from.get(name, 0) for name in pool.strata}
        have = {q.stratum: q.eligible - was[q.stratum] for q in pool.quotas}
        quotas, explain, counts = split_quotas(pool, was, have)
        pools[t] = replace(pool, quotas=quotas, explain=explain)
        at_stratum = {name: k for k, name in enumerate(pool.strata)}
        for q in quotas:
            start = 0
            for (rnd, month), n in zip(pool.plan.drawn_rounds(), counts[q.stratum], strict=True):
                if n:
                    handed.append((t, at_stratum[q.stratum], start + 1, start + n, rnd, month))
                start += n
    schema = {"t": pl.Int32, "s": pl.Int32, "lo": pl.Int32, "hi": pl.Int32, "round": pl.Int64, "month": pl.Int64}
    return kept, pl.DataFrame(handed, schema=schema, orient="row")


def _handed_out(spark: SparkSession, ranked: DataFrame, batches: pl.DataFrame) -> DataFrame:
    """The ranked rows of split batches with the round and month of the batch their rank falls in
    (spotcheck.draw.batches.draw_split: the first batch the smallest hashes)."""
    from pyspark.sql import functions as F

    table = F.broadcast(spark.createDataFrame(batches.rename({c: f"b{c}" for c in batches.columns}).to_arrow()))
    match = (ranked["t"] == table["bt"]) & (ranked["s"] == table["bs"]) & ranked["rank"].between(table["blo"], table["bhi"])
    joined = ranked.join(table, match, "left")
    return joined.select(*[F.coalesce(f"b{c}", c).alias(c) if c in ("round", "month") else c for c in ranked.columns])


def _staged(staging: tempfile.TemporaryDirectory, head: bytes, text: Path) -> Iterator[bytes]:
    """A file of the folder from the part files Spark wrote in `staging`, which the Draw's files hold so
    that it lasts as long as they may be read (pipeline.draw removes it when the folder is written)."""
    return pieces(head, text)


def _tally(drawn: DataFrame, names: Names, policy) -> DrawnCounts:
    """The summary's counts of the drawn rows, counted on Spark."""
    from pyspark.sql import functions as F

    enterprise = F.when(F.col("type").isin(list(coverage_kinds(policy))), F.col("uscc"))
    entities, enterprises = drawn.agg(F.count_distinct("uscc"), F.count_distinct(enterprise)).first()
    by = pl.from_arrow(drawn.groupBy("t", "district").agg(F.count("*").alias("len")).toArrow())
    by_district = by.select(names.task(by["t"].cast(pl.Int64)), pl.col("district").cast(pl.String), pl.col("len").cast(pl.UInt32))
    return DrawnCounts(by_district, int(entities), int(enterprises))


def _drawn_rows(drawn: DataFrame, names: Names) -> pl.DataFrame:
    """The drawn rows on the driver, in draws.csv's order, as spotcheck.draw.compute gives them (a reveal's
    ledger record lists them)."""
    got = pl.from_arrow(drawn.orderBy("t", "round", "order", "rank").toArrow())
    t = got["t"].cast(pl.Int64)
    return got.select(
        names.task(t), pl.col("round").cast(pl.Int64), pl.col("month").cast(pl.Int64), pl.col("uscc").cast(pl.String),
        names.stratum(t, got["s"].cast(pl.Int64)), pl.col("rank").cast(pl.Int64), pl.col("hash").cast(pl.String),
        *[pl.col(c).cast(pl.String) for c in _SHOWN])


def _coded_rows(spark: SparkSession, checked: Checked, coding: _Coding, target: Path) -> DataFrame:
    """Every filled row's codes, stratify keys and shown columns, written once as Parquet and read from there."""
    source = spark.read.parquet(checked.rows.as_uri()).select("_row", "_filled", *coding.types)
    map_in_arrow(source, coding.coded, coding.schema()).write.parquet(target.as_uri())
    return spark.read.parquet(target.as_uri())


def _pool(loaded: LoadedPolicy, plan: TaskPlan, t: int, groups: pl.DataFrame, answers: list, key_of: dict[str, str]
          ) -> tuple[_CountedPool, pl.DataFrame]:
    """A task's strata and quotas from the classes' counts, as spotcheck.draw.pools.pool_for makes them
    from rows; and its part of the pair table: each (class, stratum key) in scope with the stratum's index."""
    task = plan.task
    in_scope = pl.Series([f"scope:{task.id}" in a for a in answers], dtype=pl.Boolean)
    mine = groups.filter(in_scope.gather(groups["_class"]))
    stratify = list(task.sampling.stratify)
    values = mine.select(key_of[f] for f in stratify).rows() if stratify else [()] * mine.height
    if task.sampling.classes:
        named = [next((c.name for c in task.sampling.classes if _class_rule(task, c) in answers[k]), "其他") for k in mine["_class"]]
        values = [(*v, name) for v, name in zip(values, named, strict=True)]
    elif not stratify:
        values = [("全部",)] * mine.height
    names = [_stratum_name(v) for v in values]
    strata: dict[str, tuple] = {}
    for name, value, n in zip(names, values, mine["count"], strict=True):
        size = strata[name][0] if name in strata else 0
        strata[name] = (size + n, *stratum_parts(task, value))
    order = tuple(sorted(strata))
    quotas, explain = task_quotas(task, loaded.policy.risk.tiers, dict(sorted(strata.items())), loaded.policy.year)
    if task.batches:
        explain["batches"] = schedule_words(plan)
    empty = pl.Series([], dtype=pl.UInt32)
    pool = _CountedPool(plan, empty, empty, order, {}, quotas, explain, index=t)
    at = {name: k for k, name in enumerate(order)}
    member = mine.drop("count", "_class").with_columns(
        pl.lit(t, pl.Int32).alias("t"), pl.Series("s", [at[name] for name in names], dtype=pl.Int32))
    return pool, member


def _pairs(spark: SparkSession, rows: DataFrame, members: list[pl.DataFrame], on: list[str], target: Path) -> Path:
    """Every eligible (pool, stratum, row, uscc), written as Parquet."""
    from pyspark.sql import functions as F

    table = pl.concat(members).unique(maintain_order=True)
    member = spark.createDataFrame(table.rename({c: f"m{c}" for c in on}).to_arrow())
    match = [rows[c].eqNullSafe(member[f"m{c}"]) for c in on] or [F.lit(True)]
    joined = rows.join(F.broadcast(member), match).select("t", "s", F.col("_row").alias("row"), "uscc")
    joined.write.parquet(target.as_uri())
    return target


__all__ = ["CountedDirectory", "counted", "counted_draw", "load", "released"]
