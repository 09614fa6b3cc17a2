"""Batches with their own months and deadlines that split a task's sample (no entity in two batches,
across separate draws through the ledger) or repeat it."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import polars as pl
import pytest
from conftest import POLICIES, edit, line_of
from spotcheck.directory.load import load_entities
from spotcheck.draw import compute as draw
from spotcheck.draw import pipeline
from spotcheck.draw.commitment import drill_seed
from spotcheck.draw.history import HISTORY_COLUMNS
from spotcheck.errors import SpotcheckError
from spotcheck.policy.loader import load_policy
from spotcheck.year import render
from spotcheck.year.board import year_board
from spotcheck.year.rounds import Request, year_rounds

T19 = 'sampling: {ratio: "5%", at_least: true, times_per_year: 2}\n    draw_months: [4, 11]\n'
BATCHES = """    batch_mode: {mode}
    batches:
      - {{name: 第一批, month: 4, due: "2021-06-30"}}
      - {{name: 第二批, month: 8, due: "2021-10-31"}}
"""


def batched(tmp_path, mode: str):
    """Shuozhou 2021 with t19 (high-risk enterprises, 50%) in two batches that split or repeat its sample."""
    shutil.copytree(POLICIES, tmp_path / "policies")
    path = tmp_path / "policies/shanxi/shuozhou/2021.yaml"
    edit(path, T19, 'sampling: {ratio: "50%", at_least: true}\n    draw_months: [4, 11]\n' + BATCHES.format(mode=mode))
    return path


def official(path, dirs, ledger, out, on, value):
    c = pipeline.commit(path, dirs / "entities.csv", ledger_path=ledger, beacon="b", drawn_on=on, request=Request(task="t19"),
                        reveal_as="numbers:1", actor="王科长")
    return pipeline.draw(path, dirs / "entities.csv", out, ledger_path=ledger, reveal=value, commitment_id=c.id, actor="王科长")


def test_split_batches_drawn_months_apart_share_the_years_sample(tmp_path, shuozhou_dirs):
    path = batched(tmp_path, "split")
    rounds = [r for r in year_rounds(load_policy(path)) if r.task_id == "t19"]
    assert [(r.batch, r.month, r.due, r.split) for r in rounds] == [
        ("第一批", 4, dt.date(2021, 6, 30), True), ("第二批", 8, dt.date(2021, 10, 31), True)]
    ledger = tmp_path / "l.db"
    first = official(path, shuozhou_dirs, ledger, tmp_path / "apr", dt.date(2021, 4, 6), "3")
    # The year board shows each batch with its deadline, the deadline among the coming ones, then overdue.
    june = year_board(path, ledger_path=ledger, on=dt.date(2021, 6, 21))
    rows = [r for r in june.rows if r.task_id == "t19"]
    assert [(r.batch, r.due, r.state) for r in rows] == [("第一批", dt.date(2021, 6, 30), "已抽取"), ("第二批", dt.date(2021, 10, 31), "未到月份")]
    assert any(d.kind == "完成检查" and "t19第一批" in d.what for d in june.deadlines)
    assert "t19 第一批（拆分样本，2021-06-30前完成）" in render.text(june)
    assert "第一批<br>" in render.html(june)
    july = year_board(path, ledger_path=ledger, on=dt.date(2021, 7, 5))
    assert "第一批应于2021-06-30前完成" in next(r for r in july.rows if r.task_id == "t19").overdue
    second = official(path, shuozhou_dirs, ledger, tmp_path / "aug", dt.date(2021, 8, 2), "5")
    one, two = (set(r.drawn["uscc"]) for r in (first, second))
    assert set(first.drawn["round"]) == {1} and set(second.drawn["round"]) == {2}
    assert one and two and not one & two  # no entity in two batches
    # Together the batches draw the year's 50% of the high-risk enterprises, half each.
    frame = load_entities(shuozhou_dirs / "entities.csv").frame
    year = first.summary.tasks[0]
    eligible = year.eligible
    assert len(one) == -(-eligible // 4) and len(one) + len(two) == -(-eligible // 2)
    # The second draw's pool leaves out the first batch; its summary says how the count follows.
    words = second.summary.tasks[0].sampling["batches"]
    assert words[0].startswith("分2批（拆分样本") and "第二批8月抽取、2021-10-31前完成" in words[0]
    assert words[1] == "本次抽取：第二批"
    assert any(f"前批已抽{len(one)}户，本次抽{len(two)}户" in w for w in words[2:])
    assert second.summary.tasks[0].eligible == eligible - len(one)
    assert frame.filter(pl.col("uscc").is_in(list(one | two)))["tier"].unique().to_list() == ["D"]
    for out in ("apr", "aug"):
        assert pipeline.verify(tmp_path / out, shuozhou_dirs / "entities.csv", policy_path=path).ok
    transcript = json.loads((tmp_path / "aug/transcript.json").read_text("utf-8"))
    assert transcript["selection"] == {"t19": [2]}
    # A revision may not move a batch already drawn: refused at the task's batches.
    edit(path, "{name: 第一批, month: 4,", "{name: 第一批, month: 5,")
    with pytest.raises(SpotcheckError) as moved:
        official(path, shuozhou_dirs, ledger, tmp_path / "oct", dt.date(2021, 10, 8), "9")
    (r531,) = [p for p in moved.value.problems if p.code == "R531"]
    assert r531.line == line_of(path, "    batches:", line_of(path, "id: t19")) and "改到了 5 月" in r531.message


def test_split_batches_drawn_together_never_repeat_an_entity(tmp_path, shuozhou_dirs):
    path = batched(tmp_path, "split")
    entities = load_entities(shuozhou_dirs / "entities.csv")
    result = draw.compute(load_policy(path), entities, pl.DataFrame(schema=HISTORY_COLUMNS), drill_seed("s"), dt.date(2021, 4, 1))
    t19 = result.drawn.filter(pl.col("task_id") == "t19")
    assert t19["uscc"].n_unique() == t19.height and set(t19["round"]) == {1, 2}
    counts = t19.group_by("round").len().sort("round")["len"].to_list()
    task = next(t for t in result.summary.tasks if t.task_id == "t19")
    assert sum(counts) == task.drawn == task.wanted == -(-task.eligible // 2)
    assert counts[0] >= counts[1] >= counts[0] - 1


def test_repeat_batches_draw_the_sample_in_each_batch(tmp_path, shuozhou_dirs):
    path = batched(tmp_path, "repeat")
    entities = load_entities(shuozhou_dirs / "entities.csv")
    result = draw.compute(load_policy(path), entities, pl.DataFrame(schema=HISTORY_COLUMNS), drill_seed("s"), dt.date(2021, 4, 1))
    t19 = result.drawn.filter(pl.col("task_id") == "t19")
    task = next(t for t in result.summary.tasks if t.task_id == "t19")
    sizes = t19.group_by("round").len()["len"].to_list()
    assert sizes == [-(-task.eligible // 2)] * 2 and set(t19["month"]) == {4, 8}
    assert task.sampling["batches"][0].startswith("分2批（重复抽取")
