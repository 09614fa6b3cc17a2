import datetime as dt
import json
import sqlite3

import pytest
from conftest import RESULTS
from conftest import RESULTS_POLICY as POLICY
from conftest import RESULTS_TODAY as TODAY
from spotcheck.results import bodies
from spotcheck.results import records as results
from spotcheck.draw.reader import load_draw
from spotcheck.errors import SpotcheckError
from spotcheck.ledger.chain import canonical_json
from spotcheck.ledger.store import Ledger
from spotcheck.policy.loader import load_policy

# Reading and checking a results file is in test_results_file.py, the category vocabulary in
# test_categories.py, and the sample file in test_results_sample.py.

GOOD = RESULTS / "results-good.csv"


def vid(visit_rows, n):
    return visit_rows[n]["visit_id"]


def head(path):
    with Ledger.open(path) as led:
        return led.head(), len(led.find())


def do_import(path, draw_dir, ledger, today=TODAY):
    return results.import_results(path, draw_dir, ledger_path=ledger, today=today)


# ---------------------------------------------------------------- importing


def test_good_file_imports_every_visit(draw_dir, visit_ledger, visit_rows):
    out = do_import(GOOD, draw_dir, visit_ledger)
    assert out.added == tuple(v["visit_id"] for v in visit_rows)
    assert out.rows == 7
    with Ledger.open(visit_ledger) as led:
        bodies = {r.key: r.body for r in led.find("result")}
    first = bodies[vid(visit_rows, 0)]
    # Per item: B01 and A01 found nothing, C01 did; the visit as a whole found a problem.
    assert first["categories"] == ["R0201"]
    assert [i["code"] for i in first["items"]] == ["B01", "C01", "A01"]
    assert first["items"][1]["actions"] == ["责令改正"]
    assert first["methods"] == ["实地检查", "书面检查", "检验检测"]
    assert bodies[vid(visit_rows, 1)]["completed_on"] == "2023-09-26"  # 2023/9/26
    assert bodies[vid(visit_rows, 2)]["categories"] == ["R0203"]
    assert bodies[vid(visit_rows, 2)]["completed_on"] == "2023-09-27"  # 2023年9月27日
    assert bodies[vid(visit_rows, 3)]["completed_on"] == "2023-10-09"  # 20231009
    assert bodies[vid(visit_rows, 3)]["methods"] == ["实地检查", "书面检查"]
    assert bodies[vid(visit_rows, 4)]["remarks"] == "已当场整改"


def test_a_file_with_problems_changes_nothing(draw_dir, results_ledger):
    before = head(results_ledger)
    with pytest.raises(SpotcheckError) as exc:
        do_import(RESULTS / "results-bad.csv", draw_dir, results_ledger)
    assert sorted(p.code for p in exc.value.problems) == ["S803", "S804", "S808"]
    assert head(results_ledger) == before


@pytest.mark.parametrize("damage, code", [("columns", "R511"), ("ledger", "S832")])
def test_a_draw_folder_s_problems_come_before_the_file_s(draw_dir, results_ledger, damage, code):
    # The folder is read beside the file's rows: its problems (the visits as written, or as the ledger has them)
    # are still the ones named, and nothing is written.
    visits = draw_dir / "visits.csv"
    lines = visits.read_text("utf-8").splitlines(keepends=True)
    if damage == "columns":
        lines[0] = lines[0].replace("visit_id", "编号", 1)
    else:
        lines[1] = lines[1].replace(lines[1].split(",")[1], "91110000000000000X", 1)
    visits.write_text("".join(lines), "utf-8")
    before = head(results_ledger)
    with pytest.raises(SpotcheckError) as exc:
        do_import(RESULTS / "results-bad.csv", draw_dir, results_ledger)
    assert {p.code for p in exc.value.problems} == {code}
    assert head(results_ledger) == before


def test_importing_the_same_file_twice_changes_nothing(draw_dir, results_ledger, visit_rows):
    before = head(results_ledger)
    again = do_import(GOOD, draw_dir, results_ledger)
    assert again.added == () and again.replaced == ()
    assert len(again.unchanged) == len(visit_rows)
    assert head(results_ledger) == before


def test_a_corrected_row_replaces_the_result_and_says_what_changed(tmp_path, draw_dir, results_ledger, visit_rows):
    results.approve(draw_dir, ledger_path=results_ledger, actor="审核员", on=TODAY)
    v = vid(visit_rows, 1)
    with Ledger.open(results_ledger) as led:
        old = results.latest_result(led, v)
    lines = GOOD.read_text("utf-8").splitlines()
    lines = [ln.replace("2023/9/26,实地检查,R01,,,,", "2023/9/26,实地检查,R03,,价签不全,责令改正,") if ln.startswith(v) else ln
             for ln in lines]
    (tmp_path / "fixed.csv").write_text("\n".join(lines) + "\n", "utf-8")
    out = do_import(tmp_path / "fixed.csv", draw_dir, results_ledger)
    assert out.unchanged == tuple(x["visit_id"] for x in visit_rows if x["visit_id"] != v)
    assert out.replaced == ((v, old.seq, ("检查结果", "检查情况", "后续处置")),)
    with Ledger.open(results_ledger) as led:
        new = results.latest_result(led, v)
        track = {t.visit.visit_id: t for t in results.tracks(load_draw(draw_dir), led)}[v]
    assert new.body["replaces"] == {"seq": old.seq, "hash": old.hash}
    assert new.body["changes"]["categories"] == {"from": ["R01"], "to": ["R03"]}
    # An approved result that is corrected must be approved again, and the outcome says so.
    assert track.state == "录入" and out.reopened == {v: "审核"}


# ---------------------------------------------------------------- deadlines and status


def test_due_date_counts_the_national_day_holiday_and_make_up_days():
    loaded = load_policy(POLICY)
    # 9-29..10-6 off (中秋、国庆), 10-7 and 10-8 (weekend) worked: the 20th working day is 10-27.
    assert results.publication_due(loaded, dt.date(2023, 9, 25)) == dt.date(2023, 10, 27)
    assert results.publication_due(loaded, dt.date(2023, 9, 26)) == dt.date(2023, 10, 30)


def _one(status, visit_id):
    return next(line for line in status.lines if line.visit_id == visit_id)


def test_status_overdue_and_due_soon(draw_dir, results_ledger, visit_rows):
    v = vid(visit_rows, 0)  # completed 2023-09-25

    def status(day):
        return results.status(draw_dir, ledger_path=results_ledger, policy_path=POLICY, today=day)

    on_time = _one(status(dt.date(2023, 10, 27)), v)
    assert (on_time.due, on_time.overdue, on_time.due_soon, on_time.working_days_left) == (dt.date(2023, 10, 27), False, True, 0)
    late = status(dt.date(2023, 10, 30))
    assert _one(late, v).overdue and not _one(late, v).due_soon and _one(late, v).working_days_left == -1
    assert [line.visit_id for line in late.overdue] == [v]
    assert _one(status(dt.date(2023, 10, 24)), v).due_soon  # 3 working days left
    assert not _one(status(dt.date(2023, 10, 23)), v).due_soon  # 4 left
    assert late.counts() == {"未录入": 0, "录入": 5, "审核": 0, "公示": 0}


def test_status_lists_abnormal_candidates_and_open_follow_ups(draw_dir, results_ledger, visit_rows):
    st = results.status(draw_dir, ledger_path=results_ledger, policy_path=POLICY, today=TODAY)
    assert [line.visit_id for line in st.abnormal] == [vid(visit_rows, 2)]
    assert [line.visit_id for line in st.open_follow_ups] == [vid(visit_rows, i) for i in (0, 2, 4)]


def test_a_visit_without_result_is_overdue_after_the_plans_date(draw_dir, visit_ledger, visit_rows):
    st = results.status(draw_dir, ledger_path=visit_ledger, policy_path=POLICY, today=dt.date(2024, 1, 19))
    line = _one(st, vid(visit_rows, 0))
    assert (line.state, line.due, line.overdue) == ("未录入", dt.date(2024, 1, 18), True)


# ---------------------------------------------------------------- states and follow-up


def test_approve_moves_only_the_named_visits(draw_dir, results_ledger, visit_rows):
    v = vid(visit_rows, 1)
    out = results.approve(draw_dir, ledger_path=results_ledger, actor="审核员乙", visit_ids=[v], on=TODAY)
    assert out.changed == (v,)
    with Ledger.open(results_ledger) as led:
        states = {t.visit.visit_id: t for t in results.tracks(load_draw(draw_dir), led)}
        record = led.latest("result_states", load_draw(draw_dir).draw_id)
    assert states[v].state == "审核" and states[vid(visit_rows, 0)].state == "录入"
    assert record.actor == "审核员乙" and record.body["on"] == "2023-11-01"
    assert record.body["results"] == [[v, states[v].result.seq]] and record.body["state"] == "审核"
    again = results.approve(draw_dir, ledger_path=results_ledger, actor="审核员乙", visit_ids=[v], on=TODAY)
    assert again.changed == () and again.skipped == ((v, "已是“审核”状态"),)


def test_an_approval_is_stored_as_its_canonical_text(draw_dir, results_ledger, visit_rows, monkeypatch):
    """Approve writes its records as text made over columns: each is the text canonical_json writes for it, one
    record for each STATES_PER_RECORD results it names."""
    monkeypatch.setattr(bodies, "STATES_PER_RECORD", 2)
    out = results.approve(draw_dir, ledger_path=results_ledger, actor="审核员", on=TODAY)
    with sqlite3.connect(results_ledger) as conn:
        stored = conn.execute("SELECT key, body FROM records WHERE kind = 'result_states' ORDER BY seq").fetchall()
    assert {key for key, _ in stored} == {load_draw(draw_dir).draw_id} and len(stored) == 3
    named = []
    for _, text in stored:
        body = json.loads(text)
        assert text == canonical_json(body) and body["state"] == "审核" and body["on"] == TODAY.isoformat()
        named += [visit for visit, _ in body["results"]]
    assert named == list(out.changed) == [v["visit_id"] for v in visit_rows]


def test_approve_needs_an_approver_with_a_name(draw_dir, results_ledger, visit_rows):
    with Ledger.open(results_ledger) as led:
        before = led.head()
    with pytest.raises(SpotcheckError) as exc:
        results.approve(draw_dir, ledger_path=results_ledger, actor="  ", visit_ids=[vid(visit_rows, 1)], on=TODAY)
    assert [p.code for p in exc.value.problems] == ["R513"]
    with Ledger.open(results_ledger) as led:
        assert led.head() == before


def test_approve_refuses_unknown_and_unentered_visits(draw_dir, visit_ledger, visit_rows):
    with pytest.raises(SpotcheckError) as exc:
        results.approve(draw_dir, ledger_path=visit_ledger, actor="审核员", visit_ids=["V-nope", vid(visit_rows, 0)])
    assert [p.code for p in exc.value.problems] == ["S803", "S820"]


def test_follow_up_closes_with_date_and_action(draw_dir, results_ledger, visit_rows):
    v = vid(visit_rows, 0)

    def close():
        return results.close_follow_up(v, ledger_path=results_ledger, actor="办理人", closed_on=dt.date(2023, 10, 20),
                                       action="责令改正", today=TODAY)

    assert close().changed
    assert not close().changed
    st = results.status(draw_dir, ledger_path=results_ledger, policy_path=POLICY, today=TODAY)
    assert _one(st, v).follow_up == "已办结" and _one(st, vid(visit_rows, 4)).follow_up == "待处置"
    assert _one(st, vid(visit_rows, 1)).follow_up == "无需"


def test_follow_up_refusals(results_ledger, visit_rows):
    with pytest.raises(SpotcheckError) as exc:
        results.close_follow_up(vid(visit_rows, 1), ledger_path=results_ledger, actor="x", closed_on=dt.date(2023, 9, 1),
                                action="表扬", today=TODAY)
    assert [p.code for p in exc.value.problems] == ["S822", "S818", "S813"]
