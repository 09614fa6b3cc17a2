"""What applies to each drawn entity: the item conditions and conditional inspection modes of a policy,
answered at draw time while the directory is at hand, and kept in the draw folder as applies.csv.

An item may apply to some entities only (“只针对实缴制企业”), and a task may be 市抽市查 for some
entities and 市抽县(区)查 for the rest. Both are conditions over the entity's directory fields, which
the later stages (visits, teams, notices) no longer have: the draw asks the rules engine once per
class of the drawn entities and writes `uscc,rules` (the ids of the rules that hold, `|`-joined),
one row per drawn entity. A policy without such conditions writes no applies.csv.

Rule ids: `item:<code>` holds when the item applies to the entity; `mode:<task>:<k>` when the k-th
inspection mode of the task has a condition that the entity meets.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from spotcheck.policy.loader import LoadedPolicy
from spotcheck.rules.classes import matches_by_class
from spotcheck.rules.conditions import resolve_dates
from spotcheck.rules.engine import Rule

FILE = "applies.csv"


def item_rule(code: str) -> str:
    return f"item:{code}"


def mode_rule(task_id: str, k: int) -> str:
    return f"mode:{task_id}:{k}"


def entity_rules(loaded: LoadedPolicy, on: dt.date | None = None) -> list[Rule]:
    """The policy's entity-dependent conditions other than scope: items of its tasks, inspection modes;
    with dates relative to the draw as the days they name for a draw on `on` (the draw passes its day)."""
    out: list[Rule] = []
    used = dict.fromkeys(c for t in loaded.policy.tasks for c in loaded.visit_items([t.id]))
    for code in used:
        item = loaded.items.get(code)
        if item is not None and item.condition is not None:
            out.append(Rule(item_rule(code), item.condition))
    for task in loaded.policy.tasks:
        for k, rule in enumerate(task.inspection):
            if rule.when is not None:
                out.append(Rule(mode_rule(task.id, k), rule.when))
    return out if on is None else [Rule(r.id, resolve_dates(r.when, on), r.payload) for r in out]


def applies_csv(loaded: LoadedPolicy, frame: pl.DataFrame, rows: pl.Series, on: dt.date) -> bytes | None:
    """applies.csv for the directory rows drawn (`rows`), or None when the policy has no such conditions."""
    rules = entity_rules(loaded, on)
    if not rules:
        return None
    drawn = frame[rows.unique().sort()]
    hits = matches_by_class(rules, drawn)
    out = pl.DataFrame({"uscc": drawn["uscc"].cast(pl.String), "rules": hits["rules"].list.join("|")})
    return out.sort("uscc").write_csv().encode("utf-8")


def read_applies(folder: Path) -> dict[str, frozenset[str]] | None:
    """uscc → the rules that hold for it, from a draw folder's applies.csv (None when it has none)."""
    path = Path(folder) / FILE
    if not path.is_file():
        return None
    frame = pl.read_csv(path, schema={"uscc": pl.String, "rules": pl.String})
    return {u: frozenset(r.split("|")) if r else frozenset() for u, r in frame.iter_rows()}
