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

from pydantic import Field, StrictStr, field_validator

from spotcheck.policy.numbers import Model
from spotcheck.rules.fields import ENTITY_FIELDS, REGISTRATION_KINDS
from spotcheck.rules.fields import Field as EntityField


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


__all__ = ["ObjectKind", "Scale", "declared_vocabulary", "document_vocabulary"]
