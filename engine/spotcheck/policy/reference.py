"""A field reference in Chinese, written from the exported JSON Schemas.

Officers writing a plan the bundled examples do not cover need every key a file may hold, what it
means, what it accepts and what it defaults to, in one page they can search. That page is generated
from the same schema editors read, so it cannot fall behind the models: `spotcheck schema export`
writes it beside each schema and `schema check` reports it stale like the schema itself.
"""

from __future__ import annotations

import json

_TYPES = {"string": "文字", "integer": "整数", "number": "数", "boolean": "true/false", "null": "空"}


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _anchor(schema: dict, name: str) -> str:
    title = schema["$defs"][name].get("title", name)
    return f"[{title}](#{name.lower()})"


def _kind(schema: dict, node: dict) -> str:
    """What a value may be, in words, with links to the objects it holds."""
    if "$ref" in node:
        return _anchor(schema, _ref_name(node["$ref"]))
    for key in ("anyOf", "oneOf"):
        if key in node:
            kinds = [_kind(schema, n) for n in node[key] if n.get("type") != "null"]
            return " 或 ".join(dict.fromkeys(kinds))
    if "enum" in node:
        return "取值：" + "、".join(json.dumps(v, ensure_ascii=False) for v in node["enum"])
    if "const" in node:
        return "固定为 " + json.dumps(node["const"], ensure_ascii=False)
    kind = node.get("type")
    if kind == "array":
        inner = node.get("items")
        return f"列表（每项：{_kind(schema, inner)}）" if inner else "列表"
    if kind == "object":
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            return f"映射（键 → {_kind(schema, extra)}）"
        return "对象"
    words = _TYPES.get(kind, kind or "任意")
    limits = [f"≥{node['minimum']}" if "minimum" in node else "", f"≤{node['maximum']}" if "maximum" in node else ""]
    limits = [x for x in limits if x]
    if node.get("format") == "date":
        words = "日期（YYYY-MM-DD）"
    return words + (f"（{'，'.join(limits)}）" if limits else "")


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _need(node: dict, required: bool) -> str:
    if required:
        return "必填"
    if "default" in node and node["default"] not in (None, [], {}, False):
        return "默认 " + json.dumps(node["default"], ensure_ascii=False)
    return "可省略"


def _table(schema: dict, node: dict) -> list[str]:
    required = set(node.get("required", ()))
    lines = ["| 键 | 名称 | 可以写 | 必填/默认 | 说明 |", "| --- | --- | --- | --- | --- |"]
    for key, field in node.get("properties", {}).items():
        description = field.get("description", "")
        if not description:
            for option in field.get("anyOf", ()):
                description = option.get("description", "") or description
        lines.append(f"| `{key}` | {_cell(field.get('title', ''))} | {_cell(_kind(schema, field))} "
                     f"| {_need(field, key in required)} | {_cell(description)} |")
    return lines


def _order(schema: dict) -> list[str]:
    """Definitions in the order a reader meets them from the top of the file."""
    seen: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref and _ref_name(ref) not in seen:
                seen.append(_ref_name(ref))
                walk(schema["$defs"][_ref_name(ref)])
            for key, value in node.items():
                if key != "$ref":
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk({k: v for k, v in schema.items() if k != "$defs"})
    return seen + sorted(set(schema.get("$defs", {})) - set(seen))


def reference(schema: dict, file_name: str) -> str:
    """The Markdown reference of one exported schema."""
    title = schema.get("title", file_name)
    out = [f"# {title}：字段参考", "",
           f"由 `spotcheck schema export` 根据 `{file_name}` 生成，请勿手改；模型改动后重新导出。"
           "“可以写”一栏的链接指向该值的下一级字段。", "",
           f"## {title}", ""]
    if schema.get("description"):
        out += [_cell(schema["description"]), ""]
    out += _table(schema, schema)
    for name in _order(schema):
        node = schema["$defs"][name]
        out += ["", f'<a id="{name.lower()}"></a>', "", f"## {node.get('title', name)}", ""]
        if node.get("description"):
            out += [_cell(node["description"]), ""]
        if node.get("properties"):
            out += _table(schema, node)
        else:
            out += [f"可以写：{_cell(_kind(schema, node))}"]
    return "\n".join(out) + "\n"
