"""`spotcheck validate`, `spotcheck diff`, `spotcheck test`, `spotcheck schema export|check`."""

from __future__ import annotations

import json
from pathlib import Path

import click
from spotcheck.policy.cases import run_tests
from spotcheck.cli.common import FILE, finish, main, reports_problems
from spotcheck.policy.diff import format_changes
from spotcheck.errors import format_problems
from spotcheck.resources import local_policies
from spotcheck.policy.schemas import export_schemas, schema_drift
from spotcheck.policy.files import KIND_NAMES
from spotcheck.policy.problems import sorted_problems
from spotcheck.policy.validate import ValidationReport, validate_report
from spotcheck.year.revision import diff_revisions

_paths = click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
_policy = FILE


@main.command("validate")
@_paths
@click.option("--format", "fmt", type=click.Choice(["text", "github", "json"]), default="text", show_default=True,
              help="text：供人阅读；github：GitHub Actions 注释；json：供程序读取")
def validate(paths: tuple[Path, ...], fmt: str) -> None:
    """检查策略、事项清单、节假日安排和测试用例文件（默认当前目录的 policies/），列出全部问题。"""
    report = validate_report(paths or (local_policies(),))
    counts = "、".join(f"{KIND_NAMES[k]} {len(v)} 个" for k, v in report.files.items() if v)
    total = sum(len(v) for v in report.files.values())
    found = sorted_problems([*report.problems, *report.warnings])
    if fmt == "json":
        click.echo(format_problems(found, "json"))
    elif found:
        click.echo(format_problems(found, fmt), err=fmt == "text")
    if report.problems:
        click.echo(f"未通过：{total} 个文件中发现 {len(report.problems)} 个问题" + _reminders(report), err=True)
        finish(1)
    click.echo(f"通过：已检查 {total} 个文件（{counts}），未发现问题" + _reminders(report), err=fmt != "text")


def _reminders(report: ValidationReport) -> str:
    return f"；另有 {len(report.warnings)} 条提醒（不影响使用，请核对）" if report.warnings else ""


@main.command("diff")
@click.argument("old", type=_policy)
@click.argument("new", type=_policy)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@reports_problems
def diff(old: Path, new: Path, fmt: str) -> None:
    """列出两份策略（如上一年度与本年度，或同一年度的两个修订版）之间影响抽查工作的变化。"""
    changes = diff_revisions(old, new)
    if fmt == "json":
        click.echo(json.dumps([c.to_dict() for c in changes], ensure_ascii=False, indent=2))
    else:
        click.echo(format_changes(changes))


@main.command("test")
@_paths
@click.option("-v", "--verbose", is_flag=True, help="也列出通过的用例")
def test(paths: tuple[Path, ...], verbose: bool) -> None:
    """运行策略旁 *.cases.yaml 中的测试用例（默认当前目录的 policies/）；没有用例的策略也算失败。"""
    run = run_tests(paths or (local_policies(),))
    for result in run.results:
        if verbose or not result.passed:
            click.echo(result.format())
    if run.problems:
        click.echo(format_problems(list(run.problems)), err=True)
    click.echo(f"通过 {run.passed} 个，未通过 {run.failed} 个" + (f"，另有 {len(run.problems)} 个文件问题" if run.problems else ""))
    if not run.ok:
        finish(1)


@main.group("schema")
def schema() -> None:
    """validators/ 中由模型导出的 JSON Schema。"""


_dir = click.option("--dir", "--out", "dest", type=click.Path(file_okay=False, path_type=Path),
                    default=Path("validators"), show_default=True,
                    help="Schema 文件目录（本仓库的 validators/；策略第一行的 $schema 指向这里）")


@schema.command("export")
@_dir
def schema_export(dest: Path) -> None:
    """由模型重新生成 JSON Schema 文件。"""
    for path in export_schemas(dest):
        click.echo(str(path))


@schema.command("check")
@_dir
def schema_check(dest: Path) -> None:
    """检查 JSON Schema 文件是否与模型一致。"""
    problems = schema_drift(dest)
    if problems:
        click.echo(format_problems(problems), err=True)
        finish(1)
    click.echo(f"通过：{dest} 中的 JSON Schema 与模型一致")
