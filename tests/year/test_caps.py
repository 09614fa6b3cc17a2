"""Longwan's year with its cap of 2 checks for low-risk enterprises, within one draw and across draws."""

from __future__ import annotations

import datetime as dt
import shutil

import polars as pl
import pytest
from conftest import POLICIES, edit
from spotcheck.directory.load import load_entities
from spotcheck.draw import compute as draw
from spotcheck.draw.history import HISTORY_COLUMNS
from spotcheck.draw import pipeline
from spotcheck.draw.commitment import drill_seed
from spotcheck.ledger.store import Ledger
from spotcheck.policy.loader import load_policy
from spotcheck.year.rounds import Request

CAP = "在同一年度内对低风险企业的抽查次数原则上不超过2次"
LOW_RISK = (pl.col("tier") == "A") & (pl.col("type") == "企业")


@pytest.fixture
def dense_longwan(tmp_path):
    """Longwan 2023 with its example ratios raised, so that the cap binds on a small directory."""
    shutil.copytree(POLICIES, tmp_path / "policies")
    path = tmp_path / "policies/zhejiang/wenzhou/longwan/2023.yaml"
    edit(path, 'sampling: {ratio: "5%", at_least: true, stratify: [tier], times_per_year: 2}',
         'sampling: {ratio: "60%", at_least: true, stratify: [tier], times_per_year: 2}')
    edit(path, 'sampling: &sampling {ratio: "5%"', 'sampling: &sampling {ratio: "60%"')
    edit(path, 'sampling: {ratio: "3%", at_least: true, stratify: [tier], times_per_year: 2}',
         'sampling: {ratio: "40%", at_least: true, stratify: [tier], times_per_year: 2}')
    return path


def test_one_draw_gives_no_low_risk_enterprise_a_third_check(dense_longwan, longwan_dirs):
    loaded = load_policy(dense_longwan)
    entities = load_entities(longwan_dirs / "entities.csv")
    result = draw.compute(loaded, entities, pl.DataFrame(schema=HISTORY_COLUMNS),
                          drill_seed("year"), dt.date(2023, 3, 1))
    checks = result.drawn.filter(LOW_RISK).group_by("uscc").agg(pl.col("month").n_unique().alias("n"))
    assert checks["n"].max() == 2  # the cap is reached, never passed
    ex = result.exclusions
    assert ex.height > 0 and set(ex["cap_id"]) == {"low-risk"} and set(ex["cap"]) == {CAP}
    # Tasks keep entities in the policy's order: the later task names the earlier ones that kept them.
    order = {t.id: i for i, t in enumerate(loaded.policy.tasks)}
    for task_id, kept_by in ex.filter(pl.col("this_draw") > 0).select("task_id", "kept_by").iter_rows():
        assert kept_by and all(order[k] <= order[task_id] for k in kept_by.split("|"))
    assert sum(sum(t.excluded_by_cap.values()) for t in result.summary.tasks) == ex.height


def test_a_year_of_monthly_draws_holds_the_cap_across_draws(dense_longwan, longwan_dirs, tmp_path):
    ledger = tmp_path / "l.db"
    entities = longwan_dirs / "entities.csv"
    excluded = []
    for month in (3, 4, 5, 6, 7):
        on = dt.date(2023, month, 6)
        c = pipeline.commit(dense_longwan, entities, ledger_path=ledger, beacon="b", drawn_on=on, request=Request(due=(2023, month)),
                            reveal_as="numbers:1", actor="王科长")
        out = tmp_path / f"m{month}"
        result = pipeline.draw(dense_longwan, entities, out, ledger_path=ledger, reveal=f"{month}", commitment_id=c.id,
                               actor="王科长")
        assert set(result.drawn["month"]) == {month}
        assert pipeline.verify(out, entities, policy_path=dense_longwan).ok
        excluded.append(pl.read_csv(out / "excluded.csv", infer_schema=False))
    frame = load_entities(entities).frame
    low_risk = set(frame.filter(LOW_RISK)["uscc"])
    with Ledger.open(ledger) as led:
        history = pl.DataFrame(led.history(year=2023)).select("uscc", "visit_id")
    checks = history.filter(pl.col("uscc").is_in(list(low_risk))).group_by("uscc").agg(pl.col("visit_id").n_unique().alias("n"))
    assert checks["n"].max() == 2
    ex = pl.concat(excluded)
    assert ex.height > 0 and set(ex["cap"]) == {CAP}
    # Later draws left out entities for checks recorded by earlier draws.
    assert ex.filter(pl.col("recorded").cast(pl.Int64) >= 1).height > 0


def test_cap_priority_chooses_which_task_keeps_an_entity(dense_longwan, longwan_dirs):
    loaded = load_policy(dense_longwan)
    last = loaded.policy.tasks[-1].id
    with dense_longwan.open("a", encoding="utf-8") as f:
        f.write(f"cap_priority:\n  tasks: [{last}]\n  text: 专项检查任务优先\n")
    loaded = load_policy(dense_longwan)
    entities = load_entities(longwan_dirs / "entities.csv")
    result = draw.compute(loaded, entities, pl.DataFrame(schema=HISTORY_COLUMNS), drill_seed("year"), dt.date(2023, 3, 1))
    ex = result.exclusions
    # The listed task is never the one left out for a check this draw gave, and it keeps entities others lose.
    assert ex.filter((pl.col("task_id") == last) & (pl.col("this_draw") > 0)).height == 0
    assert ex.filter(pl.col("kept_by").str.contains(last)).height > 0
    assert "专项检查任务优先" in result.summary.cap_priority and result.summary.cap_priority.index(last) < 40
    assert [t.task_id for t in result.summary.tasks] == [t.id for t in loaded.policy.tasks]  # files keep the plan's order
    checks = result.drawn.filter(LOW_RISK).group_by("uscc").agg(pl.col("month").n_unique().alias("n"))
    assert checks["n"].max() == 2
