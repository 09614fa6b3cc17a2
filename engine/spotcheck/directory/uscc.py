"""统一社会信用代码 (unified social credit code, GB 32100-2015): check character, validation, synthesis.

An 18-character code: registration department (1), entity type (1), region (6), organisation code
(9, GB 11714), check character (1). The check covers the first 17 characters; the scalar functions
and the polars expressions below must agree (the tests compare them on random codes).
"""

from __future__ import annotations

import hashlib
from typing import Callable

import numpy as np
import polars as pl
from spotcheck.rules.fields import REGISTRATION_KINDS

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100 leaves out I, O, S, V, Z
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {c: i for i, c in enumerate(CHARSET)}

# Registration department 9 (market regulation) followed by the entity-type digit.
# The first two characters of a code per kind of organisation (GB 32100), e.g. 企业 91, 事业单位 12.
TYPE_PREFIX = {kind: code for code, kind in REGISTRATION_KINDS.items()}

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
    return _check_char(total)


def _check_char(total: int) -> str:
    return CHARSET[(31 - total % 31) % 31]


def is_valid(code: str) -> bool:
    """True for an 18-character code of legal characters whose last character is its check character."""
    if not isinstance(code, str) or len(code) != 18 or any(c not in _VALUE for c in code):
        return False
    return check_char(code[:17]) == code[17]


def check_char_expr(col: str | pl.Expr) -> pl.Expr:
    """Expected check character of a string column's first 17 characters; null where they are not 17 legal characters."""
    expr = pl.col(col) if isinstance(col, str) else col
    return pl.lit(_CHECK_CHAR_BY_SUM).gather(_weighted_sum(expr, _TABLES))


def remainder_expr(col: str | pl.Expr) -> pl.Expr:
    """Σ value × weight over all 18 characters, the check character weighing 1, modulo 31 (UInt8).

    0 exactly for a valid code, since the check character brings the sum to a multiple of 31; null
    where the column does not hold 18 legal characters.
    """
    expr = pl.col(col) if isinstance(col, str) else col
    return pl.lit(_REMAINDER_BY_SUM).gather(_weighted_sum(expr, _WHOLE_TABLES, whole=True))


def remainders(codes: pl.Series) -> pl.Series:
    """`remainder_expr` of a Series. When every code is 18 bytes (nearly always in a directory), they
    are one block of fixed-width bytes: a lookup and a weighted sum with numpy, several times cheaper
    than the expression's per-character columns."""
    sizes = codes.str.len_bytes()
    if not codes.len() or codes.null_count() or sizes.min() != 18 or sizes.max() != 18:
        return pl.select(remainder_expr(pl.lit(codes))).to_series().alias(codes.name)
    raw = np.frombuffer(pl.select(pl.lit(codes).str.join("").cast(pl.Binary)).item(), dtype=np.uint8).reshape(-1, 18)
    values = _BYTE_VALUE[raw]
    total = np.zeros(len(raw), dtype=np.uint32)
    for i, weight in enumerate((*WEIGHTS, 1)):
        total += values[:, i] * np.uint32(weight)
    out = pl.Series(codes.name, (total % 31).astype(np.uint8))
    illegal = (values == _NOT_LEGAL).any(axis=1)
    return out.scatter(np.flatnonzero(illegal), None) if illegal.any() else out


def remainders_expr(col: str | pl.Expr) -> pl.Expr:
    """`remainder_expr` computed by `remainders`, a batch of rows at a time."""
    expr = pl.col(col) if isinstance(col, str) else col
    return expr.map_batches(remainders, return_dtype=pl.UInt8, is_elementwise=True)


def valid_expr(col: str | pl.Expr) -> pl.Expr:
    """Boolean expression: the column holds a valid code (null input gives False)."""
    return (remainder_expr(col) == 0).fill_null(False)


def valid_series(codes: pl.Series) -> pl.Series:
    """`valid_expr` applied to a Series."""
    return pl.select(valid_expr(pl.lit(codes)).alias(codes.name)).to_series()


def org_check_char(body8: str) -> str:
    """GB 11714 check character for an 8-character organisation-code body."""
    return _org_check_char(sum(_ORG_VALUE[c] * w for c, w in zip(body8, _ORG_WEIGHTS)))


def _org_check_char(total: int) -> str:
    r = (11 - total % 11) % 11
    return "X" if r == 10 else str(r)


def org_check_char_expr(body: pl.Expr) -> pl.Expr:
    """`org_check_char` over a column of 8-character bodies (digits and upper-case letters)."""
    return pl.lit(_ORG_CHECK_CHAR_BY_SUM).gather(_weighted_sum(body, _ORG_TABLES))


# The expressions work on bytes, as legal characters are ASCII: one lookup per position in a table
# from byte to value × weight, summed across. A byte that is not a legal character weighs _ILLEGAL,
# more than any sum of legal ones, and so does a code too short (or, for whole codes, too long);
# the sum, capped there, indexes a table of results whose last entry is null. Each sum is computed
# once: polars does not share a subexpression used twice in one expression.
_ILLEGAL = 1 + max(max(_VALUE.values()) * (sum(WEIGHTS) + 1), max(_ORG_VALUE.values()) * sum(_ORG_WEIGHTS))


def _byte_tables(values: dict[str, int], weights: tuple[int, ...]) -> list[pl.Series]:
    tables = []
    for weight in weights:
        table = [_ILLEGAL] * 256
        for char, value in values.items():
            table[ord(char)] = value * weight
        tables.append(pl.Series(table, dtype=pl.UInt32))
    return tables


def _weighted_sum(expr: pl.Expr, tables: list[pl.Series], *, whole: bool = False) -> pl.Expr:
    """Σ value × weight over the first len(tables) characters, or _ILLEGAL (see above)."""
    data = expr.cast(pl.Binary)
    # A byte past the end is null; byte 0 stands for it, as it is no legal character.
    terms = [pl.lit(table).gather(data.bin.get(i, null_on_oob=True).fill_null(0)) for i, table in enumerate(tables)]
    if whole:
        terms.append((expr.str.len_bytes() > len(tables)).cast(pl.UInt32) * _ILLEGAL)
    return pl.sum_horizontal(terms).clip(upper_bound=_ILLEGAL)


def _by_sum(result: Callable[[int], object], dtype: pl.DataType) -> pl.Series:
    return pl.Series([result(total) for total in range(_ILLEGAL)] + [None], dtype=dtype)


_NOT_LEGAL = 255  # the value of a byte that is no legal character, past any legal one
_BYTE_VALUE = np.full(256, _NOT_LEGAL, dtype=np.uint8)
_BYTE_VALUE[[ord(c) for c in CHARSET]] = list(range(len(CHARSET)))
_TABLES = _byte_tables(_VALUE, WEIGHTS)
_WHOLE_TABLES = _byte_tables(_VALUE, (*WEIGHTS, 1))
_ORG_TABLES = _byte_tables(_ORG_VALUE, _ORG_WEIGHTS)
_CHECK_CHAR_BY_SUM = _by_sum(_check_char, pl.String)
_REMAINDER_BY_SUM = _by_sum(lambda total: total % 31, pl.UInt8)
_ORG_CHECK_CHAR_BY_SUM = _by_sum(_org_check_char, pl.String)


def make(seed_material: str | bytes, entity_type: str = "企业", region: str = "110000") -> str:
    """A valid code derived from `seed_material`: the kind's registration code, `region`, a new-style ('MA…') organisation code.

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
