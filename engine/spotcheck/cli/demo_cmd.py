"""`spotcheck demo`."""

from __future__ import annotations

from pathlib import Path

import click
from spotcheck import demo
from spotcheck.cli.common import main, policy_option, reports_problems, steps


@main.command("demo")
@click.option("--out", "out_dir", default="demo-out", show_default=True, type=click.Path(file_okay=False, path_type=Path), help="演示输出目录（须为新目录）")
@policy_option("使用的策略（默认：内置的朔州市2021年度策略 shanxi/shuozhou/2021.yaml）", default=str(demo.DEFAULT_POLICY))
@click.option("--entities", type=click.IntRange(min=100), default=5000, show_default=True, help="合成主体数")
@click.option("--inspectors", type=click.IntRange(min=20), default=300, show_default=True, help="合成执法人员数")
@click.option("--seed", default="demo", show_default=True, help="演练种子")
@reports_problems
def demo_command(out_dir: Path, policy_path: Path, entities: int, inspectors: int, seed: str) -> None:
    """演示全流程：合成名录 → 演练抽取 → 合并检查、匹配人员 → 公文 → 结果公示 → 年度指标 → 公示网站。"""
    with steps(True) as progress:
        d = demo.run(out_dir, policy_path=policy_path, entities=entities, inspectors=inspectors, seed=seed, progress=progress)
    click.echo(f"【演练】演示完成，全部输出在 {d.out}/")
    click.echo(f"  抽取 {d.draw_id}：{d.tasks} 个任务，抽中 {d.drawn} 户次，涉及 {d.entities_drawn} 个主体  → {d.out}/draw/")
    click.echo(f"  合并为 {d.visits} 次检查，{d.staffed} 次已配齐检查组，{d.unstaffed} 次未能配齐（原因见 visits.csv）")
    click.echo(f"  公文：{'、'.join(str(p.relative_to(d.out)) for p in d.notices)}")
    click.echo(f"  检查结果：录入 {d.results_imported} 条，公示 {d.published} 条  → {d.out}/results/")
    click.echo(f"  年度指标  → {d.report}")
    click.echo(f"  公示网站  → {d.site}")
    for name, verdict in d.kpis:
        click.echo(f"    {name}：{verdict}")
    click.echo(f"  台账：{d.out}/ledger.db（spotcheck ledger verify --ledger {d.out}/ledger.db）")
