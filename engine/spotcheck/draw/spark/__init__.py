"""The draw on Apache Spark (`spotcheck draw --engine spark`): the directory read and checked by Spark
(spotcheck.draw.spark.directory) and the ranking computed by Spark (spotcheck.draw.spark.ranking),
with the same problems and the same draw folder, byte for byte, as the local engine.

pyspark is an optional dependency (`pip install 'spotcheck[spark]'`, Java 17 on the machine); it is
imported only when a Spark draw is asked for.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from spotcheck.draw.spark.counted import CountedDirectory, counted_draw, load, released
from spotcheck.draw.spark.directory import reader
from spotcheck.draw.spark.ranking import ranking_on
from spotcheck.errors import Problem, SpotcheckError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

ENGINES = ("local", "spark")

_LOG4J = Path(__file__).with_name("log4j2.properties")
# Where the Spark JVM's own output goes when it is started here (local mode): officers read Chinese,
# and Java's and Spark's start-up lines are English. A developer names a file to keep them.
LOG_ENV = "SPOTCHECK_SPARK_LOG"


@contextmanager
def _jvm_output_aside() -> Iterator[None]:
    """The JVM pyspark starts inherits this process's stderr: it is handed a file instead while it starts.

    Java prints "Using incubator modules" before any logging is set up, so no log level can quiet it."""
    target = os.environ.get(LOG_ENV) or os.devnull
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(target, "ab") as aside:
            os.dup2(aside.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def session(master: str | None = None) -> SparkSession:
    """The Spark session a draw runs on: the one already running (a test's), else a new one on `master`,
    or on the master spark-submit was given, or local[*]."""
    try:
        with warnings.catch_warnings():
            # pyspark warns in English that it has not been tried with pandas 3; the draw does not use pandas.
            warnings.simplefilter("ignore", FutureWarning)
            from pyspark.sql import SparkSession
    except ImportError:
        raise SpotcheckError(Problem(
            "R570", "用 Spark 抽取须先安装 pyspark", hint="pip install 'spotcheck[spark]'；或去掉 --engine spark 在本机抽取")) from None
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    builder = (
        SparkSession.builder.appName("spotcheck-draw")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={_LOG4J.as_uri()}")
        # The workers run the directory's checks in this Python, with spotcheck importable (local mode).
        .config("spark.pyspark.python", sys.executable)
    )
    if master:
        builder = builder.master(master)
    # pyspark starts its Python workers from PYSPARK_PYTHON or whatever `python3` is on PATH, not from
    # spark.pyspark.python: a spotcheck run from a virtualenv that is not activated would start
    # workers that cannot import it.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    try:
        with _jvm_output_aside():
            spark = builder.getOrCreate()
    except Exception as exc:  # pyspark raises its own errors for a missing Java or an unreachable master
        raise SpotcheckError(Problem(
            "R571", f"无法启动 Spark（{master or 'local[*]'}）：{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
            hint="确认已安装 Java 17（JAVA_HOME 或 PATH 中有 java），--spark-master 地址可以连通")) from None
    spark.sparkContext.setLogLevel("ERROR")
    conf = spark.sparkContext.getConf()
    if not conf.contains("spark.sql.shuffle.partitions"):
        # Spark's default of 200 shuffle partitions costs seconds per task on a small pool; a few per
        # core keeps every core busy on a large one. A cluster's own setting is left alone.
        spark.conf.set("spark.sql.shuffle.partitions", str(4 * spark.sparkContext.defaultParallelism))
    if not conf.contains("spark.sql.execution.arrow.maxRecordsPerBatch"):
        # The directory's checks run once per Arrow batch: larger batches spend less on each call.
        spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "100000")
    return spark


__all__ = ["ENGINES", "LOG_ENV", "CountedDirectory", "counted_draw", "load", "ranking_on", "reader", "released", "session"]
