"""`spotcheck deadline`: when a time limit counted from a date runs out."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from spotcheck.calendar.workdays import WorkCalendar
from spotcheck.cli.common import Day, main, policy_option, reports_problems
from spotcheck.calendar.deadlines import count_due
from spotcheck.policy.loader import load_policy


@main.command("deadline")
@click.option("--from", "start", required=True, type=Day(), help="起算日（不计入），如 2023-09-25")
@click.option("--working-days", type=click.IntRange(min=0), help="工作日数")
@click.option("--calendar-days", type=click.IntRange(min=0), help="自然日数")
@click.option("--calendar", "calendars", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="补充的年度节假日安排（YAML 日程文件），可重复")
@policy_option("使用该策略（及其上级策略）calendars: 中的节假日安排")
@reports_problems
def deadline(start: date, working_days: int | None, calendar_days: int | None,
             calendars: tuple[Path, ...], policy_path: Path | None) -> None:
    """计算期限届满日：第一行输出日期，第二行说明如何数出来的。"""
    if (working_days is None) == (calendar_days is None):
        raise click.UsageError("--working-days 与 --calendar-days 须且只能给出一个")
    if policy_path is not None and calendars:
        raise click.UsageError("--policy 与 --calendar 只能用一个：策略的节假日安排写在它的 calendars: 中")
    calendar = load_policy(policy_path).calendar if policy_path else WorkCalendar.standard(calendars)
    result = count_due(calendar, start, working_days=working_days, calendar_days=calendar_days)
    click.echo(result.due.isoformat())
    click.echo(result.explanation)
