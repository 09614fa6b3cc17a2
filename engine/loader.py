"""Policy files → validated models, with every value's file and line.

Kinds of file, decided by location (see docs/errors.md):
  - `.../items/*.yaml`            an item list (ItemList)
  - `.../calendars/**/*.yaml`     a holiday schedule (calendar.YearSchedule)
  - `*.cases.yaml`                test cases for the policy beside it (cases.py)
  - every other `*.yaml`          a Policy; README.md and other files are ignored.

YAML is read strictly: a duplicate key is an error (both lines named), only `true`/`false` are
booleans (`yes`/`no`/`on`/`off` stay strings, so a bool field written `no` fails validation), dates
stay ISO strings for pydantic to parse, and every key and value keeps its position.

Inheritance (`extends:`, a path relative to the file): the parent is loaded and resolved first, then
the child is laid over it:
  - `id`, `extends`, `version`, `year`, `jurisdiction`, `documents` and `default_document` describe
    the file itself and are never inherited;
  - a top-level mapping (`risk`, `merge`, `team`, `deadlines`, `targets`, …) is merged one level deep:
    each entry the child writes (`team.min_size`, `deadlines.results_public`) replaces the parent's
    entry whole;
  - `caps` are merged by id (a child cannot drop a parent's cap, only replace it);
  - `item_lists` and `calendars` accumulate along the chain (each path relative to the file that
    names it);
  - every other value the child writes (lists included) replaces the parent's.
Floors: a child may tighten the parent's resolved targets, counted deadlines, team size and caps,
never loosen them (P301).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from spotcheck.calendar import WorkCalendar
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.policy import METRIC_NAMES, Item, ItemList, Policy, Task

# ---------------------------------------------------------------- file kinds

POLICY, ITEM_LIST, CALENDAR, CASES = "policy", "item_list", "calendar", "cases"

SCHEMA_FILES = {
    POLICY: "policy.schema.json",
    ITEM_LIST: "item-list.schema.json",
    CALENDAR: "calendar.schema.json",
    CASES: "cases.schema.json",
}


def file_kind(path: Path) -> str | None:
    """What a file under a policies tree holds, by its name and folder; None for files to skip."""
    if path.suffix != ".yaml":
        return None
    if path.name.endswith(".cases.yaml"):
        return CASES
    folders = path.parent.parts
    # Only folders inside the policies tree count, not wherever the checkout happens to live.
    inside = folders[len(folders) - folders[::-1].index("policies"):] if "policies" in folders else folders[-1:]
    if "calendars" in inside:
        return CALENDAR
    if path.parent.name == "items":
        return ITEM_LIST
    return POLICY


def display(path: Path | str) -> str:
    """A path as officers type it: relative to the working folder when inside it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------- positions


class Pos(NamedTuple):
    file: str
    line: int  # 1-based
    col: int  # 1-based

    def text(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


Path_ = tuple[Any, ...]  # keys and list indices from the document root


@dataclass(frozen=True)
class SourceMap:
    """Where each key and value of a document was written; paths are tuples of keys and indices."""

    values: Mapping[Path_, Pos] = field(default_factory=dict)
    keys: Mapping[Path_, Pos] = field(default_factory=dict)

    def value(self, path: Path_) -> Pos | None:
        return self.values.get(tuple(path))

    def key(self, path: Path_) -> Pos | None:
        return self.keys.get(tuple(path))

    def nearest(self, path: Path_) -> Pos | None:
        """The position of `path`, or of its closest written ancestor."""
        path = tuple(path)
        while True:
            pos = self.values.get(path)
            if pos is not None or not path:
                return pos
            path = path[:-1]

    def key_or_value(self, path: Path_) -> Pos | None:
        return self.key(path) or self.nearest(path)


class _MapBuilder:
    def __init__(self) -> None:
        self.values: dict[Path_, Pos] = {}
        self.keys: dict[Path_, Pos] = {}

    def graft(self, dst: Path_, src_map: SourceMap, src: Path_) -> None:
        """Copy every position at or under `src` in `src_map` to the same place under `dst`."""
        n = len(src)
        for table, out in ((src_map.values, self.values), (src_map.keys, self.keys)):
            for path, pos in table.items():
                if path[:n] == src:
                    out[dst + path[n:]] = pos

    def build(self) -> SourceMap:
        return SourceMap(self.values, self.keys)


# ---------------------------------------------------------------- strict YAML

_BOOL = "tag:yaml.org,2002:bool"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"


class StrictLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans (true/false only) and dates left as text."""


StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL, _TIMESTAMP)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
StrictLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|false)$"), list("tf"))


@dataclass(frozen=True)
class Document:
    """One parsed YAML file."""

    path: Path
    file: str  # as shown in problems
    text: str
    data: Any
    positions: SourceMap


def _mark(file: str, mark: yaml.Mark) -> Pos:
    return Pos(file, mark.line + 1, mark.column + 1)


def parse_yaml(path: Path) -> tuple[Document | None, list[Problem]]:
    """Read one YAML file strictly; problems: unreadable (P100), syntax (P101), duplicate keys (P102)."""
    file = display(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        return None, [Problem("P100", f"无法读取文件：{exc.strerror or exc}", file=file,
                              hint="检查路径是否正确")]
    except UnicodeDecodeError as exc:
        return None, [Problem("P100", f"文件不是 UTF-8 编码（第 {exc.start} 个字节无法解码）", file=file,
                              hint="用 UTF-8 编码另存该文件")]
    loader = StrictLoader(text)
    duplicates: list[tuple[Path_, Problem]] = []
    try:
        node = loader.get_single_node()
        builder = _MapBuilder()
        if node is not None:
            _walk(loader, node, (), builder, duplicates, file)
        data = loader.construct_document(node) if node is not None else None
        problems = [replace(p, where=where_text(path, data) or None) for path, p in duplicates]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(str(s) for s in (exc.context, exc.problem) if s)
        said = next((words for needle, words in _YAML_ERRORS if needle in what), None)
        what = f"{said}（{what}）" if said else what
        return None, [Problem("P101", f"YAML 语法错误：{what}", file=file,
                              line=mark.line + 1 if mark else None, col=mark.column + 1 if mark else None,
                              hint="检查缩进、冒号后的空格、引号是否成对；含冒号或 # 的文字请加引号")]
    except yaml.YAMLError as exc:
        return None, [Problem("P101", f"YAML 语法错误：{exc}", file=file, hint="检查文件格式")]
    finally:
        loader.dispose()
    return Document(path, file, text, data, builder.build()), problems


# The parser's messages officers meet most often, in their words; the original follows in parentheses.
_YAML_ERRORS = (
    ("'\\t'", "含有制表符（Tab），缩进只能用空格"),
    ("mapping values are not allowed", "此处不能出现“键: 值”：检查缩进，或给含冒号的文字加引号"),
    ("could not find expected ':'", "缺少冒号，或上一行的引号没有闭合"),
    ("expected <block end>", "缩进不一致：同一层的键应对齐"),
    ("found unexpected end of stream", "引号或括号没有闭合"),
    ("expected ',' or ']'", "方括号 [ ] 没有闭合，或列表项之间缺少逗号"),
    ("expected ',' or '}'", "花括号 { } 没有闭合，或键值之间缺少逗号"),
    ("found undefined alias", "引用了未定义的锚点（*名称 之前须有 &名称）"),
)


def _walk(loader: StrictLoader, node: yaml.Node, path: Path_, out: _MapBuilder,
          duplicates: list[tuple[Path_, Problem]], file: str) -> None:
    out.values[path] = _mark(file, node.start_mark)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, yaml.Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                continue  # `<<: *anchor` entries may be overridden by the mapping's own keys
            key = loader.construct_object(key_node, deep=True) if isinstance(key_node, yaml.ScalarNode) else None
            if key is None:
                continue
            if key in seen:
                first = seen[key].start_mark.line + 1
                duplicates.append(((*path, key), Problem(
                    "P102", f"重复的键 '{key}'：第 {first} 行已经写过，第 {key_node.start_mark.line + 1} 行又写了一次",
                    file=file, line=key_node.start_mark.line + 1, col=key_node.start_mark.column + 1,
                    hint="删去或合并其中一处；YAML 会让后写的值悄悄覆盖先写的值")))
                continue
            seen[key] = key_node
            out.keys[(*path, key)] = _mark(file, key_node.start_mark)
            _walk(loader, value_node, (*path, key), out, duplicates, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(loader, item, (*path, i), out, duplicates, file)


# ---------------------------------------------------------------- model errors in Chinese

NOUNS = {"tasks": "任务", "campaigns": "抽查活动", "documents": "文件", "items": "事项", "deadlines": "期限",
         "caps": "频次上限", "cases": "用例"}


def where_text(path: Path_, data: Any) -> str:
    """("tasks", 3, "sampling", "ratio") → `任务 't04' → sampling → ratio`, naming objects by id (or
    code, or name when they have neither)."""
    parts: list[str] = []
    cur = data
    i = 0
    while i < len(path):
        key = path[i]
        nxt = path[i + 1] if i + 1 < len(path) else None
        container = cur.get(key) if isinstance(cur, dict) else None
        if key in NOUNS and nxt is not None:
            if isinstance(container, list) and isinstance(nxt, int) and 0 <= nxt < len(container):
                elem = container[nxt]
                ident = (elem.get("id") or elem.get("code") or elem.get("name")) if isinstance(elem, dict) else None
                if isinstance(ident, str) and isinstance(elem, dict):
                    parts.append(f"{NOUNS[key]} '{ident}'")
                    cur, i = elem, i + 2
                    continue
                if isinstance(elem, dict):
                    parts.append(f"{NOUNS[key]}（第 {nxt + 1} 项）")
                    cur, i = elem, i + 2
                    continue
            elif isinstance(container, dict) and key == "deadlines":
                parts.append(f"{NOUNS[key]} '{nxt}'")
                cur, i = container.get(nxt), i + 2
                continue
        parts.append(f"第 {key + 1} 项" if isinstance(key, int) else str(key))
        if isinstance(cur, dict):
            cur = cur.get(key)
        elif isinstance(cur, list) and isinstance(key, int) and 0 <= key < len(cur):
            cur = cur[key]
        else:
            cur = None
        i += 1
    return " → ".join(parts)


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


_TYPE_MESSAGES = {
    "int_type": "应为整数", "int_parsing": "应为整数", "int_from_float": "应为整数",
    "string_type": "应为文字（字符串）", "float_type": "应为数字", "float_parsing": "应为数字",
    "list_type": "应为列表", "tuple_type": "应为列表", "set_type": "应为列表",
    "dict_type": "应为映射（键: 值）", "model_type": "应为映射（键: 值）", "model_attributes_type": "应为映射（键: 值）",
    "decimal_type": "应为数字", "decimal_parsing": "应为数字",
}
_DATE_TYPES = ("date_type", "date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact",
               "datetime_type", "datetime_parsing")


def translate(err: Mapping[str, Any], root: type[BaseModel]) -> tuple[str, str, str | None]:
    """(code, Chinese message, hint) for one pydantic error."""
    kind = err["type"]
    loc = tuple(err["loc"])
    ctx = err.get("ctx") or {}
    given = err.get("input")
    if kind == "missing":
        return "P110", f"缺少必填项 '{loc[-1]}'", f"补上 {loc[-1]}"
    if kind == "extra_forbidden":
        known = _fields_at(root, loc[:-1])
        guess = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        message = f"未知的键 '{loc[-1]}'" + (f"，是否想写 '{guess[0]}'？" if guess else "")
        hint = f"此处可用的键：{'、'.join(known)}" if known else "删去该键或检查拼写"
        return "P111", message, hint
    if kind in ("literal_error", "enum"):
        options = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        shown = "、".join(f"'{o}'" for o in options) or str(ctx.get("expected", ""))
        return "P112", f"应为以下之一：{shown}，实际为 {_show(given)}", None
    if kind in ("bool_type", "bool_parsing"):
        hint = "YAML 中只有 true 和 false 是布尔值；yes/no/on/off 会当作文字" if isinstance(given, str) else None
        return "P112", f"应为 true 或 false，实际为 {_show(given)}", hint
    if kind in _DATE_TYPES:
        return "P112", f"日期格式不对，应写成 YYYY-MM-DD（如 2023-10-01），实际为 {_show(given)}", None
    if kind in _TYPE_MESSAGES:
        hint = "数字形式的文字（如编码、电话、行政区划代码）请加引号" if kind == "string_type" and isinstance(
            given, (int, float)) else None
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
    return "P112", message, None


def model_problems(exc: ValidationError, root: type[BaseModel], data: Any, positions: SourceMap,
                   file: str) -> list[Problem]:
    """Every error of one validation as a located Chinese Problem."""
    found: list[Problem] = []
    for err in exc.errors(include_url=False):
        path, on_key = _data_path(err["loc"], data)
        code, message, hint = translate(err, root)
        # A missing key is shown inside the mapping that lacks it; an unknown key at the key itself.
        where_path = (*path, err["loc"][-1]) if err["type"] == "missing" else path
        problem = Problem(code, message, file=file, where=where_text(where_path, data) or None, hint=hint)
        problem = place(problem, positions, path, data, key=err["type"] == "extra_forbidden" or on_key)
        if problem not in found:
            found.append(problem)
    return found


def place(problem: Problem, positions: SourceMap, path: Path_, data: Any, *, key: bool = False) -> Problem:
    """A problem found in a model, placed at the file and line where `path` was written."""
    pos = positions.key_or_value(path) if key else positions.nearest(path)
    return replace(problem, file=pos.file if pos else problem.file, line=pos.line if pos else None,
                   col=pos.col if pos else None, where=problem.where or where_text(path, data) or None)


def validate_document(model: type[BaseModel], doc: Document, what: str) -> tuple[Any, list[Problem]]:
    """Validate a parsed file against `model`; `what` names the kind of file for the not-a-mapping message."""
    if not isinstance(doc.data, dict):
        return None, [Problem("P103", f"{what}应是一个映射（键: 值），实际为{_show(doc.data)}", file=doc.file,
                              line=1, col=1, hint="对照 validators/ 中的 JSON Schema 检查文件结构")]
    try:
        return model.model_validate(doc.data), []
    except ValidationError as exc:
        return None, model_problems(exc, model, doc.data, doc.positions, doc.file)


# ---------------------------------------------------------------- the loaded policy


@dataclass(frozen=True)
class LoadedItemList:
    path: Path
    item_list: ItemList
    positions: SourceMap


@dataclass(frozen=True)
class LoadedPolicy:
    """A policy with its chain resolved, its item lists and calendar, ready for every later stage."""

    policy: Policy
    path: Path
    chain: tuple[Path, ...]  # root → leaf, the leaf is `path`
    items: dict[str, Item]
    item_lists: tuple[ItemList, ...]
    calendar: WorkCalendar
    positions: SourceMap  # of the resolved document: each value with the file of the chain that wrote it
    data: dict[str, Any]  # the resolved document as read (before validation), for `where` texts
    sha256: str

    def task(self, task_id: str) -> Task:
        for task in self.policy.tasks:
            if task.id == task_id:
                return task
        known = [t.id for t in self.policy.tasks]
        raise SpotcheckError(Problem("P403", f"策略 {self.policy.id} 中没有任务 '{task_id}'{did_you_mean(task_id, known)}",
                                     file=display(self.path), hint=f"已有任务：{'、'.join(known) or '（无）'}"))

    def visit_items(self, task_ids: Iterable[str]) -> list[str]:
        """The items of one merged visit for these tasks: their items in task order, then the X items
        of every 1+X rule whose lead item is present, then the general items when they are fused."""
        wanted = set(task_ids)
        for task_id in wanted:
            self.task(task_id)
        codes: dict[str, None] = {}
        for task in self.policy.tasks:
            if task.id in wanted:
                codes.update(dict.fromkeys(task.items))
        for rule in self.policy.merge.one_plus_x:
            if rule.lead_item in codes:
                codes.update(dict.fromkeys(c for c in rule.x_items if c not in codes))
        if self.policy.merge.fuse_general_items:
            codes.update(dict.fromkeys(c for c, item in self.items.items() if item.general and c not in codes))
        return list(codes)

    def pos(self, *path: Any) -> Pos | None:
        return self.positions.nearest(path)


def did_you_mean(word: str, options: Iterable[str]) -> str:
    guess = difflib.get_close_matches(word, list(options), n=1, cutoff=0.5)
    return f"，是否想写 '{guess[0]}'？" if guess else ""


def canonical_sha256(policy: Policy, item_lists: Sequence[ItemList]) -> str:
    """SHA-256 of a canonical JSON of the resolved policy and its item lists (what a draw commits to)."""
    doc = {"policy": policy.model_dump(mode="json"), "item_lists": [il.model_dump(mode="json") for il in item_lists]}
    # mode="json" already writes dates as ISO text and Decimals (ratios "5%", multipliers) as text
    text = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Draft:
    """A policy as far as it could be read: `policy` holds every part that validated, so semantic
    checks still run when other parts have errors; `index` maps the kept elements of each list section
    to their indices in `data`."""

    path: Path
    file: str
    data: dict[str, Any]
    positions: SourceMap
    policy: Policy | None
    broken: frozenset[str]  # top-level keys that failed as a whole (their defaults stand in `policy`)
    index: Mapping[str, tuple[int, ...]]
    item_lists: tuple[ItemList, ...] | None  # None when one could not be read
    items: dict[str, Item] | None  # by code, across item_lists
    calendar: WorkCalendar | None

    def at(self, section: str, i: int, *rest: Any) -> Path_:
        """The document path of element i of a list section of `policy` (elements that failed are not in it)."""
        kept = self.index.get(section)
        return (section, kept[i] if kept is not None else i, *rest)

    def locate(self, problem: Problem, path: Path_, *, key: bool = False) -> Problem:
        return place(problem, self.positions, path, self.data, key=key)


# Keys describing the file itself; a child never inherits them.
_OWN_KEYS = frozenset({"id", "extends", "version", "year", "jurisdiction", "documents", "default_document"})
_PATH_LISTS = ("item_lists", "calendars")


@dataclass
class _Outcome:
    loaded: LoadedPolicy | None
    problems: list[Problem]


class Session:
    """Loads files once each: a folder of policies shares parents, item lists and calendars."""

    def __init__(self) -> None:
        self._docs: dict[Path, tuple[Document | None, list[Problem]]] = {}
        self._policies: dict[Path, _Outcome] = {}
        self._item_lists: dict[Path, tuple[LoadedItemList | None, list[Problem]]] = {}

    def document(self, path: Path) -> tuple[Document | None, list[Problem]]:
        key = path.resolve()
        if key not in self._docs:
            self._docs[key] = parse_yaml(path)
        return self._docs[key]

    def item_list(self, path: Path) -> tuple[LoadedItemList | None, list[Problem]]:
        key = path.resolve()
        if key not in self._item_lists:
            doc, problems = self.document(path)
            loaded = None
            if doc is not None:
                model, more = validate_document(ItemList, doc, "事项清单")
                problems = [*problems, *more]
                if model is not None:
                    problems += _item_list_problems(model, doc)
                    loaded = LoadedItemList(path, model, doc.positions)
            self._item_lists[key] = (loaded if not problems else None, problems)
        return self._item_lists[key]

    def policy(self, path: Path) -> _Outcome:
        return self._policy(Path(os.path.normpath(path)), ())

    def _policy(self, path: Path, stack: tuple[Path, ...]) -> _Outcome:
        key = path.resolve()
        if key not in self._policies:
            self._policies[key] = self._build(path, (*stack, key))
        return self._policies[key]

    def _build(self, path: Path, stack: tuple[Path, ...]) -> _Outcome:
        doc, read_problems = self.document(path)
        problems = list(read_problems)
        if doc is None:
            return _Outcome(None, problems)
        if not isinstance(doc.data, dict):
            _, more = validate_document(Policy, doc, "策略文件")
            return _Outcome(None, problems + more)
        data, positions = doc.data, doc.positions
        chain: tuple[Path, ...] = (path,)
        parent: _Outcome | None = None
        extends = data.get("extends")
        if isinstance(extends, str):
            parent_path = Path(os.path.normpath(path.parent / extends))
            pos = positions.value(("extends",))
            if parent_path.resolve() in stack:
                loop = " → ".join(display(p) for p in (*stack[stack.index(parent_path.resolve()):], parent_path))
                problems.append(_at(Problem("P302", f"extends 循环引用：{loop}", where="extends",
                                            hint="上级策略不能直接或间接继承下级策略"), pos))
            elif not parent_path.is_file():
                problems.append(_at(Problem("P303", f"找不到上级策略文件 {display(parent_path)}", where="extends",
                                            hint="extends 写相对本文件的路径，如 ../../national/baseline.yaml"), pos))
            else:
                parent = self._policy(parent_path, stack)
                problems += [p for p in parent.problems if p not in problems]
                if parent.loaded is not None:
                    data, positions = _merge(parent.loaded, doc)
                    chain = (*parent.loaded.chain, path)
        draft, more = self._draft(path, doc.file, data, positions)
        problems += more
        if draft.policy is not None and parent is not None and parent.loaded is not None:
            problems += floor_problems(draft, draft.policy, parent.loaded)
        if draft.policy is not None:
            # validate builds on this module, so it is imported at the point of use
            from spotcheck.validate import policy_problems

            problems += policy_problems(draft)
        if problems or draft.policy is None or draft.item_lists is None or draft.items is None or draft.calendar is None:
            return _Outcome(None, problems)
        return _Outcome(LoadedPolicy(
            policy=draft.policy, path=path, chain=chain, items=draft.items, item_lists=draft.item_lists,
            calendar=draft.calendar, positions=positions, data=data,
            sha256=canonical_sha256(draft.policy, draft.item_lists)), [])

    def _draft(self, path: Path, file: str, data: dict[str, Any], positions: SourceMap) -> tuple[Draft, list[Problem]]:
        problems: list[Problem] = []
        index: dict[str, tuple[int, ...]] = {}
        broken: frozenset[str] = frozenset()
        try:
            policy: Policy | None = Policy.model_validate(data)
        except ValidationError as exc:
            problems += model_problems(exc, Policy, data, positions, file)
            policy, index, broken = _partial(data)
        item_lists: list[ItemList] | None = None
        items: dict[str, Item] | None = None
        calendar: WorkCalendar | None = None
        lists = data.get("item_lists", [])
        if isinstance(lists, list):
            item_lists, items = [], {}
            for i, ref in enumerate(lists):
                if not isinstance(ref, str):
                    continue
                list_path = path.parent / ref
                if not list_path.is_file():
                    problems.append(place(Problem("P304", f"找不到事项清单文件 {display(list_path)}",
                                                  hint="item_lists 写相对本策略文件的路径"),
                                          positions, ("item_lists", i), data))
                    item_lists = items = None
                    continue
                loaded, more = self.item_list(list_path)
                problems += [p for p in more if p not in problems]
                if loaded is None:
                    item_lists = items = None
                elif item_lists is not None and items is not None:
                    item_lists.append(loaded.item_list)
                    for k, item in enumerate(loaded.item_list.items):
                        kept = items.setdefault(item.code, item)
                        if kept != item:
                            problems.append(place(Problem(
                                "P216", f"事项编码 '{item.code}' 在引用的另一份清单中已有不同的内容",
                                where=f"事项 '{item.code}'",
                                hint="同一策略引用的各清单中，一个编码只能指一个事项；给补充的事项另编编码"),
                                loaded.positions, ("items", k, "code"), {}))
        cal_refs = data.get("calendars", [])
        if isinstance(cal_refs, list):
            files = []
            for i, ref in enumerate(cal_refs):
                if not isinstance(ref, str):
                    continue
                cal_path = path.parent / ref
                if cal_path.is_file():
                    files.append(cal_path)
                else:
                    problems.append(place(Problem("P304", f"找不到节假日安排文件 {display(cal_path)}",
                                                  hint="calendars 写相对本策略文件的路径"),
                                          positions, ("calendars", i), data))
            try:
                calendar = WorkCalendar.standard(files)
            except SpotcheckError as exc:
                problems += [p for p in exc.problems if p not in problems]
        draft = Draft(path, file, data, positions, policy, broken, index,
                      tuple(item_lists) if item_lists is not None else None, items, calendar)
        return draft, problems


def _at(problem: Problem, pos: Pos | None) -> Problem:
    if pos is None:
        return problem
    return replace(problem, file=pos.file, line=pos.line, col=pos.col)


def _partial(data: dict[str, Any]) -> tuple[Policy | None, dict[str, tuple[int, ...]], frozenset[str]]:
    """The parts of an invalid policy that validate on their own (None if a required part fails), the
    original index of each kept list element, and the optional parts that failed as a whole."""
    values: dict[str, Any] = {}
    index: dict[str, tuple[int, ...]] = {}
    broken: set[str] = set()
    for name, info in Policy.model_fields.items():
        if name not in data:
            if info.is_required():
                return None, {}, frozenset()
            continue
        raw = data[name]
        annotation = info.annotation
        origin = typing.get_origin(annotation)
        if origin is list and isinstance(raw, list):
            adapter = TypeAdapter(typing.get_args(annotation)[0])
            kept = [(i, v) for i, elem in enumerate(raw) if (v := _valid(adapter, elem)) is not None]
            values[name] = [v for _, v in kept]
            index[name] = tuple(i for i, _ in kept)
        elif origin is dict and isinstance(raw, dict):
            pair = TypeAdapter(tuple[typing.get_args(annotation)])  # type: ignore[misc]
            values[name] = dict(v for entry in raw.items() if (v := _valid(pair, entry)) is not None)
        elif (value := _valid(TypeAdapter(annotation), raw)) is not None or raw is None:
            values[name] = value
        elif info.is_required():
            return None, {}, frozenset()
        else:
            broken.add(name)
    return Policy.model_construct(**values), index, frozenset(broken)


def _valid(adapter: TypeAdapter[Any], value: Any) -> Any:
    try:
        return adapter.validate_python(value)
    except ValidationError:
        return None


def _merge(parent: LoadedPolicy, child: Document) -> tuple[dict[str, Any], SourceMap]:
    """The child document laid over the parent's resolved document (rules in the module docstring)."""
    pdata, pmap = parent.data, parent.positions
    cdata, cmap = child.data, child.positions
    data: dict[str, Any] = {}
    out = _MapBuilder()
    out.values[()] = cmap.values.get((), Pos(child.file, 1, 1))

    def take(key: str, src: dict[str, Any], smap: SourceMap) -> None:
        data[key] = src[key]
        out.graft((key,), smap, (key,))

    def head(key: str, smap: SourceMap) -> None:
        for table, src in ((out.keys, smap.keys), (out.values, smap.values)):
            if (key,) in src:
                table[(key,)] = src[(key,)]

    for key in pdata:
        if key not in _OWN_KEYS and key not in cdata:
            take(key, pdata, pmap)
    for key in _PATH_LISTS:
        own = cdata.get(key, [])
        if not isinstance(own, list):
            take(key, cdata, cmap)  # not a list: left for the model to report
            continue
        if key not in cdata and key not in pdata:
            continue
        head(key, cmap if key in cdata else pmap)
        inherited = pdata.get(key, [])
        # Paths are relative to the file naming them; the resolved document's are relative to the child.
        merged: list[Any] = []
        seen: set[str] = set()
        rebased = [(os.path.relpath(parent.path.parent / ref, child.path.parent), pmap, i)
                   for i, ref in enumerate(inherited)]
        for ref, smap, i in [*rebased, *((ref, cmap, i) for i, ref in enumerate(own))]:
            norm = os.path.normpath(ref) if isinstance(ref, str) else None
            if norm is not None and norm in seen:
                continue
            if norm is not None:
                seen.add(norm)
            out.graft((key, len(merged)), smap, (key, i))
            merged.append(norm if norm is not None else ref)
        data[key] = merged
    for key, value in cdata.items():
        if key in _PATH_LISTS:
            continue
        inherited = pdata.get(key) if key not in _OWN_KEYS else None
        if inherited is None:
            take(key, cdata, cmap)
        elif key == "caps" and isinstance(value, list):
            head(key, cmap)
            data[key] = _merge_by_id(key, inherited, pmap, value, cmap, out)
        elif isinstance(value, dict) and isinstance(inherited, dict):
            data[key] = {**inherited, **value}
            out.graft((key,), pmap, (key,))
            head(key, cmap)
            for entry in value:
                for table in (out.values, out.keys):
                    for stale in [p for p in table if p[:2] == (key, entry)]:
                        del table[stale]
                out.graft((key, entry), cmap, (key, entry))
        else:
            take(key, cdata, cmap)
    return data, out.build()


def _merge_by_id(key: str, inherited: list[Any], pmap: SourceMap, own: list[Any], cmap: SourceMap,
                 out: _MapBuilder) -> list[Any]:
    """The parent's elements, each replaced by the child's element of the same id, then the child's new ones."""
    child_ids = {c.get("id"): j for j, c in enumerate(own) if isinstance(c, dict) and "id" in c}
    merged: list[Any] = []
    used: set[int] = set()
    for i, elem in enumerate(inherited):
        j = child_ids.get(elem.get("id"))
        if j is None:
            out.graft((key, len(merged)), pmap, (key, i))
            merged.append(elem)
        else:
            out.graft((key, len(merged)), cmap, (key, j))
            merged.append(own[j])
            used.add(j)
    for j, elem in enumerate(own):
        if j not in used:
            out.graft((key, len(merged)), cmap, (key, j))
            merged.append(elem)
    return merged


def _item_list_problems(item_list: ItemList, doc: Document) -> list[Problem]:
    found = []
    first: dict[str, int] = {}
    for i, item in enumerate(item_list.items):
        if item.code in first:
            pos = doc.positions.value(("items", first[item.code], "code"))
            found.append(place(Problem("P215", f"事项编码 '{item.code}' 重复（第 {pos.line if pos else '?'} 行已有）",
                                       hint="同一清单中每个事项编码只能出现一次"),
                               doc.positions, ("items", i, "code"), doc.data))
        else:
            first[item.code] = i
    return found


# ---------------------------------------------------------------- floors


def floor_problems(draft: Draft, child: Policy, parent: LoadedPolicy) -> list[Problem]:
    """Where the child loosens what its parent's resolved policy requires (P301)."""
    base = parent.policy
    found: list[Problem] = []

    def loosened(path: Path_, parent_path: Path_, message: str, hint: str) -> None:
        theirs = parent.positions.nearest(parent_path)
        found.append(draft.locate(Problem(
            "P301", message.replace("{parent}", f"上级策略 {theirs.text()}" if theirs else "上级策略"), hint=hint), path))

    for metric, target in base.targets.items():
        mine = child.targets.get(metric)
        if mine is not None and mine.value < target.value:
            path = ("targets", metric, "value")
            loosened(path, path, f"{METRIC_NAMES.get(metric, metric)} {_pct(mine.value)} 低于{{parent}} 规定的 "
                     f"{_pct(target.value)}，只能收紧不能放宽", "改为不低于上级策略的目标值，或删去该项以沿用上级规定")
    for rid, rule in base.deadlines.items():
        mine_rule = child.deadlines.get(rid)
        if mine_rule is None or rule.kind not in ("working_days", "calendar_days"):
            continue
        limit, unit = getattr(rule, rule.kind), "个工作日" if rule.kind == "working_days" else "个自然日"
        days = getattr(mine_rule, rule.kind)
        path = ("deadlines", rid, rule.kind)
        if days is not None and days > limit:
            loosened(path, path, f"期限“{mine_rule.name}” {days}{unit} 长于{{parent}} 规定的 {limit}{unit}，只能收紧不能放宽",
                     f"改为不多于 {limit}{unit}，或删去该期限以沿用上级规定")
        # Fewer calendar days than the parent's working days is always tighter; any other change of kind is unknowable.
        elif days is None and not (rule.kind == "working_days" and (mine_rule.calendar_days or limit + 1) <= limit):
            loosened(("deadlines", rid), path, f"期限“{mine_rule.name}”改变了计算方式（{{parent}} 规定 {limit}{unit}），"
                     f"无法确认没有放宽", f"沿用上级的写法 {rule.kind}: {limit} 或更少")
    if "team" not in draft.broken and child.team.min_size < base.team.min_size:
        path = ("team", "min_size")
        loosened(path, path, f"每组最少人数 {child.team.min_size} 人 少于{{parent}} 规定的 {base.team.min_size} 人，"
                 f"只能收紧不能放宽", f"改为不少于 {base.team.min_size} 人")
    mine_caps = {cap.id: i for i, cap in enumerate(child.caps)}
    for k, cap in enumerate(base.caps):
        i = mine_caps.get(cap.id)
        if i is not None and child.caps[i].max_per_year > cap.max_per_year:
            loosened(draft.at("caps", i, "max_per_year"), ("caps", k, "max_per_year"),
                     f"频次上限“{cap.name}” 每年 {child.caps[i].max_per_year} 次 多于{{parent}} 规定的 "
                     f"{cap.max_per_year} 次，只能收紧不能放宽", f"改为每年不多于 {cap.max_per_year} 次")
    return found


def _pct(value: Decimal) -> str:
    return f"{value.normalize():f}%"


# ---------------------------------------------------------------- public entry points


def sorted_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Each problem once, by file, line and column."""
    return sorted(dict.fromkeys(problems), key=lambda p: (p.file or "", p.line or 0, p.col or 0, p.code))


def load_policy(path: str | Path) -> LoadedPolicy:
    """Load, resolve and check one policy file; raise SpotcheckError with every problem found."""
    outcome = Session().policy(Path(path))
    if outcome.loaded is None:
        raise SpotcheckError(sorted_problems(outcome.problems))
    return outcome.loaded


def load_item_list(path: str | Path) -> LoadedItemList:
    loaded, problems = Session().item_list(Path(path))
    if loaded is None:
        raise SpotcheckError(problems)
    return loaded
