"""Benchmark: drawing one task of seed 002 costs little more than loading the directory.

    python bench/draw_one_task.py --entities 1000000 [--entities 10000000] [--task t19 --round 1]

For each size it synthesises (once, bench/data/, shared with bench/draw.py) a Shuozhou-shaped
directory, then times in child processes, one after the other:
- load: reading and checking the directory (spotcheck.directory.load.load_entities), nothing else;
- draw: `spotcheck draw --task T --round N` as a drill (load and check the policy and the directory,
  scope, caps, quotas, ranking, the folder and the ledger), drawing only that task's round.
Prints wall time and peak RSS of each and the ratio draw / load.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from draw import (  # bench/draw.py: the shared helpers
    POLICY,
    _child,
    _directory,
    _peak_mib,
)


def _run_load(entities: str, q) -> None:
    from spotcheck.directory.load import load_entities

    t = time.perf_counter()
    directory = load_entities(Path(entities))
    q.put((time.perf_counter() - t, _peak_mib(), len(directory)))


def _run_draw(entities: str, out: str, task: str, rnd: int, q) -> None:
    import datetime as dt

    from spotcheck.draw import pipeline
    from spotcheck.year.rounds import Request

    t = time.perf_counter()
    result = pipeline.draw(Path(POLICY), Path(entities), Path(out), ledger_path=Path(out + ".db"), seed="bench",
                           drawn_on=dt.date(2021, 12, 1), request=Request(task=task, round=rnd))
    q.put((time.perf_counter() - t, _peak_mib(), result.drawn.height))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entities", type=int, action="append", help="directory sizes (repeatable); default 1000000")
    ap.add_argument("--task", default="t19", help="the task to draw (default t19, 对高风险企业的双随机抽查)")
    ap.add_argument("--round", dest="rnd", type=int, default=1, help="its round (default 1)")
    args = ap.parse_args()
    rows = []
    for n in args.entities or [1_000_000]:
        entities = _directory(n)
        with tempfile.TemporaryDirectory(prefix="spotcheck-bench-") as tmp:
            load = _child(_run_load, str(entities))
            drawn = _child(_run_draw, str(entities), str(Path(tmp) / "draw"), args.task, args.rnd)
        if load is None or drawn is None:
            sys.exit("a child process failed")
        rows.append((n, load, drawn))
        print(f"  {n:,}: load {load[0]:.1f} s / {load[1]:,.0f} MiB, draw {args.task} round {args.rnd} "
              f"{drawn[0]:.1f} s / {drawn[1]:,.0f} MiB", flush=True)
    print()
    print(f"| entities | load directory | peak RSS | draw {args.task} round {args.rnd} | peak RSS | ratio draw / load | drawn |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n, (lt, lm, _), (dt_, dm, dn) in rows:
        print(f"| {n:,} | {lt:.1f} s | {lm:,.0f} MiB | {dt_:.1f} s | {dm:,.0f} MiB | {dt_ / lt:.2f}× | {dn:,} |")


if __name__ == "__main__":
    main()
