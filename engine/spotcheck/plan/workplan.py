"""The library call behind `spotcheck plan`: a draw folder becomes a work plan of visits and teams,
written into the folder and the ledger together (replacing a team member later: spotcheck.plan.changes).

What `plan` adds to a draw folder (all at once, through folder.staged):
  visits.csv           one row per visit (spotcheck.plan.visits), with `staffed` and the reason when not
  teams.csv            visit_id, inspector_id, name, unit, role (主查/组员/专家/第三方机构), certificate
  units/<unit>.xlsx    per inspecting unit (spotcheck.plan.workbooks): its visits and teams (and joint visits its people join)
  previous_leads.csv   uscc, lead_inspector: the last recorded lead of each drawn entity, read from
                       the ledger at planning time, so the rotation can be recomputed later
  workplan.json        what the plan read (policy, directories by sha256) and how it chose
  summary.json         the draw's summary with `visits` and `teams` added
and `reassignments.json` once a team member is replaced.

Ledger: a real draw gets one `visit` and one `team` record per visit (key visit_id) and history rows
carrying the lead inspector; a drill gets a single `drill_plan` record. The history rows repeat the
draw stage's rows (same task, items and per-month visit key) with `lead_inspector` set, so the
frequency caps, which count distinct visit keys, count nothing twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from spotcheck.plan import teams as team_stage
from spotcheck.plan import visits as visit_stage
from spotcheck.plan.costs import COST_BITS
from spotcheck.draw.applies import read_applies
from spotcheck.directory.kinds import load_for
from spotcheck.directory.load import (
    EntityDirectory,
    InspectorDirectory,
    RecusalList,
    load_inspectors,
    load_recusals,
)
from spotcheck.plan.eligibility import LEAD
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.draw.folder import Content, committed, write_files
from spotcheck.draw.history import history_rows
from spotcheck.draw.reader import DRAWS, DrawFolder, read_folder
from spotcheck.draw.records import Summary
from spotcheck.draw.transcript import csv_pieces, json_bytes
from spotcheck.ledger.history import append_history
from spotcheck.ledger.store import Ledger
from spotcheck.policy.loaded import LoadedPolicy
from spotcheck.policy.loader import load_policy
from spotcheck.resources import policy_file
from spotcheck.progress import Progress, silent
from spotcheck.plan.workbooks import unit_workbooks, write_workbooks

FORMAT = "spotcheck-workplan/1"
LEADS_COLUMNS = {"uscc": pl.String, "lead_inspector": pl.String}


# ---------------------------------------------------------------------------------------------
# Reading a draw folder


def read_drawn(draw_dir: str | Path) -> DrawFolder:
    """The draw folder with its drawn list read (and checked) now, before anything is written."""
    folder = read_folder(draw_dir, needs=(DRAWS,))
    folder.drawn  # noqa: B018
    return folder


def drawn_policy(folder: DrawFolder, policy_path: Path | None) -> LoadedPolicy:
    loaded = load_policy(policy_path or policy_file(folder.policy_id))
    if loaded.sha256 != folder.transcript.policy.sha256:
        raise SpotcheckError(Problem(
            "T803", f"策略 {loaded.policy.id} 与抽取时使用的版本不一致（SHA-256 不同）", file=str(loaded.path),
            hint="使用抽取时的策略文件安排检查；策略修改后须重新抽取"))
    return loaded


def directories(inspectors, recusals) -> tuple[InspectorDirectory, RecusalList | None]:
    ins = inspectors if isinstance(inspectors, InspectorDirectory) else load_inspectors(inspectors)
    rec = recusals if recusals is None or isinstance(recusals, RecusalList) else load_recusals(recusals)
    return ins, rec


def file_info(directory) -> dict | None:
    if directory is None:
        return None
    return {"file": directory.path.name, "sha256": directory.sha256, "rows": len(directory)}


# ---------------------------------------------------------------------------------------------
# Computing a work plan


@dataclass(frozen=True)
class Workplan:
    """What `plan` computes. `files` are the exact contents (paths relative to the draw folder): visits.csv
    and teams.csv as pieces made while they are written (at 10M 0.7 and 0.5 GB, never held whole), the rest
    as bytes; workplan.json, which names their SHA-256, is made from the digests of the files as written
    (`workplan_json`), the per-unit workbooks from `visits` and `teams`."""

    draw_id: str
    drill: bool
    visits: pl.DataFrame  # visits.COLUMNS + staffed, reason
    teams: pl.DataFrame  # teams.TEAM_COLUMNS
    summary: Summary  # the draw's, with the visits and teams sections
    files: dict[str, Content]
    meta: dict  # workplan.json but the planned files' SHA-256

    def workplan_json(self, digests: Mapping[str, str]) -> bytes:
        return json_bytes({**self.meta, "planned": {"visits_sha256": digests["visits.csv"], "teams_sha256": digests["teams.csv"]}})


def compute(
    folder: DrawFolder,
    loaded: LoadedPolicy,
    inspectors: InspectorDirectory,
    recusals: RecusalList | None,
    previous_leads: Mapping[str, str],
    progress: Progress = silent,
) -> Workplan:
    """Visits and teams for a draw folder; pure: reads nothing but its arguments."""
    progress("合并检查任务")
    visits = visit_stage.build(loaded, folder.drawn, draw_id=folder.draw_id, drawn_on=folder.drawn_on,
                               applies=read_applies(folder.path))
    progress("匹配检查人员")
    staffing = team_stage.staff(
        loaded, visits.frame, inspectors.frame, recusals.frame if recusals is not None else None,
        key=folder.seed.key, previous_leads=previous_leads,
    )
    frame = visits.frame.join(staffing.outcome, on="visit_id", how="left", maintain_order="left")
    # 跨部门联合 only when the departments actually take part: a joint visit left without a team is not.
    frame = frame.with_columns(pl.col("joint") & pl.col("staffed"))
    leads = _leads_frame(frame, previous_leads)
    summary = folder.summary.with_sections(visits=visits.summary(folder.summary.coordination), teams=staffing.summary())
    leads_bytes = leads.write_csv().encode("utf-8")
    meta = {
        "format": FORMAT,
        "draw_id": folder.draw_id,
        "drill": folder.drill,
        "policy": {"id": loaded.policy.id, "sha256": loaded.sha256},
        "inspectors": file_info(inspectors),
        "recusals": file_info(recusals),
        "previous_leads": {"file": "previous_leads.csv", "sha256": sha256_hex(leads_bytes), "rows": leads.height},
        "cost": (f"mix64(sha256(key + '|visit|' + visit_id)[:8] XOR sha256(key + '|inspector|' + inspector_id)[:8]) >> {64 - COST_BITS}，"
                 "mix64 为 splitmix64 终混函数，key 为抽取的种子密钥（见 docs/teams.md）"),
    }
    files: dict[str, Content] = {
        "visits.csv": lambda: csv_pieces(visit_stage.csv_frame(frame)),
        "teams.csv": lambda: csv_pieces(staffing.teams.select(team_stage.TEAM_COLUMNS)),
        "previous_leads.csv": leads_bytes,
        "summary.json": json_bytes(summary.to_json()),
    }
    return Workplan(folder.draw_id, folder.drill, frame, staffing.teams, summary, files, meta)


def _leads_frame(visits: pl.DataFrame, previous_leads: Mapping[str, str]) -> pl.DataFrame:
    leads = pl.DataFrame({"uscc": list(previous_leads), "lead_inspector": list(previous_leads.values())}, schema=LEADS_COLUMNS)
    return leads.filter(pl.col("uscc").is_in(visits["uscc"].implode())).sort("uscc", "lead_inspector")


_LEADS = ("SELECT uscc, lead_inspector FROM history WHERE lead_inspector IS NOT NULL AND lead_inspector != ''"
          " ORDER BY seq, row_no")


def previous_leads(ledger: Ledger, usccs: pl.Series) -> dict[str, str]:
    """uscc → the lead inspector of the entity's last recorded visit (any year).

    The rows that name a lead are read in the order recorded and kept here for the drawn entities: asked
    for the drawn USCCs (an IN list), SQLite indexed a province's 2.6 million of them first, 14 s even
    when no row names a lead."""
    drawn = pl.col("uscc").is_in(usccs.implode())
    parts = [pl.DataFrame(chunk, schema=LEADS_COLUMNS, orient="row").filter(drawn) for chunk in ledger.chunks(_LEADS)]
    leads = pl.concat([pl.DataFrame(schema=LEADS_COLUMNS), *parts])
    return dict(leads.unique("uscc", keep="last", maintain_order=True).iter_rows())


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------------------------
# plan


def plan(
    draw_dir: str | Path,
    *,
    inspectors_path: str | Path,
    recusals_path: str | Path | None = None,
    ledger_path: str | Path,
    policy_path: str | Path | None = None,
    entities_path: str | Path | None = None,
    progress: Progress = silent,
) -> Workplan:
    """Build visits and teams for a draw folder; write them into it and the ledger together.

    With `entities_path` (the directory the draw read), recusals naming an entity it lacks are refused
    too (D214): without it only the inspectors they name can be checked."""
    folder = read_drawn(draw_dir)
    if (folder.path / "visits.csv").exists() or (folder.path / "teams.csv").exists():
        raise SpotcheckError(Problem(
            "T802", f"{folder.path} 已安排过检查（已有 visits.csv、teams.csv），不会重新匹配检查人员",
            file=str(folder.path),
            hint="更换检查人员用 spotcheck teams reassign；须重新安排的，用新的抽取结果目录"))
    progress("读取策略与名录")
    loaded = drawn_policy(folder, Path(policy_path) if policy_path else None)
    inspectors, recusals = directories(inspectors_path, recusals_path)
    entities = _drawn_entities(folder, loaded, entities_path) if recusals is not None and entities_path else None
    if recusals is not None and (unknown := recusals.unknown_references(entities, inspectors)):
        raise SpotcheckError(unknown)
    with Ledger.open(ledger_path) as ledger:
        leads = previous_leads(ledger, folder.drawn["uscc"])
        result = compute(folder, loaded, inspectors, recusals, leads, progress)
        with committed(folder.path, ledger, adding=True) as stage:
            progress("写入检查安排")
            # The files (mostly polars and SHA-256) are written while the workbooks are made (their threads leave
            # part of the second core idle): a province's 5 s and 12 s overlap.
            with ThreadPoolExecutor(max_workers=1) as beside:
                writing = beside.submit(write_files, stage.path, result.files)
                progress("生成各单位检查安排表")
                write_workbooks(stage.path, unit_workbooks(result.visits, result.teams, folder.drawn_on))
                digests = writing.result()
            write_files(stage.path, {"workplan.json": result.workplan_json(digests)})
            progress("写入台账")
            with stage.transaction() as tx:
                _refuse_second_plan(tx, folder, result)
                if folder.drill:
                    tx.append("drill_plan", folder.draw_id, _drill_body(result, digests))
                else:
                    _record(tx, folder, loaded, result)
    return result


def _drawn_entities(folder: DrawFolder, loaded: LoadedPolicy, path: str | Path) -> EntityDirectory:
    entities = load_for(loaded.policy, path)
    if entities.sha256 != folder.transcript.entities.sha256:
        raise SpotcheckError(Problem(
            "T840", f"检查对象名录 {Path(path).name} 不是本次抽取读取的那一份（SHA-256 不同），无法据此核对回避名单",
            file=str(path), hint=f"用抽取时的名录（{folder.transcript.entities.file}，sha256 {folder.transcript.entities.sha256[:12]}…）"))
    return entities


def _refuse_second_plan(tx, folder: DrawFolder, result: Workplan) -> None:
    """The ledger, not the folder, decides whether a draw was planned: read under its write lock, so of
    two runs at once (or a retry after a crash) exactly one records its visits and teams."""
    ledger = tx.ledger
    done = (ledger.latest("drill_plan", folder.draw_id) if folder.drill
            else next((r for v in result.visits["visit_id"].head(1) if (r := ledger.latest("visit", v))), None))
    if done is not None:
        raise SpotcheckError(Problem(
            "T828", f"抽取 {folder.draw_id} 已安排过检查（台账记录 #{done.seq}），不会重复记录", file=str(folder.path),
            hint="更换检查人员用 spotcheck teams reassign；须重新安排的，用新的抽取结果目录"))


def _drill_body(result: Workplan, digests: Mapping[str, str]) -> dict:
    t = result.summary.section("teams")
    return {
        "draw_id": result.draw_id,
        "drill": True,
        "visits": result.visits.height,
        "staffed": t["staffed"],
        "unstaffed": t["unstaffed"],
        "visits_sha256": digests["visits.csv"],
        "teams_sha256": digests["teams.csv"],
    }


def _record(tx, folder: DrawFolder, loaded: LoadedPolicy, result: Workplan) -> None:
    """One `visit` and one `team` record per visit, then the history rows. Each kind streams into the ledger
    as one batch (`Transaction.extend`): at a million visits, a statement and a clock reading per record cost
    more than the records themselves."""
    draw_id, deadlines = folder.draw_id, visit_stage.DEADLINE_COLUMNS
    fields = ("uscc", "name", "district", "tier", "window", "task_ids", "item_codes", "lead_unit", "units", "joint",
              "inspecting_unit")
    visits = result.visits.select("visit_id", *fields, *(pl.col(c).cast(pl.Utf8) for c in deadlines))
    tx.extend("visit", ((row[0], {"draw_id": draw_id, **dict(zip(fields + deadlines, row[1:]))})
                        for row in visits.iter_rows()))
    # Each visit's members as two lists in the teams' row order, made into dicts only as its record is written:
    # a dict per member held for the whole year took about 2 GB at a province's size.
    crew = result.teams.group_by("visit_id", maintain_order=True).agg("inspector_id", "role")
    staffing = result.visits.select("visit_id", "staffed", "reason").join(crew, on="visit_id", how="left",
                                                                          maintain_order="left")
    tx.extend("team", ((vid, {"draw_id": draw_id, "staffed": staffed, "reason": reason,
                              "members": [{"inspector_id": i, "role": r} for i, r in zip(ids or (), roles or ())]})
                       for vid, staffed, reason, ids, roles in staffing.iter_rows()))
    append_history(tx, led_history_rows(folder, loaded, result.visits, result.teams), key=folder.draw_id)


def led_history_rows(folder: DrawFolder, loaded: LoadedPolicy, visits: pl.DataFrame, teams: pl.DataFrame) -> pl.DataFrame:
    """The draw stage's history rows of staffed visits, with the visit's lead inspector added."""
    lead = teams.filter(pl.col("role") == LEAD).select("visit_id", pl.col("inspector_id").alias("lead_inspector"))
    per_task = visits.filter(pl.col("staffed")).select("visit_id", "uscc", "task_ids").explode("task_ids").join(lead, on="visit_id")
    # An entity drawn for one task in two rounds has the lead of the later of its visits on both rows.
    leads = per_task.select("uscc", pl.col("task_ids").alias("task_id"), "lead_inspector").unique(
        ["uscc", "task_id"], keep="last", maintain_order=True)
    return history_rows(loaded.policy, folder.draw_id, folder.drawn, leads=leads)


