"""`spotcheck draw --task/--due` and `spotcheck year` from the command line."""

import json
import re

from click.testing import CliRunner
from conftest import SHUOZHOU
from spotcheck.cli import main


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_a_month_from_commit_to_board(shuozhou_dirs, tmp_path):
    ledger, entities = tmp_path / "l.db", shuozhou_dirs / "entities.csv"
    committed = run("draw", SHUOZHOU, "--entities", entities, "--commit", "--beacon", "双色球2021036期", "--due", "2021-03",
                    "--date", "2021-03-02", "--ledger", ledger, "--reveal-format", "numbers:3", "--actor", "王科长")
    assert committed.exit_code == 0, committed.output
    cid = committed.stdout.strip()
    drawn = run("draw", SHUOZHOU, "--entities", entities, "--reveal", "01 02 03", "--commitment", cid, "--out", tmp_path / "m3",
                "--ledger", ledger, "--actor", "王科长")
    assert drawn.exit_code == 0, drawn.output
    assert "t15（第1轮）" in drawn.stdout and "t18（第1轮）" in drawn.stdout and "t01" not in drawn.stdout

    early = run("draw", SHUOZHOU, "--entities", entities, "--commit", "--beacon", "b", "--task", "t04", "--date", "2021-03-02",
                "--ledger", ledger, "--reveal-format", "numbers:3", "--actor", "王科长")
    assert early.exit_code == 1 and "R525" in early.stderr and "2021年6月" in early.stderr

    board = run("year", SHUOZHOU, "--ledger", ledger, "--on", "2021-03-20")
    assert board.exit_code == 0, board.output
    assert re.search(r"t18 +2月 【已抽取】", board.stdout) and re.search(r"t04 +6月 【未到月份】", board.stdout)
    assert "2021年4月：t01、t02、t03" in board.stdout

    page = tmp_path / "year.html"
    html = run("year", SHUOZHOU, "--ledger", ledger, "--on", "2021-03-20", "--format", "html", "--out", page)
    assert html.exit_code == 0 and "<html" in page.read_text("utf-8")
    data = json.loads(run("year", SHUOZHOU, "--ledger", ledger, "--on", "2021-03-20", "--format", "json").stdout)
    assert data["rows"][0]["task_id"] == "t01" and data["rows"][0]["state"] == "未到月份"


def test_usage_errors(tmp_path):
    assert run("draw", SHUOZHOU, "--entities", SHUOZHOU, "--seed", "s", "--round", "2").exit_code == 2
    assert run("draw", SHUOZHOU, "--entities", SHUOZHOU, "--seed", "s", "--due", "2021-13").exit_code == 2
    assert run("year", SHUOZHOU, "--ledger", tmp_path / "none.db").exit_code == 1
