"""spotcheck as a bureau installs it: the wheel built from this checkout, in a fresh virtual environment
that cannot see the checkout, used from an empty folder. The wheel is built and installed once."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from spotcheck.version import engine_version

from conftest import ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The bin/ folder of a new virtual environment (no system site-packages) holding only the wheel and
    its dependencies (pip's cache serves them after the first run)."""
    where = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(ROOT), "-w", str(where / "dist")],
                   check=True, capture_output=True)
    (wheel,) = (where / "dist").glob("spotcheck-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(where / "venv")], check=True)
    bin_dir = where / "venv" / "bin"
    subprocess.run([bin_dir / "python", "-m", "pip", "install", "-q", str(wheel)], check=True, capture_output=True)
    return bin_dir


def spotcheck(bin_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "SPOTCHECK_LEDGER")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run([bin_dir / "spotcheck", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"spotcheck {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


def test_a_bureau_uses_the_installed_wheel_from_an_empty_folder(installed, tmp_path):
    python = installed / "python"
    where = subprocess.run([python, "-c", "import spotcheck, spotcheck.resources as r; print(spotcheck.__file__); print(r.POLICIES)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout.split()
    assert all(Path(p).is_relative_to(installed.parent) for p in where), where  # not the checkout
    # The same source gives the same engine version, installed or editable.
    assert spotcheck(installed, tmp_path, "--version").stdout.strip().endswith(f"（引擎版本 {engine_version()}）")
    # With no policies/ here, validate and test check the bundled policies.
    assert "未发现问题" in spotcheck(installed, tmp_path, "validate").stdout
    spotcheck(installed, tmp_path, "init", "--province", "hebei", "--city", "qinhuangdao", "--region", "秦皇岛市",
              "--code", "130300", "--year", "2026")
    assert "未发现问题" in spotcheck(installed, tmp_path, "validate").stdout
    assert spotcheck(installed, tmp_path, "test").stdout.strip().endswith("通过 4 个，未通过 0 个")
    spotcheck(installed, tmp_path, "notice", "policies/hebei/qinhuangdao/2026.yaml", "--format", "docx", "--out", "通知.docx")
    assert zipfile.is_zipfile(tmp_path / "通知.docx")
    spotcheck(installed, tmp_path, "demo", "--out", "d", "--entities", "1000", "--inspectors", "100")
    assert (tmp_path / "d" / "notices" / "plan-notice.docx").is_file() and (tmp_path / "d" / "report" / "report.html").is_file()


def test_the_built_wheel_holds_every_data_file(installed):
    """policies/, templates/ and validators/ of the checkout, file for file, under spotcheck/data/."""
    wheel = next((installed.parent.parent / "dist").glob("spotcheck-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        names = {n for n in z.namelist() if n.startswith("spotcheck/data/")}
    expected = {f"spotcheck/data/{folder}/{path.relative_to(ROOT / folder).as_posix()}"
                for folder in ("policies", "templates", "validators") for path in (ROOT / folder).rglob("*") if path.is_file()}
    assert "spotcheck/data/policies/hebei/baseline.yaml" in expected and names == expected
