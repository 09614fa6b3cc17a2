"""History rows given as a frame (a draw's, a plan's) are recorded exactly as the same rows given as a list."""

import sqlite3

import polars as pl
import pytest
from spotcheck.errors import SpotcheckError
from spotcheck.ledger import history as history_module
from spotcheck.ledger.chain import HISTORY_FIELDS, canonical_json
from spotcheck.ledger.history import append_history, checks_of_year
from spotcheck.ledger.store import Ledger

AWKWARD = ["A01", 'say "hi"', "back\\slash", "新\u2028行", "tab\there", "\x01ctl", "emoji 😀", "", "é", "\x7f\x1f/<&>\r\n"]


def _rows(n: int) -> list[dict]:
    return [{"uscc": f"9111{i:014d}", "year": 2024, "task_id": AWKWARD[i % len(AWKWARD)],
             "item_codes": None if i % 5 == 0 else AWKWARD[i % 4:i % 7], "tier": None if i % 3 else "D", "draw_id": "d1",
             "visit_id": f"d1|{i % 12}|x", "lead_inspector": AWKWARD[-i % len(AWKWARD)] if i % 2 else None,
             "checked_on": None} for i in range(n)]


def _frame(rows: list[dict]) -> pl.DataFrame:
    schema = {name: pl.String for name in HISTORY_FIELDS} | {"year": pl.Int64, "item_codes": pl.List(pl.String)}
    return pl.DataFrame(rows, schema=schema)


def _stored(path) -> tuple[list, list]:
    conn = sqlite3.connect(path)
    records = conn.execute("SELECT seq, kind, key, body FROM records ORDER BY seq").fetchall()
    table = conn.execute("SELECT *, typeof(year), typeof(item_codes) FROM history ORDER BY seq, row_no").fetchall()
    return records, table


def test_a_frame_is_recorded_as_the_same_rows_given_as_a_list(tmp_path, monkeypatch):
    monkeypatch.setattr(history_module, "HISTORY_ROWS_PER_RECORD", 7)
    rows = _rows(30)
    rows[9]["task_id"] = "nul\x00here"
    for name, given in (("list", rows), ("frame", _frame(rows))):
        with Ledger.open(tmp_path / f"{name}.db") as led, led.transaction() as tx:
            append_history(tx, given, key="d1")
    by_list, by_frame = _stored(tmp_path / "list.db"), _stored(tmp_path / "frame.db")
    assert by_frame == by_list and len(by_list[0]) == 5 and len(by_list[1]) == 30
    # The table's codes are the canonical text of each row's list, as `verify` reads them back.
    assert [r[5] for r in by_frame[1]] == [canonical_json(r["item_codes"] or []) for r in rows]
    with Ledger.open(tmp_path / "frame.db") as led:
        assert led.verify().ok


def test_a_frame_the_columns_cannot_pass_gets_the_problems_of_its_rows(tmp_path):
    rows = _rows(4)
    rows[1]["uscc"], rows[2]["year"], rows[3]["checked_on"] = "", None, "2024-13-01"
    problems = []
    for given in (rows, _frame(rows)):
        with Ledger.open(tmp_path / "l.db") as led:
            with pytest.raises(SpotcheckError) as err:
                with led.transaction() as tx:
                    append_history(tx, given)
            assert led.history() == [] and led.head()[0] == 0
        problems.append([(p.code, p.message, p.where) for p in err.value.problems])
    assert problems[0] == problems[1] and len(problems[0]) == 3


def test_a_frame_with_check_dates_is_normalised_as_a_list_is(tmp_path):
    rows = [{"uscc": "X", "checked_on": "20240601"}, {"uscc": "Y", "year": 2023, "checked_on": None}]
    frame = pl.DataFrame({"uscc": ["X", "Y"], "checked_on": ["20240601", None], "year": [None, 2023]})
    for name, given in (("list", rows), ("frame", frame)):
        with Ledger.open(tmp_path / f"{name}.db") as led, led.transaction() as tx:
            append_history(tx, given, key="k")
    assert _stored(tmp_path / "list.db") == _stored(tmp_path / "frame.db")
    assert _stored(tmp_path / "frame.db")[1][0][3] == 2024


def test_a_years_checks_count_a_visit_once_a_drawn_entity_once_per_draw_and_other_checks_row_by_row(tmp_path):
    def row(uscc, year=2024, draw_id=None, visit_id=None, task_id=None):
        return {"uscc": uscc, "year": year, "draw_id": draw_id, "visit_id": visit_id, "task_id": task_id}

    drawn = [row("A", draw_id="d1", visit_id="v1", task_id=t) for t in ("t1", "t2", "t3")] + [
        row("B", draw_id="d1", visit_id="v2"),
        row("C", draw_id="d1"), row("C", draw_id="d1", task_id="t2"),  # drawn for two tasks, no visit planned yet
        row("C", draw_id="d2"), row("D", draw_id="d1", visit_id=""),
        row("A", year=2023, draw_id="d0", visit_id="v0")]
    other = [row("A", draw_id=""), row("B"), row("B"), row("E", year=2023)]
    with Ledger.open(tmp_path / "l.db") as led:
        with led.transaction() as tx:
            append_history(tx, drawn, key="draws")
            append_history(tx, other, key="complaints")
        assert checks_of_year(led, 2024) == (5, 3)  # v1, v2, d1|C, d2|C, d1|D; three rows without a draw
        assert checks_of_year(led, 2023) == (1, 1)
        assert checks_of_year(led, 2022) == (0, 0)
