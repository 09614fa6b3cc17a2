"""Conditions in officers' words: a compact description, and why an entity does or does not satisfy one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from spotcheck.rules.conditions import VALUE_NAMES, AllOf, Leaf, Node, Not, Vocabulary
from spotcheck.rules.fields import ENTITY_FIELDS, Field
from spotcheck.rules.semantics import entity_value, leaf_holds


def _show(field: Field, value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    name = VALUE_NAMES.get(field.name, {}).get(value)
    return f"{value}（{name}）" if name else str(value)


def _show_list(field: Field, values: Sequence[Any]) -> str:
    return "、".join(_show(field, v) for v in values)


_COMPARE_WORDS = {
    "date": {"gte": "不早于", "gt": "晚于", "lte": "不晚于", "lt": "早于"},
    "int": {"gte": "不少于", "gt": "多于", "lte": "不多于", "lt": "少于"},
}
_COMPARE_OPPOSITE = {"gte": "lt", "gt": "lte", "lte": "gt", "lt": "gte"}


def _phrase(leaf: Leaf, field: Field, holds: bool = True) -> str:
    """The leaf in words; with holds=False, the words for its negation."""
    t, op = field.title, leaf.op
    values = leaf.value if isinstance(leaf.value, tuple) else (leaf.value,)
    one, shown = len(values) == 1, _show_list(field, values)
    if op in ("eq", "ne", "in", "not_in"):
        if (op in ("eq", "in")) == holds:
            return f"{t}为{shown}" if one else f"{t}为{shown}之一"
        return f"{t}不为{shown}" if one else f"{t}不为{shown}中任一"
    if op == "contains":
        if field.kind == "str":
            return f"{t}{'包含' if holds else '不包含'}“{values[0]}”"
        return f"{t}{'含' if holds else '不含'}{shown}"
    if op == "any_of":
        if holds:
            return f"{t}含{shown}" if one else f"{t}含{shown}之一"
        return f"{t}不含{shown}" if one else f"{t}不含{shown}中任一"
    if op == "all_of":
        if holds:
            return f"{t}含{shown}" if one else f"{t}同时含{shown}"
        return f"{t}不含{shown}" if one else f"{t}不同时含{shown}"
    words = _COMPARE_WORDS[field.kind]
    if holds:
        return f"{t}{words[op]}{shown}"
    return f"{t}{words[_COMPARE_OPPOSITE[op]]}{shown}或为空"


def describe(cond: Node, vocabulary: Vocabulary = ENTITY_FIELDS) -> str:
    """A compact Chinese rendering, e.g. 主体类型为企业，且监管标签含加油站."""
    return _describe(cond, vocabulary, top=True)


def _describe(cond: Node, vocab: Vocabulary, top: bool = False) -> str:
    if isinstance(cond, Leaf):
        return _phrase(cond, vocab[cond.field])
    if isinstance(cond, Not):
        if isinstance(cond.not_, Leaf):
            return _phrase(cond.not_, vocab[cond.not_.field], holds=False)
        return f"并非（{_describe(cond.not_, vocab, top=True)}）"
    children = cond.all if isinstance(cond, AllOf) else cond.any
    if len(children) == 1:
        return _describe(children[0], vocab, top)
    text = ("，且" if isinstance(cond, AllOf) else "，或").join(_describe(c, vocab) for c in children)
    return text if top else f"（{text}）"


def _actual(field: Field, value: Any) -> str:
    if isinstance(value, frozenset):
        return "、".join(sorted(value)) if value else "无"
    return "空" if value is None else _show(field, value)


def explain(cond: Node, entity: Mapping[str, Any], vocabulary: Vocabulary = ENTITY_FIELDS) -> list[str]:
    """Chinese lines, one per node, marking which parts of the condition held (✓) or failed (✗)."""
    lines: list[str] = []
    _explain(cond, entity, vocabulary, 0, lines)
    return lines


def _explain(cond: Node, entity: Mapping[str, Any], vocab: Vocabulary, depth: int, lines: list[str]) -> bool:
    pad = "  " * depth
    if isinstance(cond, Leaf) or (isinstance(cond, Not) and isinstance(cond.not_, Leaf)):
        leaf = cond if isinstance(cond, Leaf) else cond.not_
        field = vocab[leaf.field]
        value = entity_value(field, entity.get(leaf.field))
        held = leaf_holds(leaf, value) == isinstance(cond, Leaf)
        words = _phrase(leaf, field, holds=isinstance(cond, Leaf))
        lines.append(f"{pad}{'✓' if held else '✗'} {words}（实际：{_actual(field, value)}）")
        return held
    at = len(lines)
    lines.append("")
    if isinstance(cond, Not):
        held = not _explain(cond.not_, entity, vocab, depth + 1, lines)
        lines[at] = f"{pad}{'✓' if held else '✗'} 以下条件不成立："
        return held
    children = cond.all if isinstance(cond, AllOf) else cond.any
    results = [_explain(c, entity, vocab, depth + 1, lines) for c in children]
    held = all(results) if isinstance(cond, AllOf) else any(results)
    head = "以下全部满足" if isinstance(cond, AllOf) else "以下任一满足"
    lines[at] = f"{pad}{'✓' if held else '✗'} {head}（{len(results)} 项中 {sum(results)} 项满足）："
    return held
