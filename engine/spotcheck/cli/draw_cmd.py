"""`spotcheck synth`, `spotcheck draw`, `spotcheck verify`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click
from spotcheck.draw import pipeline, spark
from spotcheck.cli.common import DIRECTORY, FILE, Day, ledger_option, main, policy_option, reports_problems, steps
from spotcheck.errors import SpotcheckError
from spotcheck.year.rounds import Override, Request


class Month(click.ParamType):
    name = "YYYY-MM"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        try:
            day = dt.date.fromisoformat(f"{value}-01")
        except ValueError:
            self.fail(f"月份应写作 YYYY-MM（如 2021-06）：{value!r}", param, ctx)
        return day.year, day.month


@main.command("synth")
@click.argument("policy", type=FILE)
@click.option("--entities", "n_entities", type=click.IntRange(min=1), default=5000, show_default=True, help="主体数")
@click.option("--inspectors", "n_inspectors", type=click.IntRange(min=1), default=300, show_default=True, help="执法人员数")
@click.option("--seed", required=True, help="随机种子（相同种子生成相同名录）")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="输出目录")
@click.option("--dense", is_flag=True,
              help="压力测试用：每个监管标签覆盖约4%的主体（默认按真实城市的比例，标签很少见）")
@reports_problems
def synth(policy: Path, n_entities: int, n_inspectors: int, seed: str, out_dir: Path, dense: bool) -> None:
    """按策略所在辖区生成演练用的检查对象名录、执法人员名录和回避名单。"""
    paths = pipeline.synthesize(policy, n_entities, n_inspectors, seed, out_dir, dense=dense)
    for p in paths:
        click.echo(str(p))


@main.command("draw")
@click.argument("policy", type=FILE)
@click.option("--entities", "entities_path", required=True, type=FILE, help="检查对象名录（CSV/XLSX/Parquet）")
@click.option("--seed", help="演练种子：用于测试和演示，所有输出标注为演练")
@click.option("--commit", "do_commit", is_flag=True, help="正式抽取第一步：记录对输入和将来随机数来源的承诺")
@click.option("--beacon", help="与 --commit 同用：将来公开的随机数来源，如“双色球2023130期开奖号码”")
@click.option("--reveal-format", "reveal_as", metavar="FORMAT",
              help="与 --commit 同用：公布的随机数的格式，numbers:6+1（彩票号码，按开奖顺序）或 hex:128（信标的十六进制输出）")
@click.option("--reveal", help="正式抽取第二步：公布的随机数（按承诺时的格式核对并统一写法）")
@click.option("--commitment", "commitment_id", help="与 --reveal 同用：承诺编号")
@click.option("--date", "drawn_on", type=Day(), help="抽取日期（默认今天；正式抽取取承诺中的日期）")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="抽取结果目录（须为新目录）")
@click.option("--task", "task_id", help="只抽取这一任务（到期而未抽的轮次）")
@click.option("--round", "round_no", type=click.IntRange(min=1), help="与 --task 同用：只抽取第几轮（“2次/年”的任务）")
@click.option("--due", type=Month(), help="抽取到该月（YYYY-MM）为止到期而尚未抽取的全部任务")
@click.option("--override-reason", help="提前或重复抽取的理由（记入台账）")
@click.option("--approver", help="与 --override-reason 同用：批准人")
@click.option("--actor", envvar="SPOTCHECK_ACTOR",
              help="操作人（姓名或工号），记入台账；正式抽取（--commit、--reveal）必填，也可设环境变量 SPOTCHECK_ACTOR")
@click.option("--engine", type=click.Choice(spark.ENGINES), default="local", show_default=True,
              help="排序抽取在本机（local）或 Apache Spark（spark，需安装 spotcheck[spark] 与 Java 17）上计算；结果逐字节相同")
@click.option("--spark-master", metavar="URL", help="与 --engine spark 同用：Spark 主节点，如 spark://host:7077、yarn、local[2]")
@ledger_option
@reports_problems
def draw(policy, entities_path, seed, do_commit, beacon, reveal_as, reveal, commitment_id, drawn_on, out_dir, task_id,
         round_no, due, override_reason, approver, actor, engine, spark_master, ledger_path) -> None:
    """随机抽取检查对象：--seed 演练，或 --commit 后 --reveal 正式抽取；--task/--due 只抽到期的任务。"""
    modes = sum(x is not None and x is not False for x in (seed, reveal, do_commit or None))
    if modes != 1:
        raise click.UsageError("--seed、--commit、--reveal 须且只须给出一个")
    request = _request(task_id, round_no, due, override_reason, approver)
    if do_commit:
        if not beacon:
            raise click.UsageError("--commit 须同时用 --beacon 写明将来公开的随机数来源")
        c = pipeline.commit(policy, entities_path, ledger_path=ledger_path, beacon=beacon, drawn_on=drawn_on or dt.date.today(),
                            reveal_as=reveal_as, actor=actor, request=request)
        click.echo(c.id)
        click.echo(json.dumps(c.body, ensure_ascii=False, indent=2), err=True)
        click.echo(f"已记录承诺 {c.id}。随机数公布后运行：spotcheck draw {policy} --entities {entities_path} "
                   f"--reveal <随机数> --commitment {c.id} --out <目录>", err=True)
        return
    if out_dir is None:
        raise click.UsageError("抽取须用 --out 指定结果目录")
    if spark_master and engine != "spark":
        raise click.UsageError("--spark-master 须与 --engine spark 同用")
    with steps(True) as progress:
        result = pipeline.draw(
            policy, entities_path, out_dir, ledger_path=ledger_path, seed=seed, reveal=reveal,
            commitment_id=commitment_id, drawn_on=drawn_on, progress=progress, request=request, actor=actor,
            engine=engine, spark_master=spark_master,
        )
    s = result.summary
    tag = "【演练】" if result.seed.drill else ""
    if result.seed.drill and drawn_on is None and result.drawn_on != dt.date.today():
        click.echo(f"{tag}未给 --date：今天不在策略年度内，演练日期取策略年度中最早的抽取时间 {result.drawn_on}", err=True)
    chosen = result.transcript.selection
    what = "、".join(f"{t}（第{'、'.join(map(str, r))}轮）" for t, r in chosen.items()) if chosen else f"{len(s.tasks)} 个任务"
    click.echo(f"{tag}抽取 {result.id}：{what}，抽中 {sum(t.drawn for t in s.tasks)} 户次，"
               f"涉及 {s.distinct_entities_drawn} 个主体；结果在 {out_dir}")
    if result.exclusions.height:
        click.echo(f"因频次上限排除 {result.exclusions.height} 户次（见 {out_dir}/excluded.csv）")
    for t in s.tasks:
        # What the plan leaves unsaid, and a list taken from another body, are shown, not only filed.
        unsaid = [w for w in t.sampling.get("words", []) if "计划未写明比例" in w]
        if unsaid:
            click.echo(f"任务 {t.task_id} 未抽取：{'；'.join(unsaid)}")
        if "list" in t.sampling:
            click.echo(f"任务 {t.task_id}：{t.sampling['list']['words']}")


def _request(task_id, round_no, due, reason, approver) -> Request | None:
    if task_id and due:
        raise click.UsageError("--task 与 --due 只能给出一个")
    if round_no is not None and not task_id:
        raise click.UsageError("--round 须与 --task 同用")
    if (reason is None) != (approver is None):
        raise click.UsageError("--override-reason 与 --approver 须同时给出")
    override = Override(reason, approver) if reason is not None else None
    if not (task_id or due or override):
        return None
    return Request(task=task_id, round=round_no, due=due, override=override)


@main.command("verify")
@click.argument("draw_dir", type=DIRECTORY)
@click.option("--entities", "entities_path", required=True, type=FILE, help="抽取时使用的检查对象名录")
@click.option("--inspectors", "inspectors_path", type=FILE, help="执法人员名录（核验检查组时需要）")
@click.option("--recusals", "recusals_path", type=FILE, help="回避名单（核验检查组时需要）")
@policy_option()
@reports_problems
def verify(draw_dir, entities_path, inspectors_path, recusals_path, policy_path) -> None:
    """由抽取记录（transcript.json）和输入重新计算抽取结果，逐文件比对；一致时退出码为 0。"""
    report = pipeline.verify(
        draw_dir, entities_path, policy_path=policy_path, inspectors_path=inspectors_path, recusals_path=recusals_path
    )
    if not report.ok:
        raise SpotcheckError(report.problems)
    click.echo(f"核验通过：{', '.join(report.checked)} 与重新计算的结果完全一致")
