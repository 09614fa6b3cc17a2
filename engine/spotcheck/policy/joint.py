"""Checks of the joint-plan parts of a policy: departments, who inspects, handed-down tasks, item
conditions. Each problem is located at the line that causes it (codes in docs/errors.md).
"""

from __future__ import annotations

from spotcheck.errors import Problem
from spotcheck.policy.departments import DISTRICT_DRAWS, within
from spotcheck.policy.loaded import Draft, LoadedPolicy
from spotcheck.policy.model import Policy, table_groups
from spotcheck.policy.problems import did_you_mean


def department_problems(draft: Draft) -> list[Problem]:
    """Departments declared once, every department a task or item names declared, modes that can apply."""
    policy = draft.policy
    if policy is None:
        return []
    found: list[Problem] = []
    ids = [d.id for d in policy.departments]
    known = "、".join(ids) or "（未声明任何部门）"
    districts = {d.code for d in policy.jurisdiction.districts}
    seen: set[str] = set()
    for i, dept in enumerate(policy.departments):
        if dept.id in seen:
            found.append(draft.locate(Problem("P217", f"部门标识 '{dept.id}' 重复", hint="每个部门只声明一次"),
                                      draft.at("departments", i, "id")))
        seen.add(dept.id)
        for code in dept.district_units:
            if code not in districts:
                found.append(draft.locate(Problem(
                    "P218", f"部门“{dept.name}”的下辖辖区检查单位写了辖区代码 '{code}'，但策略未列出该辖区"
                            f"{did_you_mean(code, sorted(districts))}",
                    hint="辖区代码须是 jurisdiction.districts 中的 code"), draft.at("departments", i, "district_units", code)))

    def unknown(path: tuple, value: str, what: str) -> None:
        found.append(draft.locate(Problem(
            "P219", f"{what} '{value}' 不是策略声明的部门{did_you_mean(value, ids)}",
            hint=f"在 departments 中声明该部门（id、name、kind），已声明：{known}"), path))

    for i, task in enumerate(policy.tasks):
        for field, what in (("initiating_department", "发起部门"), ("lead_department", "牵头部门")):
            value = getattr(task, field)
            if value is not None and value not in ids:
                unknown(draft.at("tasks", i, field), value, what)
        # Without declared departments, `departments` is the older free text of 参与部门.
        if ids:
            for j, value in enumerate(task.departments):
                if value not in ids:
                    unknown(draft.at("tasks", i, "departments", j), value, "配合部门")
        if draft.items is not None:
            for j, code in enumerate(task.items):
                item = draft.items.get(code)
                if item is not None and item.department is not None and item.department not in ids:
                    unknown(draft.at("tasks", i, "items", j), item.department, f"事项 {code} 的负责部门")
        found += _inspection_problems(draft, policy, i)
    return found


def _inspection_problems(draft: Draft, policy: Policy, i: int) -> list[Problem]:
    task = policy.tasks[i]
    found = []
    # A county's own plan saying 县抽县查 (潞州区 2025) means the county itself: no districts below it to list or stratify
    # by (it may list only itself, as `spotcheck init --level district` writes it).
    here = policy.jurisdiction
    own_county = here.level == "district" and all(d.code == here.code for d in here.districts)
    for k, rule in enumerate(task.inspection):
        path = draft.at("tasks", i, "inspection", k)
        if rule.when is None and k < len(task.inspection) - 1:
            found.append(draft.locate(Problem(
                "P220", f"抽查检查模式“{rule.mode}”没有适用条件，适用于全部主体，其后的模式永远用不到",
                hint="把不带 when 的模式放在最后，或给它写上 when 条件"), path))
        if rule.mode != "市抽市查" and not policy.jurisdiction.districts and not (own_county and rule.mode in DISTRICT_DRAWS):
            found.append(draft.locate(Problem(
                "P220", f"抽查检查模式“{rule.mode}”由主体所在辖区的单位检查，但策略未列出下辖辖区",
                hint="在 jurisdiction.districts 中列出辖区及其单位，或改为“市抽市查”"), path))
        if rule.mode in DISTRICT_DRAWS and "district" not in task.sampling.stratify and not own_county:
            found.append(draft.locate(Problem(
                "P220", "“县抽县查”由各辖区分别抽取，但任务未按辖区分层抽取",
                hint="在 sampling.stratify 中加入 district"), path))
    return found


def table_problems(draft: Draft) -> list[Problem]:
    """A declared table's columns name one of the plan's tables; merged cells name tasks of the policy, adjacent
    rows of one table."""
    policy = draft.policy
    if policy is None:
        return []
    groups = table_groups(policy.tasks)
    place = {t.id: (g, r) for g, (_, tasks) in enumerate(groups) for r, t in enumerate(tasks)}
    titles = [title for title, _ in groups if title is not None]
    found = []
    for d, doc in enumerate(policy.documents):
        columns = [(("documents", d, "table", c), column) for c, column in enumerate(doc.table)]
        seen: set[str] = set()
        for k, table in enumerate(doc.tables):
            if table.title not in titles or table.title in seen:
                found.append(draft.locate(Problem(
                    "P223", f"计划表“{table.title}”" + ("重复列出栏目" if table.title in seen else "没有任何任务（没有任务的 table 是这个标题）"),
                    hint=f"写成任务的 table 中的标题之一：{'、'.join(titles) or '（没有任务写 table）'}，每张表只列一次"),
                    ("documents", d, "tables", k, "title")))
            seen.add(table.title)
            columns += [(("documents", d, "tables", k, "columns", c), column) for c, column in enumerate(table.columns)]
        for base, column in columns:
            for g, group in enumerate(column.merged):
                path = (*base, "merged", g)
                unknown = [t for t in group if t not in place]
                rows = sorted(place[t] for t in group if t in place)
                if unknown:
                    found.append(draft.locate(Problem(
                        "P222", f"栏目“{column.title}”合并的任务 {'、'.join(unknown)} 不在本策略中",
                        hint=f"已有任务：{'、'.join(place)}"), path))
                elif len(group) < 2 or rows != [(rows[0][0], rows[0][1] + n) for n in range(len(rows))]:
                    found.append(draft.locate(Problem(
                        "P222", f"栏目“{column.title}”合并的任务 {'、'.join(group)} 不是同一张表中相邻的两行或多行",
                        hint="只有计划表中相邻的行才能纵向合并；按任务顺序写出每一组"), path))
    return found


def month_problems(draft: Draft) -> list[Problem]:
    """A task must say when it is drawn: draw months, its window, its batches or its campaign's window (never a silent January)."""
    policy = draft.policy
    if policy is None:
        return []
    campaigns = {c.id for c in policy.campaigns}
    only = len(policy.campaigns) == 1
    found = []
    for i, task in enumerate(policy.tasks):
        # A task whose plan states no number is never drawn; its cut-off months are not invented either.
        nothing_drawn = task.sampling.unstated is not None and not task.sampling.classes
        if (task.draw_months is None and task.window is None and not task.batches and task.draw_by is None
                and not (task.campaign in campaigns or only) and not nothing_drawn):
            found.append(draft.locate(Problem(
                "P221", f"任务“{task.name}”既没有抽取月份（draw_months），也没有检查时间（window），也不属于有检查时间的抽查活动",
                hint="写明 draw_months: [起始月, 结束月]，或 window: {start, end}，或 campaign"),
                draft.at("tasks", i, "name"), key=True))
        found += _draw_by_problems(draft, i)
        found += _region_problems(draft, i)
    return found


def _region_problems(draft: Draft, i: int) -> list[Problem]:
    """The 地市 a task is addressed to are 6-digit division codes of the policy's part of the country."""
    policy = draft.policy
    assert policy is not None  # month_problems returns early without one
    own = policy.jurisdiction.code
    found = []
    for k, region in enumerate(policy.tasks[i].regions):
        # Under the policy's jurisdiction where the row is written; the jurisdiction itself, or one above
        # it, in the policies the row reaches.
        if not (len(region) == 6 and region.isdigit()) or not (within(region, own) or within(own, region)):
            found.append(draft.locate(Problem(
                "P293", f"地市“{region}”不是本策略辖区（{own}）下辖或所属的6位行政区划代码",
                hint="写下辖市、县的行政区划代码，如太原市写 \"140100\"；全辖区都执行的任务不写 regions"),
                draft.at("tasks", i, "regions", k)))
    return found


def _draw_by_problems(draft: Draft, i: int) -> list[Problem]:
    """A draw deadline lies in the policy's year, after the months and window the task is drawn in."""
    policy = draft.policy
    assert policy is not None  # month_problems returns early without one
    task, year = policy.tasks[i], policy.year
    by = task.draw_by
    if by is None:
        return []
    path = draft.at("tasks", i, "draw_by")
    if by.year != year:
        return [draft.locate(Problem(
            "P290", f"抽取期限 {by} 不在策略年度 {year} 年内",
            hint=f"写 {year} 年内的日期，如“抽取日期：{year}年9月1日前”写 \"{year}-09-01\""), path)]
    found = []
    if task.batches:
        found.append(draft.locate(Problem(
            "P291", "分批次的任务由各批的完成时限（batches 的 due）和抽取月份安排，不再写抽取期限（draw_by）",
            hint="删去 draw_by，或把期限写进各批次"), path))
    elif task.draw_months is not None and task.draw_months[1] > by.month:
        found.append(draft.locate(Problem(
            "P291", f"抽取月份到 {task.draw_months[1]} 月，晚于抽取期限 {by}",
            hint=f"抽取月份写到 {by.month} 月为止，或不写 draw_months（从年初到期限所在月份都可抽取）"), path))
    elif task.window is not None and task.window.start > by:
        found.append(draft.locate(Problem(
            "P291", f"检查时间 {task.window.start} 才开始，晚于抽取期限 {by}",
            hint="检查抽取期限和检查时间是否写错"), path))
    return found


def handed_down_problems(draft: Draft, child: Policy, parent: LoadedPolicy) -> list[Problem]:
    """Exclusions must name a handed-down task; a child's version of one may tighten it, never loosen it."""
    theirs = {t.id: t for t in parent.policy.tasks}
    found = []
    for i, exclusion in enumerate(child.excluded_tasks):
        if exclusion.task not in theirs:
            found.append(draft.locate(Problem(
                "P305", f"不执行的上级任务 '{exclusion.task}' 不是上级策略下达的任务{did_you_mean(exclusion.task, list(theirs))}",
                hint=f"上级策略的任务：{'、'.join(theirs) or '（无）'}"), ("excluded_tasks", i, "task")))
    for i, task in enumerate(child.tasks):
        base = theirs.get(task.id)
        if base is None:
            continue
        mine, given = task.sampling, base.sampling
        loosened = []
        if mine.ratio is not None and given.ratio is not None and mine.ratio < given.ratio:
            loosened.append(f"抽查比例 {mine.ratio.normalize():f}% 低于上级的 {given.ratio.normalize():f}%")
        if mine.ratio_max is not None and (given.ratio_max is None or mine.ratio_max < given.ratio_max):
            # A cap holds down what the tiers raise: one the parent did not set, or a lower one, draws fewer.
            theirs_max = f"上级的 {given.ratio_max.normalize():f}%" if given.ratio_max is not None else "上级没有上限"
            loosened.append(f"比例上限 {mine.ratio_max.normalize():f}%（{theirs_max}）会压低按信用等级提高的比例")
        if mine.count is not None and given.count is not None and mine.count < given.count:
            loosened.append(f"抽查数量 {mine.count} 少于上级的 {given.count}")
        dropped = [c for c in base.items if c not in task.items]
        if dropped:
            loosened.append(f"去掉了上级规定的事项 {'、'.join(dropped)}")
        for text in loosened:
            found.append(draft.locate(Problem(
                "P306", f"上级下达的任务“{base.name}”{text}，只能收紧不能放宽",
                hint="下达的任务可以提高比例、增加事项；确不执行的，在 excluded_tasks 中写明任务和理由"),
                draft.at("tasks", i, "id")))
    return found

