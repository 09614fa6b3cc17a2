"""Every number and date a policy holds is bounded, in one grammar for the loader and the exported schema."""

import json

import jsonschema
import pytest
from conftest import edit, line_of, policy_problems
from spotcheck.policy.loader import load_policy
from spotcheck.policy.yamlsource import parse_yaml
from spotcheck.resources import SCHEMAS

CITY = ("city", "2023.yaml")


def schema_accepts(path) -> bool:
    schema = json.loads((SCHEMAS / "policy.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    doc, _ = parse_yaml(path)
    return validator.is_valid(doc.data)


REFUSED = [
    ('multiplier: "0.5"', 'multiplier: "NaN"', "multiplier"),
    ('multiplier: "0.5"', 'multiplier: "sNaN"', "multiplier"),
    ('multiplier: "0.5"', 'multiplier: "1e999999999"', "multiplier"),
    ('multiplier: "0.5"', 'multiplier: "1_000"', "multiplier"),
    ('multiplier: "0.5"', 'multiplier: " 0.5"', "multiplier"),
    ('sampling: {ratio: "5%"}', 'sampling: {ratio: "５%"}', "sampling: {"),
    ('sampling: {ratio: "5%"}', 'sampling: {ratio: " 5% "}', "sampling: {"),
    ('sampling: {ratio: "5%"}', 'sampling: {ratio: "0%"}', "sampling: {"),
    ('sampling: {ratio: "5%"}', 'sampling: {ratio: "0.000%"}', "sampling: {"),
    ('sampling: {ratio: "5%"}', 'sampling: {ratio: "100.5%"}', "sampling: {"),
    ('sampling: {ratio: "5%"}', "sampling: {count: 0}", "sampling: {"),
    ('sampling: {ratio: "5%"}', 'sampling: {ratio: "5%", stratify: [district, district]}', "sampling: {"),
    ("year: 2023", "year: 10000", "year:"),
    ("year: 2023", "year: 99999999999999999999", "year:"),
    ("year: 2023", "year: 1999", "year:"),
    ('"on": "2023-12-20"', '"on": "9999-12-31"', '"on"'),
    ('{start: "2023-04-01", end: "2023-11-30"}', '{start: "2023-04-01", end: "9999-12-31"}', "9999"),
    ("    no: 1\n", "    no: 0\n", "no: 0"),
]


@pytest.mark.parametrize(("old", "new", "at"), REFUSED, ids=[r[1] for r in REFUSED])
def test_a_value_out_of_bounds_is_one_located_problem_and_the_schema_agrees(policy_tree, old, new, at):
    path = policy_tree.joinpath(*CITY)
    edit(path, old, new)
    problems = policy_problems(path)
    assert [(p.code, p.line) for p in problems] == [("P112", line_of(path, at))]
    assert all(not p.message.isascii() for p in problems)
    assert not schema_accepts(path)


@pytest.mark.parametrize(("old", "new"), [
    ('sampling: {ratio: "5%"}', 'sampling: {ratio: "0.000001%"}'),
    ('sampling: {ratio: "5%"}', 'sampling: {ratio: "100.0%"}'),
    ('multiplier: "0.5"', 'multiplier: "0"'),
    ('multiplier: "0.5"', 'multiplier: "999.5"'),
])
def test_values_inside_the_bounds_pass_both(policy_tree, old, new):
    path = policy_tree.joinpath(*CITY)
    edit(path, old, new)
    load_policy(path)
    assert schema_accepts(path)


@pytest.mark.parametrize("text", ["    working_days: 20", "    calendar_days: 1000000000"])
def test_deadline_days_are_bounded(policy_tree, text):
    path = policy_tree.joinpath(*CITY)
    edit(path, '    "on": "2023-12-20"', f"{text}\n    after: check_completed")
    (p,) = policy_problems(path) if "calendar" in text else (None,)
    if p is None:
        load_policy(path)
    else:
        assert (p.code, p.line) == ("P112", line_of(path, "calendar_days")) and "1000" in p.message
        assert not schema_accepts(path)


@pytest.mark.parametrize("old, new", [
    ("tasks:\n", "tasks: null\nxtasks:\n"),
])
def test_tasks_null_is_a_problem_not_a_crash(policy_tree, old, new):
    path = policy_tree.joinpath(*CITY)
    edit(path, old, new)
    codes = {p.code for p in policy_problems(path)}
    assert codes == {"P112", "P111"}


def test_a_key_that_is_not_text_is_named_in_chinese(policy_tree):
    path = policy_tree.joinpath(*CITY)
    edit(path, "targets:", "1: x\ntargets:")
    (p,) = policy_problems(path)
    assert (p.code, p.line) == ("P112", line_of(path, "1: x")) and "键应为文字" in p.message


@pytest.mark.parametrize("cap_id", ["tier-A", "tier-D", "recent", "cycle"])
def test_a_cap_may_not_take_a_tier_caps_id(policy_tree, cap_id):
    path = policy_tree.joinpath(*CITY)
    edit(path, "merge:", f"caps:\n  - {{id: {cap_id}, name: 上限, when: {{field: tier, op: eq, value: A}}, "
                         "max_per_year: 1}\nmerge:")
    (p,) = policy_problems(path)
    assert (p.code, p.line) == ("P260", line_of(path, cap_id))


@pytest.mark.parametrize("limit", ["0", "-1"])
def test_cap_limits_below_one_are_refused(policy_tree, limit):
    path = policy_tree.joinpath(*CITY)
    edit(path, "merge:", f"caps:\n  - {{id: c, name: 上限, when: {{field: tier, op: eq, value: A}}, "
                         f"max_per_year: {limit}}}\nmerge:")
    (p,) = policy_problems(path)
    assert (p.code, p.line) == ("P112", line_of(path, "max_per_year"))
    assert not schema_accepts(path)


@pytest.mark.parametrize(("old", "new"), [
    ("id: fixture/city/2023", "id: fixture/../../../etc/2023"),
    ("id: fixture/city/2023", "id: /fixture/city/2023"),
    ("id: fixture/city/2023", "id: 'fixture/city/202[3]'"),
    ("  - id: t01", "  - id: ../t01"),
    ("  - id: t01", "  - id: 't01\\u0000'"),
    ("  - id: t01", "  - id: t 01"),
])
def test_ids_keep_to_the_safe_alphabet_in_both(policy_tree, old, new):
    path = policy_tree.joinpath(*CITY)
    edit(path, old, new)
    problems = policy_problems(path)
    p150 = [p for p in problems if p.code == "P150"]
    assert [p.line for p in p150] == [line_of(path, new.strip())] and "标识" in p150[0].hint
    assert not schema_accepts(path)


def test_chinese_ids_pass_both(policy_tree):
    path = policy_tree.joinpath(*CITY)
    edit(path, "  - id: t01", "  - id: 任务_01")
    assert schema_accepts(path)
