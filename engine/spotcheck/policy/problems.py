"""Pydantic's validation errors as Chinese problems, each at the file and line that caused it.

An unknown key suggests the closest known one (did-you-mean) and lists the keys allowed there; a
wrong type, value or date says what was expected and what was written; `where` names the objects on
the path by id.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from spotcheck import ids
from spotcheck.errors import Problem
from spotcheck.policy.yamlsource import Document, Path_, SourceMap, place, where_text


def _data_path(loc: Sequence[Any], data: Any) -> tuple[Path_, bool]:
    """The parts of a pydantic loc that are keys or indices of the data (union tags dropped).

    Returns the path and whether it names a mapping key rather than a value ('[key]' errors).
    """
    out: list[Any] = []
    cur = data
    on_key = False
    for part in loc:
        if (isinstance(cur, dict) and part in cur and not isinstance(part, bool)) or (
                isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur)):
            out.append(part)
            cur = cur[part]
        elif part == "[key]":
            on_key = True
    return tuple(out), on_key


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    if value is None:
        return "空值"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return "映射" if isinstance(value, dict) else "列表"
    return str(value)


def _unwrap(tp: Any) -> list[Any]:
    """The concrete alternatives of an annotation: Annotated and Optional and unions flattened."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return [alt for arg in typing.get_args(tp) for alt in _unwrap(arg)]
    return [tp]


def _step(tps: list[Any], part: Any) -> list[Any]:
    """The annotations reached from `tps` by one loc part; a union-tag part selects its member."""
    tagged = [t for t in tps if isinstance(t, type) and t.__name__ == part]
    if tagged:
        return tagged
    out: list[Any] = []
    for tp in tps:
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
            out += [alt for name, info in tp.model_fields.items() if (info.alias or name) == part
                    for alt in _unwrap(info.annotation)]
        elif origin in (list, tuple, set, frozenset) and isinstance(part, int) and args:
            arg = args[min(part, len(args) - 1)] if origin is tuple and args[-1] is not Ellipsis else args[0]
            out += _unwrap(arg)
        elif origin is dict and args and not isinstance(part, int):
            out += _unwrap(args[1])
    return out or tps  # an unknown part (a tag such as 'function-after[...]') leaves the type as it was


def _fields_at(root: type[BaseModel], loc: Sequence[Any]) -> list[str]:
    tps: list[Any] = [root]
    for part in loc:
        tps = _step(tps, part)
    names: list[str] = []
    for tp in tps:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            names += [info.alias or n for n, info in tp.model_fields.items() if (info.alias or n) not in names]
    return names


def _title_at(root: type[BaseModel], loc: Sequence[Any]) -> str | None:
    """The Chinese title and description of the field `loc` ends at, as the schema shows them."""
    *parent, key = loc
    tps: list[Any] = [root]
    for part in parent:
        tps = _step(tps, part)
    for tp in tps:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            for name, info in tp.model_fields.items():
                if (info.alias or name) == key and info.title:
                    return info.title + (f"（{info.description}）" if info.description else "")
    return None


_TYPE_MESSAGES = {
    "int_type": "应为整数", "int_parsing": "应为整数", "int_from_float": "应为整数",
    "string_type": "应为文字（字符串）", "float_type": "应为数字", "float_parsing": "应为数字",
    "list_type": "应为列表", "tuple_type": "应为列表", "set_type": "应为列表",
    "dict_type": "应为映射（键: 值）", "model_type": "应为映射（键: 值）", "model_attributes_type": "应为映射（键: 值）",
    "decimal_type": "应为数字", "decimal_parsing": "应为数字", "finite_number": "应为有限的数字",
    "invalid_key": "键应为文字（字符串）", "int_parsing_size": "整数位数过多", "string_too_long": "文字过长",
    "string_pattern_mismatch": "格式不对", "string_unicode": "应为文字（字符串）", "none_required": "应为空值",
    "is_instance_of": "类型不对", "dict_attributes_type": "应为映射（键: 值）", "frozen_set_type": "应为列表",
    "iterable_type": "应为列表",
}
_CJK = re.compile(r"[\u4e00-\u9fff]")
_DATE_TYPES = ("date_type", "date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact",
               "datetime_type", "datetime_parsing")


def _home_of(root: type[BaseModel], loc: Sequence[Any], key: str) -> str | None:
    """Where a key that is unknown at `loc` belongs: in a field one level in (sampling's times_per_year written
    beside sampling) or beside the mapping it was written in (a task's draw_months written inside sampling)."""
    for name in _fields_at(root, loc):
        if any(key in _fields_at(root, (*loc, name, *index)) for index in ((), (0,))):
            return f"{key} 是 {name} 中的键：移到 {name} 下（{name}: {{…, {key}: …}}）"
    names = [k for k, part in enumerate(loc) if isinstance(part, str)]
    if names and key in _fields_at(root, loc[: names[-1]]):
        return f"{key} 不写在 {loc[names[-1]]} 中：移到上一层，与 {loc[names[-1]]} 并列"
    return None


_NUMBER_IN_WORDS = re.compile(r"\D{0,4}?(\d+)\D{0,4}")  # 4月, 2次/年, 第3轮, 20户


_MONTH_SPAN = re.compile(r"\s*(\d{1,2})\s*(?:月份?)?\s*(?:-|—|–|－|~|～|至|到)+\s*(\d{1,2})\s*(?:月份?)?\s*")
_SEASONS = {"全年": (1, 12), "上半年": (1, 6), "下半年": (7, 12), "一季度": (1, 3), "二季度": (4, 6), "三季度": (7, 9),
            "四季度": (10, 12)}


def _as_months(given: str) -> str | None:
    """[起始月, 结束月] for a span of months as a plan's table writes it: 4月-11月, 全年, 第二季度."""
    if span := _MONTH_SPAN.fullmatch(given):
        first, last = int(span[1]), int(span[2])
    elif (season := _SEASONS.get(given.strip().removeprefix("第"))) is not None:
        first, last = season
    else:
        return None
    if not 1 <= first <= last <= 12:
        return None
    return f"“{given.strip()}”写成 [{first}, {last}]（起始月, 结束月）"


def _as_written(kind: str, given: Any, title: str | None = None) -> str | None:
    """The form a number or a list copied from a plan's text takes in a policy: 4月 → 4, 4月、11月 → [4, 11],
    and in a field of months (`title` says 月) 4月-11月 → [4, 11]."""
    if not isinstance(given, str):
        return None
    if _TYPE_MESSAGES.get(kind) == "应为列表" and title and "月" in title and (months := _as_months(given)):
        return months
    if kind in ("int_type", "int_parsing") and (number := _NUMBER_IN_WORDS.fullmatch(given.strip())):
        return f"只写数字 {number[1]}，不写单位和说明文字"
    parts = [p for p in re.split(r"[、，,；;\s]+", given) if p]
    if kind.endswith("_type") and _TYPE_MESSAGES.get(kind) == "应为列表" and len(parts) > 1:
        items = [number[1] if (number := _NUMBER_IN_WORDS.fullmatch(p)) else p for p in parts]
        return f"列表写成 [{', '.join(items)}]，或每项一行、以“- ”开头"
    return None


def translate(err: Mapping[str, Any], root: type[BaseModel]) -> tuple[str, str, str | None]:
    """(code, Chinese message, hint) for one pydantic error."""
    code, message, hint = _translated(err, root)
    given = err.get("input")
    if hint is None and isinstance(given, str) and len(given) > 1 and given[0] in "“‘" and given[-1] in "”’":
        hint = f"“”‘’ 是中文引号，YAML 只认英文引号：写成 \"{given[1:-1]}\"（英文输入法）"
    return code, message, hint


def _translated(err: Mapping[str, Any], root: type[BaseModel]) -> tuple[str, str, str | None]:
    kind = err["type"]
    loc = tuple(err["loc"])
    ctx = err.get("ctx") or {}
    given = err.get("input")
    if kind == "missing" and isinstance(loc[-1], int):
        # A fixed-length list (draw_months: [起始月, 结束月]) written shorter than it must be.
        title = _title_at(root, loc[:-1])
        return "P110", f"{title or '该列表'}少写了第 {loc[-1] + 1} 项", f"按说明写满各项{f'：{title}' if title else ''}"
    if kind == "missing":
        return "P110", f"缺少必填项 '{loc[-1]}'", f"补上 {loc[-1]}"
    if kind == "extra_forbidden":
        known = _fields_at(root, loc[:-1])
        guess = _closest(str(loc[-1]), known)
        key, _, value = str(loc[-1]).partition(":")
        if value and key in known:  # flow style `{ratio:"5%"}` reads as one key
            return "P111", f"未知的键 '{loc[-1]}'：冒号后少了空格", f"冒号后加一个空格：{key}: {value}"
        message = f"未知的键 '{loc[-1]}'" + (f"，是否想写 '{guess[0]}'？" if guess else "")
        hint = (None if guess else _home_of(root, loc[:-1], str(loc[-1]))) or (
            f"此处可用的键：{'、'.join(known)}" if known else "删去该键或检查拼写")
        return "P111", message, hint
    if kind in ("literal_error", "enum"):
        options = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        shown = "、".join(f"'{o}'" for o in options) or str(ctx.get("expected", ""))
        meant = _option_meant(given, options) if isinstance(given, str) else None
        return "P112", f"应为以下之一：{shown}，实际为 {_show(given)}", f"写成 '{meant}'" if meant else None
    if kind in ("bool_type", "bool_parsing"):
        hint = "YAML 中只有 true 和 false 是布尔值；yes/no/on/off 会当作文字" if isinstance(given, str) else None
        return "P112", f"应为 true 或 false，实际为 {_show(given)}", hint
    if kind in _DATE_TYPES:
        return "P112", f"日期格式不对，应写成 YYYY-MM-DD（如 2023-10-01），实际为 {_show(given)}", None
    if kind == "string_pattern_mismatch" and ctx.get("pattern") in ids.PATTERNS:
        return "P150", f"标识 {_show(given)} 含有不允许的字符", ids.HINT
    if kind in _TYPE_MESSAGES:
        hint = "数字形式的文字（如编码、电话、行政区划代码）请加引号" if kind == "string_type" and isinstance(
            given, (int, float)) else _as_written(kind, given, _title_at(root, loc))
        return "P112", f"{_TYPE_MESSAGES[kind]}，实际为 {_show(given)}", hint
    if kind == "too_short":
        return "P112", f"至少需要 {ctx.get('min_length')} 项，实际 {ctx.get('actual_length')} 项", None
    if kind == "too_long":
        return "P112", f"最多 {ctx.get('max_length')} 项，实际 {ctx.get('actual_length')} 项", None
    bounds = {"greater_than_equal": ("不能小于", "ge"), "less_than_equal": ("不能大于", "le"),
              "greater_than": ("应大于", "gt"), "less_than": ("应小于", "lt")}
    if kind in bounds:
        words, key = bounds[kind]
        return "P112", f"{words} {ctx.get(key)}，实际为 {_show(given)}", None
    if kind == "union_tag_invalid":
        return "P112", (f"'{ctx.get('discriminator')}' 的值 {_show(ctx.get('tag'))} 无法识别，"
                        f"应为以下之一：{ctx.get('expected_tags')}"), None
    if kind == "union_tag_not_found":
        return "P110", f"缺少用于区分类型的键 {ctx.get('discriminator')}", None
    message = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if not _CJK.search(message):  # a check of pydantic's own that has no Chinese words here yet
        return "P112", f"值不符合要求，实际为 {_show(given)}（{kind}）", "对照 validators/ 中的 JSON Schema 检查该值"
    return "P112", message, None


def model_problems(exc: ValidationError, root: type[BaseModel], data: Any, positions: SourceMap,
                   file: str) -> list[Problem]:
    """Every error of one validation as a located Chinese Problem."""
    found: list[Problem] = []
    errors = exc.errors(include_url=False)
    # A misspelt required key is one mistake, not two: the unknown key (with its "did you mean")
    # stands for it, and the "missing" error of the key it was meant to be is dropped.
    misspelt = {
        (tuple(err["loc"][:-1]), suggestion)
        for err in errors
        if err["type"] == "extra_forbidden"
        for suggestion in _closest(str(err["loc"][-1]), _fields_at(root, err["loc"][:-1]))
    }
    errors = [e for e in errors if not (e["type"] == "missing" and (tuple(e["loc"][:-1]), e["loc"][-1]) in misspelt)]
    for err in errors:
        path, on_key = _data_path(err["loc"], data)
        code, message, hint = translate(err, root)
        # A missing key is shown inside the mapping that lacks it; an unknown key at the key itself.
        where_path = (*path, err["loc"][-1]) if err["type"] == "missing" else path
        problem = Problem(code, message, file=file, where=where_text(where_path, data) or None, hint=hint)
        problem = place(problem, positions, path, data, key=err["type"] == "extra_forbidden" or on_key)
        if problem not in found:
            found.append(problem)
    return found


def validate_document(model: type[BaseModel], doc: Document, what: str) -> tuple[Any, list[Problem]]:
    """Validate a parsed file against `model`; `what` names the kind of file for the not-a-mapping message."""
    if not isinstance(doc.data, dict):
        return None, [Problem("P103", f"{what}应是一个映射（键: 值），实际为{_show(doc.data)}", file=doc.file,
                              line=1, col=1, hint="对照 validators/ 中的 JSON Schema 检查文件结构")]
    try:
        return model.model_validate(doc.data), []
    except ValidationError as exc:
        return None, model_problems(exc, model, doc.data, doc.positions, doc.file)


_HALF_WIDTH = str.maketrans("（）", "()")


def _option_meant(given: str, options: Sequence[str]) -> str | None:
    """The allowed value a plan's own wording means, when it is one of the ways plans write it: full-width brackets
    (“市抽县（区）查”), a trailing 抽查/检查 (“定向抽查”), 县 or 区 alone for 县(区) (“市抽县查”, “区抽区查”). No
    guess by likeness: “市抽县查” looks more like 市抽市查 than like 市抽县(区)查, which it means."""
    word = given.strip().translate(_HALF_WIDTH)
    words = {word, word.removesuffix("抽查"), word.removesuffix("检查")}
    for option in options:
        if words & {option, option.replace("(区)", ""), option.replace("县(区)", "区"), option.replace("县", "区")}:
            return option
    return None


def _closest(word: str, known: Sequence[str]) -> list[str]:
    """The one key a misspelt key most likely meant, if any is close enough."""
    return difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)


def did_you_mean(word: str, options: Iterable[str]) -> str:
    guess = difflib.get_close_matches(word, list(options), n=1, cutoff=0.5)
    return f"，是否想写 '{guess[0]}'？" if guess else ""


def sorted_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Each problem once, by file, line and column."""
    return sorted(dict.fromkeys(problems), key=lambda p: (p.file or "", p.line or 0, p.col or 0, p.code))
