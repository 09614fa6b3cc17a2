"""`spotcheck site` (the public website) and `spotcheck lodge` (the full draw for the supervisor)."""

from __future__ import annotations

from pathlib import Path

import click
from spotcheck.cli.common import DIRECTORY, FILE, draw_option, ledger_option, main, policy_option, reports_problems
from spotcheck.site import build as site_build
from spotcheck.site import supervisor

@main.command("site")
@ledger_option
@click.option("--policies", "policies_dir", type=DIRECTORY, help="存放策略的目录（默认为随本程序提供的 policies/）")
@click.option("--drills", is_flag=True, help="同时公示演练抽取（标注为演练）")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="网站输出目录")
@reports_problems
def site(ledger_path: Path, policies_dir: Path | None, drills: bool, out_dir: Path) -> None:
    """由台账生成公示网站（静态网页，可离线打开，含“验证本次抽取”）。"""
    built = site_build.build(ledger_path, out_dir, policies_dir=policies_dir, drills=drills)
    click.echo(f"已生成网站 {built.out}：{built.pages} 个网页、{built.data_files} 个数据文件，{built.tasks} 项抽查任务，"
               f"可查询 {built.searchable} 户市场主体")
    click.echo(f"最大文件 {built.largest[0]}（{built.largest[1] / 1024:.0f} KB）；台账末条第 {built.head_seq} 条，哈希 {built.head_hash}")


@main.command("lodge")
@ledger_option
@draw_option(required=True)
@click.option("--entities", "entities_path", required=True, type=FILE, help="抽取时使用的检查对象名录")
@click.option("--to", "to", help="报送的监督机构，如“驻局纪检监察组”（默认为策略 supervisor 写明的机构）")
@policy_option()
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="报送目录（须为新目录）")
@reports_problems
def lodge(ledger_path: Path, draw_dir: Path, entities_path: Path, to: str | None, policy_path: Path | None, out_dir: Path) -> None:
    """把一次抽取的全部内部资料（名录、符合条件名单、承诺）整理成报送监督机构的目录。"""
    lodged = supervisor.lodge(draw_dir, entities_path, out_dir, ledger_path=ledger_path, supervisor=to, policy_path=policy_path)
    click.echo(f"已生成报送目录 {lodged.out}（报送 {lodged.supervisor}；{lodged.named_by}）")
    click.echo(f"监督机构核验：spotcheck verify {lodged.out} --entities {lodged.out / lodged.entities}")
