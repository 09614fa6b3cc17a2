import hashlib
import json
import sqlite3
import threading
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spotcheck.errors import SpotcheckError
from spotcheck.ledger.chain import chained, canonical_json, decode_body, encoded, record_hash
from spotcheck.ledger import store
from spotcheck.ledger.store import Ledger


def reference(body: object) -> str:
    """The canonical text as the ledger has always written it."""
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | text
           | st.floats(allow_nan=False, allow_infinity=False))
bodies = st.dictionaries(text, st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
                                            | st.dictionaries(text, inner, max_size=4), max_leaves=20), max_size=6)


@settings(max_examples=400, deadline=None)
@given(bodies)
def test_canonical_text_is_the_json_text_for_any_body(body):
    want = reference(body)
    got, back = encoded(body)
    assert got == want
    assert back == json.loads(want)


@given(st.dictionaries(text, st.recursive(st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1)
                                          | text | st.floats(allow_nan=False, allow_infinity=False),
                                          lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
                                          max_leaves=20), max_size=6))
@settings(max_examples=300, deadline=None)
def test_stored_bodies_read_back_as_json_reads_them(body):
    stored = reference(body)
    got = decode_body(stored)
    assert got == json.loads(stored)
    assert [type(v) for v in got.values()] == [type(v) for v in json.loads(stored).values()]


def test_every_character_is_written_as_json_writes_it():
    for start in range(0, 0x110000, 0x8000):
        chars = "".join(chr(c) for c in range(start, start + 0x8000) if not 0xD800 <= c <= 0xDFFF)
        body = {"k": chars, chars[:40]: 1}
        assert canonical_json(body) == reference(body)


def test_what_json_refuses_is_still_refused():
    for body in ({"x": float("nan")}, {"x": float("inf")}, {"on": datetime(2024, 1, 1)}, {"x": {1, 2}}):
        with pytest.raises((TypeError, ValueError)):
            canonical_json(body)


def test_text_orjson_refuses_is_read_by_json():
    assert decode_body('{"a":NaN}')["a"] != decode_body('{"a":NaN}')["a"]
    assert decode_body('{"a":"\\ud800"}') == {"a": "\ud800"}


def _appended_and_extended(tmp_path, items, actor="甲"):
    """The records table (with each value's SQLite type) after appending `items` one by one, and after extending."""
    clock = lambda: datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)  # noqa: E731
    tables = []
    for name, bulk in (("one.db", False), ("bulk.db", True)):
        with Ledger.open(tmp_path / name, actor=actor, clock=clock) as led:
            with led.transaction() as tx:
                tx.append("draw", "d1", {"n": 1})
                if bulk:
                    assert tx.extend("result", items) == len(items)
                else:
                    for key, body in items:
                        tx.append("result", key, body)
                tx.append("draw", "d2", {"n": 2})
            assert led.verify().ok
            tables.append(led._conn.execute("SELECT *, typeof(seq), typeof(key), typeof(body) FROM records ORDER BY seq")
                          .fetchall())
    return tables


def test_extend_writes_the_chain_append_would(tmp_path):
    one, bulk = _appended_and_extended(tmp_path, [(f"v{i}", {"i": i, "名称": f"企业{i}", "rows": [i, i + 1]})
                                                  for i in range(50)])
    assert one == bulk
    assert len(bulk) == 52
    assert bulk[-1][6] == record_hash(bulk[-2][6], *bulk[-2][:6])


def test_extend_with_a_bad_body_writes_none_of_them(tmp_path):
    with Ledger.open(tmp_path / "l.db") as led:
        with led.transaction() as tx:
            tx.append("draw", "d1", {})
            with pytest.raises(SpotcheckError) as err:
                tx.extend("result", [("v1", {"i": 1}), ("v2", {"i": 2}), ("v3", {"on": datetime(2024, 1, 1)})])
            assert [p.code for p in err.value.problems] == ["L410"]
            assert tx.extend("result", [("v4", {"i": 4})]) == 1
        assert [(r.seq, r.key) for r in led.iter()] == [(1, "d1"), (2, "v4")]
        assert led.verify().ok
        with led.transaction() as tx, pytest.raises(RuntimeError):
            tx.extend("commitment", [("c1", {})])
        assert led.head()[0] == 2


def test_records_found_by_a_body_field(tmp_path):
    with Ledger.open(tmp_path / "l.db") as led:
        with led.transaction() as tx:
            tx.extend("result", [("v1", {"draw_id": "a"}), ("v2", {"draw_id": "b"}), ("v3", {"draw_id": "a", "x": 1})])
        assert [r.key for r in led.iter("result", fields={"draw_id": "a"})] == ["v1", "v3"]
        assert led.find("result", fields={"draw_id": "c"}) == []


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=70, alphabet=st.characters(blacklist_categories=("Cs",))), st.integers(1, 2**62),
       st.lists(text, min_size=4, max_size=4), st.text(alphabet=st.characters(blacklist_categories=("Cs",))))
def test_the_record_hash_is_the_documented_netstring_hash(prev, seq, fields, body):
    kind, key, at, actor = fields
    framed = b"".join(b"%d:%s," % (len(x.encode()), x.encode()) for x in (prev, str(seq), kind, key, at, actor, body))
    assert record_hash(prev, seq, kind, key, at, actor, body) == hashlib.sha256(framed).hexdigest()


def _netstring_hash(*fields: object) -> str:
    return hashlib.sha256(b"".join(b"%d:%s," % (len(x.encode()), x.encode()) for x in map(str, fields))).hexdigest()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=70, alphabet=st.characters(blacklist_categories=("Cs",))), st.integers(0, 2**62),
       st.lists(text, min_size=3, max_size=3),
       st.lists(st.tuples(text, st.text(alphabet=st.characters(blacklist_categories=("Cs",)))), max_size=12))
def test_chained_rows_are_each_the_documented_hash_of_the_row_before(prev, seq, fields, items):
    """A province's rows are hashed in one loop: each is still the netstring hash of its fields after the row
    before (a head of any text, numbers crossing a digit, keys and bodies beyond ASCII)."""
    kind, at, actor = fields
    rows = list(chained(kind, at, actor, seq, prev, items))
    assert [row[:6] for row in rows] == [(seq + i, kind, key, at, actor, body) for i, (key, body) in enumerate(items, 1)]
    for (n, _, key, _, _, body, before, digest), after in zip(rows, [prev] + [row[7] for row in rows]):
        assert before == after
        assert digest == _netstring_hash(before, n, kind, key, at, actor, body)


def test_chained_rows_cross_a_digit_and_frame_text_by_its_bytes():
    rows = list(chained("结果", "t", "甲", 8, "头", [("键", "{}"), ("k", "正文")]))
    assert [row[0] for row in rows] == [9, 10]
    assert rows[0][7] == hashlib.sha256("3:头,1:9,6:结果,3:键,1:t,3:甲,2:{},".encode()).hexdigest()
    assert rows[1][7] == hashlib.sha256(f"64:{rows[0][7]},2:10,6:结果,1:k,1:t,3:甲,6:正文,".encode()).hexdigest()


AWKWARD = ["企业", "a\x00b", "引号\"与\\反斜杠", "\u2028行\u2029", "😀", "\x1f\x7f\x85", "", "null", "[1,2]"]


@pytest.mark.parametrize("batch, per", [(1, 64), (3, 64), (9, 64), (8192, 64), (3, 2), (9, 4), (8192, 5), (8192, 27)])
def test_extend_in_batches_writes_the_chain_append_would(tmp_path, monkeypatch, batch, per):
    """The rows go to SQLite a batch at a time, `per` rows to an INSERT and the rest of a batch one by one; every
    text comes back as it was bound, U+0000 too."""
    monkeypatch.setattr(store, "BATCH_ROWS", batch)
    monkeypatch.setattr(store, "ROWS_PER_INSERT", per)
    items = [(f"v{i}{AWKWARD[i % len(AWKWARD)]}", {"i": i, "big": 2**62 + i, "t": AWKWARD[-1 - i % len(AWKWARD)],
                                                    "none": None, "yes": i % 2 == 0, "rows": [i, [AWKWARD[i % 4]]]})
             for i in range(27)]
    one, bulk = _appended_and_extended(tmp_path, items, actor="甲\x00乙")
    assert one == bulk
    assert {row[1] for row in bulk} == {"draw", "result"} and len(bulk) == 29


def test_an_sqlite_allowing_fewer_variables_is_given_fewer_rows_to_an_insert(tmp_path, monkeypatch):
    """SQLite before 3.32, or built so, refuses a statement of more variables than its limit (999 by default then)."""
    real = store._insert

    def insert(conn, rows):
        conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 17)  # two rows of eight values
        real(conn, rows)

    monkeypatch.setattr(store, "BATCH_ROWS", 9)
    monkeypatch.setattr(store, "ROWS_PER_INSERT", 5)
    monkeypatch.setattr(store, "_insert", insert)
    one, bulk = _appended_and_extended(tmp_path, [(f"v{i}", {"i": i}) for i in range(27)])
    assert one == bulk and len(bulk) == 29


def test_a_bad_body_in_a_later_batch_writes_none_and_stops_the_thread_making_them(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "BATCH_ROWS", 2)
    made = []

    def items():
        for i in range(40):
            made.append(i)
            yield f"v{i}", ({"on": datetime(2024, 1, 1)} if i == 7 else {"i": i})

    with Ledger.open(tmp_path / "l.db") as led:
        with led.transaction() as tx:
            tx.append("draw", "d1", {})
            with pytest.raises(SpotcheckError) as err:
                tx.extend("result", items())
            assert [p.code for p in err.value.problems] == ["L410"]
            assert made == list(range(8))
            assert tx.extend("result", [("v8", {"i": 8})]) == 1
        assert [(r.seq, r.key) for r in led.iter()] == [(1, "d1"), (2, "v8")]
        assert led.verify().ok
    assert not [t for t in threading.enumerate() if t.name == "ledger-rows"]


def test_an_insert_that_fails_rolls_back_the_batches_before_and_stops_the_thread(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "BATCH_ROWS", 2)
    inserted = []

    def insert(conn, rows):
        if len(inserted) == 3:
            raise sqlite3.OperationalError("disk I/O error")
        inserted.append(rows)
        real(conn, rows)

    real, made = store._insert, []
    monkeypatch.setattr(store, "_insert", insert)
    with Ledger.open(tmp_path / "l.db") as led:
        with led.transaction() as tx:
            tx.append("draw", "d1", {})
            with pytest.raises(sqlite3.OperationalError):
                tx.extend("result", ((f"v{i}", {"i": made.append(i) or i}) for i in range(1000)))
        assert [r.key for r in led.iter()] == ["d1"]
        assert led.verify().ok
    assert len(inserted) == 3
    assert len(made) < 20  # no more than the batches already handed over
    assert not [t for t in threading.enumerate() if t.name == "ledger-rows"]
