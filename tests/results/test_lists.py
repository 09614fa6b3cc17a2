"""A list of entities by their latest result, written for next year's policy to adopt (policy/lists.py)."""

from __future__ import annotations

import csv
import hashlib

import pytest
from spotcheck.errors import SpotcheckError
from spotcheck.policy.lists import read_list
from spotcheck.results.lists import result_list, wanted_categories
from spotcheck.results.records import tracks
from spotcheck.draw.reader import load_draw
from spotcheck.ledger.store import Ledger


def test_entities_whose_latest_result_found_a_problem_make_an_adoptable_list(results_ledger, draw_dir, tmp_path):
    out = tmp_path / "problems.csv"
    made = result_list([draw_dir], out, ledger_path=results_ledger, categories=wanted_categories([], problems=True))
    with Ledger.open(results_ledger, create=False) as ledger:
        done = [t for t in tracks(load_draw(draw_dir, ledger), ledger) if t.result is not None]
    found = {t.visit.uscc for t in done if t.needs_follow_up}
    with open(out, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {r["统一社会信用代码"] for r in rows} == found and made.rows == len(found) > 0
    assert made.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    codes, problems = read_list(out, made.sha256)  # the policy's list reader takes it as written
    assert not problems and set(codes) == found
    clean = wanted_categories(["未发现问题"], problems=False)
    none_found = result_list([draw_dir], tmp_path / "clean.csv", ledger_path=results_ledger, categories=clean)
    assert none_found.rows == len({t.visit.uscc for t in done if set(t.categories) & set(clean)})


def test_a_category_no_one_knows_is_refused_with_the_list_of_categories():
    with pytest.raises(SpotcheckError) as exc:
        wanted_categories(["不合格品"], problems=False)
    (p,) = exc.value.problems
    assert p.code == "P275" and "不合格品" in p.message and "未发现问题" in p.hint
