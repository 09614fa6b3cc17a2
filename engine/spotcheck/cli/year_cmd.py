"""`spotcheck year`: the year board."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from spotcheck.cli.common import FILE, Day, ledger_option, main, reports_problems
from spotcheck.year import render


@main.command("year")
@click.argument("policy", type=FILE)
@ledger_option
@click.option("--on", "on", type=Day(), help="统计日期（默认今天）")
@click.option("--entities", "entities_path", type=FILE, help="当天的检查对象名录：列出抽中后、检查前已注销或吊销的主体")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text", show_default=True, help="输出格式")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="写入文件（html 格式须给出）")
@reports_problems
def year(policy, ledger_path, on, entities_path, fmt, out) -> None:
    """全年看板：各任务各轮次的抽取、检查、公示进度，今后10个工作日的期限，下一步抽取。"""
    if fmt == "html" and out is None:
        raise click.UsageError("--format html 须用 --out 指定输出文件")
    rendered = render.show(policy, ledger_path=ledger_path, on=on or dt.date.today(), entities_path=entities_path, fmt=fmt, out=out)
    click.echo(f"已写入 {out}" if out is not None else rendered, nl=out is not None)
