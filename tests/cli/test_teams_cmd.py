import datetime as dt

import polars as pl
import pytest
from click.testing import CliRunner
from conftest import QINGDAO
from spotcheck.draw import pipeline
from spotcheck.plan import changes
from spotcheck.cli import main
from spotcheck.ledger.store import Ledger


@pytest.fixture
def folder(qingdao_dirs, tmp_path):
    pipeline.draw(QINGDAO, qingdao_dirs / "entities.csv", tmp_path / "draw", ledger_path=tmp_path / "l.db", seed="cli",
                  drawn_on=dt.date(2020, 10, 23))
    return tmp_path / "draw"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def plan(qingdao_dirs, folder):
    return run("plan", folder, "--inspectors", qingdao_dirs / "inspectors.csv", "--recusals", qingdao_dirs / "recusals.csv",
               "--ledger", folder.parent / "l.db")


def test_plan_writes_visits_and_teams(qingdao_dirs, folder):
    result = plan(qingdao_dirs, folder)
    assert result.exit_code == 0, result.output
    assert "【演练】检查安排" in result.stdout and "已配齐检查组" in result.stdout
    assert (folder / "visits.csv").is_file() and (folder / "teams.csv").is_file()


def test_plan_twice_exits_1(qingdao_dirs, folder):
    assert plan(qingdao_dirs, folder).exit_code == 0
    again = plan(qingdao_dirs, folder)
    assert again.exit_code == 1 and "T802" in again.stderr


def test_plan_needs_the_inspector_directory(folder):
    assert run("plan", folder).exit_code == 2


def member_and_candidate(qingdao_dirs, folder):
    """A 组员 and a colleague who may take the place, by the rules reassign applies (the same unit and
    specialties, and room under the workload cap, which moves with every draw id)."""
    teams = pl.read_csv(folder / "teams.csv", infer_schema=False)
    for row in teams.filter(pl.col("role") == "组员").iter_rows(named=True):
        found = changes.replacements(folder, visit_id=row["visit_id"], out_inspector=row["inspector_id"],
                                     inspectors_path=qingdao_dirs / "inspectors.csv",
                                     recusals_path=qingdao_dirs / "recusals.csv", policy_path=None)
        able = [c for c in found if not c.reasons]
        if able:
            return teams, row, able[0].inspector_id
    raise AssertionError("no member can be replaced in this draw")


def reassign(qingdao_dirs, folder, *extra):
    return run("teams", "reassign", folder, "--inspectors", qingdao_dirs / "inspectors.csv", "--recusals", qingdao_dirs / "recusals.csv",
               "--ledger", folder.parent / "l.db", *extra)


def test_reassign_without_reason_or_approver_is_refused(qingdao_dirs, folder):
    assert plan(qingdao_dirs, folder).exit_code == 0
    teams, row, new = member_and_candidate(qingdao_dirs, folder)
    args = ("--visit", row["visit_id"], "--out-inspector", row["inspector_id"], "--in-inspector", new)
    no_reason = reassign(qingdao_dirs, folder, *args, "--approver", "王副局长")
    assert no_reason.exit_code == 2 and "缺少参数 '--reason'" in no_reason.stderr
    blank_reason = reassign(qingdao_dirs, folder, *args, "--reason", " ", "--approver", "王副局长")
    assert blank_reason.exit_code == 1 and "T820" in blank_reason.stderr
    no_approver = reassign(qingdao_dirs, folder, *args, "--reason", "岗位调整")
    assert no_approver.exit_code == 1 and "T821" in no_approver.stderr
    assert pl.read_csv(folder / "teams.csv", infer_schema=False).equals(teams)


def test_reassign_with_reason_and_approver(qingdao_dirs, folder):
    assert plan(qingdao_dirs, folder).exit_code == 0
    _, row, new = member_and_candidate(qingdao_dirs, folder)
    result = reassign(qingdao_dirs, folder, "--visit", row["visit_id"], "--out-inspector", row["inspector_id"],
                      "--in-inspector", new, "--reason", "岗位调整", "--approver", "王副局长")
    assert result.exit_code == 0, result.output
    assert f"{row['inspector_id']} → {new}" in result.stdout
    after = pl.read_csv(folder / "teams.csv", infer_schema=False).filter(pl.col("visit_id") == row["visit_id"])
    assert new in after["inspector_id"].to_list()
    with Ledger.open(folder.parent / "l.db") as led:
        assert [r.key for r in led.find("team_reassignment")] == [row["visit_id"]]


def test_reassign_ineligible_inspector_names_the_reason(qingdao_dirs, folder):
    assert plan(qingdao_dirs, folder).exit_code == 0
    _, row, _ = member_and_candidate(qingdao_dirs, folder)
    outsider = pl.read_csv(qingdao_dirs / "inspectors.csv", infer_schema=False).filter(pl.col("所属单位") != row["unit"])["执法人员编号"][0]
    result = reassign(qingdao_dirs, folder, "--visit", row["visit_id"], "--out-inspector", row["inspector_id"],
                      "--in-inspector", outsider, "--reason", "岗位调整", "--approver", "王副局长")
    assert result.exit_code == 1
    assert "T825" in result.stderr and "不负责该检查" in result.stderr


def test_candidates_list_who_may_replace_and_why_others_may_not(qingdao_dirs, folder):
    assert plan(qingdao_dirs, folder).exit_code == 0
    _, row, new = member_and_candidate(qingdao_dirs, folder)
    args = ("teams", "candidates", folder, "--visit", row["visit_id"], "--out-inspector", row["inspector_id"],
            "--inspectors", qingdao_dirs / "inspectors.csv", "--recusals", qingdao_dirs / "recusals.csv")
    result = run(*args)
    assert result.exit_code == 0, result.output
    able = result.stdout.split("不能接替")[0]
    assert f"  {new}  " in able  # the colleague the test knows to be eligible is offered
    assert "不能接替的" in result.stdout and "所属单位" in result.stdout and "--all" in result.stdout
    detailed = run(*args, "--all")
    assert detailed.exit_code == 0 and "：已在该检查组中" in detailed.stdout
    # Everyone offered passes the same check teams reassign applies.
    first = next(line.split()[0] for line in able.splitlines()[1:] if line.startswith("  "))
    done = reassign(qingdao_dirs, folder, "--visit", row["visit_id"], "--out-inspector", row["inspector_id"],
                    "--in-inspector", first, "--reason", "岗位调整", "--approver", "王副局长")
    assert done.exit_code == 0, done.output
