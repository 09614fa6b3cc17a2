"""The library calls behind `spotcheck draw` and `spotcheck verify`: inputs in, ledger and folder out.

Each function is one command's whole job, so the CLI stays a thin layer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from spotcheck.rules import examples
from spotcheck.directory import synth
from spotcheck.directory.synth_spec import SynthSpec
from spotcheck.plan import changes
from spotcheck.draw import compute as draw_stage
from spotcheck.draw.history import HISTORY_COLUMNS, history_csv, history_frame, history_rows
from spotcheck.draw.reader import DrawFolder, read_folder
from spotcheck.draw.records import Summary
from spotcheck.draw.transcript import json_bytes
from spotcheck.draw.commitment import (
    Commitment,
    Seed,
    check_inputs,
    drill_seed,
    make_commitment,
    revealed_seed,
)
from spotcheck.directory.load import load_entities
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.draw.folder import first_difference, staged, write_files
from spotcheck.ledger.history import append_history
from spotcheck.ledger.store import Ledger, claim_commitment
from spotcheck.policy.departments import OFFICE
from spotcheck.policy.loaded import LoadedPolicy
from spotcheck.policy.loader import load_policy
from spotcheck.resources import policy_file
from spotcheck.progress import Progress, silent


def spec_from_policy(loaded: LoadedPolicy) -> SynthSpec:
    """What a synthetic jurisdiction must hold so that every task of the policy has a non-empty scope."""
    policy = loaded.policy
    profiles = []
    for task in policy.tasks:
        example = examples.example(task.scope)
        if example is not None:
            profiles.append(example)
    starts = [c.window.start for c in policy.campaigns] + [t.window.start for t in policy.tasks if t.window]
    as_of = min(starts) if starts else dt.date(policy.year, 3, 1)
    return SynthSpec(
        region=policy.jurisdiction.code,
        jurisdiction=policy.jurisdiction.region,
        city_unit=policy.jurisdiction.name,
        # A district-level policy lists streets or 市监所 grids, not counties: their entities carry the
        # jurisdiction's own 6-digit region code in their USCCs.
        districts=tuple(
            (d.code if d.code.isdigit() and len(d.code) == 6 else policy.jurisdiction.code, d.name, d.unit)
            for d in policy.jurisdiction.districts
        ),
        as_of=as_of,
        profiles=tuple(profiles),
        specialties=tuple(sorted({i.specialty for i in loaded.items.values() if i.specialty})),
        **_department_units(loaded),
    )


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


def synthesize(policy_path: Path, entities: int, inspectors: int, seed: str, out_dir: Path) -> list[Path]:
    """Synthetic entity and inspector directories and a recusal list shaped like the policy's jurisdiction."""
    loaded = load_policy(policy_path)
    result = synth.synthesize(spec_from_policy(loaded), entities, inspectors, seed)
    return list(synth.write(result, out_dir).values())


def _history(ledger: Ledger, year: int) -> pl.DataFrame:
    return history_frame(ledger.history(year=year), year)


def _history_sha(history: pl.DataFrame) -> str:
    return hashlib.sha256(history_csv(history)).hexdigest()


def commit(policy_path: Path, entities_path: Path, *, ledger_path: Path, beacon: str, drawn_on: dt.date) -> Commitment:
    """Record a commitment to the inputs and the named future random value; nothing is drawn."""
    loaded = load_policy(policy_path)
    entities = load_entities(entities_path)
    with Ledger.open(ledger_path) as ledger:
        history = _history(ledger, loaded.policy.year)
        c = make_commitment(
            policy_sha256=loaded.sha256,
            entities_sha256=entities.sha256,
            history_sha256=_history_sha(history),
            beacon=beacon,
            drawn_on=drawn_on.isoformat(),
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
) -> draw_stage.Draw:
    """Draw with a drill seed, or reveal the committed random value; write the folder and the ledger together."""
    if (seed is None) == (reveal is None):
        raise SpotcheckError(Problem("R504", "须且只须给出 --seed（演练）或 --reveal（正式抽取）之一"))
    progress("读取策略")
    loaded = load_policy(policy_path)
    progress("读取并校验检查对象名录")
    entities = load_entities(entities_path)
    with Ledger.open(ledger_path) as ledger:
        history = _history(ledger, loaded.policy.year)
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
            check_inputs(rec.body, policy_sha256=loaded.sha256, entities_sha256=entities.sha256, history_sha256=_history_sha(history))
            the_seed: Seed = revealed_seed(commitment_id, reveal)
            on = dt.date.fromisoformat(rec.body["drawn_on"])
        else:
            the_seed = drill_seed(seed)  # type: ignore[arg-type]
            on = drawn_on or dt.date.today()
        result = draw_stage.compute(loaded, entities, history, the_seed, on, progress=progress)
        progress("写入抽取结果与台账")
        with staged(out_dir) as folder:
            digests = write_files(folder, result.files)
            with ledger.transaction() as tx:
                if the_seed.commitment_id:
                    claim_commitment(tx, the_seed.commitment_id)
                body = {
                    "policy": loaded.policy.id,
                    "drill": the_seed.drill,
                    "transcript_sha256": digests["transcript.json"],
                    "draws_sha256": digests["draws.csv"],
                    "drawn": result.drawn.height,
                    "out": str(Path(out_dir)),
                }
                tx.append("drill" if the_seed.drill else "draw", result.id, body)
                if not the_seed.drill:
                    append_history(tx, history_rows(loaded.policy, result.id, result.drawn), key=result.id)
    return result


@dataclass(frozen=True)
class Verification:
    ok: bool
    problems: list[Problem]
    checked: list[str]


def recompute(folder: DrawFolder, entities_path: Path, policy_path: Path | None = None) -> draw_stage.Draw:
    """The draw computed again from what its folder recorded and the entity directory."""
    loaded = load_policy(policy_path or policy_file(folder.policy_id))
    entities = load_entities(entities_path)
    history = pl.read_csv(folder.path / "history.csv", schema=HISTORY_COLUMNS)
    return draw_stage.compute(loaded, entities, history, folder.seed, folder.drawn_on)


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
            problems += changes.verify_workplan(draw_dir, inspectors_path, recusals_path)
            checked += ["visits.csv", "teams.csv"]
    return Verification(not problems, problems, checked)
