"""Conditions brought to what the rules engine can test: per-field constraints, and small-int codes.

A condition becomes its conjunctions in disjunctive normal form ("branches"), each a map from a
field key to one constraint on that field; the values a field can take are then cut into the classes
the constraints can tell apart, so that a fact carries one small int per field. Pure Python: the
durable-rules side is in `spotcheck.rules.engine`, which reads these.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from spotcheck.rules.conditions import AllOf, Leaf, Node, Not, Vocabulary
from spotcheck.rules.fields import Field

MAX_BRANCHES = 4096  # conjunctions of one condition in disjunctive normal form

_MIN_ORDINAL, _MAX_ORDINAL = dt.date.min.toordinal(), dt.date.max.toordinal()

# ---------------------------------------------------------------------------------------------
# Conditions as conjunctions of per-field constraints
#
# A branch maps a key to a constraint:
#   ("code", field)       -> (inside, values): the value is (inside=True) or is not among `values`
#   ("flag", field, text) -> bool: labels contain `text` / a str value contains the substring `text`
#   ("num", field)        -> (intervals, missing_ok): inclusive (low, high), None unbounded, in
#                            date ordinals or ints; missing_ok says whether a missing value passes

Branch = dict[tuple, Any]


class TooComplex(Exception):
    pass


def _meet(key: tuple, a: Any, b: Any) -> Any:
    """Both constraints at once, or None if nothing satisfies both."""
    if key[0] == "flag":
        return a if a == b else None
    if key[0] == "code":
        (a_in, a_vals), (b_in, b_vals) = a, b
        if a_in and b_in:
            met = (True, a_vals & b_vals)
        elif a_in or b_in:
            met = (True, (a_vals - b_vals) if a_in else (b_vals - a_vals))
        else:
            met = (False, a_vals | b_vals)
        return None if met == (True, frozenset()) else met
    intervals = []
    for lo1, hi1 in a[0]:
        for lo2, hi2 in b[0]:
            lo = lo2 if lo1 is None else lo1 if lo2 is None else max(lo1, lo2)
            hi = hi2 if hi1 is None else hi1 if hi2 is None else min(hi1, hi2)
            if lo is None or hi is None or lo <= hi:
                intervals.append((lo, hi))
    met = (tuple(sorted(intervals, key=_interval_order)), a[1] and b[1])
    return None if met == ((), False) else met


def _interval_order(interval: tuple) -> tuple:
    lo, hi = interval
    return (lo is not None, lo if lo is not None else 0, hi is None, hi if hi is not None else 0)


def _join(a: Branch, b: Branch) -> Branch | None:
    joined = dict(a)
    for key, constraint in b.items():
        if key in joined:
            constraint = _meet(key, joined[key], constraint)
            if constraint is None:
                return None
        joined[key] = constraint
    return joined


def _product(left: list[Branch], right: list[Branch]) -> list[Branch]:
    out: dict[tuple, Branch] = {}
    for a in left:
        for b in right:
            joined = _join(a, b)
            if joined is not None:
                out.setdefault(_branch_key(joined), joined)
                if len(out) > MAX_BRANCHES:
                    raise TooComplex
    return list(out.values())


def _branch_key(branch: Branch) -> tuple:
    return tuple(sorted(branch.items(), key=lambda item: item[0]))


def to_branches(cond: Node, vocab: Vocabulary, negate: bool = False) -> list[Branch]:
    """The condition in disjunctive normal form, `not` pushed to the leaves, contradictions dropped."""
    if isinstance(cond, Leaf):
        return _leaf_branches(cond, vocab[cond.field], holds=not negate)
    if isinstance(cond, Not):
        return to_branches(cond.not_, vocab, not negate)
    children = cond.all if isinstance(cond, AllOf) else cond.any
    if isinstance(cond, AllOf) != negate:
        result: list[Branch] = [{}]
        for child in children:
            result = _product(result, to_branches(child, vocab, negate))
        return result
    union: dict[tuple, Branch] = {}
    for child in children:
        for branch in to_branches(child, vocab, negate):
            union.setdefault(_branch_key(branch), branch)
    if len(union) > MAX_BRANCHES:
        raise TooComplex
    return list(union.values())


def _leaf_branches(leaf: Leaf, f: Field, holds: bool) -> list[Branch]:
    op, value = leaf.op, leaf.value
    values = value if isinstance(value, tuple) else (value,)
    if f.kind == "labels" or op == "contains":
        flags = [("flag", f.name, v) for v in values]
        # contains/all_of hold when every flag is set; any_of when one is; negation swaps the two.
        if (op == "any_of") == holds:
            return [{key: holds} for key in flags]
        return [{key: holds for key in flags}]
    wanted = holds != (op in ("ne", "not_in"))
    if f.kind in ("str", "enum"):
        return [{("code", f.name): (wanted, frozenset(values))}]
    points = [_number(f, v) for v in values]
    if op in ("eq", "ne", "in", "not_in"):
        intervals = _merge([(p, p) for p in points])
    else:
        p = points[0]
        intervals = {"gte": [(p, None)], "gt": [(p + 1, None)], "lte": [(None, p)], "lt": [(None, p - 1)]}[op]
    if not wanted:
        intervals = _complement(intervals)
    intervals = _clip(f, intervals)
    if not intervals and wanted:
        return []
    return [{("num", f.name): (tuple(intervals), not wanted)}]


def _number(f: Field, value: Any) -> int:
    return value.toordinal() if f.kind == "date" else value


def _merge(intervals: list[tuple]) -> list[tuple]:
    merged: list[tuple] = []
    for lo, hi in sorted(intervals, key=_interval_order):
        if merged and merged[-1][1] is not None and lo is not None and lo <= merged[-1][1] + 1:
            last_lo, last_hi = merged[-1]
            merged[-1] = (last_lo, None if hi is None else max(last_hi, hi))
        else:
            merged.append((lo, hi))
    return merged


def _complement(intervals: list[tuple]) -> list[tuple]:
    gaps, start = [], None  # start: first value not yet covered; None is minus infinity
    for lo, hi in intervals:
        if lo is not None and (start is None or start <= lo - 1):
            gaps.append((start, lo - 1))
        if hi is None:
            return gaps
        start = hi + 1
    gaps.append((start, None))
    return gaps


def _clip(f: Field, intervals: list[tuple]) -> list[tuple]:
    """Dates exist only between date.min and date.max: drop what lies outside, unbound what reaches it."""
    if f.kind != "date":
        return intervals
    clipped = []
    for lo, hi in intervals:
        if (hi is not None and hi < _MIN_ORDINAL) or (lo is not None and lo > _MAX_ORDINAL):
            continue
        clipped.append((None if lo is None or lo <= _MIN_ORDINAL else lo, None if hi is None or hi >= _MAX_ORDINAL else hi))
    return clipped


# ---------------------------------------------------------------------------------------------
# Facts: every property a small int
#
# Values the rules cannot tell apart share a code. For a str or enum field, the values each branch
# constraint allows are known, so values allowed by exactly the same constraints (the same
# "signature") form one class; values no rule mentions form class 0. For a date or int field, the
# constraints' interval ends cut the number line into segments, and segments with the same
# signature form one class; a missing value is a class of its own. A fact carries its value's
# class code, and each constraint becomes equality tests against codes: a 600-value `in` list is one
# test, and no test compares a string or a date inside the engine.


class ValueClasses:
    """The classes of one field's values and the code of each."""

    def __init__(self, f: Field, constraints: Sequence[Any]) -> None:
        self.field = f
        self.index = {c: i for i, c in enumerate(constraints)}
        self.cuts: list[int] = []
        if f.kind in ("str", "enum"):
            other = frozenset(i for i, (inside, _) in enumerate(constraints) if not inside)
            mentioned = sorted({v for _, values in constraints for v in values})
            signatures = {
                v: frozenset(i for i, (inside, values) in enumerate(constraints) if (v in values) == inside)
                for v in mentioned
            }
            found = [other, *signatures.values()]
        else:
            self.cuts = sorted(
                {lo for intervals, _ in constraints for lo, _ in intervals if lo is not None}
                | {hi + 1 for intervals, _ in constraints for _, hi in intervals if hi is not None}
            )
            points = [self.cuts[0] - 1 if self.cuts else 0] + self.cuts  # one point inside each segment
            segments = [
                frozenset(i for i, (intervals, _) in enumerate(constraints) if _inside(point, intervals))
                for point in points
            ]
            other = frozenset(i for i, (_, missing_ok) in enumerate(constraints) if missing_ok)
            found = [other, *segments]
        # Class 0 is what unmentioned (str, enum) or missing (date, int) values belong to.
        order = [other] + sorted(set(found) - {other}, key=sorted)
        self.code_of = {signature: code for code, signature in enumerate(order)}
        self.signatures = order
        if f.kind in ("str", "enum"):
            self.values = {v: self.code_of[sig] for v, sig in signatures.items() if sig != other}
        else:
            self.segment_codes = [self.code_of[sig] for sig in segments]

    def allowed(self, constraint: Any) -> set[int]:
        i = self.index[constraint]
        return {code for code, signature in enumerate(self.signatures) if i in signature}

    def encode(self, value: Any) -> int:
        if self.field.kind in ("str", "enum"):
            return self.values.get(value, 0)
        if value is None:
            return 0
        return self.segment_codes[bisect.bisect_right(self.cuts, _number(self.field, value))]

    def to_json(self) -> dict[str, Any]:
        if self.field.kind in ("str", "enum"):
            return {"field": self.field.name, "encoding": "class", "codes": self.values, "other": 0}
        show = (lambda n: dt.date.fromordinal(n).isoformat()) if self.field.kind == "date" else (lambda n: n)
        return {
            "field": self.field.name,
            "encoding": "segment",
            "cuts": [show(c) for c in self.cuts],
            "codes": self.segment_codes,
            "missing": 0,
        }


def _inside(point: int, intervals: Sequence[tuple]) -> bool:
    return any((lo is None or lo <= point) and (hi is None or point <= hi) for lo, hi in intervals)


@dataclass(frozen=True)
class Flag:
    """1 if the labels contain `text` (labels) or the value contains the substring `text` (str)."""

    field: Field
    text: str

    def encode(self, value: Any) -> int:
        return int(value is not None and self.text in value)

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field.name, "encoding": "flag", "contains": self.text}
