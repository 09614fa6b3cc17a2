"""`spotcheck demo`: the whole path on a synthetic city, in one new folder.

Synthesise directories shaped like a seed policy's jurisdiction, draw with a drill seed, merge into
visits and match inspector teams, render the plan notice, the task announcement and one 随机抽查通知书
per visit (a document of its own), write a sample of results, import, approve and publish them,
measure the year's targets and build the public site. Every output is marked as a drill. The folder
is new, and on any failure it is removed whole, so a demo leaves either everything or nothing.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

from spotcheck.notices import api as notice
from spotcheck.draw import pipeline
from spotcheck.results import publish
from spotcheck.results import report
from spotcheck.results import records as results
from spotcheck.results import sample as results_sample
from spotcheck.plan import workplan
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.policy.loader import load_policy
from spotcheck.resources import POLICIES
from spotcheck.progress import Progress, silent
from spotcheck.site import build as site_build

DEFAULT_POLICY = POLICIES / "shanxi/shuozhou/2021.yaml"


@dataclass(frozen=True)
class Demo:
    out: Path
    draw_id: str
    tasks: int
    drawn: int
    entities_drawn: int
    visits: int
    staffed: int
    unstaffed: int
    notices: list[Path]
    results_imported: int
    published: int
    report: Path
    site: Path
    kpis: list[tuple[str, str]]  # (metric name, verdict with value)


def _dates(policy_path: Path) -> tuple[dt.date, dt.date]:
    """The drill's draw date and the day its results are entered and published.

    Results are published 15 working days after the draw, so every check the sample completes in
    between is published within the 20 working days the national floor allows.
    """
    loaded = load_policy(policy_path)
    policy = loaded.policy
    # Not before the plan's window opens, nor before the first month a task draws in.
    months = [dt.date(policy.year, t.draw_months[0], 1) for t in policy.tasks if t.draw_months]
    windows = [c.window.start for c in policy.campaigns] + [t.window.start for t in policy.tasks if t.window]
    earliest = [min(x) for x in (months, windows) if x]
    drawn_on = loaded.calendar.working_day_on_or_after(max(earliest) if earliest else dt.date(policy.year, 3, 1))
    return drawn_on, loaded.calendar.add_working_days(drawn_on, 15)


def run(
    out: Path,
    *,
    policy_path: Path = DEFAULT_POLICY,
    entities: int = 5000,
    inspectors: int = 300,
    seed: str = "demo",
    progress: Progress = silent,
) -> Demo:
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise SpotcheckError(Problem("F602", f"演示目录 {out} 已存在且不为空", hint="换一个 --out 目录，或先删除旧目录"))
    created = not out.exists()
    try:
        return _run(out, policy_path, entities, inspectors, seed, progress)
    except BaseException:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        else:
            for child in out.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        raise


def _run(out, policy_path, n_entities, n_inspectors, seed, progress) -> Demo:
    drawn_on, today = _dates(policy_path)
    data, draw_dir, ledger = out / "data", out / "draw", out / "ledger.db"
    progress("生成演练名录")
    pipeline.synthesize(policy_path, n_entities, n_inspectors, seed, data)
    progress("随机抽取检查对象（演练）")
    drawn = pipeline.draw(policy_path, data / "entities.csv", draw_dir, ledger_path=ledger, seed=seed, drawn_on=drawn_on)
    progress("合并检查、匹配检查人员")
    plan = workplan.plan(draw_dir, inspectors_path=data / "inspectors.csv", recusals_path=data / "recusals.csv", ledger_path=ledger)
    progress("生成公文")
    notices = []
    for name, kind, fmt, with_draw in (
        ("plan-notice.docx", None, "docx", False),
        ("plan-notice.md", None, "md", False),
        ("task-notice.md", "task_notice", "md", True),
        ("task-notice.docx", "task_notice", "docx", True),
        ("letters.md", "inspection_letter", "md", True),
        ("letters.docx", "inspection_letter", "docx", True),
    ):
        path = out / "notices" / name
        notice.make_notice(policy_path, fmt=fmt, out=path, kind=kind, draw_dir=draw_dir if with_draw else None)
        notices.append(path)
    progress("录入、审核、公示检查结果")
    sample = out / "results" / "results.csv"
    results_sample.sample_results(draw_dir, sample, policy_path=policy_path, seed=seed, today=today)
    imported = results.import_results(sample, draw_dir, ledger_path=ledger, actor="演示", today=today)
    results.approve(draw_dir, ledger_path=ledger, actor="演示审核人", on=today)
    published = publish.publish(draw_dir, out / "results" / "public", ledger_path=ledger, actor="演示", on=today)
    progress("计算年度指标")
    rep = report.make_report(policy_path, [draw_dir], data / "entities.csv", ledger_path=ledger, out_dir=out / "report", today=today)
    progress("生成公示网站")
    site_build.build(ledger, out / "site", drills=True)
    teams = plan.summary.section("teams")
    return Demo(
        out=out,
        draw_id=drawn.id,
        tasks=len(drawn.summary.tasks),
        drawn=drawn.drawn.height,
        entities_drawn=drawn.summary.distinct_entities_drawn,
        visits=plan.visits.height,
        staffed=teams["staffed"],
        unstaffed=teams["unstaffed"],
        notices=notices,
        results_imported=len(imported.added),
        published=len(published.published),
        report=out / "report" / "report.html",
        site=out / "site" / "index.html",
        kpis=[(m.name, f"{m.to_dict()['value'] or '—'}（目标 {m.to_dict()['target'] or '—'}）{m.verdict}") for m in rep.metrics],
    )
