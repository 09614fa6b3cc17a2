"""`spotcheck plan` (visits and teams for a draw folder) and `spotcheck teams reassign`."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click
from spotcheck.plan import changes, workplan
from spotcheck.cli.common import DIRECTORY, FILE, ledger_option, main, policy_option, reports_problems, steps
_inspectors = click.option("--inspectors", "inspectors_path", required=True, type=FILE, help="执法检查人员名录（CSV/XLSX/Parquet）")
_recusals = click.option("--recusals", "recusals_path", type=FILE, help="回避名单")


@main.command("plan")
@click.argument("draw_dir", type=DIRECTORY)
@_inspectors
@_recusals
@click.option("--entities", "entities_path", type=FILE,
              help="抽取时读取的检查对象名录（可选）：给出时一并核对回避名单中的统一社会信用代码")
@ledger_option
@policy_option()
@reports_problems
def plan(draw_dir: Path, inspectors_path: Path, recusals_path: Path | None, entities_path: Path | None,
         ledger_path: Path, policy_path: Path | None) -> None:
    """把抽取结果合并为检查任务（一户一次上门），随机匹配检查组，写入抽取结果目录和台账。"""
    with steps(True) as progress:
        result = workplan.plan(
            draw_dir, inspectors_path=inspectors_path, recusals_path=recusals_path, ledger_path=ledger_path,
            policy_path=policy_path, entities_path=entities_path, progress=progress,
        )
    v, t = result.summary.section("visits"), result.summary.section("teams")
    tag = "【演练】" if result.drill else ""
    click.echo(
        f"{tag}检查安排 {result.draw_id}：{v['task_entity_pairs']} 户次合并为 {v['visits']} 次检查"
        f"（合并减少 {v['saved_by_merging']} 次，跨部门联合 {v['joint_visits']} 次）；"
        f"已配齐检查组 {t['staffed']} 次，未配齐 {t['unstaffed']} 次；结果在 {draw_dir}"
    )
    for reason, count in t["unstaffed_reasons"].items():
        click.echo(f"未配齐 {count} 次：{reason}", err=True)
    for said in v.get("deadlines_left_out", []):
        click.echo(f"提醒：部分期限暂未计算（visits.csv 中留空）——{said}", err=True)


@main.group("teams")
def teams() -> None:
    """检查组：匹配后的人员更换。"""


@teams.command("reassign")
@click.argument("draw_dir", type=DIRECTORY)
@click.option("--visit", "visit_id", required=True, help="检查编号（visits.csv 的 visit_id）")
@click.option("--out-inspector", "out_inspector", required=True, help="被更换的人员编号")
@click.option("--in-inspector", "in_inspector", required=True, help="接替的人员编号")
@click.option("--reason", required=True, help="更换理由，如“岗位调整”“工作冲突”“身体健康状况”")
@click.option("--approver", help="批准人，如分管领导姓名；策略规定匹配后不得随意更换（team.no_change_without_approval）时必填")
@_inspectors
@_recusals
@ledger_option
@policy_option()
@reports_problems
def reassign(draw_dir: Path, visit_id: str, out_inspector: str, in_inspector: str, reason: str | None,
             approver: str | None, inspectors_path: Path, recusals_path: Path | None, ledger_path: Path,
             policy_path: Path | None) -> None:
    """更换检查组中的一名人员：须写明理由和批准人，接替人员须符合全部匹配条件。"""
    change = changes.reassign(
        draw_dir, visit_id=visit_id, out_inspector=out_inspector, in_inspector=in_inspector, reason=reason,
        approver=approver, inspectors_path=inspectors_path, recusals_path=recusals_path, ledger_path=ledger_path,
        policy_path=policy_path,
    )
    click.echo(
        f"检查 {change.visit_id}：{change.out_inspector} → {change.in_inspector}（{change.role}），"
        f"理由：{change.reason}；批准人：{change.approver or '（策略未要求）'}；已记入台账"
    )


@teams.command("candidates")
@click.argument("draw_dir", type=DIRECTORY)
@click.option("--visit", "visit_id", required=True, help="检查编号（visits.csv 的 visit_id）")
@click.option("--out-inspector", "out_inspector", required=True, help="要被更换的人员编号")
@_inspectors
@_recusals
@policy_option()
@click.option("--all", "show_all", is_flag=True, help="也逐人列出不能接替的人员及原因（默认只按原因汇总）")
@reports_problems
def candidates(draw_dir: Path, visit_id: str, out_inspector: str, inspectors_path: Path, recusals_path: Path | None,
               policy_path: Path | None, show_all: bool) -> None:
    """列出可以接替某检查组成员的人员，以及其他人不能接替的原因（与 teams reassign 的检查相同）。"""
    found = changes.replacements(draw_dir, visit_id=visit_id, out_inspector=out_inspector,
                                  inspectors_path=inspectors_path, recusals_path=recusals_path, policy_path=policy_path)
    able = [c for c in found if not c.reasons]
    click.echo(f"检查 {visit_id}：可接替 {out_inspector} 的人员 {len(able)} 人" + ("：" if able else "。"))
    for c in able:
        click.echo(f"  {c.inspector_id}  {c.name}  {c.unit}")
    unable = [c for c in found if c.reasons]
    reasons = Counter(r.split("（")[0].split("，")[0] for c in unable for r in c.reasons)
    if reasons:
        click.echo(f"不能接替的 {len(unable)} 人，原因（一人可有多项）：")
        for why, n in reasons.most_common():
            click.echo(f"  {why}：{n} 人")
    if show_all:
        for c in unable:
            click.echo(f"  {c.inspector_id}  {c.name}  {c.unit}：{'；'.join(c.reasons)}")
    elif unable:
        click.echo("（加 --all 逐人列出原因）")
    if able:
        click.echo(f"更换：spotcheck teams reassign {draw_dir} --visit {visit_id} --out-inspector {out_inspector} "
                   f"--in-inspector {able[0].inspector_id} --reason 理由 --inspectors {inspectors_path} [--approver 批准人]")


@main.command("tables")
@click.argument("draw_dir", type=DIRECTORY)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="输出目录（须为新目录）")
@reports_problems
def tables(draw_dir: Path, out_dir: Path) -> None:
    """把抽取结果目录中的 draws.csv、visits.csv、teams.csv 另存为中文表头的副本（抽取名单、检查安排、检查组）。"""
    from spotcheck.plan.tables import write_tables

    for path in write_tables(draw_dir, out_dir):
        click.echo(str(path))
