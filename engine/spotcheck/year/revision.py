"""What a revised plan may not change: the draws already made.

A revision continues the year. Draws already made stay under the revision they used (the ledger
keeps each draw's policy hash and revision); a task already drawn stays in the plan, and its drawn
rounds keep their number and months. Added tasks and tightened ratios apply to what is still to be
drawn. Each refusal names the policy file and line.
"""

from __future__ import annotations

from dataclasses import replace

from spotcheck.errors import Problem, SpotcheckError
from spotcheck.policy.loader import LoadedPolicy
from spotcheck.year.rounds import DrawnRound, year_rounds


def _located(loaded: LoadedPolicy, problem: Problem, *path) -> Problem:
    pos = loaded.pos(*path)
    if pos is None:
        return problem
    return replace(problem, file=pos.file, line=pos.line, col=pos.col)


def check(loaded: LoadedPolicy, drawn: list[DrawnRound]) -> None:
    """Refuse a policy that deletes a drawn task, changes its drawn rounds, or changes unannounced."""
    policy = loaded.policy
    index = {t.id: i for i, t in enumerate(policy.tasks)}
    months = {(r.task_id, r.round): r for r in year_rounds(loaded)}
    problems: list[Problem] = []
    seen: set[tuple[str, int]] = set()
    for d in drawn:
        if (d.task_id, d.round) in seen:
            continue
        seen.add((d.task_id, d.round))
        by = f"已于 {d.drawn_on.isoformat()} 由抽取 {d.draw_id} 抽取"
        if d.task_id not in index:
            problems.append(_located(loaded, Problem(
                "R530", f"任务 {d.task_id} {by}，修订后的计划不能删除它", where=f"tasks（缺少 '{d.task_id}'）",
                hint="把该任务放回计划；不再继续的任务可以不再抽取后续轮次，但已抽取的不能删除"), "tasks"))
            continue
        now = months.get((d.task_id, d.round))
        if now is None or now.month != d.month:
            i = index[d.task_id]
            change = "已没有这一轮" if now is None else f"改到了 {now.month} 月"
            problems.append(_located(loaded, Problem(
                "R531", f"任务 {d.task_id} 第 {d.round} 轮（{d.month} 月）{by}，修订后的计划{change}",
                where=f"tasks[{i}]（'{d.task_id}'）",
                hint="已抽取的轮次不能改动：保留该任务的抽取月份和每年次数，只调整尚未抽取的内容"),
                "tasks", i, "draw_months" if now is not None else "sampling"))
    rev = policy.revision.number if policy.revision else None
    for d in drawn:
        if d.policy_sha256 and d.policy_sha256 != loaded.sha256 and d.revision == rev:
            what = f"第 {rev} 次修订" if rev else "原计划"
            problems.append(_located(loaded, Problem(
                "R532", f"策略内容与抽取 {d.draw_id}（{d.drawn_on.isoformat()}）时不同，修订号却仍是{what}",
                where="revision",
                hint="年度中调整计划须写明 revision（number 加一、date、reason），调整后的计划须重新公示"), "revision"))
            break
    if problems:
        raise SpotcheckError(problems)
