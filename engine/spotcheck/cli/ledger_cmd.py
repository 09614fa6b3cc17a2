"""`spotcheck ledger verify|show|import-history`: check the hash chain, list records, record past checks."""

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click
from spotcheck.cli.common import finish, ledger_option, main, reports_problems
from spotcheck.errors import format_problems
from spotcheck.ledger.history import import_history
from spotcheck.ledger.store import Ledger
from spotcheck.results import reads

_FORMAT_OPTION = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                              show_default=True, help="输出格式。")


# Record kinds as officers name them; the ledger keeps the English keys, which the hash chain covers.
KIND_NAMES = {
    "commitment": "抽取承诺", "claim": "承诺兑现", "refused_redraw": "拒绝重复抽取", "draw": "正式抽取", "drill": "演练抽取",
    "drill_plan": "演练检查安排", "history": "检查记录", "visit": "检查安排", "team": "检查组", "team_reassignment": "更换检查人员",
    "result": "检查结果", "result_states": "结果审核、公示", "result_state": "结果状态变更（逐条，旧格式）",
    "follow_up": "后续处置",
}
BEIJING = timezone(timedelta(hours=8), "北京时间")


def beijing_time(at: str) -> str:
    """A record's UTC timestamp as Beijing time, to the second."""
    return datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def _anchor(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[int, str]:
    anchors = {}
    for value in values:
        seq, sep, digest = value.partition(":")
        if not sep or not seq.isdigit() or len(digest) != 64:
            raise click.BadParameter(f"'{value}' 应写成 序号:64位哈希，例如 12:3fa9…", ctx=ctx, param=param)
        anchors[int(seq)] = digest.lower()
    return anchors


@main.group("ledger")
def ledger() -> None:
    """台账：承诺、抽取、检查、结果的防篡改记录。"""


@ledger.command("verify")
@ledger_option
@click.option("--anchor", "anchors", multiple=True, callback=_anchor, metavar="SEQ:HASH",
              help="已公布的某条记录的哈希，可重复；用于发现公布后的改动或截断。")
@_FORMAT_OPTION
@reports_problems
def verify_cmd(ledger_path: Path, anchors: dict[int, str], fmt: str) -> None:
    """重新计算整条哈希链；完好退出 0，发现改动退出 1。"""
    with Ledger.open(ledger_path, create=False) as led:
        report = led.verify(anchors)
    if fmt == "json":
        click.echo(json.dumps({
            "ok": report.ok, "count": report.count, "head_seq": report.head_seq, "head_hash": report.head_hash,
            "first_bad_seq": report.first_bad_seq, "problems": [p.to_dict() for p in report.problems],
        }, ensure_ascii=False, indent=2))
    elif report.ok:
        click.echo(f"台账完好：共 {report.count} 条记录，末条 #{report.head_seq} 哈希 {report.head_hash}")
        click.echo(f"公布此哈希后，可用 --anchor {report.head_seq}:{report.head_hash} 发现日后的改写或截断")
    else:
        click.echo(format_problems(report.problems), err=True)
        click.echo(f"台账链断裂：最早不可信的记录是 #{report.first_bad_seq}", err=True)
        click.echo(f"末条 #{report.head_seq} 哈希 {report.head_hash}", err=True)
    finish(0 if report.ok else 1)


@ledger.command("show")
@click.option("--kind", default=None,
              help="只列出这一类记录：" + "、".join(f"{k}（{v}）" for k, v in KIND_NAMES.items()) + "。")
@click.option("--key", default=None, help="只列出这个键的记录；检查编号还列出审核、公示了该检查结果的记录。")
@ledger_option
@_FORMAT_OPTION
@reports_problems
def show_cmd(kind: str | None, key: str | None, ledger_path: Path, fmt: str) -> None:
    """列出台账记录：序号、时间（北京时间）、类型、键、操作人、短哈希。"""
    with Ledger.open(ledger_path, create=False) as led:
        records = reads.records_of(led, kind, key)
    if fmt == "json":
        click.echo(json.dumps([r.to_dict() for r in records], ensure_ascii=False, indent=2))
        return
    if not records:
        click.echo("没有符合条件的记录", err=True)
        return
    click.echo("序号\t时间（北京时间）\t类型\t键\t操作人\t哈希（前12位）")
    for r in records:
        click.echo(f"#{r.seq}\t{beijing_time(r.at)}\t{KIND_NAMES.get(r.kind, r.kind)}\t{r.key}\t{r.actor}\t{r.hash[:12]}")


@ledger.command("import-history")
@click.argument("history_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--actor", envvar="SPOTCHECK_ACTOR", required=True, help="操作人（姓名或工号），记入台账；也可设环境变量 SPOTCHECK_ACTOR")
@ledger_option
@reports_problems
def import_history_cmd(history_file: Path, actor: str, ledger_path: Path) -> None:
    """把往年（或本系统以外）的检查记录记入台账，供“近N个月内未被抽查”“每N年至少抽查一次”和频次上限使用。

    列：统一社会信用代码、检查日期（YYYY-MM-DD）或年度，可选 检查事项（以 | 或 、 分隔）、抽查任务。"""
    with Ledger.open(ledger_path, actor=actor) as led:
        n = import_history(led, history_file, actor=actor)
    click.echo(f"已将 {n} 条检查记录记入台账 {ledger_path}（记录键 {history_file.name}）")
