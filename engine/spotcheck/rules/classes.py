"""Rows to classes and back: a frame of entities (or visits) answered by the rules engine per class.

Every row is encoded into the engine's fact codes with column expressions (spotcheck.rules.engine), each
row's codes become one integer, and the distinct integers are the classes the rules can tell apart.
Only the classes go to the engine; each row then looks its answers up through its class. This is
how a directory of millions of rows costs tens of engine calls, not millions.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl
from spotcheck.rules.conditions import Vocabulary
from spotcheck.rules.fields import ENTITY_FIELDS
from spotcheck.rules.engine import CompiledRules, Rule, compile_rules


@dataclass(frozen=True)
class Classes:
    """Each row's class (`ids`, UInt32) and, per class, the ids of the rules that hold for it."""

    ids: pl.Series
    answers: tuple[frozenset[str], ...]

    def holds(self, rule_id: str) -> pl.Series:
        """Per row: whether the rule holds, looked up through the row's class."""
        table = pl.Series([rule_id in a for a in self.answers], dtype=pl.Boolean)
        return table.gather(self.ids)


def classify(
    rules: Sequence[Rule] | CompiledRules, frame: pl.DataFrame, facts_kinds: Vocabulary = ENTITY_FIELDS
) -> Classes:
    """Encode every row into the engine's fact codes and ask the engine once per distinct encoding.

    The number of engine calls follows the number of classes the rules can tell apart (and, within
    those, each rule group's projections), not the number of rows. A field missing from the frame
    counts as empty for every row.
    """
    compiled = rules if isinstance(rules, CompiledRules) else compile_rules(rules, facts_kinds)
    masks, coded = compiled.code_exprs(frame)
    if not coded:
        return Classes(pl.zeros(frame.height, pl.UInt32, eager=True).alias("class"), (compiled.evaluate_encoded([{}])[0],))
    if math.prod(r for _, _, r in coded) < 2**63:
        ids, classes = _classes_by_key(frame.with_columns(masks) if masks else frame, _digits(coded, compiled.flag_bits(frame)))
    else:
        ids, classes = _classes_by_join(compiled.encode_frame(frame))
    return Classes(ids.alias("class"), tuple(compiled.evaluate_classes(classes)))


@dataclass(frozen=True)
class _Digit:
    """One digit of a row's class key: a property's code, or flags packed as the bits of their mask."""

    expr: pl.Expr
    radix: int
    names: tuple[str, ...]  # the properties it holds; a mask's flags lowest bit first
    packed: bool = False


def _digits(coded: list[tuple[str, pl.Expr, int]], bits: dict[str, tuple[str, int]]) -> list[_Digit]:
    """The properties as key digits. The flags of one labels mask (bits 1, 2, 4, … as `code_exprs` sets
    them) are the mask itself, one digit: dozens of labels would otherwise each cost a pass over every row."""
    digits: list[_Digit] = []
    for name, expr, radix in coded:
        mask, bit = bits.get(name, (None, 0))
        last = digits[-1] if digits else None
        if mask is not None and last is not None and last.packed and bits[last.names[0]][0] == mask and bit == last.radix:
            digits[-1] = _Digit(last.expr, last.radix * 2, (*last.names, name), True)
        elif mask is not None and bit == 1:
            digits.append(_Digit(pl.col(mask), 2, (name,), True))
        else:
            digits.append(_Digit(expr, radix, (name,)))
    # A mask is one digit only when the run holds all of its bits: otherwise its flags go one by one.
    per_mask = Counter(mask for mask, _ in bits.values())
    own = {name: (expr, radix) for name, expr, radix in coded}
    out: list[_Digit] = []
    for d in digits:
        if d.packed and per_mask[bits[d.names[0]][0]] != len(d.names):
            out += [_Digit(*own[name], (name,)) for name in d.names]
        else:
            out.append(d)
    return out


def _classes_by_key(frame: pl.DataFrame, digits: list[_Digit]) -> tuple[pl.Series, pl.DataFrame]:
    """Codes are small non-negative ints: each row's codes become one exact mixed-radix integer.

    Only that integer is kept per row (not a column per property), and the distinct ones are decoded
    back into codes.
    """
    key = pl.lit(0, dtype=pl.Int64)
    for d in digits:
        key = key * d.radix + d.expr.cast(pl.Int64)
    keys = frame.select(key.alias("k")).to_series()
    distinct = keys.unique().sort()
    ids = distinct.search_sorted(keys).cast(pl.UInt32)
    columns, rest = [], pl.col("k")
    for d in reversed(digits):
        digit = rest % d.radix
        if d.packed:
            columns += [((digit & (1 << j)) != 0).cast(pl.Int32).alias(name) for j, name in reversed(list(enumerate(d.names)))]
        else:
            columns.append(digit.cast(pl.Int32).alias(d.names[0]))
        rest = rest // d.radix
    return ids, distinct.to_frame("k").select(list(reversed(columns)))


def _classes_by_join(codes: pl.DataFrame) -> tuple[pl.Series, pl.DataFrame]:
    """Each row's index into the distinct code rows, when the codes do not fit one integer."""
    distinct = codes.unique().sort(codes.columns).with_row_index("_class")
    ids = codes.join(distinct, on=codes.columns, how="left", maintain_order="left")["_class"]
    return ids, distinct.drop("_class")


def matches_by_class(
    rules: Sequence[Rule] | CompiledRules, frame: pl.DataFrame, facts_kinds: Vocabulary = ENTITY_FIELDS
) -> pl.DataFrame:
    """The rules holding for each row: columns `row` (the frame's row index) and `rules` (sorted ids)."""
    classes = classify(rules, frame, facts_kinds)
    table = pl.Series("rules", [sorted(a) for a in classes.answers], dtype=pl.List(pl.String))
    rows = pl.int_range(0, frame.height, dtype=pl.UInt32, eager=True).alias("row")
    return pl.DataFrame([rows, table.gather(classes.ids)])
