"""The library calls behind `spotcheck draw` and `spotcheck verify`: inputs in, ledger and folder out.

Each function is one command's whole job, so the CLI stays a thin layer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
from spotcheck.rules.conditions import resolve_dates
from spotcheck.draw import compute as draw_stage
from spotcheck.draw import spark
from spotcheck.draw.history import HISTORY_COLUMNS, history_csv, history_frame, history_rows
from spotcheck.draw.lookback import FILE as LOOKBACK
from spotcheck.draw.lookback import lookback_csv, lookback_frame, read_lookback
from spotcheck.draw.reader import DrawFolder, read_folder
from spotcheck.draw.records import Summary
from spotcheck.draw.transcript import json_bytes
from spotcheck.draw.commitment import (
    Commitment,
    Seed,
    check_inputs,
    drill_seed,
    make_commitment,
    normalize_reveal,
    revealed_seed,
)
from spotcheck.directory.headers import readable_fields
from spotcheck.directory.kinds import load_for
from spotcheck.directory.load import EntityDirectory, Sheet, load_known, load_sheet
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.draw import folder as output
from spotcheck.draw.folder import first_difference, write_files
from spotcheck.ledger.history import append_history
from spotcheck.ledger.store import Ledger, claim_commitment, named_actor
from spotcheck.policy.cadence import lookback_years
from spotcheck.policy.departments import OFFICE
from spotcheck.policy.loaded import LoadedPolicy
from spotcheck.policy.loader import load_policy
from spotcheck.policy.model import coverage_kinds
from spotcheck.rules.conditions import AllOf, Leaf, Not
from spotcheck.resources import policy_file
from spotcheck.site import supervisor
from spotcheck.version import engine_version
from spotcheck.progress import Progress, silent
from spotcheck.year import revision
from spotcheck.year.rounds import Override, Request, Selection, drawn_rounds, select

if TYPE_CHECKING:
    from spotcheck.directory.synth_spec import SynthSpec


def spec_from_policy(loaded: LoadedPolicy) -> SynthSpec:
    """What a synthetic jurisdiction must hold so that every task of the policy has a non-empty scope."""
    # Synthetic data is made by its own command: a draw, which imports this module, does not load synth's.
    from spotcheck.directory.synth_spec import SynthSpec
    from spotcheck.rules import examples

    policy = loaded.policy
    starts = [c.window.start for c in policy.campaigns] + [t.window.start for t in policy.tasks if t.window]
    as_of = min(starts) if starts else dt.date(policy.year, 3, 1)
    profiles = []
    for task in policy.tasks:
        # Dates relative to the draw (“成立不满1年”) are planted as of the start of the work.
        example = examples.example(resolve_dates(task.scope, as_of))
        if example is not None:
            profiles.append(example)
            # Each sampling class (一人多照 …) is planted inside the task's scope, so its stratum is drawn.
            for klass in task.sampling.classes:
                extra = examples.example(resolve_dates(klass.when, as_of))
                if extra is not None:
                    labels = [*(example.get("labels") or []), *(extra.get("labels") or [])]
                    profiles.append({**example, **extra, "labels": list(dict.fromkeys(labels))})
    return SynthSpec(
        region=policy.jurisdiction.code,
        jurisdiction=policy.jurisdiction.region,
        city_unit=policy.jurisdiction.name,
        # A district-level policy lists streets or 市监所 grids, not counties: their entities carry the
        # jurisdiction's own 6-digit region code in their USCCs.
        districts=tuple(
            (d.code if d.code.isdigit() and len(d.code) == 6 else policy.jurisdiction.code, d.name, d.unit)
            for d in policy.jurisdiction.districts
        ) or _jurisdiction_alone(policy),
        as_of=as_of,
        profiles=tuple(profiles),
        specialties=tuple(sorted({i.specialty for i in loaded.items.values() if i.specialty})),
        **_department_units(loaded),
        **_kinds(loaded),
    )


def _jurisdiction_alone(policy: Any) -> tuple[tuple[str, str, str], ...]:
    """A county bureau that lists no districts is its own one district, inspected by itself."""
    j = policy.jurisdiction
    return ((j.code, j.region, j.name),)


def _kinds(loaded: LoadedPolicy) -> dict:
    """The kinds of object the policy's tasks and coverage name beyond the three market kinds, and the
    kinds graded on a scale other than the enterprises' (or on none), for the synthetic directory."""
    from spotcheck.directory.synth_rows import TYPE_MIX

    policy = loaded.policy
    if not policy.kinds:
        return {}
    named = set(coverage_kinds(policy))
    for task in policy.tasks:
        named |= _type_values(task.scope)
    extra = tuple(k for k in policy.kinds if k in named and k not in TYPE_MIX)
    usual = policy.kinds["企业"].scale if "企业" in policy.kinds else None
    scales = tuple(
        (k, tuple(policy.scales[kind.scale].values) if kind.scale in policy.scales else ())
        for k in (*TYPE_MIX, *extra) if (kind := policy.kinds.get(k)) is not None and kind.scale != usual
    )
    numbered = tuple((k, kind.uscc_codes[0] if kind.uscc_codes else None)
                     for k in extra if (kind := policy.kinds[k]).identified_by is not None)
    return {"extra_kinds": extra, "scales": scales, "numbered": numbered}


def _type_values(cond: Any) -> set[str]:
    """Every kind of object a condition names."""
    if isinstance(cond, Leaf):
        if cond.field != "type":
            return set()
        return set(cond.value) if isinstance(cond.value, tuple) else {cond.value}
    if isinstance(cond, Not):
        return _type_values(cond.not_)
    return set().union(*(_type_values(c) for c in (cond.all if isinstance(cond, AllOf) else cond.any)))


def _department_units(loaded: LoadedPolicy) -> dict:
    """The bureau's own department and the units of every other department, for synthetic inspectors."""
    jurisdiction = loaded.policy.jurisdiction
    names = {d.code: d.name for d in jurisdiction.districts}
    bureau, units = None, []
    for dept in loaded.policy.departments:
        if dept.kind == OFFICE:
            continue
        if jurisdiction.name in (dept.name, dept.unit):
            bureau = bureau or dept.id
            continue
        units.append((dept.id, jurisdiction.code, jurisdiction.region, dept.unit or dept.name))
        units += [(dept.id, code, names.get(code, code), unit) for code, unit in dept.district_units.items()]
    return {"bureau_department": bureau, "department_units": tuple(units)}


def drill_date(loaded: LoadedPolicy, today: dt.date) -> dt.date:
    """The date of a drill given no date: today inside the policy's year, else the year's first draw.

    A drill of last year's plan dated today would count its deadlines on another year's calendar
    (or on one the calendar does not know yet) and fall outside every task's months."""
    policy = loaded.policy
    if today.year == policy.year:
        return today
    starts = [c.window.start for c in policy.campaigns] + [t.window.start for t in policy.tasks if t.window]
    starts += [dt.date(policy.year, t.draw_months[0], 1) for t in policy.tasks if t.draw_months]
    return min(starts, default=dt.date(policy.year, 1, 1))


def synthesize(policy_path: Path, entities: int, inspectors: int, seed: str, out_dir: Path, *,
               dense: bool = False) -> list[Path]:
    """Synthetic entity and inspector directories and a recusal list shaped like the policy's jurisdiction
    (labels as rare as in a real city, or on 4% of entities each when `dense`)."""
    from spotcheck.directory import synth

    loaded = load_policy(policy_path)
    return list(synth.synthesize_to(spec_from_policy(loaded), entities, inspectors, seed, out_dir, dense=dense).values())


def _drawable(path: Path) -> LoadedPolicy:
    """A policy with at least one task: one without (a parent such as the national baseline) draws nobody."""
    loaded = load_policy(path)
    if not loaded.policy.tasks:
        raise SpotcheckError(Problem("R507", f"策略 {loaded.policy.id} 没有抽查任务，无从抽取", file=str(path),
                                     hint="抽取用列有 tasks 的本级策略，而不是只写底线的上级策略"))
    return loaded


def _history(ledger: Ledger, year: int) -> pl.DataFrame:
    return history_frame(ledger.history(year=year), year)


def _history_sha(history: pl.DataFrame) -> str:
    return hashlib.sha256(history_csv(history)).hexdigest()


def _lookback(ledger: Ledger, loaded: LoadedPolicy) -> pl.DataFrame | None:
    """The past checks, earlier years' included, that the plan's frequency rules read (None if none reads any)."""
    if lookback_years(loaded.policy) is None:
        return None
    return lookback_frame(ledger.history(), loaded.policy)


def _lookback_sha(lookback: pl.DataFrame | None) -> str | None:
    return None if lookback is None else hashlib.sha256(lookback_csv(lookback)).hexdigest()


def _due(loaded: LoadedPolicy, ledger: Ledger, request: Request | None, on: dt.date) -> Selection | None:
    """For an official draw: the rounds it draws (None: the whole year, as before), after the ledger's
    earlier draws are checked against this revision of the plan and against the rounds asked for."""
    drawn = drawn_rounds(ledger, loaded.policy.id, loaded.policy.year)
    revision.check(loaded, drawn)
    if (request is None or not request.partial) and not drawn:
        return None
    return select(loaded, drawn, request or Request(), on)


def _due_body(selection: Selection | None, request: Request | None) -> dict | None:
    if selection is None and (request is None or request.override is None):
        return None
    body: dict = {}
    if selection is not None and not selection.whole_year:
        body["selection"] = selection.to_dict()
    if request is not None and request.override is not None and (selection is None or selection.overridden):
        body["override"] = {
            "reason": request.override.reason,
            "approver": request.override.approver,
            "refused": selection.overridden if selection else [],
        }
    return body or None


def _in_policy_year(loaded, on: dt.date, what: str) -> None:
    """A plan is drawn in its own year: a 2021 plan drawn in 2026 would give deadlines five years past."""
    if on.year != loaded.policy.year:
        raise SpotcheckError(Problem(
            "R514", f"{what}日期 {on} 不在策略 {loaded.policy.id} 的年度 {loaded.policy.year} 年内",
            hint=f"用 --date 写明 {loaded.policy.year} 年内的抽取日期，或换用 {on.year} 年度的策略"))


def commit(
    policy_path: Path, entities_path: Path, *, ledger_path: Path, beacon: str, drawn_on: dt.date, reveal_as: str,
    actor: str | None, request: Request | None = None,
) -> Commitment:
    """Record a commitment to the inputs, the named future random value and the format it will be revealed
    in; nothing is drawn. With `request` (a task or a month), the commitment also fixes which rounds
    the draw will draw. `actor` names who commits (required)."""
    actor = named_actor(actor, "正式抽取的承诺")
    loaded = _drawable(policy_path)
    _in_policy_year(loaded, drawn_on, "抽取")
    entities = load_for(loaded.policy, entities_path)
    with Ledger.open(ledger_path, actor=actor) as ledger:
        history = _history(ledger, loaded.policy.year)
        selection = _due(loaded, ledger, request, drawn_on)
        c = make_commitment(
            policy_sha256=loaded.sha256,
            entities_sha256=entities.sha256,
            history_sha256=_history_sha(history),
            lookback_sha256=_lookback_sha(_lookback(ledger, loaded)),
            beacon=beacon,
            drawn_on=drawn_on.isoformat(),
            reveal_as=reveal_as,
            due=_due_body(selection, request),
        )
        with ledger.transaction() as tx:
            tx.append("commitment", c.id, {**c.body, "policy": loaded.policy.id})
    return c


def draw(
    policy_path: Path,
    entities_path: Path,
    out_dir: Path,
    *,
    ledger_path: Path,
    seed: str | None = None,
    reveal: str | None = None,
    commitment_id: str | None = None,
    drawn_on: dt.date | None = None,
    progress: Progress = silent,
    request: Request | None = None,
    actor: str | None = None,
    engine: str = "local",
    spark_master: str | None = None,
) -> draw_stage.Draw:
    """Draw with a drill seed, or reveal the committed random value; write the folder and the ledger together.

    A reveal is normalised to the format its commitment fixed and needs a named `actor`; a drill must be
    dated within the policy's year.

    `request` draws only what is asked (a task, a round, what is due by a month); a reveal draws the
    rounds its commitment fixed.

    `engine` "spark" reads and checks the directory and ranks on Apache Spark (`spark_master`, else
    spark-submit's master or local[*]); the problems and the folder are byte for byte the local engine's.
    """
    if (seed is None) == (reveal is None):
        raise SpotcheckError(Problem("R504", "须且只须给出 --seed（演练）或 --reveal（正式抽取）之一"))
    if reveal is not None:
        actor = named_actor(actor, "正式抽取")
    progress("读取策略")
    loaded = _drawable(policy_path)
    if reveal is None:
        _in_policy_year(loaded, drawn_on or dt.date.today(), "演练抽取")
    on_spark = _spark(engine, spark_master, progress)
    progress("读取并校验检查对象名录")
    if on_spark is not None:
        entities = spark.load(on_spark, loaded, entities_path)
    else:
        entities = load_for(loaded.policy, entities_path, _committed_reader(loaded, ledger_path, commitment_id if reveal else None))
    with spark.released(entities), Ledger.open(ledger_path, actor=actor) as ledger:
        history = _history(ledger, loaded.policy.year)
        lookback = _lookback(ledger, loaded)
        if reveal is not None:
            if not commitment_id:
                raise SpotcheckError(Problem("R505", "正式抽取须用 --commitment 指明承诺编号", hint="先运行 spotcheck draw --commit"))
            rec = ledger.latest("commitment", commitment_id)
            if rec is None:
                raise SpotcheckError(Problem("R506", f"台账中没有承诺 {commitment_id}", hint="用 spotcheck ledger show --kind commitment 查看"))
            if ledger.latest("claim", commitment_id) is not None:
                # A second reveal is refused before anything else, and the refusal is recorded.
                with ledger.transaction() as tx:
                    claim_commitment(tx, commitment_id)
            check_inputs(rec.body, policy_sha256=loaded.sha256, entities_sha256=entities.sha256, history_sha256=_history_sha(history),
                         lookback_sha256=_lookback_sha(lookback))
            fixed = rec.body.get("reveal_format")  # commitments made before formats were fixed take the text as typed
            the_seed: Seed = revealed_seed(commitment_id, normalize_reveal(fixed, reveal) if fixed else reveal)
            on = dt.date.fromisoformat(rec.body["drawn_on"])
            committed = _committed_request(rec.body, request)
            selection = _due(loaded, ledger, committed, on)
            override = rec.body.get("override")
        else:
            the_seed = drill_seed(seed)  # type: ignore[arg-type]
            on = drawn_on or drill_date(loaded, dt.date.today())
            selection = select(loaded, [], request, on, enforce=False) if request is not None else None
            override = None
        chosen = selection.rounds if selection is not None and not selection.whole_year else None
        if isinstance(entities, spark.CountedDirectory):
            result = spark.counted_draw(on_spark, loaded, entities, history, the_seed, on, progress=progress, select=chosen,
                                        keep_drawn=not the_seed.drill)
        else:
            result = draw_stage.compute(loaded, entities, history, the_seed, on, progress=progress, select=chosen, lookback=lookback,
                                        ranking=draw_stage.Ranking if on_spark is None else spark.ranking_on(on_spark))
        progress("写入抽取结果与台账")
        with output.committed(out_dir, ledger) as folder:
            digests = write_files(folder.path, result.files)
            with folder.transaction() as tx:
                if the_seed.commitment_id:
                    claim_commitment(tx, the_seed.commitment_id)
                body = {
                    "policy": loaded.policy.id,
                    "drill": the_seed.drill,
                    "transcript_sha256": digests["transcript.json"],
                    "draws_sha256": digests["draws.csv"],
                    "drawn": sum(t.drawn for t in result.summary.tasks),
                    "out": str(Path(out_dir)),
                    **_year_body(loaded, result, on, chosen is not None, override),
                }
                tx.append("drill" if the_seed.drill else "draw", result.id, body)
                if not the_seed.drill:
                    append_history(tx, history_rows(loaded.policy, result.id, result.drawn), key=result.id)
    return result


def _committed_reader(loaded: LoadedPolicy, ledger_path: Path, commitment_id: str | None
                      ) -> Callable[[str | Path, Sheet], EntityDirectory]:
    """How a reveal reads its directory: not checked again when its bytes are those its commitment recorded
    under this policy and this engine (the commitment checked them clean then, as load_sheet would now);
    otherwise, or when the commitment cannot be read here (the reveal then says why), checked whole."""
    committed = None
    if commitment_id and Path(ledger_path).is_file():
        try:
            with Ledger.open(ledger_path, create=False) as ledger:
                committed = ledger.latest("commitment", commitment_id)
        except SpotcheckError:
            pass
    body = committed.body if committed is not None else {}
    if body.get("engine_version") != engine_version() or body.get("policy_sha256") != loaded.sha256:
        return load_sheet

    def read(path: str | Path, sheet: Sheet) -> EntityDirectory:
        fields = [f.name for f in readable_fields(sheet.fields)]
        return load_known(path, sheet, fields, {body["entities_sha256"]}) or load_sheet(path, sheet)

    return read


def _spark(engine: str, master: str | None, progress: Progress):
    """The Spark session of a Spark draw (None for a local one): Spark is started only when asked for."""
    if engine == "local":
        return None
    progress("启动 Spark")
    return spark.session(master)


def _committed_request(body: dict, asked: Request | None) -> Request | None:
    """The request a commitment fixed; a reveal asking for other rounds is refused."""
    fixed = body.get("selection")
    override = body.get("override")
    if asked is not None and asked.partial and fixed is None:
        raise SpotcheckError(Problem("R527", "该承诺是全年抽取的承诺，揭示时不能再指定 --task 或 --due",
                                     hint="按承诺时的范围揭示；只抽部分任务须重新承诺"))
    if fixed is None:
        return Request(override=Override(override["reason"], override["approver"])) if override else None
    return Request(override=Override(override["reason"], override["approver"]) if override else None, fixed=fixed)


def _year_body(loaded: LoadedPolicy, result: draw_stage.Draw, on: dt.date, due: bool, override: dict | None) -> dict:
    """What the year board and later draws read from a draw's ledger record: which rounds, under which revision."""
    rev = loaded.policy.revision
    tasks = {
        t.task_id: {"rounds": [r.round for r in t.rounds], "months": [r.month for r in t.rounds]}
        for t in result.transcript.tasks
    }
    for t in result.summary.tasks:
        tasks[t.task_id]["drawn"] = t.drawn
    body = {
        "year": loaded.policy.year,
        "drawn_on": on.isoformat(),
        "policy_sha256": loaded.sha256,
        "revision": rev.number if rev else None,
        "due": due,
        "tasks": tasks,
        "excluded_by_cap": result.exclusions.height,
    }
    if override:
        body["override"] = override
    return body


@dataclass(frozen=True)
class Verification:
    ok: bool
    problems: list[Problem]
    checked: list[str]


def recompute(folder: DrawFolder, entities_path: Path, policy_path: Path | None = None) -> draw_stage.Draw:
    """The draw computed again from what its folder recorded and the entity directory."""
    loaded = load_policy(policy_path or policy_file(folder.policy_id))
    entities = load_for(loaded.policy, entities_path)
    recorded = folder.transcript.entities
    if entities.sha256 == recorded.sha256 and entities.path.name != recorded.file:
        # The directory is matched by content: a copy under another name is the same directory, and the
        # transcript keeps the name it was drawn under.
        entities = dataclasses.replace(entities, path=entities.path.with_name(recorded.file))
    history = pl.read_csv(folder.path / "history.csv", schema=HISTORY_COLUMNS)
    lookback = read_lookback((folder.path / LOOKBACK).read_bytes()) if folder.transcript.lookback is not None else None
    return draw_stage.compute(loaded, entities, history, folder.seed, folder.drawn_on, select=folder.transcript.selection,
                              lookback=lookback)


def verify(
    draw_dir: Path,
    entities_path: Path,
    *,
    policy_path: Path | None = None,
    inspectors_path: Path | None = None,
    recusals_path: Path | None = None,
) -> Verification:
    """Recompute a draw folder (and its visits and teams, when planned) and report the first difference per file."""
    folder = read_folder(draw_dir, needs=("history.csv",))
    draw_dir = folder.path
    result = recompute(folder, entities_path, policy_path)
    problems: list[Problem] = []
    if folder.transcript.entities.sha256 != result.transcript.entities.sha256:
        problems.append(Problem("V703", "检查对象名录与抽取时使用的文件不一致（SHA-256 不同）", file=str(entities_path)))
    # A folder lodged with the supervisor carries the commitment: it must match what was revealed.
    problems += supervisor.check_commitment(draw_dir, folder.transcript.to_json())
    checked = []
    for name, data in result.files.items():
        path = draw_dir / name
        checked.append(name)
        if not path.is_file():
            problems.append(Problem("V704", f"缺少文件 {name}", file=name))
            continue
        actual: bytes | Path = path
        if name == "summary.json":
            # Later stages add their own sections (visits, teams) to the summary; the draw's part must match.
            on_file = json.loads(path.read_bytes())
            actual = json_bytes({k: on_file[k] for k in Summary.model_fields if k in on_file})
        diff = first_difference(name, data, actual)
        if diff:
            problems.append(diff)
    if (draw_dir / "visits.csv").is_file():
        if inspectors_path is None:
            problems.append(
                Problem("V705", "该目录已生成检查组，核验须同时给出 --inspectors（及 --recusals）", file=str(draw_dir))
            )
        else:
            # The plan's solvers (OR-Tools, SciPy) are loaded when a planned folder is verified, not by every draw
            # (with synth's modules, 1.60-1.92 -> 1.16-1.44 s of CPU to import this module).
            from spotcheck.plan import changes

            problems += changes.verify_workplan(draw_dir, inspectors_path, recusals_path, policy_path=policy_path)
            checked += ["visits.csv", "teams.csv"]
    return Verification(not problems, problems, checked)
