"""The CLI's shared pieces: usage errors in Chinese, existing-path checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from spotcheck.cli import main


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_a_missing_file_is_named_in_chinese(tmp_path):
    result = run("verify", str(tmp_path), "--entities", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2
    assert "文件" in result.output and "nope.csv" in result.output and "不存在" in result.output
    assert "用法" in result.output and "Usage:" not in result.output


def test_a_directory_where_a_file_is_wanted(tmp_path):
    result = run("deadline", "--from", "2023-09-25", "--working-days", "5", "--policy", str(tmp_path))
    assert result.exit_code == 2 and "不是文件" in result.output


def test_unknown_option_and_missing_option(tmp_path):
    assert "没有选项 --nope" in run("draw", "--nope").output
    result = run("draw", str(tmp_path / "x.yaml"))
    assert result.exit_code == 2 and ("缺少参数" in result.output or "不存在" in result.output)


def test_help_pages_are_chinese():
    for args in ((), ("results",), ("draw",)):
        page = run(*args, "--help").output
        assert page.startswith("用法：") and "选项" in page and "显示本说明并退出" in page
        assert "Usage:" not in page and "Show this message" not in page
    assert "命令" in run("--help").output
    for group in ((), ("ledger",), ("results",)):
        assert "COMMAND" not in run(*group, "--help").output.splitlines()[0], group


def _commands(group, path=()):
    import click

    for name in group.list_commands(None):
        command = group.get_command(None, name)
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


def test_help_pages_have_no_english_brackets_and_describe_every_argument():
    import click
    from spotcheck.cli.common import ARGUMENTS

    for path, command in _commands(main):
        for param in command.params:
            if isinstance(param, click.Argument):
                assert ARGUMENTS.get(param.name), f"spotcheck {' '.join(path)}: argument {param.name} has no description"
        page = run(*path, "--help").output
        for english in ("default:", "required]", "[OPTIONS]", "Usage:", "Options:"):
            assert english not in page, (path, english)
    page = run("teams", "reassign", "--help").output
    assert "[必填]" in page and "默认：" in page and "参数" in page and "DRAW_DIR  抽取结果目录" in page


def test_unknown_command_in_chinese_with_a_guess():
    result = run("drow")
    assert result.exit_code == 2
    assert "没有命令 'drow'，是否想写 draw？" in result.output and "No such command" not in result.output
    result = run("results", "aprove")
    assert "是否想写 approve" in result.output


def test_click_value_errors_are_said_in_chinese():
    """Ranges, numbers and choices are click's own checks, with English words of their own."""
    from conftest import SHUOZHOU

    for args, words in [
        (("draw", str(SHUOZHOU), "--entities", str(SHUOZHOU), "--task", "t01", "--round", "0"), "0 不在允许的范围"),
        (("draw", str(SHUOZHOU), "--entities", str(SHUOZHOU), "--task", "t01", "--round", "x"), "'x' 不是整数"),
        (("year", str(SHUOZHOU), "--format", "pdf"), "'pdf' 不是可选的值"),
    ]:
        result = run(*args)
        assert result.exit_code == 2 and words in result.output, result.output
        assert "is not" not in result.output and "range" not in result.output.replace("x>=1", "")


def test_each_command_is_named_once_with_the_module_defining_it():
    import importlib
    import pkgutil

    import spotcheck.cli as cli

    modules = [f"spotcheck.cli.{m.name}" for m in pkgutil.iter_modules(cli.__path__) if m.name.endswith("_cmd")]
    for module in modules:
        importlib.import_module(module)
    defined = {name: command.callback.__module__ for name, command in main.commands.items()}
    assert defined == main.modules and set(main.modules.values()) == set(modules)


def test_a_command_imports_only_its_own_stage(tmp_path):
    import subprocess
    import sys

    policy = Path(__file__).parents[2] / "policies/shanxi/shuozhou/2021.yaml"
    script = ("import sys\nfrom spotcheck.cli import main\ntry:\n    main(['validate', sys.argv[1]])\n"
              "except SystemExit as exc:\n    print(exc.code, *sorted(m for m in sys.modules if m.startswith('spotcheck.')))")
    done = subprocess.run([sys.executable, "-c", script, str(policy)], capture_output=True, text=True, check=True)
    code, *loaded = done.stdout.splitlines()[-1].split()
    assert code == "0" and "spotcheck.cli.policy_cmd" in loaded
    assert not {"spotcheck.cli.teams_cmd", "spotcheck.plan.workplan", "spotcheck.notices.api", "spotcheck.site.build"} & set(loaded)



def test_the_list_of_commands_is_read_without_importing_them():
    """`spotcheck --help` lists every command from its module's source, as the command itself would say it, and
    imports none of the command modules (each brings its stage's libraries: about 0.8 s for all of them)."""
    import json
    import subprocess
    import sys

    script = """
import contextlib, io, json, sys
from spotcheck.cli import main

def page():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            main(["--help"])
        except SystemExit:
            pass
    return out.getvalue()

lazy = page()
imported = sorted(m for m in sys.modules if m.startswith("spotcheck.cli.") and m.endswith("_cmd"))
for name in main.list_commands(None):
    main.get_command(None, name)
print(json.dumps([lazy, page(), imported]))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    lazy, loaded, imported = json.loads(done.stdout.splitlines()[-1])
    assert imported == [] and "命令：" in lazy
    assert lazy == loaded  # the lines the commands themselves give, once imported
    assert all(f"\n  {name} " in lazy for name in main.modules)


def test_a_command_declared_otherwise_is_imported_to_be_listed():
    from spotcheck.cli import helptext

    source = ('@main.command("a")\ndef a():\n    """甲。乙。"""\n\n\n@main.command("b", short_help="丙")\ndef b():\n    """丁。"""\n\n\n'
              '@main.command("c")\ndef c():\n    pass\n')
    assert helptext.declared_summaries(source) == {"a": "甲。"}

@pytest.mark.parametrize("raised, code", [(KeyboardInterrupt, 130), (EOFError, 1)])
def test_ctrl_c_exits_130_and_a_closed_prompt_1(monkeypatch, capsys, raised, code):
    def interrupted(*args, **kwargs):
        raise raised

    monkeypatch.setattr("spotcheck.cli.calendar_cmd.count_due", interrupted)
    with pytest.raises(SystemExit) as exited:
        main.main(["deadline", "--from", "2023-09-25", "--working-days", "5"], prog_name="spotcheck")
    assert exited.value.code == code and "已中止" in capsys.readouterr().err
