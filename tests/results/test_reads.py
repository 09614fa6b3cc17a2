import datetime as dt

import polars as pl
from conftest import RESULTS
from conftest import RESULTS_TODAY as TODAY
from spotcheck.draw.reader import load_draw
from spotcheck.ledger.store import Ledger
from spotcheck.results import bodies, reads
from spotcheck.results import records as results

GOOD = RESULTS / "results-good.csv"


def vid(visit_rows, n):
    return visit_rows[n]["visit_id"]


def do_import(path, draw_dir, ledger):
    return results.import_results(path, draw_dir, ledger_path=ledger, today=TODAY)


def test_the_lean_readers_answer_as_tracks_on_every_state(tmp_path, draw_dir, results_ledger, visit_rows):
    def both():
        with Ledger.open(results_ledger) as led:
            folder = load_draw(draw_dir)
            lean = {v: (seq, state) for v, seq, state in reads.entered_frame(folder, led).iter_rows()}
            full = {t.visit.visit_id: (t.result.seq, t.state) for t in results.tracks(folder, led) if t.result}
        return lean, full

    results.approve(draw_dir, ledger_path=results_ledger, actor="审核员", visit_ids=[vid(visit_rows, 1), vid(visit_rows, 2)],
                    on=TODAY)
    with Ledger.open(results_ledger) as led, led.transaction() as tx:
        marked = [(t.visit.visit_id, t.result.seq) for t in results.tracks(load_draw(draw_dir), led)
                  if t.visit.visit_id == vid(visit_rows, 2)]
        results.mark_published(tx, pl.DataFrame(marked, schema={"visit_id": pl.String, "seq": pl.Int64}, orient="row"),
                               TODAY, load_draw(draw_dir).draw_id, "out")
    # One result finds a problem and names an action; another finds one and names none (its category alone
    # makes it need a follow-up).
    lines = [ln.replace("2023/9/26,实地检查,R01,,,,", "2023/9/26,实地检查,R03,,价签不全,责令改正,") if ln.startswith(vid(visit_rows, 1))
             else ln.replace("20231009,实地检查；书面检查,未发现问题,,,,", "20231009,实地检查；书面检查,R0201,,未公示年报,,")
             for ln in GOOD.read_text("utf-8").splitlines()]
    (tmp_path / "fixed.csv").write_text("\n".join(lines) + "\n", "utf-8")
    do_import(tmp_path / "fixed.csv", draw_dir, results_ledger)
    results.approve(draw_dir, ledger_path=results_ledger, actor="审核员", visit_ids=[vid(visit_rows, 0)], on=TODAY)
    lean, full = both()
    assert lean == full
    assert {state for _, state in lean.values()} == {"录入", "审核", "公示"}
    assert lean[vid(visit_rows, 1)][1] == "录入" and lean[vid(visit_rows, 2)][1] == "公示"
    # The report's reading of the same ledger, with a follow-up closed.
    results.close_follow_up(vid(visit_rows, 1), ledger_path=results_ledger, actor="科员", closed_on=TODAY,
                            action="责令改正", today=TODAY)
    with Ledger.open(results_ledger) as led:
        folder = load_draw(draw_dir)
        seen = [(vid, completed, needs, closed, (first, on) if first else None) for _, vid, completed, needs, closed, first, on
                in reads.progress_frame([folder], reads.read_progress(led)).iter_rows()]
        want = [(t.visit.visit_id, t.completed_on, t.needs_follow_up, t.follow_up_closed_on,
                 (dt.date.fromisoformat(t.first_published[0].body["completed_on"]),
                  dt.date.fromisoformat(t.first_published[1].body["on"])) if t.first_published else None)
                for t in results.tracks(folder, led)]
        no_action = [t.visit.visit_id for t in results.tracks(folder, led) if t.needs_follow_up and not t.result.body["actions"]]
    assert seen == want
    assert any(s[3] for s in seen) and any(s[4] for s in seen) and any(s[2] for s in seen) and no_action
    # What a publication shows: approved results, else the last version published.
    with Ledger.open(results_ledger) as led:
        folder = load_draw(draw_dir)
        seen = [(s.visit.visit_id, s.version.seq, {k: s.version.body[k] for k in reads.PUBLIC_FIELDS}, s.published_on)
                for s in reads.shown(folder, led)]
        want = []
        for t in results.tracks(folder, led):
            if t.state == "审核" or t.public:
                version, mark = (t.result, None) if t.state == "审核" else (t.public[0], t.public[1].body["on"])
                want.append((t.visit.visit_id, version.seq, {k: version.body.get(k) for k in reads.PUBLIC_FIELDS}, mark))
    for row in want:
        row[2]["categories"] = tuple(row[2]["categories"])
    assert seen == want
    assert {s[3] is None for s in seen} == {True, False}


def test_a_publication_and_an_approval_read_only_their_own_draws_results(draw_dir, results_ledger, visit_rows):
    results.approve(draw_dir, ledger_path=results_ledger, actor="审核员", on=TODAY)
    with Ledger.open(results_ledger) as led:
        before = reads.shown_frame(load_draw(draw_dir), led)
        entered = reads.entered_frame(load_draw(draw_dir), led)
    # Later in the chain, another draw's approved result for a visit id this draw also has.
    visit = vid(visit_rows, 0)
    with Ledger.open(results_ledger, actor="科员") as led, led.transaction() as tx:
        body = {**led.latest("result", visit).body, "draw_id": "another-draw", "name": "另一次抽查的主体"}
        other = tx.append("result", visit, body)
        tx.append("result_state", visit, {"visit_id": visit, "result_seq": other.seq, "state": "审核", "on": TODAY.isoformat()})
    with Ledger.open(results_ledger) as led:
        after = reads.shown_frame(load_draw(draw_dir), led)
        entered_after = reads.entered_frame(load_draw(draw_dir), led)
    assert before.height > 0 and visit in before["visit_id"].to_list()
    assert after.equals(before)
    assert entered.height > 0 and visit in entered["visit_id"].to_list()
    assert entered_after.equals(entered)


def test_what_a_publication_shows_is_read_from_one_state_of_the_ledger(draw_dir, results_ledger, monkeypatch):
    """Its results and their marks are two readings: an approval committed by another connection between them is
    not half seen."""
    real_read, real_scan, readings, reader = reads._read, reads.scan, [], []

    def reading(real):
        def read(ledger, *args):
            got = real(ledger, *args)
            if ledger in reader:  # not the approval's own readings
                if not readings:
                    results.approve(draw_dir, ledger_path=results_ledger, actor="审核员", on=TODAY)
                readings.append(args[0])
            return got
        return read

    monkeypatch.setattr(reads, "_read", reading(real_read))
    monkeypatch.setattr(reads, "scan", reading(real_scan))
    with Ledger.open(results_ledger) as led:
        reader.append(led)
        during = reads.shown_frame(load_draw(draw_dir), led)
        monkeypatch.setattr(reads, "_read", real_read)
        monkeypatch.setattr(reads, "scan", real_scan)
        after = reads.shown_frame(load_draw(draw_dir), led)
    assert len(readings) == 3  # the results, then the marks of either form (the results an act names by its seq)
    assert during.is_empty() and after.height > 0


def test_a_scan_gives_every_value_as_sqlite_does(tmp_path, monkeypatch):
    # Commas, quotes and line breaks in texts, empty texts beside missing fields, and ranges of records with
    # nothing to read (a range is two records here).
    monkeypatch.setattr(reads, "_RANGE", 2)
    with Ledger.open(tmp_path / "ledger.db", actor="科员") as led, led.transaction() as tx:
        tx.append("visit", "V0", {})
        tx.append("visit", "V0", {})
        tx.append("result", 'V,"1"\n', {"draw_id": 'd,"x"\r\ny', "completed_on": "2023-10-01", "categories": ['R,"0"'],
                                         "actions": ["责令改正"]})
        tx.append("result", "V2", {"draw_id": "", "completed_on": None, "categories": []})
        tx.append("visit", "V0", {})
        tx.append("result", "V3", {"draw_id": "d"})
        tx.append("result_state", "V2", {"state": "审核", "result_seq": 4, "on": "2023-10-02"})
        tx.append("result_state", "V2", {"state": "公示", "result_seq": 4})
        tx.append("result_state", "V,\"1\"\n", {"state": "公示", "result_seq": 3, "on": "2023-10-03"})
    with Ledger.open(tmp_path / "ledger.db", create=False) as led:
        fields = ", ".join(sql for sql, _ in reads._SCANNED.values())
        rows = [r for chunk in led.chunks(f"SELECT {fields} FROM records WHERE {reads._SCAN_WHERE} ORDER BY seq")
                for r in chunk]
        want = pl.DataFrame(rows, schema={name: dtype for name, (_, dtype) in reads._SCANNED.items()}, orient="row")
        got = reads.scan(led, reads._SCANNED, reads._SCAN_WHERE)
    assert got.equals(want) and got.height == 3
    assert got.get_column("draw_id").to_list()[:3] == ['d,"x"\r\ny', "", "d"]


def test_a_ledger_begun_with_a_record_per_mark_reads_as_one_with_a_record_per_act(tmp_path, draw_dir, results_ledger, visit_rows):
    """Ledgers written before approvals and publications were one record per act hold one `result_state` record
    per result: every reader reads them as it reads the newer records."""
    older = tmp_path / "older.db"
    older.write_bytes(results_ledger.read_bytes())
    results.approve(draw_dir, ledger_path=results_ledger, actor="审核员", visit_ids=[vid(visit_rows, 1), vid(visit_rows, 2)],
                    on=TODAY)
    with Ledger.open(older, actor="审核员") as led, led.transaction() as tx:
        for visit in (vid(visit_rows, 1), vid(visit_rows, 2)):
            seq = led.latest("result", visit).seq
            tx.append("result_state", visit, {"on": TODAY.isoformat(), "result_seq": seq, "state": "审核", "visit_id": visit})

    def seen(path):
        with Ledger.open(path) as led:
            folder = load_draw(draw_dir)
            return (reads.entered_frame(folder, led).rows(), reads.shown_frame(folder, led).rows(),
                    [(t.visit.visit_id, t.state, t.approved.body["on"] if t.approved else None) for t in results.tracks(folder, led)])

    new, old = seen(results_ledger), seen(older)
    assert new == old and {state for _, _, state in new[0]} == {"录入", "审核"}
    with Ledger.open(results_ledger) as led:
        assert {r.kind for r in led.iter() if r.kind.startswith("result_")} == {"result_states"}


def test_the_results_of_many_acts_are_read_a_few_acts_at_a_time(draw_dir, results_ledger, monkeypatch):
    """An approval and a publication naming more results than a record holds are several records, whose lists are
    read a few records to a query: every mark marks_frame reads is one mark_records reads from the bodies."""
    monkeypatch.setattr(bodies, "STATES_PER_RECORD", 2)
    monkeypatch.setattr(reads, "NAMED_AT_ONCE", 2)
    results.approve(draw_dir, ledger_path=results_ledger, actor="审核员", on=TODAY)
    with Ledger.open(results_ledger) as led, led.transaction() as tx:
        folder = load_draw(draw_dir)
        results.mark_published(tx, reads.shown_frame(folder, led), TODAY, folder.draw_id, "out")
    with Ledger.open(results_ledger) as led:
        frame = reads.marks_frame(led)
        want = sorted((record.seq, seq, state, record.body["on"])
                      for seq, states in reads.mark_records(led).items() for state, record in states.items())
        published = reads.marks_frame(led, "公示")
    assert sorted(frame.rows()) == want and frame.get_column("mark").n_unique() > 2 * reads.NAMED_AT_ONCE
    assert published.rows() == [row for row in frame.rows() if row[2] == "公示"] and published.height == len(want) // 2
