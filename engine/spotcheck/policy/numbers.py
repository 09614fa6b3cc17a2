"""The number types policies are written in: percentages and multipliers as exact decimals written as
strings ("5%", "0.5"), never floats, and the strict base model every policy record uses."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictInt,
    WithJsonSchema,
)

_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)%$")


def _parse_percent(value: object) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if not isinstance(value, str):
        raise ValueError("比例须写成带百分号的字符串，如 \"5%\"，不能写成数字（避免浮点误差）")
    m = _PERCENT.match(value.strip())
    if not m:
        raise ValueError(f"比例 {value!r} 格式不对，应写成 \"5%\"、\"0.5%\" 或 \"100%\"")
    pct = Decimal(m.group(1))
    if pct > 100:
        raise ValueError(f"比例 {value} 超过 100%")
    return pct


def _parse_decimal(value: object) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if not isinstance(value, str):
        raise ValueError("倍数须写成字符串，如 \"0.5\" 或 \"2\"，不能写成数字（避免浮点误差）")
    try:
        d = Decimal(value.strip())
    except InvalidOperation:
        raise ValueError(f"倍数 {value!r} 不是数字，应写成 \"0.5\" 或 \"2\"") from None
    if d < 0:
        raise ValueError(f"倍数 {value} 不能为负数")
    return d


def _non_negative(v: int) -> int:
    if v < 0:
        raise ValueError("不能为负数")
    return v


# A percentage in [0, 100], kept as the Decimal number of percent ("5%" -> Decimal("5")).
Percent = Annotated[
    Decimal,
    BeforeValidator(_parse_percent),
    PlainSerializer(lambda d: f"{d}%", return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d+(\.\d+)?%$", "title": "百分比", "description": "如 \"5%\"、\"100%\""}),
]
Multiplier = Annotated[
    Decimal,
    BeforeValidator(_parse_decimal),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d+(\.\d+)?$", "title": "倍数", "description": "如 \"0.5\"、\"2\""}),
]
Count = Annotated[StrictInt, AfterValidator(_non_negative)]
Tier = Literal["A", "B", "C", "D"]
Month = Annotated[StrictInt, Field(ge=1, le=12)]


def percent_fraction(p: Decimal) -> Fraction:
    """Exact fraction of a Percent: Decimal("7") -> Fraction(7, 100)."""
    return Fraction(p) / 100


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


