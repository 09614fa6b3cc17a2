import datetime as dt
import io
import json
import shutil
import zipfile
from pathlib import Path

import polars as pl
import pytest
from conftest import QINGDAO
from spotcheck.draw import pipeline
from spotcheck.plan import changes, workbooks, workplan
from spotcheck.errors import SpotcheckError
from spotcheck.ledger.history import append_history
from spotcheck.ledger.store import Ledger
from spotcheck.year.rounds import Override, Request

DRAWN_ON = dt.date(2020, 10, 23)


def drill(qingdao_dirs, path, seed="drill-1"):
    path.mkdir(parents=True, exist_ok=True)
    pipeline.draw(QINGDAO, qingdao_dirs / "entities.csv", path / "draw", ledger_path=path / "draw.db", seed=seed, drawn_on=DRAWN_ON)
    return path / "draw"


def real(qingdao_dirs, ledger, out, value, request=None):
    c = pipeline.commit(QINGDAO, qingdao_dirs / "entities.csv", ledger_path=ledger, beacon=f"开奖 {value}", drawn_on=DRAWN_ON,
                        reveal_as="numbers:3", actor="王科长", request=request)
    pipeline.draw(QINGDAO, qingdao_dirs / "entities.csv", out, ledger_path=ledger, reveal=value, commitment_id=c.id, actor="王科长")
    return out


def plan(qingdao_dirs, folder, ledger):
    return workplan.plan(folder, inspectors_path=qingdao_dirs / "inspectors.csv", recusals_path=qingdao_dirs / "recusals.csv", ledger_path=ledger)


def kinds(ledger):
    with Ledger.open(ledger) as led:
        return [r.kind for r in led.iter()]


def test_drill_plan_writes_the_folder_and_one_drill_record(qingdao_dirs, tmp_path):
    folder = drill(qingdao_dirs, tmp_path)
    draw_summary = json.loads((folder / "summary.json").read_text("utf-8"))
    result = plan(qingdao_dirs, folder, tmp_path / "l.db")
    for name in ("visits.csv", "teams.csv", "previous_leads.csv", "workplan.json"):
        assert (folder / name).is_file()
    assert sorted(p.name for p in (folder / "units").iterdir()) == sorted(
        f"{u}.xlsx" for u in result.visits["inspecting_unit"].unique().to_list())
    summary = json.loads((folder / "summary.json").read_text("utf-8"))
    assert {k: summary[k] for k in draw_summary} == draw_summary
    assert summary["visits"]["visits"] == result.visits.height == pl.read_csv(folder / "visits.csv").height
    assert summary["teams"]["staffed"] + summary["teams"]["unstaffed"] == result.visits.height
    assert kinds(tmp_path / "l.db") == ["drill_plan"]


def test_unit_workbook_lists_the_units_visits_and_teams(qingdao_dirs, tmp_path):
    folder = drill(qingdao_dirs, tmp_path)
    result = plan(qingdao_dirs, folder, tmp_path / "l.db")
    unit = result.visits["inspecting_unit"][0]
    book = folder / workbooks.unit_file(unit)
    sheet = pl.read_excel(book, sheet_name="检查任务")
    assert sorted(sheet["检查编号"]) == sorted(result.visits.filter(pl.col("inspecting_unit") == unit)["visit_id"])
    team = pl.read_excel(book, sheet_name="检查组")
    assert set(team["角色"]) <= {"主查", "组员", "专家", "第三方机构"}



def test_each_unit_workbook_holds_its_visits_and_the_joint_visits_its_officers_join(qingdao_dirs, tmp_path):
    folder = drill(qingdao_dirs, tmp_path)
    result = plan(qingdao_dirs, folder, tmp_path / "l.db")
    # Three units, officers of one joining the others' visits, one visit without an inspecting unit.
    units = ["甲局", "乙局", "丙局"]
    visits = result.visits.with_columns(
        pl.Series("inspecting_unit", [units[i % 3] if i % 7 else None for i in range(result.visits.height)], dtype=pl.String))
    teams = result.teams.with_columns(pl.Series("unit", [units[i * 5 % 3] for i in range(result.teams.height)]))
    assert teams.filter(pl.col("role").is_in(["主查", "组员"])).height
    home = visits.select("visit_id", pl.col("inspecting_unit").fill_null("未指定检查单位").alias("u"))
    guests = teams.filter(pl.col("role").is_in(["主查", "组员"])).select("visit_id", pl.col("unit").alias("u"))
    books = dict(workbooks.unit_workbooks(visits, teams, DRAWN_ON))
    assert list(books) == sorted(books) and len(books) == 4
    for unit in [*units, "未指定检查单位"]:
        ids = set(home.filter(pl.col("u") == unit)["visit_id"]) | set(guests.filter(pl.col("u") == unit)["visit_id"])
        data = io.BytesIO(books[workbooks.unit_file(unit)])
        listed = pl.read_excel(data, sheet_name="检查任务")["检查编号"].to_list()
        assert listed == [v for v in visits["visit_id"] if v in ids]
        members = pl.read_excel(data, sheet_name="检查组", infer_schema_length=0)
        mine = teams.filter(pl.col("visit_id").is_in(list(ids))).join(
            visits.select("visit_id", "uscc", pl.col("name").alias("entity")), on="visit_id", how="left", maintain_order="left")
        assert members.select("检查编号", "统一社会信用代码", "市场主体名称", "执法人员编号", "所属单位").rows() == \
            mine.select("visit_id", "uscc", "entity", "inspector_id", "unit").rows()

def test_real_plan_records_visits_teams_and_leads(qingdao_dirs, tmp_path):
    ledger = tmp_path / "l.db"
    folder = real(qingdao_dirs, ledger, tmp_path / "draw", "03 09 17")
    result = plan(qingdao_dirs, folder, ledger)
    found = kinds(ledger)
    assert found.count("visit") == found.count("team") == result.visits.height
    with Ledger.open(ledger) as led:
        assert led.verify().ok
        body = led.latest("visit", result.visits["visit_id"][0]).body
        assert body["task_ids"] == result.visits["task_ids"][0].to_list()
        crews: dict[str, list] = {}
        for vid, iid, role in result.teams.select("visit_id", "inspector_id", "role").iter_rows():
            crews.setdefault(vid, []).append({"inspector_id": iid, "role": role})
        recorded = {r.key: r.body["members"] for r in led.iter("team")}
        assert recorded == {vid: crews.get(vid, []) for vid in result.visits["visit_id"]} and crews
        leads = {r["uscc"]: r["lead_inspector"] for r in led.history() if r["lead_inspector"]}
    lead_rows = result.teams.filter(pl.col("role") == "主查").join(result.visits.select("visit_id", "uscc"), on="visit_id")
    assert leads == dict(lead_rows.select("uscc", "inspector_id").iter_rows())
    assert "drill_plan" not in found


def test_lead_rotates_from_one_draw_to_the_next(qingdao_dirs, tmp_path):
    ledger = tmp_path / "l.db"
    first = plan(qingdao_dirs, real(qingdao_dirs, ledger, tmp_path / "d1", "01 02 03"), ledger)
    # A second whole-year draw of the same rounds is an approved repeat (R524 otherwise).
    again = Request(override=Override("检查组需重新安排，重新抽取", "王局长"))
    second = plan(qingdao_dirs, real(qingdao_dirs, ledger, tmp_path / "d2", "04 05 06", again), ledger)

    def leads(result):
        rows = result.teams.filter(pl.col("role") == "主查").join(result.visits.select("visit_id", "uscc"), on="visit_id")
        return dict(rows.select("uscc", "inspector_id").iter_rows())

    before, after = leads(first), leads(second)
    both = set(before) & set(after)
    assert both
    assert all(before[u] != after[u] for u in both)
    recorded = pl.read_csv(tmp_path / "d2" / "previous_leads.csv", infer_schema=False)
    assert dict(recorded.iter_rows()) == {u: before[u] for u in second.visits["uscc"] if u in before}


def test_previous_leads_are_each_drawn_entitys_last_recorded_lead(tmp_path):
    a, b, c = "91370200MA3C0000A1", "91370200MA3C0000B2", "91370200MA3C0000C3"
    with Ledger.open(tmp_path / "l.db") as led:
        with led.transaction() as tx:
            append_history(tx, [{"uscc": a, "year": 2019, "lead_inspector": "I1"}, {"uscc": b, "year": 2019, "lead_inspector": "I2"}])
        with led.transaction() as tx:
            # A later lead replaces an earlier one; a row without a lead (imported, or unstaffed) leaves it.
            append_history(tx, [{"uscc": a, "year": 2020, "lead_inspector": "I3"}, {"uscc": a, "year": 2021},
                                {"uscc": b, "year": 2020, "lead_inspector": ""}, {"uscc": c, "year": 2020, "lead_inspector": "I4"}])
        got = workplan.previous_leads(led, pl.Series([a, b, a]))
        in_order = {r["uscc"]: r["lead_inspector"] for r in led.history() if r["lead_inspector"] and r["uscc"] in (a, b)}
    assert got == in_order == {a: "I3", b: "I2"}


def test_planning_twice_is_refused(qingdao_dirs, tmp_path):
    folder = drill(qingdao_dirs, tmp_path)
    plan(qingdao_dirs, folder, tmp_path / "l.db")
    with pytest.raises(SpotcheckError) as exc_info:
        plan(qingdao_dirs, folder, tmp_path / "l.db")
    assert exc_info.value.problems[0].code == "T802"


def test_same_draw_same_bytes_other_seed_other_teams(qingdao_dirs, tmp_path):
    a, b, c = (drill(qingdao_dirs, tmp_path / n, seed) for n, seed in (("a", "s1"), ("b", "s1"), ("c", "s2")))
    for folder in (a, b, c):
        plan(qingdao_dirs, folder, folder.parent / "l.db")
    for name in ("visits.csv", "teams.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    assert (a / "teams.csv").read_bytes() != (c / "teams.csv").read_bytes()


def test_verify_passes_on_a_fresh_plan_and_finds_an_edited_team(qingdao_dirs, tmp_path):
    folder = drill(qingdao_dirs, tmp_path)
    result = plan(qingdao_dirs, folder, tmp_path / "l.db")
    assert changes.verify_workplan(folder, qingdao_dirs / "inspectors.csv", qingdao_dirs / "recusals.csv") == []
    teams_csv = folder / "teams.csv"
    text = teams_csv.read_text("utf-8")
    first = result.teams["inspector_id"][0]
    teams_csv.write_text(text.replace(first, "999999999999", 1), "utf-8")
    problems = changes.verify_workplan(folder, qingdao_dirs / "inspectors.csv", qingdao_dirs / "recusals.csv")
    assert [p.code for p in problems] == ["V701"] and "teams.csv 第 2 行" in problems[0].message


def test_verify_notices_other_directories(qingdao_dirs, tmp_path):
    folder = drill(qingdao_dirs, tmp_path)
    plan(qingdao_dirs, folder, tmp_path / "l.db")
    other = tmp_path / "inspectors.csv"
    shutil.copy(qingdao_dirs / "inspectors.csv", other)
    with other.open("a", encoding="utf-8") as f:
        f.write("\n")
    problems = changes.verify_workplan(folder, other, qingdao_dirs / "recusals.csv")
    assert "V710" in [p.code for p in problems]


@pytest.fixture
def planned(qingdao_dirs, tmp_path):
    ledger = tmp_path / "l.db"
    folder = real(qingdao_dirs, ledger, tmp_path / "draw", "07 08 09")
    result = plan(qingdao_dirs, folder, ledger)
    people = pl.read_csv(qingdao_dirs / "inspectors.csv", infer_schema=False)
    return folder, ledger, result, people


def reassign(qingdao_dirs, folder, ledger, **kw):
    args = {"reason": "工作冲突", "approver": "王副局长", "inspectors_path": qingdao_dirs / "inspectors.csv",
            "recusals_path": qingdao_dirs / "recusals.csv", "ledger_path": ledger} | kw
    return changes.reassign(folder, **args)


def member_and_candidate(result, people):
    """A 组员 and an in-post colleague of the same unit holding at least the same specialties, below the unit's cap."""
    people = people.with_columns(
        pl.col("专业领域").fill_null("").str.split("；").list.eval(pl.element().filter(pl.element() != "")).alias("skills"))
    skills = dict(people.select("执法人员编号", "skills").iter_rows())
    usable = people.filter((pl.col("在岗状态") == "在岗") & (pl.col("人员类别") == "执法人员")
                           & (pl.col("执法证有效期至") > "2021-01-01"))
    load = dict(result.teams.group_by("inspector_id").len().iter_rows())
    for row in result.teams.filter(pl.col("role") == "组员").iter_rows(named=True):
        on_team = result.teams.filter(pl.col("visit_id") == row["visit_id"])["inspector_id"].to_list()
        for new, unit in usable.select("执法人员编号", "所属单位").iter_rows():
            if unit == row["unit"] and new not in on_team and set(skills[row["inspector_id"]]) <= set(skills[new]) \
                    and load.get(new, 0) < result.summary.section("teams")["caps"][unit]:
                return row, new
    raise AssertionError("no member can be replaced in this draw")


@pytest.mark.parametrize(("reason", "approver", "code"), [(None, "王副局长", "T820"), ("  ", "王副局长", "T820"), ("工作冲突", None, "T821")])
def test_reassign_needs_reason_and_approver(qingdao_dirs, planned, reason, approver, code):
    folder, ledger, result, people = planned
    row, new = member_and_candidate(result, people)
    before = (folder / "teams.csv").read_bytes()
    with pytest.raises(SpotcheckError) as exc_info:
        reassign(qingdao_dirs, folder, ledger, visit_id=row["visit_id"], out_inspector=row["inspector_id"], in_inspector=new,
                 reason=reason, approver=approver)
    assert code in [p.code for p in exc_info.value.problems]
    assert (folder / "teams.csv").read_bytes() == before
    assert "team_reassignment" not in kinds(ledger)


def test_reassign_rewrites_teams_and_records_it(qingdao_dirs, planned):
    folder, ledger, result, people = planned
    row, new = member_and_candidate(result, people)
    change = reassign(qingdao_dirs, folder, ledger, visit_id=row["visit_id"], out_inspector=row["inspector_id"], in_inspector=new)
    teams = pl.read_csv(folder / "teams.csv", infer_schema=False)
    mine = teams.filter(pl.col("visit_id") == row["visit_id"])["inspector_id"].to_list()
    assert new in mine and row["inspector_id"] not in mine
    assert teams.height == result.teams.height
    with Ledger.open(ledger) as led:
        [record] = led.find("team_reassignment")
        assert led.verify().ok
    assert record.key == row["visit_id"] and record.body["reason"] == "工作冲突" and record.body["approver"] == "王副局长"
    assert record.body["in_inspector"] == new and change.role == "组员"
    log = json.loads((folder / "reassignments.json").read_text("utf-8"))["reassignments"]
    assert [e["in_inspector"] for e in log] == [new]
    # The recorded change is replayed by verify.
    assert changes.verify_workplan(folder, qingdao_dirs / "inspectors.csv", qingdao_dirs / "recusals.csv") == []


def test_reassign_refuses_an_ineligible_inspector_with_the_reason(qingdao_dirs, planned):
    folder, ledger, result, people = planned
    not_in_post = people.filter(pl.col("在岗状态") != "在岗")
    row = result.teams.filter((pl.col("role") == "组员") & pl.col("unit").is_in(not_in_post["所属单位"].to_list())).row(0, named=True)
    away = not_in_post.filter(pl.col("所属单位") == row["unit"])["执法人员编号"]
    elsewhere = people.filter((pl.col("所属单位") != row["unit"]) & (pl.col("在岗状态") == "在岗"))["执法人员编号"]
    assert len(away) and len(elsewhere)
    for new, words in ((away[0], "不在岗"), (elsewhere[0], "不负责该检查")):
        with pytest.raises(SpotcheckError) as exc_info:
            reassign(qingdao_dirs, folder, ledger, visit_id=row["visit_id"], out_inspector=row["inspector_id"], in_inspector=new)
        assert all(p.code == "T825" for p in exc_info.value.problems)
        assert words in str(exc_info.value)
    with pytest.raises(SpotcheckError) as exc_info:
        reassign(qingdao_dirs, folder, ledger, visit_id=row["visit_id"], out_inspector="nobody", in_inspector=elsewhere[0])
    assert exc_info.value.problems[0].code == "T823"
    assert "team_reassignment" not in kinds(ledger)


def test_a_long_unit_name_fits_a_file_name_and_stays_apart():
    long = "某某" * 200 + "市场监督管理局"
    names = {workbooks.unit_file(long), workbooks.unit_file(long + "一"), workbooks.unit_file("短名")}
    assert len(names) == 3
    assert all(len(Path(n).name.encode("utf-8")) <= 255 for n in names)


def test_names_that_look_like_formulas_stay_text_in_unit_workbooks(qingdao_dirs, tmp_path):
    folder = drill(qingdao_dirs, tmp_path)
    result = plan(qingdao_dirs, folder, tmp_path / "l.db")
    visits = result.visits.with_columns(pl.lit('=HYPERLINK("http://x","点击")').alias("name"))
    _, data = next(iter(workbooks.unit_workbooks(visits, result.teams, DRAWN_ON)))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode("utf-8")
        assert "<f>" not in sheet and 't="inlineStr"><is><t>=HYPERLINK(' in sheet
    names = pl.read_excel(io.BytesIO(data), sheet_name="检查任务")["市场主体名称"]
    assert set(names) == {'=HYPERLINK("http://x","点击")'}


def test_plan_refuses_a_recusal_naming_an_unknown_inspector(qingdao_dirs, tmp_path):
    folder = drill(qingdao_dirs, tmp_path)
    lines = (qingdao_dirs / "recusals.csv").read_text("utf-8").splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[next(i for i, h in enumerate(header) if h in ("执法人员编号", "inspector_id"))] = "无此人0001"
    bad = tmp_path / "recusals.csv"
    bad.write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n", "utf-8")
    with pytest.raises(SpotcheckError) as exc:
        workplan.plan(folder, inspectors_path=qingdao_dirs / "inspectors.csv", recusals_path=bad, ledger_path=tmp_path / "l.db")
    assert [(p.code, p.row) for p in exc.value.problems] == [("D213", 2)]
    assert not (folder / "visits.csv").exists()


def test_reassign_takes_workload_caps_from_the_policy_not_from_summary_json(qingdao_dirs, planned):
    folder, ledger, result, people = planned
    row, new = member_and_candidate(result, people)
    summary = json.loads((folder / "summary.json").read_text("utf-8"))
    summary["teams"]["caps"] = {unit: 0 for unit in summary["teams"]["caps"]}  # an edited file must not decide
    (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), "utf-8")
    change = reassign(qingdao_dirs, folder, ledger, visit_id=row["visit_id"], out_inspector=row["inspector_id"], in_inspector=new)
    assert change.in_inspector == new


def test_plan_with_the_drawn_directory_refuses_a_recusal_naming_an_unknown_entity(qingdao_dirs, tmp_path):
    folder = drill(qingdao_dirs, tmp_path)
    lines = (qingdao_dirs / "recusals.csv").read_text("utf-8").splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[next(i for i, h in enumerate(header) if h in ("统一社会信用代码", "uscc"))] = "91350100M000100Y43"  # valid, not in it
    bad = tmp_path / "recusals.csv"
    bad.write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n", "utf-8")
    with pytest.raises(SpotcheckError) as exc:
        workplan.plan(folder, inspectors_path=qingdao_dirs / "inspectors.csv", recusals_path=bad,
                      entities_path=qingdao_dirs / "entities.csv", ledger_path=tmp_path / "l.db")
    assert [(p.code, p.row) for p in exc.value.problems] == [("D214", 2)]
    other = tmp_path / "other.csv"
    other.write_bytes((qingdao_dirs / "entities.csv").read_bytes().replace(b"\n", b"\r\n"))
    with pytest.raises(SpotcheckError) as exc:
        workplan.plan(folder, inspectors_path=qingdao_dirs / "inspectors.csv", recusals_path=bad, entities_path=other,
                      ledger_path=tmp_path / "l.db")
    assert [p.code for p in exc.value.problems] == ["T840"]
    assert not (folder / "visits.csv").exists()
    # Without the directory the entity cannot be checked, and the plan goes ahead.
    workplan.plan(folder, inspectors_path=qingdao_dirs / "inspectors.csv", recusals_path=bad, ledger_path=tmp_path / "l.db")
    assert (folder / "visits.csv").exists()


def test_unit_workbook_cells_read_back_as_officers_see_them(qingdao_dirs, tmp_path):
    folder = drill(qingdao_dirs, tmp_path)
    result = plan(qingdao_dirs, folder, tmp_path / "l.db")
    unit = result.visits["inspecting_unit"][0]
    mine = result.visits.filter(pl.col("inspecting_unit") == unit).sort("visit_id")
    sheet = pl.read_excel(folder / workbooks.unit_file(unit), sheet_name="检查任务",
                          infer_schema_length=0).sort("检查编号")
    assert sheet["抽查事项"].to_list() == [("|".join(c) or None) for c in mine["item_codes"].to_list()]
    assert sheet["跨部门联合"].to_list() == ["是" if j else "否" for j in mine["joint"].to_list()]
    assert sheet["检查完成期限"].to_list() == [d.isoformat() for d in mine["inspect_by"].to_list()]
