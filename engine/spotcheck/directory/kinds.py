"""An entity directory checked against a policy's kinds of object and risk scales.

Each row's 主体类型 must be a kind the policy declares, must agree with the registration code its
USCC carries (GB 32100: 12 事业单位, 52 民办非企业单位, 91 企业 …) — a mismatch is reported by row and
column, never guessed — and its tier must be a value of its kind's scale, or empty for a kind the
policy grades on no scale. The checks run once per distinct (kind, code, tier), not per row.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from spotcheck.directory.load import ROW_PROBLEM_CAP, EntityDirectory, load_entities, load_objects
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.policy.model import Policy
from spotcheck.rules.fields import REGISTRATION_KINDS


def load_for(policy: Policy, path: str | Path) -> EntityDirectory:
    """The directory a draw under `policy` reads: checked against the policy's kinds when it declares any."""
    if not policy.kinds:
        return load_entities(path)
    entities = load_objects(path)
    problems = kind_problems(entities, policy)
    if problems:
        raise SpotcheckError(problems)
    return entities


def _verdict(policy: Policy, kind: str | None, code: str | None, tier: str | None) -> tuple[str, str, str, str] | None:
    """(code, field, message, hint) for one distinct combination, or None when it is right."""
    declared = policy.kinds.get(kind) if kind is not None else None
    if kind is None:
        return None  # an empty 主体类型 is already reported by the loader (D205)
    if declared is None:
        known = "、".join(policy.kinds)
        return ("D215", "type", f"主体类型“{kind}”不是策略声明的对象类别",
                f"可用的对象类别：{known}；新的类别须在策略 kinds 中声明（含统一社会信用代码第1—2位）")
    if code is not None and declared.uscc_codes and code not in declared.uscc_codes:
        registered = REGISTRATION_KINDS.get(code, "未知类别")
        return ("D216", "type", f"主体类型“{kind}”与统一社会信用代码第1—2位 {code}（{registered}）不符，"
                f"{kind}的代码应为 {'、'.join(declared.uscc_codes)}",
                "请核对主体类型或统一社会信用代码；系统不会按任一方猜测另一方")
    scale = policy.scales.get(declared.scale) if declared.scale is not None else None
    if scale is None and tier is not None:
        return ("D218", "tier", f"对象类别“{kind}”不涉及信用风险分类，信用风险等级应为空，此处为“{tier}”",
                "删去该行的风险等级，或在策略中为该类别指定风险分类（kinds → scale）")
    if scale is not None and tier is None:
        return ("D217", "tier", f"对象类别“{kind}”按“{scale.name}”分级，信用风险等级不能为空",
                f"填写 {'、'.join(scale.values)} 之一")
    if scale is not None and tier not in scale.values:
        return ("D217", "tier", f"“{tier}”不是“{scale.name}”的等级（对象类别“{kind}”）",
                f"填写 {'、'.join(scale.values)} 之一")
    return None


def kind_problems(entities: EntityDirectory, policy: Policy) -> list[Problem]:
    """Every row whose kind, registration code or tier disagrees with the policy, by row and column."""
    frame = entities.frame.select(
        pl.col("type").cast(pl.String), pl.col("uscc").str.slice(0, 2).alias("code"), pl.col("tier").cast(pl.String)
    )
    combos = frame.unique()
    bad = []
    for kind, code, tier in combos.iter_rows():
        verdict = _verdict(policy, kind, code, tier)
        if verdict is not None:
            bad.append({"type": kind, "code": code, "tier": tier, "_v": len(bad)})
            bad[-1]["verdict"] = verdict
    if not bad:
        return []
    verdicts = [b.pop("verdict") for b in bad]
    keys = pl.DataFrame(bad, schema={"type": pl.String, "code": pl.String, "tier": pl.String, "_v": pl.Int64})
    rows = (
        frame.with_columns(entities.source_rows.alias("_row"), entities.frame["uscc"])
        .join(keys, on=["type", "code", "tier"], how="inner", nulls_equal=True)
        .sort("_row")
    )
    problems = []
    for row, uscc, v in rows.select("_row", "uscc", "_v").head(ROW_PROBLEM_CAP).iter_rows():
        code, field, message, hint = verdicts[v]
        problems.append(Problem(code, f"{message}（统一社会信用代码 {uscc}）", file=str(entities.path), row=row,
                                column=entities.describe(field), hint=hint))
    if rows.height > ROW_PROBLEM_CAP:
        problems.append(Problem(verdicts[0][0], f"另有 {rows.height - ROW_PROBLEM_CAP} 行对象类别或风险等级与策略不符，未逐行列出",
                                file=str(entities.path), hint="改正以上各行后重新检查"))
    return problems


__all__ = ["kind_problems", "load_for"]
