import hashlib
import json
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spotcheck.errors import SpotcheckError
from spotcheck.ledger.chain import canonical_json, decode_body, encoded, record_hash
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


def test_extend_writes_the_chain_append_would(tmp_path):
    clock = lambda: datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)  # noqa: E731
    items = [(f"v{i}", {"i": i, "名称": f"企业{i}", "rows": [i, i + 1]}) for i in range(50)]
    chains = []
    for name, bulk in (("one.db", False), ("bulk.db", True)):
        with Ledger.open(tmp_path / name, actor="甲", clock=clock) as led:
            with led.transaction() as tx:
                tx.append("draw", "d1", {"n": 1})
                if bulk:
                    assert tx.extend("result", items) == 50
                else:
                    for key, body in items:
                        tx.append("result", key, body)
                tx.append("draw", "d2", {"n": 2})
            assert led.verify().ok
            chains.append([r.to_dict() for r in led.iter()])
    assert chains[0] == chains[1]
    assert len(chains[1]) == 52
    assert chains[1][-1]["prev_hash"] == record_hash(*(chains[1][-2][k] for k in ("prev_hash", "seq", "kind", "key", "at",
                                                                                  "actor")), canonical_json(chains[1][-2]["body"]))


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
