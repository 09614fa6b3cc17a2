"""What changed between two policies (usually one year and the next), in the words officers use.

Tasks are matched by id, and a task whose id changed is matched by its name; every other object by
its id or key. Dates are compared after moving the old ones by the years between the two policies, so
the same 4月1日—11月30日 window each year is no change. Each change is one Chinese sentence, e.g.
`任务“对拍卖企业拍卖活动经营资格的双随机抽查”抽查比例 50% → 100%`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from spotcheck.rules.wording import describe
from spotcheck.calendar.deadlines import ANCHORS, DeadlineRule
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.rules.fields import TIER_NAMES
from spotcheck.policy.cadence import batch_words
from spotcheck.policy.loaded import LoadedPolicy
from spotcheck.policy.loader import load_policy
from spotcheck.policy.sampling import STRATUM_WORDS
from spotcheck.policy.model import (
    METRIC_NAMES,
    Campaign,
    Cap,
    Task,
    TierRule,
    Window,
    sampling_text,
    tier_rule_parts,
)


@dataclass(frozen=True)
class Change:
    kind: str  # task_added, task_removed, task_renamed, task, campaign, item, deadline, target, tier, cap, team, merge, kind, list
    subject: str  # the object's id or key
    text: str  # the sentence for officers

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


T = TypeVar("T")


def _pct(value: Decimal | None) -> str:
    return "无" if value is None else f"{value.normalize():f}%"


def _window(w: Window | None) -> str:
    return "未规定" if w is None else f"{w.start} 至 {w.end}"


def _months(m: tuple[int, int] | None) -> str:
    return "未规定" if m is None else f"{m[0]}月—{m[1]}月"


def _codes(codes: Iterable[str], items: Mapping[str, Any]) -> str:
    return "、".join(f"{c}（{items[c].name}）" if c in items else c for c in codes)


def deadline_text(rule: DeadlineRule) -> str:
    """A deadline rule as a notice words it when it gives no text of its own."""
    if rule.on is not None:
        return f"{rule.on} 前"
    if rule.monthly is not None:
        postpone = "，遇节假日顺延" if rule.monthly.holiday == "postpone" else ""
        return f"每月{rule.monthly.day}日前{postpone}"
    start = ANCHORS.get(rule.after or "", f"期限“{rule.after}”")
    if rule.working_days is not None:
        return f"{start}后{rule.working_days}个工作日内"
    return f"{start}后{rule.calendar_days}个自然日内"


def _tier_text(rule: TierRule | None) -> str:
    if rule is None:
        return "未规定"
    return "，".join(tier_rule_parts(rule)) or "无特别规定"


def _shifted(day: dt.date, years: int) -> dt.date | None:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return None


def _same_window(x: Window | None, y: Window | None, years: int) -> bool:
    """Equal once moved by the years between the two policies: 4月1日 to 11月30日 every year is no change."""
    if x is None or y is None:
        return x is y
    return (_shifted(x.start, years), _shifted(x.end, years)) == (y.start, y.end)


def _same_deadline(x: DeadlineRule, y: DeadlineRule, years: int) -> bool:
    if x.on is not None and y.on is not None:
        return _shifted(x.on, years) == y.on
    return deadline_text(x) == deadline_text(y)


def _match_tasks(old: list[Task], new: list[Task]) -> tuple[list[tuple[Task, Task]], list[Task], list[Task]]:
    """(old, new) pairs matched by id, then by name among the rest; then the removed and the added."""
    new_by_id = {t.id: t for t in new}
    pairs = [(t, new_by_id[t.id]) for t in old if t.id in new_by_id]
    rest_old = [t for t in old if t.id not in new_by_id]
    old_ids = {t.id for t in old}
    rest_new = [t for t in new if t.id not in old_ids]
    by_name = {t.name: t for t in rest_new}
    for t in list(rest_old):
        match = by_name.pop(t.name, None)
        if match is not None:
            pairs.append((t, match))
            rest_old.remove(t)
            rest_new.remove(match)
    return pairs, rest_old, rest_new


def _keyed(old: Iterable[T], new: Iterable[T], key: Callable[[T], str]) -> tuple[list[tuple[T, T]], list[T], list[T]]:
    o, n = {key(x): x for x in old}, {key(x): x for x in new}
    return [(o[k], n[k]) for k in o if k in n], [o[k] for k in o if k not in n], [n[k] for k in n if k not in o]


_CLAUSE_PARTS = {"base": "抽查基数", "target": "抽查目标数", "expected": "计划抽取户数", "min_count": "最少户数", "by_size": "按规模的规则",
                 "tiers": "本任务分级规则", "tier_kinds": "分级规则适用的对象类别", "classes": "分类抽查",
                 "times_per_year": "每年次数", "times_at_least": "至少N次", "once_in_years": "每N年至少一次",
                 "from_list": "按名单抽查", "unstated": "未写明比例的原话", "min_per_stratum": "每层最少户数",
                 "ratio_max": "比例上限"}


def _batches(task: Task) -> str:
    return batch_words(task.batch_mode or "repeat", task.batches) if task.batches else "不分批"


def _recent(task: Task) -> str:
    return f"近{task.not_checked_within.months}个月内检查过的不抽" if task.not_checked_within else "未规定"


def _task_changes(a: Task, b: Task, old: LoadedPolicy, new: LoadedPolicy, years: int) -> list[Change]:
    out: list[Change] = []
    label = f"任务“{b.name}”"

    def add(text: str) -> None:
        out.append(Change("task", b.id, f"{label}{text}"))

    if a.id != b.id:
        out.append(Change("task_renamed", b.id, f"{label}的标识 {a.id} → {b.id}"))
    if a.name != b.name:
        out.append(Change("task", b.id, f"任务 {b.id} 名称“{a.name}” → “{b.name}”"))
    if a.type != b.type:
        add(f"抽查类型 {a.type} → {b.type}")
    if sampling_text(a.sampling) != sampling_text(b.sampling):
        add(f"抽查比例 {sampling_text(a.sampling)} → {sampling_text(b.sampling)}")
    else:
        # The same words over other numbers: 基数, 目标数, weights, classes, size bands or tier rules.
        changed = [title for name, title in _CLAUSE_PARTS.items() if getattr(a.sampling, name) != getattr(b.sampling, name)]
        if changed:
            add(f"抽查比例条款的{'、'.join(changed)}有改动")
    for tier in sorted(set(a.sampling.by_tier) | set(b.sampling.by_tier)):
        x, y = a.sampling.by_tier.get(tier), b.sampling.by_tier.get(tier)
        if x != y:
            add(f"{tier}级（{TIER_NAMES.get(tier, tier)}）抽查比例 {_pct(x)} → {_pct(y)}")
    if a.sampling.stratify != b.sampling.stratify:
        words = STRATUM_WORDS
        add(f"分层 {'、'.join(words[s] for s in a.sampling.stratify) or '不分层'} → "
            f"{'、'.join(words[s] for s in b.sampling.stratify) or '不分层'}")
    added = [c for c in b.items if c not in a.items]
    removed = [c for c in a.items if c not in b.items]
    if added:
        add(f"新增抽查事项 {_codes(added, new.items)}")
    if removed:
        add(f"删去抽查事项 {_codes(removed, old.items)}")
    if a.scope != b.scope:
        add(f"抽查对象范围 {describe(a.scope)} → {describe(b.scope)}")
    if a.draw_months != b.draw_months:
        add(f"抽取月份 {_months(a.draw_months)} → {_months(b.draw_months)}")
    if a.regions != b.regions:
        add(f"地市 {'、'.join(a.regions) or '全辖区'} → {'、'.join(b.regions) or '全辖区'}")
    if a.draw_by != b.draw_by:
        add(f"抽取期限 {a.draw_by or '未规定'} → {b.draw_by or '未规定'}")
    if (a.batches, a.batch_mode) != (b.batches, b.batch_mode):
        add(f"分批 {_batches(a)} → {_batches(b)}")
    if a.not_checked_within != b.not_checked_within:
        add(f"近期未检查 {_recent(a)} → {_recent(b)}")
    if not _same_window(a.window, b.window, years):
        add(f"检查时间 {_window(a.window)} → {_window(b.window)}")
    if a.campaign != b.campaign:
        add(f"所属抽查活动 {a.campaign or '无'} → {b.campaign or '无'}")
    return out


def diff(old: LoadedPolicy, new: LoadedPolicy) -> list[Change]:
    """Every difference between two resolved policies that changes what officers do."""
    a, b = old.policy, new.policy
    years = b.year - a.year
    out: list[Change] = []

    pairs, removed, added = _match_tasks(list(a.tasks), list(b.tasks))
    for t in removed:
        out.append(Change("task_removed", t.id, f"删去任务 {t.id}“{t.name}”"))
    for t in added:
        out.append(Change("task_added", t.id, f"新增任务 {t.id}“{t.name}”（{t.type}，抽查比例 {sampling_text(t.sampling)}，"
                                              f"事项 {_codes(t.items, new.items)}，范围：{describe(t.scope)}）"))
    for x, y in pairs:
        out += _task_changes(x, y, old, new, years)

    same, gone, fresh = _keyed(a.campaigns, b.campaigns, lambda c: c.id)
    out += [Change("campaign", c.id, f"删去抽查活动“{c.name}”") for c in gone]
    out += [Change("campaign", c.id, f"新增抽查活动“{c.name}”（{_window(c.window)}）") for c in fresh]
    for x, y in same:
        out += _campaign_changes(x, y, years)

    gone_codes = [c for c in old.items if c not in new.items]
    new_codes = [c for c in new.items if c not in old.items]
    if new_codes:
        out.append(Change("item", "、".join(new_codes), f"事项清单新增事项 {_codes(new_codes, new.items)}"))
    if gone_codes:
        out.append(Change("item", "、".join(gone_codes), f"事项清单删去事项 {_codes(gone_codes, old.items)}"))
    for code in old.items:
        if code in new.items and old.items[code].name != new.items[code].name:
            out.append(Change("item", code, f"事项 {code} 名称“{old.items[code].name}” → “{new.items[code].name}”"))

    for rid in dict.fromkeys([*a.deadlines, *b.deadlines]):
        x, y = a.deadlines.get(rid), b.deadlines.get(rid)
        if x is None and y is not None:
            out.append(Change("deadline", rid, f"新增期限“{y.name}”：{deadline_text(y)}"))
        elif y is None and x is not None:
            out.append(Change("deadline", rid, f"删去期限“{x.name}”"))
        elif x is not None and y is not None and not _same_deadline(x, y, years):
            out.append(Change("deadline", rid, f"期限“{y.name}” {deadline_text(x)} → {deadline_text(y)}"))

    for metric in dict.fromkeys([*a.targets, *b.targets]):
        x, y = a.targets.get(metric), b.targets.get(metric)
        if (x and x.value) != (y and y.value):
            out.append(Change("target", metric, f"工作目标 {METRIC_NAMES.get(metric, metric)} "
                                                f"{_pct(x.value if x else None)} → {_pct(y.value if y else None)}"))
    if (a.targets_due and _shifted(a.targets_due, years)) != b.targets_due:
        out.append(Change("target", "targets_due", f"目标完成时限 {a.targets_due or '未规定'} → {b.targets_due or '未规定'}"))

    for tier in sorted(set(a.risk.tiers) | set(b.risk.tiers)):
        x, y = a.risk.tiers.get(tier), b.risk.tiers.get(tier)
        if _tier_text(x) != _tier_text(y):
            out.append(Change("tier", tier, f"{tier}级（{TIER_NAMES[tier]}）主体 {_tier_text(x)} → {_tier_text(y)}"))

    same_caps, gone_caps, fresh_caps = _keyed(a.caps, b.caps, lambda c: c.id)
    out += [Change("cap", c.id, f"删去频次上限“{c.name}”") for c in gone_caps]
    out += [Change("cap", c.id, f"新增频次上限“{c.name}”（{describe(c.when)}，每年至多 {c.max_per_year} 次）")
            for c in fresh_caps]
    for x, y in same_caps:
        out += _cap_changes(x, y)

    if a.team.min_size != b.team.min_size:
        out.append(Change("team", "min_size", f"每组最少人数 {a.team.min_size} → {b.team.min_size}"))
    if a.team.max_visits_per_inspector != b.team.max_visits_per_inspector:
        out.append(Change("team", "max_visits_per_inspector",
                          f"每人检查户数上限 {a.team.max_visits_per_inspector or '不限'} → {b.team.max_visits_per_inspector or '不限'}"))

    if a.merge.fuse_general_items != b.merge.fuse_general_items:
        out.append(Change("merge", "fuse_general_items",
                          "通用事项" + ("改为融入每个任务" if b.merge.fuse_general_items else "不再融入每个任务")))
    x_rules = {r.lead_item: r.x_items for r in a.merge.one_plus_x}
    y_rules = {r.lead_item: r.x_items for r in b.merge.one_plus_x}
    for lead in dict.fromkeys([*x_rules, *y_rules]):
        if x_rules.get(lead) != y_rules.get(lead):
            before = _codes(x_rules[lead], old.items) if lead in x_rules else "无"
            after = _codes(y_rules[lead], new.items) if lead in y_rules else "无"
            out.append(Change("merge", lead, f"“1+X”主事项 {lead} 的关联事项 {before} → {after}"))
    x_pairs = {tuple(sorted(p.tasks)) for p in a.merge.pairings}
    y_pairs = {tuple(sorted(p.tasks)) for p in b.merge.pairings}
    out += [Change("merge", "+".join(p), f"新增任务配对 {'、'.join(p)}") for p in sorted(y_pairs - x_pairs)]
    out += [Change("merge", "+".join(p), f"删去任务配对 {'、'.join(p)}") for p in sorted(x_pairs - y_pairs)]
    return out + _vocabulary_changes(a, b)


def _vocabulary_changes(a, b) -> list[Change]:
    """Kinds of object and the lists of other bodies: added, removed, identified otherwise, another file."""
    out: list[Change] = []
    for name in dict.fromkeys([*a.kinds, *b.kinds]):
        x, y = a.kinds.get(name), b.kinds.get(name)
        if x is None or y is None:
            out.append(Change("kind", name, f"{'新增' if x is None else '删去'}对象类别“{name}”"))
        elif x.identified_by != y.identified_by or x.uscc_codes != y.uscc_codes:
            how = (lambda k: f"按“{k.identified_by.name}”识别" if k.identified_by else "按统一社会信用代码识别")
            out.append(Change("kind", name, f"对象类别“{name}” {how(x)}（代码 {'、'.join(x.uscc_codes) or '无'}）"
                                            f" → {how(y)}（代码 {'、'.join(y.uscc_codes) or '无'}）"))
    same, gone, fresh = _keyed(a.lists, b.lists, lambda n: n.id)
    out += [Change("list", n.id, f"删去名单“{n.name}”") for n in gone]
    out += [Change("list", n.id, f"新增名单“{n.name}”（{n.file}，SHA-256 {n.sha256[:12]}…）") for n in fresh]
    out += [Change("list", y.id, f"名单“{y.name}”换了文件：{x.file}（SHA-256 {x.sha256[:12]}…） → {y.file}（SHA-256 {y.sha256[:12]}…）")
            for x, y in same if (x.file, x.sha256) != (y.file, y.sha256)]
    return out


def _campaign_changes(x: Campaign, y: Campaign, years: int) -> list[Change]:
    out = []
    if not _same_window(x.window, y.window, years):
        out.append(Change("campaign", y.id, f"抽查活动“{y.name}”时间 {_window(x.window)} → {_window(y.window)}"))
    if x.ratio != y.ratio:
        out.append(Change("campaign", y.id, f"抽查活动“{y.name}”总体比例 {_pct(x.ratio)} → {_pct(y.ratio)}"))
    if x.coordination != y.coordination:
        words = {"joint": "各任务协调抽取", "independent": "各任务独立抽取"}
        out.append(Change("campaign", y.id, f"抽查活动“{y.name}” {words[x.coordination]} → {words[y.coordination]}"))
    return out


def _cap_changes(x: Cap, y: Cap) -> list[Change]:
    out = []
    if x.max_per_year != y.max_per_year:
        out.append(Change("cap", y.id, f"频次上限“{y.name}” 每年至多 {x.max_per_year} 次 → {y.max_per_year} 次"))
    if x.when != y.when:
        out.append(Change("cap", y.id, f"频次上限“{y.name}”适用主体 {describe(x.when)} → {describe(y.when)}"))
    if x.items != y.items:
        out.append(Change("cap", y.id, f"频次上限“{y.name}”所计事项 {'、'.join(x.items) or '全部'} → "
                                      f"{'、'.join(y.items) or '全部'}"))
    return out


def diff_files(old: str | Path, new: str | Path) -> list[Change]:
    """Load both policies (every problem in either is raised together) and diff them."""
    loaded: list[LoadedPolicy] = []
    problems: list[Problem] = []
    for path in (old, new):
        try:
            loaded.append(load_policy(path))
        except SpotcheckError as exc:
            problems += [p for p in exc.problems if p not in problems]
    if problems:
        raise SpotcheckError(problems)
    return diff(loaded[0], loaded[1])


def format_changes(changes: list[Change]) -> str:
    if not changes:
        return "两份策略没有影响抽查工作的差别"
    return "\n".join(f"· {c.text}" for c in changes)


__all__ = ["Change", "deadline_text", "diff", "diff_files", "format_changes"]
