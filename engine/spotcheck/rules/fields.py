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
# Values of the other risk scales national rules name, which conditions may test: 个体工商户 分型
# (生存型、成长型、发展型) and the 守信/失信 scale sectors use. A policy declares which kind uses which scale.
SCALE_VALUES = ("生存型", "成长型", "发展型", "守信", "警示", "失信", "严重失信")
ENTITY_TYPES = ("企业", "个体工商户", "农民专业合作社")
# GB 32100-2015: the first two characters of a USCC, the registration authority and the kind of
# organisation it registers. A directory row's 主体类型 must agree with its code (directory/kinds.py).
REGISTRATION_KINDS = {
    "11": "机关", "12": "事业单位", "13": "中央编办直接管理机构编制的群众团体", "19": "其他机构编制单位",
    "21": "外国常驻新闻机构", "29": "其他外交登记单位",
    "31": "律师执业机构", "32": "公证处", "33": "基层法律服务所", "34": "司法鉴定机构", "35": "仲裁委员会",
    "39": "其他司法行政登记单位",
    "41": "外国在华文化中心", "49": "其他文化登记单位",
    "51": "社会团体", "52": "民办非企业单位", "53": "基金会", "59": "其他民政登记单位",
    "61": "外国旅游部门常驻代表机构", "62": "港澳台地区旅游部门常驻内地（大陆）代表机构", "69": "其他旅游登记单位",
    "71": "宗教活动场所", "72": "宗教院校", "79": "其他宗教登记单位",
    "81": "基层工会", "89": "其他工会登记单位",
    "91": "企业", "92": "个体工商户", "93": "农民专业合作社",
    "A1": "军队事业单位", "A9": "其他军队登记单位",
    "N1": "组级集体经济组织", "N2": "村级集体经济组织", "N3": "乡镇级集体经济组织", "N9": "其他农业登记单位",
    "Y1": "其他",
}
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
    # Values a condition may name beyond `values` (which also seed example entities): object kinds
    # and scale values a policy declares.
    more_values: tuple[str, ...] = ()
    # A required column whose cells may be blank (a tier, where the row's kind has no scale).
    blanks_allowed: bool = False

    @property
    def accepted(self) -> tuple[str, ...]:
        return self.values + self.more_values


ENTITY_FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("uscc", "str", "统一社会信用代码", ("统一社会信用代码", "信用代码", "社会信用代码", "USCC"), required=True),
        Field("name", "str", "市场主体名称", ("企业名称", "市场主体名称", "主体名称", "名称"), required=True),
        Field("type", "enum", "主体类型", ("主体类型", "市场主体类型", "对象类别", "类型"), ENTITY_TYPES, required=True, few_values=True,
              more_values=tuple(dict.fromkeys(k for k in REGISTRATION_KINDS.values() if k not in ENTITY_TYPES))),
        Field("status", "enum", "登记状态", ("登记状态", "经营状态", "状态"), ENTITY_STATUSES, required=True, few_values=True),
        Field("district", "str", "所属辖区", ("所属辖区", "辖区", "行政区划", "区县"), required=True, few_values=True),
        Field("tier", "enum", "信用风险等级", ("信用风险等级", "风险等级", "风险分类"), TIERS, required=True, few_values=True,
              more_values=SCALE_VALUES),
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
        # Derived from the lists the policy imports (policy/lists.py): the ids of those naming the entity.
        Field("lists", "labels", "所在名单"),
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
