"""A mid-year revision: adds a task, tightens a ratio; draws keep the revision they used; drawn tasks stay."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from conftest import POLICIES, edit, line_of
from spotcheck.draw import pipeline
from spotcheck.errors import SpotcheckError
from spotcheck.ledger.store import Ledger
from spotcheck.notices import api as notice
from spotcheck.policy.loader import load_policy
from spotcheck.year.board import year_board
from spotcheck.year.revision import diff_revisions
from spotcheck.year.rounds import Request

REVISION = """revision:
  number: 1
  date: "2021-06-15"
  reason: 根据省局部署增加电子商务经营者专项抽查，提高企业不定向抽查比例
  published: "2021-06-18"
"""
T22 = """  - id: t22
    no: 22
    name: "对网络交易经营者的双随机抽查"
    type: 定向
    items: [SX21-09]
    scope: {all: [*operating, {field: labels, op: contains, value: 电子商务平台经营者}]}
    scope_text: "全市网络交易经营者"
    sampling: {ratio: "10%", at_least: true}
    draw_months: [7, 10]

risk:"""


def _draw(policy, entities, ledger, out, month, request):
    c = pipeline.commit(policy, entities, ledger_path=ledger, beacon="b", drawn_on=dt.date(2021, month, 5), request=request,
                        reveal_as="numbers:1", actor="王科长")
    return pipeline.draw(policy, entities, out, ledger_path=ledger, reveal=str(month), commitment_id=c.id, actor="王科长")


@pytest.fixture
def revised_year(tmp_path, shuozhou_dirs):
    """April under the original plan, then the plan revised in June, then July under the revision."""
    shutil.copytree(POLICIES, tmp_path / "policies")
    path = tmp_path / "policies/shanxi/shuozhou/2021.yaml"
    original = path.parent / "2021-original.yaml"
    ledger, entities = tmp_path / "l.db", shuozhou_dirs / "entities.csv"
    _draw(path, entities, ledger, tmp_path / "apr", 4, Request(due=(2021, 4)))
    shutil.copy(path, original)
    edit(path, "year: 2021\n", "year: 2021\n" + REVISION)
    edit(path, 'sampling: {ratio: "1%", at_least: true, times_per_year: 2}\n    draw_months: [4, 10]',
         'sampling: {ratio: "2%", at_least: true, times_per_year: 2}\n    draw_months: [4, 10]')
    edit(path, "\nrisk:", "\n" + T22)
    july = _draw(path, entities, ledger, tmp_path / "jul", 7, Request(due=(2021, 7)))
    return path, original, ledger, entities, july


def test_the_revision_adds_a_task_and_draws_record_their_revision(revised_year, tmp_path):
    path, original, ledger, entities, july = revised_year
    assert "t22" in set(july.drawn["task_id"])
    t21 = next(t for t in july.summary.tasks if t.task_id == "t21")
    assert {s.ratio for s in t21.strata} == {"1/50"}  # 2%, the revised ratio
    with Ledger.open(ledger) as led:
        draws = led.find("draw")
    assert [d.body["revision"] for d in draws] == [None, 1]
    assert draws[0].body["policy_sha256"] != draws[1].body["policy_sha256"]
    board = year_board(path, ledger_path=ledger, on=dt.date(2021, 7, 20))
    assert [d["revision"] for d in board.draws] == ["原计划", "第1次修订"]
    assert board.revision.startswith("第1次修订（2021年6月15日）")
    rows = {(r.task_id, r.round): r for r in board.rows}
    assert rows[("t01", 1)].draws[0].revision is None and rows[("t22", 1)].draws[0].revision == 1
    assert pipeline.verify(tmp_path / "jul", entities, policy_path=path).ok
    assert pipeline.verify(tmp_path / "apr", entities, policy_path=original).ok


def test_diff_says_what_changes_for_the_rest_of_the_year(revised_year):
    path, original, *_ = revised_year
    texts = [c.text for c in diff_revisions(original, path)]
    assert texts[0].startswith("计划版本 原计划 → 第1次修订（2021年6月15日），理由：根据省局部署")
    added = next(t for t in texts if "新增任务 t22" in t)
    assert added.endswith("（本年余下：7月）")
    tightened = next(t for t in texts if "不低于1%，2次/年 → 不低于2%，2次/年" in t)
    assert "本年余下：7月第2轮" in tightened


def test_the_revised_plan_notice_states_the_revision(revised_year):
    path, *_ = revised_year
    text = notice.render(load_policy(path), fmt="md")
    assert "本计划已于2021年6月15日作第1次调整，调整理由：根据省局部署增加电子商务经营者专项抽查" in text
    assert "（2021年6月15日第1次调整）" in text  # the plan table's title
    assert "对网络交易经营者的双随机抽查" in text


def test_deleting_a_drawn_task_is_refused_at_its_line(revised_year):
    path, _, ledger, entities, _ = revised_year
    text = path.read_text("utf-8")
    start = text.index("  - id: t02\n")
    end = text.index("  - id: t03\n")
    path.write_text(text[:start] + text[end:], "utf-8")
    edit(path, "  number: 1\n", "  number: 2\n")
    with pytest.raises(SpotcheckError) as exc:
        pipeline.commit(path, entities, ledger_path=ledger, beacon="b", drawn_on=dt.date(2021, 8, 2), request=Request(due=(2021, 8)),
                        reveal_as="numbers:1", actor="王科长")
    problems = exc.value.problems
    assert [p.code for p in problems] == ["R530"]
    assert problems[0].file.endswith("shanxi/shuozhou/2021.yaml") and problems[0].line == line_of(path, "tasks:")
    assert "t02" in problems[0].message and "不能删除" in problems[0].message


def test_moving_a_drawn_round_or_changing_without_a_revision_is_refused(revised_year):
    path, _, ledger, entities, _ = revised_year
    edit(path, 'sampling: {ratio: "2%", at_least: true, times_per_year: 2}\n    draw_months: [4, 10]',
         'sampling: {ratio: "2%", at_least: true, times_per_year: 2}\n    draw_months: [5, 10]')
    with pytest.raises(SpotcheckError) as exc:
        pipeline.commit(path, entities, ledger_path=ledger, beacon="b", drawn_on=dt.date(2021, 8, 2), request=Request(due=(2021, 8)),
                        reveal_as="numbers:1", actor="王科长")
    codes = [p.code for p in exc.value.problems]
    assert "R531" in codes and "R532" in codes
    moved = next(p for p in exc.value.problems if p.code == "R531")
    assert moved.line == line_of(path, "draw_months: [5, 10]") and "t21" in moved.message
