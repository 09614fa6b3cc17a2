"""The directory read and checked on Spark (local mode) is the loader's: the same typed frame, row
numbers, headers and sha256, and for a bad file the same problems, by row and column, in the same order.

One SparkSession serves the whole test session (conftest's `spark`); the tests skip only where Java or pyspark is absent,
and CI installs both (.ci/apt-packages.txt, the `test` extra).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import polars as pl
import pytest
from conftest import SHUOZHOU
from spotcheck.directory.kinds import load_for
from spotcheck.draw import pipeline
from spotcheck.draw import spark as spark_engine
from spotcheck.errors import SpotcheckError
from spotcheck.policy.loader import load_policy
from spotcheck.resources import POLICIES

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install -e '.[test]' installs it)")
if shutil.which("java") is None:
    pytest.skip("Java is not installed (.ci/apt-packages.txt installs it)", allow_module_level=True)

WUWEI = POLICIES / "anhui/wuwei/2023.yaml"  # objects numbered under their holders (库点编号)


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """Shuozhou's and Wuwei's synthetic directories, and files made from Shuozhou's."""
    root = tmp_path_factory.mktemp("spark-directory")
    for name, policy in (("shuozhou", SHUOZHOU), ("wuwei", WUWEI)):
        pipeline.synthesize(policy, 600, 20, "dir", root / name)
    lines = (root / "shuozhou" / "entities.csv").read_text("utf-8").splitlines()
    _write(root / "title.csv", ["朔州市 检查对象名录导出,,", "", *lines[:80]])
    (root / "gbk.csv").write_bytes(("\n".join(lines[:80]) + "\n").encode("gb18030"))
    pl.read_csv(root / "shuozhou" / "entities.csv", infer_schema_length=0).write_parquet(root / "entities.parquet")
    return root


def _write(path, lines, bom=False):
    path.write_bytes((("\ufeff" if bom else "") + "\n".join(lines) + "\n").encode("utf-8"))


def _cell(line: str, k: int, value: str) -> str:
    cells = line.split(",")
    cells[k] = value
    return ",".join(cells)


def _outcome(path, read=None, policy=SHUOZHOU):
    loaded = load_policy(policy)
    try:
        return load_for(loaded.policy, path, read) if read else load_for(loaded.policy, path)
    except SpotcheckError as err:
        return [(p.code, p.row, p.column, p.message, p.hint) for p in err.problems]


@pytest.mark.parametrize("name", ["shuozhou/entities.csv", "wuwei/entities.csv", "title.csv", "gbk.csv", "entities.parquet"])
def test_a_directory_read_on_spark_is_the_loaders(name, spark, made):
    policy = WUWEI if name.startswith("wuwei") else SHUOZHOU
    local, on_spark = _outcome(made / name, policy=policy), _outcome(made / name, spark_engine.reader(spark), policy)
    assert not isinstance(local, list), local
    assert not isinstance(on_spark, list), on_spark
    assert on_spark.frame.equals(local.frame) and on_spark.frame.schema == local.frame.schema
    assert on_spark.source_rows.equals(local.source_rows)
    assert (on_spark.sha256, on_spark.headers, on_spark.path) == (local.sha256, local.headers, local.path)


def test_a_directory_at_a_spark_address_is_hashed_and_read_there(spark, made):
    # A file: address goes the way an hdfs:// or s3a:// one does: its bytes are hashed and its head read by Spark's JVM.
    path = made / "shuozhou" / "entities.csv"
    local = _outcome(path)
    on_spark = _outcome(f"file://{path}", spark_engine.reader(spark))
    assert on_spark.frame.equals(local.frame) and on_spark.sha256 == local.sha256
    assert on_spark.path.name == "entities.csv"


def test_bad_rows_give_the_loaders_problems_in_its_order(spark, made, tmp_path):
    lines = (made / "shuozhou" / "entities.csv").read_text("utf-8").splitlines()[:300]
    lines[4] = "O" + lines[4][1:]  # a code with a letter it may not hold
    lines[9] = lines[2]  # a repeat of row 3
    lines[13] = _cell(lines[13], 12, "2023-02-30")  # no such day
    lines[14] = _cell(lines[14], 1, "名\x07称")  # a control character
    lines[15] = _cell(lines[15], 1, "")  # a required cell left empty
    lines[16] = ",".join(lines[16].split(",")[:5])  # too few cells
    lines[17] += ",多余,更多"  # too many
    lines[18], lines[19] = "", ",,,,"  # blank rows are not entities
    code = lines[20].split(",")[0]
    lines[20] = _cell(lines[20], 0, code[:17] + ("1" if code[17] == "0" else "0"))  # a wrong check character
    for k in range(30, 170):  # more wrong dates than are listed one by one
        lines[k] = _cell(lines[k], 14, "去年")
    bad = tmp_path / "bad.csv"
    _write(bad, lines, bom=True)
    local = _outcome(bad)
    assert {p[0] for p in local} >= {"D205", "D206", "D208", "D210", "D220", "D221"}
    assert any("另有" in p[3] for p in local)
    assert _outcome(bad, spark_engine.reader(spark)) == local


@pytest.mark.parametrize("change", ["no rows", "no code column", "bad parquet"])
def test_a_file_refused_whole_gives_the_loaders_problems(change, spark, made, tmp_path):
    lines = (made / "shuozhou" / "entities.csv").read_text("utf-8").splitlines()
    if change == "bad parquet":
        path = tmp_path / "e.parquet"
        frame = pl.read_csv(made / "shuozhou" / "entities.csv", infer_schema_length=0).head(50)
        frame.with_columns(pl.when(pl.int_range(pl.len()) == 7).then(pl.lit("ZZ")).otherwise(pl.first()).alias(frame.columns[0])).write_parquet(path)
    else:
        path = tmp_path / "e.csv"
        _write(path, lines[:1] if change == "no rows" else [",".join(line.split(",")[1:]) for line in lines[:30]])
    local = _outcome(path)
    assert isinstance(local, list) and local
    assert _outcome(path, spark_engine.reader(spark)) == local


@pytest.mark.parametrize("at", [7, 45])
def test_a_line_break_inside_a_cell_is_refused_at_its_row(at, spark, made, tmp_path):
    # The loader reads it (record by record); Spark numbers lines, so it names the row and the ways out.
    lines = (made / "shuozhou" / "entities.csv").read_text("utf-8").splitlines()[:60]
    lines[at - 1] = _cell(lines[at - 1], 11, '"朔州市\n和平路"')
    path = tmp_path / "e.csv"
    _write(path, lines)
    assert not isinstance(_outcome(path), list)
    refused = _outcome(path, spark_engine.reader(spark))
    assert [(code, row) for code, row, *_ in refused] == [("D250", at)]
    assert "Parquet" in refused[0][4] and "--engine spark" in refused[0][4]


def test_a_spark_draw_prints_no_english_log_lines(made, tmp_path):
    # A fresh process, as an officer runs it: Java's and Spark's start-up lines must not reach the screen.
    env = {k: v for k, v in os.environ.items() if k != spark_engine.LOG_ENV}
    run = subprocess.run(
        [sys.executable, "-m", "spotcheck.cli", "draw", str(SHUOZHOU), "--entities", str(made / "shuozhou" / "entities.csv"),
         "--seed", "q", "--date", "2021-04-01", "--out", str(tmp_path / "d"), "--ledger", str(tmp_path / "l.db"),
         "--engine", "spark", "--spark-master", "local[2]"],
        capture_output=True, text=True, env=env,
    )
    assert run.returncode == 0, run.stderr
    for english in ("WARN", "log4j", "Using incubator", "FutureWarning", "Setting default log level"):
        assert english not in run.stderr + run.stdout


def test_rows_spark_wrote_out_of_order_are_put_in_order():
    from spotcheck.draw.spark.directory import _in_row_order

    frame = pl.DataFrame({"_row": [4, 2, 3], "name": ["丁", "乙", "丙"], "labels": [["a"], [], ["b", "c"]]})
    assert _in_row_order(frame.clone()).equals(frame.sort("_row"))
    assert _in_row_order(frame.sort("_row")).equals(frame.sort("_row"))
