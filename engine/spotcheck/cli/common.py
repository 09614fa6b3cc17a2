"""What every command shares: the `spotcheck` group, the options several commands take (--ledger,
--policy, --today, --draw), and the one place a command's exit code becomes the process's exit
(ChineseGroup.main): commands raise SpotcheckError (printed, exit 1) or call `finish(code)`."""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import importlib
import importlib.util
import re
import sys
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn, TypeVar

import click
from spotcheck.cli import helptext
from spotcheck.version import __version__, engine_version
from spotcheck.errors import SpotcheckError, format_problems
from spotcheck.ledger.store import DEFAULT_PATH
from spotcheck.progress import silent

F = TypeVar("F", bound=Callable)
PRINT_LIMIT = 50  # problems printed before "……另有 N 个问题"


def finish(code: int) -> NoReturn:
    """End the command with this exit code (0 ok, 1 problems found in the input, 2 usage)."""
    raise click.exceptions.Exit(code)


def reports_problems(fn: F) -> F:
    """Print a SpotcheckError's problems (first PRINT_LIMIT, with a count of the rest) and exit 1; a
    command with a --format option gets them in that format."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except SpotcheckError as exc:
            fmt = kwargs.get("fmt") if kwargs.get("fmt") in ("json", "github") else "text"
            click.echo(format_problems(exc.problems, fmt=fmt, limit=PRINT_LIMIT if fmt == "text" else None), err=True)
            finish(1)

    return wrapper  # type: ignore[return-value]


class ExistingPath(click.Path):
    """click.Path that complains in Chinese."""

    def __init__(self, *, directory: bool = False) -> None:
        super().__init__(exists=True, file_okay=not directory, dir_okay=directory, path_type=Path)
        self.directory = directory

    def convert(self, value, param, ctx):
        path = Path(value)
        what = "目录" if self.directory else "文件"
        if not path.exists():
            self.fail(f"{what} '{value}' 不存在", param, ctx)
        if path.is_dir() != self.directory:
            self.fail(f"'{value}' 不是{what}", param, ctx)
        return path


FILE = ExistingPath()
DIRECTORY = ExistingPath(directory=True)


# What each positional argument is, for the help page's 参数 section (click gives arguments no help text).
ARGUMENTS = {
    "policy": "策略文件（YAML），如 policies/shanxi/shuozhou/2021.yaml",
    "paths": "要检查的文件或目录，可写多个；省略时为 policies/",
    "old": "旧的策略文件（如上一年度的）",
    "new": "新的策略文件（如本年度的）",
    "draw_dir": "抽取结果目录（spotcheck draw 的 --out 目录）",
    "draw_dirs": "抽取结果目录，可写多个（如本年度的各次抽取）",
    "results_file": "检查结果文件（CSV 或 XLSX，格式见 docs/results.md）",
    "visit_id": "检查编号（visits.csv 的“检查编号”列，如 V334d8a47f5420b45）",
    "folder": "新建的本单位策略仓库目录（默认当前目录）",
    "history_file": "往年（或其他系统）的检查记录文件（CSV：统一社会信用代码、检查日期或年度，可选 检查事项、抽查任务）",
}


_USAGE_WORDS = {"[OPTIONS]": "[选项]", "COMMAND": "命令", "[ARGS]...": "[参数]...", "COMMAND [ARGS]...": "命令 [参数]..."}


def option_help(param: click.Option, ctx: click.Context) -> tuple[str, str] | None:
    """click's help record with its bracketed extras ([default: …; required]) in Chinese."""
    record = param.get_help_record(ctx)
    if record is None:
        return None
    extra = param.get_help_extra(ctx)
    items = []
    if "envvars" in extra:
        items.append(f"环境变量：{'、'.join(extra['envvars'])}")
    if "default" in extra:
        items.append(f"默认：{extra['default']}")
    if "range" in extra:
        items.append(f"范围：{extra['range']}")
    if "required" in extra:
        items.append("必填")
    text = param.help or ""
    if items:
        text = f"{text}  [{'；'.join(items)}]" if text else f"[{'；'.join(items)}]"
    return record[0], text


def ledger_option(fn: F) -> F:
    """--ledger: the ledger file, from the environment when not given."""
    return click.option(
        "--ledger", "ledger_path", default=DEFAULT_PATH, envvar="SPOTCHECK_LEDGER", show_default=True,
        type=click.Path(dir_okay=False, path_type=Path), help="台账文件（SQLite；也可用环境变量 SPOTCHECK_LEDGER）",
    )(fn)


def policy_option(help: str = "策略文件（默认按抽取记录中的策略标识在 policies/ 中查找）", **kwargs) -> Callable[[F], F]:
    """--policy: a policy file; commands reading a draw folder default to the policy the draw recorded."""
    return click.option("--policy", "policy_path", type=FILE, help=help, **kwargs)


def today_option(fn: F) -> F:
    """--today: the day counted as today, for entering late and for checking."""
    return click.option("--today", type=Day(), help="以该日为今天（补录、核对时用；默认今天）")(fn)


def draw_option(help: str = "抽取结果目录（spotcheck draw 的输出）", **kwargs) -> Callable[[F], F]:
    """--draw: a draw folder."""
    return click.option("--draw", "draw_dir" if not kwargs.get("multiple") else "draw_dirs", type=DIRECTORY,
                        help=help, **kwargs)


class _ChineseHelp:
    """Help pages in Chinese: click writes its headings, its [default: …] and the help option's text in English,
    and wraps lines by characters (helptext wraps them by columns)."""

    context_class = helptext.Context

    def format_usage(self, ctx, formatter) -> None:
        pieces = [_USAGE_WORDS.get(p, p) for p in self.collect_usage_pieces(ctx)]
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix="用法：")

    def format_options(self, ctx, formatter) -> None:
        arguments = [(p.make_metavar(ctx), ARGUMENTS.get(p.name, "")) for p in self.get_params(ctx)
                     if isinstance(p, click.Argument)]
        if arguments:
            with formatter.section("参数"):
                formatter.write_dl(arguments)
        records = [r for p in self.get_params(ctx) if isinstance(p, click.Option) and (r := option_help(p, ctx))]
        if records:
            with formatter.section("选项"):
                formatter.write_dl(records)
        if isinstance(self, click.Group):
            self.format_commands(ctx, formatter)

    def format_commands(self, ctx, formatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name not in self.commands and (line := self._declared(name)) is not None:
                rows.append((name, line))
                continue
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, helptext.short_help(cmd)))
        if rows:
            with formatter.section("命令"):
                formatter.write_dl(rows)

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = "显示本说明并退出。"
        return option


@functools.cache
def _declared_in(module: str) -> dict[str, str]:
    """helptext.declared_summaries of a module found but not imported (none when its source cannot be read)."""
    spec = importlib.util.find_spec(module)
    try:
        return helptext.declared_summaries(Path(spec.origin).read_text(encoding="utf-8")) if spec and spec.origin else {}
    except (OSError, SyntaxError, UnicodeDecodeError):
        return {}


class ChineseCommand(_ChineseHelp, click.Command):
    pass


class ChineseGroup(_ChineseHelp, click.Group):
    """Usage errors and help pages in Chinese: click's own words are English, and officers read Chinese."""

    command_class = ChineseCommand
    group_class = type  # subgroups are ChineseGroup too

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.modules: dict[str, str] = {}

    def load_lazily(self, modules: Mapping[str, str]) -> None:
        """Commands (name → the module defining them) imported when first named: a command imports only its
        own stage, not every stage's libraries (the plan's solver, Word, the site) on each run."""
        self.modules.update(modules)

    def list_commands(self, ctx) -> list[str]:
        return sorted({*self.commands, *self.modules})

    def _declared(self, name: str) -> str | None:
        """A command not yet imported, as the list of commands shows it, read from its module's source (None:
        import it to know)."""
        module = self.modules.get(name)
        return _declared_in(module).get(name) if module else None

    def get_command(self, ctx, name):
        if name not in self.commands and name in self.modules:
            importlib.import_module(self.modules[name])
        return super().get_command(ctx, name)

    def resolve_command(self, ctx, args):
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None and not ctx.resilient_parsing:
            known = self.list_commands(ctx)
            close = difflib.get_close_matches(name, known, n=3)
            ctx.fail(f"没有命令 '{name}'，" + (f"是否想写 {'、'.join(close)}？" if close else f"可用命令：{'、'.join(known)}"))
        return super().resolve_command(ctx, args)

    def main(self, *args, **kwargs):
        """The one place the process exits: with the command's code, 2 for a usage error, 130 for Ctrl-C (the
        shell's code for an interrupt, so a script running spotcheck stops too) or 1 for another abort."""
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.exceptions.Exit as exc:
            code = exc.exit_code
        except click.Abort as exc:
            click.echo("已中止", err=True)
            code = 130 if isinstance(exc.__cause__, KeyboardInterrupt) else 1
        except click.UsageError as exc:
            ctx = exc.ctx
            if ctx is not None:
                click.echo(ctx.get_usage(), err=True)
                click.echo(f"查看说明：{ctx.command_path} --help", err=True)
            click.echo(f"错误：{_usage_message(exc)}", err=True)
            code = exc.exit_code
        # Outside standalone mode click returns an Exit's code (finish(), --version) instead of exiting.
        sys.exit(code if isinstance(code, int) else 0)


def _usage_message(exc: click.UsageError) -> str:
    hint = getattr(exc, "param_hint", None) or (exc.param.get_error_hint(exc.ctx) if getattr(exc, "param", None) else "")
    if isinstance(exc, click.MissingParameter):
        return f"缺少参数 {hint}"
    if isinstance(exc, click.NoSuchOption):
        guess = f"，是否想写 {'、'.join(exc.possibilities)}？" if exc.possibilities else ""
        return f"没有选项 {exc.option_name}{guess}"
    if isinstance(exc, click.BadParameter):
        return f"参数 {hint} 的值无效：{_value_message(exc.message)}"
    return exc.message


# click's own words for a bad value (number types, ranges, choices), said in Chinese.
_VALUE_MESSAGES = (
    (re.compile(r"(?:File|Directory|Path) (.*) is a directory\.$"), "{0} 是文件夹，不是文件"),
    (re.compile(r"(?:File|Directory|Path) (.*) is a file\.$"), "{0} 是文件，不是文件夹"),
    (re.compile(r"(?:File|Directory|Path) (.*) does not exist\.$"), "{0} 不存在"),
    (re.compile(r"(?:File|Directory|Path) (.*) is not (?:readable|writable|executable)\.$"), "{0} 没有读写权限"),
    (re.compile(r"(.*) is not in the range (.*)\.$"), "{0} 不在允许的范围 {1} 内"),
    (re.compile(r"(.*) is not a valid integer(?: range)?\.$"), "{0} 不是整数"),
    (re.compile(r"(.*) is not a valid float(?: range)?\.$"), "{0} 不是数字"),
    (re.compile(r"(.*) is not a valid boolean\.$"), "{0} 不是 true 或 false"),
    (re.compile(r"(.*) is not (?:one of )?(.*)\.$", re.S), "{0} 不是可选的值（可选：{1}）"),
)


def _value_message(message: str) -> str:
    if _CJK.search(message):
        return message
    for pattern, words in _VALUE_MESSAGES:
        if m := pattern.match(message):
            return words.format(*m.groups())
    return "格式不对"


_CJK = re.compile(r"[\u4e00-\u9fff]")


@click.group(cls=ChineseGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="spotcheck", help="显示版本并退出。",
                      message=f"%(prog)s %(version)s（引擎版本 {engine_version()}）")
def main() -> None:
    """spotcheck：“双随机、一公开”抽查计划数据工具。"""


class Day(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.fail(f"日期应写作 YYYY-MM-DD（如 2023-09-25）：{value!r}", param, ctx)


@contextmanager
def steps(enabled: bool):
    """On a terminal, a rich bar naming the current step (pulsing until the step counts its work);
    yields the callback the library calls (spotcheck.progress.Progress)."""
    if not enabled or not sys.stderr.isatty():
        yield silent
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        shown: tuple[str, object] | None = None  # the step on screen and its bar

        def report(step: str, done: int | None = None, total: int | None = None) -> None:
            nonlocal shown
            # A new step gets a new bar: rich cannot turn a counted bar back into a pulsing one.
            if shown is None or shown[0] != step:
                if shown is not None:
                    bar.remove_task(shown[1])
                shown = (step, bar.add_task(step, total=total))
            bar.update(shown[1], completed=done or 0, total=total)

        yield report
