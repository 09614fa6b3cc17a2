"""The year's rounds, which of them the ledger says are drawn, and what a draw of what is due draws.

A task's rounds come from the policy (draw months and "N次/年", see draw.pools.plan_tasks); a
round is due in its month. A draw of what is due draws the rounds asked for (`--task`, `--round`,
`--due`) and refuses a round drawn before or a round whose month has not come, each with its
reason, unless an approver overrides with a reason; the override is recorded with the draw.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from spotcheck.draw.pools import plan_tasks
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.ledger.store import Ledger
from spotcheck.policy.loaded import LoadedPolicy


@dataclass(frozen=True)
class Round:
    """One round of one task: drawn in `month`."""

    task_id: str
    name: str
    round: int
    rounds: int
    month: int
    campaign: str | None
    batch: str | None = None  # the batch's name ("第一批") when the task is drawn in batches
    due: dt.date | None = None  # the batch's deadline
    split: bool = False  # batches that split the sample rather than repeat it
    draw_by: dt.date | None = None  # the task's draw deadline (“抽取日期：9月1日前”), on its last round

    @property
    def label(self) -> str:
        if self.batch is not None:
            return f"{self.task_id} {self.batch}"
        return f"{self.task_id} 第{self.round}轮" if self.rounds > 1 else self.task_id


def year_rounds(loaded: LoadedPolicy) -> list[Round]:
    """Every round of the policy's year, in task order; a task drawn in batches has one round per batch."""
    out = []
    for p in plan_tasks(loaded):
        for r, m in p.drawn_rounds():
            batch = p.task.batches[r - 1] if p.task.batches else None
            out.append(Round(p.task.id, p.task.name, r, p.rounds, m, p.campaign,
                             batch.name if batch else None, batch.due if batch else None, p.split,
                             p.task.draw_by if r == p.rounds else None))
    return out


@dataclass(frozen=True)
class DrawnRound:
    """A round an official draw of this policy's year drew, as its ledger record says."""

    task_id: str
    round: int
    month: int
    draw_id: str
    seq: int
    drawn_on: dt.date
    drawn: int
    revision: int | None
    policy_sha256: str | None
    out: str | None
    override: dict | None


def drawn_rounds(ledger: Ledger, policy_id: str, year: int) -> list[DrawnRound]:
    """Every round official draws of the policy's year drew, in ledger order (a whole-year draw: all its rounds)."""
    out = []
    for rec in ledger.iter("draw"):
        body = rec.body
        if body.get("policy") != policy_id or body.get("year", year) != year or "tasks" not in body:
            continue
        for task_id, t in body["tasks"].items():
            for r, m in zip(t["rounds"], t["months"], strict=True):
                out.append(DrawnRound(
                    task_id, r, m, rec.key, rec.seq, dt.date.fromisoformat(body["drawn_on"]), t.get("drawn", 0),
                    body.get("revision"), body.get("policy_sha256"), body.get("out"), body.get("override"),
                ))
    return out


@dataclass(frozen=True)
class Override:
    """An approved early or repeated draw: why, and who approved it."""

    reason: str
    approver: str


@dataclass(frozen=True)
class Request:
    """What an officer asked to draw: one task (and round), or everything due by a month."""

    task: str | None = None
    round: int | None = None
    due: tuple[int, int] | None = None  # (year, month)
    override: Override | None = None
    fixed: dict[str, list[int]] | None = None  # the rounds a commitment fixed (task id → rounds)

    @property
    def partial(self) -> bool:
        return self.task is not None or self.due is not None or self.fixed is not None


@dataclass(frozen=True)
class Selection:
    """The rounds one draw draws, task id → round numbers, and the refusals an override set aside."""

    rounds: dict[str, tuple[int, ...]]
    overridden: list[str] = field(default_factory=list)
    whole_year: bool = False  # every round of the year: the draw records no selection, as before draws could select

    def to_dict(self) -> dict[str, list[int]]:
        return {t: list(r) for t, r in self.rounds.items()}


def _month_text(year: int, month: int) -> str:
    return f"{year}年{month}月"


def select(loaded: LoadedPolicy, drawn: list[DrawnRound], request: Request, on: dt.date, *, enforce: bool = True) -> Selection:
    """The rounds a draw of what is due draws on `on`; refused rounds raise unless overridden.

    Without a task or a month, every round of the year (a whole-year draw): a round an earlier draw of
    the year drew is refused there too, so an official whole-year draw never draws a round twice.
    A drill (`enforce` false) refuses nothing: it is never counted.
    """
    policy = loaded.policy
    rounds = year_rounds(loaded)
    done = {(d.task_id, d.round): d for d in drawn}
    if request.fixed is not None:
        wanted = [r for r in rounds if r.round in request.fixed.get(r.task_id, ())]
    elif request.task is not None:
        task = loaded.task(request.task)
        own = [r for r in rounds if r.task_id == task.id]
        if request.round is not None:
            wanted = [r for r in own if r.round == request.round]
            if not wanted:
                raise SpotcheckError(Problem(
                    "R520", f"任务 {task.id} 共 {len(own)} 轮，没有第 {request.round} 轮", where=f"任务 '{task.id}'",
                    hint=f"--round 写 1 到 {len(own)}"))
        else:
            # The rounds due by now and not yet drawn; when none is, the next one (refused below as early).
            wanted = [r for r in own if r.month <= _month_of(on, policy.year) and (r.task_id, r.round) not in done]
            if not wanted:
                pending = [r for r in own if (r.task_id, r.round) not in done]
                wanted = pending[:1] or own
    elif request.due is not None:
        year, month = request.due
        if year != policy.year:
            raise SpotcheckError(Problem(
                "R521", f"策略 {policy.id} 是 {policy.year} 年度的计划，不能抽取 {_month_text(year, month)} 的任务",
                hint=f"--due 写 {policy.year}-MM"))
        wanted = [r for r in rounds if r.month <= month and (r.task_id, r.round) not in done]
        if not wanted:
            raise SpotcheckError(Problem(
                "R522", f"{_month_text(year, month)}及以前没有尚未抽取的任务", where=f"策略 {policy.id}",
                hint="用 spotcheck year 查看全年各任务的抽取情况"))
    else:
        wanted = rounds

    refused = []
    now = _month_of(on, policy.year)
    for r in wanted:
        earlier = done.get((r.task_id, r.round))
        if earlier is not None:
            refused.append(Problem(
                "R524", f"{r.label} 已于 {earlier.drawn_on.isoformat()} 由抽取 {earlier.draw_id} 抽过，不能再次抽取",
                where=f"任务 '{r.task_id}' 第 {r.round} 轮",
                hint="确需重新抽取的，用 --override-reason 写明理由并用 --approver 写明批准人；重抽会记入台账"))
        elif r.month > now and request.partial:
            refused.append(Problem(
                "R525", f"{r.label} 定于 {_month_text(policy.year, r.month)}抽取，{on.isoformat()} 尚未到该月",
                where=f"任务 '{r.task_id}' 第 {r.round} 轮",
                hint="到该月再抽取；确需提前的，用 --override-reason 写明理由并用 --approver 写明批准人"))
    if not enforce:
        refused = []
    if refused and request.override is None:
        raise SpotcheckError(refused)
    if request.override is not None:
        _check_override(request.override)
    chosen: dict[str, list[int]] = {}
    for r in wanted:
        chosen.setdefault(r.task_id, []).append(r.round)
    return Selection({t: tuple(rs) for t, rs in chosen.items()}, [p.message for p in refused], whole_year=not request.partial)


def _month_of(on: dt.date, year: int) -> int:
    """The month `on` stands at in the policy's year: 0 before the year, 13 after it."""
    if on.year < year:
        return 0
    if on.year > year:
        return 13
    return on.month


def _check_override(override: Override) -> None:
    problems = []
    if not override.reason.strip():
        problems.append(Problem("R526", "提前或重复抽取须写明理由", hint="用 --override-reason 写明理由"))
    if not override.approver.strip():
        problems.append(Problem("R526", "提前或重复抽取须写明批准人", hint="用 --approver 写明批准人"))
    if problems:
        raise SpotcheckError(problems)
