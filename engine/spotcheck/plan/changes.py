"""Changes to a written work plan: replacing a team member (`spotcheck teams reassign`), and the check
that recomputes a plan and replays its recorded replacements (`spotcheck verify`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from spotcheck.directory.load import InspectorDirectory, RecusalList
from spotcheck.draw.folder import committed, content_bytes, first_difference, write_files
from spotcheck.draw.transcript import json_bytes
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.ledger.history import append_history
from spotcheck.ledger.store import Ledger
from spotcheck.plan import teams as team_stage
from spotcheck.plan.eligibility import LEAD
from spotcheck.plan.reassignment import Candidate, candidates, check_swap, swap
from spotcheck.plan.workbooks import unit_workbooks, write_workbooks
from spotcheck.plan.workplan import (
    LEADS_COLUMNS,
    compute,
    directories,
    drawn_policy,
    file_info,
    led_history_rows,
    read_drawn,
    sha256_hex,
)


# ---------------------------------------------------------------------------------------------
# Reading a plan back


def _read_teams(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


def _read_leads(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    return dict(pl.read_csv(path, schema=LEADS_COLUMNS).iter_rows())


def _reassignments(path: Path) -> list[dict]:
    return json.loads(path.read_text("utf-8"))["reassignments"] if path.is_file() else []


# ---------------------------------------------------------------------------------------------
# reassign


@dataclass(frozen=True)
class Reassignment:
    draw_id: str
    visit_id: str
    out_inspector: str
    in_inspector: str
    role: str
    reason: str
    approver: str | None
    teams_sha256: str


def replacements(draw_dir: str | Path, *, visit_id: str, out_inspector: str, inspectors_path: str | Path,
                 recusals_path: str | Path | None = None, policy_path: str | Path | None = None) -> list[Candidate]:
    """Who may replace `out_inspector` on a visit, and why everyone else may not (`spotcheck teams candidates`)."""
    folder = read_drawn(draw_dir)
    loaded = drawn_policy(folder, Path(policy_path) if policy_path else None)
    for name in ("visits.csv", "teams.csv", "workplan.json"):
        if not (folder.path / name).is_file():
            raise SpotcheckError(Problem("T822", f"{folder.path} 中没有 {name}", hint="先运行 spotcheck plan 安排检查"))
    inspectors, recusals = directories(inspectors_path, recusals_path)
    leads = _read_leads(folder.path / "previous_leads.csv")
    caps = compute(folder, loaded, inspectors, recusals, leads).summary.section("teams")["caps"]
    return candidates(loaded, folder.visit_frame, _read_teams(folder.path / "teams.csv"),
                      inspectors.frame, recusals.frame if recusals is not None else None, visit_id=visit_id,
                      out_inspector=out_inspector, caps=caps, previous_leads=leads)


def reassign(
    draw_dir: str | Path,
    *,
    visit_id: str,
    out_inspector: str,
    in_inspector: str,
    reason: str | None,
    approver: str | None,
    inspectors_path: str | Path,
    recusals_path: str | Path | None = None,
    ledger_path: str | Path,
    policy_path: str | Path | None = None,
) -> Reassignment:
    """Replace one team member, with a reason and (where the policy asks) an approver; the incoming
    inspector must meet every rule the matcher applies. Rewrites teams.csv, records the change."""
    folder = read_drawn(draw_dir)
    loaded = drawn_policy(folder, Path(policy_path) if policy_path else None)
    problems = []
    if not (reason or "").strip():
        problems.append(Problem("T820", "更换检查人员须说明理由", hint="用 --reason 写明理由，如“岗位调整”“工作冲突”“身体健康状况”"))
    if loaded.policy.team.no_change_without_approval and not (approver or "").strip():
        problems.append(Problem("T821", "本策略规定匹配后不得随意更换检查人员，更换须经批准",
                                hint="用 --approver 写明批准人，如“经本单位分管领导同意”的分管领导姓名"))
    if problems:
        raise SpotcheckError(problems)
    for name in ("visits.csv", "teams.csv", "workplan.json"):
        if not (folder.path / name).is_file():
            raise SpotcheckError(Problem("T822", f"{folder.path} 中没有 {name}", hint="先运行 spotcheck plan 安排检查"))
    visits = folder.visit_frame
    teams = _read_teams(folder.path / "teams.csv")
    inspectors, recusals = directories(inspectors_path, recusals_path)
    planned = dict(folder.summary.section("teams") or {})
    leads = _read_leads(folder.path / "previous_leads.csv")
    # Workload caps from the policy and the directories, as `plan` computed them: summary.json is a
    # file anyone can edit, so it is never what decides whether an inspector may take one more visit.
    caps = compute(folder, loaded, inspectors, recusals, leads).summary.section("teams")["caps"]
    change = check_swap(
        loaded, visits, teams, inspectors.frame, recusals.frame if recusals is not None else None,
        visit_id=visit_id, out_inspector=out_inspector, in_inspector=in_inspector, caps=caps, previous_leads=leads,
    )
    new_teams = change.teams
    teams_bytes = team_stage.to_csv(new_teams)
    log = _reassignments(folder.path / "reassignments.json")
    entry = {
        "visit_id": visit_id, "out_inspector": out_inspector, "in_inspector": in_inspector,
        "in_name": change.person["name"], "in_unit": change.person["unit"], "role": change.role,
        "in_certificate": change.person.get("certificate"),
        "reason": reason.strip(), "approver": (approver or "").strip() or None,
        "inspectors_sha256": inspectors.sha256, "teams_sha256": sha256_hex(teams_bytes),
    }
    log.append(entry)
    planned["reassignments"] = len(log)
    planned["workload"] = team_stage.workload_summary(new_teams)
    files = {
        "teams.csv": teams_bytes,
        "reassignments.json": json_bytes({"reassignments": log}),
        "summary.json": json_bytes(folder.summary.with_sections(teams=planned).to_json()),
    }
    with Ledger.open(ledger_path) as ledger, committed(folder.path, ledger, adding=True) as stage, \
            stage.transaction() as tx:
        for old in (stage.path / "units").glob("*.xlsx"):
            old.unlink()
        write_files(stage.path, files)
        write_workbooks(stage.path, unit_workbooks(visits, new_teams, folder.drawn_on))
        tx.append("team_reassignment", visit_id, {"draw_id": folder.draw_id, "drill": folder.drill, **entry})
        if change.role == LEAD and not folder.drill:
            rows = led_history_rows(folder, loaded, visits.filter(pl.col("visit_id") == visit_id), new_teams)
            append_history(tx, rows, key=folder.draw_id)
    return Reassignment(folder.draw_id, visit_id, out_inspector, in_inspector, change.role, entry["reason"],
                        entry["approver"], entry["teams_sha256"])


# ---------------------------------------------------------------------------------------------
# verify


def verify_workplan(
    draw_dir: str | Path,
    inspectors: str | Path | InspectorDirectory,
    recusals: str | Path | RecusalList | None = None,
    *,
    policy_path: str | Path | None = None,
) -> list[Problem]:
    """Recompute visits and teams from the folder and the directories, replay the recorded
    reassignments, and report the first difference per file (empty when everything matches)."""
    folder = read_drawn(draw_dir)
    path = folder.path
    problems: list[Problem] = []
    for name in ("visits.csv", "teams.csv", "workplan.json"):
        if not (path / name).is_file():
            problems.append(Problem("V704", f"缺少文件 {name}", file=name, hint="先运行 spotcheck plan 安排检查"))
    if problems:
        return problems
    meta = json.loads((path / "workplan.json").read_text("utf-8"))
    loaded = drawn_policy(folder, Path(policy_path) if policy_path else None)
    ins, rec = directories(inspectors, recusals)
    for label, recorded, given in (("执法检查人员名录", meta.get("inspectors"), file_info(ins)),
                                   ("回避名单", meta.get("recusals"), file_info(rec))):
        if (recorded or {}).get("sha256") != (given or {}).get("sha256"):
            problems.append(Problem("V710", f"{label}与安排检查时使用的文件不一致（SHA-256 不同）",
                                    file=given["file"] if given else None,
                                    hint="用安排检查时的名录文件核对；见 workplan.json"))
    leads_bytes = (path / "previous_leads.csv").read_bytes() if (path / "previous_leads.csv").is_file() else b""
    if sha256_hex(leads_bytes) != meta.get("previous_leads", {}).get("sha256"):
        problems.append(Problem("V701", "previous_leads.csv 与 workplan.json 记录的 SHA-256 不一致", file="previous_leads.csv"))
    result = compute(folder, loaded, ins, rec, _read_leads(path / "previous_leads.csv"))
    teams = result.teams
    for n, entry in enumerate(_reassignments(path / "reassignments.json"), start=1):
        hit = (pl.col("visit_id") == entry["visit_id"]) & (pl.col("inspector_id") == entry["out_inspector"])
        if teams.filter(hit).height != 1:
            problems.append(Problem("V711", f"第 {n} 次更换记录与检查组不符：{entry['out_inspector']} 不在检查 {entry['visit_id']} 的检查组中",
                                    file="reassignments.json"))
            break
        person = {"inspector_id": entry["in_inspector"], "name": entry["in_name"], "unit": entry["in_unit"],
                  "certificate": entry.get("in_certificate")}
        teams = swap(teams, entry["visit_id"], entry["out_inspector"], person)
    expected = {"visits.csv": content_bytes(result.files["visits.csv"]), "teams.csv": team_stage.to_csv(teams)}
    for name, data in expected.items():
        diff = first_difference(name, data, (path / name).read_bytes())
        if diff:
            problems.append(diff)
    return problems

