"""The draw on Spark (local mode) is byte for byte the local draw: every file, the five seed policies
and Wuwei's split batches, with the directory read and checked on Spark.

One SparkSession serves the whole test session (conftest's `spark`: starting Spark costs seconds); the tests skip only
where Java or pyspark is absent, and CI installs both (.ci/apt-packages.txt, the `test` extra).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from conftest import LONGWAN, QINGDAO, QINHUANGDAO, ROOT, SHUOZHOU, edit
from spotcheck.cli import main
from spotcheck.directory.kinds import load_for
from spotcheck.directory.load import ENTITY_SHEET
from spotcheck.draw import compute as draw
from spotcheck.draw import pipeline
from spotcheck.draw import spark as spark_engine
from spotcheck.draw.commitment import drill_seed
from spotcheck.draw.folder import content_bytes
from spotcheck.draw.spark import directory as spark_directory
from spotcheck.draw.spark.counted import counted
from spotcheck.draw.history import history_frame
from spotcheck.errors import SpotcheckError
from spotcheck.ledger.store import Ledger
from spotcheck.policy.loader import load_policy
from spotcheck.resources import POLICIES

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install -e '.[test]' installs it)")
if shutil.which("java") is None:
    pytest.skip("Java is not installed (.ci/apt-packages.txt installs it)", allow_module_level=True)

QINHUANGDAO_2024 = POLICIES / "hebei/qinhuangdao/2024.yaml"
SEEDS = {
    "qinhuangdao-2023": (QINHUANGDAO, dt.date(2023, 4, 1)),
    "qinhuangdao-2024": (QINHUANGDAO_2024, dt.date(2024, 4, 1)),
    "shuozhou-2021": (SHUOZHOU, dt.date(2021, 4, 1)),
    "qingdao-2020": (QINGDAO, dt.date(2020, 4, 1)),
    "longwan-2023": (LONGWAN, dt.date(2023, 4, 1)),
    # Not a seed: Wuwei's batches split the sample (ranked once, under the first batch's unit).
    "wuwei-2023": (POLICIES / "anhui/wuwei/2023.yaml", dt.date(2023, 4, 1)),
}


@pytest.fixture(scope="session")
def seed_dirs(tmp_path_factory):
    """A small synthetic directory per seed policy, shaped by the policy (every task has entities)."""
    root = tmp_path_factory.mktemp("spark-seeds")
    for name, (policy, _) in SEEDS.items():
        pipeline.synthesize(policy, 1500, 60, "spark", root / name)
    return root


def _files(result) -> dict[str, bytes]:
    return {name: content_bytes(c) for name, c in result.files.items()}


# The seeds whose draw keeps the directory on Spark (the driver holds classes and quotas); Longwan's
# caps and Wuwei's objects known by their own numbers need the rows on the driver.
COUNTED = {"qinhuangdao-2023", "qinhuangdao-2024", "shuozhou-2021", "qingdao-2020"}


def _spark_draw(spark, loaded, path, history, seed, on, select=None):
    """The draw as pipeline.draw makes it on Spark: rows left on Spark when the policy allows."""
    entities = spark_engine.load(spark, loaded, path)
    if isinstance(entities, spark_engine.CountedDirectory):
        return spark_engine.counted_draw(spark, loaded, entities, history, seed, on, select=select)
    return draw.compute(loaded, entities, history, seed, on, select=select, ranking=spark_engine.ranking_on(spark))


@pytest.mark.parametrize("name", list(SEEDS))
def test_every_file_is_the_local_engines(name, spark, seed_dirs):
    policy, on = SEEDS[name]
    loaded = load_policy(policy)
    path = seed_dirs / name / "entities.csv"
    history = history_frame([], on.year)
    local = draw.compute(loaded, load_for(loaded.policy, path), history, drill_seed(name), on)
    assert counted(loaded) == (name in COUNTED)
    on_spark = _spark_draw(spark, loaded, path, history, drill_seed(name), on)
    assert local.drawn.height > 0
    # A drill whose rows stay on Spark brings none of the drawn rows to the driver.
    assert (on_spark.drawn is None) == (name in COUNTED)
    assert _files(on_spark) == _files(local)


def test_a_draw_of_one_round_keeps_the_rows_on_spark(spark, seed_dirs, monkeypatch):
    # Shuozhou's t19 draws twice a year: this draw takes its second round only. The directory is never
    # typed on the driver (the only way its rows reach it).
    policy, on = SEEDS["shuozhou-2021"]
    loaded = load_policy(policy)
    path = seed_dirs / "shuozhou-2021" / "entities.csv"
    history = history_frame([], on.year)
    select = {"t19": (2,), "t01": (1,)}
    local = draw.compute(loaded, load_for(loaded.policy, path), history, drill_seed("one"), on, select=select)
    monkeypatch.setattr(spark_directory, "_typed", None)
    # Spark would merge a small draw's sorted output into one part file; kept apart, the files are the
    # executors' parts copied in name order, and must still be in the local engine's order.
    spark.conf.set("spark.sql.adaptive.coalescePartitions.enabled", "false")
    try:
        entities = spark_engine.load(spark, loaded, path)
        on_spark = spark_engine.counted_draw(spark, loaded, entities, history, drill_seed("one"), on, select=select)
        parts = {name: len(list((Path(entities.checked.staging.name) / name).glob("part-*"))) for name in ("draws", "eligible")}
    finally:
        spark.conf.unset("spark.sql.adaptive.coalescePartitions.enabled")
    assert set(local.drawn["task_id"]) == {"t19", "t01"} and set(local.drawn["round"]) == {1, 2}
    assert min(parts.values()) > 1
    assert _files(on_spark) == _files(local)


def test_caps_from_the_ledgers_history_exclude_the_same_pairs(spark, seed_dirs):
    # Longwan caps low-risk entities at two checks a year: entities already checked twice leave its pools.
    policy, on = SEEDS["longwan-2023"]
    loaded = load_policy(policy)
    entities = load_for(loaded.policy, seed_dirs / "longwan-2023" / "entities.csv")
    first = draw.compute(loaded, entities, history_frame([], on.year), drill_seed("before"), on)
    rows = [
        {"uscc": u, "year": on.year, "visit_id": f"v{k}|{u}", "task_id": t, "item_codes": []}
        for u, t in first.drawn.select("uscc", "task_id").iter_rows() for k in (1, 2)
    ]
    history = history_frame(rows, on.year)
    local = draw.compute(loaded, entities, history, drill_seed("after"), on)
    on_spark = draw.compute(loaded, entities, history, drill_seed("after"), on, ranking=spark_engine.ranking_on(spark))
    assert local.exclusions.height > 0
    assert _files(on_spark) == _files(local)


def test_a_spark_reveal_verifies_recomputes_and_records_the_local_history(spark, seed_dirs, tmp_path):
    name = "shuozhou-2021"
    policy, on = SEEDS[name]
    entities = seed_dirs / name / "entities.csv"

    def reveal(engine: str, out: Path, ledger: Path):
        c = pipeline.commit(policy, entities, ledger_path=ledger, beacon="b", drawn_on=on, reveal_as="numbers:1", actor="王科长")
        return pipeline.draw(policy, entities, out, ledger_path=ledger, reveal="7", commitment_id=c.id, actor="王科长", engine=engine)

    staging = tmp_path / "staging"
    staging.mkdir()
    spark.conf.set("spark.spotcheck.staging", str(staging))
    try:
        result = reveal("spark", tmp_path / "d", tmp_path / "l.db")
    finally:
        spark.conf.unset("spark.spotcheck.staging")
    # The rows staged for the draw are gone once its folder is written, not when the result is collected.
    assert result.summary.tasks and not list(staging.iterdir())
    reveal("local", tmp_path / "local", tmp_path / "local.db")
    with Ledger.open(tmp_path / "l.db") as on_spark, Ledger.open(tmp_path / "local.db") as local:
        assert on_spark.history() == local.history() and local.history()
    out = tmp_path / "d"
    assert (out / "draws.csv").read_bytes() == (tmp_path / "local" / "draws.csv").read_bytes()
    report = pipeline.verify(out, entities)
    assert report.ok, [p.format() for p in report.problems]
    with (out / "draws.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    expected = sorted(",".join((r["task_id"], r["round"], r["stratum"], r["uscc"])) for r in rows if r["task_id"] == "t01")
    script = ROOT / "docs/recompute_draw.py"
    run = subprocess.run([sys.executable, str(script), str(out), "t01"], capture_output=True, text=True, check=True)
    assert sorted(run.stdout.splitlines()) == expected and expected


def test_bad_rows_are_reported_with_the_same_row_numbers(spark, seed_dirs, tmp_path):
    name = "shuozhou-2021"
    policy, on = SEEDS[name]
    lines = (seed_dirs / name / "entities.csv").read_text("utf-8").splitlines(keepends=True)
    lines[4] = "X" + lines[4][1:]  # a USCC that is not one
    lines[9] = lines[2]  # a duplicate of the entity on row 3
    bad = tmp_path / "entities.csv"
    bad.write_text("".join(lines), "utf-8")

    def problems(engine: str, out: str) -> list[tuple]:
        with pytest.raises(SpotcheckError) as err:
            pipeline.draw(policy, bad, tmp_path / out, ledger_path=tmp_path / f"{out}.db", seed="b", drawn_on=on, engine=engine)
        return [(p.code, p.row, p.column, p.message) for p in err.value.problems]

    local = problems("local", "a")
    assert {(code, row) for code, row, _, _ in local} >= {("D207", 5), ("D208", 10)}
    assert problems("spark", "b") == local
    assert not (tmp_path / "b").exists()

    # Kinds and tiers the policy does not know are found by Spark, per distinct (kind, code, tier).
    lines = (seed_dirs / name / "entities.csv").read_text("utf-8").splitlines(keepends=True)
    kind_at = next(k for k in range(1, len(lines)) if ",企业," in lines[k])
    lines[kind_at] = lines[kind_at].replace(",企业,", ",测试类别,", 1)
    tier_at = next(k for k in range(kind_at + 1, len(lines)) if ",个体工商户," in lines[k] and ",A," in lines[k])
    lines[tier_at] = lines[tier_at].replace(",A,", ",Z,", 1)
    bad.write_text("".join(lines), "utf-8")
    local = problems("local", "c")
    assert {(code, row) for code, row, _, _ in local} == {("D215", kind_at + 1), ("D217", tier_at + 1)}
    assert problems("spark", "d") == local


def test_the_command_draws_on_spark(spark, seed_dirs, tmp_path):
    name = "qingdao-2020"
    policy, on = SEEDS[name]
    entities = seed_dirs / name / "entities.csv"
    args = ["draw", str(policy), "--entities", str(entities), "--seed", "c", "--date", on.isoformat()]
    local = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "a"), "--ledger", str(tmp_path / "a.db")])
    run = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "b"), "--ledger", str(tmp_path / "b.db"),
                                    "--engine", "spark", "--spark-master", "local[2]"])
    assert local.exit_code == 0 and run.exit_code == 0, run.output
    for path in (tmp_path / "a").iterdir():
        assert (tmp_path / "b" / path.name).read_bytes() == path.read_bytes(), path.name
    refused = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "c"), "--spark-master", "local[2]"])
    assert refused.exit_code != 0 and "--engine spark" in refused.output


def test_a_spark_draw_without_pyspark_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(SpotcheckError) as err:
        spark_engine.session()
    assert err.value.problems[0].code == "R570" and "spotcheck[spark]" in (err.value.problems[0].hint or "")


def test_spark_that_cannot_start_is_one_located_problem(seed_dirs, tmp_path):
    # A fresh process whose JAVA_HOME names no Java: pyspark cannot launch its JVM.
    name = "qingdao-2020"
    policy, on = SEEDS[name]
    env = {**os.environ, "JAVA_HOME": str(tmp_path / "no-java")}
    run = subprocess.run(
        [sys.executable, "-m", "spotcheck.cli", "draw", str(policy), "--entities", str(seed_dirs / name / "entities.csv"),
         "--seed", "j", "--date", on.isoformat(), "--out", str(tmp_path / "d"), "--ledger", str(tmp_path / "l.db"),
         "--engine", "spark"],
        capture_output=True, text=True, env=env,
    )
    assert run.returncode == 1 and "R571" in run.stderr + run.stdout
    assert not (tmp_path / "d").exists()


def test_a_staging_directory_that_is_not_there_is_one_problem(spark, seed_dirs, tmp_path):
    spark.conf.set("spark.spotcheck.staging", str(tmp_path / "absent"))
    try:
        with pytest.raises(SpotcheckError) as err:
            spark_directory.check_on_spark(spark, seed_dirs / "qingdao-2020" / "entities.csv", ENTITY_SHEET)
    finally:
        spark.conf.unset("spark.spotcheck.staging")
    assert [p.code for p in err.value.problems] == ["R572"] and "absent" in err.value.problems[0].message


def test_a_cut_that_keeps_too_few_ranks_those_strata_again_whole(spark, seed_dirs, monkeypatch):
    # Spark sorts only the rows below each stratum's cut; a cut that keeps fewer than the quota (here
    # forced for every other stratum) must not change the draw: those strata are ranked again whole.
    from spotcheck.draw.spark import ranking as spark_ranking

    policy, on = SEEDS["qingdao-2020"]
    loaded = load_policy(policy)
    path = seed_dirs / "qingdao-2020" / "entities.csv"
    history = history_frame([], on.year)
    local = draw.compute(loaded, load_for(loaded.policy, path), history, drill_seed("cut"), on)
    calls, right = [], spark_ranking.cut_for

    def too_low(n: int, eligible: int) -> int:
        calls.append(n)
        return 1 if len(calls) % 2 else right(n, eligible)

    monkeypatch.setattr(spark_ranking, "cut_for", too_low)
    on_spark = _spark_draw(spark, loaded, path, history, drill_seed("cut"), on)
    assert len(calls) > 2
    assert _files(on_spark) == _files(local)


def test_split_batches_stay_on_spark_and_leave_out_what_earlier_batches_drew(spark, seed_dirs, tmp_path):
    # Shuozhou with t19 (5%, twice a year) split into two batches drawn together, some of its entities
    # drawn by an earlier batch (the history): they leave its pool, and the ranks are handed out by batch.
    shutil.copytree(POLICIES, tmp_path / "policies")
    policy = tmp_path / "policies/shanxi/shuozhou/2021.yaml"
    edit(policy, 'sampling: {ratio: "5%", at_least: true, times_per_year: 2}\n    draw_months: [4, 11]\n',
         'sampling: {ratio: "50%", at_least: true}\n    draw_months: [4, 11]\n    batch_mode: split\n    batches:\n'
         '      - {name: 第一批, month: 4, due: "2021-06-30"}\n      - {name: 第二批, month: 8, due: "2021-10-31"}\n')
    on = SEEDS["shuozhou-2021"][1]
    loaded = load_policy(policy)
    path = seed_dirs / "shuozhou-2021" / "entities.csv"
    entities = load_for(loaded.policy, path)
    first = draw.compute(loaded, entities, history_frame([], on.year), drill_seed("first"), on)
    earlier = first.drawn.filter(pl.col("task_id") == "t19").head(5)
    history = history_frame([{"uscc": u, "year": on.year, "task_id": "t19", "visit_id": f"v|{u}", "item_codes": []}
                             for u in earlier["uscc"]], on.year)
    local = draw.compute(loaded, entities, history, drill_seed("split"), on)
    assert counted(loaded) and earlier.height == 5
    assert set(local.drawn.filter(pl.col("task_id") == "t19")["round"]) == {1, 2}
    assert not set(earlier["uscc"]) & set(local.drawn.filter(pl.col("task_id") == "t19")["uscc"])
    assert _files(_spark_draw(spark, loaded, path, history, drill_seed("split"), on)) == _files(local)
