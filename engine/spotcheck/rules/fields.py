"""The closed vocabulary of entity and inspector fields, declared once.

Directories map their headers onto these fields; scope conditions may only name entity fields listed
here; the rules engine types every fact by these kinds. Adding a field means adding it here and
nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["str", "enum", "labels", "date", "int"]

TIERS = ("A", "B", "C", "D")  # credit-risk tiers, low to high
TIER_NAMES = {"A": "低风险", "B": "一般风险", "C": "较高风险", "D": "高风险"}
ENTITY_TYPES = ("企业", "个体工商户", "农民专业合作社")
# Statuses as the national registration system spells them; 存续 and 在营/开业 mean the entity operates.
ENTITY_STATUSES = ("存续", "在营", "开业", "在业", "停业", "歇业", "清算", "迁出", "吊销", "注销", "撤销")
OPERATING_STATUSES = ("存续", "在营", "开业", "在业")
INSPECTOR_STATUSES = ("在岗", "调离", "退休", "借调", "病休")


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    title: str  # Chinese, for messages and schema hover help
    headers: tuple[str, ...] = ()  # other spellings accepted in directory files (Chinese first)
    values: tuple[str, ...] = ()  # closed set for enums
    required: bool = False
    # A directory repeats a few distinct values down the column however many rows it has: the loader
    # normalises and checks each distinct value once, and keeps text and enum values Categorical.
    few_values: bool = False


ENTITY_FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("uscc", "str", "统一社会信用代码", ("统一社会信用代码", "信用代码", "社会信用代码", "USCC"), required=True),
        Field("name", "str", "市场主体名称", ("企业名称", "市场主体名称", "主体名称", "名称"), required=True),
        Field("type", "enum", "主体类型", ("主体类型", "市场主体类型", "类型"), ENTITY_TYPES, required=True, few_values=True),
        Field("status", "enum", "登记状态", ("登记状态", "经营状态", "状态"), ENTITY_STATUSES, required=True, few_values=True),
        Field("district", "str", "所属辖区", ("所属辖区", "辖区", "行政区划", "区县"), required=True, few_values=True),
        Field("tier", "enum", "信用风险等级", ("信用风险等级", "风险等级", "风险分类"), TIERS, required=True, few_values=True),
        Field("labels", "labels", "监管标签", ("监管标签", "标签"), few_values=True),
        Field("industry", "str", "行业类别", ("行业类别", "行业", "国民经济行业"), few_values=True),
        Field("registration_authority", "str", "登记机关", ("登记机关",), few_values=True),
        Field("office", "str", "管辖单位", ("管辖单位", "管辖机关", "市场监管所"), few_values=True),
        Field("grid", "str", "网格片区", ("网格", "片区", "网格片区"), few_values=True),
        Field("address", "str", "住所", ("住所", "经营场所", "地址")),
        Field("established", "date", "成立日期", ("成立日期", "成立时间"), few_values=True),
        Field("expires", "date", "营业期限至", ("营业期限至", "经营期限至"), few_values=True),
        Field("last_checked", "date", "上次检查日期", ("上次检查日期", "最近检查日期"), few_values=True),
        # Derived from the ledger's history, never read from a directory file.
        Field("checks_this_year", "int", "本年度已抽查次数"),
    )
}

INSPECTOR_FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("inspector_id", "str", "执法人员编号", ("执法人员编号", "人员编号", "工号"), required=True),
        Field("name", "str", "姓名", ("姓名",), required=True),
        Field("unit", "str", "所属单位", ("所属单位", "单位", "执法单位"), required=True),
        Field("district", "str", "所属辖区", ("所属辖区", "辖区", "区县"), required=True),
        Field("status", "enum", "在岗状态", ("在岗状态", "人员状态", "状态"), INSPECTOR_STATUSES, required=True),
        Field("certificate", "str", "执法证号", ("执法证号", "执法证件号")),
        Field("certificate_expires", "date", "执法证有效期至", ("执法证有效期至", "证件有效期至", "有效期至")),
        Field("specialties", "labels", "专业领域", ("专业领域", "专长", "业务专长")),
        Field("role", "enum", "人员类别", ("人员类别", "类别"), ("执法人员", "专家", "第三方机构")),
        Field("grid", "str", "网格片区", ("网格", "片区", "网格片区")),
        # The department (policy.departments id or name) an officer inspects for on a joint visit.
        Field("department", "str", "所属部门", ("所属部门", "部门", "所属科室")),
    )
}

RECUSAL_FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("inspector_id", "str", "执法人员编号", ("执法人员编号", "人员编号"), required=True),
        Field("uscc", "str", "统一社会信用代码", ("统一社会信用代码", "信用代码"), required=True),
        Field("reason", "str", "回避事由", ("回避事由", "原因")),
    )
}

# A merged visit as pairing rules (policy.merge.pairings) see it; the visits stage projects each
# visit onto these fields and evaluates the rules once per distinct combination.
VISIT_FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("tasks", "labels", "抽查任务"),
        Field("items", "labels", "抽查事项"),
        Field("district", "str", "所属辖区"),
        Field("tier", "enum", "信用风险等级", values=TIERS),
        Field("window", "str", "合并时间窗"),
    )
}

# Labels are a single cell in CSV/XLSX exports, separated by any of these.
LABEL_SEPARATORS = ("；", ";", "、", "|", "，", ",")
