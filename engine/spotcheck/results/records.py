"""一公开, first half: inspection results in, through 录入 → 审核 → 公示, against their deadline.

A clean results file (results_file.read_results) appends one `result` record per visit whose result is
new or changed; the same file imported twice appends nothing the second time. A corrected result is a
new `result` record naming the record it replaces and what changed.

State is never stored beside the chain, it is read from it: a visit's latest `result` record is 录入
until a `result_states` record of an approval names it (审核) and one of a publication (公示); each such record
is one act, by one actor on one day, naming up to bodies.STATES_PER_RECORD results (a ledger begun earlier also
holds the older form, one `result_state` record per result, read alike). A corrected result
starts again at 录入; the public list keeps showing the last published version until the correction
is approved and published. Follow-up of problems found is open until a `follow_up` record closes it.

Publication is due the policy's `results_public` deadline after the check was completed (the
national rule: 20 working days, on the policy's calendar).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path

import polars as pl

from spotcheck.calendar import deadlines
from spotcheck.results.categories import ACTIONS, UNREACHABLE, split_actions
from spotcheck.draw.reader import DrawFolder, Visit, checked, load_draw, visit_unit
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.ledger.chain import Record, canonical_json
from spotcheck.ledger.store import Ledger, Transaction, named_actor
from spotcheck.policy.loaded import LoadedPolicy
from spotcheck.policy.loader import load_policy
from spotcheck.resources import policy_file
from spotcheck.results import reads
from spotcheck.results.bodies import alone_records, several_records, state_batches
from spotcheck.results.file import Result, alone_results, read_file, several_results
from spotcheck.results.reads import APPROVED, PUBLISHED, STATES, needs_follow_up
from spotcheck.results.tables import plain_rows


# The keys of results_file.Result.content(): the part of a `result` record compared when a file is imported again.
CONTENT_KEYS = ("visit_id", "draw_id", "uscc", "name", "completed_on", "categories", "methods", "findings",
                "actions", "remarks", "items")


def content_of(body: Mapping) -> dict:
    return {k: body.get(k) for k in CONTENT_KEYS}


# ---------------------------------------------------------------- importing


@dataclass(frozen=True)
class ImportOutcome:
    rows: int
    added: tuple[str, ...]  # visits with their first result
    replaced: tuple[tuple[str, int, tuple[str, ...]], ...]  # (visit, replaced record seq, fields changed)
    unchanged: tuple[str, ...]
    reopened: Mapping[str, str] = field(default_factory=dict)  # corrected visit → the state it had (审核/公示), now 录入


FIELD_TITLES = {
    "uscc": "统一社会信用代码", "name": "市场主体名称", "completed_on": "检查完成日期", "categories": "检查结果",
    "methods": "检查方式", "findings": "检查情况", "actions": "后续处置", "remarks": "备注", "items": "分事项结果",
    "visit_id": "检查编号", "draw_id": "抽取编号",
}


def latest_result(ledger: Ledger, visit_id: str, draw_id: str | None = None) -> Record | None:
    """The latest `result` record of a visit (of one draw, when visit ids repeat across draws)."""
    for record in reversed(ledger.find("result", visit_id)):
        if draw_id is None or record.body.get("draw_id") == draw_id:
            return record
    return None


def import_results(path: str | Path, draw_dir: str | Path, *, ledger_path: str | Path, actor: str | None = None,
                   today: dt.date | None = None) -> ImportOutcome:
    """Read, check and record a results file: all of it, or (on any problem) none of it."""
    path = Path(path)
    today = today or dt.date.today()
    with Ledger.open(ledger_path, actor=actor) as ledger, reads.bulk():
        # The draw's visits are read while the file is split into rows, neither needing the other (at a province a
        # few seconds each, polars' on both cores); the folder's problems still come before the file's.
        with ThreadPoolExecutor(max_workers=1) as pool:
            loading = pool.submit(load_draw, draw_dir)
            rows = plain_rows(path)
            folder = checked(loading.result(), ledger)
        read = read_file(path, folder, today=today, split=rows)
        sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        source = {"file": path.name, "sha256": sha256}
        added, replaced, unchanged = [], [], []
        reopened: dict[str, str] = {}
        # What each result does (None: a first result); its record is made only as it is appended, so a
        # province's millions of bodies are never all in memory at once.
        todo: list[tuple[Result, dict | None]] = []
        marks: dict[int, dict[str, Record]] | None = None  # read once, when a result is first found corrected
        with ledger.transaction() as tx:
            # One pass over the chain for every visit's latest result, not one query per visit.
            latest = {r.key: r for r in ledger.iter("result", fields={"draw_id": folder.draw_id})}
            # A visit of a clean file with no result yet (a province's first import: every visit) is written by columns.
            seen = pl.col("visit_id").is_in(pl.Series(list(latest), dtype=pl.String).implode())
            fresh, several = read.alone.filter(~seen), read.several.filter(~seen)
            results = sorted([*read.results, *alone_results(read.alone.filter(seen), folder.draw_id),
                              *several_results(read.several.filter(seen), folder.draw_id)], key=lambda r: r.rows[0])
            for result in results:
                old = latest.get(result.visit_id)
                if old is None:
                    added.append((result.rows[0], result.visit_id))
                    todo.append((result, None))
                    continue
                new = result.content()
                if content_of(old.body) == new:
                    unchanged.append(result.visit_id)
                    continue
                marks = reads.mark_records(ledger) if marks is None else marks
                states = marks.get(old.seq, {})
                if states:
                    reopened[result.visit_id] = PUBLISHED if PUBLISHED in states else APPROVED
                before = content_of(old.body)
                changed = [k for k in CONTENT_KEYS if before[k] != new[k]]
                replaced.append((result.visit_id, old.seq, tuple(FIELD_TITLES.get(k, k) for k in changed)))
                todo.append((result, {"replaces": {"seq": old.seq, "hash": old.hash},
                                      "changes": {k: {"from": before[k], "to": new[k]} for k in changed}}))

            def bodies() -> Iterator[tuple[str, str]]:
                # The records in the order of their visits' first rows: the column-made ones merged with the rest.
                rest = iter(todo)
                waiting = next(rest, None)
                for row, vid, text in heapq.merge(alone_records(fresh, folder.draw_id, path.name, sha256),
                                                  several_records(several, folder.draw_id, path.name, sha256)):
                    while waiting is not None and waiting[0].rows[0] < row:
                        yield body(*waiting)
                        waiting = next(rest, None)
                    yield vid, text
                while waiting is not None:
                    yield body(*waiting)
                    waiting = next(rest, None)

            def body(result: Result, correction: dict | None) -> tuple[str, str]:
                return result.visit_id, canonical_json({**result.content(), "source": {**source, "rows": list(result.rows)},
                                                        **(correction or {})})

            tx.extend_texts("result", bodies())
        first = pl.concat([fresh.select("row", "visit_id"), several.group_by("visit_id").agg(pl.col("row").min()).select("row", "visit_id"),
                           pl.DataFrame(added, schema={"row": pl.Int64, "visit_id": pl.String}, orient="row")])
    return ImportOutcome(read.rows, tuple(first.sort("row").get_column("visit_id").to_list()), tuple(replaced),
                         tuple(unchanged), reopened)


# ---------------------------------------------------------------- states, read from the chain


@dataclass(frozen=True)
class Track:
    """Everything the ledger says about one visit's result."""

    visit: Visit
    result: Record | None  # the latest result
    approved: Record | None  # its 审核 record
    published: Record | None  # its 公示 record
    public: tuple[Record, Record] | None  # (result, 公示 record) the public list shows: the last version published
    first_published: tuple[Record, Record] | None  # the first publication, for timeliness
    follow_up: Record | None  # the latest follow_up record

    @property
    def state(self) -> str:
        if self.result is None:
            return "未录入"
        return PUBLISHED if self.published else APPROVED if self.approved else "录入"

    @property
    def completed_on(self) -> dt.date | None:
        return dt.date.fromisoformat(self.result.body["completed_on"]) if self.result else None

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(self.result.body["categories"]) if self.result else ()

    @property
    def needs_follow_up(self) -> bool:
        return self.result is not None and needs_follow_up(self.result.body)

    @property
    def follow_up_closed_on(self) -> dt.date | None:
        if self.follow_up is None or self.follow_up.body.get("state") != "closed":
            return None
        return dt.date.fromisoformat(self.follow_up.body["closed_on"])

    @property
    def abnormal_candidate(self) -> bool:
        return UNREACHABLE in self.categories


def tracks(folder: DrawFolder, ledger: Ledger) -> list[Track]:
    """One Track per visit of the draw, in visit order, from one pass over the chain."""
    with reads.bulk():
        return _tracks(folder, ledger)


def _tracks(folder: DrawFolder, ledger: Ledger) -> list[Track]:
    versions: dict[str, list[Record]] = {}
    for record in ledger.iter("result", fields={"draw_id": folder.draw_id}):
        if record.key in folder.visits:
            versions.setdefault(record.key, []).append(record)
    states = reads.mark_records(ledger)
    follow_ups: dict[str, Record] = {}
    for record in ledger.iter("follow_up"):
        follow_ups[record.key] = record
    out = []
    for vid, visit in folder.visits.items():
        mine = versions.get(vid, [])
        latest = mine[-1] if mine else None
        marks = states.get(latest.seq, {}) if latest else {}
        published = [(r, states[r.seq][PUBLISHED]) for r in mine if PUBLISHED in states.get(r.seq, {})]
        out.append(Track(visit, latest, marks.get(APPROVED), marks.get(PUBLISHED),
                         published[-1] if published else None, published[0] if published else None,
                         follow_ups.get(vid)))
    return out


@dataclass(frozen=True)
class StateChange:
    changed: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]  # (visit, why)
    units: Mapping[str, str] = field(default_factory=dict)  # visit → its inspecting unit, for summaries per unit


def approve(draw_dir: str | Path, *, ledger_path: str | Path, actor: str, visit_ids: Iterable[str] | None = None,
            on: dt.date | None = None) -> StateChange:
    """录入 → 审核 for the named visits (all entered results when `visit_ids` is None), by a named approver."""
    actor = named_actor(actor, "审核结果")
    on = on or dt.date.today()
    with Ledger.open(ledger_path, actor=actor) as ledger, reads.bulk():
        folder = load_draw(draw_dir, ledger)
        frame = folder.visit_frame
        # States are read under the write lock, so two approvers cannot approve one result twice.
        with ledger.transaction() as tx:
            entered = reads.entered_frame(folder, ledger)
            if visit_ids is None:
                wanted = frame.select("visit_id")
            else:
                wanted = pl.DataFrame({"visit_id": list(dict.fromkeys(visit_ids))}, schema={"visit_id": pl.String})
                known, results = folder.visit_ids, set(entered.get_column("visit_id").to_list())
                problems = []
                for vid in wanted.get_column("visit_id").to_list():
                    if vid not in known:
                        problems.append(Problem("S803", f"检查编号 {vid} 不在本次抽取的检查中",
                                                file=str(folder.path / "visits.csv")))
                    elif vid not in results:
                        problems.append(Problem("S820", f"检查 {vid} 还没有录入结果，不能审核", where=f"检查 '{vid}'",
                                                hint="先用 spotcheck results import 录入结果"))
                if problems:
                    raise SpotcheckError(problems)
            chosen = wanted.join(entered, on="visit_id", maintain_order="left")
            todo = chosen.filter(pl.col("state") == "录入")
            # Bodies written over columns: a province's millions of approvals are never dicts.
            tx.extend_texts("result_states", state_batches(todo, APPROVED, on, folder.draw_id))
            skipped = chosen.filter(pl.col("state") != "录入")
    named = pl.concat([todo.select("visit_id"), skipped.select("visit_id")])
    units = named.join(frame.select("visit_id", visit_unit(frame).alias("unit")), on="visit_id", how="left",
                       maintain_order="left")
    return StateChange(tuple(todo.get_column("visit_id").to_list()),
                       tuple((vid, f"已是“{state}”状态") for vid, state in skipped.select("visit_id", "state").iter_rows()),
                       dict(zip(*(units.get_column(c).to_list() for c in ("visit_id", "unit")), strict=True)))


def mark_published(tx: Transaction, approved: pl.DataFrame, on: dt.date, draw_id: str, out: str) -> list[str]:
    """审核 → 公示 for these results (visit_id, seq) of a draw, in the publishing transaction."""
    tx.extend_texts("result_states", state_batches(approved, PUBLISHED, on, draw_id, out))
    return approved.get_column("visit_id").to_list()


@dataclass(frozen=True)
class FollowUpOutcome:
    visit_id: str
    changed: bool
    closed_on: dt.date
    action: str


def close_follow_up(visit_id: str, *, ledger_path: str | Path, actor: str | None, closed_on: dt.date, action: str,
                    draw_dir: str | Path | None = None, today: dt.date | None = None) -> FollowUpOutcome:
    """Close the follow-up of a visit whose result found a problem, with the date and the action taken."""
    today = today or dt.date.today()
    with Ledger.open(ledger_path, create=False, actor=actor) as ledger:
        draw_id = load_draw(draw_dir, ledger).draw_id if draw_dir is not None else None
        result = latest_result(ledger, visit_id, draw_id)
        where = f"检查 '{visit_id}'"
        if result is None:
            raise SpotcheckError(Problem("S820", f"检查 {visit_id} 没有录入结果", where=where,
                                         hint="核对检查编号；先用 spotcheck results import 录入结果"))
        problems = []
        if not needs_follow_up(result.body):
            problems.append(Problem("S822", f"检查 {visit_id} 的结果未发现问题，没有需要办结的后续处置", where=where))
        completed = dt.date.fromisoformat(result.body["completed_on"])
        if closed_on < completed or closed_on > today:
            problems.append(Problem("S818", f"办结日期 {closed_on} 应在检查完成日期 {completed} 与今天（{today}）之间",
                                    where=where, hint="核对办结日期"))
        known, unknown = split_actions(action)
        if unknown or not known:
            problems.append(Problem("S813", f"不认识的后续处置：{action}", where=where,
                                    hint=f"以这些措施开头：{'、'.join(ACTIONS)}"))
        if problems:
            raise SpotcheckError(problems)
        latest = ledger.latest("follow_up", visit_id)
        body = {"visit_id": visit_id, "result_seq": result.seq, "state": "closed", "closed_on": closed_on.isoformat(),
                "action": action.strip()}
        if latest is not None and latest.body == body:
            return FollowUpOutcome(visit_id, False, closed_on, action.strip())
        with ledger.transaction() as tx:
            tx.append("follow_up", visit_id, body)
    return FollowUpOutcome(visit_id, True, closed_on, action.strip())


# ---------------------------------------------------------------- deadlines and status

RULE = "results_public"
DUE_SOON = 3  # working days


def policy_for(folder: DrawFolder, policy_path: str | Path | None = None) -> LoadedPolicy:
    """The given policy, or the one the draw names (policies/<id>.yaml)."""
    return load_policy(policy_path if policy_path is not None else policy_file(folder.policy_id))


def publication_due(loaded: LoadedPolicy, completed_on: dt.date) -> dt.date:
    """The policy's results_public deadline counted from the completion date (S833 without one)."""
    rules = loaded.policy.deadlines
    resolved = deadlines.resolve(rules, {"check_completed": completed_on}, loaded.calendar) if RULE in rules else {}
    if RULE not in resolved:
        raise SpotcheckError(Problem("S833", f"策略 {loaded.policy.id} 没有可从检查完成日起算的期限 {RULE}",
                                     file=str(loaded.path), where=f"deadlines → {RULE}",
                                     hint="写明 results_public：working_days: 20，after: check_completed"))
    return resolved[RULE]


def publication_dues(loaded: LoadedPolicy) -> Callable[[dt.date], dt.date]:
    """publication_due for one policy, each completion date counted once: a year's hundreds of thousands
    of results were completed on a few hundred days."""
    return lru_cache(maxsize=None)(partial(publication_due, loaded))


@dataclass(frozen=True)
class StatusLine:
    visit_id: str
    unit: str
    name: str
    uscc: str
    state: str
    completed_on: dt.date | None
    due: dt.date | None  # publication due; for a result not yet entered, the plan's results_due_by
    published_on: dt.date | None
    working_days_left: int | None  # from today to due; negative when overdue
    overdue: bool
    due_soon: bool
    follow_up: str  # 无需 / 待处置 / 已办结
    abnormal_candidate: bool
    note: str = ""  # why a deadline could not be computed (a year the calendar does not know)


@dataclass(frozen=True)
class Status:
    draw_id: str
    drawn_on: dt.date
    today: dt.date
    lines: tuple[StatusLine, ...]

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for line in self.lines if line.state == s) for s in STATES}

    @property
    def overdue(self) -> list[StatusLine]:
        return [line for line in self.lines if line.overdue]

    @property
    def due_soon(self) -> list[StatusLine]:
        return [line for line in self.lines if line.due_soon]

    @property
    def abnormal(self) -> list[StatusLine]:
        return [line for line in self.lines if line.abnormal_candidate]

    @property
    def open_follow_ups(self) -> list[StatusLine]:
        return [line for line in self.lines if line.follow_up == "待处置"]

    def to_dict(self) -> dict:
        def line(x: StatusLine) -> dict:
            return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in x.__dict__.items()}

        return {"draw_id": self.draw_id, "drawn_on": self.drawn_on.isoformat(), "today": self.today.isoformat(),
                "counts": self.counts(), "lines": [line(x) for x in self.lines]}


def status_line(track: Track, loaded: LoadedPolicy, today: dt.date,
                due_of: Callable[[dt.date], dt.date] | None = None) -> StatusLine:
    """Where one visit's result stands against its publication deadline on `today` (`due_of`: a
    memo of publication_due for this policy)."""
    due_of = due_of or partial(publication_due, loaded)
    completed = track.completed_on
    published_on = dt.date.fromisoformat(track.published.body["on"]) if track.published else None
    note = ""
    try:
        due = due_of(completed) if completed else track.visit.results_due_by
        left = loaded.calendar.working_days_between(today, due) if due else None
    except SpotcheckError as exc:
        # A year whose holidays are not yet known: report the state and say why the deadline is missing,
        # rather than abort the whole status.
        due, left, note = None, None, exc.problems[0].message
    pending = track.state != PUBLISHED
    follow = "无需" if not track.needs_follow_up else ("已办结" if track.follow_up_closed_on else "待处置")
    return StatusLine(
        visit_id=track.visit.visit_id, unit=track.visit.unit, name=track.visit.name, uscc=track.visit.uscc,
        state=track.state, completed_on=completed, due=due, published_on=published_on, working_days_left=left,
        overdue=pending and due is not None and today > due,
        due_soon=pending and left is not None and 0 <= left <= DUE_SOON,
        follow_up=follow, abnormal_candidate=track.abnormal_candidate, note=note,
    )


def status(draw_dir: str | Path, *, ledger_path: str | Path, policy_path: str | Path | None = None,
           today: dt.date | None = None) -> Status:
    """Every visit of a draw with its state, publication deadline, follow-up and 经营异常名录 flag."""
    today = today or dt.date.today()
    with Ledger.open(ledger_path, create=False) as ledger:
        folder = load_draw(draw_dir, ledger)
        loaded = policy_for(folder, policy_path)
        due_of = publication_dues(loaded)
        lines = tuple(status_line(t, loaded, today, due_of) for t in tracks(folder, ledger))
    return Status(folder.draw_id, folder.drawn_on, today, lines)
