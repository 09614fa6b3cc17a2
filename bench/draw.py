"""Benchmark: `spotcheck draw` of seed 002's 21-task plan against a hand-written pandas baseline and its floor.

    python bench/draw.py --entities 1000000 [--entities 10000000]
    python bench/draw.py --entities 1000000 --mix realistic --floor --stages --no-baseline
    python bench/draw.py --directory /path/to/entities.csv --floor --stages --no-baseline

For each size it synthesises a Shuozhou-shaped directory once (bench/data/, reused; `--mix dense`, the
default, or `realistic`), or takes the `--directory` given, then times in child processes, one after
the other on the same machine:
- spotcheck: the whole draw as the CLI runs it (load and check the policy and the directory, scope
  through the rules engine by class, caps, exact quotas, keyed-hash ranking, write the folder and the
  ledger); `--stages` adds the time of each step, from one progress message to the next;
- baseline: pandas reads the same CSV, filters each task's scope with vectorised masks, groups by
  tier and samples ceil(ratio × N) per tier with DataFrame.sample (no checks, no ledger, no files);
- floor (`--floor`): the work no draw can avoid, as bench/path.py has it: polars reads the same CSV and
  SHA-256 hashes one message per eligible (task, entity) pair the draw found. Both the draw and the
  floor use polars' thread pool (both cores here) the same way.
Prints wall time, CPU time (user + sys of the child's own work, every thread) and peak RSS of each,
their ratios, and the load average: on a shared machine CPU time is far less disturbed than wall time.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import queue
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies/shanxi/shuozhou/2021.yaml"
DATA = ROOT / "bench/data"


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _run_spotcheck(entities: str, out: str, q) -> None:
    import datetime as dt

    from spotcheck.draw import pipeline

    marks: list[tuple[str, float, float]] = []

    def progress(message: str, done: int | None = None, total: int | None = None) -> None:
        if not done:  # a step's first message starts it; its counted repeats do not
            marks.append((message, time.perf_counter(), _cpu()))

    t, cpu = time.perf_counter(), _cpu()
    result = pipeline.draw(Path(POLICY), Path(entities), Path(out), ledger_path=Path(out + ".db"), seed="bench",
                           drawn_on=dt.date(2021, 4, 1), progress=progress)
    marks.append(("", time.perf_counter(), _cpu()))
    steps = [(m, t1 - t0, c1 - c0) for (m, t0, c0), (_, t1, c1) in zip(marks, marks[1:])]
    pairs = sum(task.eligible for task in result.summary.tasks)
    q.put((time.perf_counter() - t, _cpu() - cpu, _peak_mib(), result.drawn.height, pairs, steps))


def _run_floor(entities: str, pairs: int, q) -> None:
    import polars as pl
    import polars_hash as plh

    t, cpu = time.perf_counter(), _cpu()
    frame = pl.read_csv(entities, infer_schema=False)
    codes = frame.get_column(frame.columns[0])
    hashed = 0
    for r in range(-(-pairs // max(codes.len(), 1))):
        take = min(codes.len(), pairs - hashed)
        msgs = codes.head(take).to_frame("uscc").lazy().select(plh.concat_str([pl.lit(f"bench|t{r}|1|"), pl.col("uscc")]).chash.sha2_256())
        hashed += msgs.collect(engine="streaming").height
    q.put((time.perf_counter() - t, _cpu() - cpu, _peak_mib(), hashed))


def _mask(df, cond):
    """A condition as a vectorised pandas mask: the hand-written translation a baseline would use."""
    import pandas as pd

    if "all" in cond:
        m = pd.Series(True, index=df.index)
        for c in cond["all"]:
            m &= _mask(df, c)
        return m
    if "any" in cond:
        m = pd.Series(False, index=df.index)
        for c in cond["any"]:
            m |= _mask(df, c)
        return m
    if "not" in cond:
        return ~_mask(df, cond["not"])
    f, op, v = cond["field"], cond["op"], cond["value"]
    col = df[f]
    if f == "labels":
        vals = [v] if isinstance(v, str) else v
        hits = [col.str.contains(x, regex=False, na=False) for x in vals]
        if op in ("contains", "any_of"):
            return pd.concat(hits, axis=1).any(axis=1)
        if op == "all_of":
            return pd.concat(hits, axis=1).all(axis=1)
    if op == "eq":
        return col == v
    if op == "ne":
        return col != v
    if op == "in":
        return col.isin(v)
    if op == "not_in":
        return ~col.isin(v)
    if op == "contains":
        return col.str.contains(v, regex=False, na=False)
    if op in ("gte", "lte", "gt", "lt"):
        s = col.fillna("")
        return {"gte": s >= v, "lte": s <= v, "gt": s > v, "lt": s < v}[op] & col.notna()
    raise ValueError(f"baseline does not translate op {op}")


def _run_baseline(entities: str, q) -> None:
    import math
    from fractions import Fraction

    import pandas as pd
    from spotcheck.policy.loader import load_policy
    from spotcheck.policy.model import task_ratio

    loaded = load_policy(POLICY)
    rename = {"统一社会信用代码": "uscc", "企业名称": "name", "主体类型": "type", "登记状态": "status", "所属辖区": "district",
              "信用风险等级": "tier", "监管标签": "labels", "成立日期": "established", "营业期限至": "expires"}
    t, cpu = time.perf_counter(), _cpu()
    df = pd.read_csv(entities, dtype=str).rename(columns=rename)
    drawn = 0
    for task in loaded.policy.tasks:
        scope = df[_mask(df, task.scope.model_dump(mode="json", by_alias=True, exclude_none=True))]
        for tier, group in scope.groupby("tier"):
            r = task_ratio(task, loaded.policy, tier) or Fraction(0)
            for rnd in range(task.sampling.times_per_year or 1):
                n = min(len(group), max(1, math.ceil(r * len(group))))
                drawn += len(group.sample(n=n, random_state=rnd))
    q.put((time.perf_counter() - t, _cpu() - cpu, _peak_mib(), drawn))


def _child(target, *args):
    """Run `target` in a fresh process; None when it dies (the pandas baseline can run out of memory)."""
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, q))
    p.start()
    while p.is_alive() or not q.empty():
        try:
            out = q.get(timeout=1)
        except queue.Empty:
            continue
        p.join()
        return out
    print(f"  {target.__name__} failed with exit code {p.exitcode}", flush=True)
    return None


def _synthesize(n: int, folder: str, dense: bool, q) -> None:
    from spotcheck.draw import pipeline

    pipeline.synthesize(POLICY, n, max(200, n // 2000), "bench", Path(folder), dense=dense)
    q.put(None)


def _directory(n: int, mix: str) -> Path:
    # The dense mix keeps its old folder name: the README's draw table was measured on it.
    path = DATA / (f"shuozhou-{n}" if mix == "dense" else f"shuozhou-{n}-{mix}") / "entities.csv"
    if not path.exists():
        t = time.perf_counter()
        # In a child of its own: Linux children inherit the parent's peak RSS as their own starting
        # ru_maxrss, so a synthesis in this process would show up as the draw's peak.
        _child(_synthesize, n, str(path.parent), mix == "dense")
        print(f"  synthesised {n:,} entities in {time.perf_counter() - t:.1f} s ({path})", flush=True)
    return path


def _line(what: str, got: tuple) -> str:
    return f"{what} {got[0]:.2f} s ({got[1]:.2f} s CPU) / {got[2]:,.0f} MiB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entities", type=int, action="append", help="directory sizes (repeatable); default 100000 and 1000000")
    ap.add_argument("--directory", type=Path, action="append", help="time this entity directory instead (repeatable)")
    ap.add_argument("--mix", choices=("dense", "realistic"), default="dense", help="label mix of the synthetic directories")
    ap.add_argument("--no-baseline", action="store_true", help="time spotcheck only (the pandas baseline holds every cell as a Python string)")
    ap.add_argument("--floor", action="store_true", help="also time the floor: read the CSV, hash one message per eligible pair")
    ap.add_argument("--stages", action="store_true", help="print the time of each step of the draw")
    args = ap.parse_args()
    inputs = [(f"{p}", p) for p in args.directory or []]
    if not inputs:
        inputs = [(f"{n:,} {args.mix}", _directory(n, args.mix)) for n in args.entities or [100_000, 1_000_000]]
    rows = []
    for name, entities in inputs:
        tmp = Path(tempfile.mkdtemp(prefix="spotcheck-bench-"))
        try:
            spot = _child(_run_spotcheck, str(entities), str(tmp / "draw"))
            if spot is None:
                sys.exit("spotcheck draw failed")
            load = os.getloadavg()[0]
            base = None if args.no_baseline else _child(_run_baseline, str(entities))
            floor = _child(_run_floor, str(entities), spot[4]) if args.floor else None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        rows.append((name, spot, base, floor, f"{load:.1f}–{os.getloadavg()[0]:.1f}"))
        print(f"  {name}: {_line('spotcheck', spot)}, {spot[4]:,} eligible pairs" +
              (f"; {_line('baseline', base)}" if base else "") + (f"; {_line('floor', floor)}" if floor else ""), flush=True)
        if args.stages:
            for message, wall, cpu in spot[5]:
                print(f"    {message:<24} {wall:6.2f} s {cpu:6.2f} s CPU", flush=True)
    print()
    print("| entities | spotcheck draw (CPU) | peak RSS | pandas baseline (CPU) | time ratio | floor (CPU) | draw / floor, wall (CPU) | drawn (spotcheck / baseline) | load average |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, (st, sc, sm, sd, _, _), base, floor, load in rows:
        based = f"{base[0]:.1f} s ({base[1]:.1f} s) | {st / base[0]:.2f}×" if base else "— | —"
        floored = f"{floor[0]:.1f} s ({floor[1]:.1f} s) | {st / floor[0]:.2f}× ({sc / floor[1]:.2f}×)" if floor else "— | —"
        base_drawn = f"{base[3]:,}" if base else "—"
        print(f"| {name} | {st:.1f} s ({sc:.1f} s) | {sm:,.0f} MiB | {based} | {floored} | {sd:,} / {base_drawn} | {load} |")


if __name__ == "__main__":
    main()
