"""`spotcheck site` and `spotcheck lodge` from the command line."""

from __future__ import annotations

from click.testing import CliRunner
from conftest import SITE_POLICIES
from spotcheck.cli import main


def test_site_command_builds_and_says_what_it_built(site_year, tmp_path):
    out = tmp_path / "site"
    result = CliRunner().invoke(main, ["site", "--ledger", str(site_year.ledger), "--policies", str(SITE_POLICIES), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 项抽查任务" in result.output and "最大文件" in result.output
    assert (out / "index.html").is_file()


def test_site_command_without_the_draws_policy_exits_1(site_year, tmp_path):
    result = CliRunner().invoke(main, ["site", "--ledger", str(site_year.ledger), "--out", str(tmp_path / "site")])
    assert result.exit_code == 1 and "W901" in result.output
    assert not (tmp_path / "site").exists()


def test_lodge_command_names_the_verify_command(site_year, tmp_path):
    out = tmp_path / "lodged"
    result = CliRunner().invoke(main, ["lodge", "--ledger", str(site_year.ledger), "--draw", str(site_year.draw),
                                       "--entities", str(site_year.data / "entities.csv"), "--to", "驻局纪检监察组", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"spotcheck verify {out}" in result.output and "驻局纪检监察组" in (out / "说明.txt").read_text("utf-8")
