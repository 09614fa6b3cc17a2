"""Kinds of object a policy inspects and the risk scales it grades them on.

The national baseline declares the kinds (企业, 个体工商户, 农民专业合作社, 机关, 事业单位, 社会团体,
民办非企业单位 …), each with the GB 32100 registration codes its USCCs carry, and the scales (the
enterprise A–D scale); a jurisdiction adds kinds and scales or moves a kind to its own scale (个体工商户
分型分类). A kind with no scale is "不涉及信用风险分类": its rows need no tier.
"""

from __future__ import annotations

from pydantic import Field, StrictStr, field_validator

from spotcheck.policy.numbers import Model
from spotcheck.rules.fields import REGISTRATION_KINDS


class ObjectKind(Model):
    uscc_codes: list[StrictStr] = Field(
        title="登记管理部门和机构类别代码",
        description="统一社会信用代码第1—2位（GB 32100），如 91 企业、92 个体工商户、93 农民专业合作社、12 事业单位、52 民办非企业单位；"
                    "名录中该类对象的代码须与之相符")
    scale: StrictStr | None = Field(
        None, title="风险分类", description="scales 中的分类标识；不填为“不涉及信用风险分类”，该类对象不需要风险等级")
    text: StrictStr | None = Field(None, title="原文")

    @field_validator("uscc_codes")
    @classmethod
    def _known_codes(cls, codes: list[str]) -> list[str]:
        wrong = [c for c in codes if c not in REGISTRATION_KINDS]
        if wrong:
            raise ValueError(f"{'、'.join(wrong)} 不是 GB 32100 的登记管理部门和机构类别代码（如 91 企业、12 事业单位、52 民办非企业单位）")
        return codes


class Scale(Model):
    name: StrictStr = Field(title="分类名称", description="如 企业信用风险分类、个体工商户分型分类")
    values: dict[StrictStr, StrictStr] = Field(
        min_length=1, title="等级", description="等级及其含义，由低到高，如 A: 低风险；名录“信用风险等级”一栏写等级")
    text: StrictStr | None = Field(None, title="原文")


__all__ = ["ObjectKind", "Scale"]
