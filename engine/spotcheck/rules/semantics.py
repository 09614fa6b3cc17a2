"""What a condition means: the reference evaluation of conditions on one entity.

An entity without a value for a field (None, "" or absent; an empty label list) satisfies only `ne`,
`not_in` and the negations of the other leaves. The rules engine (`spotcheck.rules.engine`) compiles
the same conditions and is tested against `evaluate`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from spotcheck.rules.conditions import AllOf, AnyOf, Leaf, Node, Not, Vocabulary
from spotcheck.rules.fields import ENTITY_FIELDS, Field


def entity_value(field: Field, raw: Any) -> Any:
    """An entity's value as conditions see it: None when missing, a frozenset for labels.

    Entity records are typed by the directory loader, so a wrong type is a programming error.
    """
    if field.kind == "labels":
        if raw is None:
            return frozenset()
        if isinstance(raw, (str, bytes)) or not all(isinstance(x, str) for x in raw):
            raise TypeError(f"{field.name}: labels must be a list of str, got {raw!r}")
        return frozenset(raw)
    if raw is None:
        return None
    if field.kind in ("str", "enum"):
        if not isinstance(raw, str):
            raise TypeError(f"{field.name}: expected str, got {raw!r}")
        return raw or None
    if field.kind == "date":
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        raise TypeError(f"{field.name}: expected datetime.date, got {raw!r}")
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise TypeError(f"{field.name}: expected int, got {raw!r}")
    return raw


def leaf_holds(leaf: Leaf, value: Any) -> bool:
    """Whether one leaf holds for a value already passed through `entity_value`."""
    op, v = leaf.op, leaf.value
    if isinstance(value, frozenset):
        if op == "contains":
            return v in value
        if op == "any_of":
            return not value.isdisjoint(v)
        return value.issuperset(v)  # all_of
    if value is None:
        return op in ("ne", "not_in")
    if op == "eq":
        return value == v
    if op == "ne":
        return value != v
    if op == "in":
        return value in v
    if op == "not_in":
        return value not in v
    if op == "contains":
        return v in value
    if op == "gte":
        return value >= v
    if op == "lte":
        return value <= v
    if op == "gt":
        return value > v
    return value < v  # lt


def evaluate(cond: Node, entity: Mapping[str, Any], vocabulary: Vocabulary = ENTITY_FIELDS) -> bool:
    """Whether the entity satisfies the condition (the reference semantics)."""
    if isinstance(cond, Leaf):
        return leaf_holds(cond, entity_value(vocabulary[cond.field], entity.get(cond.field)))
    if isinstance(cond, AllOf):
        return all(evaluate(c, entity, vocabulary) for c in cond.all)
    if isinstance(cond, AnyOf):
        return any(evaluate(c, entity, vocabulary) for c in cond.any)
    return not evaluate(cond.not_, entity, vocabulary)


def fields_read(cond: Node) -> frozenset[str]:
    """The entity fields the condition reads."""
    if isinstance(cond, Leaf):
        return frozenset({cond.field})
    if isinstance(cond, Not):
        return fields_read(cond.not_)
    children = cond.all if isinstance(cond, AllOf) else cond.any
    return frozenset().union(*(fields_read(c) for c in children))


def literals(cond: Node, negate: bool = False) -> Iterator[tuple[tuple[Leaf, bool], ...]]:
    """The condition in disjunctive normal form, lazily: conjunctions of (leaf, must_hold).

    `not` is pushed down to the leaves (De Morgan), so a literal (leaf, False) means the leaf fails.
    """
    if isinstance(cond, Leaf):
        yield ((cond, not negate),)
    elif isinstance(cond, Not):
        yield from literals(cond.not_, not negate)
    else:
        children = cond.all if isinstance(cond, AllOf) else cond.any
        if isinstance(cond, AllOf) != negate:
            yield from _conjoin(children, negate)
        else:
            for child in children:
                yield from literals(child, negate)


def _conjoin(children: Sequence[Node], negate: bool) -> Iterator[tuple[tuple[Leaf, bool], ...]]:
    if not children:
        yield ()
        return
    for head in literals(children[0], negate):
        for tail in _conjoin(children[1:], negate):
            yield head + tail
