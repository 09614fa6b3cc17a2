"""The two announcements that list entities: the task notice of a draw and the results notice of a task.

A task notice reads a draw folder (spotcheck.draw.reader); the 随机抽查通知书 to each entity are a
document of their own (notices.letters); a results notice takes the checked rows the results stage passes in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace


import polars as pl

from spotcheck.directory.kinds import HOLDER_SEPARATOR, key_text
from spotcheck.draw.applies import read_applies
from spotcheck.draw.reader import DrawFolder
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.rules.fields import TIER_NAMES
from spotcheck.policy.cadence import batch_span
from spotcheck.policy.loaded import LoadedPolicy
from spotcheck.notices.content import (
    cn_date,
    cn_window,
    heading_number,
    item_line,
    plan_document,
    policy_window,
    task_no,
)
from spotcheck.notices.model import Block, FrameRows, Heading, Notice, Para, Table
from spotcheck.plan import participants
from spotcheck.policy.model import Policy, Task, sampling_text
from spotcheck.policy.yamlsource import display

# The national disclosure's columns, one row per checked entity: the public list and the site print them.
RESULT_COLUMNS = ("序号", "抽查计划编号/名称", "抽查任务编号/名称", "抽查类型", "检查机关", "市场主体名称",
                  "统一社会信用代码", "检查完成日期", "检查结果", "备注")
# A results announcement is one task's: its plan, task and type, and its inspecting body when every row
# has the same one, are stated once above its table, which holds what differs from entity to entity.
ENTITY_COLUMNS = ("序号", "检查机关", "市场主体名称", "统一社会信用代码", "检查完成日期", "检查结果", "备注")
# Millimetres of the landscape text block (225 mm), with 检查机关 as a column and without it (its width then
# goes to 市场主体名称 and 检查结果), so that a typical row is one or two lines. 统一社会信用代码 holds 18 of the
# widest code character (W: 0.88 em of 五号 in LXGW WenKai, the 仿宋 stand-in) and the cell's margins, so a
# code never wraps; 检查完成日期 holds “2026年12月31日” with the quarter em Word and LibreOffice put between
# Chinese and digits.
ENTITY_WIDTHS = (15, 30, 34, 63, 38, 28, 17)
SHARED_BODY_WIDTHS = (15, 46, 63, 38, 42, 21)
DRAWN_COLUMNS = ("序号", "市场主体名称", "统一社会信用代码")


def stratum_label(stratum: str) -> str:
    """A draw stratum as officers read it: "B" → B级（一般风险）, "B|海港区" → B级（一般风险）·海港区."""
    return "·".join(f"{p}级（{TIER_NAMES[p]}）" if p in TIER_NAMES else p for p in stratum.split("|"))


def plan_identity(policy: Policy) -> tuple[str, str]:
    """(抽查计划编号, 抽查计划名称) as the announcements and the public list print them."""
    doc = plan_document(policy)
    if doc is None:
        return policy.id, f"{policy.jurisdiction.name}{policy.year}年度“双随机、一公开”抽查工作计划"
    return (doc.number.text() if doc.number else policy.id), (doc.enclosure_title or doc.title)


# ---------------------------------------------------------------- draw folders → task notice


def drawn_frame(loaded: LoadedPolicy, draw: DrawFolder) -> pl.DataFrame:
    """The drawn list of a draw folder as columns (task_id, uscc, name, district, round, month, checker), in
    file order, each row with the unit that inspects it: the task's own inspection mode for that entity
    (市抽市查: the bureau or its department's unit; otherwise the unit of the entity's district), as the plan
    decides it, else the issuing bureau. The unit is worked out once per task, district and rules that hold."""
    issuer = loaded.policy.jurisdiction.name
    rnd = pl.col("round")
    frame = draw.drawn_columns("task_id", "uscc", "name", "district", "round", "month").with_columns(
        pl.when(rnd.is_null() | (rnd == 0)).then(pl.lit(1, pl.Int64)).otherwise(rnd).alias("round"))
    held = read_applies(draw.path)
    rules = pl.lit("")
    if held:
        # Each set of rules as one text, so that equal sets are one key.
        texts = {u: "|".join(sorted(r)) for u, r in held.items()}
        rules = pl.col("uscc").replace_strict(texts, default="", return_dtype=pl.String)
    frame = frame.with_columns(rules.alias("_rules"))
    keys = frame.select("task_id", "district", "_rules").unique(maintain_order=True)
    known: dict[tuple[str, str | None, frozenset[str]], str] = {}

    def checker(task_id: str, district: str | None, said: str) -> str:
        key = (task_id, district, frozenset(said.split("|")) if said else frozenset())
        if key not in known:
            task = [loaded.task(task_id)]
            how = participants.mode(task, key[2])
            known[key] = participants.unit_of(loaded, participants.lead_department(loaded, task), how, district) or issuer
        return known[key]

    units = keys.with_columns(pl.Series("checker", [checker(*k) for k in keys.iter_rows()], pl.String))
    return (frame.join(units, on=["task_id", "district", "_rules"], how="left", maintain_order="left", nulls_equal=True)
            .drop("_rules"))


def district_name(policy: Policy, district: str) -> str:
    for d in policy.jurisdiction.districts:
        if district in (d.name, d.code):
            return d.name
    return district


def district_order(policy: Policy, district: str) -> tuple[int, str]:
    names = [d.name for d in policy.jurisdiction.districts]
    name = district_name(policy, district)
    return (names.index(name) if name in names else len(names), name)


def task_span(policy: Policy, tasks: Sequence[Task]) -> str:
    """When the tasks are checked: their windows, else their campaigns', else their draw months."""
    campaigns = {c.id: c.window for c in policy.campaigns}
    only = policy.campaigns[0].window if len(policy.campaigns) == 1 else None
    windows = [t.window or campaigns.get(t.campaign or "") or only for t in tasks]
    if all(w is not None for w in windows):
        return cn_window(min(w.start for w in windows), max(w.end for w in windows))  # type: ignore[union-attr]
    months = [m for t in tasks for m in (t.draw_months or batch_span(t) or ((1, t.draw_by.month) if t.draw_by else ()))]
    if months:
        first, last = min(months), max(months)
        return f"{policy.year}年{first}月" + (f"至{last}月" if last != first else "")
    window = policy_window(policy)
    return cn_window(*window) if window else ""


def same_policy(loaded: LoadedPolicy, draw: DrawFolder) -> None:
    """A draw's documents come from the policy it was drawn under (N814), before any of its tasks is looked up."""
    if draw.policy_id != loaded.policy.id:
        raise SpotcheckError(Problem("N814", f"抽取结果属于策略 {draw.policy_id}，不是 {loaded.policy.id}",
                                     file=display(draw.path / "transcript.json"), hint="换用抽取时使用的策略文件"))


UNLISTED = ("按抽查计划，本任务不公开抽中名单：名单随抽取记录报送监督机构核验，"
            "被抽中的市场主体由检查单位以随机抽查通知书另行告知，检查结果按规定公示。")


def drawn_units(loaded: LoadedPolicy, drawn: pl.DataFrame) -> list[str]:
    """The units that inspect the draw's listed entities (drawn_frame's checker), in the policy's district
    order: one task announcement each when the officer asks for it per unit."""
    listed = [t.id for t in loaded.policy.tasks if t.publish_drawn]
    units = drawn.filter(pl.col("task_id").is_in(listed)).get_column("checker").unique().to_list()
    return sorted(units, key=lambda u: unit_order(loaded.policy, u))


def unit_order(policy: Policy, unit: str) -> tuple[int, str]:
    """Units in the order of the policy's districts (the bureau itself and other units after them)."""
    order = {d.unit: k for k, d in enumerate(policy.jurisdiction.districts)}
    return (order.get(unit, len(order)), unit)


def task_notice(loaded: LoadedPolicy, draw: DrawFolder, *, unit: str | None = None,
                drawn: pl.DataFrame | None = None) -> Notice:
    """The task announcement of a draw (the letters to the entities are notices.letters): the public
    one, so a task whose drawn list the policy does not publish (`publish_drawn: false`) gets its
    counts and no list, as on the public site. With `unit`, the lists that unit inspects, and only the
    tasks it has entities in. `drawn`: the draw's drawn_frame when the caller has it already (the
    announcements per unit read it once). The drawn lists are tables held as columns (FrameRows)."""
    policy = loaded.policy
    same_policy(loaded, draw)
    issuer = policy.jurisdiction.name
    plan_no, plan = plan_identity(policy)
    blocks: list[Block] = []
    drawn = drawn_frame(loaded, draw) if drawn is None else drawn
    if unit is not None:
        drawn = drawn.filter(pl.col("checker") == unit)
    by_task = drawn.partition_by("task_id", as_dict=True, maintain_order=True)
    n = 0
    for summary in draw.summary.tasks:
        task = loaded.task(summary.task_id)
        rows = by_task.get((task.id,), drawn.clear())
        if unit is not None and (not task.publish_drawn or not rows.height):
            continue
        n += 1
        no = task_no(policy, task)
        codes = loaded.visit_items([task.id])
        blocks.append(Heading(1, heading_number(1, n), f"第{no:03d}号抽查任务：{task.name}"))
        facts = [
            ("抽查计划", f"{plan}（{plan_no}）" if plan_no != policy.id else plan),
            ("抽查任务编号", f"{no:03d}"), ("抽查任务名称", task.name), ("抽查类型", task.type),
            ("抽查事项", "；".join(item_line(loaded, c) for c in codes)), ("抽查对象范围", task.scope_text),
            ("抽查比例/数量", sampling_text(task.sampling)), ("检查主体", task.inspecting_level or task.lead_unit or issuer),
            ("检查时间", task_span(policy, [task])), ("符合条件的市场主体", f"{summary.eligible}户"),
            ("抽取数量", f"{summary.drawn}户"),
        ]
        blocks.append(Table(("项目", "内容"), tuple((k, v) for k, v in facts if v), (1, 4)))
        strata = summary.strata
        if strata:
            blocks.append(Heading(2, heading_number(2, 1), "分层抽取情况"))
            blocks.append(Table(("层", "符合条件户数", "抽取户数"),
                                tuple((stratum_label(s.stratum), str(s.eligible), str(s.drawn)) for s in strata),
                                (3, 2, 2)))
        whole = f"本单位{rows.height}户，全任务共{summary.drawn}户" if unit is not None else f"共{summary.drawn}户"
        blocks.append(Heading(2, heading_number(2, 2 if strata else 1), f"抽取名单（{whole}）"))
        if not task.publish_drawn:
            blocks.append(Para(UNLISTED))
            continue
        rounds = rows.get_column("round").n_unique() > 1
        # A list per district and the unit inspecting there (one, unless the task's mode depends on the entity),
        # the lists in the order their first rows come, then sorted.
        lists = rows.partition_by("district", "checker", as_dict=True, maintain_order=True)
        shown = sorted(lists, key=lambda dc: (district_order(policy, dc[0]), unit_order(policy, dc[1])))
        for k, (district, checker) in enumerate(shown, 1):
            mine = lists[(district, checker)]
            said = policy.jurisdiction.districts and checker
            title = f"{district_name(policy, district)}（{mine.height}户）" + (f"，由{checker}检查" if said else "")
            blocks.append(Para(f"{heading_number(3, k)}{title}"))
            cells = [pl.int_range(1, pl.len() + 1).cast(pl.String).alias("序号"), "name", _key_texts(mine)]
            blocks.append(Table(
                DRAWN_COLUMNS + (("轮次",) if rounds else ()),
                FrameRows(mine.select(*cells, *((_round_text(),) if rounds else ()))),
                (1, 6, 4) + ((2,) if rounds else ())))
    mark = "（演练）" if draw.drill else ""
    return Notice(
        kind="task_notice", letter=False, issuer=issuer, number=None,
        title=f"{issuer}{policy.year}年度“双随机、一公开”抽查任务公告{f'（{unit}）' if unit else ''}{mark}", addressees=None,
        preamble=(f"按照《{plan}》，本局于{cn_date(draw.drawn_on)}随机抽取了以下抽查任务的检查对象（抽取编号 {draw.draw_id}），"
                  "现将抽查任务和抽取名单公告如下。",),
        body=tuple(blocks), contacts=(), attachments=(), signature=issuer, date=draw.drawn_on,
        disclosure="（信息公开类型：主动公开）", cc=None, printed_by=None,
        drill=draw.drill, draw_id=draw.draw_id,
    )


def _round_text() -> pl.Expr:
    """第2轮（8月）, or 第2轮 without a month."""
    month = pl.col("month")
    return pl.concat_str(pl.lit("第"), pl.col("round").cast(pl.String), pl.lit("轮"),
                         pl.when(month.is_null() | (month == 0)).then(pl.lit(""))
                         .otherwise(pl.concat_str(pl.lit("（"), month.cast(pl.String), pl.lit("月）")))).alias("轮次")


def _key_texts(rows: pl.DataFrame) -> pl.Expr:
    """Each row's key as key_text prints it, worked out for the few keys that are not a plain code."""
    codes = rows.get_column("uscc")
    odd = codes.filter(codes.str.contains(f"[{HOLDER_SEPARATOR}:]")).unique().to_list()
    return (pl.col("uscc").replace({k: key_text(k) for k in odd}) if odd else pl.col("uscc")).alias("统一社会信用代码")


# ---------------------------------------------------------------- results → results notice


@dataclass(frozen=True)
class ResultRow:
    """One checked entity as the national disclosure publishes it (never with its risk tier)."""

    task_id: str
    name: str
    uscc: str
    completed: dt.date
    result: str
    remarks: str = ""
    inspecting_body: str | None = None

    @classmethod
    def of(cls, row: ResultRow | Mapping) -> ResultRow:
        if isinstance(row, ResultRow):
            return row
        completed = row["completed"]
        return cls(
            task_id=str(row["task_id"]), name=str(row["name"]), uscc=str(row["uscc"]),
            completed=completed if isinstance(completed, dt.date) else dt.date.fromisoformat(str(completed)),
            result=str(row["result"]), remarks=str(row.get("remarks") or ""), inspecting_body=row.get("inspecting_body"),
        )


def result_columns(per_body: bool) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The results announcement's table: its columns and their widths, with 检查机关 when `per_body`."""
    if per_body:
        return ENTITY_COLUMNS, ENTITY_WIDTHS
    return tuple(c for c in ENTITY_COLUMNS if c != "检查机关"), SHARED_BODY_WIDTHS


def results_head(loaded: LoadedPolicy, task: Task, bodies: Sequence[str], count: int, published_on: dt.date) -> Notice:
    """The results announcement of `task`'s `count` checked entities without its rows: title, preamble, the
    facts every row shares and the table's columns. `bodies`: the inspecting bodies of its rows, each once;
    one is stated with the facts, more are a column of the table."""
    policy = loaded.policy
    no = f"{task_no(policy, task):03d}"
    issuer = policy.jurisdiction.name
    plan_no, plan = plan_identity(policy)
    facts = [("抽查计划编号", plan_no), ("抽查计划名称", plan), ("抽查任务编号", no), ("抽查任务名称", task.name),
             ("抽查类型", task.type)]
    per_body = len(set(bodies)) > 1
    if not per_body:
        facts.append(("检查机关", bodies[0]))
    columns, widths = result_columns(per_body)
    return Notice(
        kind="results_notice", letter=False, issuer=issuer, number=None,
        title=f"{issuer}{policy.year}年度第{no}号抽查任务检查结果公告", addressees=None,
        preamble=(f"根据《{plan}》，本局组织开展了第{no}号抽查任务“{task.name}”的随机抽查，现将检查结果公告如下。",),
        body=(Heading(1, heading_number(1, 1), "抽查任务基本情况"), Table(("项目", "内容"), tuple(facts), (1, 4)),
              Heading(1, heading_number(1, 2), f"检查结果（共{count}户）")),
        contacts=(), attachments=(), signature=issuer,
        date=published_on, disclosure="（信息公开类型：主动公开）", cc=None, printed_by=None,
        results=Table(columns, (), widths),
    )


def results_notice(loaded: LoadedPolicy, rows: Iterable[ResultRow | Mapping], published_on: dt.date) -> Notice:
    """“{机关}{年}年度第{NNN}号抽查任务检查结果公告” for the rows of one task, dated the day it is published
    (an announcement cannot be dated before it exists, nor by its last check)."""
    rows = [ResultRow.of(r) for r in rows]
    tasks = list(dict.fromkeys(r.task_id for r in rows))
    if len(tasks) != 1:
        raise SpotcheckError(Problem(
            "N820", "一份检查结果公告只能对应一个抽查任务" if tasks else "没有检查结果，无法生成结果公告",
            hint=f"按任务分别生成；本次结果涉及任务：{'、'.join(tasks)}" if tasks else "先录入检查结果"))
    task = loaded.task(tasks[0])
    default = task.inspecting_level or loaded.policy.jurisdiction.name
    bodies = [r.inspecting_body or default for r in rows]
    head = results_head(loaded, task, list(dict.fromkeys(bodies)), len(rows), published_on)
    per_body = "检查机关" in head.results.columns
    return replace(head, results=replace(head.results, rows=tuple(
        (str(i), *((body,) if per_body else ()), r.name, r.uscc, cn_date(r.completed), r.result, r.remarks)
        for i, (r, body) in enumerate(zip(rows, bodies, strict=True), 1))))
