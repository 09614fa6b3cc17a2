"""A policy's own documents as Notices: numbered sections, and the tables and lists `include:` splices in.

Numbers and dates are written the way GB/T 9704 notices write them (一、（一）1.（1）, 2023年11月14日);
every generated line comes from the policy, its item lists and its calendar.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from spotcheck.calendar.deadlines import monthly_dates, resolve
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.rules.fields import TIER_NAMES, TIERS
from spotcheck.policy.cadence import batch_span
from spotcheck.policy.loaded import LoadedPolicy
from spotcheck.notices.model import Annex, Block, Heading, Notice, Para, Table
from spotcheck.policy.departments import CELLS, TableColumn
from spotcheck.policy.model import (
    METRIC_NAMES,
    Document,
    Policy,
    Section,
    Task,
    sampling_text,
    table_groups,
    task_ratio,
    tier_rule_parts,
)
from spotcheck.policy.yamlsource import display

PLAN_COLUMNS = ("序号", "抽查任务名称", "抽查类型", "抽查事项", "抽查对象范围", "抽查比例/数量", "抽取日期",
                "发起主体/指导单位", "抽查检查主体")
PLAN_WIDTHS = (5, 12, 6, 26, 14, 11, 10, 12, 11)

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


def numbered_lines(lines: Sequence[str], depth: int) -> list[str]:
    """Numbered lines ending ；, the last one 。 — the way notices enumerate."""
    out = []
    for i, line in enumerate(lines, 1):
        if "。" in line.rstrip("。"):
            text = line if line.endswith("。") else line + "。"  # a paragraph of its own keeps its sentences
        else:
            text = line.rstrip("；。;.") + ("。" if i == len(lines) else "；")
        out.append(f"{heading_number(3 if depth < 3 else 4, i)}{text}")
    return out


# ---------------------------------------------------------------- generated content


def policy_problem(code: str, message: str, loaded: LoadedPolicy | None = None, *path: object,
                   hint: str | None = None) -> Problem:
    """A problem at `path` inside the policy file (its line and column when known), else at the file."""
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


def _initiator_text(loaded: LoadedPolicy, task: Task) -> str:
    """发起主体/指导单位, with the lead and 配合 departments where the task names them."""
    parts = []
    if task.initiator:
        # “…牵头发起，…负责” already says how it is initiated: nothing is appended to it.
        parts.append(task.initiator if "发起" in task.initiator else f"{task.initiator}组织发起")
    if task.guide:
        guide = task.guide if task.guide.endswith("指导") else f"{task.guide}指导"
        parts.append(f"/{guide}" if parts else guide)
    text = "".join(parts)
    lead = _department_name(loaded, task.lead_department or task.initiating_department) or task.lead_unit
    if lead and lead not in text:
        text += f"{'，' if text else ''}{lead}牵头"
    partners = _department_names(loaded, task.departments)
    if partners:
        text += f"{'，' if text else ''}配合部门：{partners}"
    return text


def _department_name(loaded: LoadedPolicy, dept_id: str | None) -> str | None:
    names = {d.id: d.name for d in loaded.policy.departments}
    return names.get(dept_id, dept_id) if dept_id else None


def _department_names(loaded: LoadedPolicy, ids: Sequence[str]) -> str:
    return "、".join(n for d in ids if (n := _department_name(loaded, d)))


def task_no(policy: Policy, task: Task) -> int:
    return task.no if task.no is not None else policy.tasks.index(task) + 1


def _months(policy: Policy, task: Task, dash: str = "-") -> str:
    """抽取日期: the draw months, else the draw deadline (“2023年9月1日前”), else the months of the task's
    (or the policy's) inspection window."""
    if task.draw_months is None and task.draw_by is not None:
        return f"{cn_date(task.draw_by)}前"
    window = policy_window(policy)
    span = task.draw_months or ((task.window.start.month, task.window.end.month) if task.window else None)
    span = span or batch_span(task) or ((window[0].month, window[1].month) if window else None)
    return f"{span[0]}月{dash}{span[1]}月" if span else ""


def _period(policy: Policy, task: Task) -> str:
    """抽查时间段: the task's window, else its draw months."""
    return cn_window(task.window.start, task.window.end) if task.window else _months(policy, task, "—")


def _cell(loaded: LoadedPolicy, task: Task, source: str) -> str:
    policy = loaded.policy
    if source.startswith(CELLS):
        return task.cells.get(source[len(CELLS):], "")
    values = {
        "no": lambda: str(task_no(policy, task)), "name": lambda: task.name, "type": lambda: task.type,
        "items": lambda: _task_items_text(loaded, task), "scope": lambda: task.scope_text,
        "sampling": lambda: sampling_text(task.sampling), "months": lambda: _months(policy, task),
        "period": lambda: _period(policy, task), "initiator_guide": lambda: _initiator_text(loaded, task),
        "initiator": lambda: task.initiator or "", "guide": lambda: task.guide or "",
        "inspecting_level": lambda: task.inspecting_level or "", "lead_unit": lambda: task.lead_unit or "",
        "initiating_department": lambda: _department_name(loaded, task.initiating_department) or "",
        "lead_department": lambda: _department_name(loaded, task.lead_department) or "",
        "departments": lambda: _department_names(loaded, task.departments),
        "inspection": lambda: "、".join(r.mode for r in task.inspection), "origin": lambda: task.origin or "",
    }
    return values[source]()


def plan_tables(loaded: LoadedPolicy, doc: Document | None = None) -> list[tuple[str | None, Table]]:
    """The plan's tables, one row per task, each under its title (None: the untitled table, the only one of most
    plans): the document's columns declared for that table, else the document's `table`, else seed 002's nine."""
    declared = {t.title: t.columns for t in doc.tables} if doc is not None else {}
    default = doc.table if doc is not None else []
    return [(title, _table(loaded, tasks, declared.get(title, default))) for title, tasks in table_groups(loaded.policy.tasks)]


def plan_blocks(loaded: LoadedPolicy, doc: Document | None = None) -> tuple[Block, ...]:
    """The plan's tables as a notice prints them, each titled table after its title."""
    return tuple(block for title, table in plan_tables(loaded, doc) for block in ((table,) if title is None else (Para(title), table)))


def _table(loaded: LoadedPolicy, tasks: list[Task], columns: Sequence[TableColumn]) -> Table:
    if not columns:
        sources = ("no", "name", "type", "items", "scope", "sampling", "months", "initiator_guide", "inspecting_level")
        rows = [tuple(_cell(loaded, t, s) for s in sources) for t in tasks]
        return Table(PLAN_COLUMNS, tuple(rows), PLAN_WIDTHS)
    cells = [[_cell(loaded, t, c.source) for c in columns] for t in tasks]
    spans = [[1] * len(columns) for _ in cells]
    row_of = {t.id: r for r, t in enumerate(tasks)}
    for c, column in enumerate(columns):
        for group in column.merged:
            rows = sorted(row_of[t] for t in group if t in row_of)
            if not rows:
                continue
            spans[rows[0]][c] = len(rows)
            for r in rows[1:]:
                spans[r][c] = 0
                cells[r][c] = ""  # covered: the text is written once, in the top cell
    merged = any(0 in row for row in spans)
    return Table(tuple(c.title for c in columns), tuple(map(tuple, cells)), tuple(c.width for c in columns),
                 spans=tuple(map(tuple, spans)) if merged else ())


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
    return f"，其中{'，'.join(f'{_tier_name(loaded, t)}{percent_text(task_ratio(task, loaded.policy, t))}' for t in tiers)}"


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
        parts = tier_rule_parts(rule)
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
            return list(plan_blocks(loaded, self.doc))
        if what == "contacts" and self.doc.contacts:
            return [Para(line) for line in contact_lines(self.doc)]
        if what == "window":
            window = policy_window(policy)
            if window is None:
                self.problems.append(policy_problem("N801", "正文要求插入检查时间（include: window），但策略没有写任何抽查活动或任务的检查时间",
                                                    loaded, *where, hint="在 campaigns 或 tasks 中写明 window: {start, end}"))
                return []
            return [Para(f"{cn_window(*window)}。")]
        if what == "tiers":
            intro = policy.risk.note or f"依据企业信用风险分类结果，从由低到高划分的{'、'.join(TIERS)}四个风险等级中随机抽取检查对象。"
            return [Para(intro), *[Para(t) for t in numbered_lines(_tier_lines(loaded), depth)]]
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
            self.problems.append(policy_problem("N802", f"正文要求插入“{what}”，但策略中没有相应内容", loaded, *where,
                                                hint=f"在策略中补充 {what}，或删去该处 include"))
            return []
        if what == "targets" and policy.targets_due is not None:
            return [Para(t) for t in numbered_lines(lines, depth)] + [Para(f"以上目标于{cn_date(policy.targets_due)}前完成。")]
        if len(lines) == 1 and what in ("scope", "sampling"):
            return [Para(lines[0].rstrip("；。") + "。")]
        return [Para(t) for t in numbered_lines(lines, depth)]


def _attachment_lines(names: Sequence[str]) -> tuple[str, ...]:
    if len(names) == 1:
        return (names[0],)
    return tuple(f"{i}. {n}" for i, n in enumerate(names, 1))


_PLAN_KINDS = ("plan_notice", "work_notice", "scheme")


def revised(notice: Notice, policy: Policy) -> Notice:
    """A revised plan's notice states its revision: a closing paragraph of the preamble and the plan's title.

    Seed 002: 年度抽查计划可以根据工作实际进行动态调整，调整后的工作计划应及时向社会公示并报市局备案.
    """
    rev = policy.revision
    if rev is None or notice.kind not in _PLAN_KINDS:
        return notice
    when = f"{rev.date.year}年{rev.date.month}月{rev.date.day}日"
    line = f"本计划已于{when}作第{rev.number}次调整，调整理由：{rev.reason}。已经抽取的任务按抽取时的计划执行，调整后的内容适用于本年度尚未抽取的任务。"
    annexes = tuple(dataclasses.replace(a, title=f"{a.title}（{when}第{rev.number}次调整）") for a in notice.annexes)
    return dataclasses.replace(notice, preamble=(*notice.preamble, line), annexes=annexes)


def generated_plan(loaded: LoadedPolicy) -> Notice:
    """The plan of a policy that carries no plan notice: its task table under the jurisdiction's name.

    Undated: the policy holds no date for a document it does not contain.
    """
    policy = loaded.policy
    name = f"{policy.jurisdiction.name}{policy.year}年度“双随机、一公开”抽查工作计划"
    return revised(Notice(
        kind="plan_notice", letter=False, issuer=policy.jurisdiction.name, number=None,
        title=f"{policy.jurisdiction.name}关于印发{policy.year}年度“双随机、一公开”抽查工作计划的通知",
        addressees=None, preamble=(), body=(), contacts=(), attachments=(name,),
        signature=policy.jurisdiction.name, date=None, disclosure="（信息公开类型：主动公开）", cc=None,
        printed_by=None, annexes=(Annex("附件", name, plan_blocks(loaded), landscape=True),),
    ), policy)


def document_notice(loaded: LoadedPolicy, doc: Document) -> Notice:
    """The Notice of one of the policy's documents."""
    body = _Body(loaded, doc)
    blocks = tuple(body.sections(doc.sections, 1, ()))
    if body.problems:
        raise SpotcheckError(body.problems)
    annexes: tuple[Annex, ...] = ()
    if doc.kind == "plan_notice" and "tasks" not in body.included and loaded.policy.tasks:
        if doc.attachments:
            label = "附件" if len(doc.attachments) == 1 else "附件1"
            annexes = (Annex(label, doc.attachments[0], plan_blocks(loaded, doc), landscape=True),)
        else:
            # No attachment is listed: the table closes the body rather than an annex under an invented title.
            blocks = (*blocks, *plan_blocks(loaded, doc))
    enclosed = doc.enclosure_title is not None
    return revised(Notice(
        kind=doc.kind, letter=doc.letter, issuer=doc.issuer, number=doc.number.text() if doc.number else None,
        title=doc.title, addressees=f"{'，'.join(doc.addressees)}：" if doc.addressees else None,
        preamble=tuple(doc.preamble), body=() if enclosed else blocks,
        contacts=() if "contacts" in body.included else tuple(contact_lines(doc)),
        attachments=_attachment_lines(doc.attachments), signature=doc.issuer, date=doc.date,
        disclosure=f"（信息公开类型：{doc.disclosure}）" if doc.disclosure else None,
        cc=f"抄送：{'，'.join(doc.cc)}。" if doc.cc else None, printed_by=doc.printed_by,
        enclosure_title=doc.enclosure_title, enclosure=blocks if enclosed else (), annexes=annexes,
    ), loaded.policy)


def plan_document(policy: Policy) -> Document | None:
    """The document the public reads as “the plan”: the default one, else the first plan/work/scheme."""
    by_id = {d.id: d for d in policy.documents}
    if policy.default_document in by_id:
        return by_id[policy.default_document]
    return next((d for d in policy.documents if d.kind in ("plan_notice", "work_notice", "scheme")), None)
