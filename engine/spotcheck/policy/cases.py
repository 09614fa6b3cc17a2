"""Policy test cases (`spotcheck test`): example entities and dates with the results a policy must give.

A file `<policy>.cases.yaml` sits beside each policy (`2021.cases.yaml` for `2021.yaml`), in the
shape of kyverno's test files: inputs and expected results, nothing else.

    policy: 2021.yaml
    cases:
      - name: 加油站在计量器具任务范围内，不在拍卖任务范围内
        entity: {uscc: 91140600MA0K00000X, type: 企业, status: 存续, district: "140602", tier: B, labels: [加油站]}
        history: [{year: 2021, task: t19}]   # checks already made (for frequency caps)
        expect:
          in_scope: [t01]
          not_in_scope: [t04]
          ratio: {t01: "5%"}                 # the exact ratio for the entity's tier
          capped: {t19: true}                # or the cap id that must exclude it
          visit_items: [J01, J02]            # one merged visit of all its in-scope tasks
          visit:                             # who takes part, who inspects, how each item is checked
            mode: 市抽市查
            inspecting_unit: 长治市烟草专卖局
            departments: [烟草, 邮政, 公安]
            joint: true
            team: {size: 3, departments: {烟草: 1, 邮政: 1, 公安: 1}}
            checks: {现场: [J01], 网络监测: [J02]}
      - name: 结果公示期限跨国庆
        deadline: {id: results_public, from: "2023-09-25"}
        expect: {date: "2023-10-27"}

A policy is tested as the draw uses it: scope and caps through the conditions engine, ratios through
policy.task_ratio (the draw's own rule), merged visits through LoadedPolicy.visit_items less the items
whose condition the entity does not meet, who takes part and inspects through
spotcheck.plan.participants, team places through spotcheck.plan.eligibility.needs_of, deadlines
through deadlines.due.
"""

from __future__ import annotations

import datetime as dt

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    create_model,
    model_validator,
)
from spotcheck.draw.applies import entity_rules
from spotcheck.plan import participants
from spotcheck.plan.eligibility import DEPARTMENT, needs_of
from spotcheck.plan.participants import applying_items
from spotcheck.rules import semantics, wording
from spotcheck.calendar.deadlines import count_due, due
from spotcheck.errors import Problem
from spotcheck.rules.fields import ENTITY_FIELDS
from spotcheck.draw.pools import stratum_key, stratum_parts, task_quotas
from spotcheck.policy.files import CASES, POLICY, find_files
from spotcheck.policy.loaded import LoadedPolicy
from spotcheck.policy.loader import Session
from spotcheck.policy.problems import did_you_mean, validate_document
from spotcheck.resources import POLICIES
from spotcheck.policy.model import (
    Cap,
    Count,
    Date,
    Model,
    Percent,
    Year,
    effective_caps,
    percent_fraction,
    task_ratio,
)
from spotcheck.policy.cadence import check_date, looked_back, split_counts
from spotcheck.policy.sampling import stratum_ratio
from spotcheck.policy.departments import InspectionMode
from spotcheck.policy.kinds import document_vocabulary
from spotcheck.policy.lists import task_scope
from spotcheck.rules.conditions import resolve_dates
from spotcheck.policy.yamlsource import display, place

# ---------------------------------------------------------------- the file model

_KIND_TYPES: dict[str, Any] = {"str": StrictStr, "enum": StrictStr, "labels": list[StrictStr], "date": Date, "int": StrictInt}


# Kinds of object and scale values are the policy's vocabulary (kinds, scales), checked when the policy
# is at hand (P251); the other enums are closed.
_DECLARED = ("type", "tier")


def _entity_field(name: str) -> tuple[Any, Any]:
    f = ENTITY_FIELDS[name]
    if f.kind == "enum" and name not in _DECLARED:
        tp: Any = Literal[f.accepted]  # type: ignore[valid-type]
    else:
        tp = _KIND_TYPES[f.kind]
    return tp | None, Field(None, title=f.title)


# Every directory field may be given; checks_this_year is derived from `history`, as the draw derives it
# from the ledger.
Entity = create_model(
    "Entity",
    __base__=Model,
    __doc__="一个示例市场主体：只写用例需要的字段",
    **{name: _entity_field(name) for name in ENTITY_FIELDS if name != "checks_this_year"},
)


class PastCheck(Model):
    year: Year = Field(title="年度")
    task: StrictStr = Field(title="任务标识", description="本策略中的任务")
    visit: StrictStr | None = Field(None, title="检查标识", description="同一次合并检查的各条记录写同一标识；省略时每条记录算一次检查")
    items: list[StrictStr] | None = Field(None, title="检查事项", description="省略时为该任务的事项")
    on: Date | None = Field(None, title="检查日期", description="“近N个月内”“每N年”按此日期计；省略时按该年年底计")


class DeadlineQuery(Model):
    id: StrictStr = Field(title="期限标识", description="策略 deadlines 中的键")
    from_: Date = Field(alias="from", title="起算日", description="期限 after 所指事件发生的日期（起算日不计入）")


class SampleQuery(Model):
    task: StrictStr = Field(title="任务标识")
    eligible: dict[StrictStr, Count] = Field(
        title="各层抽查对象户数", description="层名如抽取结果所写：按分层字段的值以“|”相连，如 企业|A、个体工商户|成长型|一人多照；不分层写 全部")
    batch: StrictInt | None = Field(None, ge=1, le=12, title="批次", description="分批的任务：第几批（1 起）；拆分样本时只计该批抽取的户数")
    earlier: dict[StrictStr, Count] = Field(
        default_factory=dict, title="前批已抽户数", description="拆分样本的任务：各层中前面批次已抽取的户数（含在 eligible 中）")


SITE_CHECK = "现场"


class TeamExpect(Model):
    size: StrictInt | None = Field(None, title="每组最少人数")
    departments: dict[StrictStr, StrictInt] = Field(default_factory=dict, title="各参与部门最少人数")


class VisitExpect(Model):
    mode: InspectionMode | None = Field(None, title="抽查检查模式")
    inspecting_unit: StrictStr | None = Field(None, title="检查单位", description="谁检查、谁录入、谁公开")
    departments: list[StrictStr] | None = Field(None, title="参与部门")
    department_units: dict[StrictStr, StrictStr] = Field(default_factory=dict, title="各参与部门的检查单位")
    joint: StrictBool | None = Field(None, title="跨部门联合")
    team: TeamExpect | None = Field(None, title="现场检查组", description="现场检查的检查组须有的人数")
    checks: dict[StrictStr, list[StrictStr]] | None = Field(
        None, title="各次检查的事项", description="“现场”为上门检查的事项；不上门的检查方式各列其事项")


class Expect(Model):
    in_scope: list[StrictStr] = Field(default_factory=list, title="应在这些任务的抽查范围内")
    not_in_scope: list[StrictStr] = Field(default_factory=list, title="应不在这些任务的抽查范围内")
    ratio: dict[StrictStr, Percent] = Field(default_factory=dict, title="抽查比例", description="该主体风险等级在任务中的确切比例")
    capped: dict[StrictStr, StrictBool | StrictStr] = Field(
        default_factory=dict, title="因频次上限排除",
        description="true/false，或应起作用的频次上限标识；因往年检查记录排除的写 recent（近期已检查）或 cycle（本周期已检查）")
    visit_items: list[StrictStr] | None = Field(None, title="合并检查事项", description="其所在全部任务合并为一次检查时的事项编码")
    visit: VisitExpect | None = Field(None, title="合并检查", description="参与部门、检查单位、检查组、各事项检查方式")
    date: Date | None = Field(None, title="期限届满日")
    drawn: dict[StrictStr, Count] = Field(default_factory=dict, title="各层抽取户数", description="sample 用例：各层实际抽取的户数（不超过该层户数）")
    total: Count | None = Field(None, title="抽取总户数", description="sample 用例：各层实际抽取户数之和")


class Case(Model):
    name: StrictStr = Field(title="用例名称")
    entity: Entity | None = Field(None, title="市场主体")  # type: ignore[valid-type]
    history: list[PastCheck] = Field(default_factory=list, title="已有检查记录", description="用于频次上限、近期未检查、每N年至少一次")
    drawn_on: Date | None = Field(
        None, title="抽取日期",
        description="用例所代表的抽取日期：“近N个月内未被抽查”从此日往前数，条件中的相对日期（“抽取日前1年”）按此计算；省略时为策略年度的1月1日")
    deadline: DeadlineQuery | None = Field(None, title="期限")
    sample: SampleQuery | None = Field(None, title="抽取户数", description="给出各层户数，检验抽查比例/数量条款算出的户数")
    expect: Expect = Field(title="预期结果")

    @model_validator(mode="after")
    def _shape(self) -> Case:
        e = self.expect
        about_entity = bool(e.in_scope or e.not_in_scope or e.ratio or e.capped or e.visit_items is not None
                            or e.visit is not None)
        about_sample = bool(e.drawn) or e.total is not None
        if sum(x is not None for x in (self.entity, self.deadline, self.sample)) != 1:
            raise ValueError("用例须且只须写 entity（市场主体）、deadline（期限）或 sample（抽取户数）之一")
        if (self.sample is not None) != about_sample:
            raise ValueError("抽取户数用例（sample）的 expect 写 drawn 或 total，且只有该类用例写")
        if self.entity is not None and (e.date is not None or not about_entity):
            raise ValueError("市场主体用例的 expect 应写 in_scope、not_in_scope、ratio、capped、visit_items 或 visit，不能写 date")
        if self.sample is not None and (about_entity or e.date is not None):
            raise ValueError("抽取户数用例的 expect 只写 drawn 或 total")
        if self.deadline is not None and (e.date is None or about_entity):
            raise ValueError("期限用例的 expect 只写 date")
        if self.history and self.entity is None:
            raise ValueError("history 只用于市场主体用例")
        return self


class CasesFile(Model):
    """Test cases for one policy."""

    policy: StrictStr = Field(title="策略文件", description="相对本文件的路径，如 2021.yaml")
    cases: list[Case] = Field(title="用例")


# ---------------------------------------------------------------- running


@dataclass(frozen=True)
class CaseResult:
    file: str  # the cases file
    line: int | None  # where the case starts
    name: str
    failures: tuple[str, ...]  # one line per expectation that did not hold, Chinese
    explanation: str  # how the engine decided, for the failures

    @property
    def passed(self) -> bool:
        return not self.failures

    def format(self) -> str:
        head = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        lines = [f"{head}用例“{self.name}”未通过" if self.failures else f"{head}用例“{self.name}”通过"]
        lines += [f"    ✗ {f}" for f in self.failures]
        if self.failures and self.explanation:
            lines += [f"    {row}" for row in self.explanation.splitlines()]
        return "\n".join(lines)


@dataclass(frozen=True)
class TestRun:
    results: tuple[CaseResult, ...]
    problems: tuple[Problem, ...]  # files that cannot be tested: no cases, invalid files, broken policies

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def failed(self) -> int:
        return len(self.results) - self.passed

    @property
    def ok(self) -> bool:
        return not self.problems and self.failed == 0


def cases_path(policy: Path) -> Path:
    return policy.with_name(policy.name.removesuffix(".yaml") + ".cases.yaml")


def _read(path: Path, session: Session) -> tuple[CasesFile | None, Any, list[Problem]]:
    doc, problems = session.document(path)
    if doc is None:
        return None, None, problems
    model, more = validate_document(CasesFile, doc, "测试用例文件")
    return model, doc, problems + more


def _references(cases: CasesFile, loaded: LoadedPolicy, doc: Any) -> list[Problem]:
    """Task, deadline and item ids a cases file names that its policy does not have (P403–P405)."""
    found: list[Problem] = []
    task_ids = [t.id for t in loaded.policy.tasks]

    def unknown_task(task_id: str, path: tuple[Any, ...], *, key: bool = False) -> None:
        if task_id not in task_ids:
            found.append(place(Problem("P403", f"策略中没有任务 '{task_id}'{did_you_mean(task_id, task_ids)}",
                                       hint=f"已有任务：{'、'.join(task_ids) or '（无）'}"),
                               doc.positions, path, doc.data, key=key))

    vocabulary = document_vocabulary(loaded.data)
    for i, case in enumerate(cases.cases):
        e = case.expect
        for name in _DECLARED:
            value = getattr(case.entity, name, None) if case.entity is not None else None
            field = vocabulary[name]
            if value is not None and value not in field.accepted:
                found.append(place(Problem("P251", f"用例主体的{field.title} '{value}' 不是策略可用的值"
                                                   f"{did_you_mean(value, field.accepted)}",
                                           hint=f"可用的值：{'、'.join(field.accepted)}；新的对象类别或等级在策略 kinds、scales 中声明"),
                                   doc.positions, ("cases", i, "entity", name), doc.data))
        for section in ("in_scope", "not_in_scope"):
            for j, task_id in enumerate(getattr(e, section)):
                unknown_task(task_id, ("cases", i, "expect", section, j))
        for section in ("ratio", "capped"):
            for task_id in getattr(e, section):
                unknown_task(task_id, ("cases", i, "expect", section, task_id), key=True)
        for j, past in enumerate(case.history):
            unknown_task(past.task, ("cases", i, "history", j, "task"))
        if case.sample is not None:
            unknown_task(case.sample.task, ("cases", i, "sample", "task"))
        if case.deadline is not None and case.deadline.id not in loaded.policy.deadlines:
            known = list(loaded.policy.deadlines)
            found.append(place(Problem("P404", f"策略中没有期限 '{case.deadline.id}'{did_you_mean(case.deadline.id, known)}",
                                       hint=f"已有期限：{'、'.join(known) or '（无）'}"),
                               doc.positions, ("cases", i, "deadline", "id"), doc.data))
        for j, code in enumerate(e.visit_items or []):
            if code not in loaded.items:
                found.append(place(Problem("P405", f"事项编码 '{code}' 不在策略引用的事项清单中"
                                                   f"{did_you_mean(code, loaded.items)}"),
                                   doc.positions, ("cases", i, "expect", "visit_items", j), doc.data))
    return found


def _load(path: Path, session: Session, *, one_problem_for_policy: bool
          ) -> tuple[CasesFile | None, Any, LoadedPolicy | None, list[Problem]]:
    """The cases file, its document and policy, and the problems. A policy with errors is reported as
    one P401 (`spotcheck test`) or by its own problems (`spotcheck validate`)."""
    cases, doc, problems = _read(path, session)
    if cases is None:
        return None, doc, None, problems
    policy_path = path.parent / cases.policy
    if not policy_path.is_file():
        problems.append(place(Problem("P401", f"找不到用例所测的策略文件 {display(policy_path)}",
                                      hint="policy 写相对本文件的路径，如 2021.yaml"), doc.positions, ("policy",), doc.data))
        return cases, doc, None, problems
    outcome = session.policy(policy_path)
    if outcome.loaded is None and not one_problem_for_policy:
        return cases, doc, None, problems + outcome.problems
    if outcome.loaded is None:
        problems.append(place(Problem("P401", f"所测的策略 {display(policy_path)} 有错误，无法运行用例",
                                      hint=f"先运行 spotcheck validate {display(policy_path)}"),
                              doc.positions, ("policy",), doc.data))
        return cases, doc, None, problems
    problems += _references(cases, outcome.loaded, doc)
    return cases, doc, outcome.loaded, problems


def cases_file_problems(path: Path, session: Session) -> list[Problem]:
    """What is wrong with a cases file itself (not whether its cases pass): for `spotcheck validate`."""
    return _load(path, session, one_problem_for_policy=False)[3]


def _facts(entity: Any, checks: int) -> dict[str, Any]:
    facts = {k: v for k, v in entity.model_dump().items() if v is not None}
    facts["checks_this_year"] = checks
    return facts


def _visits(history: Iterable[Any], loaded: LoadedPolicy) -> list[set[str]]:
    """The distinct checks of the policy year, each as the set of its item codes."""
    visits: dict[str, set[str]] = {}
    for k, past in enumerate(history):
        if past.year != loaded.policy.year:
            continue
        items = past.items if past.items is not None else loaded.task(past.task).items
        visits.setdefault(past.visit or f"#{k}", set()).update(items)
    return list(visits.values())


def capping(loaded: LoadedPolicy, facts: dict[str, Any], visits: list[set[str]], task_id: str,
            on: dt.date | None = None) -> tuple[Cap | None, list[str]]:
    """The cap that excludes the entity from the task (None if none does), and how each cap counted;
    `on` is the day of the draw the case stands for (dates relative to it, “抽取日前1年”)."""
    task = loaded.task(task_id)
    notes = []
    for cap in effective_caps(loaded.policy):
        if cap.items and not set(cap.items) & set(task.items):
            continue
        applies = _holds(cap.when, facts, on or dt.date(loaded.policy.year, 1, 1))
        used = sum(1 for items in visits if not cap.items or items & set(cap.items))
        notes.append(f"频次上限 {cap.id}（{cap.name}）：{'适用' if applies else '不适用'}，本年度已查 {used} 次，上限 {cap.max_per_year} 次")
        if applies and used >= cap.max_per_year:
            return cap, notes
    return None, notes


def _holds(cond: Any, facts: dict[str, Any], on: dt.date) -> bool:
    return semantics.evaluate(resolve_dates(cond, on), facts)


def run_case(case: Case, loaded: LoadedPolicy) -> tuple[list[str], str]:
    """The expectations of one case that do not hold, and the engine's explanation of them."""
    failures: list[str] = []
    notes: list[str] = []
    e = case.expect
    if case.sample is not None:
        return _sample_failures(case.sample, e, loaded)
    if case.deadline is not None:
        rule = loaded.policy.deadlines[case.deadline.id]
        got = due(rule, case.deadline.from_, loaded.calendar)
        if got != e.date:
            failures.append(f"期限 {case.deadline.id} 自 {case.deadline.from_} 起算：应为 {e.date}，实际为 {got}")
            if rule.kind in ("working_days", "calendar_days"):
                notes.append(count_due(loaded.calendar, case.deadline.from_,
                                       **{rule.kind: getattr(rule, rule.kind)}).explanation)
        return failures, "\n".join(notes)
    visits = _visits(case.history, loaded)
    facts = _facts(case.entity, len(visits))
    on = case.drawn_on or dt.date(loaded.policy.year, 1, 1)
    in_scope = [t.id for t in loaded.policy.tasks if _holds(task_scope(t), facts, on)]

    def explain(task_id: str) -> None:
        notes.append(f"任务 {task_id} 的范围：")
        notes.extend(f"  {row}" for row in wording.explain(loaded.task(task_id).scope, facts))

    for task_id in e.in_scope:
        if task_id not in in_scope:
            failures.append(f"应在任务 {task_id} 的抽查范围内，实际不在")
            explain(task_id)
    for task_id in e.not_in_scope:
        if task_id in in_scope:
            failures.append(f"应不在任务 {task_id} 的抽查范围内，实际在")
            explain(task_id)
    for task_id, expected in e.ratio.items():
        task = loaded.task(task_id)
        tier = facts.get("tier")
        graded = "tier" in task.sampling.stratify
        # The entity's class (hospital grade …) as the draw assigns it: the first whose condition holds.
        klass = next((c for c in task.sampling.classes if _holds(c.when, facts, on)), None)
        got = task_ratio(task, loaded.policy, tier) if klass is None else (
            stratum_ratio(task.sampling, loaded.policy.risk.tiers,
                          percent_fraction(task.sampling.ratio) if task.sampling.ratio is not None else None,
                          tier if graded else None, klass)[0]
            if task.sampling.ratio is not None or task.sampling.unstated is not None else None)
        if tier is None and graded:
            failures.append(f"任务 {task_id} 的比例：用例的 entity 未写 tier（风险等级）")
        elif got != percent_fraction(expected):
            shown = "固定数量，无比例" if got is None else f"{_percent(got)}"
            whose = f" {tier} 级主体" if graded else "该主体"
            failures.append(f"任务 {task_id} 对{whose}的抽查比例应为 {expected.normalize():f}%，实际为 {shown}")
    for task_id, expected in e.capped.items():
        past = [(check_date(p.year, p.on, None), p.items if p.items is not None else loaded.task(p.task).items) for p in case.history]
        cap, cap_notes = looked_back(loaded.task(task_id), loaded.policy.year, on, past) or capping(loaded, facts, visits, task_id, on)
        wrong = (cap is None) if expected is True else (cap is not None) if expected is False else (
            cap is None or cap.id != expected)
        if wrong:
            want = "应因频次上限被排除" if expected is True else "不应被频次上限排除" if expected is False else (
                f"应因频次上限 {expected} 被排除")
            got = f"实际被 {cap.id} 排除" if cap is not None else "实际未被排除"
            failures.append(f"任务 {task_id}：{want}，{got}")
            notes.extend(cap_notes or [f"任务 {task_id} 没有适用的频次上限"])
    held = frozenset(r.id for r in entity_rules(loaded, on) if semantics.evaluate(r.when, facts))
    if e.visit is not None:
        failures += _visit_failures(loaded, e.visit, [loaded.task(t) for t in in_scope], held, facts.get("district"))
    if e.visit_items is not None:
        got_items = applying_items(loaded, in_scope, held)
        if set(got_items) != set(e.visit_items):
            missing = [c for c in e.visit_items if c not in got_items]
            extra = [c for c in got_items if c not in e.visit_items]
            failures.append(f"合并检查事项应为 {'、'.join(e.visit_items) or '（无）'}，实际为 {'、'.join(got_items) or '（无）'}"
                            + (f"；缺少 {'、'.join(missing)}" if missing else "") + (f"；多出 {'、'.join(extra)}" if extra else ""))
            notes.append(f"所在任务：{'、'.join(in_scope) or '（无）'}")
    return failures, "\n".join(notes)


def _visit_failures(loaded: LoadedPolicy, want: VisitExpect, tasks: list, held: frozenset[str],
                    district: str | None) -> list[str]:
    """The expectations about the entity's merged visit that do not hold."""
    got_checks = participants.checks(loaded, tasks, held)
    site = next((c for c in got_checks if c.method == participants.SITE), None)
    how = participants.mode(tasks, held)
    declared = {d.id: d for d in loaded.policy.departments}
    departments = list(dict.fromkeys(d for c in got_checks for d in c.departments))
    got: dict[str, Any] = {
        "mode": how,
        "inspecting_unit": participants.unit_of(loaded, participants.lead_department(loaded, tasks), how, district),
        "departments": departments,
        "department_units": {d: participants.unit_of(loaded, declared[d], how, district) for d in departments},
        "joint": any(c.joint for c in got_checks),
        "checks": {c.method or SITE_CHECK: list(c.item_codes) for c in got_checks},
    }
    names = {"mode": "抽查检查模式", "inspecting_unit": "检查单位", "departments": "参与部门",
             "department_units": "各参与部门的检查单位", "joint": "跨部门联合", "checks": "各次检查的事项"}
    out = []
    for key, title in names.items():
        expected = getattr(want, key)
        if expected is None or (key == "department_units" and not expected):
            continue
        actual = got[key] if key != "department_units" else {d: got[key].get(d) for d in expected}
        if actual != expected:
            out.append(f"合并检查的{title}应为 {_said(expected)}，实际为 {_said(actual)}")
    if want.team is not None:
        needs = needs_of(loaded, site.item_codes, "", site.departments if site.joint else ()) if site else None
        places = {d: sum(1 for s in needs.officer_specialties if s == f"{DEPARTMENT}{d}") for d in want.team.departments} if needs else {}
        if needs is None:
            out.append("该主体没有现场检查，无法核对检查组")
        elif want.team.size is not None and needs.officers != want.team.size:
            out.append(f"现场检查组最少人数应为 {want.team.size}，实际为 {needs.officers}")
        elif places != want.team.departments:
            out.append(f"现场检查组各参与部门最少人数应为 {_said(want.team.departments)}，实际为 {_said(places)}")
    return out


def _said(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict):
        return "，".join(f"{k}：{_said(v)}" for k, v in value.items()) or "（无）"
    if isinstance(value, list):
        return "、".join(map(str, value)) or "（无）"
    return "（无）" if value is None else str(value)


def _percent(value: Fraction) -> str:
    pct = Decimal(value.numerator * 100) / Decimal(value.denominator)
    return f"{pct.normalize():f}%"


def _sample_failures(query: SampleQuery, e: Expect, loaded: LoadedPolicy) -> tuple[list[str], str]:
    """How many the draw's own rule (draw.compute.task_quotas) takes from strata of the given sizes."""
    task = loaded.task(query.task)
    strata = {name: (n, *stratum_parts(task, stratum_key(task, name))) for name, n in query.eligible.items()}
    quotas, explain = task_quotas(task, loaded.policy.risk.tiers, strata, loaded.policy.year)
    got = {q.stratum: q.drawn for q in quotas}
    if query.batch is not None:
        if query.batch > len(task.batches):
            return [f"任务 {query.task} 没有第{query.batch}批（共 {len(task.batches)} 批）"], ""
        if task.batch_mode == "split":
            got, words = split_counts(task, quotas, query.batch, query.earlier)
            explain = {"words": explain["words"] + words}
    failures = [f"任务 {query.task} 的“{name}”层应抽 {want} 户，实际为 {got.get(name, 0)} 户"
                for name, want in e.drawn.items() if got.get(name, 0) != want]
    if e.total is not None and sum(got.values()) != e.total:
        failures.append(f"任务 {query.task} 应共抽 {e.total} 户，实际为 {sum(got.values())} 户")
    return failures, "\n".join(explain["words"]) if failures else ""


def run_cases_file(path: Path, session: Session) -> tuple[list[CaseResult], list[Problem]]:
    cases, doc, loaded, problems = _load(path, session, one_problem_for_policy=True)
    if cases is None or loaded is None or problems:
        return [], problems
    if not cases.cases:
        return [], [place(Problem("P402", "用例文件中没有用例", hint="至少写一个用例"), doc.positions, ("cases",), doc.data)]
    results = []
    for i, case in enumerate(cases.cases):
        pos = doc.positions.value(("cases", i))
        failures, explanation = run_case(case, loaded)
        results.append(CaseResult(doc.file, pos.line if pos else None, case.name, tuple(failures), explanation))
    return results, []


def run_tests(paths: Iterable[str | Path] = (POLICIES,)) -> TestRun:
    """Run the cases of every policy under `paths`; a policy without a cases file, or without cases, fails."""
    files, problems = find_files(paths)
    targets: dict[Path, None] = {}
    for policy in files[POLICY]:
        target = cases_path(policy)
        if target.is_file():
            targets[target.resolve()] = None
        else:
            problems.append(Problem("P402", f"策略没有测试用例文件 {display(target)}", file=display(policy),
                                    hint=f"在策略旁写 {target.name}（格式见 docs/errors.md 与 spotcheck.policy.cases）"))
    for given in files[CASES]:
        targets[given.resolve()] = None
    if not problems and not targets:
        problems.append(Problem("P402", "没有找到策略或测试用例文件", hint="给出 policies/ 下的文件或文件夹"))
    session = Session()
    results: list[CaseResult] = []
    for target in targets:
        found, more = run_cases_file(target, session)
        results += found
        problems += more
    return TestRun(tuple(results), tuple(dict.fromkeys(problems)))


__all__ = ["Case", "CaseResult", "CasesFile", "DeadlineQuery", "Entity", "Expect", "PastCheck", "TestRun",
           "capping", "cases_file_problems", "cases_path", "run_case", "run_cases_file", "run_tests"]
