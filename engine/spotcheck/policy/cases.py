"""Running policy test cases (`spotcheck test`); the file they are written in is spotcheck.policy.casefile.

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
from typing import Any

from spotcheck.draw.applies import entity_rules
from spotcheck.plan import participants
from spotcheck.plan.eligibility import DEPARTMENT, needs_of
from spotcheck.plan.participants import applying_items
from spotcheck.rules import semantics, wording
from spotcheck.calendar.deadlines import count_due, due
from spotcheck.errors import Problem
from spotcheck.draw.pools import stratum_key, stratum_parts, task_quotas
from spotcheck.policy.files import CASES, CASES_SUFFIX, POLICY, find_files
from spotcheck.policy.loaded import LoadedPolicy
from spotcheck.policy.loader import Session
from spotcheck.policy.problems import did_you_mean, validate_document
from spotcheck.resources import POLICIES
from spotcheck.policy.model import (
    Cap,
    effective_caps,
    percent_fraction,
    task_ratio,
)
from spotcheck.policy.cadence import check_date, looked_back, split_counts
from spotcheck.policy.sampling import stratum_ratio
from spotcheck.policy.kinds import document_vocabulary
from spotcheck.policy.lists import task_scope
from spotcheck.rules.conditions import resolve_dates
from spotcheck.policy.yamlsource import display, place

from spotcheck.policy.casefile import (
    DECLARED,
    Entity,
    PastCheck,
    DeadlineQuery,
    SampleQuery,
    SITE_CHECK,
    VisitExpect,
    Expect,
    Case,
    CasesFile,
)


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
    return policy.with_name(policy.name.removesuffix(".yaml") + CASES_SUFFIX)


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
    labels = list(loaded.policy.labels)
    for i, case in enumerate(cases.cases):
        e = case.expect
        # A misspelt label (加油占) would make a not_in_scope case pass for the wrong reason.
        for j, label in enumerate((case.entity.labels or []) if case.entity is not None and labels else []):
            if label not in loaded.policy.labels:
                found.append(place(Problem("P292", f"用例主体的监管标签“{label}”未在策略 labels 中声明{did_you_mean(label, labels)}",
                                           hint="检查拼写；确是本辖区的新标签的，加到策略的 labels 中"),
                                   doc.positions, ("cases", i, "entity", "labels", j), doc.data))
        for name in DECLARED:
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
            if task.sampling.ratio is not None or task.sampling.unstated is not None or task.sampling.tier_ratios else None)
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
