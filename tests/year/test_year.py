"""A year of seed 002 (Shuozhou 2021), month by month, against a directory that changes between draws."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from conftest import SHUOZHOU
from spotcheck.directory import uscc
from spotcheck.draw import pipeline
from spotcheck.errors import SpotcheckError
from spotcheck.ledger.store import Ledger
from spotcheck.policy.loader import load_policy
from spotcheck.terminal import columns
from spotcheck.year import render
from spotcheck.year.board import year_board
from spotcheck.year.rounds import Request, drawn_rounds, year_rounds

CODE, STATUS, TIER, TYPE, FOUNDED = "统一社会信用代码", "登记状态", "信用风险等级", "主体类型", "成立日期"


def _register(directory: pl.DataFrame, n: int) -> pl.DataFrame:
    """n enterprises registered in May 2021: copies of operating enterprises under new codes."""
    model = directory.filter((pl.col(TYPE) == "企业") & (pl.col(STATUS) == "存续")).head(n)
    codes = [uscc.make(f"registered-in-may-{i}", "企业", "140602") for i in range(model.height)]
    return pl.concat([directory, model.with_columns(pl.Series(CODE, codes), pl.lit("2021-05-10").alias(FOUNDED))])


@pytest.fixture(scope="module")
def shuozhou_year(shuozhou_dirs, tmp_path_factory):
    """Draw every month what is due, committing first; the directory changes between draws."""
    tmp = tmp_path_factory.mktemp("year")
    ledger = tmp / "l.db"
    directory = pl.read_csv(shuozhou_dirs / "entities.csv", infer_schema=False)
    registered: set[str] = set()
    closed = None
    folders = {}
    for month in range(2, 13):
        if month == 5:
            before = set(directory[CODE])
            directory = _register(directory, 1500)
            registered = set(directory[CODE]) - before
        if month == 6:
            # Monthly reclassification: some low-risk entities become 一般风险.
            flip = pl.int_range(pl.len()) % 7 == 0
            directory = directory.with_columns(pl.when(flip & (pl.col(TIER) == "A")).then(pl.lit("B")).otherwise(pl.col(TIER)).alias(TIER))
        path = tmp / f"entities-{month:02d}.csv"
        directory.write_csv(path)
        on = dt.date(2021, month, 3)
        try:
            c = pipeline.commit(SHUOZHOU, path, ledger_path=ledger, beacon="双色球开奖号码", drawn_on=on, request=Request(due=(2021, month)),
                                reveal_as="numbers:3", actor="王科长")
        except SpotcheckError as exc:
            assert [p.code for p in exc.problems] == ["R522"]  # nothing left to draw by this month
            continue
        out = tmp / f"draw-{month:02d}"
        pipeline.draw(SHUOZHOU, path, out, ledger_path=ledger, reveal=f"{month:02d} 07 19", commitment_id=c.id, actor="王科长")
        folders[month] = (out, path)
        if month == 4:
            # An entity drawn in April closes before its check.
            closed = pl.read_csv(out / "draws.csv", infer_schema=False)["uscc"][0]
            directory = directory.with_columns(pl.when(pl.col(CODE) == closed).then(pl.lit("注销")).otherwise(pl.col(STATUS)).alias(STATUS))
    return ledger, folders, registered, closed, tmp / "entities-12.csv"


def test_every_round_is_drawn_in_its_month(shuozhou_year):
    ledger, folders, _, _, _ = shuozhou_year
    loaded = load_policy(SHUOZHOU)
    with Ledger.open(ledger) as led:
        drawn = drawn_rounds(led, loaded.policy.id, 2021)
    assert {(d.task_id, d.round) for d in drawn} == {(r.task_id, r.round) for r in year_rounds(loaded)}
    assert len(drawn) == len(year_rounds(loaded))  # each round once
    # February's row (t18) is the first draw; every later round is drawn in its own month.
    assert all(d.drawn_on.month == d.month for d in drawn)
    assert sorted(folders) == sorted({d.month for d in drawn})


def test_every_draw_verifies_against_the_directory_it_used(shuozhou_year):
    _, folders, _, _, _ = shuozhou_year
    for out, path in folders.values():
        assert pipeline.verify(out, path).ok
    out, _ = folders[7]
    report = pipeline.verify(out, folders[4][1])  # April's directory is not July's
    assert not report.ok and "V703" in {p.code for p in report.problems}


def test_an_entity_registered_in_may_is_drawn_later(shuozhou_year):
    _, folders, registered, _, _ = shuozhou_year
    later = pl.concat([pl.read_csv(out / "draws.csv", infer_schema=False) for m, (out, _) in folders.items() if m > 5])
    assert registered & set(later["uscc"])
    early = pl.concat([pl.read_csv(out / "draws.csv", infer_schema=False) for m, (out, _) in folders.items() if m <= 4])
    assert not registered & set(early["uscc"])


def test_the_board_at_year_end(shuozhou_year, tmp_path):
    ledger, _, _, closed, last = shuozhou_year
    board = year_board(SHUOZHOU, ledger_path=ledger, on=dt.date(2021, 12, 10), entities_path=last)
    assert all(row.draws for row in board.rows) and not any(row.state == "逾期未抽取" for row in board.rows)
    assert board.next_draws == []
    # Listed once per draw that took it and has no result: whether an earlier draw took it too depends on the key.
    assert {c.uscc for c in board.closed} == {closed} and {c.status for c in board.closed} == {"注销"}
    assert {d["revision"] for d in board.draws} == {"原计划"}
    page = render.show(SHUOZHOU, ledger_path=ledger, on=dt.date(2021, 12, 10), entities_path=last, fmt="html", out=tmp_path / "b.html")
    assert (tmp_path / "b.html").read_text("utf-8") == page
    assert "http" not in page.replace('xmlns="http', "") and closed in page


def test_the_board_on_a_day_shows_the_year_as_it_stood_then(shuozhou_year):
    ledger, _, _, _, _ = shuozhou_year
    board = year_board(SHUOZHOU, ledger_path=ledger, on=dt.date(2021, 6, 1))
    state = {(r.task_id, r.round): r.state for r in board.rows}
    assert state[("t19", 1)] == "已抽取" and state[("t19", 2)] == "未到月份"
    assert state[("t04", 1)] == "本月应抽取"
    assert board.next_draws[0].startswith("2021年6月：t04、t08、t09")
    assert {d.kind for d in board.deadlines} >= {"获取名单并抽取", "匹配执法人员"}
    # In the terminal every row's state starts in one column: t19's 第1/2轮 is wider than t04's bare id.
    rows = [line for line in render.text(board).splitlines() if "【" in line]
    assert len(rows) == len(board.rows) and len({columns(line[: line.index("【")]) for line in rows}) == 1


def test_drills_are_left_out_of_the_board_and_said_to_be(shuozhou_dirs, tmp_path):
    # The demo's ledger holds one drill: its board read as a year with every task overdue and nothing said why.
    ledger = tmp_path / "l.db"
    pipeline.draw(SHUOZHOU, shuozhou_dirs / "entities.csv", tmp_path / "drill", ledger_path=ledger, seed="演练",
                  drawn_on=dt.date(2021, 3, 5))
    board = year_board(SHUOZHOU, ledger_path=ledger, on=dt.date(2021, 6, 1))
    assert not any(row.draws for row in board.rows)
    assert board.notes == ["台账中另有 1 次演练抽取，不计入本看板：演练不是正式抽取，各任务仍须正式抽取"]
    assert year_board(SHUOZHOU, ledger_path=ledger, on=dt.date(2021, 3, 4)).notes == []


def test_a_broken_directory_is_named_before_anything_is_drawn(shuozhou_dirs, tmp_path):
    ledger = tmp_path / "l.db"
    Ledger.open(ledger).close()
    lines = (shuozhou_dirs / "entities.csv").read_text("utf-8").splitlines()
    broken = tmp_path / "e.csv"
    broken.write_text("\n".join([*lines[:3], lines[3] + ",多出"]) + "\n", "utf-8")
    with pytest.raises(SpotcheckError) as exc:
        year_board(SHUOZHOU, ledger_path=ledger, on=dt.date(2021, 6, 1), entities_path=broken)
    assert [(p.code, p.row) for p in exc.value.problems] == [("D221", 4)]
    assert year_board(SHUOZHOU, ledger_path=ledger, on=dt.date(2021, 6, 1), entities_path=shuozhou_dirs / "entities.csv").closed == []


def test_the_board_is_never_written_over_a_draw_folders_file(shuozhou_year, tmp_path):
    ledger, folders = shuozhou_year[0], shuozhou_year[1]
    transcript = folders[4][0] / "transcript.json"
    before = transcript.read_bytes()
    with pytest.raises(SpotcheckError) as exc:
        render.show(SHUOZHOU, ledger_path=ledger, on=dt.date(2021, 6, 1), fmt="json", out=transcript)
    assert exc.value.problems[0].code == "R540" and transcript.read_bytes() == before
