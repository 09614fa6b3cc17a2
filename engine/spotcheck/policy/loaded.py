"""What loading a policy produces: the loaded policy and item lists every later stage reads, and the
draft (a policy as far as it could be read) that the checks run on."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spotcheck.calendar.workdays import WorkCalendar
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.policy.model import Item, ItemList, Policy, Task
from spotcheck.policy.problems import did_you_mean
from spotcheck.policy.yamlsource import Path_, Pos, SourceMap, display, place


@dataclass(frozen=True)
class LoadedItemList:
    path: Path
    item_list: ItemList
    positions: SourceMap


@dataclass(frozen=True)
class LoadedPolicy:
    """A policy with its chain resolved, its item lists and calendar, ready for every later stage."""

    policy: Policy
    path: Path
    chain: tuple[Path, ...]  # root → leaf, the leaf is `path`
    items: dict[str, Item]
    item_lists: tuple[ItemList, ...]
    calendar: WorkCalendar
    positions: SourceMap  # of the resolved document: each value with the file of the chain that wrote it
    data: dict[str, Any]  # the resolved document as read (before validation), for `where` texts
    sha256: str

    def task(self, task_id: str) -> Task:
        for task in self.policy.tasks:
            if task.id == task_id:
                return task
        known = [t.id for t in self.policy.tasks]
        raise SpotcheckError(Problem("P403", f"策略 {self.policy.id} 中没有任务 '{task_id}'{did_you_mean(task_id, known)}",
                                     file=display(self.path), hint=f"已有任务：{'、'.join(known) or '（无）'}"))

    def visit_items(self, task_ids: Iterable[str]) -> list[str]:
        """The items of one merged visit for these tasks: their items in task order, then the X items
        of every 1+X rule whose lead item is present, then the general items when they are fused."""
        wanted = set(task_ids)
        for task_id in wanted:
            self.task(task_id)
        codes: dict[str, None] = {}
        for task in self.policy.tasks:
            if task.id in wanted:
                codes.update(dict.fromkeys(task.items))
        for rule in self.policy.merge.one_plus_x:
            if rule.lead_item in codes:
                codes.update(dict.fromkeys(c for c in rule.x_items if c not in codes))
        if self.policy.merge.fuse_general_items:
            codes.update(dict.fromkeys(c for c, item in self.items.items() if item.general and c not in codes))
        return list(codes)

    def pos(self, *path: Any) -> Pos | None:
        return self.positions.nearest(path)


def canonical_sha256(policy: Policy, item_lists: Sequence[ItemList]) -> str:
    """SHA-256 of a canonical JSON of the resolved policy and its item lists (what a draw commits to)."""
    # Defaults left out: a field the model gains later does not change the hash of a policy that does not use it.
    doc = {"policy": policy.model_dump(mode="json", exclude_defaults=True),
           "item_lists": [il.model_dump(mode="json", exclude_defaults=True) for il in item_lists]}
    # mode="json" already writes dates as ISO text and Decimals (ratios "5%", multipliers) as text
    text = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Draft:
    """A policy as far as it could be read: `policy` holds every part that validated, so semantic
    checks still run when other parts have errors; `index` maps the kept elements of each list section
    to their indices in `data`."""

    path: Path
    file: str
    data: dict[str, Any]
    positions: SourceMap
    policy: Policy | None
    broken: frozenset[str]  # top-level keys that failed as a whole (their defaults stand in `policy`)
    index: Mapping[str, tuple[int, ...]]
    item_lists: tuple[ItemList, ...] | None  # None when one could not be read
    items: dict[str, Item] | None  # by code, across item_lists
    calendar: WorkCalendar | None

    def at(self, section: str, i: int, *rest: Any) -> Path_:
        """The document path of element i of a list section of `policy` (elements that failed are not in it)."""
        kept = self.index.get(section)
        return (section, kept[i] if kept is not None else i, *rest)

    def locate(self, problem: Problem, path: Path_, *, key: bool = False) -> Problem:
        return place(problem, self.positions, path, self.data, key=key)

