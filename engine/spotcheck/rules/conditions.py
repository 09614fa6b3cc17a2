"""Conditions: how policies say which entities a task targets and when a rule applies.

A condition is a leaf `{field, op, value}` or a combination `{all: [..]}`, `{any: [..]}`, `{not: ..}`.
Officers write them in YAML; the models below validate them against the closed field vocabulary of
`spotcheck.rules.fields` and the closed operator vocabulary declared here, with Chinese messages and a
`loc` that names the offending key or list item, so the policy loader can point at a file line.

Missing values: an entity without a value for a field (None, "" or absent; an empty label list)
satisfies only `ne`, `not_in` and the negations of the other leaves. `evaluate` is the reference
semantics; `spotcheck.rules.engine` compiles the same conditions for the rules engine and is tested against it.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Tag,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    WrapValidator,
    field_validator,
)
from pydantic import Field as ModelField
from pydantic_core import InitErrorDetails, PydanticCustomError
from spotcheck.rules.fields import ENTITY_FIELDS, TIER_NAMES, Field, Kind

Vocabulary = Mapping[str, Field]

# Condition values for int fields stay far inside the range the rules engine can compare exactly.
INT_LIMIT = 10**9

_SCALAR_KINDS: frozenset[Kind] = frozenset({"str", "enum", "date", "int"})
_ORDERED_KINDS: frozenset[Kind] = frozenset({"date", "int"})
_KIND_NAMES = {"str": "文字", "enum": "枚举", "labels": "标签", "date": "日期", "int": "整数"}


@dataclass(frozen=True)
class Operator:
    """One operator of the closed vocabulary: its Chinese name and the field kinds it applies to."""

    name: str
    title: str
    kinds: frozenset[Kind]
    takes_list: bool


OPERATORS: dict[str, Operator] = {
    o.name: o
    for o in (
        Operator("eq", "等于", _SCALAR_KINDS, False),
        Operator("ne", "不等于", _SCALAR_KINDS, False),
        Operator("in", "属于其一", _SCALAR_KINDS, True),
        Operator("not_in", "不属于任一", _SCALAR_KINDS, True),
        Operator("contains", "包含", frozenset({"labels", "str"}), False),
        Operator("any_of", "含其中任一", frozenset({"labels"}), True),
        Operator("all_of", "含其中全部", frozenset({"labels"}), True),
        Operator("gte", "大于或等于", _ORDERED_KINDS, False),
        Operator("lte", "小于或等于", _ORDERED_KINDS, False),
        Operator("gt", "大于", _ORDERED_KINDS, False),
        Operator("lt", "小于", _ORDERED_KINDS, False),
    )
}

# What officers write instead of the operator names, for "did you mean".
_OP_SPELLINGS = {n: n for n in OPERATORS} | {o.title: n for n, o in OPERATORS.items()} | {
    "=": "eq", "==": "eq", "equal": "eq", "equals": "eq", "!=": "ne", "not_equal": "ne",
    "not in": "not_in", "notin": "not_in", "has": "contains", "includes": "contains",
    ">=": "gte", "<=": "lte", ">": "gt", "<": "lt", "any": "any_of", "all": "all_of",
}

# Values shown with their meaning where the vocabulary gives one.
VALUE_NAMES: dict[str, Mapping[str, str]] = {"tier": TIER_NAMES}

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A date relative to the day of the draw, as plans write it: 成立不满1年 is 成立日期晚于“抽取日前1年”,
# 许可证3个月内到期 is 有效期至早于“抽取日后3个月”. Kept as written in the policy (its hash, its diff, its
# wording) and turned into a date only where the draw's day is known (`resolve_dates`).
RELATIVE_DATE = re.compile(r"抽取日([前后])([1-9]\d{0,2})(年|个月|日)")


# ---------------------------------------------------------------------------------------------
# Models


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _vocabulary(info: ValidationInfo) -> Vocabulary:
    # Team rules validate conditions over inspector fields by passing context={"vocabulary": ...}.
    context = info.context if isinstance(info.context, Mapping) else {}
    return context.get("vocabulary", ENTITY_FIELDS)


def _fail(kind: str, message: str) -> PydanticCustomError:
    # No context on purpose: the message is final text and may quote input containing braces.
    return PydanticCustomError(kind, message)


def _suggest(word: str, spellings: Mapping[str, str]) -> str | None:
    """What `word` most likely meant: `spellings` maps every accepted spelling to its canonical form."""
    lowered = {k.lower(): v for k, v in spellings.items()}
    if word.lower() in lowered:
        return lowered[word.lower()]
    close = difflib.get_close_matches(word, list(spellings), n=1, cutoff=0.5)
    return spellings[close[0]] if close else None


def _field_spellings(vocab: Vocabulary) -> dict[str, str]:
    """Field names, their Chinese titles and directory headers, each mapped to the field name."""
    spellings = {h: name for name, f in vocab.items() for h in (f.title, *f.headers)}
    return spellings | {name: name for name in vocab}


class Leaf(_Node):
    """`{field, op, value}`: one test of one entity field."""

    field: str
    op: str
    value: Any

    @field_validator("field")
    @classmethod
    def _known_field(cls, name: str, info: ValidationInfo) -> str:
        vocab = _vocabulary(info)
        if name in vocab:
            return name
        guess = _suggest(name, _field_spellings(vocab))
        message = f"未知字段 '{name}'"
        if guess:
            message += f"，是否想写 '{guess}'（{vocab[guess].title}）？"
        else:
            message += "。"
        message += "可用字段：" + "、".join(f"{n}（{f.title}）" for n, f in vocab.items())
        raise _fail("unknown_field", message)

    @field_validator("op")
    @classmethod
    def _known_op(cls, name: str, info: ValidationInfo) -> str:
        if name not in OPERATORS:
            guess = _suggest(name, _OP_SPELLINGS)
            message = f"未知运算符 '{name}'"
            message += f"，是否想写 '{guess}'（{OPERATORS[guess].title}）？" if guess else "。"
            message += "可用运算符：" + "、".join(f"{n}（{o.title}）" for n, o in OPERATORS.items())
            raise _fail("unknown_op", message)
        field_name = info.data.get("field")
        if field_name is None:  # the field already failed; its error says enough
            return name
        field = _vocabulary(info)[field_name]
        if field.kind not in OPERATORS[name].kinds:
            usable = [n for n, o in OPERATORS.items() if field.kind in o.kinds]
            raise _fail(
                "op_not_for_field",
                f"运算符 '{name}'（{OPERATORS[name].title}）不适用于字段 '{field_name}'"
                f"（{field.title}，{_KIND_NAMES[field.kind]}类型）；该字段可用：" + "、".join(usable),
            )
        return name

    @field_validator("value")
    @classmethod
    def _fitting_value(cls, value: Any, info: ValidationInfo) -> Any:
        field_name, op_name = info.data.get("field"), info.data.get("op")
        if field_name is None or op_name is None:
            return value
        field, op = _vocabulary(info)[field_name], OPERATORS[op_name]
        if not op.takes_list:
            if isinstance(value, (list, tuple)):
                plural = {"eq": "in", "ne": "not_in", "contains": "all_of 或 any_of"}.get(op_name)
                hint = f"；要写多个值请改用 {plural}" if plural else ""
                raise _fail("value_not_scalar", f"运算符 '{op_name}' 的值应为单个值，不能是列表{hint}")
            return _scalar(field, value)
        if not isinstance(value, (list, tuple)):
            raise _fail(
                "value_not_list",
                f"运算符 '{op_name}'（{op.title}）的值应为列表，如 [{_example_value(field)}]；只有一个值也要写成列表",
            )
        if not value:
            raise _fail("value_empty_list", f"运算符 '{op_name}' 的值列表不能为空")
        items, problems = [], []
        for i, item in enumerate(value):
            try:
                items.append(_scalar(field, item))
            except PydanticCustomError as error:
                problems.append(InitErrorDetails(type=error, loc=(i,), input=item))
        if problems:
            raise ValidationError.from_exception_data("Leaf", problems)
        return tuple(items)


def _example_value(field: Field) -> str:
    if field.values:
        return ", ".join(field.values[:2])
    return {"date": "2020-12-31", "int": "1", "labels": "加油站"}.get(field.kind, "…")


def _scalar(field: Field, value: Any) -> str | int | dt.date:
    """One condition value checked against the field's kind; dates become `datetime.date`."""
    if field.kind == "date":
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        if isinstance(value, str) and RELATIVE_DATE.fullmatch(value):
            return value
        if isinstance(value, str) and _ISO_DATE.fullmatch(value):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise _fail("value_not_date", f"{value!r} 不是有效日期；{field.title}应写作 YYYY-MM-DD，如 \"2020-12-31\"，"
                                      "或相对抽取日写作“抽取日前1年”“抽取日后3个月”“抽取日前30日”")
    if field.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail("value_not_int", f"{value!r} 不是整数；{field.title}应为整数，如 1")
        if abs(value) > INT_LIMIT:
            raise _fail("value_out_of_range", f"{value} 超出范围；{field.title}应在 ±{INT_LIMIT} 之内")
        return value
    if not isinstance(value, str):
        # A bare number in YAML loses leading zeros (and 0o-style octal), so codes must be quoted.
        raise _fail("value_not_text", f"{value!r} 不是文字；{field.title}的值应为文字，代码或数字请加引号，如 \"{value}\"")
    if not value:
        raise _fail("value_empty", f"{field.title}的值不能为空")
    if field.values and value not in field.accepted:
        guess = _suggest(value, {v: v for v in field.accepted})
        message = f"'{value}' 不是{field.title}的可选值"
        message += f"，是否想写 '{guess}'？" if guess else "；"
        message += "可选值：" + "、".join(field.accepted)
        raise _fail("value_not_in_enum", message)
    return value


def _non_empty(children: tuple[Any, ...]) -> tuple[Any, ...]:
    # Not min_length: pydantic would also report a list whose items failed as too short.
    if not children:
        raise _fail("empty_list", "列表不能为空，至少写一个条件")
    return children


class AllOf(_Node):
    """`{all: [..]}`: every listed condition holds."""

    all: tuple[Condition, ...]

    @field_validator("all")
    @classmethod
    def _some(cls, children: tuple[Any, ...]) -> tuple[Any, ...]:
        return _non_empty(children)


class AnyOf(_Node):
    """`{any: [..]}`: at least one listed condition holds."""

    any: tuple[Condition, ...]

    @field_validator("any")
    @classmethod
    def _some(cls, children: tuple[Any, ...]) -> tuple[Any, ...]:
        return _non_empty(children)


class Not(_Node):
    """`{not: ..}`: the condition does not hold."""

    not_: Condition = ModelField(alias="not")


Node = Leaf | AllOf | AnyOf | Not

_TAGS = {"leaf": ("field", "op", "value"), "all": ("all",), "any": ("any",), "not": ("not",)}
_ALL_KEYS = ("field", "op", "value", "all", "any", "not")


def _tag(data: Any) -> str | None:
    if isinstance(data, Mapping):
        for key in ("all", "any", "not"):
            if key in data:
                return key
        return "leaf"
    return {Leaf: "leaf", AllOf: "all", AnyOf: "any", Not: "not"}.get(type(data))


_BUILTIN_MESSAGES = {
    "string_type": "应为文字",
    "tuple_type": "应为列表，每项一个条件",
    "list_type": "应为列表",
    "int_type": "应为整数",
}


def _chinese(tag: str, error: Any) -> str:
    """A Chinese message for an error pydantic raised by itself (ours are Chinese already)."""
    kind, loc = error["type"], error["loc"]
    key = str(loc[-1]) if loc else ""
    if kind == "missing":
        if tag == "leaf":
            return f"缺少 '{key}'；叶子条件须写 field、op、value 三个键"
        return f"缺少 '{key}'"
    if kind == "extra_forbidden":
        allowed = _TAGS[tag]
        guess = _suggest(key, {k: k for k in _ALL_KEYS})
        message = f"不认识的键 '{key}'"
        if guess and guess in allowed:
            message += f"，是否想写 '{guess}'？"
        elif tag == "leaf":
            message += "；叶子条件只能有 field、op、value 三个键"
        else:
            message += "；组合条件只能写 all、any、not 中的一个"
        return message
    return _BUILTIN_MESSAGES.get(kind, f"取值不合法（{error['msg']}）")


def _readable_errors(value: Any, handler: Any) -> Any:
    """Drop the union tag pydantic puts into `loc` and make its own messages Chinese.

    The policy loader maps `loc` back to YAML keys, where the tag does not exist.
    """
    try:
        return handler(value)
    except ValidationError as error:
        tag = _tag(value)
        details = []
        for e in error.errors():
            loc = tuple(e["loc"])
            if loc and tag is not None and loc[0] == tag:
                loc = loc[1:]
            builtin = "url" in e  # pydantic's own errors carry a documentation link; ours do not
            message = _chinese(tag or "leaf", {**e, "loc": loc}) if builtin else e["msg"]
            details.append(InitErrorDetails(type=_fail(e["type"], message), loc=loc, input=e["input"]))
        raise ValidationError.from_exception_data("Condition", details) from None


Condition = Annotated[
    Annotated[Leaf, Tag("leaf")]
    | Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[Not, Tag("not")],
    Discriminator(
        _tag,
        custom_error_type="condition_type",
        custom_error_message="条件应为映射：叶子条件写 field、op、value 三个键，组合条件写 all、any 或 not",
    ),
    WrapValidator(_readable_errors),
]

for _model in (AllOf, AnyOf, Not):
    _model.model_rebuild()

_ADAPTER: TypeAdapter[Node] = TypeAdapter(Condition)


def parse_condition(data: Any, vocabulary: Vocabulary | None = None) -> Node:
    """Validate a condition as written in a policy; raises pydantic's ValidationError."""
    context = {"vocabulary": vocabulary} if vocabulary is not None else None
    return _ADAPTER.validate_python(data, context=context)


def relative_date(text: str, on: dt.date) -> dt.date:
    """The day a relative date ("抽取日前1年") names for a draw on `on`; a month end the target month
    lacks (2月29日, 31日) falls back to that month's last day."""
    match = RELATIVE_DATE.fullmatch(text)
    if match is None:
        raise ValueError(f"不是相对日期：{text}")
    sign = -1 if match.group(1) == "前" else 1
    n = int(match.group(2)) * sign
    if match.group(3) == "日":
        return on + dt.timedelta(days=n)
    months = on.year * 12 + on.month - 1 + (n * 12 if match.group(3) == "年" else n)
    year, month = divmod(months, 12)
    month += 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(on.day, last))


def resolve_dates(cond: Node, on: dt.date) -> Node:
    """The condition with every relative date turned into the day it names for a draw on `on`."""
    if isinstance(cond, Leaf):
        value = cond.value
        if isinstance(value, str) and RELATIVE_DATE.fullmatch(value):
            return cond.model_copy(update={"value": relative_date(value, on)})
        if isinstance(value, tuple) and any(isinstance(v, str) and RELATIVE_DATE.fullmatch(v) for v in value):
            return cond.model_copy(update={"value": tuple(
                relative_date(v, on) if isinstance(v, str) and RELATIVE_DATE.fullmatch(v) else v for v in value)})
        return cond
    if isinstance(cond, AllOf):
        return cond.model_copy(update={"all": tuple(resolve_dates(c, on) for c in cond.all)})
    if isinstance(cond, AnyOf):
        return cond.model_copy(update={"any": tuple(resolve_dates(c, on) for c in cond.any)})
    return cond.model_copy(update={"not_": resolve_dates(cond.not_, on)})
