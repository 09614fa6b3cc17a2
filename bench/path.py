"""Benchmark: the year's whole path for seed 002 (Shuozhou), stage by stage, with the draw's floor.

    python bench/path.py --entities 100000 [--entities 1000000] [--inspectors-per 300] [--mix dense]
    python bench/path.py --entities 100000 --entities 1000000 --entities 10000000 --mix realistic --mix dense \
        --timeout 900 --markdown bench/path.md
    python bench/path.py --entities 10000000 --work /work/bench-path --skip verify     # a province's year, kept
    python bench/path.py --entities 10000000 --work /work/bench-path --from results    # again from one stage on

For each size and label mix (realistic: `spotcheck synth`'s default; dense: `--dense`), each stage runs
in a child process of its own, one after the other on the same machine, so each stage's wall time and
peak RSS are its own (with, where larger, the peak of the stage's process tree, sampled every 0.1 s: the
plan's helper process solves beside it): synth (the synthetic directories), draw (a drill draw as the CLI runs
it, or with `--official` a commitment and its reveal), plan
(visits and teams), verify (`spotcheck verify`: the draw, visits and teams recomputed and compared byte for
byte; a difference fails the stage), notices (the task announcement with every drawn list, DOCX), letters (every
随机抽查通知书, DOCX, one file per inspecting unit and month), results (sample, import, approve, publish) and report (the KPIs).
The whole path is what a bureau runs in a year, draw to report: the sum of those stages' wall and CPU times and the
largest of their peaks (each stage's figures are kept in the size's folder, so a year run in parts with `--from`
still sums them; the line says which came from an earlier run).

The floor is the work no draw can avoid: polars reads the same directory, and SHA-256 hashes one
message per eligible (task, entity) pair the draw found. The draw's ratio to it is the number to
shrink. A stage that fails (say, out of memory) or runs past `--timeout` seconds (its child is stopped)
is reported and the later stages of that size are skipped, but for the floor. With `--markdown FILE` the results of every
size and mix are also written as one markdown table (stages as rows, size and mix as columns, with the
machine and the load averages), rewritten after every stage so an interrupted run keeps what it measured.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import queue
import resource
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies/shanxi/shuozhou/2021.yaml"
DRAWN_ON = dt.date(2021, 4, 1)
TODAY = dt.date(2021, 4, 23)


# What a bureau runs in a year, in order: synth only makes test data, verify checks, the floor is a yardstick.
PATH = ("draw", "plan", "notices", "letters", "results", "report")
TREE_EVERY = 0.1  # seconds between samples of a stage's process tree's memory


# Each stage's outputs in a size's folder (the plan writes into draw/).
OUTPUTS = {"draw": ("draw", "ledger.db", "ledger.before-results.db", "pairs"), "plan": ("ledger.before-results.db",), "notices": ("task-notice.docx",),
           "letters": ("letters",), "results": ("public", "results.csv"), "report": ("report",)}


def _stale(start: str | None) -> list[str]:
    """The outputs a run starting at `start` (None: at the beginning) makes again."""
    order = list(STAGES)
    first = order.index(start) if start else 0
    return [out for stage, outs in OUTPUTS.items() if order.index(stage) >= first for out in outs] + ([] if start else ["figures.json"])


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    """User + system time of this process and of any child it waited for: on a shared machine it moves far
    less with the others' load than wall time does, and it counts every thread (polars, OR-tools)."""
    return sum(u.ru_utime + u.ru_stime for u in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))


def _synth(work: Path, entities: int, inspectors: int) -> str:
    from spotcheck.draw import pipeline

    dense = (work / "mix").read_text() == "dense"
    pipeline.synthesize(POLICY, entities, inspectors, "bench", work / "data", dense=dense)
    return f"{entities:,} entities, {inspectors:,} inspectors"


def _draw(work: Path, *_: int) -> str:
    from spotcheck.draw import pipeline

    entities, ledger = work / "data/entities.csv", work / "ledger.db"
    if (work / "mode").read_text() == "official":
        # An official year: committed, then revealed, so the ledger carries what a bureau's does (the plan then
        # records each visit and team, and the history rows the next draw reads). The commitment is timed with it.
        c = pipeline.commit(POLICY, entities, ledger_path=ledger, beacon="双色球2021036期开奖号码", drawn_on=DRAWN_ON,
                            reveal_as="numbers:6+1", actor="bench")
        d = pipeline.draw(POLICY, entities, work / "draw", ledger_path=ledger, reveal="03 07 12 19 25 31 + 09",
                          commitment_id=c.id, actor="bench")
    else:
        d = pipeline.draw(POLICY, entities, work / "draw", ledger_path=ledger, seed="bench", drawn_on=DRAWN_ON)
    (work / "pairs").write_text(str(sum(t.eligible for t in d.summary.tasks)))
    return f"{d.drawn.height:,} drawn, {d.summary.distinct_entities_drawn:,} entities"


def _plan(work: Path, *_: int) -> str:
    from spotcheck.plan import workplan

    d = work / "data"
    p = workplan.plan(work / "draw", inspectors_path=d / "inspectors.csv", recusals_path=d / "recusals.csv", ledger_path=work / "ledger.db")
    return f"{p.visits.height:,} visits, {p.summary.section('teams')['staffed']:,} staffed"


def _verify(work: Path, *_: int) -> str:
    from spotcheck.draw import pipeline

    d = work / "data"
    report = pipeline.verify(work / "draw", d / "entities.csv", policy_path=POLICY, inspectors_path=d / "inspectors.csv",
                             recusals_path=d / "recusals.csv")
    if not report.ok:
        raise RuntimeError("; ".join(p.message for p in report.problems[:5]))
    return f"recomputed and equal: {', '.join(report.checked)}"


def _notices(work: Path, *_: int) -> str:
    from spotcheck.notices import api

    out = work / "task-notice.docx"
    api.make_notice(POLICY, fmt="docx", out=out, kind="task_notice", draw_dir=work / "draw")
    return f"{out.stat().st_size / 2**20:,.1f} MiB DOCX"


def _letters(work: Path, *_: int) -> str:
    from spotcheck.notices import api

    files = api.write_letters(POLICY, work / "draw", work / "letters", fmt="docx")
    size = sum((work / "letters" / name).stat().st_size for name, _ in files)
    return f"{sum(n for _, n in files):,} letters in {len(files)} DOCX (per unit and month), {size / 2**20:,.1f} MiB"


def _results(work: Path, *_: int) -> str:
    from spotcheck.results import publish, records, sample

    path, led, steps = work / "results.csv", work / "ledger.db", []
    # The ledger as the plan left it, kept once, so a second run of this stage (`--from results`) starts from the
    # same ledger instead of adding every result again.
    before = work / "ledger.before-results.db"
    if before.is_file():
        for journal in ("-wal", "-shm"):  # SQLite would replay the later run's journal onto the restored file
            Path(f"{led}{journal}").unlink(missing_ok=True)
        shutil.copyfile(before, led)
    else:
        shutil.copyfile(led, before)

    def step(name: str, call):
        t = time.perf_counter()
        got = call()
        steps.append(f"{name} {time.perf_counter() - t:,.1f} s")
        return got

    step("sample", lambda: sample.sample_results(work / "draw", path, policy_path=POLICY, seed="bench", today=TODAY))
    imported = step("import", lambda: records.import_results(path, work / "draw", ledger_path=led, actor="bench", today=TODAY))
    step("approve", lambda: records.approve(work / "draw", ledger_path=led, actor="bench", on=TODAY))
    published = step("publish", lambda: publish.publish(work / "draw", work / "public", ledger_path=led, actor="bench", on=TODAY))
    return f"{len(imported.added):,} imported, {len(published.published):,} published ({', '.join(steps)})"


def _report(work: Path, *_: int) -> str:
    from spotcheck.results import report

    rep = report.make_report(POLICY, [work / "draw"], work / "data/entities.csv", ledger_path=work / "ledger.db", out_dir=work / "report", today=TODAY)
    return f"{len(rep.metrics)} metrics"


def _floor(work: Path, *_: int) -> str:
    import polars as pl
    import polars_hash as plh

    frame = pl.read_csv(work / "data/entities.csv", infer_schema=False)
    pairs = int((work / "pairs").read_text())
    codes = frame.get_column(frame.columns[0])
    reps = -(-pairs // max(codes.len(), 1))
    hashed = 0
    for r in range(reps):
        take = min(codes.len(), pairs - hashed)
        msgs = codes.head(take).to_frame("uscc").lazy().select(plh.concat_str([pl.lit(f"bench|t{r}|1|"), pl.col("uscc")]).chash.sha2_256())
        hashed += msgs.collect(engine="streaming").height
    return f"read + {hashed:,} hashes"


STAGES = {"synth": _synth, "draw": _draw, "plan": _plan, "verify": _verify, "notices": _notices, "letters": _letters, "results": _results,
          "report": _report, "floor": _floor}


def _child(stage: str, work: str, entities: int, inspectors: int, q) -> None:
    t, cpu = time.perf_counter(), _cpu_seconds()
    try:
        what = STAGES[stage](Path(work), entities, inspectors)
    except Exception as exc:  # reported in the table, the stage counts as failed
        q.put(f"{type(exc).__name__}: {exc}")
        return
    q.put((time.perf_counter() - t, _cpu_seconds() - cpu, _peak_mib(), what, os.getloadavg()[0]))


def _tree_mib(root: int) -> float | None:
    """RSS of process `root` and of every process under it, in MiB (Linux's /proc; None elsewhere). The plan
    solves on a helper process of its own, whose memory the stage's own peak leaves out."""
    if not os.path.isdir(f"/proc/{root}"):
        return None
    under: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_text()
            except OSError:  # it ended meanwhile
                continue
            under.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
    pages, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            pages += int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except OSError:
            continue
        todo += under.get(pid, [])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _timed(stage: str, work: Path, entities: int, inspectors: int,
           timeout: float | None) -> tuple[float, float, float, float | None, str, float] | str:
    """(seconds, CPU seconds, peak MiB, peak MiB of the stage's process tree, what, load) of the stage, or
    why it has none. The tree's peak is sampled every TREE_EVERY seconds, so it is a lower bound."""
    q = mp.get_context("spawn").Queue()
    p = mp.get_context("spawn").Process(target=_child, args=(stage, str(work), entities, inspectors, q))
    p.start()
    ends = None if timeout is None else time.monotonic() + timeout
    tree: float | None = None
    while p.is_alive() and (ends is None or time.monotonic() < ends):
        now = _tree_mib(p.pid)
        tree = now if tree is None else max(tree, now or 0.0)
        p.join(TREE_EVERY)
    if p.is_alive():
        p.kill()
        p.join()
        return f"stopped after {timeout:,.0f} s"
    try:
        got = q.get(timeout=5)
    except queue.Empty:
        return f"the process died (exit code {p.exitcode})"  # e.g. killed for memory
    if isinstance(got, str):
        return got
    seconds, cpu, peak, what, load = got
    return seconds, cpu, peak, None if tree is None else max(tree, peak), what, load


def _memory(peak: float, tree: float | None) -> str:
    """The stage's own peak, and its process tree's where that is larger (the plan's helper process)."""
    return f"{peak:,.0f} MiB" + (f" (tree {tree:,.0f} MiB)" if tree is not None and tree > peak * 1.01 else "")


def _machine() -> str:
    cores = os.cpu_count()
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        return f"{cores} cores"
    return f"{cores} cores, {mem:,.0f} GiB"


def markdown(columns: list[str], cells: dict[tuple[str, str], str], notes: list[str]) -> str:
    """Stages as rows, one column per size and mix; a stage not run is blank."""
    rows = [s for s in (*STAGES, "whole path", "draw / floor", "plan / draw") if any((s, c) in cells for c in columns)]
    lines = ["| stage | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    lines += ["| " + s + " | " + " | ".join(cells.get((s, c), "") for c in columns) + " |" for s in rows]
    return "\n".join(lines + [""] + notes) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, action="append", required=True)
    parser.add_argument("--inspectors-per", type=int, default=300, help="entities per inspector (default 300)")
    parser.add_argument("--mix", action="append", choices=("realistic", "dense"),
                        help="label mix of the synthetic directory (default realistic; repeat for both)")
    parser.add_argument("--stage", action="append", choices=tuple(STAGES), help="run only these stages (and those before them)")
    parser.add_argument("--skip", action="append", default=[], choices=("verify", "floor"),
                        help="leave out a check that is not part of the year (verify recomputes the draw and the plan)")
    parser.add_argument("--timeout", type=float, help="stop a stage after this many seconds (and skip the later ones)")
    parser.add_argument("--markdown", type=Path, help="also write every size's results as one markdown table here")
    parser.add_argument("--work", type=Path, help="keep each size's files in WORK/<size>-<mix> (not a temporary folder "
                        "removed at the end); a size whose entities.csv is already there skips synth")
    parser.add_argument("--official", action="store_true", help="an official draw (commit, then reveal) instead of a "
                        "drill: the plan then records every visit and team in the ledger; kept in WORK/<size>-<mix>-official")
    parser.add_argument("--from", dest="start", choices=tuple(STAGES), help="with --work: start at this stage, on the "
                        "files the earlier stages left there in an earlier run (a 10M year run in parts)")
    args = parser.parse_args()
    if args.start and args.work is None:
        parser.error("--from needs --work (the earlier stages' files)")
    if args.start == "plan":
        # The plan writes into the draw's folder (and rewrites its summary) and records itself in the ledger,
        # which then refuses a second plan of that draw (T802, T828): only a new draw can be planned again.
        parser.error("--from plan: the plan writes into the draw's folder and the ledger; start again --from draw")
    last = max((list(STAGES).index(s) for s in args.stage), default=len(STAGES) - 1) if args.stage else len(STAGES) - 1
    runs = [(n, mix) for n in args.entities for mix in args.mix or ["realistic"]]
    mode = "official" if args.official else "drill"
    columns = [f"{n:,} {mix}" + (" official" if args.official else "") for n, mix in runs]
    cells: dict[tuple[str, str], str] = {}
    notes = [f"Machine: {_machine()}; {dt.date.today()}; `python bench/path.py` with seed 002 (Shuozhou), "
             f"one inspector per {args.inspectors_per} entities (at least 200). Cells are the stage's own child "
             "process's wall time (CPU time: user + system, all threads, and of the processes it waited for) / peak RSS "
             "(tree: the stage's process and those under it together, sampled every 0.1 s, where that is larger) "
             "[load average when it ended]. "
             "The ratios are of wall times, then of CPU times."]
    for (n, mix), column in zip(runs, columns, strict=True):
        inspectors = max(200, n // args.inspectors_per)
        if args.work is not None:
            work = args.work / (f"{n}-{mix}" + ("-official" if args.official else ""))
            work.mkdir(parents=True, exist_ok=True)
            # A kept folder's earlier outputs would be read as this run's (the ledger above all): those of the
            # stages this run makes again go first.
            for stale in _stale(args.start):
                if (work / stale).is_dir():
                    shutil.rmtree(work / stale)
                else:
                    (work / stale).unlink(missing_ok=True)
        else:
            work = Path(tempfile.mkdtemp(prefix=f"bench-path-{n}-"))
        (work / "mix").write_text(mix)
        (work / "mode").write_text(mode)
        reuse = (work / "data/entities.csv").is_file()
        print(f"\n## {n:,} entities ({mix}, {mode} draw), {inspectors:,} inspectors (seed 002, Shuozhou)\n")
        print("| stage | wall time | CPU time | peak RSS | load average | what |\n|---|---:|---:|---:|---:|---|")
        times, cpus = {}, {}
        # A year run in parts (`--from`) sums its whole path from the figures the earlier parts kept.
        kept = json.loads((work / "figures.json").read_text()) if args.start and (work / "figures.json").is_file() else {}
        failed = False
        try:
            for stage in [s for i, s in enumerate(STAGES) if i <= last or s == "floor"]:
                # After a failure only the floor still runs: it needs nothing but the draw's count of pairs.
                if failed and not (stage == "floor" and (work / "pairs").is_file()):
                    continue
                if args.start and list(STAGES).index(stage) < list(STAGES).index(args.start) or stage in args.skip:
                    continue
                if stage == "synth" and reuse:
                    print(f"| synth | reused | | | | {work / 'data'} |", flush=True)
                    continue
                got = _timed(stage, work, n, inspectors, args.timeout)
                if isinstance(got, str):
                    print(f"| {stage} | failed | | | {os.getloadavg()[0]:.1f} | {got} |", flush=True)
                    cells[(stage, column)] = f"failed: {got}"
                    kept.pop(stage, None)
                    failed = True
                    continue
                seconds, cpu, peak, tree, what, load = got
                times[stage], cpus[stage] = seconds, cpu
                kept[stage] = {"seconds": seconds, "cpu": cpu, "peak": peak, "tree": tree, "load": load}
                (work / "figures.json").write_text(json.dumps(kept, indent=1))
                memory = _memory(peak, tree)
                print(f"| {stage} | {seconds:,.1f} s | {cpu:,.1f} s | {memory} | {load:.1f} | {what} |", flush=True)
                cells[(stage, column)] = f"{seconds:,.1f} s ({cpu:,.1f} s CPU) / {memory} [{load:.1f}]"
                notes.append(f"- {column}, {stage}: {what}")
                if args.markdown:
                    args.markdown.write_text(markdown(columns, cells, notes), encoding="utf-8")
            if all(stage in kept for stage in PATH):
                parts = [kept[stage] for stage in PATH]
                cells[("whole path", column)] = (f"{sum(p['seconds'] for p in parts):,.1f} s "
                                                 f"({sum(p['cpu'] for p in parts):,.1f} s CPU) / "
                                                 f"{_memory(max(p['peak'] for p in parts), max((p.get('tree') or 0 for p in parts), default=0) or None)}")
                earlier = [stage for stage in PATH if stage not in times]
                print(f"\nwhole path ({' → '.join(PATH)}) = {cells[('whole path', column)]}"
                      + (f" (from an earlier run: {', '.join(earlier)})" if earlier else ""), end="")
            for row, (top, bottom) in {"draw / floor": ("draw", "floor"), "plan / draw": ("plan", "draw")}.items():
                if top in times and bottom in times:
                    cells[(row, column)] = (f"{times[top] / times[bottom]:.2f}× "
                                            f"({cpus[top] / max(cpus[bottom], 1e-9):.2f}× CPU)")
                    print(f"\n{row} = {cells[(row, column)]}", end="")
            print()
        finally:
            if args.work is None:
                shutil.rmtree(work, ignore_errors=True)
        if args.markdown:
            args.markdown.write_text(markdown(columns, cells, notes), encoding="utf-8")


if __name__ == "__main__":
    main()
