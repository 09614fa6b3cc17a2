"""One release number (pyproject.toml, read back from the package metadata) and an engine version that
follows every change to the code."""

from __future__ import annotations

import shutil
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import spotcheck
from click.testing import CliRunner
from spotcheck.cli import main
from spotcheck.draw.commitment import check_inputs, make_commitment
from spotcheck.errors import SpotcheckError
from spotcheck.version import __version__, engine_version, source_digest

from conftest import ROOT

PACKAGE = Path(spotcheck.__file__).parent


def test_the_release_comes_from_pyproject_through_the_metadata():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    assert spotcheck.__version__ == __version__ == metadata.version("spotcheck") == declared


def test_the_engine_version_is_the_release_and_the_source_digest():
    release, digest = engine_version().split("+")
    assert release == __version__ and digest == source_digest()[:12] and len(digest) == 12


def test_the_digest_follows_every_source_file_and_nothing_else(tmp_path):
    copy = tmp_path / "spotcheck"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "data"))
    assert source_digest(copy) == source_digest()
    (copy / "data" / "policies").mkdir(parents=True)
    (copy / "data" / "policies" / "x.py").write_text("# data, not code\n", "utf-8")
    (copy / "notes.txt").write_text("不是代码\n", "utf-8")
    assert source_digest.__wrapped__(copy) == source_digest()
    module = copy / "draw" / "allocation.py"
    module.write_bytes(module.read_bytes() + b"\n")
    assert source_digest.__wrapped__(copy) != source_digest()
    module.rename(copy / "draw" / "allocation2.py")
    assert source_digest.__wrapped__(copy) != source_digest()


def test_a_commitment_made_by_other_code_of_the_same_release_is_refused():
    inputs = {"policy_sha256": "a" * 64, "entities_sha256": "b" * 64, "history_sha256": "c" * 64}
    body = make_commitment(**inputs, beacon="双色球2023130期开奖号码", drawn_on="2023-11-13", reveal_as="numbers:6+1").body
    assert body["engine_version"] == engine_version()
    with pytest.raises(SpotcheckError) as exc:
        check_inputs({**body, "engine_version": f"{__version__}+000000000000"}, **inputs)
    assert [p.code for p in exc.value.problems] == ["R503"]


def test_version_option_shows_both():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"spotcheck {__version__}（引擎版本 {engine_version()}）"
