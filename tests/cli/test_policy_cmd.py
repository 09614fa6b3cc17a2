import json
from pathlib import Path

from click.testing import CliRunner
from conftest import POLICY_FIXTURES, edit, line_of
from spotcheck.cli import main


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def break_ratio(tree: Path) -> Path:
    path = tree / "city" / "2023.yaml"
    edit(path, 'ratio: "100%"', 'ratio: "150%"')
    return path


def test_validate_clean_tree(policy_tree):
    result = run("validate", policy_tree)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "通过：已检查 8 个文件（策略 3 个、事项清单 2 个、测试用例 3 个），未发现问题"


def test_validate_reports_problems_in_each_format(policy_tree):
    path = break_ratio(policy_tree)
    line = line_of(path, "150%")
    text = run("validate", policy_tree)
    assert text.exit_code == 1
    assert f"{path}:{line}:23: P112 比例 150% 超过 100%" in text.stderr
    assert "未通过：8 个文件中发现 1 个问题" in text.stderr
    as_json = run("validate", "--format", "json", policy_tree)
    assert as_json.exit_code == 1
    assert [(p["code"], p["line"]) for p in json.loads(as_json.stdout)] == [("P112", line)]
    github = run("validate", "--format", "github", policy_tree)
    assert github.exit_code == 1
    assert github.stdout.startswith(f"::error file={path},line={line},col=23::P112 比例 150%25 超过 100%25")


def test_validate_json_when_clean_is_an_empty_list(policy_tree):
    result = run("validate", "--format", "json", policy_tree / "city" / "2023.yaml")
    assert result.exit_code == 0 and json.loads(result.stdout) == []


def test_diff_text_and_json():
    old, new = POLICY_FIXTURES / "city" / "2022.yaml", POLICY_FIXTURES / "city" / "2023.yaml"
    text = run("diff", old, new)
    assert text.exit_code == 0
    assert "· 任务“对拍卖企业拍卖活动经营资格的双随机抽查”抽查比例 不低于50% → 100%" in text.stdout.splitlines()
    as_json = json.loads(run("diff", "--format", "json", old, new).stdout)
    assert [c["kind"] for c in as_json] == ["task_added", "task", "item"]


def test_diff_of_a_broken_policy_exits_1(policy_tree):
    break_ratio(policy_tree)
    result = run("diff", policy_tree / "city" / "2022.yaml", policy_tree / "city" / "2023.yaml")
    assert result.exit_code == 1 and "P112" in result.stderr


def test_test_command(policy_tree):
    ok = run("test", policy_tree)
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.strip() == "通过 10 个，未通过 0 个"
    cases = policy_tree / "city" / "2022.cases.yaml"
    edit(cases, 'ratio: {t02: "50%"}', 'ratio: {t02: "40%"}')
    failed = run("test", policy_tree)
    assert failed.exit_code == 1
    assert f"{cases}:4: 用例“拍卖企业按50%抽取”未通过" in failed.stdout
    assert failed.stdout.strip().endswith("通过 9 个，未通过 1 个")
    cases.unlink()
    missing = run("test", policy_tree)
    assert missing.exit_code == 1 and "P402" in missing.stderr
    assert missing.stdout.strip().endswith("通过 9 个，未通过 0 个，另有 1 个文件问题")


def test_schema_check_and_export(tmp_path):
    assert run("schema", "check").exit_code == 0
    drifted = run("schema", "check", "--dir", tmp_path)
    assert drifted.exit_code == 1 and "P191" in drifted.stderr
    assert run("schema", "export", "--dir", tmp_path).exit_code == 0
    assert run("schema", "check", "--dir", tmp_path).exit_code == 0
