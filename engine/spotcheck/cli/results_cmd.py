"""`spotcheck results import|approve|publish|follow-up|status|sample` and `spotcheck report`."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from itertools import groupby
from pathlib import Path

import click
from spotcheck.results import publish as publish_stage
from spotcheck.results import report as report_stage
from spotcheck.results import lists as results_lists
from spotcheck.results import records as results_stage
from spotcheck.results import sample as results_sample
from spotcheck.cli.common import FILE, Day, draw_option, ledger_option, main, policy_option, reports_problems, today_option
_draw = draw_option("抽取结果目录（含 transcript.json、visits.csv）", required=True)
_details = click.option("--details", is_flag=True, help="逐次列出每一次检查（默认只列汇总）")


@main.group("results")
def results() -> None:
    """检查结果：录入 → 审核 → 公示，公示期限与后续处置。"""


@results.command("import")
@click.argument("results_file", type=FILE)
@_draw
@ledger_option
@click.option("--actor", envvar="SPOTCHECK_ACTOR", help="录入人（也可设环境变量 SPOTCHECK_ACTOR；默认当前系统用户）")
@today_option
@reports_problems
def import_cmd(results_file: Path, draw_dir: Path, ledger_path: Path, actor: str | None, today: dt.date | None) -> None:
    """录入检查结果文件（CSV 或 XLSX）；有任何问题则全部不录入。"""
    out = results_stage.import_results(results_file, draw_dir, ledger_path=ledger_path, actor=actor, today=today)
    click.echo(f"读取 {out.rows} 行：新录入 {len(out.added)} 次检查的结果，更正 {len(out.replaced)} 次，"
               f"未变 {len(out.unchanged)} 次。")
    for vid, seq, fields in out.replaced:
        was = out.reopened.get(vid)
        then = ""
        if was == results_stage.PUBLISHED:
            then = ("；原结果已公示，更正后回到“录入”：须重新审核（results approve）再公示（results publish），"
                    "公示名单随之改为更正后的结果，更正记录留在台账中")
        elif was:
            then = "；原结果已审核，更正后回到“录入”，须重新审核（results approve）"
        click.echo(f"  更正 {vid}（替换台账记录 #{seq}）：{'、'.join(fields)}{then}")


@results.command("approve")
@_draw
@click.option("--visit", "visits", multiple=True, help="检查编号，可重复")
@click.option("--all", "all_", is_flag=True, help="审核本次抽取全部已录入的结果")
@click.option("--actor", envvar="SPOTCHECK_ACTOR", required=True, help="审核人（也可设环境变量 SPOTCHECK_ACTOR）")
@click.option("--date", "on", type=Day(), help="审核日期（默认今天）")
@_details
@ledger_option
@reports_problems
def approve_cmd(draw_dir: Path, visits: tuple[str, ...], all_: bool, actor: str, on: dt.date | None, details: bool,
                ledger_path: Path) -> None:
    """审核已录入的结果（录入 → 审核）；先按单位汇总，--details 列出每一次检查。"""
    if bool(visits) == all_:
        raise click.UsageError("须且只须给出 --visit（可重复）或 --all")
    out = results_stage.approve(draw_dir, ledger_path=ledger_path, actor=actor, visit_ids=None if all_ else visits, on=on)
    click.echo("\n".join(approve_summary(out, actor, details)))


def approve_summary(out: results_stage.StateChange, actor: str, details: bool) -> list[str]:
    """Counts first — per unit, then skipped by reason — and each visit only when asked."""
    lines = [f"{actor} 审核通过 {len(out.changed)} 次检查的结果" + (f"，跳过 {len(out.skipped)} 次" if out.skipped else "") + "。"]
    per_unit: dict[str, list[int]] = {}
    for vid in out.changed:
        per_unit.setdefault(out.units.get(vid, ""), [0, 0])[0] += 1
    for vid, _ in out.skipped:
        per_unit.setdefault(out.units.get(vid, ""), [0, 0])[1] += 1
    if per_unit:
        lines.append("按单位：")
        lines += [f"  {unit or '（未指定单位）'}：审核通过 {a}" + (f"，跳过 {b}" if b else "") for unit, (a, b) in sorted(per_unit.items())]
    reasons = Counter(why for _, why in out.skipped)
    if reasons:
        lines.append("跳过原因：" + "；".join(f"{why} {n} 次" for why, n in reasons.most_common()))
    if details:
        lines += [f"  跳过 {vid}（{out.units.get(vid, '')}）：{why}" for vid, why in out.skipped]
    elif out.skipped:
        lines.append("（加 --details 列出每一次跳过的检查）")
    return lines


@results.command("publish")
@_draw
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="公示文件输出目录")
@policy_option()
@click.option("--actor", envvar="SPOTCHECK_ACTOR", help="公示人（也可设环境变量 SPOTCHECK_ACTOR；默认当前系统用户）")
@click.option("--date", "on", type=Day(), help="公示日期（默认今天）")
@ledger_option
@reports_problems
def publish_cmd(draw_dir: Path, out_dir: Path, policy_path: Path | None, actor: str | None, on: dt.date | None,
                ledger_path: Path) -> None:
    """公示已审核的结果：写出公示名单（xlsx、csv）和结果公告（审核 → 公示）。"""
    out = publish_stage.publish(draw_dir, out_dir, ledger_path=ledger_path, policy_path=policy_path, actor=actor, on=on)
    click.echo(f"本次公示 {len(out.published)} 次检查的结果；公示名单共 {out.rows} 行。")
    for path in out.files:
        click.echo(f"  {path}")
    if out.abnormal:
        click.echo(f"经营异常名录候选 {out.abnormal} 户：{Path(draw_dir) / publish_stage.ABNORMAL_FILE}")


@results.command("follow-up")
@click.argument("visit_id")
@click.option("--date", "closed_on", required=True, type=Day(), help="办结日期")
@click.option("--action", required=True, help="采取的措施，如“责令改正”“移送区卫生健康局”“列入经营异常名录”")
@draw_option("抽取结果目录（检查编号在多个抽取中重复时指明）")
@click.option("--actor", envvar="SPOTCHECK_ACTOR", help="办理人（也可设环境变量 SPOTCHECK_ACTOR；默认当前系统用户）")
@today_option
@ledger_option
@reports_problems
def follow_up_cmd(visit_id: str, closed_on: dt.date, action: str, draw_dir: Path | None,
                  actor: str | None, today: dt.date | None, ledger_path: Path) -> None:
    """记录一次检查发现问题后的后续处置已办结：办结日期与采取的措施。"""
    out = results_stage.close_follow_up(visit_id, ledger_path=ledger_path, actor=actor, closed_on=closed_on,
                                        action=action, draw_dir=draw_dir, today=today)
    verb = "已记录" if out.changed else "台账中已有相同记录，未重复记录"
    click.echo(f"{verb}：检查 {out.visit_id} 的后续处置于 {out.closed_on} 办结（{out.action}）。")


def _line_text(line: results_stage.StatusLine) -> str:
    who = f"{line.visit_id} {line.name}（{line.uscc}）"
    if line.completed_on is None:
        when = f"结果未录入，计划应于 {line.due} 前公示"
    else:
        when = f"检查完成 {line.completed_on}，应于 {line.due} 前公示"
    if line.overdue:
        when += f"，已逾期 {-line.working_days_left} 个工作日"
    elif line.working_days_left is not None and line.state != results_stage.PUBLISHED:
        when += f"，还剩 {line.working_days_left} 个工作日"
    return f"    {who} {when}［{line.state}］"


def _by_unit(title: str, lines: list[results_stage.StatusLine], render=_line_text) -> list[str]:
    out = [f"{title}（{len(lines)}）：" + ("" if lines else "无")]
    for unit, mine in groupby(sorted(lines, key=lambda x: x.unit), key=lambda x: x.unit):
        out.append(f"  {unit}")
        out.extend(render(x) for x in mine)
    return out


@results.command("list")
@click.argument("draw_dirs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@ledger_option
@click.option("--category", "categories", multiple=True, help="检查结果的代码或名称，可写多次")
@click.option("--problems", is_flag=True, help="发现问题的全部检查结果")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="写出的名单文件（CSV）")
@reports_problems
def list_cmd(draw_dirs: tuple[Path, ...], ledger_path: Path, categories: tuple[str, ...], problems: bool, out: Path) -> None:
    """写出最近一次检查结果属于指定类别的主体名单（如上年度发现问题的主体），供下一年度策略在 lists 中引用。"""
    made = results_lists.result_list(draw_dirs, out, ledger_path=ledger_path,
                                     categories=results_lists.wanted_categories(categories, problems))
    click.echo(f"已写出 {made.path}：{made.rows} 户，SHA-256 {made.sha256}")
    click.echo(f"在策略中引用：lists: [{{id: <名单标识>, name: <名单名称>, file: {made.path.name}, sha256: \"{made.sha256}\"}}]")


@results.command("status")
@_draw
@policy_option()
@today_option
@ledger_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="输出格式")
@_details
@reports_problems
def status_cmd(draw_dir: Path, policy_path: Path | None, today: dt.date | None, ledger_path: Path, fmt: str,
               details: bool) -> None:
    """先列汇总和各单位数量（各状态、逾期、即将到期、后续处置未办结、经营异常名录候选），--details 逐次列出。"""
    st = results_stage.status(draw_dir, ledger_path=ledger_path, policy_path=policy_path, today=today)
    if fmt == "json":
        click.echo(json.dumps(st.to_dict(), ensure_ascii=False, indent=2))
        return
    counts = st.counts()
    lines = [f"抽取 {st.draw_id}（{st.drawn_on} 抽取）检查结果状态，截至 {st.today}：",
             "  " + " · ".join(f"{s} {counts[s]}" for s in results_stage.STATES)
             + f" · 已逾期 {len(st.overdue)} · 即将到期 {len(st.due_soon)} · 后续处置未办结 {len(st.open_follow_ups)}"
             + f" · 经营异常名录候选 {len(st.abnormal)}"]
    unknown = [x for x in st.lines if x.note]
    if unknown:
        lines.append(f"  {len(unknown)} 次检查无法计算公示期限：{unknown[0].note}")
    lines.append("按单位：")
    for unit, mine in groupby(sorted(st.lines, key=lambda x: x.unit), key=lambda x: x.unit):
        mine = list(mine)
        by_state = Counter(x.state for x in mine)
        lines.append(f"  {unit}：共 {len(mine)} 次，" + "、".join(f"{s} {by_state[s]}" for s in results_stage.STATES)
                     + f"；已逾期 {sum(x.overdue for x in mine)}，即将到期 {sum(x.due_soon for x in mine)}，"
                     + f"后续处置未办结 {sum(x.follow_up == '待处置' for x in mine)}")
    if not details:
        lines.append("（加 --details 逐次列出逾期、即将到期、后续处置未办结的检查和经营异常名录候选）")
        click.echo("\n".join(lines))
        return
    lines += _by_unit("已逾期", st.overdue)
    lines += _by_unit(f"即将到期（{results_stage.DUE_SOON} 个工作日内）", st.due_soon)
    lines += _by_unit("后续处置未办结", st.open_follow_ups,
                      lambda x: f"    {x.visit_id} {x.name}（{x.uscc}）检查完成 {x.completed_on}［{x.state}］")
    lines += _by_unit("经营异常名录候选（通过登记的住所或经营场所无法联系）", st.abnormal,
                      lambda x: f"    {x.uscc} {x.name}（检查 {x.visit_id}，{x.completed_on}）［{x.state}］")
    click.echo("\n".join(lines))


@results.command("sample")
@_draw
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="输出文件（.csv 或 .xlsx）")
@policy_option()
@click.option("--seed", default="0", show_default=True, help="种子：相同种子生成相同文件")
@today_option
@reports_problems
def sample_cmd(draw_dir: Path, out: Path, policy_path: Path | None, seed: str, today: dt.date | None) -> None:
    """为抽取的检查生成演示用的结果文件（多数未发现问题，少数发现问题，一户无法联系）。"""
    s = results_sample.sample_results(draw_dir, out, policy_path=policy_path, seed=seed, today=today)
    click.echo(f"已写出 {s.path}：{s.visits} 次检查，{s.rows} 行，其中发现问题 {s.problems} 次"
               + (f"，无法联系 1 户（{s.unreachable}）" if s.unreachable else "") + "。")


@main.command("report")
@click.argument("policy", type=FILE)
@draw_option("本年度的抽取结果目录，可重复", required=True, multiple=True)
@click.option("--entities", "entities_path", required=True, type=FILE, help="检查对象名录（计算企业覆盖率）")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="输出目录")
@today_option
@ledger_option
@reports_problems
def report_cmd(policy: Path, draw_dirs: tuple[Path, ...], entities_path: Path, out_dir: Path, today: dt.date | None,
               ledger_path: Path) -> None:
    """年度工作指标：对照策略目标，写出 report.json 和可离线打开的 report.html。"""
    rep = report_stage.make_report(policy, draw_dirs, entities_path, ledger_path=ledger_path, out_dir=out_dir, today=today)
    click.echo(f"{rep.jurisdiction}{rep.year}年度指标（截至 {rep.today}）：")
    for m in rep.metrics:
        d = m.to_dict()
        value = f"{d['value']}（{m.numerator}/{m.denominator}）" if d["value"] else report_stage.NOT_COMPUTABLE
        click.echo(f"  {m.name}：{value}，目标 {d['target'] or '未设'}；{m.verdict}")
    click.echo(f"已写出 {Path(out_dir) / 'report.json'}、{Path(out_dir) / 'report.html'}")
