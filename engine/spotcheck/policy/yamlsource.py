"""YAML read strictly, with the file, line and column of every key and value.

A duplicate key is an error (both lines named, P102), only `true`/`false` are booleans
(`yes`/`no`/`on`/`off` stay strings, so a bool field written `no` fails validation), dates stay ISO
strings for pydantic to parse, and every key and value keeps its position (a SourceMap), so each
problem found later can be placed at the line that caused it and named by the ids on its path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from spotcheck.errors import Problem, reason


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


class SourceMapBuilder:
    """A SourceMap filled path by path, while a document is read or a child laid over its parent."""

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
        # A byte order mark is not part of the text: the `# yaml-language-server` line after it counts as the first.
        text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
    except OSError as exc:
        return None, [Problem("P100", f"无法读取文件：{reason(exc)}", file=file,
                              hint="检查路径是否正确")]
    except UnicodeDecodeError as exc:
        return None, [Problem("P100", f"文件不是 UTF-8 编码（第 {exc.start} 个字节无法解码）", file=file,
                              hint="用 UTF-8 编码另存该文件")]
    try:
        data, positions, problems = parse_text(text, file)
    except ShapeError as exc:
        mark = exc.problem_mark
        return None, [Problem("P104", f"文件结构超出限制：{exc.problem}", file=file, line=mark.line + 1,
                              col=mark.column + 1, hint="策略文件不需要这样深的嵌套或这样多的引用；直接写出各项内容")]
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        line, col = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        return None, [Problem("P106", f"文件中含有不允许出现的字符 U+{exc.character:04X}", file=file, line=line, col=col,
                              hint="删去该字符；它多半来自从别处粘贴的文字")]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(str(s) for s in (exc.context, exc.problem) if s)
        said = next((words for needle, words in _YAML_ERRORS if needle in what), None)
        # The parser's own words are English: the officer gets the Chinese reading and the place.
        what = said or "此处的写法不符合 YAML 格式"
        wide = _full_width(text, mark.line if mark else None)
        return None, [Problem("P101", f"YAML 语法错误：{wide[0] if wide else what}", file=file,
                              line=wide[1] if wide else (mark.line + 1 if mark else None),
                              col=wide[2] if wide else (mark.column + 1 if mark else None),
                              hint=wide[3] if wide else "检查缩进、冒号后的空格、引号是否成对；含冒号或 # 的文字请加引号")]
    except yaml.YAMLError:
        return None, [Problem("P101", "YAML 语法错误：文件无法按 YAML 解析", file=file, hint="检查文件格式")]
    return Document(path, file, text, data, positions), problems


def parse_text(text: str, file: str) -> tuple[Any, SourceMap, list[Problem]]:
    """YAML text read strictly: its data, positions and a P102 problem for each duplicate key.

    A syntax error raises yaml.YAMLError, for the caller to report in the words of its kind of file.
    """
    _check_nesting(text)
    loader = StrictLoader(text)
    duplicates: list[tuple[Path_, Problem]] = []
    try:
        node = loader.get_single_node()
        builder = SourceMapBuilder()
        if node is not None:
            _check_expansion(node)
            _walk(loader, node, (), builder, duplicates, file)
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    problems = [replace(p, where=where_text(path, data) or None) for path, p in duplicates]
    return data, builder.build(), problems


# Full-width punctuation typed with a Chinese input method where YAML needs the ASCII character.
_FULL_WIDTH = {"：": ":", "，": ",", "［": "[", "］": "]", "｛": "{", "｝": "}", "　": " ", "－": "-", "＃": "#"}


def _full_width(text: str, line: int | None) -> tuple[str, int, int, str] | None:
    """A full-width character outside quotes on the error's line or the line before (the parser often
    notices a "key：" only on the next line): message, line, column and hint naming it and the fix."""
    if line is None:
        return None
    lines = text.splitlines()
    for n in (line - 1, line):
        if not 0 <= n < len(lines):
            continue
        quoted = None
        for col, ch in enumerate(lines[n]):
            if ch in "\"'":
                quoted = None if quoted == ch else (quoted or ch)
            elif ch == "#" and quoted is None and (col == 0 or lines[n][col - 1] == " "):
                break
            elif ch in _FULL_WIDTH and quoted is None:
                ascii_ = _FULL_WIDTH[ch]
                shown = "全角空格" if ch == "　" else f"全角字符“{ch}”"
                return (f"第 {n + 1} 行第 {col + 1} 列是{shown}，YAML 只认半角“{ascii_}”",
                        n + 1, col + 1, f"切换到英文输入法，把“{ch}”改为“{ascii_}”" + ("（冒号后再加一个空格）" if ascii_ == ":" else ""))
    return None


# No policy nests deeper than a dozen levels or holds more than a few thousand values; the limits stop
# a file that would exhaust the parser's recursion, or expand a few anchors into billions of values
# ("billion laughs"), before any of it is built.
MAX_DEPTH = 64
MAX_NODES = 100_000


class ShapeError(yaml.MarkedYAMLError):
    """A document too deep, too large once its aliases are expanded, or holding an alias to itself."""


def _check_nesting(text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH from the event stream, which the parser yields without recursing."""
    depth = 0
    for event in yaml.parse(text, Loader=StrictLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise ShapeError(problem=f"嵌套超过 {MAX_DEPTH} 层", problem_mark=event.start_mark)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _check_expansion(root: yaml.Node) -> None:
    """Refuse an alias that contains itself, and a document whose aliases expand past MAX_NODES values
    or MAX_DEPTH levels; each node is measured once, so the check itself stays small."""
    size: dict[int, tuple[int, int]] = {}  # id(node) -> (values once expanded, depth once expanded)
    open_: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            open_.discard(key)
            parts = [size[id(c)] for c in children]
            total = 1 + sum(n for n, _ in parts)
            depth = 1 + max((d for _, d in parts), default=0)
            if total > MAX_NODES or depth > MAX_DEPTH:
                what = f"展开后超过 {MAX_NODES} 个值" if total > MAX_NODES else f"展开后嵌套超过 {MAX_DEPTH} 层"
                raise ShapeError(problem=f"锚点与引用（&/*）{what}", problem_mark=node.start_mark)
            size[key] = (total, depth)
            continue
        if key in size:
            continue
        if key in open_:
            raise ShapeError(problem="引用（*名称）指向包含它自身的锚点，形成循环", problem_mark=node.start_mark)
        open_.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in size)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


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


def _walk(loader: StrictLoader, node: yaml.Node, path: Path_, out: SourceMapBuilder,
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
    elif isinstance(node, yaml.ScalarNode) and (bad := _UNPRINTABLE.search(node.value)):
        duplicates.append((path, Problem(
            "P106", f"文字中含有不可见或无法编码的字符 U+{ord(bad.group()):04X}（第 {bad.start() + 1} 个字符）",
            file=file, line=node.start_mark.line + 1, col=node.start_mark.column + 1,
            hint="删去该字符；它多半来自转义写法（\\x..、\\u....）或从别处粘贴")))


# Escapes can put into a string what no file may hold: control characters (tab and line breaks are
# text), lone surrogates (not encodable as UTF-8) and the non-characters U+FFFE/U+FFFF.
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


# ---------------------------------------------------------------- naming and placing problems

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


def place(problem: Problem, positions: SourceMap, path: Path_, data: Any, *, key: bool = False) -> Problem:
    """A problem found in a model, placed at the file and line where `path` was written."""
    pos = positions.key_or_value(path) if key else positions.nearest(path)
    return replace(problem, file=pos.file if pos else problem.file, line=pos.line if pos else None,
                   col=pos.col if pos else None, where=problem.where or where_text(path, data) or None)
