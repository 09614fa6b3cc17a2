"""`spotcheck deadline`: when a time limit counted from a date runs out."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
import yaml

from spotcheck.calendar import WorkCalendar
from spotcheck.cli import main
from spotcheck.deadlines import count_due
from spotcheck.errors import Problem, SpotcheckError, format_problems


class _Day(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"日期应写作 YYYY-MM-DD（如 2023-09-25）：{value!r}", param, ctx)


def _policy_calendars(policy: Path) -> list[Path]:
    """The schedule files a policy lists under its top-level `calendars:` (relative to the policy file)."""
    try:
        data = yaml.safe_load(policy.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SpotcheckError(Problem(code="C302", message=f"无法读取政策文件：{exc}", file=str(policy))) from exc
    listed = data.get("calendars", []) if isinstance(data, dict) else []
    if not isinstance(listed, list) or not all(isinstance(p, str) for p in listed):
        raise SpotcheckError(Problem(code="C303", message="calendars 应为日程文件路径的列表", file=str(policy),
                                     where="calendars", hint="例如 calendars: [calendars/2027.yaml]"))
    return [policy.parent / p for p in listed]


@main.command("deadline")
@click.option("--from", "start", required=True, type=_Day(), help="起算日（不计入），如 2023-09-25")
@click.option("--working-days", type=click.IntRange(min=0), help="工作日数")
@click.option("--calendar-days", type=click.IntRange(min=0), help="自然日数")
@click.option("--calendar", "calendars", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="补充的年度节假日安排（YAML 日程文件），可重复")
@click.option("--policy", type=click.Path(dir_okay=False, path_type=Path), help="使用该政策 calendars: 中的日程文件")
def deadline(start: date, working_days: int | None, calendar_days: int | None,
             calendars: tuple[Path, ...], policy: Path | None) -> None:
    """计算期限届满日：第一行输出日期，第二行说明如何数出来的。"""
    if (working_days is None) == (calendar_days is None):
        raise click.UsageError("--working-days 与 --calendar-days 须且只能给出一个")
    try:
        files = [*calendars, *(_policy_calendars(policy) if policy else [])]
        result = count_due(WorkCalendar.standard(files), start, working_days=working_days, calendar_days=calendar_days)
    except SpotcheckError as exc:
        click.echo(format_problems(exc.problems), err=True)
        sys.exit(1)
    click.echo(result.due.isoformat())
    click.echo(result.explanation)
