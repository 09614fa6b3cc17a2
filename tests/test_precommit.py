"""The hooks through pre-commit itself, in a bureau's repository as `spotcheck init` writes it: they pass on
good policies and fail, naming file:line, on a broken one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from spotcheck.starter import HOOKS, Starter, init

from conftest import ROOT, edit, line_of

POLICY = "policies/hebei/qinhuangdao/2026.yaml"


def test_the_starter_hooks_are_the_repositorys_hooks():
    """`init` writes this repository's hooks as local hooks: same ids, names, entries, files."""
    published = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text("utf-8"))
    assert [(h["id"], h["name"], h["entry"]) for h in published] == list(HOOKS)
    assert {(h["files"], h["pass_filenames"]) for h in published} == {(r"^policies/.*\.yaml$", False)}


@pytest.fixture
def repository(tmp_path) -> Path:
    """A git repository with the starter in it, every file added."""
    repo = tmp_path / "bureau"
    init(repo, Starter(province="hebei", city="qinhuangdao", region="秦皇岛市", code="130300", year=2026))
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    return repo


def pre_commit(repo: Path) -> subprocess.CompletedProcess[str]:
    # The hooks run the spotcheck of this interpreter's environment; pre-commit keeps its state in tmp.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "PRE_COMMIT_HOME": str(repo.parent / "pre-commit-home")}
    return subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files", "--color", "never"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=300)


def test_the_hooks_pass_on_good_policies_and_name_file_and_line_on_a_broken_one(repository):
    good = pre_commit(repository)
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.count("Passed") == 2
    policy = repository / POLICY
    edit(policy, "year: 2026", "year: 二〇二六")
    subprocess.run(["git", "-C", str(repository), "add", "-A"], check=True)
    broken = pre_commit(repository)
    assert broken.returncode == 1
    assert f"{POLICY}:{line_of(policy, 'year:')}:7: P112" in broken.stdout, broken.stdout
