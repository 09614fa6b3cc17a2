"""Policy test cases (`spotcheck test`): example entities and dates with the results a policy must give.

A file `<policy>.cases.yaml` sits beside each policy (`2021.cases.yaml` for `2021.yaml`), in the
shape of kyverno's test files: inputs and expected results, nothing else.

    policy: 2021.yaml
    cases:
      - name: 加油站在计量器具任务范围内，不在拍卖任务范围内
        entity: {uscc: 91140600MA0K00000X, type: 企业, status: 存续, district: "140602", tier: B, labels: [加油站]}
        history: [{year: 2021, task: t19}]   # checks already made (for frequency caps)
        expect:
          in_scope: [t01]
          not_in_scope: [t04]
          ratio: {t01: "5%"}                 # the exact ratio for the entity's tier
          capped: {t19: true}                # or the cap id that must exclude it
          visit_items: [J01, J02]            # one merged visit of all its in-scope tasks
          visit:                             # who takes part, who inspects, how each item is checked
            mode: 市抽市查
            inspecting_unit: 长治市烟草专卖局
            departments: [烟草, 邮政, 公安]
            joint: true
            team: {size: 3, departments: {烟草: 1, 邮政: 1, 公安: 1}}
            checks: {现场: [J01], 网络监测: [J02]}
      - name: 结果公示期限跨国庆
        deadline: {id: results_public, from: "2023-09-25"}
        expect: {date: "2023-10-27"}
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, StrictBool, StrictInt, StrictStr, create_model, model_validator
from spotcheck.rules.fields import ENTITY_FIELDS
from spotcheck.policy.model import Count, Date, Model, Percent, Year
from spotcheck.policy.departments import InspectionMode

_KIND_TYPES: dict[str, Any] = {"str": StrictStr, "enum": StrictStr, "labels": list[StrictStr], "date": Date, "int": StrictInt}


# Kinds of object and scale values are the policy's vocabulary (kinds, scales), checked when the policy
# is at hand (P251); the other enums are closed.
DECLARED = ("type", "tier")


def _entity_field(name: str) -> tuple[Any, Any]:
    f = ENTITY_FIELDS[name]
    if f.kind == "enum" and name not in DECLARED:
        tp: Any = Literal[f.accepted]  # type: ignore[valid-type]
    else:
        tp = _KIND_TYPES[f.kind]
    return tp | None, Field(None, title=f.title)


# Every directory field may be given; checks_this_year is derived from `history`, as the draw derives it
# from the ledger.
Entity = create_model(
    "Entity",
    __base__=Model,
    __doc__="一个示例市场主体：只写用例需要的字段",
    **{name: _entity_field(name) for name in ENTITY_FIELDS if name != "checks_this_year"},
)


class PastCheck(Model):
    year: Year = Field(title="年度")
    task: StrictStr = Field(title="任务标识", description="本策略中的任务")
    visit: StrictStr | None = Field(None, title="检查标识", description="同一次合并检查的各条记录写同一标识；省略时每条记录算一次检查")
    items: list[StrictStr] | None = Field(None, title="检查事项", description="省略时为该任务的事项")
    on: Date | None = Field(None, title="检查日期", description="“近N个月内”“每N年”按此日期计；省略时按该年年底计")


class DeadlineQuery(Model):
    id: StrictStr = Field(title="期限标识", description="策略 deadlines 中的键")
    from_: Date = Field(alias="from", title="起算日", description="期限 after 所指事件发生的日期（起算日不计入）")


class SampleQuery(Model):
    task: StrictStr = Field(title="任务标识")
    eligible: dict[StrictStr, Count] = Field(
        title="各层抽查对象户数", description="层名如抽取结果所写：按分层字段的值以“|”相连，如 企业|A、个体工商户|成长型|一人多照；不分层写 全部")
    batch: StrictInt | None = Field(None, ge=1, le=12, title="批次", description="分批的任务：第几批（1 起）；拆分样本时只计该批抽取的户数")
    earlier: dict[StrictStr, Count] = Field(
        default_factory=dict, title="前批已抽户数", description="拆分样本的任务：各层中前面批次已抽取的户数（含在 eligible 中）")


SITE_CHECK = "现场"


class TeamExpect(Model):
    size: StrictInt | None = Field(None, title="每组最少人数")
    departments: dict[StrictStr, StrictInt] = Field(default_factory=dict, title="各参与部门最少人数")


class VisitExpect(Model):
    mode: InspectionMode | None = Field(None, title="抽查检查模式")
    inspecting_unit: StrictStr | None = Field(None, title="检查单位", description="谁检查、谁录入、谁公开")
    departments: list[StrictStr] | None = Field(None, title="参与部门")
    department_units: dict[StrictStr, StrictStr] = Field(default_factory=dict, title="各参与部门的检查单位")
    joint: StrictBool | None = Field(None, title="跨部门联合")
    team: TeamExpect | None = Field(None, title="现场检查组", description="现场检查的检查组须有的人数")
    checks: dict[StrictStr, list[StrictStr]] | None = Field(
        None, title="各次检查的事项", description="“现场”为上门检查的事项；不上门的检查方式各列其事项")


class Expect(Model):
    in_scope: list[StrictStr] = Field(default_factory=list, title="应在这些任务的抽查范围内")
    not_in_scope: list[StrictStr] = Field(default_factory=list, title="应不在这些任务的抽查范围内")
    ratio: dict[StrictStr, Percent] = Field(default_factory=dict, title="抽查比例", description="该主体风险等级在任务中的确切比例")
    capped: dict[StrictStr, StrictBool | StrictStr] = Field(
        default_factory=dict, title="因频次上限排除",
        description="true/false，或应起作用的频次上限标识；因往年检查记录排除的写 recent（近期已检查）或 cycle（本周期已检查）")
    visit_items: list[StrictStr] | None = Field(None, title="合并检查事项", description="其所在全部任务合并为一次检查时的事项编码")
    visit: VisitExpect | None = Field(None, title="合并检查", description="参与部门、检查单位、检查组、各事项检查方式")
    date: Date | None = Field(None, title="期限届满日")
    drawn: dict[StrictStr, Count] = Field(default_factory=dict, title="各层抽取户数", description="sample 用例：各层实际抽取的户数（不超过该层户数）")
    total: Count | None = Field(None, title="抽取总户数", description="sample 用例：各层实际抽取户数之和")


class Case(Model):
    name: StrictStr = Field(title="用例名称")
    entity: Entity | None = Field(None, title="市场主体")  # type: ignore[valid-type]
    history: list[PastCheck] = Field(default_factory=list, title="已有检查记录", description="用于频次上限、近期未检查、每N年至少一次")
    drawn_on: Date | None = Field(
        None, title="抽取日期",
        description="用例所代表的抽取日期：“近N个月内未被抽查”从此日往前数，条件中的相对日期（“抽取日前1年”）按此计算；省略时为策略年度的1月1日")
    deadline: DeadlineQuery | None = Field(None, title="期限")
    sample: SampleQuery | None = Field(None, title="抽取户数", description="给出各层户数，检验抽查比例/数量条款算出的户数")
    expect: Expect = Field(title="预期结果")

    @model_validator(mode="after")
    def _shape(self) -> Case:
        e = self.expect
        about_entity = bool(e.in_scope or e.not_in_scope or e.ratio or e.capped or e.visit_items is not None
                            or e.visit is not None)
        about_sample = bool(e.drawn) or e.total is not None
        if sum(x is not None for x in (self.entity, self.deadline, self.sample)) != 1:
            raise ValueError("用例须且只须写 entity（市场主体）、deadline（期限）或 sample（抽取户数）之一")
        if (self.sample is not None) != about_sample:
            raise ValueError("抽取户数用例（sample）的 expect 写 drawn 或 total，且只有该类用例写")
        if self.entity is not None and (e.date is not None or not about_entity):
            raise ValueError("市场主体用例的 expect 应写 in_scope、not_in_scope、ratio、capped、visit_items 或 visit，不能写 date")
        if self.sample is not None and (about_entity or e.date is not None):
            raise ValueError("抽取户数用例的 expect 只写 drawn 或 total")
        if self.deadline is not None and (e.date is None or about_entity):
            raise ValueError("期限用例的 expect 只写 date")
        if self.history and self.entity is None:
            raise ValueError("history 只用于市场主体用例")
        return self


class CasesFile(Model):
    """Test cases for one policy."""

    policy: StrictStr = Field(title="策略文件", description="相对本文件的路径，如 2021.yaml")
    cases: list[Case] = Field(title="用例")
