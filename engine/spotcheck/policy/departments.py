"""Departments, who inspects, and where a task comes from: the policy data of joint plans.

A joint (“一业一查”) plan is run by several departments: the bureau's own 科室/股室 and other
agencies (烟草专卖局, 医保局, 教育局, 粮食部门 …). Each is declared once with its units, the
inspector directory says which department each officer belongs to (所属部门), and a task names the
department that initiates it, the one that leads it and its 配合部门. Who inspects is per task:
市抽市查 (the city draws, its own units inspect), 市抽县(区)查 (the city draws, the entity's district
units inspect), 县抽县查 (each district draws its own share and inspects it), optionally by a condition
on the entity (a task that is 市抽市查 for city-level bodies and 市抽县(区)查 for the rest).

These models stand apart from policy.model so the plan language for joint work reads in one place;
policy.model imports them into Task, Team and Policy.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, StrictStr
from spotcheck.rules.conditions import Condition


class _Model(BaseModel):
    # The same configuration as policy.model.Model, which imports this module.
    model_config = ConfigDict(extra="forbid", frozen=True)


OFFICE, AGENCY = "科室", "部门"


class Department(_Model):
    """One department taking part in the plan, with the units whose officers inspect for it."""

    id: StrictStr = Field(title="部门标识", description="任务和执法人员名录“所属部门”一栏用的简称，如 烟草、医保、信用监管科")
    name: StrictStr = Field(title="部门名称", description="如 长治市烟草专卖局")
    kind: Literal["科室", "部门"] = Field(
        "部门", title="类别", description="科室：本局科室/股室（同属本局，不构成跨部门）；部门：本局以外的部门（烟草专卖局、医保局……）")
    unit: StrictStr | None = Field(
        None, title="本级检查单位", description="市抽市查时检查的单位；不填：科室为本局，部门为部门名称")
    district_units: dict[StrictStr, StrictStr] = Field(
        default_factory=dict, title="下辖辖区检查单位",
        description="辖区代码 → 单位名称，市抽县(区)查、县抽县查时检查的单位；科室不填时用 jurisdiction.districts 的单位")


InspectionMode = Literal["市抽市查", "市抽县(区)查", "县抽县查"]
CITY_INSPECTS: frozenset[str] = frozenset({"市抽市查"})
DISTRICT_DRAWS: frozenset[str] = frozenset({"县抽县查"})


class Inspection(_Model):
    """抽查检查模式 for the entities a condition picks (all entities when `when` is empty)."""

    mode: InspectionMode = Field(title="抽查检查模式", description="市抽市查、市抽县(区)查、县抽县查")
    when: Condition | None = Field(None, title="适用主体（条件）", description="不填则适用于其余全部主体；按顺序取第一个适用的模式")


def _modes(value: Any) -> Any:
    # “市抽市查” alone is the common case; a list of modes with conditions is the general one.
    if isinstance(value, str):
        return [{"mode": value}]
    return value


Inspections = Annotated[list[Inspection], BeforeValidator(_modes)]


class Exclusion(_Model):
    """A task handed down by the parent policy that this policy does not carry out, with the reason."""

    task: StrictStr = Field(title="上级任务标识")
    reason: StrictStr = Field(title="不执行理由", description="如 本辖区无此类检查对象")


ORIGIN_BY_LEVEL = {"national": "国家计划", "province": "省计划", "city": "市计划", "district": "县计划"}


def within(code: str, region: str) -> bool:
    """Whether a jurisdiction (6-digit division code) is `region` or lies under it: 140105 is under 140100
    (太原市) and 140000 (山西省), not under 140200."""
    prefix = region.rstrip("0")
    prefix += "0" * (len(prefix) % 2)  # whole pairs: 110000 → 11, 140100 → 1401, 140105 → 140105
    return code.startswith(prefix)


def addressed_to(regions: list[str], code: str) -> bool:
    """Whether a task addressed to `regions` (none: everyone) is the business of the jurisdiction `code`."""
    return not regions or any(within(code, r) for r in regions)


# What a column of the plan table may show: a task field, or `cells.<栏目>` for a column the plan
# prints without a field of its own (基数, 目标数, 行业, 备注 …).
TABLE_SOURCES = {
    "no": "序号", "name": "抽查任务名称", "type": "抽查类型", "items": "抽查事项", "scope": "抽查对象范围",
    "sampling": "抽查比例/数量", "months": "抽取日期", "period": "抽查时间段", "initiator_guide": "发起主体/指导单位",
    "initiator": "发起主体", "guide": "指导单位", "inspecting_level": "抽查检查主体", "lead_unit": "牵头单位",
    "initiating_department": "发起部门", "lead_department": "牵头部门", "departments": "配合部门",
    "inspection": "抽查检查模式", "origin": "任务来源",
}
CELLS = "cells."


def _source(value: str) -> str:
    if value in TABLE_SOURCES or (value.startswith(CELLS) and len(value) > len(CELLS)):
        return value
    known = "、".join(f"{k}（{v}）" for k, v in TABLE_SOURCES.items())
    raise ValueError(f"栏目来源 {value!r} 不是任务字段；可用：{known}；计划表中没有对应字段的栏目写 cells.栏目名")


class TableColumn(_Model):
    """One column of the bureau's plan table, in the bureau's order."""

    title: StrictStr = Field(title="栏目名称", description="照原表，如 抽查基数和比例")
    source: Annotated[StrictStr, AfterValidator(_source)] = Field(
        title="栏目来源", description="任务字段（no、name、items、scope、sampling、period、departments、inspection、origin …）或 cells.栏目名")
    width: StrictInt = Field(10, ge=1, title="相对宽度")
    merged: list[list[StrictStr]] = Field(
        default_factory=list, title="合并单元格", description="原表在本栏纵向合并的各组相邻任务，如 [[t02, t03]]：只在第一行写一次")


class PlanTable(_Model):
    """The columns of one of a plan's several tables (a joint table and the bureau's own, each numbered from 1)."""

    title: StrictStr = Field(title="计划表标题", description="与该表各任务的 table 相同，如 跨部门联合抽查计划表")
    columns: list[TableColumn] = Field(title="栏目", description="按原表顺序列出该表的栏目")

