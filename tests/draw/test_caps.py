"""Caps as checks, not tasks: one visit however many tasks it merges, and only the tasks a cap's items name."""

from __future__ import annotations

import datetime as dt
import shutil

import polars as pl
import pytest
from conftest import POLICIES, edit
from spotcheck.directory.load import load_entities
from spotcheck.draw import compute as draw
from spotcheck.draw.commitment import drill_seed
from spotcheck.draw.history import HISTORY_COLUMNS, history_frame, history_rows
from spotcheck.policy.loader import load_policy

LOW_RISK = (pl.col("tier") == "A") & (pl.col("type") == "企业")
APRIL = {"t02": (1,), "t03": (1,)}


@pytest.fixture
def longwan(tmp_path):
    """Longwan 2023 with t02 (餐饮服务) and t03 (all food objects, so t02's too) drawing everyone in April."""
    shutil.copytree(POLICIES, tmp_path / "policies")
    path = tmp_path / "policies/zhejiang/wenzhou/longwan/2023.yaml"
    edit(path, 'sampling: &sampling {ratio: "5%"', 'sampling: &sampling {ratio: "100%"')
    edit(path, "    draw_months: [5, 10]\n    lead_unit: 食药检验所", "    draw_months: [4, 10]\n    lead_unit: 食药检验所")
    return path


def recorded(usccs: list[str], checks: int, items: str = "") -> pl.DataFrame:
    rows = [{"uscc": u, "visit_id": f"v{k}-{u}", "task_id": "old", "item_codes": items} for u in usccs for k in range(checks)]
    return pl.DataFrame(rows, schema=HISTORY_COLUMNS)


def drawn_by(result, task_id: str) -> set[str]:
    return set(result.drawn.filter(LOW_RISK & (pl.col("task_id") == task_id))["uscc"])


def test_two_tasks_in_one_month_are_one_check_against_a_cap_of_2(longwan, longwan_dirs):
    loaded, entities = load_policy(longwan), load_entities(longwan_dirs / "entities.csv")
    low_risk = entities.frame.filter(LOW_RISK)["uscc"].to_list()
    once = draw.compute(loaded, entities, recorded(low_risk, 1), drill_seed("cap"), dt.date(2023, 4, 1), select=APRIL)
    # One recorded check plus one visit merging both tasks is 2: the second task keeps what the first drew.
    assert drawn_by(once, "t02") & drawn_by(once, "t03") and once.exclusions.height == 0
    twice = draw.compute(loaded, entities, recorded(low_risk, 2), drill_seed("cap"), dt.date(2023, 4, 1), select=APRIL)
    assert not drawn_by(twice, "t02") and not drawn_by(twice, "t03")


def test_a_cap_limited_to_items_leaves_tasks_without_them_alone(longwan, longwan_dirs):
    edit(longwan, "    max_per_year: 2\n", "    max_per_year: 2\n    items: [ZJ23-EX02]\n")
    loaded, entities = load_policy(longwan), load_entities(longwan_dirs / "entities.csv")
    low_risk = entities.frame.filter(LOW_RISK)["uscc"].to_list()
    counted = draw.compute(loaded, entities, recorded(low_risk, 2, "ZJ23-EX02"), drill_seed("cap"), dt.date(2023, 4, 1),
                           select=APRIL)
    assert not drawn_by(counted, "t02") and drawn_by(counted, "t03")  # t03 has no ZJ23-EX02: the cap is not its
    assert set(counted.exclusions["task_id"]) == {"t02"}
    other = draw.compute(loaded, entities, recorded(low_risk, 2, "ZJ23-EX03"), drill_seed("cap"), dt.date(2023, 4, 1),
                         select=APRIL)
    assert drawn_by(other, "t02") and other.exclusions.height == 0  # checks of other items do not count


def test_a_draw_and_its_plan_in_one_ledger_are_one_check(longwan, longwan_dirs):
    loaded, entities = load_policy(longwan), load_entities(longwan_dirs / "entities.csv")
    first = draw.compute(loaded, entities, pl.DataFrame(schema=HISTORY_COLUMNS), drill_seed("a"), dt.date(2023, 4, 1),
                         select=APRIL)
    drawn = first.drawn.filter(LOW_RISK)
    # The draw records its checks, then the plan records the staffed ones again, with their lead inspector.
    leads = drawn.select("uscc", "task_id", pl.lit("ZF001").alias("lead_inspector"))
    rows = pl.concat([history_rows(loaded.policy, "d1", drawn), history_rows(loaded.policy, "d1", drawn, leads)]).to_dicts()
    history = history_frame(rows, 2023)
    assert history.group_by("uscc").agg(pl.col("visit_id").n_unique())["visit_id"].max() == 1
    # So a second visit later in the year is still within the cap of 2.
    again = draw.compute(loaded, entities, history, drill_seed("a"), dt.date(2023, 4, 1), select=APRIL)
    assert drawn_by(again, "t02") == drawn_by(first, "t02") and again.exclusions.height == 0
