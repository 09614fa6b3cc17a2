"""Kinds of object a policy inspects and the risk scales it grades them on.

The national baseline declares the kinds (企业, 个体工商户, 农民专业合作社, 机关, 事业单位, 社会团体,
民办非企业单位 …), each with the GB 32100 registration codes its USCCs carry, and the scales (the
enterprise A–D scale); a jurisdiction adds kinds and scales or moves a kind to its own scale (个体工商户
分型分类). A kind with no scale is "不涉及信用风险分类": its rows need no tier.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

import re

from pydantic import Field, StrictBool, StrictStr, field_validator, model_validator

from spotcheck.policy.numbers import Model
from spotcheck.rules.fields import ENTITY_FIELDS, REGISTRATION_KINDS
from spotcheck.rules.fields import Field as EntityField


class Identity(Model):
    """How an object without a USCC of its own is told apart: a person's certificate number, or a site
    (库点, 门店) numbered under its holder's USCC."""

    name: StrictStr = Field(title="编号名称", description="名录“对象编号”一栏所写编号的名称，如 证书编号、库点编号")
    holder: StrictBool = Field(
        False, title="挂在持有人名下", description="true：对象编号在持有人（名录“统一社会信用代码”一栏）名下编排，如某企业的1号库点")
    pattern: StrictStr | None = Field(None, title="编号格式", description="编号须完全符合的正则表达式，如 ^[A-Z0-9]{8,20}$；不填则不限格式")
    text: StrictStr | None = Field(None, title="原文")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"编号格式不是有效的正则表达式：{exc}") from None
        return pattern


class ObjectKind(Model):
    uscc_codes: list[StrictStr] = Field(
        default_factory=list,
        title="登记管理部门和机构类别代码",
        description="统一社会信用代码第1—2位（GB 32100），如 91 企业、92 个体工商户、93 农民专业合作社、12 事业单位、52 民办非企业单位；"
                    "名录中该类对象的代码须与之相符；按编号识别且挂在持有人名下的，写持有人的代码；不挂在持有人名下的不写")
    identified_by: Identity | None = Field(
        None, title="识别方式", description="没有自己的统一社会信用代码的对象（执业人员、库点……）按此编号识别；不填则按统一社会信用代码识别")
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

    @model_validator(mode="after")
    def _codes_fit_identity(self) -> ObjectKind:
        by_own_number = self.identified_by is not None and not self.identified_by.holder
        if not self.uscc_codes and not by_own_number:
            raise ValueError("按统一社会信用代码识别（或挂在持有人名下）的对象类别须写 uscc_codes（代码第1—2位）")
        if self.uscc_codes and by_own_number:
            raise ValueError(f"按“{self.identified_by.name}”识别、不挂在持有人名下的对象没有统一社会信用代码，不写 uscc_codes")  # type: ignore[union-attr]
        return self


class Scale(Model):
    name: StrictStr = Field(title="分类名称", description="如 企业信用风险分类、个体工商户分型分类")
    values: dict[StrictStr, StrictStr] = Field(
        min_length=1, title="等级", description="等级及其含义，由低到高，如 A: 低风险；名录“信用风险等级”一栏写等级")
    text: StrictStr | None = Field(None, title="原文")


def declared_vocabulary(kinds: Iterable[str], scale_values: Iterable[str]) -> Mapping[str, EntityField]:
    """The entity fields with the kinds of object and scale values a jurisdiction declares added to
    those the engine knows, so its conditions may name them (a 库点, a sector's 一星…五星)."""
    kind, tier = ENTITY_FIELDS["type"], ENTITY_FIELDS["tier"]
    more_kinds = tuple(dict.fromkeys(k for k in kinds if k not in kind.accepted))
    more_values = tuple(dict.fromkeys(v for v in scale_values if v not in tier.accepted))
    if not more_kinds and not more_values:
        return ENTITY_FIELDS
    return {**ENTITY_FIELDS,
            "type": replace(kind, more_values=kind.more_values + more_kinds),
            "tier": replace(tier, more_values=tier.more_values + more_values)}


def document_vocabulary(data: Any) -> Mapping[str, EntityField]:
    """The vocabulary a policy document (parents merged) declares, read before it is validated: its
    conditions are checked against it, and a malformed `kinds` or `scales` is reported on its own."""
    if not isinstance(data, Mapping):
        return ENTITY_FIELDS
    kinds, scales = data.get("kinds"), data.get("scales")
    names = [k for k in kinds if isinstance(k, str)] if isinstance(kinds, Mapping) else []
    values = []
    for scale in scales.values() if isinstance(scales, Mapping) else ():
        graded = scale.get("values") if isinstance(scale, Mapping) else None
        values += [v for v in graded if isinstance(v, str)] if isinstance(graded, Mapping) else []
    return declared_vocabulary(names, values)


__all__ = ["Identity", "ObjectKind", "Scale", "declared_vocabulary", "document_vocabulary"]
