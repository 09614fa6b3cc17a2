"""Benchmark: `spotcheck draw` of seed 002's 21-task plan against a hand-written pandas baseline.

    python bench/draw.py --entities 1000000 [--entities 10000000]

For each size it synthesises a Shuozhou-shaped directory once (bench/data/, reused), then times in
child processes, one after the other on the same machine:
- spotcheck: the whole draw as the CLI runs it (load and check the policy and the directory, scope
  through the rules engine by class, caps, exact quotas, keyed-hash ranking, write the folder and the
  ledger);
- baseline: pandas reads the same CSV, filters each task's scope with vectorised masks, groups by
  tier and samples ceil(ratio × N) per tier with DataFrame.sample (no checks, no ledger, no files).
Prints wall time and peak RSS of each and their ratio.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
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


def _run_spotcheck(entities: str, out: str, q) -> None:
    import datetime as dt

    from spotcheck.draw import pipeline

    t = time.perf_counter()
    result = pipeline.draw(Path(POLICY), Path(entities), Path(out), ledger_path=Path(out + ".db"), seed="bench", drawn_on=dt.date(2021, 4, 1))
    q.put((time.perf_counter() - t, _peak_mib(), result.drawn.height))


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
    t = time.perf_counter()
    df = pd.read_csv(entities, dtype=str).rename(columns=rename)
    drawn = 0
    for task in loaded.policy.tasks:
        scope = df[_mask(df, task.scope.model_dump(mode="json", by_alias=True, exclude_none=True))]
        for tier, group in scope.groupby("tier"):
            r = task_ratio(task, loaded.policy, tier) or Fraction(0)
            for rnd in range(task.sampling.times_per_year or 1):
                n = min(len(group), max(1, math.ceil(r * len(group))))
                drawn += len(group.sample(n=n, random_state=rnd))
    q.put((time.perf_counter() - t, _peak_mib(), drawn))


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


def _synthesize(n: int, folder: str, q) -> None:
    from spotcheck.draw import pipeline

    # The dense mix, as the README's draw table was measured on.
    pipeline.synthesize(POLICY, n, max(200, n // 2000), "bench", Path(folder), dense=True)
    q.put(None)


def _directory(n: int) -> Path:
    path = DATA / f"shuozhou-{n}" / "entities.csv"
    if not path.exists():
        t = time.perf_counter()
        # In a child of its own: Linux children inherit the parent's peak RSS as their own starting
        # ru_maxrss, so a synthesis in this process would show up as the draw's peak.
        _child(_synthesize, n, str(path.parent))
        print(f"  synthesised {n:,} entities in {time.perf_counter() - t:.1f} s ({path})", flush=True)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entities", type=int, action="append", help="directory sizes (repeatable); default 100000 and 1000000")
    ap.add_argument("--no-baseline", action="store_true", help="time spotcheck only (the pandas baseline holds every cell as a Python string)")
    args = ap.parse_args()
    sizes = args.entities or [100_000, 1_000_000]
    rows = []
    for n in sizes:
        entities = _directory(n)
        tmp = Path(tempfile.mkdtemp(prefix="spotcheck-bench-"))
        try:
            spot = _child(_run_spotcheck, str(entities), str(tmp / "draw"))
            base = None if args.no_baseline else _child(_run_baseline, str(entities))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if spot is None:
            sys.exit("spotcheck draw failed")
        rows.append((n, spot, base))
        print(f"  {n:,}: spotcheck {spot[0]:.1f} s / {spot[1]:,.0f} MiB, baseline " +
              (f"{base[0]:.1f} s / {base[1]:,.0f} MiB" if base else "not run"), flush=True)
    print()
    print("| entities | spotcheck draw | peak RSS | pandas baseline | peak RSS | time ratio | drawn (spotcheck / baseline) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n, (st, sm, sd), base in rows:
        if base is None:
            print(f"| {n:,} | {st:.1f} s | {sm:,.0f} MiB | — | — | — | {sd:,} / — |")
            continue
        bt, bm, bd = base
        print(f"| {n:,} | {st:.1f} s | {sm:,.0f} MiB | {bt:.1f} s | {bm:,.0f} MiB | {st / bt:.2f}× | {sd:,} / {bd:,} |")


if __name__ == "__main__":
    main()
