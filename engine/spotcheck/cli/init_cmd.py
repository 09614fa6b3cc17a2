"""`spotcheck init`: a starter repository for one bureau."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from spotcheck.cli.common import main, reports_problems
from spotcheck.starter import Starter, init


@main.command("init")
@click.argument("folder", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--province", required=True, help="省级目录名（拼音），如 hebei；有内置省级基线时继承它，否则继承国家基线")
@click.option("--city", default=None, help="本辖区目录名（拼音），如 qinhuangdao；省局自己的策略（--level province）不写")
@click.option("--region", required=True, help="地区名称，如 秦皇岛市")
@click.option("--code", required=True, help="6位行政区划代码，如 130300")
@click.option("--year", type=int, default=None, help="策略年度  [默认：今年]")
@click.option("--level", type=click.Choice(["province", "city", "district"]), default="city", show_default=True,
              help="层级：province 省局、city 市局、district 县（区）局")
@click.option("--name", default=None, help="机关全称  [默认：<地区名称>市场监督管理局]")
@click.option("--short", default=None, help="发文机关代字，如 秦市监")
@click.option("--district", "districts", multiple=True, metavar="代码=名称",
              help="下辖区县（省局：各市），可重复，如 --district 130302=海港区  [默认：本辖区自身]")
@click.option("--extends", default=None, help="继承的内置策略名称，如 spotcheck:hebei/baseline  [默认：省级基线]")
@reports_problems
def init_command(folder: Path, province: str, city: str | None, region: str, code: str, year: int | None, level: str,
                 name: str | None, short: str | None, extends: str | None, districts: tuple[str, ...]) -> None:
    """生成本局的策略仓库：继承内置基线的策略、测试用例、事项清单、JSON Schema、提交前检查和 CI 配置。"""
    starter = Starter(province=province, city=city, region=region, code=code, year=year or dt.date.today().year,
                      level=level, name=name, short=short, extends=extends,
                      districts=tuple(tuple(d.split("=", 1)) if "=" in d else (d, "") for d in districts))
    written = init(folder, starter)
    for path in written:
        click.echo(str(path))
    policy = folder / starter.folder / f"{starter.year}.yaml"
    click.echo(f"已生成 {len(written)} 个文件。下一步：修改 {policy}，然后运行 spotcheck validate 与 spotcheck test", err=True)
