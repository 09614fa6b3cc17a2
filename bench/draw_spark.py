"""Benchmark: the draw on this machine (polars) against the draw on Spark in local mode.

    python bench/draw_spark.py --entities 1000000 [--entities 10000000] [--master 'local[2]'] [--driver-memory 4g] [--read-only]

Uses bench/draw.py's Shuozhou-shaped directories (bench/data/, made once) and runs each draw as the
CLI does (pipeline.draw: load and check, scope, caps, quotas, ranking, files and ledger) in its own
child process, one after the other. For each it prints the wall time, the shares of it Spark takes
over (reading and checking the directory, scope and pools, the ranking), its CPU time (user + system of
the process and every descendant: Spark's JVM and its Python workers), and the driver's peak memory: the Python
process's peak RSS, and for Spark also its descendants' (in local mode the JVM is the driver and the
executors at once, and the Python workers that check the directory's cells are its children). The
outputs of the two draws are compared byte for byte. `--read-only` times only the directory's
reading and checking (load_for), as the draw does it.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from draw import POLICY, _child, _directory  # noqa: E402  (bench/draw.py: the directories and the child runner)


def _peak_mib(pid: int | str) -> float:
    """A process's peak RSS (VmHWM): unlike ru_maxrss it does not start from the parent's size at fork."""
    status = Path(f"/proc/{pid}/status")
    hwm = next((line for line in status.read_text().splitlines() if line.startswith("VmHWM:")), None) if status.exists() else None
    return int(hwm.split()[1]) / 1024 if hwm else 0.0


def _descendants() -> list[str]:
    """This process's descendants still alive: the Spark driver's JVM and the Python workers it started."""
    found, stack = [], [str(os.getpid())]
    while stack:
        pid = stack.pop()
        for task in Path(f"/proc/{pid}/task").glob("*/children"):
            for child in task.read_text().split():
                stack.append(child)
                found.append(child)
    return found


def _descendants_peak_mib() -> float:
    """Peak RSS summed over this process's descendants still alive."""
    return sum(_peak_mib(pid) for pid in _descendants())


def _cpu_s() -> float:
    """CPU time (user + system) of this process, its reaped children, and every live descendant with the
    children it reaped (a JVM's Python workers come and go): far less disturbed by others' load than wall time."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = own.ru_utime + own.ru_stime + reaped.ru_utime + reaped.ru_stime
    tick = os.sysconf("SC_CLK_TCK")
    for pid in _descendants():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15]) / tick  # utime, stime, cutime, cstime
    return total


def _run(engine: str, master: str | None, entities: str, out: str, q) -> None:
    import datetime as dt

    from spotcheck.draw import pipeline

    marks: dict[str, float] = {}

    def progress(step: str, done=None, total=None) -> None:
        marks.setdefault(step, time.perf_counter())

    t = time.perf_counter()
    result = pipeline.draw(Path(POLICY), Path(entities), Path(out), ledger_path=Path(out + ".db"), seed="bench",
                           drawn_on=dt.date(2021, 4, 1), progress=progress, engine=engine, spark_master=master)
    wall = time.perf_counter() - t
    ranking = marks["生成抽取记录"] - marks["按随机数排序抽取"]
    read = marks["按规则匹配抽查范围"] - marks["读取并校验检查对象名录"]
    pools = marks["按随机数排序抽取"] - marks["按规则匹配抽查范围"]
    start = marks["读取并校验检查对象名录"] - marks["启动 Spark"] if "启动 Spark" in marks else 0.0
    q.put((wall, _cpu_s(), start, read, pools, ranking, _peak_mib("self"), _descendants_peak_mib(), sum(t.drawn for t in result.summary.tasks)))


def _read(engine: str, master: str | None, entities: str, out: str, q) -> None:
    """Only the directory's reading and checking, as the draw does it (--read-only)."""
    from spotcheck.directory.kinds import load_for
    from spotcheck.draw import spark
    from spotcheck.policy.loader import load_policy

    loaded = load_policy(Path(POLICY))
    t = time.perf_counter()
    session = spark.session(master) if engine == "spark" else None
    started = time.perf_counter()
    directory = load_for(loaded.policy, entities) if session is None else load_for(loaded.policy, entities, spark.reader(session))
    read = time.perf_counter() - started
    q.put((time.perf_counter() - t, _cpu_s(), started - t, read, 0.0, 0.0, _peak_mib("self"), _descendants_peak_mib(), len(directory)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entities", type=int, action="append", help="directory sizes (repeatable); default 1000000")
    ap.add_argument("--master", default="local[2]", help="the Spark master (default local[2])")
    ap.add_argument("--driver-memory", help="the Spark driver JVM's heap, e.g. 4g (Spark's default is 1g)")
    ap.add_argument("--read-only", action="store_true", help="time only the directory's reading and checking")
    args = ap.parse_args()
    if args.driver_memory:
        # The JVM starts with the first session, in the child: its heap is fixed by the submit arguments.
        os.environ["PYSPARK_SUBMIT_ARGS"] = f"--driver-memory {args.driver_memory} pyspark-shell"
    job = _read if args.read_only else _run
    rows = []
    for n in args.entities or [1_000_000]:
        entities = _directory(n, "dense")
        tmp = Path(tempfile.mkdtemp(prefix="spotcheck-bench-spark-"))
        try:
            local = _child(job, "local", None, str(entities), str(tmp / "local"))
            on_spark = _child(job, "spark", args.master, str(entities), str(tmp / "spark"))
            if local is None or on_spark is None:
                sys.exit("a draw failed")
            if args.read_only:
                same = "same rows" if local[-1] == on_spark[-1] else "DIFFER"
            else:
                names = sorted(p.name for p in (tmp / "local").iterdir())
                _, differ, missing = filecmp.cmpfiles(tmp / "local", tmp / "spark", names, shallow=False)
                same = "same bytes" if not differ and not missing else f"DIFFER: {differ + missing}"
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
        rows.append((n, local, on_spark, same, load))
        print(f"  {n:,}: local {local[0]:.1f} s ({local[1]:.1f} s CPU), spark {on_spark[0]:.1f} s ({on_spark[1]:.1f} s CPU); {same}; "
              f"load {load}", flush=True)
    print()
    print(f"| entities | {'rows' if args.read_only else 'drawn'} | local (CPU) | of which reading | of which scope and pools "
          f"| of which ranking | peak RSS | Spark {args.master} (CPU) | of which start | of which reading "
          "| of which scope and pools | of which ranking | driver peak (Python + JVM and workers) | outputs | load 1/5/15 min |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for n, (lw, lc, _, lr, lo, lk, lp, _, drawn), (sw, sc, ss, sr, so, sk, sp, sj, _), same, load in rows:
        print(f"| {n:,} | {drawn:,} | {lw:.1f} s ({lc:.1f} s) | {lr:.1f} s | {lo:.1f} s | {lk:.1f} s | {lp:,.0f} MiB "
              f"| {sw:.1f} s ({sc:.1f} s) | {ss:.1f} s | {sr:.1f} s | {so:.1f} s | {sk:.1f} s | {sp:,.0f} + {sj:,.0f} MiB "
              f"| {same} | {load} |")


if __name__ == "__main__":
    main()
