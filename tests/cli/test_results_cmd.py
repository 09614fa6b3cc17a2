import json

import pytest
from click.testing import CliRunner
from conftest import RESULTS
from conftest import RESULTS_POLICY as POLICY
from spotcheck.cli import main
from spotcheck.ledger.store import Ledger


@pytest.fixture
def env(tmp_path, draw_dir, visit_ledger, visit_rows):
    return {"draw": draw_dir, "ledger": visit_ledger, "tmp": tmp_path, "visits": visit_rows}


def run(env, *args):
    return CliRunner().invoke(main, [*map(str, args)], env={"SPOTCHECK_LEDGER": str(env["ledger"])})


def head(env):
    with Ledger.open(env["ledger"]) as led:
        return led.head()


def test_sample_import_approve_publish_report(env):
    draw, tmp = env["draw"], env["tmp"]
    r = run(env, "results", "sample", "--draw", draw, "--out", tmp / "r.csv", "--policy", POLICY, "--seed", "3",
            "--today", "2023-10-31")
    assert r.exit_code == 0, r.output
    assert "无法联系 1 户" in r.stdout
    r = run(env, "results", "import", tmp / "r.csv", "--draw", draw, "--actor", "录入员", "--today", "2023-10-31")
    assert r.exit_code == 0, r.output
    assert "新录入 5 次检查的结果" in r.stdout
    r = run(env, "results", "approve", "--draw", draw, "--all", "--actor", "审核员", "--date", "2023-10-31")
    assert r.exit_code == 0, r.output
    assert "审核通过 5 次" in r.stdout and "按单位：" in r.stdout
    again = run(env, "results", "approve", "--draw", draw, "--all", "--actor", "审核员", "--date", "2023-10-31")
    # Skipped results are counted by unit and reason, not listed one per line.
    assert "跳过 5 次" in again.stdout and "已是“审核”状态 5 次" in again.stdout
    assert len(again.stdout.splitlines()) < 5 + 3
    detailed = run(env, "results", "approve", "--draw", draw, "--all", "--actor", "审核员", "--date", "2023-10-31", "--details")
    assert detailed.stdout.count("  跳过 V") == 5
    r = run(env, "results", "publish", "--draw", draw, "--out", tmp / "pub", "--policy", POLICY, "--date", "2023-10-31")
    assert r.exit_code == 0, r.output
    assert (tmp / "pub" / "results-public.xlsx").is_file() and (draw / "abnormal-candidates.csv").is_file()
    r = run(env, "results", "status", "--draw", draw, "--policy", POLICY, "--today", "2023-11-01")
    assert r.exit_code == 0, r.output
    assert "公示 5" in r.stdout and "经营异常名录候选" in r.stdout
    r = run(env, "report", POLICY, "--draw", draw, "--entities", RESULTS / "entities.csv", "--out", tmp / "rep",
            "--today", "2023-12-31")
    assert r.exit_code == 0, r.output
    assert "年度抽查企业占比" in r.stdout and "目标 3%" in r.stdout and "不可从台账计算" in r.stdout
    assert (tmp / "rep" / "report.html").is_file()


def test_bad_file_exits_1_with_every_problem_and_writes_nothing(env):
    before = head(env)
    r = run(env, "results", "import", RESULTS / "results-bad.csv", "--draw", env["draw"], "--today", "2023-11-01")
    assert r.exit_code == 1
    for where in ("第 2 行 列 检查编号: S803", "第 3 行 列 检查结果: S804", "第 4 行 列 检查完成日期: S808"):
        assert where in r.stderr
    assert head(env) == before


def test_status_overdue_in_chinese_and_json(env):
    draw = env["draw"]
    run(env, "results", "import", RESULTS / "results-good.csv", "--draw", draw, "--today", "2023-11-01")
    r = run(env, "results", "status", "--draw", draw, "--policy", POLICY, "--today", "2023-10-30")
    assert r.exit_code == 0, r.output
    # The summary first: counts, then one line per unit; no visit is listed without --details.
    summary, *units = r.stdout.splitlines()[1:]
    assert "录入 5" in summary and "已逾期 1" in summary
    assert any(u.startswith("  样例市东区市场监督管理局：") and "已逾期 1" in u for u in units)
    assert "应于" not in r.stdout and "--details" in r.stdout
    r = run(env, "results", "status", "--draw", draw, "--policy", POLICY, "--today", "2023-10-30", "--details")
    overdue = r.stdout.split("已逾期（1）：")[1].split("即将到期")[0]
    assert "样例市东区市场监督管理局" in overdue and "应于 2023-10-27 前公示，已逾期 1 个工作日［录入］" in overdue
    r = run(env, "results", "status", "--draw", draw, "--policy", POLICY, "--today", "2023-10-30", "--format", "json")
    data = json.loads(r.stdout)
    assert data["counts"]["录入"] == 5
    assert [x["due"] for x in data["lines"] if x["overdue"]] == ["2023-10-27"]


def test_follow_up_close(env):
    v = env["visits"][0]["visit_id"]
    run(env, "results", "import", RESULTS / "results-good.csv", "--draw", env["draw"], "--today", "2023-11-01")
    r = run(env, "results", "follow-up", v, "--date", "2023-10-20", "--action", "责令改正", "--today", "2023-11-01")
    assert r.exit_code == 0, r.output
    assert "2023-10-20 办结（责令改正）" in r.stdout
    r = run(env, "results", "follow-up", "V-nope", "--date", "2023-10-20", "--action", "责令改正")
    assert r.exit_code == 1 and "S820" in r.stderr


def test_usage_errors_exit_2(env):
    assert run(env, "results", "approve", "--draw", env["draw"], "--actor", "x").exit_code == 2
    assert run(env, "results", "approve", "--draw", env["draw"], "--all").exit_code == 2  # no --actor
    assert run(env, "results", "status", "--draw", env["draw"], "--today", "2023-13-01").exit_code == 2


def test_the_actor_may_come_from_spotcheck_actor(env):
    """As for draws and history imports: an officer who set SPOTCHECK_ACTOR is the one recorded."""
    def as_officer(*args):
        return CliRunner().invoke(main, [*map(str, args)],
                                  env={"SPOTCHECK_LEDGER": str(env["ledger"]), "SPOTCHECK_ACTOR": "王科长"})
    r = as_officer("results", "import", RESULTS / "results-good.csv", "--draw", env["draw"], "--today", "2023-11-01")
    assert r.exit_code == 0, r.output
    r = as_officer("results", "approve", "--draw", env["draw"], "--all", "--date", "2023-11-01")
    assert r.exit_code == 0, r.output
    with Ledger.open(env["ledger"]) as led:
        actors = {(rec.kind, rec.actor) for rec in led.iter() if rec.kind in ("result", "result_states")}
    assert actors == {("result", "王科长"), ("result_states", "王科长")}


def test_publish_with_nothing_approved_exits_1(env):
    run(env, "results", "import", RESULTS / "results-good.csv", "--draw", env["draw"], "--today", "2023-11-01")
    r = run(env, "results", "publish", "--draw", env["draw"], "--out", env["tmp"] / "pub", "--policy", POLICY)
    assert r.exit_code == 1 and "S840" in r.stderr


def test_status_reports_what_it_can_when_a_year_is_unknown(env):
    draw = env["draw"]
    run(env, "results", "import", RESULTS / "results-good.csv", "--draw", draw, "--today", "2023-11-01")
    # chinese-calendar knows no 2027: the deadlines cannot be counted, the states still can.
    r = run(env, "results", "status", "--draw", draw, "--policy", POLICY, "--today", "2027-06-01")
    assert r.exit_code == 0, r.output
    assert "录入 5" in r.stdout and "无法计算公示期限" in r.stdout and "2027" in r.stdout


def test_a_row_whose_uscc_contradicts_its_visit_is_refused(env):
    first, second = env["visits"][0], env["visits"][1]
    bad = env["tmp"] / "bad.csv"
    bad.write_text("检查编号,统一社会信用代码,检查完成日期,检查方式,检查结果\n"
                   f"{first['visit_id']},{second['uscc']},2023-09-25,实地检查,未发现问题\n", "utf-8")
    before = head(env)
    r = run(env, "results", "import", bad, "--draw", env["draw"], "--today", "2023-11-01")
    assert r.exit_code == 1 and "S819" in r.stderr and first["uscc"] in r.stderr
    assert head(env) == before


def test_correcting_a_published_result_says_what_must_happen_next(env):
    draw, tmp = env["draw"], env["tmp"]
    run(env, "results", "import", RESULTS / "results-good.csv", "--draw", draw, "--today", "2023-11-01")
    run(env, "results", "approve", "--draw", draw, "--all", "--actor", "审核员", "--date", "2023-11-01")
    assert run(env, "results", "publish", "--draw", draw, "--out", tmp / "pub", "--policy", POLICY, "--date", "2023-11-01").exit_code == 0
    v = env["visits"][0]["visit_id"]
    lines = (RESULTS / "results-good.csv").read_text("utf-8").splitlines()
    mine = [ln for ln in lines[1:] if ln.startswith(v)]
    cells = mine[0].split(",")
    cells[8] = "已更正备注"
    (tmp / "fixed.csv").write_text("\n".join([lines[0], ",".join(cells), *mine[1:]]) + "\n", "utf-8")
    r = run(env, "results", "import", tmp / "fixed.csv", "--draw", draw, "--today", "2023-11-02")
    assert r.exit_code == 0, r.output
    assert "原结果已公示，更正后回到“录入”" in r.stdout and "results approve" in r.stdout and "results publish" in r.stdout
