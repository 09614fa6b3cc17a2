import hashlib
import json
import multiprocessing
import os
import signal
import sqlite3
from datetime import date, datetime, timezone

import pytest
from spotcheck.errors import SpotcheckError
from spotcheck.ledger.chain import GENESIS_HASH, canonical_json, record_hash
from spotcheck.ledger import history as history_module
from spotcheck.ledger import store
from spotcheck.ledger.history import append_history
from spotcheck.ledger.store import Ledger, claim_commitment


def codes(exc: SpotcheckError) -> list[str]:
    return [p.code for p in exc.problems]


def fill(path, n: int, kind: str = "visit") -> None:
    with Ledger.open(path, actor="tester") as led, led.transaction() as tx:
        for i in range(n):
            tx.append(kind, f"k{i}", {"i": i, "名称": f"企业{i}"})


def raw(path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


# ---- child processes (module level so the spawn start method can import them) --------------------

def _append_then_hang(path: str, ready, release) -> None:
    with Ledger.open(path, actor="child") as led, led.transaction() as tx:
        for i in range(500):
            tx.append("draw", f"killed{i}", {"i": i})
        ready.set()
        release.wait()  # never set: the parent kills this process while it holds the open transaction


def _append_many(path: str, who: str, n: int, start) -> None:
    start.wait()
    with Ledger.open(path, actor=who) as led:
        for i in range(n):
            with led.transaction() as tx:
                tx.append("visit", f"{who}-{i}", {"who": who, "i": i})


# ---- records and the hash -------------------------------------------------------------------------

def test_records_chain_from_genesis_with_the_documented_hash(tmp_path):
    path = tmp_path / "l.db"
    clock = lambda: datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)  # noqa: E731
    with Ledger.open(path, actor="李四", clock=clock) as led, led.transaction() as tx:
        first = tx.append("commitment", "c1", {"b": 1, "a": "甲"})
        second = tx.append("draw", "d1", {"n": 2})
    assert first.seq == 1 and first.prev_hash == GENESIS_HASH
    assert second.seq == 2 and second.prev_hash == first.hash
    assert first.at == "2024-03-01T08:00:00.000000+00:00"
    body = '{"a":"甲","b":1}'
    fields = [GENESIS_HASH, "1", "commitment", "c1", first.at, "李四", body]
    framed = b"".join(b"%d:%s," % (len(f.encode()), f.encode()) for f in fields)
    assert first.hash == hashlib.sha256(framed).hexdigest()
    stored = raw(path).execute("SELECT body FROM records WHERE seq = 1").fetchone()[0]
    assert stored == body


def test_hash_framing_keeps_fields_apart():
    assert record_hash(GENESIS_HASH, 1, "ab", "c", "t", "x", "{}") != record_hash(GENESIS_HASH, 1, "a", "bc", "t", "x", "{}")


def test_find_latest_iter(tmp_path):
    path = tmp_path / "l.db"
    with Ledger.open(path, actor="t") as led:
        with led.transaction() as tx:
            tx.append("result", "v1", {"state": "draft"})
            tx.append("result", "v2", {"state": "draft"})
            tx.append("result", "v1", {"state": "final"})
        assert [r.seq for r in led.find(kind="result", key="v1")] == [1, 3]
        assert led.latest("result", "v1").body == {"state": "final"}
        assert led.latest("result", "nope") is None
        assert [r.key for r in led.iter()] == ["v1", "v2", "v1"]
        assert led.head() == (3, led.latest("result", "v1").hash)


def test_unserialisable_body_is_refused_and_nothing_written(tmp_path):
    with Ledger.open(tmp_path / "l.db") as led:
        with led.transaction() as tx:
            with pytest.raises(SpotcheckError) as err:
                tx.append("visit", "v1", {"on": date(2024, 1, 1)})
            assert codes(err.value) == ["L410"]
            with pytest.raises(SpotcheckError) as err:
                tx.append("visit", "v1", {"ratio": float("nan")})
            assert codes(err.value) == ["L410"]
            with pytest.raises(SpotcheckError):
                tx.append("", "v1", {})
        assert led.head() == (0, GENESIS_HASH)


def test_transactions_do_not_nest(tmp_path):
    with Ledger.open(tmp_path / "l.db") as led, led.transaction():
        with pytest.raises(RuntimeError):
            with led.transaction():
                pass


# ---- all or nothing -------------------------------------------------------------------------------

def test_exception_inside_transaction_leaves_ledger_unchanged(tmp_path):
    path = tmp_path / "l.db"
    fill(path, 3)
    with Ledger.open(path) as led:
        before = led.head()
        with pytest.raises(ZeroDivisionError):
            with led.transaction() as tx:
                for i in range(5):
                    tx.append("draw", f"d{i}", {"i": i})
                1 / 0
        assert led.head() == before
        assert len(led.find()) == 3
        # The write lock was released: the next transaction goes through.
        with led.transaction() as tx:
            tx.append("draw", "after", {})
        assert led.head()[0] == 4
        assert led.verify().ok


def test_process_killed_mid_transaction_leaves_chain_intact(tmp_path):
    path = tmp_path / "l.db"
    fill(path, 3)
    with Ledger.open(path) as led:
        before = led.head()
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    child = ctx.Process(target=_append_then_hang, args=(str(path), ready, release))
    child.start()
    try:
        assert ready.wait(120), "child never reached the middle of its transaction"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.join()
    assert child.exitcode == -signal.SIGKILL
    with Ledger.open(path) as led:
        assert led.head() == before
        assert led.find(kind="draw") == []
        report = led.verify()
        assert report.ok, report.problems
        with led.transaction() as tx:
            tx.append("draw", "after-kill", {})
        assert led.verify().ok and led.head()[0] == 4


def test_two_processes_appending_at_once_serialise(tmp_path):
    path = tmp_path / "l.db"
    Ledger.open(path).close()
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    workers = [ctx.Process(target=_append_many, args=(str(path), who, 200, start)) for who in ("甲", "乙")]
    for w in workers:
        w.start()
    start.set()
    for w in workers:
        w.join()
    assert [w.exitcode for w in workers] == [0, 0]
    with Ledger.open(path) as led:
        report = led.verify()
        assert report.ok, report.problems
        assert report.count == 400 and report.head_seq == 400
        records = led.find(kind="visit")
    for who in ("甲", "乙"):
        assert sorted(r.body["i"] for r in records if r.actor == who) == list(range(200))


def test_lock_held_too_long_is_reported(tmp_path):
    path = tmp_path / "l.db"
    fill(path, 1)
    with Ledger.open(path) as holder, Ledger.open(path, busy_timeout=0.05) as waiter:
        with holder.transaction() as tx:
            tx.append("draw", "d", {})
            with pytest.raises(SpotcheckError) as err:
                with waiter.transaction():
                    pass
            assert codes(err.value) == ["L403"]
        # Readers are not blocked by the refused writer.
        assert waiter.head()[0] == 2


# ---- tampering ------------------------------------------------------------------------------------

def test_good_ledger_verifies(tmp_path):
    path = tmp_path / "l.db"
    fill(path, 10)
    with Ledger.open(path) as led:
        report = led.verify()
    assert report.ok and report.count == 10 and report.first_bad_seq is None


@pytest.mark.parametrize(("sql", "bad_seq", "code"), [
    ("""UPDATE records SET body = '{"i":4,"名称":"别的企业"}' WHERE seq = 5""", 5, "L404"),
    ("DELETE FROM records WHERE seq = 6", 6, "L405"),
    ("DELETE FROM records WHERE seq = 10", 10, "L405"),
], ids=["edited-body", "deleted-middle-record", "deleted-last-record"])
def test_tampered_record_is_found_at_its_seq(tmp_path, sql, bad_seq, code):
    path = tmp_path / "l.db"
    fill(path, 10)
    raw(path).execute(sql)
    with Ledger.open(path) as led:
        report = led.verify()
    assert not report.ok
    assert report.first_bad_seq == bad_seq
    assert [p.code for p in report.problems] == [code]
    assert f"#{bad_seq}" in report.problems[0].message


def test_reordered_records_are_found(tmp_path):
    path = tmp_path / "l.db"
    fill(path, 10)
    db = raw(path)
    db.execute("UPDATE records SET seq = -3 WHERE seq = 3")
    db.execute("UPDATE records SET seq = 3 WHERE seq = 4")
    db.execute("UPDATE records SET seq = 4 WHERE seq = -3")
    with Ledger.open(path) as led:
        report = led.verify()
    assert report.first_bad_seq == 3


def rewrite(path, seq: int) -> None:
    """Edit a record's body and store the hash of the edited record, as a careful forger would."""
    db = raw(path)
    kind, key, at, actor, prev = db.execute(
        "SELECT kind, key, at, actor, prev_hash FROM records WHERE seq = ?", (seq,)).fetchone()
    body = canonical_json({"i": 99})
    db.execute("UPDATE records SET body = ?, hash = ? WHERE seq = ?",
               (body, record_hash(prev, seq, kind, key, at, actor, body), seq))


def test_rehashed_edit_breaks_the_next_link(tmp_path):
    path = tmp_path / "l.db"
    fill(path, 5)
    rewrite(path, 2)
    with Ledger.open(path) as led:
        report = led.verify()
    assert report.first_bad_seq == 3 and [p.code for p in report.problems] == ["L406"]


def test_published_anchor_catches_a_rewritten_chain(tmp_path):
    path = tmp_path / "l.db"
    fill(path, 3)
    with Ledger.open(path) as led:
        seq, digest = led.head()
        assert led.verify({seq: digest}).ok
        report = led.verify({seq: "f" * 64})
    assert report.first_bad_seq == 3 and [p.code for p in report.problems] == ["L412"]


# ---- the file ---------------------------------------------------------------------------------------

def test_a_new_ledger_has_large_pages_and_an_older_one_keeps_its_own(tmp_path, monkeypatch):
    fill(tmp_path / "new.db", 3)
    assert raw(tmp_path / "new.db").execute("PRAGMA page_size").fetchone()[0] == store.PAGE_BYTES == 16384
    monkeypatch.setattr(store, "PAGE_BYTES", 4096)  # as ledgers were made before
    fill(tmp_path / "old.db", 3)
    monkeypatch.undo()
    fill(tmp_path / "old.db", 3)  # opened and appended to again, its pages as they were
    assert raw(tmp_path / "old.db").execute("PRAGMA page_size").fetchone()[0] == 4096
    with Ledger.open(tmp_path / "old.db") as led:
        assert led.verify().ok and led.head()[0] == 6


# ---- opening the wrong thing ----------------------------------------------------------------------

def test_not_a_database_is_refused(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("这不是数据库" * 100, encoding="utf-8")
    with pytest.raises(SpotcheckError) as err:
        Ledger.open(path)
    assert codes(err.value) == ["L401"]


def test_foreign_sqlite_database_is_refused_untouched(tmp_path):
    path = tmp_path / "other.db"
    db = raw(path)
    db.execute("CREATE TABLE t(x)")
    db.close()
    with pytest.raises(SpotcheckError) as err:
        Ledger.open(path)
    assert codes(err.value) == ["L401"]
    assert raw(path).execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_missing_file_without_create_is_refused(tmp_path):
    with pytest.raises(SpotcheckError) as err:
        Ledger.open(tmp_path / "missing.db", create=False)
    assert codes(err.value) == ["L401"]
    assert not (tmp_path / "missing.db").exists()


# ---- commit / claim -------------------------------------------------------------------------------

def test_commitment_can_be_claimed_once(tmp_path):
    path = tmp_path / "l.db"
    with Ledger.open(path, actor="officer") as led:
        with led.transaction() as tx:
            tx.append("commitment", "c1", {"directory_sha256": "ab" * 32})
        with led.transaction() as tx:
            assert claim_commitment(tx, "c1") == {"directory_sha256": "ab" * 32}
            tx.append("draw", "d1", {"commitment_id": "c1"})
        with pytest.raises(SpotcheckError) as err:
            with led.transaction() as tx:
                tx.append("note", "before-claim", {})
                claim_commitment(tx, "c1", actor="someone")
                tx.append("draw", "d2", {"commitment_id": "c1"})
        assert codes(err.value) == ["L402"]
        assert "该承诺已用于抽取，不能重复抽取" in err.value.problems[0].message
        with pytest.raises(RuntimeError):
            tx.append("draw", "d3", {})
    # Seen from a fresh connection: the refusal was committed, the failed draw was not.
    with Ledger.open(path) as led:
        refused = led.find(kind="refused_redraw")
        assert len(refused) == 1
        assert refused[0].key == "c1" and refused[0].actor == "someone"
        assert refused[0].body["claim_seq"] == led.latest("claim", "c1").seq
        assert [r.key for r in led.find(kind="draw")] == ["d1"]
        assert led.find(kind="note") == []
        assert led.verify().ok


def test_failed_draw_leaves_commitment_unclaimed(tmp_path):
    with Ledger.open(tmp_path / "l.db") as led:
        with led.transaction() as tx:
            tx.append("commitment", "c1", {"x": 1})
        with pytest.raises(KeyError):
            with led.transaction() as tx:
                claim_commitment(tx, "c1")
                raise KeyError("draw crashed")
        with led.transaction() as tx:
            assert claim_commitment(tx, "c1") == {"x": 1}
        assert led.find(kind="refused_redraw") == []


def test_unknown_commitment_cannot_be_claimed(tmp_path):
    with Ledger.open(tmp_path / "l.db") as led:
        with pytest.raises(SpotcheckError) as err:
            with led.transaction() as tx:
                claim_commitment(tx, "nope")
    assert codes(err.value) == ["L408"]


def test_a_commitment_id_is_committed_once(tmp_path):
    with Ledger.open(tmp_path / "l.db") as led:
        with led.transaction() as tx:
            tx.append("commitment", "c1", {"x": 1})
        with pytest.raises(SpotcheckError) as err:
            with led.transaction() as tx:
                tx.append("commitment", "c1", {"x": 2})
        assert codes(err.value) == ["L409"]
        assert led.latest("commitment", "c1").body == {"x": 1}


# ---- history --------------------------------------------------------------------------------------

ROWS = [
    {"uscc": "91110000AAAAAAAA1X", "year": 2024, "task_id": "t01", "item_codes": ["A01", "A02"],
     "tier": "low", "draw_id": "d1", "lead_inspector": "王五"},
    {"uscc": "91110000BBBBBBBB2X", "checked_on": "2023-11-02", "task_id": "t02", "visit_id": "v9"},
    {"uscc": "91110000AAAAAAAA1X", "checked_on": date(2024, 6, 1), "task_id": "t03"},
]


def test_history_rows_are_recorded_and_queried(tmp_path):
    with Ledger.open(tmp_path / "l.db") as led:
        with led.transaction() as tx:
            assert append_history(tx, ROWS, key="d1") == 1
        assert [(r.kind, r.key) for r in led.iter("history")] == [("history", "d1")]
        rows = led.history(year=2024)
        assert [(r["uscc"], r["task_id"]) for r in rows] == [("91110000AAAAAAAA1X", "t01"),
                                                            ("91110000AAAAAAAA1X", "t03")]
        assert rows[0]["item_codes"] == ["A01", "A02"] and rows[0]["lead_inspector"] == "王五"
        assert rows[1]["checked_on"] == "2024-06-01" and rows[1]["item_codes"] == []
        other = led.history(usccs=["91110000BBBBBBBB2X"])
        assert [(r["year"], r["visit_id"]) for r in other] == [(2023, "v9")]
        assert led.history(usccs=[]) == []
        assert len(led.history()) == 3
        assert led.verify().ok


def test_bad_history_rows_are_all_reported_and_nothing_written(tmp_path):
    bad = [{"year": 2024}, {"uscc": "X", "checked_on": "2024-13-01"}, {"uscc": "Y", "year": 2024, "colour": 1},
           {"uscc": "Z", "year": 2024, "item_codes": "A01"}]
    with Ledger.open(tmp_path / "l.db") as led:
        with pytest.raises(SpotcheckError) as err:
            with led.transaction() as tx:
                append_history(tx, bad)
        assert len(err.value.problems) == 5  # no uscc; bad date and so no year; unknown field; item_codes
        assert set(codes(err.value)) == {"L410"}
        assert led.history() == [] and led.head()[0] == 0


def test_history_rolls_back_with_its_transaction(tmp_path):
    with Ledger.open(tmp_path / "l.db") as led:
        with pytest.raises(ValueError):
            with led.transaction() as tx:
                append_history(tx, ROWS)
                raise ValueError
        assert led.history() == []


def test_edited_history_table_is_found(tmp_path):
    path = tmp_path / "l.db"
    with Ledger.open(path) as led, led.transaction() as tx:
        tx.append("commitment", "c1", {})
        append_history(tx, ROWS)
    raw(path).execute("DELETE FROM history WHERE uscc = '91110000BBBBBBBB2X'")
    with Ledger.open(path) as led:
        report = led.verify()
    assert report.first_bad_seq == 2 and [p.code for p in report.problems] == ["L407"]


def test_many_history_rows_go_in_several_records_and_each_is_checked(tmp_path, monkeypatch):
    monkeypatch.setattr(history_module, "HISTORY_ROWS_PER_RECORD", 2)
    path = tmp_path / "l.db"
    rows = [{"uscc": f"9111000000000000{i}X", "year": 2024, "task_id": f"t{i}"} for i in range(5)]
    with Ledger.open(path) as led:
        with led.transaction() as tx:
            assert append_history(tx, rows, key="d1") == 3
        records = list(led.iter("history"))
        assert {r.key for r in records} == {"d1"}
        assert [len(r.body["rows"]) for r in records] == [2, 2, 1]
        assert [r["task_id"] for r in led.history()] == ["t0", "t1", "t2", "t3", "t4"]
        assert led.verify().ok
    raw(path).execute("UPDATE history SET task_id = 'tx' WHERE task_id = 't3'")
    with Ledger.open(path) as led:
        report = led.verify()
    assert [p.code for p in report.problems] == ["L407"] and report.first_bad_seq == records[1].seq


def test_history_body_is_in_the_chain(tmp_path):
    with Ledger.open(tmp_path / "l.db") as led:
        with led.transaction() as tx:
            append_history(tx, ROWS[:1])
        body = led.latest("history", "").body
    assert body["rows"][0]["item_codes"] == ["A01", "A02"]
    assert json.loads(canonical_json(body)) == body


# ---- a file edited around spotcheck: named, never a traceback -------------------------------------

@pytest.mark.parametrize(("sql", "code"), [
    ("UPDATE records SET body = CAST(body AS BLOB) WHERE seq = 4", "L413"),
    ("UPDATE records SET body = X'7b22ff22ff7d' WHERE seq = 4", "L413"),
    ("UPDATE records SET kind = 42 WHERE seq = 4", "L404"),  # TEXT affinity stores it as the text 42
    ("UPDATE meta SET value = 'garbage' WHERE name = 'head'", "L413"),
    ("UPDATE meta SET value = X'ffff' WHERE name = 'head'", "L413"),
    ("DROP TABLE records", "L413"),
    ("DROP TABLE history", "L413"),
], ids=["blob-body", "body-not-utf8", "number-for-text", "garbage-head", "head-not-utf8", "dropped-records",
        "dropped-history"])
def test_a_tampered_file_is_named_by_verify_and_show(tmp_path, sql, code):
    path = tmp_path / "l.db"
    fill(path, 6)
    raw(path).execute(sql)
    with Ledger.open(path) as led:
        try:
            report = led.verify()
            found = report.problems
        except SpotcheckError as exc:
            found = exc.problems
        assert code in [p.code for p in found]
        if code == "L413" and "records" in sql:
            with pytest.raises(SpotcheckError) as exc:
                led.find()
            assert exc.value.problems[0].code == "L413"


def test_a_rewritten_last_record_is_found_against_the_stored_head(tmp_path):
    path = tmp_path / "l.db"
    fill(path, 5)
    rewrite(path, 5)
    with Ledger.open(path) as led:
        report = led.verify()
    assert report.first_bad_seq == 5 and [p.code for p in report.problems] == ["L414"]


def test_a_record_added_around_spotcheck_is_found(tmp_path):
    path = tmp_path / "l.db"
    fill(path, 3)
    db = raw(path)
    prev = db.execute("SELECT hash FROM records WHERE seq = 3").fetchone()[0]
    at, body = "2024-01-01T00:00:00.000000+00:00", canonical_json({"i": 3})
    db.execute("INSERT INTO records VALUES(4, 'note', 'k', ?, 'x', ?, ?, ?)",
               (at, body, prev, record_hash(prev, 4, "note", "k", at, "x", body)))
    with Ledger.open(path) as led:
        report = led.verify()
    assert [p.code for p in report.problems] == ["L414"] and report.first_bad_seq == 4


def test_a_large_write_leaves_no_large_wal_behind_a_reader_that_stays_connected(tmp_path, monkeypatch):
    """SQLite deletes the WAL with the last connection; while a reader stays, its size is kept to the limit."""
    monkeypatch.setattr(store, "WAL_KEPT_BYTES", 256 << 10)
    path = tmp_path / "l.db"
    with Ledger.open(path) as led, led.transaction() as tx:
        tx.append("draw", "d0", {})
    reader = sqlite3.connect(path)
    try:
        reader.execute("SELECT count(*) FROM records").fetchone()
        with Ledger.open(path) as led:
            with led.transaction() as tx:
                # More than SQLite's checkpoint of 1,000 pages (16 MiB of a new ledger's) without which the WAL is kept.
                tx.extend("result", ((f"v{i}", {"i": i, "text": "正文" * 300}) for i in range(12000)))
            largest = os.path.getsize(f"{path}-wal")
            with led.transaction() as tx:
                tx.append("draw", "d1", {})
        assert largest > 1000 * store.PAGE_BYTES
        assert os.path.getsize(f"{path}-wal") <= 256 << 10
    finally:
        reader.close()
