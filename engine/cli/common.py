"""What every command shares: turning SpotcheckError into a message on stderr and exit code 1."""

from __future__ import annotations

import datetime as dt
import functools
import sys
from collections.abc import Callable
from contextlib import contextmanager
from typing import TypeVar

import click
from spotcheck.errors import SpotcheckError, format_problems

F = TypeVar("F", bound=Callable)
PRINT_LIMIT = 50  # problems printed before "……另有 N 个问题"


def reports_problems(fn: F) -> F:
    """Print a SpotcheckError's problems (first PRINT_LIMIT, with a count of the rest) and exit 1."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except SpotcheckError as exc:
            click.echo(format_problems(exc.problems, limit=PRINT_LIMIT), err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


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
    """A rich spinner naming the current step, on a terminal only; yields the callback the library calls."""
    if not enabled or not sys.stderr.isatty():
        yield lambda _msg: None
        return
    from rich.console import Console

    console = Console(stderr=True)
    with console.status("") as status:
        yield lambda msg: status.update(f"[bold]{msg}……")
