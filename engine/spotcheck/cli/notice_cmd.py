"""`spotcheck notice`: render a policy's official notice (md, html, docx, pdf), or list its templates."""

import click

from spotcheck.cli.common import FILE, draw_option, main, reports_problems
from spotcheck.notices.api import (
    describe_templates,
    make_notice,
    normalize_kind,
    write_letters,
    write_task_notices,
)
from spotcheck.notices.model import KINDS
from spotcheck.notices.templates import FORMATS


@main.command("notice")
@click.argument("policy", type=FILE)
@click.option("--kind", default=None, metavar="KIND",
              help=f"文种：{'、'.join(KINDS)}（可省略 _notice，如 task）。默认为策略的 default_document。")
@click.option("--document", "document_id", default=None, help="策略 documents 中的文件标识。")
@draw_option("抽取结果目录（spotcheck draw 的输出）；给出时默认生成任务公告和随机抽查通知书。")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="md", show_default=True, help="输出格式。")
@click.option("--out", default=None, type=click.Path(dir_okay=False),
              help="输出文件；md、html 可省略（打印到标准输出），docx、pdf 必须给出。")
@click.option("--list-templates", "list_only", is_flag=True, help="列出每种文种、每种格式将使用的模板文件。")
@click.option("--per-unit", is_flag=True,
              help="与 --kind letter 同用：每个检查单位每月一个文件，--out 为新目录（单位/2021年04月.docx）；"
                   "与 --kind task 同用：每个检查单位一份任务公告，只列本单位检查的抽取名单（单位.docx）。")
@click.option("--per-entity", is_flag=True,
              help="与 --kind letter 同用：每户一个 Word 文件，每个检查单位每月打成一个压缩包（单位/2021年04月.zip）。")
@reports_problems
def notice_cmd(policy: str, kind: str | None, document_id: str | None, draw_dir: str | None, fmt: str,
               out: str | None, list_only: bool, per_unit: bool, per_entity: bool) -> None:
    """按 GB/T 9704 生成策略的公文：计划通知、实施方案、任务公告、随机抽查通知书（--kind letter）、结果公告等。"""
    if per_unit and normalize_kind(kind) == "task_notice":
        if draw_dir is None or out is None:
            raise click.UsageError("--kind task --per-unit 需要 --draw 抽取结果目录 --out 新目录")
        files = write_task_notices(policy, draw_dir, out, fmt=fmt)
        _echo_files(files, f"已生成 {out}：{len(files)} 个检查单位的任务公告，共列出 {sum(c for _, c in files)} 户次")
        return
    if per_unit or per_entity:
        if normalize_kind(kind) != "inspection_letter" or draw_dir is None or out is None:
            option = "--per-entity" if per_entity else "--per-unit"
            raise click.UsageError(f"{option} 只用于随机抽查通知书（--kind letter）和任务公告（--kind task，仅 --per-unit）："
                                   "--draw 抽取结果目录 --out 新目录")
        files = write_letters(policy, draw_dir, out, fmt=fmt, per_entity=per_entity)
        _echo_files(files, f"已生成 {out}：{len(files)} 个文件，{sum(c for _, c in files)} 份随机抽查通知书")
        return
    if not list_only and out is None and fmt in ("docx", "pdf"):
        raise click.UsageError(f"--format {fmt} 输出的是二进制文件，请用 --out 指定文件名")
    if list_only:
        click.echo("\n".join(describe_templates(policy)))
        return
    content = make_notice(policy, fmt=fmt, out=out, kind=kind, document=document_id, draw_dir=draw_dir)
    if out is None:
        click.echo(content, nl=False)
    else:
        click.echo(f"已生成 {out}", err=True)


def _echo_files(files, done: str) -> None:
    """Each file written with its count on stdout, the summary on stderr."""
    for name, count in files:
        click.echo(f"{name}\t{count}")
    click.echo(done, err=True)
