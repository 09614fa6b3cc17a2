"""统一社会信用代码 (unified social credit code, GB 32100-2015): check character, validation, synthesis.

An 18-character code: registration department (1), entity type (1), region (6), organisation code
(9, GB 11714), check character (1). The check covers the first 17 characters; the scalar functions
and the polars expressions below must agree (the tests compare them on random codes).
"""

from __future__ import annotations

import hashlib
import operator
from functools import reduce

import polars as pl

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100 leaves out I, O, S, V, Z
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {c: i for i, c in enumerate(CHARSET)}

# Registration department 9 (market regulation) followed by the entity-type digit.
TYPE_PREFIX = {"企业": "91", "个体工商户": "92", "农民专业合作社": "93"}

# GB 11714 organisation code: 8 body characters and a check character (0-9 or X).
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_VALUE = {c: int(c, 36) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


def check_char(first17: str) -> str:
    """The check character for the first 17 characters; ValueError if they are not 17 legal characters."""
    if len(first17) != 17:
        raise ValueError(f"需要 17 位字符，得到 {len(first17)} 位：{first17!r}")
    try:
        total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS))
    except KeyError as exc:
        raise ValueError(f"含有统一社会信用代码不允许的字符 {exc.args[0]!r}：{first17!r}") from None
    return CHARSET[(31 - total % 31) % 31]


def is_valid(code: str) -> bool:
    """True for an 18-character code of legal characters whose last character is its check character."""
    if not isinstance(code, str) or len(code) != 18 or any(c not in _VALUE for c in code):
        return False
    return check_char(code[:17]) == code[17]


def check_char_expr(col: str | pl.Expr) -> pl.Expr:
    """Expected check character of a string column's first 17 characters; null where they are not 17 legal characters.

    One `str.slice` + `replace_strict` per position: no Python per row. Adding with `+` (not
    sum_horizontal, which skips nulls) makes one illegal character null the whole sum.
    """
    expr = pl.col(col) if isinstance(col, str) else col
    total = _weighted_sum(expr, _VALUE, WEIGHTS)
    return ((31 - total % 31) % 31).replace_strict(dict(enumerate(CHARSET)), return_dtype=pl.String)


def _weighted_sum(expr: pl.Expr, values: dict[str, int], weights: tuple[int, ...]) -> pl.Expr:
    terms = [
        expr.str.slice(pos, 1).replace_strict(values, default=None, return_dtype=pl.Int64) * weight
        for pos, weight in enumerate(weights)
    ]
    return reduce(operator.add, terms)


def valid_expr(col: str | pl.Expr) -> pl.Expr:
    """Boolean expression: the column holds a valid code (null input gives False)."""
    expr = pl.col(col) if isinstance(col, str) else col
    good = (expr.str.len_chars() == 18) & (check_char_expr(expr) == expr.str.slice(17, 1))
    return good.fill_null(False)


def valid_series(codes: pl.Series) -> pl.Series:
    """`valid_expr` applied to a Series."""
    return pl.select(valid_expr(pl.lit(codes)).alias(codes.name)).to_series()


def org_check_char(body8: str) -> str:
    """GB 11714 check character for an 8-character organisation-code body."""
    total = sum(_ORG_VALUE[c] * w for c, w in zip(body8, _ORG_WEIGHTS))
    r = (11 - total % 11) % 11
    return "X" if r == 10 else str(r)


def org_check_char_expr(body: pl.Expr) -> pl.Expr:
    """`org_check_char` over a column of 8-character bodies (digits and upper-case letters)."""
    r = (11 - _weighted_sum(body, _ORG_VALUE, _ORG_WEIGHTS) % 11) % 11
    return pl.when(r == 10).then(pl.lit("X")).otherwise(r.cast(pl.String))


def make(seed_material: str | bytes, entity_type: str = "企业", region: str = "110000") -> str:
    """A valid code derived from `seed_material`: '9' + type digit, `region`, a new-style ('MA…') organisation code.

    Deterministic: the same material, type and region always give the same code.
    """
    if entity_type not in TYPE_PREFIX:
        raise ValueError(f"未知主体类型 {entity_type!r}，应为 {'、'.join(TYPE_PREFIX)} 之一")
    if len(region) != 6 or not region.isdigit():
        raise ValueError(f"行政区划代码应为 6 位数字：{region!r}")
    material = seed_material.encode("utf-8") if isinstance(seed_material, str) else seed_material
    digest = hashlib.blake2b(material, digest_size=16, person=b"spotcheck-uscc").digest()
    body = "MA" + "".join(CHARSET[b % 31] for b in digest[:6])
    first17 = TYPE_PREFIX[entity_type] + region + body + org_check_char(body)
    return first17 + check_char(first17)
