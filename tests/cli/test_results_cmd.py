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
    assert "审核通过 5 次" in r.stdout
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
    overdue = r.stdout.split("已逾期（1）：")[1].split("即将到期")[0]
    assert "样例市东区市场监督管理局" in overdue and "应于 2023-10-27 前公示，已逾期 1 个工作日［录入］" in overdue
    r = run(env, "results", "status", "--draw", draw, "--policy", POLICY, "--today", "2023-10-30", "--format", "json")
    data = json.loads(r.stdout)
    assert data["counts"]["录入"] == 5
    assert [x["due"] for x in data["lines"] if x["overdue"]] == ["2023-10-27"]


def test_follow_up_close(env):
    v = env["visits"][0]["visit_id"]
    run(env, "results", "import", RESULTS / "results-good.csv", "--draw", env["draw"], "--today", "2023-11-01")
    r = run(env, "results", "follow-up", v, "--close", "--date", "2023-10-20", "--action", "责令改正", "--today", "2023-11-01")
    assert r.exit_code == 0, r.output
    assert "2023-10-20 办结（责令改正）" in r.stdout
    r = run(env, "results", "follow-up", "V-nope", "--close", "--date", "2023-10-20", "--action", "责令改正")
    assert r.exit_code == 1 and "S820" in r.stderr


def test_usage_errors_exit_2(env):
    assert run(env, "results", "approve", "--draw", env["draw"], "--actor", "x").exit_code == 2
    assert run(env, "results", "approve", "--draw", env["draw"], "--all").exit_code == 2  # no --actor
    assert run(env, "results", "status", "--draw", env["draw"], "--today", "2023-13-01").exit_code == 2


def test_publish_with_nothing_approved_exits_1(env):
    run(env, "results", "import", RESULTS / "results-good.csv", "--draw", env["draw"], "--today", "2023-11-01")
    r = run(env, "results", "publish", "--draw", env["draw"], "--out", env["tmp"] / "pub", "--policy", POLICY)
    assert r.exit_code == 1 and "S840" in r.stderr
