"""The number types policies are written in: percentages and multipliers as exact decimals written as
strings ("5%", "0.5"), never floats, and the strict base model every policy record uses."""

from __future__ import annotations

import datetime as dt
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
from spotcheck.calendar.workdays import DAY_SCHEMA, FIRST_YEAR, LAST_YEAR, in_years

# One grammar for the loader and the exported schema: ASCII digits, at most 6 decimal places, no sign,
# spaces, underscores, exponents or NaN, so every number a policy holds is small and exact.
_PERCENT = r"^(?:100(?:\.0{1,6})?|[0-9]{1,2}(?:\.[0-9]{1,6})?)%$"
_POSITIVE_PERCENT = r"^(?!0{1,2}(?:\.0{1,6})?%$)" + _PERCENT[1:]
_MULTIPLIER = r"^[0-9]{1,3}(?:\.[0-9]{1,6})?$"


def _as_percent(number: object) -> str | None:
    """What a bare number most likely meant, written as a percentage: 0.05 → "5%", 5 → "5%"."""
    try:
        d = Decimal(str(number).strip())
    except InvalidOperation:
        return None
    if not d.is_finite() or d < 0 or d > 100:
        return None
    pct = d * 100 if d <= 1 and d != d.to_integral_value() else d
    return f"{pct.normalize():f}%"


# A plan's table writes the bound into the ratio ("不低于5%", "≥20%", "30%以上"); a policy keeps it as a key of its own.
_LOWER_BOUNDS = ("不低于", "不少于", "至少", "最低", "≥", "≧", ">=", "＞＝", "以上", "及以上")
_NUMBER = r"([0-9]+(?:\.[0-9]+)?%)"
_BOUND_WORDS = re.compile(r"\s*(不低于|不少于|至少|最低|不高于|不超过|最多|最高|≥|≧|>=|＞＝|≤|≦|<=|＜＝)\s*" + _NUMBER + r"\s*")
_BOUND_AFTER = re.compile(r"\s*" + _NUMBER + r"\s*(及以上|以上|及以下|以下)\s*")
_RANGE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)%?\s*(?:-|—|–|－|~|～|至|到)+\s*" + _NUMBER + r"\s*")
_PER_MILLE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*‰\s*")
_SPOKEN = re.compile(r"\s*(百分之|千分之)([零〇一二两三四五六七八九十百点]+)\s*")
_HOUSEHOLDS = re.compile(r"\s*(不少于|至少|抽查|抽取)?\s*([0-9]+)\s*户.*")
_DIGITS = dict(zip("零〇一二两三四五六七八九", (0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9)))


def _spoken(words: str) -> Decimal | None:
    """A number as a plan spells it out, up to 一百 with 点 decimals ("三", "三十五", "零点五"); None otherwise."""
    whole, _, fraction = words.partition("点")
    if whole == "一百":
        n = 100
    elif "十" in whole:
        tens, _, ones = whole.partition("十")
        if len(tens) > 1 or len(ones) > 1 or any(c not in _DIGITS for c in tens + ones):
            return None
        n = (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[ones] if ones else 0)
    elif len(whole) == 1 and whole in _DIGITS:
        n = _DIGITS[whole]
    else:
        return None
    if any(c not in _DIGITS for c in fraction):
        return None
    return Decimal(f"{n}.{''.join(str(_DIGITS[c]) for c in fraction)}" if fraction else n)


def _spelled(value: str, what: str) -> str | None:
    """The fix for a ratio copied from a plan's words rather than written as the policy writes it."""
    bound = _BOUND_WORDS.fullmatch(value)
    if bound or (after := _BOUND_AFTER.fullmatch(value)):
        word, number = bound.groups() if bound else after.groups()[::-1]
        key = "at_least: true" if word in _LOWER_BOUNDS else "at_most: true"
        return f"{what} {value!r} 只写 \"{number}\"；“{word}”在抽查比例（sampling）中另写成 {key}，计划表的原话可照录在 text"
    if copied := _RANGE.fullmatch(value):
        low, high = copied.groups()
        return (f"{what} {value!r} 是区间：写成 ratio: \"{low}%\" 和 ratio_max: \"{high}\"（按下限抽取，按信用等级提高后不超过上限），"
                "计划表的原话可照录在 text")
    if (compact := re.sub(r"\s", "", value)) != value and re.fullmatch(r"[0-9]+(?:\.[0-9]+)?%", compact):
        return f"{what} {value!r} 中有空格：写成 \"{compact}\""
    if copied := _PER_MILLE.fullmatch(value):
        return f"{what} {value!r} 用千分号：写成百分比 \"{Decimal(copied.group(1)) / 10:f}%\""
    if (copied := _SPOKEN.fullmatch(value)) and (n := _spoken(copied.group(2))) is not None:
        pct = n if copied.group(1) == "百分之" else n / 10
        return f"{what} {value!r} 用阿拉伯数字写成 \"{pct.normalize():f}%\""
    if copied := _HOUSEHOLDS.fullmatch(value):
        word, n = copied.groups()
        key = f"min_count: {n}（最少户数，与比例同用）" if word in ("不少于", "至少") else f"count: {n}（固定户数）"
        return f"{what} {value!r} 是户数，不是比例：写成 {key}"
    return None


def _percent_parser(pattern: str, what: str):
    rx = re.compile(pattern)

    def parse(value: object) -> Decimal:
        if isinstance(value, Decimal):
            value = f"{value:f}%"
        if not isinstance(value, str):
            guess = _as_percent(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
            raise ValueError(f"{what}须写成带百分号的字符串，不能写成数字（避免浮点误差）"
                             + (f"：{value} 应写成 \"{guess}\"" if guess else "，如 \"5%\""))
        if "％" in value:
            fixed = value.replace("％", "%").strip()
            raise ValueError(f"{what} {value!r} 中的“％”是全角百分号，请改为半角“%”（英文输入法）：\"{fixed}\"")
        if rx.match(value):
            return Decimal(value[:-1])
        # The pattern alone decides; these are only the words for what it refused.
        if (fix := _spelled(value, what)) is not None:
            raise ValueError(fix)
        if re.match(r"^[0-9]+(?:\.[0-9]+)?%$", value) and Decimal(value[:-1]) > 100:
            raise ValueError(f"{what} {value} 超过 100%")
        if re.match(r"^0+(?:\.0+)?%$", value):
            raise ValueError(f"{what}不能为 {value}：按 0% 抽取不会抽到任何主体")
        guess = _as_percent(value)
        raise ValueError(f"{what} {value!r} 格式不对，应写成用半角数字的 \"5%\"、\"0.5%\" 或 \"100%\""
                         "（不加空格，小数最多 6 位）" + (f"；{value.strip()} 应写成 \"{guess}\"" if guess else ""))

    return parse


def _parse_decimal(value: object) -> Decimal:
    if isinstance(value, Decimal):
        value = f"{value:f}"
    if not isinstance(value, str):
        raise ValueError("倍数须写成字符串，如 \"0.5\" 或 \"2\"，不能写成数字（避免浮点误差）")
    if not re.match(_MULTIPLIER, value):
        raise ValueError(f"倍数 {value!r} 格式不对，应写成 0 到 999 之间、用半角数字的 \"0.5\" 或 \"2\"（不加空格，小数最多 6 位）")
    return Decimal(value)


def once_each(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        twice = next(v for i, v in enumerate(values) if v in values[:i])
        raise ValueError(f"'{twice}' 写了不止一次，每项只能写一次")
    return values


def _percent_type(pattern: str, what: str, description: str) -> object:
    return Annotated[
        Decimal,
        BeforeValidator(_percent_parser(pattern, what)),
        PlainSerializer(lambda d: f"{d}%", return_type=str),
        WithJsonSchema({"type": "string", "pattern": pattern, "title": "百分比", "description": description}),
    ]


# A percentage in [0, 100], kept as the Decimal number of percent ("5%" -> Decimal("5")).
Percent = _percent_type(_PERCENT, "比例", "如 \"5%\"、\"100%\"")
# A task's own ratio: a plan that draws 0% draws nobody, which is a mistake, not a plan.
PositivePercent = _percent_type(_POSITIVE_PERCENT, "比例", "如 \"5%\"、\"100%\"，大于 0%")
Multiplier = Annotated[
    Decimal,
    BeforeValidator(_parse_decimal),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": _MULTIPLIER, "title": "倍数", "description": "如 \"0.5\"、\"2\""}),
]
Count = Annotated[StrictInt, Field(ge=0, le=10_000_000)]
PositiveCount = Annotated[StrictInt, Field(ge=1, le=10_000_000)]  # a task's own count: 0 draws nobody
Year = Annotated[StrictInt, Field(ge=FIRST_YEAR, le=LAST_YEAR)]
Serial = Annotated[StrictInt, Field(ge=1, le=99_999)]  # versions, task numbers, document numbers
Limit = Annotated[StrictInt, Field(ge=1, le=100)]  # checks of one entity in a year
Tier = Literal["A", "B", "C", "D"]
Month = Annotated[StrictInt, Field(ge=1, le=12)]
Date = Annotated[dt.date, AfterValidator(in_years), WithJsonSchema(DAY_SCHEMA)]


def percent_fraction(p: Decimal) -> Fraction:
    """Exact fraction of a Percent: Decimal("7") -> Fraction(7, 100)."""
    return Fraction(p) / 100


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


