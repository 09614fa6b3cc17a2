import json
import sqlite3

import pytest
from click.testing import CliRunner
from spotcheck.cli import main
from spotcheck.ledger.store import Ledger


@pytest.fixture
def ledger_path(tmp_path):
    path = tmp_path / "l.db"
    with Ledger.open(path, actor="张三") as led, led.transaction() as tx:
        tx.append("commitment", "c1", {"directory_sha256": "ab" * 32})
        tx.append("draw", "d1", {"commitment_id": "c1"})
        tx.append("visit", "v1", {"uscc": "91110000AAAAAAAA1X"})
    return path


def run(*args):
    return CliRunner().invoke(main, ["ledger", *map(str, args)])


def test_verify_good_ledger_exits_0(ledger_path):
    result = run("verify", "--ledger", ledger_path)
    assert result.exit_code == 0, result.output
    assert "台账完好" in result.stdout and "共 3 条记录" in result.stdout


def test_verify_tampered_ledger_exits_1(ledger_path):
    db = sqlite3.connect(ledger_path)
    db.execute("""UPDATE records SET body = '{"commitment_id":"c2"}' WHERE seq = 2""")
    db.commit()
    db.close()
    result = run("verify", "--ledger", ledger_path)
    assert result.exit_code == 1
    assert "L404" in result.stderr and "#2" in result.stderr


def test_verify_json_reports_first_bad_seq(ledger_path):
    db = sqlite3.connect(ledger_path)
    db.execute("DELETE FROM records WHERE seq = 2")
    db.commit()
    db.close()
    result = run("verify", "--ledger", ledger_path, "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["first_bad_seq"] == 2
    assert [p["code"] for p in report["problems"]] == ["L405"]


def test_verify_with_published_anchor(ledger_path):
    with Ledger.open(ledger_path) as led:
        seq, digest = led.head()
    assert run("verify", "--ledger", ledger_path, "--anchor", f"{seq}:{digest}").exit_code == 0
    assert run("verify", "--ledger", ledger_path, "--anchor", f"{seq}:{'0' * 64}").exit_code == 1
    assert run("verify", "--ledger", ledger_path, "--anchor", "three:abc").exit_code == 2


def test_verify_missing_ledger_exits_1_without_creating_it(tmp_path):
    path = tmp_path / "missing.db"
    result = run("verify", "--ledger", path)
    assert result.exit_code == 1 and "L401" in result.stderr
    assert not path.exists()


def test_show_lists_one_line_per_record(ledger_path):
    result = run("show", "--ledger", ledger_path)
    assert result.exit_code == 0, result.output
    header, *lines = result.stdout.splitlines()
    assert header.split("\t") == ["序号", "时间（北京时间）", "类型", "键", "操作人", "哈希（前12位）"]
    assert len(lines) == 3
    assert lines[0].split("\t")[0] == "#1" and "抽取承诺" in lines[0] and "c1" in lines[0] and "张三" in lines[0]
    assert "commitment" not in result.stdout and "检查安排" in lines[2]
    with Ledger.open(ledger_path) as led:
        record = led.latest("visit", "v1")
    assert record.hash[:12] in lines[2]
    from datetime import datetime, timedelta

    utc = datetime.fromisoformat(record.at.replace("Z", "+00:00"))
    assert (utc + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S") in lines[2]


def test_show_filters_and_json(ledger_path):
    result = run("show", "--ledger", ledger_path, "--kind", "draw", "--format", "json")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert [(r["seq"], r["key"], r["body"]) for r in records] == [(2, "d1", {"commitment_id": "c1"})]
    assert run("show", "--ledger", ledger_path, "--key", "nope").stdout == ""


def test_import_history_records_earlier_years_checks(ledger_path, tmp_path):
    good = tmp_path / "2022年检查记录.csv"
    good.write_text("统一社会信用代码,检查日期,年度,检查事项\n91140600MA0K00000X,2022-05-20,,A01|A02\n91140600MA0K00001X,,2021,\n",
                    "utf-8-sig")
    result = run("import-history", good, "--ledger", ledger_path, "--actor", "王科长")
    assert result.exit_code == 0, result.output
    assert "已将 2 条检查记录记入台账" in result.stdout
    with Ledger.open(ledger_path) as led:
        rows = led.history()
    assert [(r["uscc"], r["year"], r["checked_on"], r["item_codes"]) for r in rows] == [
        ("91140600MA0K00000X", 2022, "2022-05-20", ["A01", "A02"]), ("91140600MA0K00001X", 2021, None, [])]
    bad = tmp_path / "bad.csv"
    bad.write_text("统一社会信用代码,年度\n91140600MA0K00002X,二〇二一\n", "utf-8")
    refused = run("import-history", bad, "--ledger", ledger_path, "--actor", "王科长")
    assert refused.exit_code == 1 and "D231" in refused.stderr and "第 2 行" in refused.stderr
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("代码,年度\nx,2021\n", "utf-8")
    assert "D230" in run("import-history", wrong, "--ledger", ledger_path, "--actor", "王科长").stderr
    with Ledger.open(ledger_path) as led:
        assert len(led.history()) == 2


def test_show_by_a_visits_key_lists_the_approvals_and_publications_that_name_it(ledger_path):
    # An approval is one record for many visits, keyed by its draw: a visit's key still finds it.
    with Ledger.open(ledger_path, actor="审核员") as led, led.transaction() as tx:
        tx.append("result", "v1", {"draw_id": "d1"})
        tx.append("result", "v2", {"draw_id": "d1"})
        tx.append("result_states", "d1", {"draw_id": "d1", "on": "2024-05-06", "results": [["v2", 5]], "state": "审核"})
        tx.append("result_states", "d1", {"draw_id": "d1", "on": "2024-05-06", "results": [["v1", 4], ["v2", 5]], "state": "公示"})
    lines = run("show", "--ledger", ledger_path, "--key", "v1").stdout.splitlines()[1:]
    assert [line.split("\t")[0] for line in lines] == ["#3", "#4", "#7"]
    assert "结果审核、公示" in lines[-1] and "\td1\t" in lines[-1]
    assert len(run("show", "--ledger", ledger_path, "--key", "v1", "--kind", "result").stdout.splitlines()) == 2
