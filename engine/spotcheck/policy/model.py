"""The policy model: one jurisdiction's inspection plan for one year, and its item lists.

These pydantic models are the one source of truth: the JSON Schemas in validators/ are exported from
them, the loader validates YAML against them, and every later stage reads them. Ratios and
multipliers are exact decimals, written as strings in YAML ("5%", "0.5"), never floats.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Literal

from pydantic import (
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    model_validator,
)

from spotcheck.calendar.deadlines import DeadlineRule
from spotcheck.ids import Id, PathId
from spotcheck.policy.cadence import Batch, BatchMode, CapPriority, Recent
from spotcheck.policy.departments import Department, Exclusion, Inspections, PlanTable, TableColumn
from spotcheck.policy.kinds import ObjectKind, Scale
from spotcheck.policy.lists import NamedList
from spotcheck.policy.numbers import (
    Count,
    Date,
    Limit,
    Model,
    Month,
    Multiplier,
    Percent,
    Serial,
    Tier,
    Year,
    percent_fraction,
)
from spotcheck.policy.sampling import Sampling, TierRule, sampling_text, stratum_ratio
from spotcheck.rules.conditions import Condition, parse_condition
from spotcheck.rules.fields import TIER_NAMES, TIERS

# ---------------------------------------------------------------- item lists


Method = Literal["实地检查", "书面检查", "网络监测", "检验检测", "委托第三方", "委托专业机构"]
SITE_METHOD = "实地检查"


class MethodRule(Model):
    """How checks of one method are scheduled and staffed (the items' first method decides)."""

    site_visit: StrictBool = Field(title="需上门检查", description="false：不上门（书面检查、网络监测等），与现场检查分开安排")
    min_size: StrictInt | None = Field(None, ge=1, le=50, title="每组最少人数", description="不填则同 team.min_size")
    text: StrictStr | None = Field(None, title="原文")


class SubItem(Model):
    name: StrictStr = Field(title="子事项名称")
    code: StrictStr | None = Field(None, title="子事项编码")


class Item(Model):
    """One line of a 抽查事项清单."""

    code: StrictStr = Field(title="事项编码", description="清单中的编码，如 A99；清单未给编码时由本项目补编并注明")
    name: StrictStr = Field(title="抽查事项名称")
    sub_items: list[SubItem] = Field(default_factory=list, title="子事项")
    basis: StrictStr | None = Field(None, title="检查依据", description="法律法规依据")
    method: list[Method] = Field(default_factory=list, title="检查方式", description="第一项为该事项的检查方式")
    condition: Condition | None = Field(
        None, title="适用主体（条件）", description="事项只适用于部分主体时填写，如“只针对实缴制企业”；检查只带上适用于该主体的事项")
    condition_text: StrictStr | None = Field(None, title="适用主体（原文）", description="如 只针对实缴制企业")
    department: StrictStr | None = Field(None, title="负责部门", description="departments 中的部门标识；联合任务中该事项由此部门检查")
    category: Literal["重点", "一般"] = Field("一般", title="事项类别", description="重点检查事项或一般检查事项")
    general: StrictBool = Field(False, title="通用事项", description="为 true 时融入每个抽查任务（如浙江 A99、A100、A101）")
    specialist: StrictBool = Field(False, title="需专业人员", description="检查人员是否需具备专业资质，或需专家/第三方机构参与")
    specialty: StrictStr | None = Field(None, title="所需专业领域", description="检查人员名录中的专业领域标签")
    unit: StrictStr | None = Field(None, title="责任单位", description="负责该事项的业务科室")
    target: StrictStr | None = Field(None, title="检查对象", description="清单中写明的检查对象")


class ItemList(Model):
    """A province's (or city's) versioned item list, in its own file."""

    id: PathId = Field(title="清单标识")
    name: StrictStr = Field(title="清单名称", description="如《河北省市场监督管理局随机抽查事项清单（2023年版）》")
    issuer: StrictStr = Field(title="发布机关")
    year: Year = Field(title="年度")
    version: Serial = Field(1, title="版本")
    note: StrictStr | None = Field(None, title="说明", description="清单来源，及本项目补编的内容")
    items: list[Item] = Field(title="抽查事项")


# ---------------------------------------------------------------- identity and documents


class Contact(Model):
    name: StrictStr = Field(title="联系人")
    phone: StrictStr | None = Field(None, title="电话")
    email: StrictStr | None = Field(None, title="邮箱")
    unit: StrictStr | None = Field(None, title="所在科室")


class District(Model):
    code: StrictStr = Field(title="行政区划代码")
    name: StrictStr = Field(title="辖区名称")
    unit: StrictStr = Field(title="辖区市场监管部门", description="负责该辖区检查的单位，如“海港区市场监督管理局”")
    contacts: list[Contact] = Field(default_factory=list, title="联系人",
                                    description="该单位的抽查工作联系人；由该单位署名的随机抽查通知书印这些联系方式")


class Jurisdiction(Model):
    code: StrictStr = Field(title="行政区划代码", description="6位代码，如 130300")
    name: StrictStr = Field(title="机关全称", description="如 秦皇岛市市场监督管理局")
    region: StrictStr = Field(title="地区名称", description="如 秦皇岛市")
    short: StrictStr | None = Field(None, title="发文机关代字", description="如 秦市监")
    level: Literal["national", "province", "city", "district"] = Field(title="层级")
    districts: list[District] = Field(default_factory=list, title="下辖辖区")
    departments: list[StrictStr] = Field(default_factory=list, title="机关科室", description="本级参与抽查的科室")


class DocumentNumber(Model):
    prefix: StrictStr = Field(title="发文代字", description="如 秦市监函")
    year: Year = Field(title="年份")
    seq: Serial = Field(title="序号")

    def text(self) -> str:
        return f"{self.prefix}〔{self.year}〕{self.seq}号"


class Section(Model):
    """A numbered part of a notice. Prose is data, never a template; `include` splices generated content."""

    heading: StrictStr | None = Field(None, title="标题", description="不含序号，序号（一、（一）1.（1））由模板生成")
    text: list[StrictStr] = Field(default_factory=list, title="段落")
    include: (
        Literal["window", "items", "scope", "sampling", "tiers", "tasks", "deadlines", "targets", "contacts", "steps", "pools"]
        | None
    ) = Field(None, title="插入生成内容", description="在段落后插入由策略数据生成的内容")
    sections: list[Section] = Field(default_factory=list, title="下级标题")


DocumentKind = Literal["plan_notice", "campaign_notice", "scheme", "work_notice", "task_notice", "results_notice"]


class Document(Model):
    id: Id = Field(title="文件标识")
    kind: DocumentKind = Field(title="文种", description="年度计划通知、联合抽查通知、实施方案、年度工作通知、任务公告、结果公告")
    number: DocumentNumber | None = Field(None, title="发文字号")
    letter: StrictBool = Field(False, title="函件格式", description="“函”使用信函格式")
    issuer: StrictStr = Field(title="发文机关")
    title: StrictStr = Field(title="标题")
    date: Date = Field(title="成文日期")
    addressees: list[StrictStr] = Field(default_factory=list, title="主送机关")
    preamble: list[StrictStr] = Field(default_factory=list, title="导语")
    sections: list[Section] = Field(default_factory=list, title="正文")
    contacts: list[Contact] = Field(default_factory=list, title="联系人")
    attachments: list[StrictStr] = Field(default_factory=list, title="附件")
    disclosure: Literal["主动公开", "依申请公开", "不予公开"] | None = Field(None, title="信息公开类型")
    cc: list[StrictStr] = Field(default_factory=list, title="抄送")
    printed_by: StrictStr | None = Field(None, title="印发机关")
    # A notice that transmits a scheme carries the scheme as its body with its own title.
    enclosure_title: StrictStr | None = Field(None, title="所附方案标题")
    table: list[TableColumn] = Field(
        default_factory=list, title="计划表栏目", description="按原表顺序列出计划表的栏目；不填则用九栏计划表（朔州2021）")
    tables: list[PlanTable] = Field(
        default_factory=list, title="各计划表栏目",
        description="原件分几张表、各表栏目不同时，按表标题（任务的 table）分别列出栏目；未列出的表用 table 的栏目")


# ---------------------------------------------------------------- tasks, sampling, tiers


class Window(Model):
    start: Date = Field(title="开始日期")
    end: Date = Field(title="结束日期")

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end < self.start:
            raise ValueError(f"结束日期 {self.end} 早于开始日期 {self.start}")
        return self


class Task(Model):
    """One row of a plan's task table."""

    id: Id = Field(title="任务标识", description="本策略内唯一，如 t01")
    no: Serial | None = Field(None, title="序号")
    name: StrictStr = Field(title="抽查任务名称")
    campaign: StrictStr | None = Field(None, title="所属抽查活动")
    type: Literal["定向", "不定向"] = Field(title="抽查类型")
    items: list[StrictStr] = Field(title="抽查事项", description="事项编码，须在引用的事项清单中")
    items_text: StrictStr | None = Field(None, title="抽查事项原文", description="计划表中抽查事项一栏的原文")
    scope: Condition = Field(title="抽查对象范围（条件）")
    scope_text: StrictStr = Field(title="抽查对象范围（原文）")
    sampling: Sampling = Field(title="抽查比例/数量")
    draw_months: tuple[Month, Month] | None = Field(None, title="抽取月份", description="[起始月, 结束月]，如 [4, 11]")
    window: Window | None = Field(None, title="检查时间")
    draw_by: Date | None = Field(
        None, title="抽取期限",
        description="“抽取日期：2023年9月1日前”：本任务（分几轮的，最后一轮）在此日期（含）之前抽取；不写 draw_months 时，"
                    "从检查时间开始的月份（没有检查时间的从1月）起到此日期所在的月份都可抽取；年度看板在此日期后提示逾期未抽取")
    batches: list[Batch] = Field(
        default_factory=list, title="分批次",
        description="“分两批次；第一批7月20日前完成，第二批10月15日前完成”：各批的名称、完成时限（及抽取月份）；每批是一轮，不再写 times_per_year")
    not_checked_within: Recent | None = Field(
        None, title="近期未检查",
        description="“近N个月内未被抽查的”：抽取日前N个月内（按台账中的检查记录，含往年）检查过的主体不抽取，列入 excluded.csv")
    batch_mode: BatchMode | None = Field(
        None, title="分批方式",
        description="split：全年样本分批完成，同一主体只在一个批次，后批不再抽前批（含此前各次抽取）已抽的主体；repeat：每批各抽一次全年样本")
    initiator: StrictStr | None = Field(None, title="发起主体")
    guide: StrictStr | None = Field(None, title="指导单位")
    inspecting_level: StrictStr | None = Field(None, title="抽查检查主体")
    lead_unit: StrictStr | None = Field(None, title="牵头单位")
    departments: list[StrictStr] = Field(
        default_factory=list, title="配合部门", description="策略声明了 departments 时写部门标识；检查组须含每个参与部门的执法人员")
    joint: StrictBool = Field(False, title="跨部门联合", description="旧写法；是否跨部门联合以实际参与的部门为准")
    initiating_department: StrictStr | None = Field(None, title="发起部门", description="departments 中的部门标识")
    lead_department: StrictStr | None = Field(None, title="牵头部门", description="departments 中的部门标识；不填同发起部门")
    inspection: Inspections = Field(
        default_factory=list, title="抽查检查模式", description="“市抽市查”，或按条件分列的模式 [{mode, when}]；不填：由主体所在辖区的单位检查")
    regions: list[StrictStr] = Field(
        default_factory=list, title="地市",
        description="省、市计划按地市（区县）分列任务时，写本行所属辖区的6位行政区划代码，如 [\"140100\"]（太原市）：任务只下达给这些辖区"
                    "及其下辖区县的策略，由它们抽取；写明辖区的策略自己不抽取本行；不填则下达给所有下级策略")
    origin: StrictStr | None = Field(None, title="任务来源", description="如 省计划、市计划；上级策略下达的任务自动标注")
    publish_drawn: StrictBool = Field(
        True, title="公开抽中名单",
        description="false：公示网站只公布本任务的数量、分层和承诺，不公布抽中名单（如“全市高风险企业”），名单随抽取结果报送监督机构；检查结果仍逐户公示")
    table: StrictStr | None = Field(
        None, title="所在计划表",
        description="原件分几张表、各表分别编号时（如 跨部门联合抽查计划表 与 本局抽查计划表），写本行所在表的标题：同表的任务在文件中"
                    "列在同一张表里（按各表首次出现的顺序），序号 no 在表内不重复；不填的任务列在无标题的表里")
    cells: dict[StrictStr, StrictStr] = Field(
        default_factory=dict, title="计划表其他栏目", description="计划表中没有对应字段的栏目原文，如 基数、目标数、行业、备注；空栏不写")


def table_groups(tasks: Sequence[Task]) -> list[tuple[str | None, list[Task]]]:
    """A plan's tables in the order each first appears, each with its tasks in policy order (the untitled table
    holds the tasks without `table`)."""
    groups: dict[str | None, list[Task]] = {}
    for task in tasks:
        groups.setdefault(task.table, []).append(task)
    return list(groups.items())


class Campaign(Model):
    id: Id = Field(title="活动标识")
    name: StrictStr = Field(title="抽查活动名称")
    window: Window = Field(title="抽查时间")
    coordination: Literal["joint", "independent"] = Field(
        "joint", title="样本协调", description="joint：同一活动各任务共用每个主体的永久随机数，尽量合并为一次检查；independent：各任务独立"
    )
    ratio: Percent | None = Field(None, title="总体比例", description="活动总体抽取比例，如“总体不低于3%”")


class Risk(Model):
    tiers: dict[Tier, TierRule] = Field(default_factory=dict, title="信用风险等级（A低→D高）")
    note: StrictStr | None = Field(None, title="说明")


class Cap(Model):
    """A frequency cap read against the ledger's history."""

    id: Id = Field(title="上限标识")
    name: StrictStr = Field(title="名称", description="如 低风险企业同一年度抽查不超过2次")
    when: Condition = Field(title="适用主体（条件）")
    max_per_year: Limit = Field(title="年度次数上限")
    items: list[StrictStr] = Field(default_factory=list, title="限于事项", description="为空则计所有事项")


# ---------------------------------------------------------------- merging and teams


class Pairing(Model):
    tasks: list[StrictStr] = Field(min_length=2, title="配对任务")
    lead: StrictStr = Field(title="牵头单位")
    note: StrictStr | None = Field(None, title="说明")


class OnePlusX(Model):
    lead_item: StrictStr = Field(title="主事项（1）")
    x_items: list[StrictStr] = Field(title="关联事项（X）")


class Merge(Model):
    window: Literal["campaign", "month", "year"] = Field("campaign", title="合并时间窗", description="同一主体在该时间窗内的检查合并为一次")
    fuse_general_items: StrictBool = Field(False, title="融入通用事项", description="将清单中 general 为 true 的事项融入每个任务")
    pairings: list[Pairing] = Field(default_factory=list, title="任务配对")
    one_plus_x: list[OnePlusX] = Field(default_factory=list, title="1+X")
    note: StrictStr | None = Field(None, title="说明")


class Pool(Model):
    kind: Literal["专家", "第三方机构"] = Field(title="类别")
    specialties: list[StrictStr] = Field(default_factory=list, title="专业领域")
    note: StrictStr | None = Field(None, title="说明")


class Team(Model):
    min_size: StrictInt = Field(2, ge=1, le=50, title="每组最少人数")
    min_per_department: StrictInt = Field(1, ge=1, le=50, title="每个参与部门最少人数", description="联合检查中每个参与部门至少派出的执法人员数")
    max_visits_per_inspector: StrictInt | None = Field(None, ge=1, le=100_000, title="每人检查户数上限")
    rotate_lead: StrictBool = Field(True, title="主查人轮换", description="不安排上次检查该主体的主查人担任主查")
    no_change_without_approval: StrictBool = Field(True, title="匹配后不得随意更换", description="更换须说明理由并经分管领导同意")
    pools: list[Pool] = Field(default_factory=list, title="专家库、第三方机构库")


# ---------------------------------------------------------------- targets

Metric = Literal[
    "enterprise_coverage",
    "item_coverage",
    "double_random_share",
    "joint_share",
    "risk_based_share",
    "risk_classification_use",
    "on_time_publication",
    "follow_up",
    "plan_publication",
    "mobile_enforcement",
]
METRIC_NAMES: dict[str, str] = {
    "enterprise_coverage": "年度抽查企业占比",
    "item_coverage": "抽查事项覆盖率",
    "double_random_share": "双随机抽查次数占比",
    "joint_share": "部门联合抽查占比",
    "risk_based_share": "运用信用风险分类开展抽查次数占比",
    "risk_classification_use": "信用风险分类结果应用率",
    "on_time_publication": "抽查结果按时公示率",
    "follow_up": "发现问题后续处置率",
    "plan_publication": "计划任务和抽查结果公示率",
    "mobile_enforcement": "掌上执法应用率",
}


class Target(Model):
    value: Percent = Field(title="目标值")
    text: StrictStr | None = Field(None, title="原文")
    kinds: list[StrictStr] = Field(
        default_factory=list, title="计入的对象类别", description="覆盖率计入哪些对象类别（kinds 中的名称）；年度抽查企业占比不填时只计企业")


# ---------------------------------------------------------------- the policy


class Revision(Model):
    """A plan adjusted during its year; the adjusted plan is published again (seed 002: 调整后的工作计划应及时向社会公示并报市局备案)."""

    number: Serial = Field(title="修订次数", description="第几次修订（原计划不写 revision）")
    date: Date = Field(title="修订日期")
    reason: StrictStr = Field(title="修订理由")
    published: Date | None = Field(None, title="公示日期", description="调整后的计划向社会公示的日期")

    def text(self) -> str:
        return f"第{self.number}次修订（{self.date.year}年{self.date.month}月{self.date.day}日）"


class Policy(Model):
    """One jurisdiction's plan for one year, after `extends:` has been resolved."""

    id: PathId = Field(title="策略标识", description="如 hebei/qinhuangdao/2023")
    extends: StrictStr | None = Field(None, title="上级策略", description="上级策略文件的相对路径，或内置策略的名称（如 spotcheck:hebei/baseline）；只能收紧上级底线，不能放宽")
    jurisdiction: Jurisdiction = Field(title="辖区与机关")
    year: Year = Field(title="年度")
    version: Serial = Field(1, title="版本")
    revision: Revision | None = Field(None, title="计划修订", description="年度中调整计划时填写；已抽取的任务不能删除，已抽取的轮次不能改动")
    item_lists: list[StrictStr] = Field(default_factory=list, title="事项清单文件", description="相对路径，或内置清单的名称（如 spotcheck:hebei/items/2024）")
    calendars: list[StrictStr] = Field(default_factory=list, title="节假日安排文件", description="补充 chinese-calendar 未收录年份的官方安排：相对路径，或内置安排的名称（spotcheck:calendars/…）")
    documents: list[Document] = Field(default_factory=list, title="发布的文件")
    default_document: StrictStr | None = Field(None, title="默认文件", description="spotcheck notice 默认生成的文件标识")
    campaigns: list[Campaign] = Field(default_factory=list, title="抽查活动")
    tasks: list[Task] = Field(default_factory=list, title="抽查任务")
    departments: list[Department] = Field(default_factory=list, title="参与部门", description="本局科室/股室和其他部门，及其检查单位")
    excluded_tasks: list[Exclusion] = Field(
        default_factory=list, title="不执行的上级任务", description="上级策略下达、本级不执行的任务，须写明理由")
    methods: dict[Method, MethodRule] = Field(default_factory=dict, title="检查方式安排", description="各检查方式是否上门、每组人数")
    kinds: dict[StrictStr, ObjectKind] = Field(
        default_factory=dict, title="对象类别", description="抽查对象的类别及其统一社会信用代码类别代码、风险分类；全国底线声明，下级可增补")
    scales: dict[StrictStr, Scale] = Field(default_factory=dict, title="风险分类", description="各类对象使用的风险分类及其等级")
    lists: list[NamedList] = Field(
        default_factory=list, title="引用的名单",
        description="其他单位公布的名单（联合抽查牵头单位的抽取结果、重点监管名单等），按文件和 SHA-256 采用；条件用 lists 字段，任务用 sampling.from_list")
    supervisor: StrictStr | None = Field(
        None, title="监督机构", description="抽取的全部内部资料报送的机构，如 驻局纪检监察组；spotcheck lodge 默认报送此机构")
    labels: dict[StrictStr, StrictStr | None] = Field(
        default_factory=dict, title="监管标签",
        description="本辖区的监管标签目录：标签 → 说明（可空）；声明后，条件中写的每个标签都须在此目录中（防止“加油占”之类的笔误）；上级声明的标签下级可直接使用并可增补")
    unit_names: dict[StrictStr, StrictStr] = Field(
        default_factory=dict, title="单位名称对照",
        description="计划表原文中的单位写法 → 策略声明的单位名称，如 质量监管库: 质量监管科；计划表照印原文，统计部门联合时按声明的单位计")
    risk: Risk = Field(default_factory=Risk, title="信用风险分级")
    caps: list[Cap] = Field(default_factory=list, title="抽查频次上限")
    cap_priority: CapPriority | None = Field(
        None, title="上限冲突时保留主体的任务", description="同一次抽取中主体超出频次上限时由哪个任务保留；不填则按任务在计划中的顺序")
    merge: Merge = Field(default_factory=Merge, title="合并检查规则")
    team: Team = Field(default_factory=Team, title="检查组")
    deadlines: dict[StrictStr, DeadlineRule] = Field(default_factory=dict, title="期限")
    targets: dict[Metric, Target] = Field(default_factory=dict, title="工作目标")
    targets_due: Date | None = Field(None, title="目标完成时限")
    steps: list[StrictStr] = Field(default_factory=list, title="工作步骤", description="实施方案中的流程步骤原文")
    year_mentions: list[StrictStr] = Field(
        default_factory=list, title="有意提及的其他年份",
        description="正文中有意写到其他年份的原文片段，如“2019年度年报”；spotcheck validate 不再就这些片段提醒年份不一致")


def task_ratio(task: Task, policy: Policy, tier: str | None) -> Fraction | None:
    """The exact ratio a ratio task asks of an entity of `tier` (None when the task draws a total: a count,
    a 目标数, weights, or size bands).

    The draw uses the same rule (spotcheck.policy.sampling.stratum_ratio): tier rules apply only to a
    task that stratifies by tier.
    """
    s = task.sampling
    if not s.ratio_rule or (s.ratio is None and s.unstated is not None):
        return None
    base = percent_fraction(s.ratio) if s.ratio is not None else None
    return stratum_ratio(s, policy.risk.tiers, base, tier if "tier" in s.stratify else None, None)[0]


def coverage_kinds(policy: Policy) -> tuple[str, ...]:
    """The kinds of object 年度抽查企业占比 counts: the target's own list, else enterprises only."""
    target = policy.targets.get("enterprise_coverage")
    return tuple(target.kinds) if target is not None and target.kinds else ("企业",)


def effective_caps(policy: Policy) -> list[Cap]:
    """The policy's caps plus one per risk tier that sets max_checks_per_year (id `tier-<T>`)."""
    caps = list(policy.caps)
    for tier, rule in sorted(policy.risk.tiers.items()):
        if rule.max_checks_per_year is not None:
            when = parse_condition({"field": "tier", "op": "eq", "value": tier})
            name = f"{TIER_NAMES[tier]}（{tier}级）主体年度抽查不超过{rule.max_checks_per_year}次"
            caps.append(Cap(id=f"tier-{tier}", name=name, when=when, max_per_year=rule.max_checks_per_year))
    return caps


def tier_rule_parts(rule: TierRule) -> list[str]:
    """A tier's own rule as officers write it, one clause per number the policy gives."""
    parts = []
    if rule.ratio is not None:
        parts.append(f"抽查比例{rule.ratio.normalize():f}%")
    if rule.multiplier is not None:
        parts.append(f"按任务抽查比例的{rule.multiplier.normalize():f}倍抽取（最高100%）")
    if rule.max_checks_per_year is not None:
        parts.append(f"同一年度抽查不超过{rule.max_checks_per_year}次")
    return parts


__all__ = [
    "METRIC_NAMES",
    "TIERS",
    "Campaign",
    "Cap",
    "Contact",
    "Count",
    "District",
    "Document",
    "DocumentNumber",
    "Item",
    "ItemList",
    "Jurisdiction",
    "Merge",
    "Model",
    "Month",
    "Multiplier",
    "Percent",
    "Policy",
    "Revision",
    "Risk",
    "Sampling",
    "Section",
    "SubItem",
    "Target",
    "Task",
    "Team",
    "Tier",
    "TierRule",
    "Window",
    "coverage_kinds",
    "effective_caps",
    "percent_fraction",
    "sampling_text",
    "task_ratio",
]
