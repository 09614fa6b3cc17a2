import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from spotcheck.cli import main

FIXTURES = Path(__file__).parent.parent / "fixtures" / "policies"
ROOT = Path(__file__).parent.parent.parent


@pytest.fixture
def tree(tmp_path, monkeypatch):
    shutil.copytree(FIXTURES, tmp_path / "tests" / "fixtures" / "policies")
    shutil.copytree(ROOT / "validators", tmp_path / "validators")
    monkeypatch.chdir(tmp_path)
    return Path("tests/fixtures/policies")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def break_ratio(tree: Path) -> Path:
    path = tree / "city" / "2023.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace('ratio: "100%"', 'ratio: "150%"', 1), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def test_validate_clean_tree(tree):
    result = run("validate", tree)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "通过：已检查 8 个文件（策略 3 个、事项清单 2 个、测试用例 3 个），未发现问题"


def test_validate_reports_problems_in_each_format(tree):
    path = break_ratio(tree)
    line = line_of(path, "150%")
    text = run("validate", tree)
    assert text.exit_code == 1
    assert f"{path}:{line}:23: P112 比例 150% 超过 100%" in text.stderr
    assert "未通过：8 个文件中发现 1 个问题" in text.stderr
    as_json = run("validate", "--format", "json", tree)
    assert as_json.exit_code == 1
    assert [(p["code"], p["line"]) for p in json.loads(as_json.stdout)] == [("P112", line)]
    github = run("validate", "--format", "github", tree)
    assert github.exit_code == 1
    assert github.stdout.startswith(f"::error file={path},line={line},col=23::P112 比例 150%25 超过 100%25")


def test_validate_json_when_clean_is_an_empty_list(tree):
    result = run("validate", "--format", "json", tree / "city" / "2023.yaml")
    assert result.exit_code == 0 and json.loads(result.stdout) == []


def test_diff_text_and_json():
    old, new = FIXTURES / "city" / "2022.yaml", FIXTURES / "city" / "2023.yaml"
    text = run("diff", old, new)
    assert text.exit_code == 0
    assert "· 任务“对拍卖企业拍卖活动经营资格的双随机抽查”抽查比例 不低于50% → 100%" in text.stdout.splitlines()
    as_json = json.loads(run("diff", "--format", "json", old, new).stdout)
    assert [c["kind"] for c in as_json] == ["task_added", "task", "item"]


def test_diff_of_a_broken_policy_exits_1(tree):
    break_ratio(tree)
    result = run("diff", tree / "city" / "2022.yaml", tree / "city" / "2023.yaml")
    assert result.exit_code == 1 and "P112" in result.stderr


def test_test_command(tree):
    ok = run("test", tree)
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.strip() == "10 passed, 0 failed"
    cases = tree / "city" / "2022.cases.yaml"
    cases.write_text(cases.read_text(encoding="utf-8").replace('ratio: {t02: "50%"}', 'ratio: {t02: "40%"}'),
                     encoding="utf-8")
    failed = run("test", tree)
    assert failed.exit_code == 1
    assert f"{cases}:4: 用例“拍卖企业按50%抽取”未通过" in failed.stdout
    assert failed.stdout.strip().endswith("9 passed, 1 failed")
    cases.unlink()
    missing = run("test", tree)
    assert missing.exit_code == 1 and "P402" in missing.stderr
    assert missing.stdout.strip().endswith("9 passed, 0 failed, 1 problems")


def test_schema_check_and_export(tmp_path):
    assert run("schema", "check").exit_code == 0
    drifted = run("schema", "check", "--dir", tmp_path)
    assert drifted.exit_code == 1 and "P191" in drifted.stderr
    assert run("schema", "export", "--dir", tmp_path).exit_code == 0
    assert run("schema", "check", "--dir", tmp_path).exit_code == 0
