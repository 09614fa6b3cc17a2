"""The library calls behind `spotcheck plan` and `spotcheck teams reassign`: a draw folder becomes a
work plan of visits and teams, written into the folder and the ledger together.

What `plan` adds to a draw folder (all at once, through folder.staged):
  visits.csv           one row per visit (spotcheck.plan.visits), with `staffed` and the reason when not
  teams.csv            visit_id, inspector_id, name, unit, role (主查/组员/专家/第三方机构)
  units/<unit>.xlsx    per inspecting unit: its visits and teams (and joint visits its people join)
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

import datetime as dt
import hashlib
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import xlsxwriter
from spotcheck.plan import teams as team_stage
from spotcheck.plan import visits as visit_stage
from spotcheck.plan.assignment import COST_HEX
from spotcheck.draw.applies import read_applies
from spotcheck.draw.commitment import Seed, canonical, seed_from_dict, sha256_text
from spotcheck.directory.load import (
    InspectorDirectory,
    RecusalList,
    load_inspectors,
    load_recusals,
)
from spotcheck.plan.eligibility import LEAD, MEMBER
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.draw.folder import committed, first_difference, write_files
from spotcheck.ledger.store import Ledger, append_history
from spotcheck.policy.loader import LoadedPolicy, load_policy
from spotcheck.resources import policy_file
from spotcheck.progress import Progress, silent
from spotcheck.plan.reassignment import check_swap, swap

FORMAT = "spotcheck-workplan/1"
LEADS_COLUMNS = {"uscc": pl.String, "lead_inspector": pl.String}


# ---------------------------------------------------------------------------------------------
# Reading a draw folder


@dataclass(frozen=True)
class DrawFolder:
    path: Path
    transcript: dict
    summary: dict
    drawn: pl.DataFrame
    draw_id: str
    seed: Seed
    drawn_on: dt.date

    @property
    def drill(self) -> bool:
        return self.seed.drill


def read_folder(draw_dir: str | Path) -> DrawFolder:
    path = Path(draw_dir)
    missing = [n for n in ("transcript.json", "draws.csv", "summary.json") if not (path / n).is_file()]
    if missing:
        raise SpotcheckError(Problem("T801", f"{path} 中没有 {'、'.join(missing)}，不是抽取结果目录",
                                     file=str(path), hint="先运行 spotcheck draw 生成抽取结果目录"))
    try:
        transcript = json.loads((path / "transcript.json").read_text("utf-8"))
        summary = json.loads((path / "summary.json").read_text("utf-8"))
        drawn = visit_stage.read_draws(path / "draws.csv")
        seed = seed_from_dict(transcript["seed"])
        drawn_on = dt.date.fromisoformat(transcript["drawn_on"])
    except (OSError, ValueError, KeyError, TypeError, pl.exceptions.PolarsError) as exc:
        raise SpotcheckError(Problem("T801", f"抽取结果目录无法读取：{exc}", file=str(path),
                                     hint="抽取结果目录被改动；用 spotcheck verify 核对")) from None
    draw_id = summary.get("draw_id") or sha256_text(canonical(transcript))[:16]
    return DrawFolder(path, transcript, summary, drawn, draw_id, seed, drawn_on)


def _policy(folder: DrawFolder, policy_path: Path | None) -> LoadedPolicy:
    loaded = load_policy(policy_path or policy_file(folder.transcript["policy"]["id"]))
    if loaded.sha256 != folder.transcript["policy"]["sha256"]:
        raise SpotcheckError(Problem(
            "T803", f"策略 {loaded.policy.id} 与抽取时使用的版本不一致（SHA-256 不同）", file=str(loaded.path),
            hint="使用抽取时的策略文件安排检查；策略修改后须重新抽取"))
    return loaded


def _directories(inspectors, recusals) -> tuple[InspectorDirectory, RecusalList | None]:
    ins = inspectors if isinstance(inspectors, InspectorDirectory) else load_inspectors(inspectors)
    rec = recusals if recusals is None or isinstance(recusals, RecusalList) else load_recusals(recusals)
    return ins, rec


def _file_info(directory) -> dict | None:
    if directory is None:
        return None
    return {"file": directory.path.name, "sha256": directory.sha256, "rows": len(directory)}


# ---------------------------------------------------------------------------------------------
# Computing a work plan


@dataclass(frozen=True)
class Workplan:
    """What `plan` computes; `files` are the exact bytes (paths relative to the draw folder), all but
    the per-unit workbooks, which are made from `visits` and `teams` when the plan is written."""

    draw_id: str
    drill: bool
    visits: pl.DataFrame  # visits.COLUMNS + staffed, reason
    teams: pl.DataFrame  # teams.TEAM_COLUMNS
    summary: dict
    files: dict[str, bytes]


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
    summary = dict(folder.summary)
    summary["visits"] = visits.summary(folder.summary.get("coordination"))
    summary["teams"] = staffing.summary()
    visits_bytes = visit_stage.to_csv(frame)
    teams_bytes = team_stage.to_csv(staffing.teams)
    leads_bytes = leads.write_csv().encode("utf-8")
    meta = {
        "format": FORMAT,
        "draw_id": folder.draw_id,
        "drill": folder.drill,
        "policy": {"id": loaded.policy.id, "sha256": loaded.sha256},
        "inspectors": _file_info(inspectors),
        "recusals": _file_info(recusals),
        "previous_leads": {"file": "previous_leads.csv", "sha256": _sha(leads_bytes), "rows": leads.height},
        "cost": f"int(sha256(key + '|' + visit_id + '|' + inspector_id)[:{COST_HEX}], 16)，key 为抽取的种子密钥",
        "planned": {"visits_sha256": _sha(visits_bytes), "teams_sha256": _sha(teams_bytes)},
    }
    files = {
        "visits.csv": visits_bytes,
        "teams.csv": teams_bytes,
        "previous_leads.csv": leads_bytes,
        "workplan.json": _json_bytes(meta),
        "summary.json": _json_bytes(summary),
    }
    return Workplan(folder.draw_id, folder.drill, frame, staffing.teams, summary, files)


def _leads_frame(visits: pl.DataFrame, previous_leads: Mapping[str, str]) -> pl.DataFrame:
    wanted = set(visits["uscc"].to_list())
    rows = sorted((u, lead) for u, lead in previous_leads.items() if u in wanted)
    return pl.DataFrame(rows, schema=LEADS_COLUMNS, orient="row")


def previous_leads(ledger: Ledger, usccs) -> dict[str, str]:
    """uscc → the lead inspector of the entity's last recorded visit (any year)."""
    out: dict[str, str] = {}
    for row in ledger.history(usccs=usccs):
        if row.get("lead_inspector"):
            out[row["uscc"]] = row["lead_inspector"]
    return out


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json_bytes(obj: dict) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


# ---------------------------------------------------------------------------------------------
# Per-unit workbooks

_VISIT_HEADERS = {
    "visit_id": "检查编号", "uscc": "统一社会信用代码", "name": "市场主体名称", "district": "所属辖区",
    "tier": "信用风险等级", "task_ids": "抽查任务", "item_codes": "抽查事项", "lead_unit": "牵头单位",
    "units": "参与单位", "joint": "跨部门联合", "staffed": "检查组已配齐", "reason": "未配齐原因",
    "list_fetched_by": "获取名单期限", "inspectors_matched_by": "匹配人员期限", "inspect_by": "检查完成期限",
    "results_due_by": "结果公示期限", "issue_by": "任务下发期限",
}
_TEAM_HEADERS = {"visit_id": "检查编号", "uscc": "统一社会信用代码", "entity": "市场主体名称",
                 "inspector_id": "执法人员编号", "name": "姓名", "unit": "所属单位", "role": "角色"}
_UNSAFE = re.compile(r'[\\/:*?"<>|\s]+')


_NAME_BYTES = 200  # of a file name's 255, leaving room for a digest and .xlsx


def unit_file(unit: str) -> str:
    name = _UNSAFE.sub('_', unit).strip('._') or '未命名单位'
    if len(name.encode("utf-8")) > _NAME_BYTES:
        # A long unit name is cut to fit the file system; the digest keeps two such units apart.
        cut = name.encode("utf-8")[:_NAME_BYTES].decode("utf-8", "ignore")
        name = f"{cut}_{hashlib.sha256(unit.encode('utf-8')).hexdigest()[:8]}"
    return f"units/{name}.xlsx"


def unit_workbooks(visits: pl.DataFrame, teams: pl.DataFrame, created: dt.date) -> dict[str, bytes]:
    """One workbook per inspecting unit: its visits, and the joint visits its officers join."""
    home = visits.select("visit_id", pl.col("inspecting_unit").fill_null("未指定检查单位").alias("_unit"))
    guests = teams.filter(pl.col("role").is_in([LEAD, MEMBER])).select("visit_id", pl.col("unit").alias("_unit"))
    by_unit = pl.concat([home, guests]).unique(maintain_order=True)
    out = {}
    for (unit,), part in by_unit.group_by("_unit", maintain_order=True):
        mine = visits.join(part.select("visit_id"), on="visit_id", how="semi")
        members = teams.join(part.select("visit_id"), on="visit_id", how="semi").join(
            visits.select("visit_id", "uscc", pl.col("name").alias("entity")), on="visit_id", how="left"
        )
        out[unit_file(unit)] = _workbook(unit, mine, members, created)
    return dict(sorted(out.items()))


def _cell(value) -> object:
    if isinstance(value, list):
        return "|".join(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _workbook(unit: str, visits: pl.DataFrame, members: pl.DataFrame, created: dt.date) -> bytes:
    buf = io.BytesIO()
    # Every cell is written as what it is: a name starting with = + - @ stays text, never a formula or link.
    book = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    # A fixed creation time keeps the bytes reproducible from the draw.
    book.set_properties({"title": f"{unit}检查安排", "created": dt.datetime.combine(created, dt.time())})
    bold = book.add_format({"bold": True})
    for title, frame, headers in (("检查任务", visits, _VISIT_HEADERS), ("检查组", members, _TEAM_HEADERS)):
        sheet = book.add_worksheet(title)
        cols = list(headers)
        sheet.write_row(0, 0, [headers[c] for c in cols], bold)
        for r, row in enumerate(frame.select(cols).iter_rows(), start=1):
            sheet.write_row(r, 0, [_cell(v) for v in row])
        sheet.freeze_panes(1, 0)
    book.close()
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# plan


def plan(
    draw_dir: str | Path,
    *,
    inspectors_path: str | Path,
    recusals_path: str | Path | None = None,
    ledger_path: str | Path,
    policy_path: str | Path | None = None,
    progress: Progress = silent,
) -> Workplan:
    """Build visits and teams for a draw folder; write them into it and the ledger together."""
    folder = read_folder(draw_dir)
    if (folder.path / "visits.csv").exists() or (folder.path / "teams.csv").exists():
        raise SpotcheckError(Problem(
            "T802", f"{folder.path} 已安排过检查（已有 visits.csv、teams.csv），不会重新匹配检查人员",
            file=str(folder.path),
            hint="更换检查人员用 spotcheck teams reassign；须重新安排的，用新的抽取结果目录"))
    progress("读取策略与名录")
    loaded = _policy(folder, Path(policy_path) if policy_path else None)
    inspectors, recusals = _directories(inspectors_path, recusals_path)
    if recusals is not None and (unknown := recusals.unknown_references(None, inspectors)):
        raise SpotcheckError(unknown)
    with Ledger.open(ledger_path) as ledger:
        leads = previous_leads(ledger, folder.drawn["uscc"].unique().to_list())
        result = compute(folder, loaded, inspectors, recusals, leads, progress)
        progress("生成各单位检查安排表")
        books = unit_workbooks(result.visits, result.teams, folder.drawn_on)
        progress("写入检查安排与台账")
        with committed(folder.path, ledger, adding=True) as stage, stage.transaction() as tx:
            _refuse_second_plan(tx, folder, result)
            write_files(stage.path, {**result.files, **books})
            if folder.drill:
                tx.append("drill_plan", folder.draw_id, _drill_body(result))
            else:
                _record(tx, folder, loaded, result)
    return result


def _refuse_second_plan(tx, folder: DrawFolder, result: Workplan) -> None:
    """The ledger, not the folder, decides whether a draw was planned: read under its write lock, so of
    two runs at once (or a retry after a crash) exactly one records its visits and teams."""
    ledger = tx.ledger
    done = (ledger.latest("drill_plan", folder.draw_id) if folder.drill
            else next((r for v in result.visits["visit_id"].head(1) if (r := ledger.latest("visit", v))), None))
    if done is not None:
        raise SpotcheckError(Problem(
            "T828", f"抽取 {folder.draw_id} 已安排过检查（账本记录 #{done.seq}），不会重复记录", file=str(folder.path),
            hint="更换检查人员用 spotcheck teams reassign；须重新安排的，用新的抽取结果目录"))


def _drill_body(result: Workplan) -> dict:
    t = result.summary["teams"]
    return {
        "draw_id": result.draw_id,
        "drill": True,
        "visits": result.visits.height,
        "staffed": t["staffed"],
        "unstaffed": t["unstaffed"],
        "visits_sha256": _sha(result.files["visits.csv"]),
        "teams_sha256": _sha(result.files["teams.csv"]),
    }


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d is not None else None


def _record(tx, folder: DrawFolder, loaded: LoadedPolicy, result: Workplan) -> None:
    members: dict[str, list[dict]] = {}
    for vid, iid, role in result.teams.select("visit_id", "inspector_id", "role").iter_rows():
        members.setdefault(vid, []).append({"inspector_id": iid, "role": role})
    for v in result.visits.iter_rows(named=True):
        tx.append("visit", v["visit_id"], {
            "draw_id": folder.draw_id,
            "uscc": v["uscc"], "name": v["name"], "district": v["district"], "tier": v["tier"],
            "window": v["window"], "task_ids": v["task_ids"], "item_codes": v["item_codes"],
            "lead_unit": v["lead_unit"], "units": v["units"], "joint": v["joint"],
            "inspecting_unit": v["inspecting_unit"],
            **{c: _iso(v[c]) for c in visit_stage.DEADLINE_COLUMNS},
        })
        tx.append("team", v["visit_id"], {
            "draw_id": folder.draw_id, "staffed": v["staffed"], "reason": v["reason"],
            "members": members.get(v["visit_id"], []),
        })
    append_history(tx, history_rows(folder, loaded, result.visits, result.teams), key=folder.draw_id)


def history_rows(folder: DrawFolder, loaded: LoadedPolicy, visits: pl.DataFrame, teams: pl.DataFrame) -> list[dict]:
    """The draw stage's history rows of staffed visits, with the visit's lead inspector added."""
    lead = teams.filter(pl.col("role") == LEAD).select("visit_id", pl.col("inspector_id").alias("lead"))
    per_task = visits.filter(pl.col("staffed")).select("visit_id", "uscc", "task_ids").explode("task_ids").join(lead, on="visit_id")
    lead_of = {(u, t): i for _, u, t, i in per_task.iter_rows()}
    items = {t.id: list(t.items) for t in loaded.policy.tasks}
    rows = []
    for r in folder.drawn.select("task_id", "uscc", "tier", "month").iter_rows(named=True):
        who = lead_of.get((r["uscc"], r["task_id"]))
        if who is None:
            continue
        rows.append({
            "uscc": r["uscc"], "year": loaded.policy.year, "task_id": r["task_id"], "item_codes": items[r["task_id"]],
            "tier": r["tier"], "draw_id": folder.draw_id,
            "visit_id": f"{folder.draw_id}|{r['month']}|{r['uscc']}", "lead_inspector": who,
        })
    return rows


# ---------------------------------------------------------------------------------------------
# Reading a plan back


def _read_visits(path: Path) -> pl.DataFrame:
    frame = pl.read_csv(path, infer_schema=False)
    lists = ("task_ids", "item_codes", "units", "departments", "department_units")
    return frame.with_columns(
        pl.col("method").fill_null(""),
        *[pl.col(c).fill_null("").str.split("|").list.eval(pl.element().filter(pl.element() != "")) for c in lists],
        *[pl.col(c).str.to_date() for c in visit_stage.DEADLINE_COLUMNS],
        pl.col("joint") == "true",
        pl.col("staffed") == "true",
    )


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
    folder = read_folder(draw_dir)
    loaded = _policy(folder, Path(policy_path) if policy_path else None)
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
    visits = _read_visits(folder.path / "visits.csv")
    teams = _read_teams(folder.path / "teams.csv")
    inspectors, recusals = _directories(inspectors_path, recusals_path)
    summary = json.loads((folder.path / "summary.json").read_text("utf-8"))
    leads = _read_leads(folder.path / "previous_leads.csv")
    # Workload caps from the policy and the directories, as `plan` computed them: summary.json is a
    # file anyone can edit, so it is never what decides whether an inspector may take one more visit.
    caps = compute(folder, loaded, inspectors, recusals, leads).summary["teams"]["caps"]
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
        "reason": reason.strip(), "approver": (approver or "").strip() or None,
        "inspectors_sha256": inspectors.sha256, "teams_sha256": _sha(teams_bytes),
    }
    log.append(entry)
    summary.setdefault("teams", {})["reassignments"] = len(log)
    summary["teams"]["workload"] = team_stage.workload_summary(new_teams)
    files = {
        "teams.csv": teams_bytes,
        "reassignments.json": _json_bytes({"reassignments": log}),
        "summary.json": _json_bytes(summary),
        **unit_workbooks(visits, new_teams, folder.drawn_on),
    }
    with Ledger.open(ledger_path) as ledger, committed(folder.path, ledger, adding=True) as stage, \
            stage.transaction() as tx:
        for old in (stage.path / "units").glob("*.xlsx"):
            old.unlink()
        write_files(stage.path, files)
        tx.append("team_reassignment", visit_id, {"draw_id": folder.draw_id, "drill": folder.drill, **entry})
        if change.role == LEAD and not folder.drill:
            rows = history_rows(folder, loaded, visits.filter(pl.col("visit_id") == visit_id), new_teams)
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
    folder = read_folder(draw_dir)
    path = folder.path
    problems: list[Problem] = []
    for name in ("visits.csv", "teams.csv", "workplan.json"):
        if not (path / name).is_file():
            problems.append(Problem("V704", f"缺少文件 {name}", file=name, hint="先运行 spotcheck plan 安排检查"))
    if problems:
        return problems
    meta = json.loads((path / "workplan.json").read_text("utf-8"))
    loaded = _policy(folder, Path(policy_path) if policy_path else None)
    ins, rec = _directories(inspectors, recusals)
    for label, recorded, given in (("执法检查人员名录", meta.get("inspectors"), _file_info(ins)),
                                   ("回避名单", meta.get("recusals"), _file_info(rec))):
        if (recorded or {}).get("sha256") != (given or {}).get("sha256"):
            problems.append(Problem("V710", f"{label}与安排检查时使用的文件不一致（SHA-256 不同）",
                                    file=given["file"] if given else None,
                                    hint="用安排检查时的名录文件核对；见 workplan.json"))
    leads_bytes = (path / "previous_leads.csv").read_bytes() if (path / "previous_leads.csv").is_file() else b""
    if _sha(leads_bytes) != meta.get("previous_leads", {}).get("sha256"):
        problems.append(Problem("V701", "previous_leads.csv 与 workplan.json 记录的 SHA-256 不一致", file="previous_leads.csv"))
    result = compute(folder, loaded, ins, rec, _read_leads(path / "previous_leads.csv"))
    teams = result.teams
    for n, entry in enumerate(_reassignments(path / "reassignments.json"), start=1):
        hit = (pl.col("visit_id") == entry["visit_id"]) & (pl.col("inspector_id") == entry["out_inspector"])
        if teams.filter(hit).height != 1:
            problems.append(Problem("V711", f"第 {n} 次更换记录与检查组不符：{entry['out_inspector']} 不在检查 {entry['visit_id']} 的检查组中",
                                    file="reassignments.json"))
            break
        person = {"inspector_id": entry["in_inspector"], "name": entry["in_name"], "unit": entry["in_unit"]}
        teams = swap(teams, entry["visit_id"], entry["out_inspector"], person)
    expected = {"visits.csv": result.files["visits.csv"], "teams.csv": team_stage.to_csv(teams)}
    for name, data in expected.items():
        diff = first_difference(name, data, (path / name).read_bytes())
        if diff:
            problems.append(diff)
    return problems
