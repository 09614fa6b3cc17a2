"""What a revised plan may not change: the draws already made.

A revision continues the year. Draws already made stay under the revision they used (the ledger
keeps each draw's policy hash and revision); a task already drawn stays in the plan, and its drawn
rounds keep their number and months. Added tasks and tightened ratios apply to what is still to be
drawn. Each refusal names the policy file and line.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from spotcheck.errors import Problem, SpotcheckError
from spotcheck.policy.diff import Change, diff_files
from spotcheck.policy.loader import LoadedPolicy, load_policy
from spotcheck.year.rounds import DrawnRound, year_rounds


def _located(loaded: LoadedPolicy, problem: Problem, *path) -> Problem:
    pos = loaded.positions.key_or_value(tuple(path))
    if pos is None:
        return problem
    return replace(problem, file=pos.file, line=pos.line, col=pos.col)


def _where_rounds(task, moved: bool) -> str:
    """The key that sets a task's rounds: its batches, else its draw months (a moved round) or its sampling (how many)."""
    return "batches" if task.batches else "draw_months" if moved else "sampling"


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
                "tasks", i, _where_rounds(policy.tasks[i], now is not None)))
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


def rest_of_year(old: LoadedPolicy, new: LoadedPolicy, changes: list[Change]) -> list[Change]:
    """A revision's changes for the rest of its year: the revision itself first, then each changed or
    added task with the rounds still to come after the revision date."""
    a, b = old.policy, new.policy
    if a.year != b.year or (a.revision is None and b.revision is None):
        return changes
    before = a.revision.text() if a.revision else "原计划"
    after = b.revision.text() if b.revision else "原计划"
    head = [Change("revision", "revision", f"计划版本 {before} → {after}" + (f"，理由：{b.revision.reason}" if b.revision else ""))]
    if b.revision is not None:
        head.append(Change("revision", "published", f"调整后的计划{'于 ' + b.revision.published.isoformat() + ' 向社会公示' if b.revision.published else '尚未公示，须及时向社会公示'}"))
    since = b.revision.date.month if b.revision else 1
    months: dict[str, list[str]] = {}
    for r in year_rounds(new):
        if r.month >= since:
            months.setdefault(r.task_id, []).append(f"{r.month}月" + (f"第{r.round}轮" if r.rounds > 1 else ""))
    out = []
    for c in changes:
        if c.kind in ("task", "task_added") and c.subject in {t.id for t in b.tasks}:
            rest = "、".join(months.get(c.subject, [])) or "无（本年各轮次已在修订前）"
            c = Change(c.kind, c.subject, f"{c.text}（本年余下：{rest}）")
        out.append(c)
    return head + out


def diff_revisions(old_path: str | Path, new_path: str | Path) -> list[Change]:
    """`spotcheck diff`: what changed; between two revisions of one year, what changed for the rest of it."""
    changes = diff_files(old_path, new_path)
    return rest_of_year(load_policy(old_path), load_policy(new_path), changes)
