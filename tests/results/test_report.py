import datetime as dt
import hashlib
import json
import re
import sqlite3
from fractions import Fraction

import pytest
from conftest import RESULTS
from conftest import RESULTS_POLICY as POLICY
from conftest import RESULTS_TODAY as TODAY
from spotcheck.results import publish
from spotcheck.results import report
from spotcheck.results import records as results
from spotcheck.directory.kinds import load_for
from spotcheck.errors import SpotcheckError
from spotcheck.ledger.history import append_history
from spotcheck.ledger.store import Ledger
from spotcheck.policy.loader import load_policy

ENTITIES = RESULTS / "entities.csv"
YEAR_END = dt.date(2023, 12, 31)


def published(draw_dir, ledger, tmp_path, on=dt.date(2023, 10, 26)):
    results.approve(draw_dir, ledger_path=ledger, actor="审核员", on=on)
    publish.publish(draw_dir, tmp_path / "pub", ledger_path=ledger, policy_path=POLICY, on=on)


def make(draw_dir, ledger, tmp_path, today=YEAR_END):
    rep = report.make_report(POLICY, [draw_dir], ENTITIES, ledger_path=ledger, out_dir=tmp_path / "rep", today=today)
    return rep, {m["metric"]: m for m in json.loads((tmp_path / "rep" / "report.json").read_text("utf-8"))["metrics"]}


def test_every_target_has_a_metric_beside_it(tmp_path, draw_dir, results_ledger, visit_rows):
    published(draw_dir, results_ledger, tmp_path)
    results.close_follow_up(visit_rows[2]["visit_id"], ledger_path=results_ledger, actor="办理人", closed_on=dt.date(2023, 10, 20),
                            action="列入经营异常名录", today=TODAY)
    _, metrics = make(draw_dir, results_ledger, tmp_path)
    targets = load_policy(POLICY).policy.targets
    assert set(targets) <= set(metrics)
    for name, target in targets.items():
        assert metrics[name]["target"] == report.target_text(Fraction(target.value) / 100)
    got = {k: (m["numerator"], m["denominator"], m["met"]) for k, m in metrics.items() if m["computable"]}
    assert got == {
        "enterprise_coverage": (5, 14, True),  # 5 visited of 14 operating enterprises
        "item_coverage": (3, 4, False),  # D01 drawn by no task
        "joint_share": (1, 5, False),
        "risk_based_share": (4, 6, False),  # t01 stratifies by tier (4 drawn), t02 by district (2)
        "on_time_publication": (5, 5, True),
        "follow_up": (1, 3, False),
    }
    assert metrics["follow_up"]["shortfall"] == "未达目标：比目标低 66.67 个百分点，按当前基数还差 2 条办结的后续处置"
    assert metrics["item_coverage"]["value"] == "75.00%" and metrics["item_coverage"]["fraction"] == "3/4"
    for name in ("double_random_share", "mobile_enforcement"):
        assert not metrics[name]["computable"] and metrics[name]["value"] is None
        assert metrics[name]["verdict"].startswith(report.NOT_COMPUTABLE)


def test_late_and_unpublished_results_lower_the_on_time_rate(tmp_path, draw_dir, results_ledger, visit_rows):
    _, metrics = make(draw_dir, results_ledger, tmp_path, today=dt.date(2023, 10, 20))
    # Nothing is due yet, so there is nothing to measure.
    assert not metrics["on_time_publication"]["computable"]
    _, metrics = make(draw_dir, results_ledger, tmp_path)
    assert (metrics["on_time_publication"]["numerator"], metrics["on_time_publication"]["denominator"]) == (0, 5)
    # Published on 2023-10-30: the visit completed 2023-09-25 was due 2023-10-27.
    published(draw_dir, results_ledger, tmp_path, on=dt.date(2023, 10, 30))
    rep, metrics = make(draw_dir, results_ledger, tmp_path)
    assert (metrics["on_time_publication"]["numerator"], metrics["on_time_publication"]["denominator"]) == (4, 5)
    east = next(t for t in rep.timeliness if t.unit == "样例市东区市场监督管理局")
    assert (east.on_time, east.late, east.overdue) == (1, 1, 0)


def test_double_random_share_when_the_ledger_holds_other_checks(tmp_path, draw_dir, results_ledger, visit_rows):
    with Ledger.open(results_ledger) as led, led.transaction() as tx:
        append_history(tx, [{"uscc": v["uscc"], "year": 2023, "draw_id": "fx2023results001", "visit_id": v["visit_id"]}
                            for v in visit_rows], key="fx2023results001")
        append_history(tx, [{"uscc": visit_rows[0]["uscc"], "checked_on": "2023-05-06"},
                            {"uscc": visit_rows[1]["uscc"], "checked_on": "2023-06-07"}], key="complaints")
    _, metrics = make(draw_dir, results_ledger, tmp_path)
    m = metrics["double_random_share"]
    assert (m["computable"], m["numerator"], m["denominator"], m["met"]) == (True, 5, 7, True)


def test_coverage_by_district_and_tier(tmp_path, draw_dir, results_ledger):
    rep, _ = make(draw_dir, results_ledger, tmp_path)
    assert [(s.label, s.numerator, s.denominator) for s in rep.by_district] == [("东区", 2, 7), ("西区", 3, 7)]
    assert [(s.label, s.numerator, s.denominator) for s in rep.by_tier] == [
        ("A级（低风险）", 2, 8), ("B级（一般风险）", 1, 3), ("C级（较高风险）", 1, 2), ("D级（高风险）", 1, 1)]


def test_inspected_entities_missing_from_the_directory_are_noted_and_not_covered(tmp_path, draw_dir, results_ledger, visit_rows):
    rep, metrics = make(draw_dir, results_ledger, tmp_path)
    assert (metrics["enterprise_coverage"]["numerator"], metrics["enterprise_coverage"]["denominator"]) == (5, 14)
    assert not any("不在名录中" in note for note in rep.notes)
    gone = {visit_rows[0]["uscc"], visit_rows[1]["uscc"]}
    lines = ENTITIES.read_text("utf-8").splitlines()
    fewer = tmp_path / "entities.csv"
    fewer.write_text("\n".join(line for line in lines if line.split(",")[0] not in gone) + "\n", "utf-8")
    rep = report.make_report(POLICY, [draw_dir], fewer, ledger_path=results_ledger, out_dir=tmp_path / "fewer", today=YEAR_END)
    coverage = next(m for m in rep.metrics if m.metric == "enterprise_coverage")
    assert (coverage.numerator, coverage.denominator) == (3, 12)
    assert "2 户已检查主体不在名录中，未计入企业覆盖率" in rep.notes


def test_html_is_self_contained(tmp_path, draw_dir, results_ledger):
    published(draw_dir, results_ledger, tmp_path)
    make(draw_dir, results_ledger, tmp_path)
    text = (tmp_path / "rep" / "report.html").read_text("utf-8")
    assert not re.search(r"https?://", text)
    assert not re.search(r"<script[^>]*\bsrc=|<link\b|<img\b|<iframe\b|@import|url\(", text, re.IGNORECASE)
    assert text.count("<svg") == 3
    assert "抽查结果按时公示率" in text and report.NOT_COMPUTABLE in text and "目标 3%" in text
    # Officers' words, not identifiers: the plan's title instead of the policy id, no "drill".
    assert "依据《" in text and "策略 " not in text and "drill" not in text.lower()


def test_a_draw_of_another_year_is_refused(tmp_path, draw_dir, results_ledger):
    transcript = json.loads((draw_dir / "transcript.json").read_text("utf-8"))
    transcript["drawn_on"] = "2022-12-30"
    (draw_dir / "transcript.json").write_text(json.dumps(transcript), "utf-8")
    with pytest.raises(SpotcheckError) as exc:
        make(draw_dir, results_ledger, tmp_path)
    assert [p.code for p in exc.value.problems] == ["S850"]
    assert not (tmp_path / "rep").exists()


def test_the_draw_folder_s_problems_come_before_the_ledger_s(tmp_path, draw_dir, results_ledger):
    # The ledger is scanned while the folder is read; a damaged record (text that is not UTF-8) is found first.
    kept = (draw_dir / "transcript.json").read_text("utf-8")
    transcript = json.loads(kept)
    transcript["drawn_on"] = "2022-12-30"
    (draw_dir / "transcript.json").write_text(json.dumps(transcript), "utf-8")
    with sqlite3.connect(results_ledger) as conn:
        conn.execute("UPDATE records SET body = CAST(? AS TEXT) WHERE seq = (SELECT max(seq) FROM records WHERE kind = 'result')",
                     (b'{"completed_on": "\xff"}',))
    with pytest.raises(SpotcheckError) as exc:
        make(draw_dir, results_ledger, tmp_path)
    assert [p.code for p in exc.value.problems] == ["S850"]
    (draw_dir / "transcript.json").write_text(kept, "utf-8")
    with pytest.raises(SpotcheckError) as exc:
        make(draw_dir, results_ledger, tmp_path)
    assert [p.code for p in exc.value.problems] == ["L413"]
    assert not (tmp_path / "rep").exists()


@pytest.mark.parametrize("value, text", [
    (Fraction(1, 3), "33.33%"), (Fraction(2, 3), "66.67%"), (Fraction(1, 800), "0.13%"), (Fraction(7, 100), "7.00%"),
    (Fraction(0), "0.00%"), (Fraction(1), "100.00%"),
])
def test_percent_text_is_exact(value, text):
    assert report.percent_text(value) == text


@pytest.mark.parametrize("value, text", [(Fraction(3, 100), "3%"), (Fraction(1, 200), "0.5%"), (Fraction(1), "100%")])
def test_target_text(value, text):
    assert report.target_text(value) == text


def test_shortfall_counts_what_is_missing():
    m = report.Metric("enterprise_coverage", 2, 100, Fraction(3, 100), None, "")
    assert m.shortfall == "未达目标：比目标低 1.00 个百分点，按当前基数还差 1 户企业"
    assert report.Metric("enterprise_coverage", 3, 100, Fraction(3, 100), None, "").shortfall is None


def _drawn_from(draw_dir, entities):
    """The draw folder as if drawn from `entities` under POLICY by this engine (the fixture's transcript names none)."""
    transcript = json.loads((draw_dir / "transcript.json").read_text("utf-8"))
    transcript["engine_version"] = report.engine_version()
    transcript["policy"]["sha256"] = load_policy(POLICY).sha256
    transcript["entities"]["sha256"] = hashlib.sha256(entities.read_bytes()).hexdigest()
    (draw_dir / "transcript.json").write_text(json.dumps(transcript, ensure_ascii=False), "utf-8")


def test_the_directory_the_draw_read_is_read_for_its_columns_only(tmp_path, draw_dir, results_ledger, monkeypatch):
    published(draw_dir, results_ledger, tmp_path)
    whole = report.make_report(POLICY, [draw_dir], ENTITIES, ledger_path=results_ledger, out_dir=tmp_path / "whole", today=YEAR_END)
    _drawn_from(draw_dir, ENTITIES)
    monkeypatch.setattr(report, "load_sheet", lambda *_: pytest.fail("the directory the draw read was checked again"))
    known = report.make_report(POLICY, [draw_dir], ENTITIES, ledger_path=results_ledger, out_dir=tmp_path / "known", today=YEAR_END)
    assert known.to_dict() == whole.to_dict()
    assert (tmp_path / "known" / "report.html").read_bytes() == (tmp_path / "whole" / "report.html").read_bytes()


def test_a_directory_changed_since_the_draw_is_checked_whole(tmp_path, draw_dir, results_ledger):
    _drawn_from(draw_dir, ENTITIES)
    lines = ENTITIES.read_text("utf-8").splitlines()
    changed = tmp_path / "entities.csv"
    # A code with a wrong check character and a blank status: problems only a whole reading finds.
    changed.write_text("\n".join([lines[0], lines[1][:17] + "1" + lines[1][18:], lines[2].replace(",存续,", ",,"), *lines[3:]]) + "\n",
                       "utf-8")
    with pytest.raises(SpotcheckError) as whole:
        load_for(load_policy(POLICY).policy, changed)
    with pytest.raises(SpotcheckError) as got:
        report.make_report(POLICY, [draw_dir], changed, ledger_path=results_ledger, out_dir=tmp_path / "rep", today=YEAR_END)
    assert [(p.code, p.row) for p in whole.value.problems] == [("D207", 2), ("D205", 3)]
    assert got.value.problems == whole.value.problems
    assert not (tmp_path / "rep").exists()


def test_the_directory_s_problems_come_before_the_draw_folder_s(tmp_path, draw_dir, results_ledger):
    transcript = json.loads((draw_dir / "transcript.json").read_text("utf-8"))
    transcript["drawn_on"] = "2022-12-30"
    (draw_dir / "transcript.json").write_text(json.dumps(transcript), "utf-8")
    bad = tmp_path / "entities.csv"
    bad.write_text(ENTITIES.read_text("utf-8").replace(",存续,", ",,", 1), "utf-8")
    with pytest.raises(SpotcheckError) as exc:
        report.make_report(POLICY, [draw_dir], bad, ledger_path=results_ledger, out_dir=tmp_path / "rep", today=YEAR_END)
    assert [p.code for p in exc.value.problems] == ["D205"]
    assert not (tmp_path / "rep").exists()
