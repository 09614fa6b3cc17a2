"""Example entities that satisfy a condition: for synthetic directories and policy test cases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from spotcheck.rules.conditions import Leaf, Node, Vocabulary
from spotcheck.rules.fields import ENTITY_FIELDS, Field
from spotcheck.rules.semantics import entity_value, leaf_holds, literals


class _Unsatisfiable(Exception):
    pass


def example(cond: Node, seed_index: int = 0, vocabulary: Vocabulary = ENTITY_FIELDS) -> dict[str, Any] | None:
    """Values for the fields one branch of the condition constrains, so that the condition holds.

    Fields the branch leaves free are not in the dict; a None value means "leave it empty".
    `seed_index` picks among the satisfiable branches (and among values) so that callers can make
    varied examples. Returns None only when no entity can satisfy the condition.
    """
    found: list[dict[str, Any]] = []
    for conjunction in literals(cond):
        by_field: dict[str, list[tuple[Leaf, bool]]] = {}
        for leaf, holds in conjunction:
            by_field.setdefault(leaf.field, []).append((leaf, holds))
        try:
            values = {
                name: _solve(vocabulary[name], lits, seed_index + len(found)) for name, lits in by_field.items()
            }
        except _Unsatisfiable:
            continue
        found.append(values)
        if len(found) > seed_index:
            return found[seed_index]
    return found[seed_index % len(found)] if found else None


def _solve(field: Field, lits: list[tuple[Leaf, bool]], seed: int) -> Any:
    """A value of one field making every literal on it come out as required."""
    if field.kind == "labels":
        return _solve_labels(lits)
    candidates = list(_candidates(field, lits, seed))
    if not field.required:
        candidates.append(None)
    for raw in candidates:
        value = entity_value(field, raw)
        if all(leaf_holds(leaf, value) == holds for leaf, holds in lits):
            return raw
    raise _Unsatisfiable


def _candidates(field: Field, lits: list[tuple[Leaf, bool]], seed: int) -> Iterator[Any]:
    mentioned = [v for leaf, _ in lits for v in (leaf.value if isinstance(leaf.value, tuple) else (leaf.value,))]
    if field.kind == "enum":
        yield from field.values[seed % len(field.values) :] + field.values[: seed % len(field.values)]
    elif field.kind == "str":
        for leaf, holds in lits:
            if leaf.op in ("eq", "in", "ne", "not_in") and holds == (leaf.op in ("eq", "in")):
                yield from (leaf.value if isinstance(leaf.value, tuple) else (leaf.value,))
                return
        # A character no mentioned value contains separates the required substrings: the result
        # differs from every listed value and contains a forbidden substring only when a required
        # one does, in which case nothing can satisfy the literals.
        text = "".join(mentioned)
        sep = next(c for c in _fresh_chars() if c not in text)
        pieces = sorted({leaf.value for leaf, holds in lits if holds and leaf.op == "contains"})
        yield sep + sep.join(pieces) + sep
    else:
        # Satisfying values form intervals bounded by mentioned values, minus mentioned values:
        # the first allowed point of each interval is a mentioned value or one step from one.
        step = dt.timedelta(days=1) if field.kind == "date" else 1
        base = dt.date(2020, 1, 1) + dt.timedelta(days=seed) if field.kind == "date" else seed
        points = [base]
        for v in sorted(set(mentioned)):
            for p in (v, _shift(v, -step), _shift(v, step)):
                if p is not None:
                    points.append(p)
        yield from points


def _fresh_chars() -> Iterator[str]:
    yield from "甲乙丙丁戊己庚辛壬癸"
    yield from (chr(c) for c in range(0x4E00, 0x9FFF))


def _shift(v: Any, step: Any) -> Any:
    try:
        return v + step
    except OverflowError:
        return None


def _solve_labels(lits: list[tuple[Leaf, bool]]) -> list[str]:
    must: set[str] = set()
    banned: set[str] = set()
    choose: list[tuple[str, ...]] = []  # at least one of each must be present
    spoil: list[tuple[str, ...]] = []  # at least one of each must be absent
    for leaf, holds in lits:
        values = leaf.value if isinstance(leaf.value, tuple) else (leaf.value,)
        if leaf.op == "any_of" and holds:
            choose.append(values)
        elif leaf.op == "any_of":
            banned.update(values)
        elif holds:  # contains, all_of
            must.update(values)
        else:
            spoil.append(values)
    if must & banned:
        raise _Unsatisfiable
    found = _pick_labels(frozenset(must), banned, choose, spoil)
    if found is None:
        raise _Unsatisfiable
    return sorted(found)


def _pick_labels(
    have: frozenset[str], banned: set[str], choose: list[tuple[str, ...]], spoil: list[tuple[str, ...]]
) -> frozenset[str] | None:
    # Adding labels only ever breaks "not all of" literals, so try the smallest additions first.
    if any(have.issuperset(s) for s in spoil):
        return None
    for i, options in enumerate(choose):
        if have.isdisjoint(options):
            for label in options:
                if label not in banned:
                    found = _pick_labels(have | {label}, banned, choose[i + 1 :], spoil)
                    if found is not None:
                        return found
            return None
    return have
