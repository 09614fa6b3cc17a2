"""A bureau's repository, outside this checkout, reaching bundled policies by `spotcheck:` names."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from spotcheck.policy import validate as validate_module
from spotcheck.policy.loader import load_policy
from spotcheck.policy.validate import validate_paths
from spotcheck.resources import POLICIES, bundled_file, bundled_name, policy_file

from conftest import ROOT, edit, line_of, policy_problems

CHILD = """\
# yaml-language-server: $schema=../validators/policy.schema.json
id: bureau/2024
extends: spotcheck:hebei/qinhuangdao/2024
year: 2024
jurisdiction: {code: "130300", name: 秦皇岛市市场监督管理局, region: 秦皇岛市, short: 秦市监, level: city}
"""


@pytest.fixture
def bureau(tmp_path, monkeypatch) -> Path:
    """A bureau's repository: policies/ and its own validators/, nowhere near the bundled policies."""
    (tmp_path / "policies").mkdir()
    shutil.copytree(ROOT / "validators", tmp_path / "validators")
    (tmp_path / "policies" / "2024.yaml").write_text(CHILD, "utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "policies" / "2024.yaml"


def test_a_bundled_parent_by_name_and_its_item_lists_by_name(bureau):
    loaded = load_policy(bureau)
    assert loaded.chain[-2] == POLICIES / "hebei/qinhuangdao/2024.yaml"
    # Inherited item lists are written by name, so the resolved policy (and a draw's commitment)
    # does not depend on where spotcheck is installed.
    assert loaded.policy.item_lists == ["spotcheck:hebei/items/2024"]
    assert [t.id for t in loaded.policy.tasks] == ["t01"]
    assert validate_paths([bureau.parent]) == []


def test_the_same_parent_by_relative_path_gives_the_same_policy(bureau):
    by_name = load_policy(bureau)
    edit(bureau, "spotcheck:hebei/qinhuangdao/2024", os.path.relpath(POLICIES / "hebei/qinhuangdao/2024.yaml", bureau.parent))
    by_path = load_policy(bureau)
    assert by_path.chain == by_name.chain
    assert by_path.policy.model_copy(update={"extends": None}) == by_name.policy.model_copy(update={"extends": None})


def test_an_unknown_bundled_name_is_located_and_suggests_the_closest(bureau):
    edit(bureau, "spotcheck:hebei/qinhuangdao/2024", "spotcheck:hebei/qinhuangdo/2024")
    (p,) = policy_problems(bureau)
    assert p.code == "P309" and p.line == line_of(bureau, "extends:") and p.where == "extends"
    assert "是否想写 'spotcheck:hebei/qinhuangdao/2024'" in p.message and "spotcheck:hebei/baseline" in p.hint


@pytest.mark.parametrize("name", ["spotcheck:../../../etc/passwd", "spotcheck:/etc/passwd", "spotcheck:"])
def test_a_bundled_name_cannot_leave_the_bundled_policies(bureau, name):
    edit(bureau, "spotcheck:hebei/qinhuangdao/2024", f'"{name}"')
    assert [p.code for p in policy_problems(bureau)] == ["P309"]


def test_item_lists_and_calendars_take_bundled_names_too(bureau):
    edit(bureau, "year: 2024", "year: 2024\nitem_lists: [spotcheck:hebei/items/2024]\ncalendars: [spotcheck:calendars/nowhere]")
    (p,) = policy_problems(bureau)
    assert p.code == "P309" and p.line == line_of(bureau, "calendars:") and "节假日安排" in p.message
    edit(bureau, "spotcheck:calendars/nowhere", "spotcheck:calendars/examples/2023")
    assert load_policy(bureau).policy.item_lists == ["spotcheck:hebei/items/2024"]


def test_names_and_files_round_trip():
    path = POLICIES / "hebei/baseline.yaml"
    assert bundled_name(path) == "spotcheck:hebei/baseline"
    assert bundled_file("hebei/baseline") == path
    assert bundled_name(POLICIES) is None and bundled_name(ROOT / "README.md") is None


def test_schema_header_in_a_bureau_repository(bureau):
    assert validate_paths([bureau]) == []
    shutil.rmtree(bureau.parent.parent / "validators")
    (p,) = validate_paths([bureau])
    assert p.code == "P190" and p.line == 1 and "指向的文件不存在" in p.message
    assert "spotcheck schema export --out validators" in p.hint


def test_schema_header_into_the_installed_package_is_refused(bureau, monkeypatch):
    # As from a wheel: the schemas the header points at are inside the installed package.
    monkeypatch.setattr(validate_module, "PACKAGE", bureau.parent.parent / "validators")
    (p,) = validate_paths([bureau])
    assert p.code == "P190" and "安装目录" in p.message
    # The bundled policies themselves, inside the installed package, point at its schemas.
    monkeypatch.setattr(validate_module, "PACKAGE", bureau.parent.parent)
    assert validate_paths([bureau]) == []


def test_a_policy_id_is_found_in_the_working_folder_before_the_bundled_policies(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert policy_file("hebei/qinhuangdao/2024") == POLICIES / "hebei/qinhuangdao/2024.yaml"
    own = tmp_path / "policies" / "hebei" / "qinhuangdao" / "2024.yaml"
    own.parent.mkdir(parents=True)
    own.write_text(CHILD, "utf-8")
    assert policy_file("hebei/qinhuangdao/2024") == Path("policies/hebei/qinhuangdao/2024.yaml")
    assert policy_file("hebei/baseline") == POLICIES / "hebei/baseline.yaml"
