"""Classes: rows encoded, answered per class (and per rule group), looked up per row."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st
from spotcheck.rules import classes as K
from spotcheck.rules import conditions as C
from spotcheck.rules import semantics as S
from spotcheck.rules import engine as R
from rules.test_conditions import SCOPE, conditions, entities, leaf
from rules.test_engine import expected, rule

_FRAME_SCHEMA = {
    name: {"labels": pl.List(pl.String), "date": pl.Date, "int": pl.Int64}.get(f.kind, pl.String)
    for name, f in C.ENTITY_FIELDS.items()
}


@given(st.lists(conditions, min_size=1, max_size=5), st.lists(entities(), min_size=1, max_size=12))
def test_classes_through_frames_agree_with_the_reference_evaluator(conds, sample):
    # The path the draw takes: rows encoded with polars, classes, rule groups asked by projection.
    rules = [R.Rule(f"f{i}", c) for i, c in enumerate(conds)]
    frame = pl.DataFrame(sample, schema={k: v for k, v in _FRAME_SCHEMA.items() if k in sample[0]})
    got = K.matches_by_class(rules, frame)["rules"].to_list()
    assert got == [sorted(expected(rules, e)) for e in sample]


def test_matches_by_class_calls_the_engine_once_per_class():
    rules = [
        rule("scope", SCOPE),
        rule("recent", {"not": leaf("last_checked", "gte", "2024-01-01")}),
        rule("roads", leaf("address", "contains", "路")),
    ]
    n = 100_000
    types = ["企业", "个体工商户"]
    statuses = ["存续", "在营", "注销"]
    label_sets = [["加油站"], ["眼镜制配", "洗车"], ["洗车", "眼镜制配"], [], None]
    tiers = ["A", "B", "C"]
    established = [dt.date(2019, 1, 1), dt.date(2021, 1, 1), None]
    checked = [dt.date(2023, 6, 1), dt.date(2024, 6, 1), None]
    addresses = ["北京路1号", "人民大道", None, ""]
    frame = pl.DataFrame(
        {
            "uscc": [f"91{i:016d}" for i in range(n)],
            "type": [types[i % 2] for i in range(n)],
            "status": [statuses[i % 3] for i in range(n)],
            "labels": [label_sets[i % 5] for i in range(n)],
            "tier": [tiers[i % 3] for i in range(n)],
            "established": [established[(i // 7) % 3] for i in range(n)],
            "last_checked": [checked[(i // 11) % 3] for i in range(n)],
            "address": [addresses[(i // 13) % 4] for i in range(n)],
        },
        schema_overrides={"labels": pl.List(pl.String)},
    )
    compiled = R.compile_rules(rules)
    before = R.STATS.facts
    out = K.matches_by_class(compiled, frame)
    calls = R.STATS.facts - before

    records = frame.to_dicts()
    keys = {
        tuple(S.entity_value(C.ENTITY_FIELDS[f], r[f]) for f in sorted(compiled.fields_read)) for r in records
    }
    shards = len(compiled.to_json()["shards"])
    # Classes are what the rules can tell apart: never more than the distinct raw values; and each
    # group of rules is asked only about the properties it reads, so fewer facts than classes.
    classes = compiled.encode_frame(frame).unique().height
    assert classes <= len(keys)
    assert calls < classes * shards
    assert calls < 100
    assert out.columns == ["row", "rules"] and out.height == n
    assert out["row"].to_list() == list(range(n))
    assert out["rules"].to_list() == [sorted(expected(rules, r)) for r in records]


def test_more_labels_than_one_mask_holds_and_repeated_labels():
    # 70 labels mentioned: the flags span two 62-bit masks; a label listed twice counts once.
    rules = [rule(f"l{i}", leaf("labels", "contains", f"标签{i}")) for i in range(70)]
    rules.append(rule("both", {"all": [leaf("labels", "contains", "标签3"), leaf("labels", "contains", "标签65")]}))
    lists = [["标签3", "标签65"], ["标签61", "标签62", "标签62"], ["标签69"], [], None, ["别的"]]
    frame = pl.DataFrame({"labels": lists}, schema={"labels": pl.List(pl.String)})
    out = K.matches_by_class(rules, frame)["rules"].to_list()
    assert out == [sorted(expected(rules, {"labels": x})) for x in lists]
    assert out[0] == ["both", "l3", "l65"] and out[1] == ["l61", "l62"]


def test_the_flags_of_one_mask_are_one_digit_of_the_class_key():
    # 40 labels: their mask is one digit of the key; decoded, the classes answer as flag by flag.
    rules = [rule(f"l{i}", leaf("labels", "contains", f"标签{i}")) for i in range(40)]
    rules.append(rule("tier", leaf("tier", "eq", "A")))
    frame = pl.DataFrame({"labels": [[f"标签{i % 40}", f"标签{(i * 7) % 41}"] for i in range(500)] + [None],
                          "tier": [("A", "B")[i % 2] for i in range(501)]}, schema_overrides={"labels": pl.List(pl.String)})
    compiled = R.compile_rules(rules)
    masks, coded = compiled.code_exprs(frame)
    packed = K._digits(coded, compiled.flag_bits(frame))
    assert [len(d.names) for d in packed if d.packed] == [40] and len(packed) == len(coded) - 39
    answered = []
    for digits in (packed, K._digits(coded, {})):
        ids, classes = K._classes_by_key(frame.with_columns(masks), digits)
        table = pl.Series([sorted(a) for a in compiled.evaluate_classes(classes)], dtype=pl.List(pl.String))
        answered.append(table.gather(ids).to_list())
    assert answered[0] == answered[1]
    assert answered[0][0] == ["l0", "tier"] and answered[0][1] == ["l1", "l7"] and answered[0][-1] == ["tier"]


def test_matches_by_class_accepts_missing_columns_and_datetimes():
    rules = [rule("gas", leaf("labels", "contains", "加油站")), rule("old", leaf("established", "lt", "2020-01-01"))]
    frame = pl.DataFrame({"established": [dt.datetime(2019, 5, 1, 9), None]})
    assert K.matches_by_class(rules, frame)["rules"].to_list() == [["old"], []]


def test_matches_by_class_with_rules_that_read_nothing():
    rules = [rule("always", {"any": [leaf("tier", "eq", "A"), leaf("tier", "ne", "A")]})]
    out = K.matches_by_class(rules, pl.DataFrame({"tier": ["A", "B", None]}))
    assert out["rules"].to_list() == [["always"]] * 3
