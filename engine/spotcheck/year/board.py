"""The year board: every task and round of the plan, how far it has come, and what is due next.

Read from the policy (the rounds and their months, the deadlines) and the ledger (draws with the
revision each used, visits and teams, results and their states), as of one day. With the entity
directory of that day, drawn entities that closed before their check are listed too, so the result
can be entered as 注销/吊销 as the official categories allow. The board writes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from pathlib import Path

import polars as pl

from spotcheck.calendar.deadlines import monthly_dates, resolve
from spotcheck.directory.kinds import load_for
from spotcheck.ledger.store import Ledger
from spotcheck.policy.loader import LoadedPolicy, load_policy
from spotcheck.results import reads
from spotcheck.results.records import APPROVED, PUBLISHED, RULE, publication_due
from spotcheck.rules.fields import OPERATING_STATUSES
from spotcheck.year.rounds import DrawnRound, drawn_rounds, year_rounds

HORIZON = 10  # working days ahead the board looks for deadlines


@dataclass
class DrawRef:
    draw_id: str
    drawn_on: dt.date
    drawn: int  # entities the draw drew for the task
    revision: int | None
    override: str | None


@dataclass
class RoundRow:
    task_id: str
    name: str
    round: int
    rounds: int
    month: int
    state: str  # 未到月份 / 本月应抽取 / 逾期未抽取 / 已抽取 / 已安排检查 / 检查中 / 已完成
    draws: list[DrawRef] = field(default_factory=list)
    visits: int = 0
    staffed: int = 0
    checked: int = 0  # results entered
    published: int = 0
    overdue: list[str] = field(default_factory=list)
    batch: str | None = None  # 第一批 …, when the task is drawn in batches
    due: dt.date | None = None  # the batch's deadline
    split: bool = False  # the batches split the sample (no entity in two) rather than repeat it
    draw_by: dt.date | None = None  # the draw deadline (“抽取日期：9月1日前”)

    @property
    def label(self) -> str:
        if self.batch is not None:
            return f"{self.task_id}{self.batch}"
        return f"{self.task_id}第{self.round}轮" if self.rounds > 1 else self.task_id


@dataclass
class Deadline:
    date: dt.date
    kind: str  # 获取名单 / 匹配执法人员 / 完成检查 / 结果公示 / 每月下发任务 / 抽取
    what: str


@dataclass
class Closed:
    uscc: str
    name: str
    status: str
    task_ids: str
    draw_id: str


@dataclass
class Board:
    policy_id: str
    jurisdiction: str
    year: int
    on: dt.date
    horizon_end: dt.date
    revision: str
    rows: list[RoundRow]
    deadlines: list[Deadline]
    next_draws: list[str]
    draws: list[dict]
    closed: list[Closed] | None
    notes: list[str]

    def to_dict(self) -> dict:
        return asdict(self, dict_factory=lambda kv: {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in kv})


def _visits(ledger: Ledger, draw_ids: set[str]) -> dict[str, dict]:
    """Visit records of the board's draws, by visit id, with staffing and the result's state."""
    out = {}
    for rec in ledger.iter("visit"):
        if rec.body.get("draw_id") in draw_ids:
            out[rec.key] = {**rec.body, "staffed": False, "result": None, "state": None}
    for rec in ledger.iter("team"):
        if rec.key in out and rec.body.get("draw_id") == out[rec.key]["draw_id"]:
            out[rec.key]["staffed"] = bool(rec.body.get("staffed"))
    latest = {}
    for rec in ledger.iter("result"):
        if rec.key in out and rec.body.get("draw_id") == out[rec.key]["draw_id"]:
            latest[rec.key] = rec
    states = reads.mark_records(ledger)
    for vid, rec in latest.items():
        got = states.get(rec.seq, {})
        out[vid]["result"] = rec.body
        out[vid]["state"] = PUBLISHED if PUBLISHED in got else APPROVED if APPROVED in got else "录入"
    return out


def _row_state(row: RoundRow, now_month: int, on: dt.date) -> str:
    if not row.draws:
        if row.month > now_month:
            return "未到月份"
        if row.draw_by is not None:
            # Any day up to the deadline is on time: the round is due until then, late after it.
            return "逾期未抽取" if on > row.draw_by else "本月应抽取"
        return "本月应抽取" if row.month == now_month else "逾期未抽取"
    if row.visits == 0:
        return "已抽取"
    if row.published == row.visits:
        return "已完成"
    return "检查中" if row.checked else "已安排检查"


def build(loaded: LoadedPolicy, ledger: Ledger, on: dt.date, entities_path: Path | None = None) -> Board:
    policy, cal = loaded.policy, loaded.calendar
    now_month = 0 if on.year < policy.year else 13 if on.year > policy.year else on.month
    horizon_end = cal.add_working_days(on, HORIZON)
    drawn = [d for d in drawn_rounds(ledger, policy.id, policy.year) if d.drawn_on <= on]
    by_round: dict[tuple[str, int], list[DrawnRound]] = {}
    for d in drawn:
        by_round.setdefault((d.task_id, d.round), []).append(d)
    visits = _visits(ledger, {d.draw_id for d in drawn})
    deadlines: list[Deadline] = []
    notes: list[str] = []

    rows = []
    for r in year_rounds(loaded):
        row = RoundRow(r.task_id, r.name, r.round, r.rounds, r.month, "", batch=r.batch, due=r.due, split=r.split,
                       draw_by=r.draw_by)
        for d in by_round.get((r.task_id, r.round), []):
            why = d.override["reason"] + "（" + d.override["approver"] + "批准）" if d.override else None
            row.draws.append(DrawRef(d.draw_id, d.drawn_on, d.drawn, d.revision, why))
            if r.draw_by is not None:
                if d.drawn_on > r.draw_by:
                    row.overdue.append(f"{d.drawn_on.isoformat()}才抽取（应于{r.draw_by.isoformat()}前）")
            elif d.drawn_on.year == policy.year and d.drawn_on.month > r.month:
                row.overdue.append(f"{d.drawn_on.month}月才抽取（应于{r.month}月）")
            mine = [v for v in visits.values() if v["draw_id"] == d.draw_id and r.task_id in v["task_ids"]
                    and _visit_month(v, d) == r.month]
            row.visits += len(mine)
            row.staffed += sum(v["staffed"] for v in mine)
            row.checked += sum(v["result"] is not None for v in mine)
            row.published += sum(v["state"] == PUBLISHED for v in mine)
            late_check = [v for v in mine if v["result"] is None and _day(v.get("inspect_by")) and _day(v["inspect_by"]) < on]
            if late_check:
                row.overdue.append(f"{len(late_check)} 户逾期未检查")
            late_pub = [v for v in mine if v["state"] != PUBLISHED and _publish_by(loaded, v) and _publish_by(loaded, v) < on]
            if late_pub:
                row.overdue.append(f"{len(late_pub)} 户结果逾期未公示")
        if len(row.draws) > 1:
            notes.append(f"{r.task_id} 第{r.round}轮抽取了 {len(row.draws)} 次（见各次抽取的批准理由）")
        row.state = _row_state(row, now_month, on)
        if row.state == "逾期未抽取":
            row.overdue.insert(0, f"应于{r.draw_by.isoformat()}前抽取" if r.draw_by else f"应于{r.month}月抽取")
        if row.due is not None and row.due < on and (row.visits == 0 or row.checked < row.visits):
            row.overdue.append(f"{row.batch}应于{row.due.isoformat()}前完成")
        elif row.due is not None and on <= row.due <= horizon_end and row.state != "已完成":
            deadlines.append(Deadline(row.due, "完成检查", f"{row.label} {row.name}（{row.batch}完成时限）"))
        rows.append(row)

    _draw_deadlines(loaded, rows, on, horizon_end, deadlines)
    _visit_deadlines(loaded, visits, drawn, on, horizon_end, deadlines)
    for rule in policy.deadlines.values():
        if rule.monthly is not None:
            for day in monthly_dates(rule, policy.year, cal):
                if on <= day <= horizon_end:
                    deadlines.append(Deadline(day, "每月下发任务", rule.text or rule.name))
    deadlines.sort(key=lambda x: (x.date, x.kind, x.what))

    pending = [row for row in rows if not row.draws]
    next_draws = []
    if pending:
        month = min(row.month for row in pending)
        when = max(month, now_month) if now_month <= 12 else month
        labels = "、".join(row.label for row in pending if row.month <= when)
        next_draws.append(f"{policy.year}年{when}月：{labels}（spotcheck draw 策略文件 --entities 名录 --commit --beacon 随机数来源 --due {policy.year}-{when:02d}）")
        later = sorted({row.month for row in pending if row.month > when})
        if later:
            nxt = later[0]
            next_draws.append(f"其后 {policy.year}年{nxt}月：" + "、".join(row.label for row in pending if row.month == nxt))

    draws = []
    seen = set()
    for d in drawn:
        if d.draw_id in seen:
            continue
        seen.add(d.draw_id)
        draws.append({
            "draw_id": d.draw_id, "drawn_on": d.drawn_on.isoformat(),
            "revision": f"第{d.revision}次修订" if d.revision else "原计划",
            "policy_sha256": (d.policy_sha256 or "")[:12],
            "tasks": "、".join(sorted({x.task_id for x in drawn if x.draw_id == d.draw_id})),
            "out": d.out or "",
        })
    rev = policy.revision
    revision = rev.text() + f"：{rev.reason}" + (f"（{rev.published.isoformat()} 公示）" if rev.published else "（尚未公示）") if rev else "原计划（未修订）"
    closed = _closed(ledger, loaded, {d.draw_id for d in drawn}, entities_path) if entities_path is not None else None
    # A ledger holding only drills (the demo's, a bureau's rehearsal) would read as a year with nothing drawn.
    drills = sum(1 for rec in ledger.iter("drill", fields={"policy": policy.id})
                 if rec.body.get("year", policy.year) == policy.year and rec.body.get("drawn_on", "") <= on.isoformat())
    if drills:
        notes.append(f"台账中另有 {drills} 次演练抽取，不计入本看板：演练不是正式抽取，各任务仍须正式抽取")
    return Board(policy.id, policy.jurisdiction.name, policy.year, on, horizon_end, revision, rows, deadlines,
                 next_draws, draws, closed, notes)


def _day(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _visit_month(visit: dict, d: DrawnRound) -> int:
    """The month a visit belongs to: its window when that is a month, else the round's month."""
    window = str(visit.get("window") or "")
    if len(window) == 7 and window[4] == "-" and window[5:].isdigit():
        return int(window[5:])
    return d.month


def _publish_by(loaded: LoadedPolicy, visit: dict) -> dt.date | None:
    result = visit["result"]
    if result is not None and result.get("completed_on") and RULE in loaded.policy.deadlines:
        return publication_due(loaded, dt.date.fromisoformat(result["completed_on"]))
    return _day(visit.get("results_due_by"))


def _draw_deadlines(loaded: LoadedPolicy, rows: list[RoundRow], on: dt.date, end: dt.date, out: list[Deadline]) -> None:
    """Rounds to draw within the horizon: the list of entities is fetched and the round drawn in its month."""
    policy = loaded.policy
    for row in rows:
        if row.draws:
            continue
        if row.draw_by is not None and on <= row.draw_by <= end:
            out.append(Deadline(row.draw_by, "抽取期限", f"{row.label} {row.name}（{row.draw_by.isoformat()}前抽取）"))
        first = loaded.calendar.working_day_on_or_after(dt.date(policy.year, row.month, 1))
        if first <= end and row.month >= (on.month if on.year == policy.year else 1):
            out.append(Deadline(max(first, on), "获取名单并抽取", f"{row.label} {row.name}（{row.month}月抽取）"))


def _visit_deadlines(loaded, visits: dict[str, dict], drawn: list[DrawnRound], on, end, out: list[Deadline]) -> None:
    counts: dict[tuple[dt.date, str, str], int] = {}

    def add(day: dt.date | None, kind: str, draw_id: str) -> None:
        if day is not None and on <= day <= end:
            counts[(day, kind, draw_id)] = counts.get((day, kind, draw_id), 0) + 1

    for v in visits.values():
        if v["result"] is None:
            add(_day(v.get("list_fetched_by")), "获取名单", v["draw_id"])
        if not v["staffed"]:
            add(_day(v.get("inspectors_matched_by")) or on, "匹配执法人员", v["draw_id"])
        if v["result"] is None:
            add(_day(v.get("inspect_by")), "完成检查", v["draw_id"])
        if v["state"] != PUBLISHED:
            add(_publish_by(loaded, v), "结果公示", v["draw_id"])
    planned = {v["draw_id"] for v in visits.values()}
    rules = loaded.policy.deadlines
    for d in {d.draw_id: d for d in drawn}.values():
        if d.draw_id in planned:
            continue
        got = resolve(rules, {"scheme_received": d.drawn_on}, loaded.calendar) if "inspectors_matched" in rules else {}
        day = got.get("inspectors_matched", on)
        out.append(Deadline(day, "匹配执法人员", f"抽取 {d.draw_id}（{d.drawn_on.isoformat()}）尚未安排检查组：spotcheck plan"))
    for (day, kind, draw_id), n in counts.items():
        out.append(Deadline(day, kind, f"抽取 {draw_id} 的 {n} 户"))


def _closed(ledger: Ledger, loaded: LoadedPolicy, draw_ids: set[str], entities_path: Path) -> list[Closed]:
    """Drawn entities the directory now shows closed, whose result is not entered yet."""
    # Read as the draw reads it (the policy's kinds of object), and checked even when nothing is drawn
    # yet: a broken file is named, not passed over.
    frame = load_for(loaded.policy, entities_path).frame.select("uscc", "name", pl.col("status").cast(pl.String))
    rows = [r for r in ledger.history(year=loaded.policy.year) if r["draw_id"] in draw_ids]
    if not rows:
        return []
    drawn = (pl.DataFrame([{"uscc": r["uscc"], "task_id": r["task_id"] or "", "draw_id": r["draw_id"]} for r in rows])
             .group_by("uscc", "draw_id").agg(pl.col("task_id").unique().sort().str.join("、")))
    entered = {(rec.body.get("draw_id"), rec.body.get("uscc")) for rec in ledger.iter("result")}
    gone = frame.filter(~pl.col("status").is_in(list(OPERATING_STATUSES)))
    out = []
    for uscc, draw_id, tasks, name, status in drawn.join(gone, on="uscc").sort("draw_id", "uscc").iter_rows():
        if (draw_id, uscc) not in entered:
            out.append(Closed(uscc, name, status, tasks, draw_id))
    return out


def year_board(policy_path: str | Path, *, ledger_path: str | Path, on: dt.date, entities_path: str | Path | None = None) -> Board:
    """The board of a policy's year as of `on` (the library call behind `spotcheck year`)."""
    loaded = load_policy(policy_path)
    with Ledger.open(ledger_path, create=False) as ledger:
        return build(loaded, ledger, on, Path(entities_path) if entities_path else None)
