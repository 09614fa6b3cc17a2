"""JSON Schemas for editors and other tools, exported from the pydantic models.

The files in validators/ are generated and checked in: a policy's first line
`# yaml-language-server: $schema=../../validators/policy.schema.json` gives officers key completion and
the models' Chinese titles as hover help. `schema_drift` tells when the checked-in files no longer
match the models (the test suite fails then; `spotcheck schema export` rewrites them).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pydantic import BaseModel
from spotcheck.calendar.workdays import YearSchedule
from spotcheck.policy.casefile import CasesFile
from spotcheck.draw.folder import write_file_atomic
from spotcheck.errors import Problem
from spotcheck.policy.files import CALENDAR, CASES, ITEM_LIST, POLICY, SCHEMA_FILES
from spotcheck.resources import SCHEMAS
from spotcheck.policy.model import ItemList, Policy
from spotcheck.policy.reference import reference

MODELS: dict[str, type[BaseModel]] = {
    SCHEMA_FILES[POLICY]: Policy,
    SCHEMA_FILES[ITEM_LIST]: ItemList,
    SCHEMA_FILES[CALENDAR]: YearSchedule,
    SCHEMA_FILES[CASES]: CasesFile,
}
DIALECT = "https://json-schema.org/draft/2020-12/schema"


# Hover text is read by officers: the titles pydantic derives from class and field names, and the
# classes' docstrings, are English. Known ones are given in Chinese; any other title or description
# that is mostly English is left out rather than shown (the field's own Chinese title still is).
CHINESE = {
    "Policy": "抽查策略", "ItemList": "抽查事项清单", "YearSchedule": "年度节假日安排", "CasesFile": "策略测试用例",
    "AllOf": "全部满足（all）", "AnyOf": "任一满足（any）", "Not": "不满足（not）", "Leaf": "单项条件",
    "Campaign": "抽查活动", "Cap": "频次上限", "Case": "测试用例", "Contact": "联系人", "DeadlineQuery": "期限查询",
    "DeadlineRule": "期限", "Department": "部门", "District": "下辖辖区", "Document": "公文", "DocumentNumber": "发文字号",
    "Entity": "示例主体", "Exclusion": "不承担的上级任务", "Expect": "预期结果", "HolidaySpan": "放假安排",
    "Inspection": "检查安排", "Item": "抽查事项", "Jurisdiction": "辖区", "Merge": "合并检查", "MethodRule": "检查方式规则",
    "MonthlyRule": "每月期限", "ObjectKind": "检查对象类别", "OnePlusX": "1+X 关联事项", "Pairing": "联合检查配对",
    "PastCheck": "以往检查", "Pool": "专家和第三方机构库", "Revision": "计划调整", "Risk": "信用风险分类",
    "SampleClass": "抽样类别", "Sampling": "抽查比例/数量", "Scale": "风险分级", "Section": "公文段落", "SizeRule": "规模规则",
    "Stated": "原文", "SubItem": "子项", "Target": "目标", "Task": "抽查任务", "Team": "检查组", "TierRule": "信用等级规则",
    "Window": "时间范围",
    "After": "起算事件", "All": "全部条件", "Any": "任一条件", "Calendar Days": "自然日数", "Working Days": "工作日数",
    "Day": "日", "End": "结束日期", "Start": "开始日期", "Field": "字段", "Holiday": "节日", "Holidays": "放假安排",
    "Name": "名称", "Source": "依据（通知标题和文号）", "Text": "原文", "Value": "值", "Workdays": "调休上班日", "Year": "年份",
}
_HAN = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")


def _english(text: str) -> bool:
    """Developer prose (a class docstring quoting a plan's words) is mostly Latin letters; an officer's
    hover line is mostly Chinese, even when it names a key such as `stratify`."""
    return len(_LATIN.findall(text)) > len(_HAN.findall(text))


def _chinese_hover(node: object) -> object:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in ("title", "description") and isinstance(value, str) and _english(value):
                if value in CHINESE:
                    out[key] = CHINESE[value]
                continue
            out[key] = _chinese_hover(value) if key not in ("default", "const", "enum", "examples") else value
        return out
    if isinstance(node, list):
        return [_chinese_hover(v) for v in node]
    return node


def schema(model: type[BaseModel]) -> dict:
    """The JSON Schema of a file model, as YAML input is validated (by alias, dates as strings), with
    Chinese hover text."""
    return {"$schema": DIALECT, **_chinese_hover(model.model_json_schema(by_alias=True, mode="validation"))}


def render(model: type[BaseModel]) -> str:
    return json.dumps(schema(model), ensure_ascii=False, indent=2) + "\n"


def reference_name(schema_name: str) -> str:
    """policy.schema.json → policy.reference.md: the field reference written beside each schema."""
    return schema_name.removesuffix(".schema.json") + ".reference.md"


def exported() -> dict[str, str]:
    """Every file `export_schemas` writes, by name: each schema and its Chinese field reference."""
    files = {}
    for name, model in MODELS.items():
        files[name] = render(model)
        files[reference_name(name)] = reference(schema(model), name)
    return files


def export_schemas(dest: Path = SCHEMAS) -> list[Path]:
    """Write every schema and its reference into `dest` (each file replaced atomically); returns the
    files written."""
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in exported().items():
        target = dest / name
        write_file_atomic(target, text.encode("utf-8"))
        written.append(target)
    return written


def schema_drift(dest: Path = SCHEMAS) -> list[Problem]:
    """P191 for each schema or reference file in `dest` that is missing or differs from a fresh export."""
    found = []
    for name, text in exported().items():
        target = dest / name
        try:
            current = target.read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != text:
            state = "缺失" if current is None else "与模型不一致"
            found.append(Problem("P191", f"{target.name} {state}", file=str(target),
                                 hint="模型改动后运行 spotcheck schema export 重新生成并一起提交"))
    return found
