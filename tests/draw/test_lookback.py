"""Rules that look back on past checks, earlier years' included: "近12个月内未被抽查的" and "每3年至少抽查一次"."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import polars as pl
import pytest
from conftest import POLICIES, edit
from spotcheck.directory.load import load_entities
from spotcheck.draw import pipeline
from spotcheck.ledger.history import append_history
from spotcheck.ledger.store import Ledger
from spotcheck.year.rounds import Override, Request

T19 = 'sampling: {ratio: "5%", at_least: true, times_per_year: 2}\n'


def shuozhou(tmp_path, sampling: str, extra: str = ""):
    shutil.copytree(POLICIES, tmp_path / "policies")
    path = tmp_path / "policies/shanxi/shuozhou/2021.yaml"
    edit(path, T19, sampling + extra)
    return path


def high_risk(dirs) -> list[str]:
    frame = load_entities(dirs / "entities.csv").frame
    return frame.filter((pl.col("tier") == "D") & (pl.col("type") == "企业") & (pl.col("status") == "存续"))["uscc"].sort().to_list()


def past(ledger, rows):
    with Ledger.open(ledger, actor="王科长") as led, led.transaction() as tx:
        append_history(tx, rows, key="2020年国家系统导出")


def official(path, dirs, ledger, out, on, value="7"):
    c = pipeline.commit(path, dirs / "entities.csv", ledger_path=ledger, beacon="b", drawn_on=on, request=Request(task="t19"),
                        reveal_as="numbers:1", actor="王科长")
    return pipeline.draw(path, dirs / "entities.csv", out, ledger_path=ledger, reveal=value, commitment_id=c.id, actor="王科长")


def test_not_checked_within_twelve_months_reads_last_years_checks(tmp_path, shuozhou_dirs):
    path = shuozhou(tmp_path, 'sampling: {ratio: "100%", at_least: true}\n',
                    "    not_checked_within: {months: 12, text: 近12个月内未被抽查的}\n")
    codes = high_risk(shuozhou_dirs)
    recent, old = codes[:5], codes[5:8]
    ledger = tmp_path / "l.db"
    past(ledger, [{"uscc": u, "checked_on": "2020-06-01", "item_codes": ["SX21-18"]} for u in recent]
         + [{"uscc": u, "checked_on": "2020-03-01"} for u in old])
    result = official(path, shuozhou_dirs, ledger, tmp_path / "apr", dt.date(2021, 4, 6))
    drawn = set(result.drawn["uscc"])
    assert not drawn & set(recent) and set(old) <= drawn and len(drawn) == len(codes) - len(recent)
    ex = pl.read_csv(tmp_path / "apr/excluded.csv", infer_schema=False)
    assert sorted(ex["uscc"]) == recent and set(ex["cap_id"]) == {"recent"}
    assert set(ex["cap"]) == {"近12个月内（2020-04-06以后）已检查（原文：近12个月内未被抽查的）"}
    t19 = next(t for t in result.summary.tasks if t.task_id == "t19")
    assert t19.excluded_by_cap == {"recent": 5}
    assert t19.sampling["lookback"] == ["近12个月内（2020-04-06以后）已检查（原文：近12个月内未被抽查的）的5户不抽取"]
    transcript = json.loads((tmp_path / "apr/transcript.json").read_text("utf-8"))
    assert transcript["lookback"]["file"] == "lookback.csv"
    assert pipeline.verify(tmp_path / "apr", shuozhou_dirs / "entities.csv", policy_path=path).ok
    # The reveal commits to the earlier years' checks: one added after the commitment is refused.
    c = pipeline.commit(path, shuozhou_dirs / "entities.csv", ledger_path=ledger, beacon="b", drawn_on=dt.date(2021, 8, 2),
                        request=Request(task="t19", override=Override("补充抽取", "王局长")), reveal_as="numbers:1", actor="王科长")
    past(ledger, [{"uscc": codes[-1], "checked_on": "2020-01-10"}])
    with pytest.raises(Exception) as changed:
        pipeline.draw(path, shuozhou_dirs / "entities.csv", tmp_path / "aug", ledger_path=ledger, reveal="1", commitment_id=c.id,
                      actor="王科长")
    assert "往年抽查记录与承诺时不一致" in str(changed.value)


def test_once_in_three_years_draws_the_uncovered_share_of_the_cycle(tmp_path, shuozhou_dirs):
    path = shuozhou(tmp_path, 'sampling: {once_in_years: {years: 3, since: 2020, text: 每3年至少抽查一次}}\n')
    codes = high_risk(shuozhou_dirs)
    covered = codes[:6]
    ledger = tmp_path / "l.db"
    past(ledger, [{"uscc": u, "year": 2020} for u in covered] + [{"uscc": codes[6], "year": 2019}])
    result = official(path, shuozhou_dirs, ledger, tmp_path / "apr", dt.date(2021, 4, 6))
    t19 = next(t for t in result.summary.tasks if t.task_id == "t19")
    left = len(codes) - len(covered)  # 2019 is before the cycle (2020–2022): that entity is still owed a check
    assert t19.eligible == left and t19.drawn == -(-left // 2)  # 2021 leaves two years of the cycle: half of them
    assert not set(result.drawn["uscc"]) & set(covered)
    assert t19.sampling["words"][0].startswith("每3年至少抽查一次（原文：每3年至少抽查一次）：本周期2020–2022年，2021年尚余2年")
    assert t19.excluded_by_cap == {"cycle": len(covered)}
    assert pipeline.verify(tmp_path / "apr", shuozhou_dirs / "entities.csv", policy_path=path).ok
