"""Drawing what is due: one task or one month's rounds at a time, refused twice or early unless approved."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest
from conftest import SHUOZHOU
from spotcheck.draw import pipeline
from spotcheck.errors import SpotcheckError
from spotcheck.ledger.store import Ledger
from spotcheck.policy.loader import load_policy
from spotcheck.year.rounds import Override, Request, year_rounds


def official(dirs, ledger, out, on, request, value="07 11 23"):
    c = pipeline.commit(SHUOZHOU, dirs / "entities.csv", ledger_path=ledger, beacon="双色球开奖号码", drawn_on=on, request=request,
                        reveal_as="numbers:3", actor="王科长")
    return pipeline.draw(SHUOZHOU, dirs / "entities.csv", out, ledger_path=ledger, reveal=value, commitment_id=c.id, actor="王科长")


def test_rounds_follow_the_draw_months():
    rounds = {(r.task_id, r.round): r.month for r in year_rounds(load_policy(SHUOZHOU))}
    assert rounds[("t04", 1)] == 6  # 6月-8月
    assert rounds[("t19", 1)] == 4 and rounds[("t19", 2)] == 8  # 4月-11月，2次/年
    assert ("t20", 2) not in rounds  # 1次/年


def test_a_month_draws_only_its_rounds_and_verifies(shuozhou_dirs, tmp_path):
    ledger = tmp_path / "l.db"
    result = official(shuozhou_dirs, ledger, tmp_path / "jun", dt.date(2021, 6, 3), Request(due=(2021, 6)))
    due_by_june = {(r.task_id, r.round) for r in year_rounds(load_policy(SHUOZHOU)) if r.month <= 6}
    drawn = set(result.drawn.select("task_id", "round").unique().iter_rows())
    assert drawn and drawn <= due_by_june
    assert ("t19", 2) not in drawn
    assert set(result.drawn["month"]) <= {2, 3, 4, 6}
    assert pipeline.verify(tmp_path / "jun", shuozhou_dirs / "entities.csv").ok
    with Ledger.open(ledger) as led:
        body = led.find("draw")[0].body
    assert body["due"] and set(body["tasks"]["t19"]["rounds"]) == {1}
    assert json.loads((tmp_path / "jun/transcript.json").read_text("utf-8"))["selection"]["t19"] == [1]


def test_twice_and_early_are_refused_with_the_reason(shuozhou_dirs, tmp_path):
    ledger = tmp_path / "l.db"
    official(shuozhou_dirs, ledger, tmp_path / "a", dt.date(2021, 4, 6), Request(task="t19"))
    with pytest.raises(SpotcheckError) as twice:
        pipeline.commit(SHUOZHOU, shuozhou_dirs / "entities.csv", ledger_path=ledger, beacon="b", reveal_as="numbers:3", actor="王科长",
                        drawn_on=dt.date(2021, 4, 20), request=Request(task="t19", round=1))
    assert [p.code for p in twice.value.problems] == ["R524"]
    assert "已于 2021-04-06" in twice.value.problems[0].message
    with pytest.raises(SpotcheckError) as early:
        pipeline.commit(SHUOZHOU, shuozhou_dirs / "entities.csv", ledger_path=ledger, beacon="b", reveal_as="numbers:3", actor="王科长",
                        drawn_on=dt.date(2021, 5, 20), request=Request(task="t19"))
    assert [p.code for p in early.value.problems] == ["R525"]
    assert "8月" in early.value.problems[0].message


def test_an_approved_early_draw_is_recorded(shuozhou_dirs, tmp_path):
    ledger = tmp_path / "l.db"
    approved = Request(task="t04", override=Override("省局专项行动提前部署", "王局长"))
    result = official(shuozhou_dirs, ledger, tmp_path / "a", dt.date(2021, 5, 10), approved)
    assert set(result.drawn["task_id"]) == {"t04"}
    with Ledger.open(ledger) as led:
        commitment = led.find("commitment")[0].body
        draw = led.find("draw")[0].body
    assert commitment["override"]["approver"] == "王局长"
    assert draw["override"]["reason"] == "省局专项行动提前部署"
    assert "6月" in draw["override"]["refused"][0]


def test_a_reveal_draws_what_was_committed(shuozhou_dirs, tmp_path):
    ledger = tmp_path / "l.db"
    result = official(shuozhou_dirs, ledger, tmp_path / "a", dt.date(2021, 8, 2), Request(task="t19", round=2))
    assert set(result.drawn.select("task_id", "round", "month").unique().iter_rows()) == {("t19", 2, 8)}
    drill = pipeline.draw(SHUOZHOU, shuozhou_dirs / "entities.csv", tmp_path / "d", ledger_path=ledger, seed="s",
                          drawn_on=dt.date(2021, 1, 5), request=Request(task="t19", round=2))
    assert drill.drawn.filter(pl.col("task_id") != "t19").height == 0  # a drill is never refused


def test_a_whole_year_draw_after_a_round_is_refused_for_that_round(shuozhou_dirs, tmp_path):
    ledger = tmp_path / "l.db"
    official(shuozhou_dirs, ledger, tmp_path / "a", dt.date(2021, 4, 6), Request(task="t19"))
    with pytest.raises(SpotcheckError) as whole:
        pipeline.commit(SHUOZHOU, shuozhou_dirs / "entities.csv", ledger_path=ledger, beacon="b", reveal_as="numbers:3",
                        actor="王科长", drawn_on=dt.date(2021, 4, 20))
    assert [p.code for p in whole.value.problems] == ["R524"]
    assert "t19 第1轮" in whole.value.problems[0].message
    # Approved, the redraw is recorded with what it set aside, and the transcript stays a whole-year one.
    result = official(shuozhou_dirs, ledger, tmp_path / "b", dt.date(2021, 4, 20), Request(override=Override("名录有误，重新抽取", "王局长")))
    assert "selection" not in json.loads((tmp_path / "b/transcript.json").read_text("utf-8"))
    assert ("t19", 2) in set(result.drawn.select("task_id", "round").iter_rows())
    with Ledger.open(ledger) as led:
        draw = led.find("draw")[-1].body
    assert draw["override"]["approver"] == "王局长" and "t19 第1轮" in draw["override"]["refused"][0]
    assert draw["due"] is False
