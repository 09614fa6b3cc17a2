from pathlib import Path

import pytest
from conftest import POLICY_FIXTURES, edit, line_of, policy_problems
from spotcheck.errors import SpotcheckError
from spotcheck.policy.files import CALENDAR, CASES, ITEM_LIST, POLICY, file_kind
from spotcheck.policy.loader import Session, load_item_list, load_policy

# Inheritance and floors are in test_inheritance.py, strict YAML in test_yamlsource.py, and the
# Chinese messages for model errors in test_model_problems.py.


def test_sha256_is_stable_and_follows_the_content(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    first = load_policy(path).sha256
    assert load_policy(path).sha256 == first and len(first) == 64
    edit(path, "# Test fixture", "# A comment changes nothing\n# Test fixture")
    assert load_policy(path).sha256 == first
    edit(path, 'sampling: {ratio: "5%"}', 'sampling: {ratio: "6%"}')
    assert load_policy(path).sha256 != first


def test_item_list_change_changes_the_sha256(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    first = load_policy(path).sha256
    edit(policy_tree / "items" / "demo-2023.yaml", "计量标准的监督检查", "计量标准的检查")
    assert load_policy(path).sha256 != first


def test_visit_items_in_task_order_then_one_plus_x_then_general_items():
    loaded = load_policy(POLICY_FIXTURES / "city" / "2023.yaml")
    assert loaded.visit_items(["t02", "t01"]) == ["J01", "S01", "J02", "A99"]
    assert loaded.visit_items(["t03"]) == ["G01", "A99"]
    with pytest.raises(SpotcheckError) as exc:
        loaded.visit_items(["t09"])
    assert exc.value.problems[0].code == "P403"


def test_general_items_only_when_fused(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, "fuse_general_items: true", "fuse_general_items: false")
    assert load_policy(path).visit_items(["t03"]) == ["G01"]


def test_file_kinds_by_location():
    assert file_kind(Path("policies/hebei/items/2023.yaml")) == ITEM_LIST
    assert file_kind(Path("policies/calendars/2027.yaml")) == CALENDAR
    assert file_kind(Path("policies/shanxi/shuozhou/2021.cases.yaml")) == CASES
    assert file_kind(Path("policies/shanxi/shuozhou/2021.yaml")) == POLICY
    assert file_kind(Path("/home/calendars/repo/policies/x/2021.yaml")) == POLICY
    assert file_kind(Path("policies/README.md")) is None


# ---------------------------------------------------------------- chains and referenced files


def test_extends_cycle_and_missing_parent(policy_tree):
    base = policy_tree / "national" / "baseline.yaml"
    edit(base, "id: fixture/national/baseline", "id: fixture/national/baseline\nextends: ../city/2023.yaml")
    problems = policy_problems(policy_tree / "city" / "2023.yaml")
    assert [p.code for p in problems] == ["P302"]
    assert "循环" in problems[0].message and problems[0].line == line_of(base, "extends:")
    edit(base, "extends: ../city/2023.yaml", "extends: ../nowhere.yaml")
    (p,) = policy_problems(base)
    assert p.code == "P303" and "nowhere.yaml" in p.message


def test_a_policys_test_cases_given_as_the_policy_are_one_problem_naming_the_policy(policy_tree):
    cases = policy_tree / "city" / "2023.cases.yaml"
    with pytest.raises(SpotcheckError) as raised:
        load_policy(cases)
    (p,) = raised.value.problems  # not five: its keys checked as a policy's
    assert p.code == "P107" and p.file == str(cases)
    assert str(policy_tree / "city" / "2023.yaml") in p.hint and f"spotcheck test {cases}" in p.hint


def test_missing_item_list_file(policy_tree):
    city = policy_tree / "city" / "2023.yaml"
    edit(city, "item_lists: [../items/demo-2023.yaml]", "item_lists: [../items/demo-2030.yaml]")
    (p,) = policy_problems(city)
    assert p.code == "P304" and p.line == line_of(city, "item_lists")


def test_all_problems_of_a_file_are_raised_together(policy_tree):
    city = policy_tree / "city" / "2023.yaml"
    edit(city, "fuse_general_items: true", "fuse_general_items: no")
    edit(city, "    no: 2\n", "    no: two\n")
    edit(city, "items: [G01]", "items: [G09]")
    assert sorted(p.code for p in policy_problems(city)) == ["P112", "P112", "P203"]


def test_session_reads_each_file_once(policy_tree, monkeypatch):
    import spotcheck.policy.loader as loader

    calls = []
    real = loader.parse_yaml
    monkeypatch.setattr(loader, "parse_yaml", lambda p: calls.append(p) or real(p))
    session = Session()
    for name in ("2022.yaml", "2023.yaml"):
        assert session.policy(policy_tree / "city" / name).loaded is not None
    assert sorted(Path(c).name for c in calls) == ["2022.yaml", "2023.yaml", "baseline.yaml", "demo-2022.yaml",
                                                   "demo-2023.yaml"]


def test_item_list_duplicate_code(policy_tree):
    path = policy_tree / "items" / "demo-2023.yaml"
    edit(path, "code: G01", "code: J02")
    with pytest.raises(SpotcheckError) as exc:
        load_item_list(path)
    (p,) = exc.value.problems
    assert p.code == "P215" and p.line == line_of(path, "code: J02", after=line_of(path, "code: J02"))
