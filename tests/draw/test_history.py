"""The year's past checks as the caps count them: one visit key per check."""

from __future__ import annotations

import datetime as dt

import polars as pl
from conftest import LONGWAN
from spotcheck.directory.load import load_entities
from spotcheck.draw import compute as draw
from spotcheck.draw.commitment import drill_seed
from spotcheck.draw.history import history_frame
from spotcheck.ledger.history import append_history
from spotcheck.ledger.store import Ledger
from spotcheck.policy.loader import load_policy


def visits_per_entity(rows: list[dict]) -> dict[str, int]:
    frame = history_frame(rows, 2023)
    return dict(frame.group_by("uscc").agg(pl.col("visit_id").n_unique()).iter_rows())


def test_checks_recorded_without_a_visit_id_are_not_one_check():
    rows = [
        {"seq": 1, "row_no": 0, "uscc": "X", "year": 2023, "checked_on": "2023-02-01"},
        {"seq": 1, "row_no": 1, "uscc": "X", "year": 2023, "checked_on": "2023-05-01"},
        {"seq": 2, "row_no": 0, "uscc": "Y", "year": 2023},
        {"seq": 3, "row_no": 0, "uscc": "Y", "year": 2023},
        # Two tasks on one day are one visit, as a plan merges them.
        {"seq": 4, "row_no": 0, "uscc": "Z", "year": 2023, "task_id": "t01", "checked_on": "2023-06-01"},
        {"seq": 4, "row_no": 1, "uscc": "Z", "year": 2023, "task_id": "t02", "checked_on": "2023-06-01"},
    ]
    assert visits_per_entity(rows) == {"X": 2, "Y": 2, "Z": 1}


def test_a_cap_counts_past_checks_brought_in_without_ids(longwan_dirs, tmp_path):
    loaded = load_policy(LONGWAN)
    entities = load_entities(longwan_dirs / "entities.csv")
    low_risk = (pl.col("tier") == "A") & (pl.col("type") == "企业")
    tier_a = entities.frame.filter(low_risk)["uscc"].to_list()
    # Two checks each this year, from another system: no visit, no draw, no date. Longwan's cap is 2 a year.
    with Ledger.open(tmp_path / "l.db", actor="tester") as led:
        with led.transaction() as tx:
            append_history(tx, [{"uscc": u, "year": 2023} for u in tier_a])
        with led.transaction() as tx:
            append_history(tx, [{"uscc": u, "year": 2023} for u in tier_a])
        history = history_frame(led.history(year=2023), 2023)
    result = draw.compute(loaded, entities, history, drill_seed("cap"), dt.date(2023, 3, 1))
    assert result.drawn.filter(low_risk).height == 0 and set(result.exclusions["cap_id"]) == {"low-risk"}
