"""The checks that look across one resolved policy: ids, references, dates against the policy year and
the calendar. They run on a Draft, so the parts that validated are checked even when others failed."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from spotcheck.calendar.deadlines import check_rules
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.policy.cadence import cadence_problems
from spotcheck.policy.joint import department_problems, month_problems, table_problems
from spotcheck.policy.lists import list_problems
from spotcheck.policy.loaded import Draft
from spotcheck.policy.problems import did_you_mean
from spotcheck.policy.vocabulary import label_problems, unit_problems


# effective_caps names the cap of each tier's max_checks_per_year so, and excluded.csv names the rules
# that look back on past checks recent and cycle; a policy's own cap may not take these ids.
RESERVED_CAP_IDS = frozenset(f"tier-{tier}" for tier in "ABCD") | {"recent", "cycle"}


def _raw(draft: Draft, section: str) -> list[tuple[int, dict[str, Any]]]:
    value = draft.data.get(section)
    return [(i, e) for i, e in enumerate(value) if isinstance(e, dict)] if isinstance(value, list) else []


def _duplicates(draft: Draft, section: str, key: str, code: str, noun: str, within: tuple[str, ...] = (),
                hint: str | None = None) -> list[Problem]:
    """Elements of a list section whose `key` repeats an earlier element's, checked on the data as written;
    with `within`, only among elements whose `within` fields (a list or a text) are the same."""
    found = []
    first: dict[Any, int] = {}
    for i, elem in _raw(draft, section):
        value = elem.get(key)
        if value is None or isinstance(value, (dict, list)):
            continue
        groups = tuple(elem.get(field) for field in within)
        seen = (tuple(tuple(map(str, g)) if isinstance(g, list) else str(g) for g in groups), value)
        if seen in first:
            earlier = draft.positions.nearest((section, first[seen], key))
            found.append(draft.locate(Problem(
                code, f"{noun} {value!r} 重复" + (f"（{earlier.file}:{earlier.line} 已有）" if earlier else ""),
                hint=hint or f"每个{noun}在本策略中只能出现一次"), (section, i, key)))
        else:
            first[seen] = i
    return found


def _ids(draft: Draft, section: str) -> list[str]:
    return [e["id"] for _, e in _raw(draft, section) if isinstance(e.get("id"), str)]


def _item_problems(draft: Draft) -> list[Problem]:
    """Unknown item codes, checked on the data as written, so a task that failed its model is still checked."""
    if draft.items is None:
        return []
    codes = list(draft.items)
    found: list[Problem] = []

    def check(path: tuple[Any, ...], code: Any) -> None:
        if isinstance(code, str) and code not in draft.items:
            found.append(draft.locate(Problem(
                "P203", f"事项编码 '{code}' 不在引用的事项清单中{did_you_mean(code, codes)}",
                hint="检查编码拼写，或在 item_lists 中加入含该事项的清单"), path))

    def each(value: Any) -> list[tuple[int, Any]]:
        return list(enumerate(value)) if isinstance(value, list) else []

    for section in ("tasks", "caps"):
        for i, elem in _raw(draft, section):
            for j, code in each(elem.get("items")):
                check((section, i, "items", j), code)
    merge = draft.data.get("merge")
    rules = merge.get("one_plus_x") if isinstance(merge, dict) else None
    for i, rule in each(rules):
        if isinstance(rule, dict):
            check(("merge", "one_plus_x", i, "lead_item"), rule.get("lead_item"))
            for j, code in each(rule.get("x_items")):
                check(("merge", "one_plus_x", i, "x_items", j), code)
    return found


def _kind_problems(draft: Draft) -> list[Problem]:
    """Kinds naming undeclared scales, coverage targets naming undeclared kinds, tier rules on no scale."""
    policy = draft.policy
    if policy is None:
        return []
    found: list[Problem] = []
    scales = list(policy.scales)
    for name, kind in policy.kinds.items():
        if kind.scale is not None and kind.scale not in policy.scales:
            found.append(draft.locate(Problem(
                "P230", f"对象类别“{name}”的风险分类 '{kind.scale}' 未声明{did_you_mean(kind.scale, scales)}",
                hint=f"已声明的风险分类：{'、'.join(scales) or '（无）'}；不涉及信用风险分类的类别不写 scale"),
                ("kinds", name, "scale")))
    for metric, target in policy.targets.items():
        for j, name in enumerate(target.kinds):
            if name not in policy.kinds:
                found.append(draft.locate(Problem(
                    "P231", f"目标计入的对象类别“{name}”未声明{did_you_mean(name, list(policy.kinds))}",
                    hint=f"已声明的对象类别：{'、'.join(policy.kinds) or '（无）'}"), ("targets", metric, "kinds", j)))
    if policy.scales:
        values = {v for scale in policy.scales.values() for v in scale.values}
        for i, task in enumerate(policy.tasks):
            for section in ("tiers", "by_tier"):
                for tier in getattr(task.sampling, section):
                    if tier not in values:
                        found.append(draft.locate(Problem(
                            "P232", f"等级 '{tier}' 不在任何已声明的风险分类中{did_you_mean(tier, sorted(values))}",
                            hint=f"可用的等级：{'、'.join(sorted(values))}"),
                            (*draft.at("tasks", i, "sampling", section), tier), key=True))
    return found


def policy_problems(draft: Draft) -> list[Problem]:
    """The cross-reference and date checks of one resolved policy (the parts that validated)."""
    found: list[Problem] = _item_problems(draft)
    policy = draft.policy
    if policy is None:
        return found
    found += _duplicates(draft, "tasks", "id", "P201", "任务标识")
    # A province's plan for its cities numbers each city's rows from 1 (山西 2021 各市), and a plan of several
    # tables numbers each table from 1 (斗门 2023): 序号 repeat across 地市 and across tables.
    found += _duplicates(draft, "tasks", "no", "P202", "任务序号", within=("regions", "table"),
                         hint="同一张计划表（table）、同一地市（regions）内的任务序号不能重复；原件分几张表、各表从1编号的，"
                              "给每个任务写 table: 所在表的标题")
    found += _duplicates(draft, "documents", "id", "P210", "文件标识")
    found += _duplicates(draft, "campaigns", "id", "P211", "抽查活动标识")
    found += _duplicates(draft, "caps", "id", "P212", "频次上限标识")
    found += department_problems(draft) + month_problems(draft) + table_problems(draft) + cadence_problems(draft)
    for i, elem in _raw(draft, "caps"):
        if elem.get("id") in RESERVED_CAP_IDS:
            found.append(draft.locate(Problem(
                "P260", f"频次上限标识 '{elem['id']}' 与系统生成的标识重名",
                hint="tier-A 至 tier-D 留给各风险等级的年度上限，recent、cycle 留给近期未检查和每N年至少一次的排除；换一个标识"),
                ("caps", i, "id")))

    task_ids, campaign_ids, document_ids = _ids(draft, "tasks"), _ids(draft, "campaigns"), _ids(draft, "documents")
    for i, pairing in enumerate(policy.merge.pairings):
        for j, task_id in enumerate(pairing.tasks):
            if task_id not in task_ids:
                found.append(draft.locate(Problem(
                    "P204", f"配对中的任务 '{task_id}' 不存在{did_you_mean(task_id, task_ids)}",
                    hint=f"已有任务：{'、'.join(task_ids) or '（无）'}"), ("merge", "pairings", i, "tasks", j)))
    for i, task in enumerate(policy.tasks):
        if task.campaign is not None and task.campaign not in campaign_ids:
            found.append(draft.locate(Problem(
                "P205", f"任务所属抽查活动 '{task.campaign}' 不存在{did_you_mean(task.campaign, campaign_ids)}",
                hint=f"已有抽查活动：{'、'.join(campaign_ids) or '（无）'}"), draft.at("tasks", i, "campaign")))
        if task.draw_months is not None and task.draw_months[0] > task.draw_months[1]:
            found.append(draft.locate(Problem(
                "P208", f"抽取月份 {task.draw_months[0]} 月晚于 {task.draw_months[1]} 月",
                hint="写成 [起始月, 结束月]，同一年内起始月不晚于结束月"), draft.at("tasks", i, "draw_months")))
        if "district" in task.sampling.stratify and not policy.jurisdiction.districts:
            found.append(draft.locate(Problem(
                "P214", "任务按辖区分层抽取，但策略未列出下辖辖区",
                hint="在 jurisdiction.districts 中列出辖区，或从 stratify 中去掉 district"),
                draft.at("tasks", i, "sampling", "stratify")))

    found += _kind_problems(draft) + label_problems(draft) + unit_problems(draft) + list_problems(draft)

    year = policy.year
    windows: list[dt.date] = []
    for section, objects in (("tasks", policy.tasks), ("campaigns", policy.campaigns)):
        for i, obj in enumerate(objects):
            window = obj.window
            if window is None:
                continue
            windows.append(window.start)
            for end in ("start", "end"):
                day = getattr(window, end)
                if day.year != year:
                    found.append(draft.locate(Problem(
                        "P206" if section == "tasks" else "P207", f"{'检查' if section == 'tasks' else '抽查'}时间 {day} 不在策略年度 {year} 年内",
                        hint=f"时间应在 {year}-01-01 至 {year}-12-31 之间；跨年的工作写进下一年度的策略"),
                        draft.at(section, i, "window", end)))
    if policy.default_document is not None and policy.default_document not in document_ids:
        found.append(draft.locate(Problem(
            "P209", f"默认文件 '{policy.default_document}' 不在 documents 中"
                    f"{did_you_mean(policy.default_document, document_ids)}",
            hint=f"已有文件：{'、'.join(document_ids) or '（无）'}"), ("default_document",)))

    for path, problem in check_rules(policy.deadlines):
        found.append(draft.locate(problem, path))
    earliest = min(windows, default=None)
    for rid, rule in policy.deadlines.items():
        if rule.on is None:
            continue
        path = ("deadlines", rid, "on")
        if draft.calendar is not None:
            try:
                draft.calendar.is_workday(rule.on)
            except SpotcheckError as exc:
                found += [draft.locate(replace(p, where=None), path) for p in exc.problems]
        if earliest is not None and rule.on < earliest:
            found.append(draft.locate(Problem(
                "P213", f"期限“{rule.name}”的日期 {rule.on} 早于最早的检查开始日期 {earliest}，无法按期完成",
                hint="检查期限日期或检查时间是否写错"), path))
    return found

