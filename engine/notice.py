"""Official notices from a policy: numbered body, spliced-in tables and lists, then md, html, docx or pdf.

Every fact comes from data: the policy, its item lists and calendar, a draw folder, or the result rows
the results stage passes in. Templates lay the facts out and add only form wording (“附件：”,
“随机抽查通知书”); policy text is handed to them as values and never rendered as a template.

Templates are looked up from the policy's own folder up to templates/ (templates/shanxi/shuozhou/,
templates/shanxi/, templates/), so a city restyles one kind without copying the rest.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path, PurePosixPath

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from spotcheck.deadlines import monthly_dates, resolve
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.fields import TIER_NAMES, TIERS
from spotcheck.folder import write_file_atomic
from spotcheck.loader import LoadedPolicy, display, load_policy
from spotcheck.paths import POLICIES, TEMPLATES
from spotcheck.policy import METRIC_NAMES, Document, Policy, Section, Task, sampling_text, tier_ratio

KINDS = ("plan_notice", "campaign_notice", "scheme", "work_notice", "task_notice", "results_notice")
KIND_ALIASES = {k.removesuffix("_notice"): k for k in KINDS}
FORMATS = ("md", "html", "docx", "pdf")

PLAN_COLUMNS = ("序号", "抽查任务名称", "抽查类型", "抽查事项", "抽查对象范围", "抽查比例/数量", "抽取日期",
                "发起主体/指导单位", "抽查检查主体")
PLAN_WIDTHS = (5, 12, 6, 26, 14, 11, 10, 12, 11)
RESULT_COLUMNS = ("序号", "抽查计划编号/名称", "抽查任务编号/名称", "抽查类型", "检查机关", "市场主体名称",
                  "统一社会信用代码", "检查完成日期", "检查结果", "备注")
RESULT_WIDTHS = (4, 11, 13, 5, 10, 13, 18, 8, 11, 7)
DRAWN_COLUMNS = ("序号", "市场主体名称", "统一社会信用代码")

# ---------------------------------------------------------------- words and numbers

_DIGITS = "〇一二三四五六七八九"


def cn_number(n: int) -> str:
    """1 → 一, 10 → 十, 21 → 二十一 (headings never reach 100)."""
    if not 0 < n < 100:
        raise ValueError(f"heading number out of range: {n}")
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _DIGITS[tens] + "十")
    return head + (_DIGITS[ones] if ones else "")


def heading_number(depth: int, n: int) -> str:
    """The number of the n-th heading at `depth` (1-based): 一、 （一） 1. （1） then ①."""
    if depth == 1:
        return f"{cn_number(n)}、"
    if depth == 2:
        return f"（{cn_number(n)}）"
    if depth == 3:
        return f"{n}."
    if depth == 4:
        return f"（{n}）"
    return chr(0x2460 + n - 1) if n <= 20 else f"（{n}）"


def cn_date(d: dt.date | None) -> str:
    """2023-11-14 → 2023年11月14日, as GB/T 9704 writes dates (no leading zeros); no date, no text."""
    return "" if d is None else f"{d.year}年{d.month}月{d.day}日"


def cn_window(start: dt.date, end: dt.date) -> str:
    """2023年11月13日至12月31日: the end drops the year when it is the start's year."""
    tail = f"{end.month}月{end.day}日" if end.year == start.year else cn_date(end)
    return f"{cn_date(start)}至{tail}"


def percent_text(f: Fraction) -> str:
    """Fraction(7, 100) → 7%, Fraction(1, 200) → 0.5% — exact, never through a float."""
    value = Decimal(f.numerator * 100) / Decimal(f.denominator)
    return f"{value.normalize():f}%"


def stratum_label(stratum: str) -> str:
    """A draw stratum as officers read it: "B" → B级（一般风险）, "B|海港区" → B级（一般风险）·海港区."""
    return "·".join(f"{p}级（{TIER_NAMES[p]}）" if p in TIER_NAMES else p for p in stratum.split("|"))


def _joined_list(lines: Sequence[str], depth: int) -> list[str]:
    """Numbered lines ending ；, the last one 。 — the way notices enumerate."""
    out = []
    for i, line in enumerate(lines, 1):
        if "。" in line.rstrip("。"):
            text = line if line.endswith("。") else line + "。"  # a paragraph of its own keeps its sentences
        else:
            text = line.rstrip("；。;.") + ("。" if i == len(lines) else "；")
        out.append(f"{heading_number(3 if depth < 3 else 4, i)}{text}")
    return out


# ---------------------------------------------------------------- the document model handed to templates


@dataclass(frozen=True)
class Heading:
    level: int
    number: str
    text: str
    runin: str | None = None  # a sentence heading (ends with 。) runs into its first paragraph
    kind: str = "heading"


@dataclass(frozen=True)
class Para:
    text: str
    kind: str = "para"


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[int, ...]  # relative column widths
    kind: str = "table"


Block = Heading | Para | Table


@dataclass(frozen=True)
class Annex:
    """An attachment printed after the signature on its own pages (附件另面编排)."""

    label: str  # 附件 / 附件1
    title: str
    blocks: tuple[Block, ...]
    landscape: bool = False


@dataclass(frozen=True)
class EntityNotice:
    """One 随机抽查通知书 to a drawn entity: every task it was drawn for in one month, one visit."""

    entity: str
    uscc: str
    district: str
    task_no: str  # 第001号、第009号
    tasks: str  # “名称”抽查任务（第001号）、…
    plan: str
    basis: str  # legal bases of the items, joined with 、; "" when the item list gives none
    items: tuple[str, ...]  # numbered lines, the items of all its tasks
    window: str
    methods: str  # "" when the item list gives none
    inspector: str  # the inspecting body
    contacts: tuple[str, ...]
    signature: str
    date: dt.date


@dataclass(frozen=True)
class Notice:
    """One official document, laid out by a template; every string here is data, never a template."""

    kind: str
    letter: bool
    issuer: str
    number: str | None
    title: str
    addressees: str | None  # 各……，……：
    preamble: tuple[str, ...]
    body: tuple[Block, ...]
    contacts: tuple[str, ...]
    attachments: tuple[str, ...]  # the lines after “附件：”
    signature: str
    date: dt.date | None  # None only for a plan generated from tasks alone
    disclosure: str | None  # （信息公开类型：主动公开）
    cc: str | None
    printed_by: str | None
    enclosure_title: str | None = None
    enclosure: tuple[Block, ...] = ()
    annexes: tuple[Annex, ...] = ()
    entity_notices: tuple[EntityNotice, ...] = ()
    results: Table | None = None
    drill: bool = False
    draw_id: str | None = None


# ---------------------------------------------------------------- generated content


def _problem(code: str, message: str, loaded: LoadedPolicy | None = None, *path: object, hint: str | None = None) -> Problem:
    pos = loaded.pos(*path) if loaded is not None and path else None
    if pos is not None:
        return Problem(code, message, file=pos.file, line=pos.line, col=pos.col, hint=hint)
    return Problem(code, message, file=display(loaded.path) if loaded is not None else None, hint=hint)


def policy_window(policy: Policy) -> tuple[dt.date, dt.date] | None:
    """The inspection window: the campaigns' and tasks' windows together."""
    windows = [c.window for c in policy.campaigns] + [t.window for t in policy.tasks if t.window is not None]
    if not windows:
        return None
    return min(w.start for w in windows), max(w.end for w in windows)


def item_line(loaded: LoadedPolicy, code: str) -> str:
    """An item with its sub-items in parentheses, as seed 000 lists them."""
    item = loaded.items[code]
    if not item.sub_items:
        return item.name
    return f"{item.name}（{'，'.join(s.name for s in item.sub_items)}）"


def _task_items_text(loaded: LoadedPolicy, task: Task) -> str:
    if task.items_text:
        return task.items_text
    names = [loaded.items[c].name for c in task.items]
    return names[0] if len(names) == 1 else "；".join(f"{i}. {n}" for i, n in enumerate(names, 1))


def _initiator_text(task: Task) -> str:
    parts = []
    if task.initiator:
        parts.append(task.initiator if task.initiator.endswith("发起") else f"{task.initiator}组织发起")
    if task.guide:
        guide = task.guide if task.guide.endswith("指导") else f"{task.guide}指导"
        parts.append(f"/{guide}" if parts else guide)
    return "".join(parts)


def task_no(policy: Policy, task: Task) -> int:
    return task.no if task.no is not None else policy.tasks.index(task) + 1


def plan_table(loaded: LoadedPolicy) -> Table:
    """Seed 002's 9-column annual plan table, one row per task."""
    policy = loaded.policy
    rows = []
    window = policy_window(policy)
    for task in policy.tasks:
        # 抽取日期: the draw months, else the months of the task's (or the policy's) inspection window.
        span = task.draw_months or ((task.window.start.month, task.window.end.month) if task.window else None)
        span = span or ((window[0].month, window[1].month) if window else None)
        months = f"{span[0]}月-{span[1]}月" if span else ""
        rows.append((
            str(task_no(policy, task)), task.name, task.type, _task_items_text(loaded, task), task.scope_text,
            sampling_text(task.sampling), months, _initiator_text(task), task.inspecting_level or "",
        ))
    return Table(PLAN_COLUMNS, tuple(rows), PLAN_WIDTHS)


def _sampling_lines(loaded: LoadedPolicy) -> list[str]:
    """抽查比例 as officers write it: one line when every task shares it, else one line per task."""
    policy = loaded.policy
    graded = "结合企业信用风险分级分类，" if any("tier" in t.sampling.stratify for t in policy.tasks) else ""
    texts = {t.id: sampling_text(t.sampling) + _by_tier_text(loaded, t) for t in policy.tasks}
    overall = [c for c in policy.campaigns if c.ratio is not None]
    lines = [f"{graded}按照总体不低于{c.ratio.normalize():f}%的比例抽取" for c in overall]
    shared = set(texts.values())
    if len(shared) == 1:
        (text,) = shared
        if not any(text == f"不低于{c.ratio.normalize():f}%" for c in overall):
            lines.append(f"{graded}按照{text}的比例抽取" if len(policy.tasks) == 1 else f"各抽查任务抽查比例均为{text}")
    else:
        lines += [f"{t.name}：{texts[t.id]}" for t in policy.tasks]
    return lines


def _by_tier_text(loaded: LoadedPolicy, task: Task) -> str:
    tiers = [t for t in TIERS if t in task.sampling.by_tier]
    if not tiers:
        return ""
    return f"，其中{'，'.join(f'{_tier_name(loaded, t)}{percent_text(tier_ratio(task, loaded.policy.risk, t))}' for t in tiers)}"


def _tier_name(loaded: LoadedPolicy, tier: str) -> str:
    rule = loaded.policy.risk.tiers.get(tier)
    return f"{tier}级（{rule.label if rule is not None and rule.label else TIER_NAMES[tier]}）"


def _tier_lines(loaded: LoadedPolicy) -> list[str]:
    """Each tier's own rule, A (low) to D (high); tiers the policy gives no numbers for are left out."""
    policy = loaded.policy
    lines = []
    for tier in TIERS:
        rule = policy.risk.tiers.get(tier)
        if rule is None:
            continue
        parts = []
        if rule.ratio is not None:
            parts.append(f"抽查比例{rule.ratio.normalize():f}%")
        if rule.multiplier is not None:
            parts.append(f"按任务抽查比例的{rule.multiplier.normalize():f}倍抽取（最高100%）")
        if rule.max_checks_per_year is not None:
            parts.append(f"同一年度抽查不超过{rule.max_checks_per_year}次")
        if parts:
            lines.append(f"{_tier_name(loaded, tier)}：{'，'.join(parts)}")
    return lines


def _deadline_lines(loaded: LoadedPolicy, doc_date: dt.date) -> list[str]:
    """Each time limit as the notice words it, with the date it gives on the policy's calendar."""
    policy = loaded.policy
    window = policy_window(policy)
    anchors = {"scheme_received": doc_date}
    if window is not None:
        anchors["check_completed"] = window[1]
    due = resolve(policy.deadlines, anchors, loaded.calendar)
    lines = []
    for rid, rule in policy.deadlines.items():
        text = rule.text or rule.name
        if rule.monthly is not None:
            days = "、".join(f"{d.month}月{d.day}日" for d in monthly_dates(rule, policy.year, loaded.calendar))
            lines.append(f"{text}（{policy.year}年各月期限：{days}）")
        elif rule.on is not None:
            said = f"{rule.on.month}月{rule.on.day}日" in text.replace(" ", "")
            lines.append(text if said else f"{text}（{cn_date(rule.on)}前）")
        elif rid in due:
            start = anchors.get(rule.after) or due[rule.after]  # the order resolve() counts from
            what = {"check_completed": "以检查时间截止日", "scheme_received": "以成文日期"}.get(rule.after, "以上一期限届满日")
            count = f"{rule.working_days}个工作日" if rule.working_days else f"{rule.calendar_days}日"
            lines.append(f"{text}（{what}{cn_date(start)}起算{count}，至{cn_date(due[rid])}）")
        else:
            lines.append(text)
    return lines


def _target_lines(loaded: LoadedPolicy) -> list[str]:
    policy = loaded.policy
    return [f"{METRIC_NAMES[m]}：{t.text or f'{t.value.normalize():f}%'}" for m, t in policy.targets.items()]


def contact_lines(doc: Document) -> list[str]:
    """联系人、电话、邮箱 lines; several contacts share each line, as seed 001 writes them."""
    if not doc.contacts:
        return []
    names = " ".join(f"{c.unit}{c.name}" if c.unit else c.name for c in doc.contacts)
    lines = [f"联系人：{names}"]
    phones = [c.phone for c in doc.contacts if c.phone]
    if phones:
        lines.append(f"{'电话' if len(doc.contacts) == 1 else '联系电话'}：{' '.join(phones)}")
    emails = [c.email for c in doc.contacts if c.email]
    if emails:
        lines.append(f"邮箱：{' '.join(emails)}")
    return lines


def _pool_lines(loaded: LoadedPolicy) -> list[str]:
    out = []
    for pool in loaded.policy.team.pools:
        text = f"{pool.kind}库" + (f"：{'、'.join(pool.specialties)}" if pool.specialties else "")
        out.append(text + (f"（{pool.note}）" if pool.note else ""))
    return out


def _scope_lines(loaded: LoadedPolicy) -> list[str]:
    tasks = loaded.policy.tasks
    if len(tasks) == 1:
        return [tasks[0].scope_text]
    return [f"{t.scope_text}，抽查比例为{sampling_text(t.sampling)}" for t in tasks]


class _Body:
    """Walks a document's sections and numbers them by depth; `include:` splices generated blocks."""

    def __init__(self, loaded: LoadedPolicy, doc: Document) -> None:
        self.loaded = loaded
        self.doc = doc
        self.included: set[str] = set()
        self.problems: list[Problem] = []

    def sections(self, sections: Sequence[Section], depth: int, path: tuple) -> list[Block]:
        out: list[Block] = []
        for n, section in enumerate(sections, 1):
            out += self.section(section, depth, n, (*path, n - 1))
        return out

    def section(self, s: Section, depth: int, n: int, path: tuple) -> list[Block]:
        number = heading_number(depth, n)
        texts = list(s.text)
        out: list[Block] = []
        if s.heading is None:
            # A section without a heading is a numbered paragraph: the number leads its first text.
            first = texts.pop(0) if texts else ""
            out.append(Para(f"{number}{first}"))
        elif s.heading.endswith("。") and depth >= 2 and texts:
            out.append(Heading(depth, number, s.heading, texts.pop(0)))
        else:
            out.append(Heading(depth, number, s.heading))
        out += [Para(t) for t in texts]
        if s.include is not None:
            out += self.include(s.include, depth, (*path, "include"))
        return out + self.sections(s.sections, depth + 1, (*path, "sections"))

    def include(self, what: str, depth: int, path: tuple) -> list[Block]:
        loaded, policy = self.loaded, self.loaded.policy
        self.included.add(what)
        where = ("documents", policy.documents.index(self.doc), "sections", *path)
        if what == "tasks" and policy.tasks:
            return [plan_table(loaded)]
        if what == "contacts" and self.doc.contacts:
            return [Para(line) for line in contact_lines(self.doc)]
        if what == "window":
            window = policy_window(policy)
            if window is None:
                self.problems.append(_problem("N801", "正文要求插入检查时间（include: window），但策略没有写任何抽查活动或任务的检查时间",
                                              loaded, *where, hint="在 campaigns 或 tasks 中写明 window: {start, end}"))
                return []
            return [Para(f"{cn_window(*window)}。")]
        if what == "tiers":
            intro = policy.risk.note or f"依据企业信用风险分类结果，从由低到高划分的{'、'.join(TIERS)}四个风险等级中随机抽取检查对象。"
            return [Para(intro), *[Para(t) for t in _joined_list(_tier_lines(loaded), depth)]]
        lines = {
            "items": lambda: [item_line(loaded, c) for c in loaded.visit_items([t.id for t in policy.tasks])],
            "scope": lambda: _scope_lines(loaded),
            "sampling": lambda: _sampling_lines(loaded),
            "deadlines": lambda: _deadline_lines(loaded, self.doc.date),
            "targets": lambda: _target_lines(loaded),
            "steps": lambda: list(policy.steps),
            "pools": lambda: _pool_lines(loaded),
        }.get(what, list)()
        if not lines:
            self.problems.append(_problem("N802", f"正文要求插入“{what}”，但策略中没有相应内容", loaded, *where,
                                          hint=f"在策略中补充 {what}，或删去该处 include"))
            return []
        if what == "targets" and policy.targets_due is not None:
            return [Para(t) for t in _joined_list(lines, depth)] + [Para(f"以上目标于{cn_date(policy.targets_due)}前完成。")]
        if len(lines) == 1 and what in ("scope", "sampling"):
            return [Para(lines[0].rstrip("；。") + "。")]
        return [Para(t) for t in _joined_list(lines, depth)]


def _attachment_lines(names: Sequence[str]) -> tuple[str, ...]:
    if len(names) == 1:
        return (names[0],)
    return tuple(f"{i}. {n}" for i, n in enumerate(names, 1))


def generated_plan(loaded: LoadedPolicy) -> Notice:
    """The plan of a policy that carries no plan notice: its task table under the jurisdiction's name.

    Undated: the policy holds no date for a document it does not contain.
    """
    policy = loaded.policy
    name = f"{policy.jurisdiction.name}{policy.year}年度“双随机、一公开”抽查工作计划"
    return Notice(
        kind="plan_notice", letter=False, issuer=policy.jurisdiction.name, number=None,
        title=f"{policy.jurisdiction.name}关于印发{policy.year}年度“双随机、一公开”抽查工作计划的通知",
        addressees=None, preamble=(), body=(), contacts=(), attachments=(name,),
        signature=policy.jurisdiction.name, date=None, disclosure="（信息公开类型：主动公开）", cc=None,
        printed_by=None, annexes=(Annex("附件", name, (plan_table(loaded),), landscape=True),),
    )


def document_notice(loaded: LoadedPolicy, doc: Document) -> Notice:
    """The Notice of one of the policy's documents."""
    body = _Body(loaded, doc)
    blocks = tuple(body.sections(doc.sections, 1, ()))
    if body.problems:
        raise SpotcheckError(body.problems)
    annexes: tuple[Annex, ...] = ()
    if doc.kind == "plan_notice" and "tasks" not in body.included and loaded.policy.tasks:
        title = doc.attachments[0] if doc.attachments else f"{doc.issuer}{loaded.policy.year}年度“双随机、一公开”抽查工作计划"
        label = "附件" if len(doc.attachments) <= 1 else "附件1"
        annexes = (Annex(label, title, (plan_table(loaded),), landscape=True),)
    enclosed = doc.enclosure_title is not None
    return Notice(
        kind=doc.kind, letter=doc.letter, issuer=doc.issuer, number=doc.number.text() if doc.number else None,
        title=doc.title, addressees=f"{'，'.join(doc.addressees)}：" if doc.addressees else None,
        preamble=tuple(doc.preamble), body=() if enclosed else blocks,
        contacts=() if "contacts" in body.included else tuple(contact_lines(doc)),
        attachments=_attachment_lines(doc.attachments), signature=doc.issuer, date=doc.date,
        disclosure=f"（信息公开类型：{doc.disclosure}）" if doc.disclosure else None,
        cc=f"抄送：{'，'.join(doc.cc)}。" if doc.cc else None, printed_by=doc.printed_by,
        enclosure_title=doc.enclosure_title, enclosure=blocks if enclosed else (), annexes=annexes,
    )


def plan_document(policy: Policy) -> Document | None:
    """The document the public reads as “the plan”: the default one, else the first plan/work/scheme."""
    by_id = {d.id: d for d in policy.documents}
    if policy.default_document in by_id:
        return by_id[policy.default_document]
    return next((d for d in policy.documents if d.kind in ("plan_notice", "work_notice", "scheme")), None)


def _plan_name(policy: Policy) -> tuple[str, str]:
    """(plan number, plan name) for publication tables."""
    doc = plan_document(policy)
    if doc is None:
        return policy.id, f"{policy.jurisdiction.name}{policy.year}年度“双随机、一公开”抽查工作计划"
    return (doc.number.text() if doc.number else policy.id), (doc.enclosure_title or doc.title)


# ---------------------------------------------------------------- draw folders → task notice


@dataclass(frozen=True)
class DrawnRow:
    task_id: str
    uscc: str
    name: str
    district: str
    round: int
    month: int | None


@dataclass(frozen=True)
class DrawFolder:
    """What a task notice reads from a draw folder (written by spotcheck.draw)."""

    path: Path
    draw_id: str
    drill: bool
    drawn_on: dt.date
    policy_id: str
    tasks: tuple[Mapping, ...]  # summary.json "tasks": task_id, eligible, drawn, strata[], by_district{}
    rows: tuple[DrawnRow, ...]


DRAW_COLUMNS = ("task_id", "uscc", "name", "district")


def read_draw(path: str | Path) -> DrawFolder:
    """Read summary.json, draws.csv and transcript.json, and check the list against the summary's counts."""
    path = Path(path)
    problems: list[Problem] = []
    docs: dict[str, dict] = {}
    for name in ("summary.json", "transcript.json"):
        file = path / name
        try:
            docs[name] = json.loads(file.read_text("utf-8"))
        except FileNotFoundError:
            problems.append(Problem("N810", f"抽取结果目录中没有 {name}", file=display(file),
                                    hint="--draw 应指向 spotcheck draw 生成的目录"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            problems.append(Problem("N811", f"{name} 不是有效的 JSON：{exc}", file=display(file)))
    rows: list[DrawnRow] = []
    csv_file = path / "draws.csv"
    try:
        reader = csv.DictReader(io.StringIO(csv_file.read_text("utf-8-sig")))
        missing = [c for c in DRAW_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            problems.append(Problem("N812", f"draws.csv 缺少列：{'、'.join(missing)}", file=display(csv_file), row=1,
                                    hint=f"抽取名单至少需要列 {'、'.join(DRAW_COLUMNS)}"))
        else:
            for r in reader:
                rows.append(DrawnRow(r["task_id"], r["uscc"], r["name"], r["district"], int(r.get("round") or 1),
                                     int(r["month"]) if r.get("month") else None))
    except FileNotFoundError:
        problems.append(Problem("N810", "抽取结果目录中没有 draws.csv", file=display(csv_file),
                                hint="--draw 应指向 spotcheck draw 生成的目录"))
    if problems:
        raise SpotcheckError(problems)
    summary, transcript = docs["summary.json"], docs["transcript.json"]
    tasks = tuple(summary.get("tasks", []))
    for task in tasks:
        mine = [r for r in rows if r.task_id == task["task_id"]]
        counted: dict[str, int] = {}
        for r in mine:
            counted[r.district] = counted.get(r.district, 0) + 1
        expected = {k: int(v) for k, v in task.get("by_district", {}).items()}
        if counted != expected or len(mine) != int(task["drawn"]):
            problems.append(Problem(
                "N813", f"任务 '{task['task_id']}' 的抽取名单与 summary.json 不一致：名单 {len(mine)} 户 {counted}，"
                        f"汇总 {task['drawn']} 户 {expected}",
                file=display(csv_file), hint="抽取结果目录可能被改动过，请用 spotcheck verify 重新核验"))
    unknown = sorted({r.task_id for r in rows} - {t["task_id"] for t in tasks})
    if unknown:
        problems.append(Problem("N813", f"draws.csv 中的任务 {'、'.join(unknown)} 不在 summary.json 中", file=display(csv_file)))
    if problems:
        raise SpotcheckError(problems)
    return DrawFolder(path, str(summary.get("draw_id", "")), bool(transcript.get("drill")),
                      dt.date.fromisoformat(transcript["drawn_on"]), transcript.get("policy", {}).get("id", ""),
                      tasks, tuple(rows))


def _district_unit(policy: Policy, district: str) -> str | None:
    for d in policy.jurisdiction.districts:
        if district in (d.name, d.code):
            return d.unit
    return None


def _district_name(policy: Policy, district: str) -> str:
    for d in policy.jurisdiction.districts:
        if district in (d.name, d.code):
            return d.name
    return district


def _district_order(policy: Policy, district: str) -> tuple[int, str]:
    names = [d.name for d in policy.jurisdiction.districts]
    name = _district_name(policy, district)
    return (names.index(name) if name in names else len(names), name)


def _task_span(policy: Policy, tasks: Sequence[Task]) -> str:
    windows = [t.window for t in tasks if t.window is not None]
    if windows:
        return cn_window(min(w.start for w in windows), max(w.end for w in windows))
    window = policy_window(policy)
    return cn_window(*window) if window else ""


def task_notice(loaded: LoadedPolicy, draw: DrawFolder) -> Notice:
    """The task announcement of a draw, then one 随机抽查通知书 per drawn entity and month."""
    policy = loaded.policy
    if draw.policy_id and draw.policy_id != policy.id:
        raise SpotcheckError(Problem("N814", f"抽取结果属于策略 {draw.policy_id}，不是 {policy.id}",
                                     file=display(draw.path / "transcript.json"), hint="换用抽取时使用的策略文件"))
    issuer = policy.jurisdiction.name
    plan_no, plan = _plan_name(policy)
    blocks: list[Block] = []
    for n, summary in enumerate(draw.tasks, 1):
        task = loaded.task(summary["task_id"])
        no = task_no(policy, task)
        codes = loaded.visit_items([task.id])
        blocks.append(Heading(1, heading_number(1, n), f"第{no:03d}号抽查任务：{task.name}"))
        facts = [
            ("抽查计划", f"{plan}（{plan_no}）" if plan_no != policy.id else plan),
            ("抽查任务编号", f"{no:03d}"), ("抽查任务名称", task.name), ("抽查类型", task.type),
            ("抽查事项", "；".join(item_line(loaded, c) for c in codes)), ("抽查对象范围", task.scope_text),
            ("抽查比例/数量", sampling_text(task.sampling)), ("检查主体", task.inspecting_level or task.lead_unit or issuer),
            ("检查时间", _task_span(policy, [task])), ("符合条件的市场主体", f"{summary['eligible']}户"),
            ("抽取数量", f"{summary['drawn']}户"),
        ]
        blocks.append(Table(("项目", "内容"), tuple((k, v) for k, v in facts if v), (1, 4)))
        strata = summary.get("strata", [])
        if strata:
            blocks.append(Heading(2, heading_number(2, 1), "分层抽取情况"))
            blocks.append(Table(("层", "符合条件户数", "抽取户数"),
                                tuple((stratum_label(s["stratum"]), str(s["eligible"]), str(s["drawn"])) for s in strata),
                                (3, 2, 2)))
        blocks.append(Heading(2, heading_number(2, 2 if strata else 1), f"抽取名单（共{summary['drawn']}户）"))
        rows = [r for r in draw.rows if r.task_id == task.id]
        rounds = len({r.round for r in rows}) > 1
        districts = sorted(summary.get("by_district", {}), key=lambda d: _district_order(policy, d))
        for k, district in enumerate(districts, 1):
            mine = [r for r in rows if r.district == district]
            unit = _district_unit(policy, district)
            title = f"{_district_name(policy, district)}（{len(mine)}户）" + (f"，由{unit}检查" if unit else "")
            blocks.append(Para(f"{heading_number(3, k)}{title}"))
            blocks.append(Table(
                DRAWN_COLUMNS + (("轮次",) if rounds else ()),
                tuple((str(i), r.name, r.uscc) + ((_round_text(r),) if rounds else ()) for i, r in enumerate(mine, 1)),
                (1, 6, 4) + ((2,) if rounds else ())))
    mark = "（演练）" if draw.drill else ""
    return Notice(
        kind="task_notice", letter=False, issuer=issuer, number=None,
        title=f"{issuer}{policy.year}年度“双随机、一公开”抽查任务公告{mark}", addressees=None,
        preamble=(f"按照《{plan}》，本局于{cn_date(draw.drawn_on)}随机抽取了以下抽查任务的检查对象（抽取编号 {draw.draw_id}），"
                  "现将抽查任务和抽取名单公告如下。",),
        body=tuple(blocks), contacts=(), attachments=(), signature=issuer, date=draw.drawn_on,
        disclosure="（信息公开类型：主动公开）", cc=None, printed_by=None,
        entity_notices=tuple(_entity_notices(loaded, draw, plan)), drill=draw.drill, draw_id=draw.draw_id,
    )


def _round_text(r: DrawnRow) -> str:
    return f"第{r.round}轮" + (f"（{r.month}月）" if r.month else "")


def _entity_notices(loaded: LoadedPolicy, draw: DrawFolder, plan: str) -> list[EntityNotice]:
    """An entity drawn for several tasks in one month gets one notice with every item of them all."""
    policy = loaded.policy
    plan_doc = plan_document(policy)
    contacts = tuple(contact_lines(plan_doc)) if plan_doc else ()
    visits: dict[tuple[str, int | None], list[DrawnRow]] = {}
    for r in draw.rows:
        visits.setdefault((r.uscc, r.month), []).append(r)
    ordered = sorted(visits.values(), key=lambda rs: (_district_order(policy, rs[0].district), rs[0].month or 0))
    out = []
    for rows in ordered:
        tasks = [loaded.task(t) for t in dict.fromkeys(r.task_id for r in rows)]
        codes = loaded.visit_items([t.id for t in tasks])
        items = [loaded.items[c] for c in codes]
        nos = [f"第{task_no(policy, t):03d}号" for t in tasks]
        unit = _district_unit(policy, rows[0].district)
        out.append(EntityNotice(
            entity=rows[0].name, uscc=rows[0].uscc, district=_district_name(policy, rows[0].district),
            task_no="、".join(nos), tasks="、".join(f"“{t.name}”抽查任务（{no}）" for t, no in zip(tasks, nos, strict=True)),
            plan=plan, basis="、".join(dict.fromkeys(i.basis for i in items if i.basis)),
            items=tuple(_joined_list([item_line(loaded, c) for c in codes], 1)), window=_task_span(policy, tasks),
            methods="、".join(dict.fromkeys(m for i in items for m in i.method)),
            inspector=unit or "、".join(dict.fromkeys(t.inspecting_level or t.lead_unit or policy.jurisdiction.name for t in tasks)),
            contacts=contacts, signature=unit or policy.jurisdiction.name, date=draw.drawn_on,
        ))
    return out


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


def results_notice(loaded: LoadedPolicy, rows: Iterable[ResultRow | Mapping]) -> Notice:
    """“{机关}{年}年度第{NNN}号抽查任务检查结果公告” for the rows of one task."""
    policy = loaded.policy
    rows = [ResultRow.of(r) for r in rows]
    tasks = list(dict.fromkeys(r.task_id for r in rows))
    if len(tasks) != 1:
        raise SpotcheckError(Problem(
            "N820", "一份检查结果公告只能对应一个抽查任务" if tasks else "没有检查结果，无法生成结果公告",
            hint=f"按任务分别生成；本次结果涉及任务：{'、'.join(tasks)}" if tasks else "先录入检查结果"))
    task = loaded.task(tasks[0])
    no = f"{task_no(policy, task):03d}"
    issuer = policy.jurisdiction.name
    plan_no, plan = _plan_name(policy)
    body = task.inspecting_level or issuer
    table = Table(RESULT_COLUMNS, tuple(
        (str(i), f"{plan_no}/{plan}", f"{no}/{task.name}", task.type, r.inspecting_body or body, r.name, r.uscc,
         cn_date(r.completed), r.result, r.remarks)
        for i, r in enumerate(rows, 1)), RESULT_WIDTHS)
    last = max(r.completed for r in rows)
    return Notice(
        kind="results_notice", letter=False, issuer=issuer, number=None,
        title=f"{issuer}{policy.year}年度第{no}号抽查任务检查结果公告", addressees=None,
        preamble=(f"根据《{plan}》，本局组织开展了第{no}号抽查任务“{task.name}”的随机抽查，现将检查结果公告如下。",),
        body=(), contacts=(), attachments=(), signature=issuer, date=last,
        disclosure="（信息公开类型：主动公开）", cc=None, printed_by=None, results=table,
    )


# ---------------------------------------------------------------- choosing what to render


def normalize_kind(kind: str | None) -> str | None:
    if kind is None or kind in KINDS:
        return kind
    if kind in KIND_ALIASES:
        return KIND_ALIASES[kind]
    raise SpotcheckError(Problem("N803", f"没有这种文种：{kind}", hint=f"可用：{'、'.join(KINDS)}（也可省略 _notice）"))


def choose_notice(loaded: LoadedPolicy, kind: str | None = None, document: str | None = None,
                  draw_dir: str | Path | None = None) -> Notice:
    """The Notice `spotcheck notice` renders: by --document, by --kind, else the policy's default document."""
    policy = loaded.policy
    kind = normalize_kind(kind) or ("task_notice" if draw_dir is not None and document is None else None)
    if kind == "task_notice":
        if draw_dir is None:
            raise SpotcheckError(Problem("N804", "任务公告由抽取结果生成，需要 --draw 指定抽取结果目录",
                                         hint="先运行 spotcheck draw，再用 --draw 指向其输出目录"))
        return task_notice(loaded, read_draw(draw_dir))
    if kind == "results_notice":
        raise SpotcheckError(Problem("N804", "检查结果公告由结果阶段根据检查结果生成，不能只凭策略生成",
                                     hint="在结果阶段调用 render_results_notice"))
    ids = [d.id for d in policy.documents]
    if document is not None:
        doc = next((d for d in policy.documents if d.id == document), None)
        if doc is None:
            raise SpotcheckError(_problem("N805", f"策略中没有文件 '{document}'", loaded, "documents",
                                          hint=f"已有文件：{'、'.join(ids) or '（无）'}"))
        if kind is not None and doc.kind != kind:
            raise SpotcheckError(_problem("N805", f"文件 '{document}' 的文种是 {doc.kind}，不是 {kind}", loaded, "documents"))
        return document_notice(loaded, doc)
    if kind is not None:
        doc = next((d for d in policy.documents if d.kind == kind), None)
        if doc is None and kind == "plan_notice" and policy.tasks:
            return generated_plan(loaded)
        if doc is None:
            raise SpotcheckError(_problem("N805", f"策略中没有 {kind} 文件", loaded, "documents",
                                          hint=f"已有文件：{'、'.join(f'{d.id}（{d.kind}）' for d in policy.documents) or '（无）'}"))
        return document_notice(loaded, doc)
    chosen = plan_document(policy) if policy.default_document else (policy.documents[0] if policy.documents else None)
    if chosen is None:
        if policy.tasks:
            return generated_plan(loaded)
        raise SpotcheckError(_problem("N805", "策略中没有可生成的文件（documents 为空，也没有任务）", loaded,
                                      hint="在策略中写 documents，或用 --kind task --draw DIR 生成任务公告"))
    return document_notice(loaded, chosen)


# ---------------------------------------------------------------- templates


def jurisdiction_path(loaded: LoadedPolicy) -> PurePosixPath:
    """The policy's folder under policies/ (shanxi/shuozhou); from its id when it lives elsewhere."""
    try:
        return PurePosixPath(loaded.path.resolve().parent.relative_to(POLICIES.resolve()).as_posix())
    except ValueError:
        return PurePosixPath(loaded.policy.id).parent


def search_path(loaded: LoadedPolicy, root: Path = TEMPLATES) -> list[Path]:
    """Template folders, most specific first: templates/shanxi/shuozhou, templates/shanxi, templates."""
    parts = jurisdiction_path(loaded).parts
    return [root.joinpath(*parts[:i]) for i in range(len(parts), 0, -1)] + [root]


def template_name(kind: str, fmt: str) -> str:
    return f"docx/{kind}.docx" if fmt in ("docx", "pdf") else f"{kind}.{fmt}.j2"


def find_template(loaded: LoadedPolicy, kind: str, fmt: str, root: Path = TEMPLATES) -> Path:
    name = template_name(kind, fmt)
    for folder in search_path(loaded, root):
        if (folder / name).is_file():
            return folder / name
    raise SpotcheckError(Problem("N806", f"找不到模板 {name}", file=display(root),
                                 hint=f"在 {display(root)} 或其下的辖区目录中放置 {name}"))


def list_templates(loaded: LoadedPolicy, root: Path = TEMPLATES) -> list[tuple[str, str, Path | None]]:
    """(kind, format, the file that will be used or None) for every kind and format."""
    out = []
    for kind in KINDS:
        for fmt in FORMATS:
            try:
                out.append((kind, fmt, find_template(loaded, kind, fmt, root)))
            except SpotcheckError:
                out.append((kind, fmt, None))
    return out


def _environment(folders: Sequence[Path], html: bool) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=FileSystemLoader([str(f) for f in folders]), undefined=StrictUndefined, autoescape=html,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )
    env.filters.update(cn_date=cn_date, md_cell=lambda s: str(s).replace("|", "\\|").replace("\n", " "))
    return env


def template_problem(exc: Exception, template: Path) -> Problem:
    """Name the template file and line of a rendering error (jinja keeps template lines in tracebacks)."""
    file, line = str(template), getattr(exc, "lineno", None)
    if isinstance(exc, TemplateSyntaxError) and exc.filename:
        file = exc.filename
    else:
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if frame.filename.endswith((".j2", ".css")) or frame.filename == "<template>":
                file = frame.filename if frame.filename != "<template>" else str(template)
                line = frame.lineno
                break
    what = {UndefinedError: ("N807", "模板引用了不存在的变量"), SecurityError: ("N808", "模板执行了不允许的操作")}
    code, message = next((v for k, v in what.items() if isinstance(exc, k)), ("N809", "模板有错误"))
    return Problem(code, f"{message}：{exc.message or exc}", file=display(file), line=line,
                   hint="模板只能使用 doc（文件内容）及其字段；可用变量见 templates/README.md")


def render_text(notice: Notice, fmt: str, template: Path, folders: Sequence[Path]) -> str:
    """Render a Markdown or HTML template; it may extend or include others found along the same folders."""
    env = _environment(folders, html=fmt == "html")
    try:
        text = env.get_template(template_name(notice.kind, fmt)).render(doc=notice)
    except TemplateError as exc:
        raise SpotcheckError(template_problem(exc, template)) from None
    # Markdown templates stay readable with one block per line; the blank lines they leave are folded.
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n" if fmt == "md" else text


# ---------------------------------------------------------------- rendering and writing


def render_notice(loaded: LoadedPolicy, notice: Notice, fmt: str, root: Path = TEMPLATES) -> str | bytes:
    """A Notice in one format: md and html as text, docx and pdf as bytes."""
    if fmt not in FORMATS:
        raise SpotcheckError(Problem("N803", f"没有这种输出格式：{fmt}", hint=f"可用：{'、'.join(FORMATS)}"))
    template = find_template(loaded, notice.kind, fmt, root)
    if fmt in ("md", "html"):
        return render_text(notice, fmt, template, search_path(loaded, root))
    from spotcheck import docx_layout  # python-docx is only imported when Word output is asked for

    docx = docx_layout.render(template, notice)
    return docx if fmt == "docx" else docx_layout.to_pdf(docx)


def render(loaded: LoadedPolicy, kind: str | None = None, fmt: str = "md", draw_dir: str | Path | None = None, *,
           document: str | None = None, root: Path = TEMPLATES) -> str | bytes:
    """The notice of a policy: its default document, a kind, a document id, or the task notice of a draw."""
    return render_notice(loaded, choose_notice(loaded, kind, document, draw_dir), fmt, root)


def render_results_notice(loaded: LoadedPolicy, rows: Iterable[ResultRow | Mapping], fmt: str,
                          root: Path = TEMPLATES) -> str | bytes:
    """The results announcement of one task's checked entities (called by the results stage)."""
    return render_notice(loaded, results_notice(loaded, rows), fmt, root)


def make_notice(policy_path: str | Path, *, fmt: str, out: str | Path | None = None, kind: str | None = None,
                document: str | None = None, draw_dir: str | Path | None = None,
                root: Path = TEMPLATES) -> str | bytes:
    """Load a policy, render its notice, and write it atomically to `out` when given; returns the content."""
    loaded = load_policy(policy_path)
    content = render(loaded, kind, fmt, draw_dir, document=document, root=root)
    if out is not None:
        write_file_atomic(Path(out), content.encode("utf-8") if isinstance(content, str) else content)
    return content


def describe_templates(policy_path: str | Path, root: Path = TEMPLATES) -> list[str]:
    """One line per kind and format: which template file `spotcheck notice` will use."""
    loaded = load_policy(policy_path)
    lines = [f"辖区模板目录（由近及远）：{'、'.join(display(f) for f in search_path(loaded, root))}"]
    for kind, fmt, path in list_templates(loaded, root):
        lines.append(f"{kind:<16} {fmt:<5} {display(path) if path else '（无模板）'}")
    return lines
