"""Rules: the durable-rules compilation agrees with the reference semantics, by class, safely."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spotcheck.rules import conditions as C
from spotcheck.rules import semantics as S
from spotcheck.rules import engine as R
from spotcheck.errors import SpotcheckError
from spotcheck.rules.fields import INSPECTOR_FIELDS
from rules.test_conditions import SCOPE, conditions, entities, leaf

GOLDEN = Path(__file__).parents[1] / "golden" / "rules"


def rule(rule_id, data):
    return R.Rule(rule_id, C.parse_condition(data))


def expected(rules, entity):
    return frozenset(r.id for r in rules if S.evaluate(r.when, entity))


def fanout(shard):
    """The most children any node of the shard's network has, rebuilt from the compiled JSON."""
    trie = {}
    for body in shard.values():
        when = body["when"]
        parts = when.get("$and", [when])
        node = trie
        for part in parts:
            node = node.setdefault(json.dumps(part, sort_keys=True), {})

    def widest(node):
        return max([len(node)] + [widest(child) for child in node.values()])

    return widest(trie)


# ---------------------------------------------------------------------------------------------
# Agreement with conditions.evaluate


@settings(max_examples=400, deadline=None)
@given(st.lists(conditions, min_size=1, max_size=4), st.lists(entities(), min_size=1, max_size=8))
def test_engine_agrees_with_the_reference_evaluator(conds, sample):
    rules = [R.Rule(f"r{i}", c) for i, c in enumerate(conds)]
    assert R.compile_rules(rules).evaluate(sample) == [expected(rules, e) for e in sample]


ONE_FACT = [
    {"any": [leaf("type", "eq", "企业"), leaf("tier", "eq", "D")]},
    {"not": leaf("tier", "eq", "D")},
    {"not": {"any": [leaf("type", "eq", "企业"), leaf("tier", "eq", "D")]}},
    {"not": {"all": [leaf("type", "eq", "企业"), leaf("tier", "eq", "D")]}},
    {"any": [{"all": [leaf("type", "eq", "企业"), leaf("tier", "eq", "D")]}, {"not": leaf("labels", "contains", "加油站")}]},
]


@pytest.mark.parametrize("data", ONE_FACT)
def test_any_and_not_mean_boolean_or_and_negation_within_one_fact(data):
    rules = [rule("x", data)]
    sample = [
        {"type": t, "tier": tier, "labels": labels}
        for t in ("企业", "个体工商户")
        for tier in ("A", "D")
        for labels in ([], ["加油站"])
    ]
    answers = R.compile_rules(rules).evaluate(sample)
    assert answers == [expected(rules, e) for e in sample]
    assert set(answers) == {frozenset(), frozenset({"x"})}


def test_tautologies_and_contradictions():
    rules = [
        rule("always", {"not": leaf("established", "lt", "0001-01-01")}),
        rule("also_always", {"any": [leaf("tier", "eq", "A"), leaf("tier", "ne", "A")]}),
        rule("never", {"all": [leaf("established", "gt", "2020-01-01"), leaf("established", "lt", "2020-01-02")]}),
        rule("present", {"not": {"all": [{"not": leaf("established", "gte", "0001-01-01")}]}}),
    ]
    compiled = R.compile_rules(rules)
    assert compiled.to_json()["always"] == ["always"]
    assert not any(body["fires"] == ["never"] for shard in compiled.to_json()["shards"] for body in shard.values())
    assert compiled.evaluate([{"established": dt.date(2020, 1, 1), "tier": "A"}, {}]) == [
        frozenset({"always", "also_always", "present"}),
        frozenset({"always", "also_always"}),
    ]


def test_date_edges_and_large_ints():
    rules = [
        rule("min", leaf("established", "lte", "0001-01-01")),
        rule("not_max", {"not": leaf("established", "gte", "9999-12-31")}),
        rule("big", leaf("checks_this_year", "gte", C.INT_LIMIT)),
    ]
    sample = [
        {"established": dt.date.min, "checks_this_year": C.INT_LIMIT},
        {"established": dt.date.max, "checks_this_year": -(10**12)},
        {},
    ]
    assert R.compile_rules(rules).evaluate(sample) == [expected(rules, e) for e in sample]


def test_strings_never_reach_the_engine_so_no_loose_coercion():
    compiled = R.compile_rules(
        [
            rule("late", leaf("established", "gte", "2020-01-01")),
            rule("busy", leaf("checks_this_year", "gte", 1000)),
            rule("east", leaf("district", "in", ["东城区", "朝阳区"])),
        ]
    )
    fact = compiled.fact({"established": dt.date(2021, 2, 3), "district": "朝阳区", "checks_this_year": 3}, "f")
    assert set(fact) == {"id", "fact", "established", "checks_this_year", "district"}
    assert all(type(v) is int for k, v in fact.items() if k != "id")
    assert compiled.evaluate([{"established": dt.date(2021, 2, 3), "district": "朝阳区"}]) == [frozenset({"late", "east"})]
    with pytest.raises(TypeError):
        compiled.evaluate([{"checks_this_year": "abc"}])
    with pytest.raises(TypeError):
        compiled.evaluate([{"established": "2021-02-03"}])


def test_identical_classes_each_get_an_answer_and_sessions_stay_few():
    compiled = R.compile_rules([rule("gas", leaf("labels", "contains", "加油站"))])
    sample = [{"labels": ["加油站"]}] * 3 + [{"labels": [f"标签{i}", "加油站"][: 1 + i % 2]} for i in range(1500)]
    answers = compiled.evaluate(sample)
    assert answers == [frozenset({"gas"}) if "加油站" in e["labels"] else frozenset() for e in sample]


def test_an_action_that_never_ran_fails_loudly(monkeypatch):
    compiled = R.compile_rules([rule("gas", leaf("labels", "contains", "加油站"))])
    monkeypatch.setattr(R.durable.Ruleset, "do_actions", lambda self, handle, complete: complete(None, None))
    with pytest.raises(RuntimeError, match="no answer"):
        compiled.evaluate([{"labels": ["加油站"]}])


def test_compiled_rules_are_cached_by_content():
    before = R.STATS.rulesets
    first = R.compile_rules([rule("a", SCOPE)])
    second = R.compile_rules([R.Rule("a", C.parse_condition(SCOPE), payload={"team": 1})])
    assert first is second
    assert R.STATS.rulesets - before <= 1
    assert R.compile_rules([rule("b", SCOPE)]) is not first


def test_duplicate_rule_ids_are_refused():
    with pytest.raises(ValueError):
        R.compile_rules([rule("a", SCOPE), rule("a", SCOPE)])


def test_other_vocabularies():
    cond = C.parse_condition(leaf("specialties", "any_of", ["特种设备", "食品"]), vocabulary=INSPECTOR_FIELDS)
    compiled = R.compile_rules([R.Rule("special", cond)], facts_kinds=INSPECTOR_FIELDS)
    assert compiled.evaluate([{"specialties": ["食品"]}, {"specialties": []}]) == [frozenset({"special"}), frozenset()]


@settings(max_examples=100, deadline=None)
@given(st.lists(conditions, min_size=2, max_size=6), st.lists(entities(), min_size=1, max_size=6))
def test_engine_agrees_when_rules_are_spread_over_many_shards(conds, sample):
    # Tiny limits force many shards; the "narrow" rule ids keep these out of the shared cache.
    rules = [R.Rule(f"narrow{i}", c) for i, c in enumerate(conds)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(R, "FANOUT_LIMIT", 2)
        patch.setattr(R, "STACK_LIMIT", 3)
        patch.setattr(R, "RULES_PER_SHARD", 3)
        compiled = R.compile_rules(rules)
    assert compiled.evaluate(sample) == [expected(rules, e) for e in sample]
    layout = compiled.to_json()["shards"]
    assert all(len(shard) <= 4 and fanout(shard) <= 2 for shard in layout)


# ---------------------------------------------------------------------------------------------
# Durable-rules limits


def test_too_many_branches_is_a_problem_not_a_hang():
    pairs = [{"any": [leaf("labels", "contains", f"a{i}"), leaf("address", "contains", f"b{i}")]} for i in range(13)]
    with pytest.raises(SpotcheckError) as info:
        R.compile_rules([rule("wide", {"all": pairs})])
    assert info.value.problems[0].code == "E801" and "过于复杂" in info.value.problems[0].message


def test_too_many_flags_is_a_problem():
    labels = [f"标签{i}" for i in range(R.MAX_PROPERTIES + 1)]
    with pytest.raises(SpotcheckError) as info:
        R.compile_rules([rule("many", leaf("labels", "any_of", labels))])
    assert info.value.problems[0].code == "E802"


def test_inequalities_that_pass_together_are_spread_over_shards():
    # All 100 tests "office != code" pass for most facts; on one node they would overflow the
    # engine's stack of 64 (error 303).
    rules = [rule(f"not{i}", {"not": leaf("office", "eq", f"所{i}")}) for i in range(100)]
    compiled = R.compile_rules(rules)
    assert len(compiled.to_json()["shards"]) >= 100 // R.STACK_LIMIT
    everything = frozenset(r.id for r in rules)
    assert compiled.evaluate([{"office": "别处"}, {"office": "所7"}, {}]) == [
        everything,
        everything - {"not7"},
        everything,
    ]


LARGE = textwrap.dedent(
    """
    import datetime as dt, json
    from spotcheck.rules import conditions as C
    from spotcheck.rules import engine as R
    from spotcheck.rules import semantics as S
    values = [f"辖区{i:03d}" for i in range(600)]
    days = [dt.date(2000, 1, 1) + dt.timedelta(days=3 * i) for i in range(600)]
    rules = [
        R.Rule("in", C.parse_condition({"field": "district", "op": "in", "value": values})),
        R.Rule("not_in", C.parse_condition({"field": "district", "op": "not_in", "value": values[::2]})),
        R.Rule("days", C.parse_condition({"field": "established", "op": "in", "value": [d.isoformat() for d in days]})),
        R.Rule("odd_days", C.parse_condition({"not": {"field": "established", "op": "in", "value": [d.isoformat() for d in days[1::2]]}})),
    ] + [R.Rule(f"team{i}", C.parse_condition({"field": "grid", "op": "eq", "value": f"网格{i}"})) for i in range(600)] + [
        R.Rule(f"not{i}", C.parse_condition({"not": {"field": "office", "op": "eq", "value": f"所{i}"}})) for i in range(100)
    ]
    compiled = R.compile_rules(rules)
    sample = [
        {"district": values[i], "established": days[i] + dt.timedelta(days=i % 2), "grid": f"网格{i}", "office": f"所{i % 150}"}
        for i in range(0, 600, 7)
    ] + [{"district": "别处"}, {}]
    got = compiled.evaluate(sample)
    want = [frozenset(r.id for r in rules if S.evaluate(r.when, e)) for e in sample]
    print(json.dumps({"agree": got == want, "compiled": compiled.to_json()}, ensure_ascii=False))
    """
)


def test_long_lists_and_many_rules_compile_without_hanging():
    # In a child process: a network node with more than 512 children hangs durable-rules forever.
    done = subprocess.run([sys.executable, "-c", LARGE], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["agree"]
    shards = report["compiled"]["shards"]
    assert len(shards) > 1
    assert max(fanout(shard) for shard in shards) <= R.FANOUT_LIMIT
    assert max(len(shard) for shard in shards) <= R.RULES_PER_SHARD + 1
    in_rules = [body for shard in shards for body in shard.values() if body["fires"] == ["in"]]
    assert len(in_rules) == 1  # 600 listed values are one range of codes


def test_no_regular_expressions_are_emitted():
    compiled = R.compile_rules([rule("road", {"any": [leaf("address", "contains", "路"), leaf("name", "contains", "加油")]})])
    assert "$mt" not in json.dumps(compiled.to_json()) and "$imt" not in json.dumps(compiled.to_json())
    assert compiled.evaluate([{"address": "北京路"}, {"name": "中石化加油站"}, {"address": "大道"}]) == [
        frozenset({"road"}),
        frozenset({"road"}),
        frozenset(),
    ]


# ---------------------------------------------------------------------------------------------
# Golden files


GOLDEN_CASES = {
    "scope_gas_stations": [rule("scope", SCOPE)],
    "inspection_priorities": [
        rule("high_risk", {"all": [leaf("tier", "in", ["C", "D"]), {"not": leaf("status", "in", ["注销", "吊销"])}]}),
        rule("never_checked", {"not": leaf("last_checked", "gte", "2023-01-01")}),
        rule("markets", {"any": [leaf("labels", "all_of", ["集贸市场", "食品"]), leaf("address", "contains", "市场")]}),
        rule("busy", leaf("checks_this_year", "gte", 2)),
    ],
}


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_compiled_rulesets_match_their_golden_files(name):
    text = json.dumps(R.compile_rules(GOLDEN_CASES[name]).to_json(), ensure_ascii=False, indent=2) + "\n"
    path = GOLDEN / f"{name}.json"
    if os.environ.get("SPOTCHECK_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run the tests with SPOTCHECK_UPDATE_GOLDEN=1"
    assert path.read_text(encoding="utf-8") == text
