"""“抽取日期：2023年8月31日前”: a task drawn any day up to its draw deadline (斗门 2023's 抽取日期 column)."""

from __future__ import annotations

import datetime as dt

from conftest import edit, line_of
from spotcheck.draw import pipeline
from spotcheck.draw.pools import plan_tasks
from spotcheck.ledger.store import Ledger
from spotcheck.notices.api import make_notice
from spotcheck.policy.loader import load_policy
from spotcheck.policy.validate import validate_paths
from spotcheck.year.board import year_board
from spotcheck.year.rounds import Request


def _policy(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "    draw_months: [6, 8]\n", '    draw_by: "2023-08-31"\n')
    return path


def _row(board, task_id):
    return next(r for r in board.rows if r.task_id == task_id)


def test_a_draw_deadline_opens_the_year_up_to_its_month_and_is_printed(policy_tree):
    path = _policy(policy_tree)
    plan = next(p for p in plan_tasks(load_policy(path)) if p.task.id == "t02")
    # The campaign's window opens in April: the task may be drawn from April to the deadline's month.
    assert plan.months == (4,)
    assert "2023年8月31日前" in make_notice(path, fmt="md")


def test_the_board_counts_a_round_due_until_its_deadline_and_late_after_it(policy_tree, tmp_path):
    path = _policy(policy_tree)
    ledger = tmp_path / "l.db"
    Ledger.open(ledger, create=True).close()
    # July: long after the round's first month, yet before the deadline: due, not late.
    july = _row(year_board(path, ledger_path=ledger, on=dt.date(2023, 7, 14)), "t02")
    assert (july.state, july.overdue) == ("本月应抽取", [])
    board = year_board(path, ledger_path=ledger, on=dt.date(2023, 8, 21))
    assert any(d.kind == "抽取期限" and d.date == dt.date(2023, 8, 31) for d in board.deadlines)
    late = _row(year_board(path, ledger_path=ledger, on=dt.date(2023, 9, 1)), "t02")
    assert late.state == "逾期未抽取" and late.overdue[0] == "应于2023-08-31前抽取"
    # Drawn after the deadline: drawn, and the board says how late.
    data = tmp_path / "dir"
    pipeline.synthesize(path, entities=600, inspectors=20, seed="b", out_dir=data)
    on = dt.date(2023, 9, 4)
    c = pipeline.commit(path, data / "entities.csv", ledger_path=ledger, beacon="测试随机数", drawn_on=on,
                        request=Request(task="t02"), reveal_as="numbers:1", actor="测试")
    pipeline.draw(path, data / "entities.csv", tmp_path / "d", ledger_path=ledger, reveal="3", commitment_id=c.id, actor="测试")
    drawn = _row(year_board(path, ledger_path=ledger, on=dt.date(2023, 9, 5)), "t02")
    assert drawn.draws and "2023-09-04才抽取（应于2023-08-31前）" in drawn.overdue


def test_a_draw_deadline_outside_the_year_or_before_its_months_is_located(policy_tree):
    path = _policy(policy_tree)
    edit(path, '    draw_by: "2023-08-31"\n', '    draw_by: "2024-08-31"\n')
    edit(path, "    draw_months: [4, 11]\n", '    draw_months: [4, 11]\n    draw_by: "2023-09-30"\n')
    problems = validate_paths([path])
    assert [(p.code, p.line) for p in problems] == [("P291", line_of(path, 'draw_by: "2023-09-30"')),
                                                   ("P290", line_of(path, 'draw_by: "2024-08-31"'))]
    assert problems[0].message == "抽取月份到 11 月，晚于抽取期限 2023-09-30"
    assert problems[1].message == "抽取期限 2024-08-31 不在策略年度 2023 年内"
