"""What the public site is built from: the ledger's draws, commitments and published results, the
draw folders the ledger names, and the policies the draws used.

Everything is read here once and handed on as typed records; nothing is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from spotcheck.draw.reader import DRAWS, DrawFolder, load_draw, read_folder
from spotcheck.draw.records import TaskCounts, Transcript
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.ids import HINT as ID_HINT
from spotcheck.ids import is_path_id
from spotcheck.policy.files import CASES_SUFFIX
from spotcheck.ledger.store import Ledger, Record
from spotcheck.policy.loader import LoadedPolicy, load_policy
from spotcheck.resources import POLICIES
from spotcheck.results import publish as results_publish
from spotcheck.results import records as results


@dataclass(frozen=True)
class ResultRow:
    """One published result, in the national columns, with its publication and due dates."""

    row: results_publish.PublicRow
    published_on: str
    due_on: str


@dataclass
class DrawSource:
    record: Record  # the ledger's draw (or drill) record
    draw: DrawFolder  # the folder the record names, read through the one draw-folder reader
    loaded: LoadedPolicy
    drawn: pl.DataFrame  # draws.csv: task_id, round, uscc, name, district, stratum, hash
    commitment: Record | None  # for an official draw: the commitment it revealed
    results: list[ResultRow] = field(default_factory=list)
    units: dict[str, list[str]] = field(default_factory=dict)  # task → the bodies inspecting its visits

    @property
    def id(self) -> str:
        return self.record.key

    @property
    def folder(self) -> Path:
        return self.draw.path

    @property
    def transcript(self) -> Transcript:
        return self.draw.transcript

    @property
    def drill(self) -> bool:
        return self.draw.drill

    def counts(self, task_id: str) -> TaskCounts:
        """summary.json's counts of one task."""
        return next(t for t in self.draw.summary.tasks if t.task_id == task_id)


@dataclass(frozen=True)
class Sources:
    ledger_path: Path
    head_seq: int
    head_hash: str
    draws: list[DrawSource]
    policies: list[LoadedPolicy]  # every policy a draw used, in the order first used


def _folder(out: str, ledger_path: Path) -> Path:
    """A draw record's folder: as recorded, else beside the ledger (a moved or copied year's files)."""
    recorded = Path(out)
    for candidate in (recorded, ledger_path.parent / recorded, ledger_path.parent / recorded.name):
        if (candidate / "transcript.json").is_file():
            return candidate
    return recorded


def _policy(policy_id: str, sha256: str, policies_dir: Path, where: str, problems: list[Problem]) -> LoadedPolicy | None:
    """The policy version a draw used. A revised plan's earlier versions may be kept beside the current
    file under names that start the same (2021.yaml, 2021.r1.yaml …): the one whose hash matches is used."""
    if not is_path_id(policy_id):
        problems.append(Problem("W901", f"抽取 {where} 记录的策略标识 {policy_id!r} 含有不允许的字符", hint=ID_HINT))
        return None
    path = policies_dir / f"{policy_id}.yaml"
    if not path.is_file():
        problems.append(Problem("W901", f"找不到抽取 {where} 使用的策略 {policy_id}", file=str(path),
                                hint="用 --policies 指向存放该策略的目录（策略标识对应 <目录>/<标识>.yaml）"))
        return None
    stem = path.name[: -len(".yaml")]
    others = sorted(p for p in path.parent.glob(f"{stem}*.yaml") if p != path and not p.name.endswith(CASES_SUFFIX))
    for candidate in (path, *others):
        loaded = load_policy(candidate)
        if loaded.sha256 == sha256 and loaded.policy.id == policy_id:
            return loaded
    problems.append(Problem("W902", f"策略 {policy_id} 与抽取 {where} 使用的版本不一致（抽取时 {sha256[:12]}…，现在 {load_policy(path).sha256[:12]}…）",
                            file=str(path), hint=f"网站须按抽取时的计划版本生成：把那一版另存为 {stem}.r<修订次数>.yaml 放在旁边，或用 --policies 指向保存它的目录"))
    return None


DRAWN_COLUMNS = ("task_id", "round", "uscc", "name", "district", "stratum", "hash")


def _visits(source: DrawSource, ledger: Ledger) -> None:
    """The bodies inspecting each task, and the draw's published results, once its visits are planned."""
    if not (source.folder / "visits.csv").is_file():
        return
    folder = load_draw(source.folder, ledger)
    for visit in folder.visits.values():
        for task_id in visit.task_ids:
            units = source.units.setdefault(task_id, [])
            if visit.unit not in units:
                units.append(visit.unit)
    source.results = _results(source, folder, ledger)


def _results(source: DrawSource, folder: DrawFolder, ledger: Ledger) -> list[ResultRow]:
    """The draw's published results, each in the last version published, as the public list shows them."""
    shown = [t for t in results.tracks(folder, ledger) if t.public]
    rows = results_publish.public_rows(source.loaded, [(t.visit, t.public[0]) for t in shown])
    dates = {}
    for t in shown:
        result, mark = t.public
        dates[(result.body["uscc"], result.body["completed_on"])] = (
            mark.body.get("on") or mark.at[:10],
            results.publication_due(source.loaded, dt.date.fromisoformat(result.body["completed_on"])).isoformat(),
        )
    return [ResultRow(r, *dates[(r.uscc, r.completed_on)]) for r in rows]


def read(ledger_path: Path, policies_dir: Path | None = None, *, drills: bool = False) -> Sources:
    """Everything the site shows, from the ledger and the folders it names; all problems at once (W901–W904)."""
    ledger_path = Path(ledger_path)
    policies_dir = Path(policies_dir) if policies_dir else POLICIES
    if not ledger_path.is_file():
        raise SpotcheckError(Problem("W903", f"台账 {ledger_path} 不存在", file=str(ledger_path), hint="用 --ledger 指定台账文件"))
    problems: list[Problem] = []
    draws: list[DrawSource] = []
    policies: dict[str, LoadedPolicy] = {}
    with Ledger.open(ledger_path, create=False) as ledger:
        head_seq, head_hash = ledger.head()
        commitments = {r.key: r for r in ledger.iter("commitment")}
        kinds = ("draw", "drill") if drills else ("draw",)
        for record in ledger.iter():
            if record.kind not in kinds:
                continue
            folder = _folder(record.body.get("out", ""), ledger_path)
            if not (folder / "transcript.json").is_file():
                problems.append(Problem("W904", f"台账第 {record.seq} 条记录的抽取结果目录 {folder} 不存在", file=str(folder),
                                        hint="把抽取结果目录放回原处，或放在台账文件旁边"))
                continue
            draw = read_folder(folder, needs=(DRAWS,))
            if draw.transcript.draw_id != record.key:
                problems.append(Problem("W905", f"{folder / 'transcript.json'} 与台账第 {record.seq} 条抽取记录不一致",
                                        file=str(folder / "transcript.json"), hint="抽取结果目录被改动；用 spotcheck verify 核对"))
                continue
            ref = draw.transcript.policy
            key = ref.id + "@" + ref.sha256
            if key not in policies:
                loaded = _policy(ref.id, ref.sha256, policies_dir, record.key, problems)
                if loaded is None:
                    continue
                policies[key] = loaded
            cid = draw.transcript.seed.commitment_id
            source = DrawSource(record, draw, policies[key], draw.drawn.select(DRAWN_COLUMNS),
                                commitments.get(cid) if cid else None)
            _visits(source, ledger)
            draws.append(source)
    if problems:
        raise SpotcheckError(problems)
    return Sources(ledger_path, head_seq, head_hash, draws, list(policies.values()))
