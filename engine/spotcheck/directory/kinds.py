"""An entity directory checked against a policy's kinds of object and risk scales.

Each row's 主体类型 must be a kind the policy declares, must agree with the registration code its
USCC carries (GB 32100: 12 事业单位, 52 民办非企业单位, 91 企业 …) — a mismatch is reported by row and
column, never guessed — and its tier must be a value of its kind's scale, or empty for a kind the
policy grades on no scale. The checks run once per distinct (kind, code, tier), not per row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import polars as pl
from spotcheck.directory.load import ENTITY_SHEET, ROW_PROBLEM_CAP, EntityDirectory, Sheet, load_sheet, object_sheet
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.policy.model import Policy
from spotcheck.rules.fields import REGISTRATION_KINDS


def load_for(policy: Policy, path: str | Path, read: Callable[[str | Path, Sheet], EntityDirectory] = load_sheet) -> EntityDirectory:
    """The directory a draw under `policy` reads: checked against the policy's kinds when it declares any.

    Objects of a kind identified by a number of their own (identified_by) get that number as their key
    in the `uscc` column, which every later stage reads: "证书编号:T123" for a person, or the holder's
    code and the number, "91340225MA2N00000X/库点编号:KD01", for a site.

    `read` loads and checks the file's cells: this machine's loader, or Spark's (spotcheck.draw.spark)."""
    if not policy.kinds:
        return read(path, ENTITY_SHEET)
    numbered = any(k.identified_by is not None for k in policy.kinds.values())
    entities = read(path, object_sheet(numbered))
    problems = kind_problems(entities, policy)
    if numbered:
        found, entities = _keyed(entities, policy)
        problems += found
    if problems:
        raise SpotcheckError(problems)
    return entities


HOLDER_SEPARATOR = "/"


def key_text(key: str) -> str:
    """An object's key as a notice prints it after “统一社会信用代码：”: the code, the holder's code with
    the site's number, or a person's number."""
    holder, _, own = key.partition(HOLDER_SEPARATOR)
    if own:
        name, _, number = own.partition(":")
        return f"{holder}（{name} {number}）"
    name, sep, number = key.partition(":")
    return f"无（{name} {number}）" if sep else key


def _keyed(entities: EntityDirectory, policy: Policy) -> tuple[list[Problem], EntityDirectory]:
    """Each row checked against its kind's identity, and its key: the USCC, or the number it is known by."""
    frame = entities.frame.select(pl.col("type").cast(pl.String).alias("kind"), "uscc", "object_id")
    frame = frame.with_columns(entities.source_rows.alias("_row"))
    kind, code, number = pl.col("kind"), pl.col("uscc"), pl.col("object_id")
    numbered = {k: v.identified_by for k, v in policy.kinds.items() if v.identified_by is not None}
    key = pl.when(kind.is_in(list(numbered)).not_()).then(code)
    for name, how in numbered.items():
        own = pl.lit(f"{how.name}:") + number
        key = key.when(kind == name).then(code + pl.lit(HOLDER_SEPARATOR) + own if how.holder else own)
    frame = frame.with_columns(key.otherwise(None).alias("_key"))
    problems: list[Problem] = []

    def report(code_: str, bad: pl.Expr, field: str, words) -> None:
        hits = frame.filter(bad.fill_null(False)).sort("_row")
        for r in hits.head(ROW_PROBLEM_CAP).iter_rows(named=True):
            message, hint = words(r)
            problems.append(Problem(code_, message, file=str(entities.path), row=r["_row"], column=entities.describe(field), hint=hint))
        if hits.height > ROW_PROBLEM_CAP:
            problems.append(Problem(code_, f"另有 {hits.height - ROW_PROBLEM_CAP} 行存在同类问题，未逐行列出",
                                    file=str(entities.path), column=entities.describe(field)))

    declared = kind.is_in(list(policy.kinds))
    by_code = declared & ~kind.is_in([k for k, how in numbered.items() if not how.holder])
    report("D240", by_code & code.is_null(), "uscc", lambda r: (
        f"对象类别“{r['kind']}”" + ("挂在持有人名下，须写持有人的统一社会信用代码" if r["kind"] in numbered else "按统一社会信用代码识别，代码不能为空"),
        "填写统一社会信用代码；没有代码的对象须在策略 kinds 中声明识别方式（identified_by）"))
    if "object_id" not in entities.headers:
        if frame.filter(kind.is_in(list(numbered))).height:
            names = "、".join(dict.fromkeys(how.name for how in numbered.values()))
            problems.append(Problem("D241", f"名录没有“对象编号”一栏，按编号识别的对象（{'、'.join(numbered)}）无法识别",
                                    file=str(entities.path), hint=f"加一栏“对象编号”（或“{names}”），填写各对象的编号"))
    else:
        report("D241", kind.is_in(list(numbered)) & number.is_null(), "object_id", lambda r: (
            f"对象类别“{r['kind']}”按“{numbered[r['kind']].name}”识别，编号不能为空", f"填写该对象的{numbered[r['kind']].name}"))
        for name, how in numbered.items():
            if how.pattern is not None:
                report("D242", (kind == name) & ~number.str.contains(f"^(?:{how.pattern})$"), "object_id", lambda r, how=how: (
                    f"'{r['object_id']}' 不是有效的{how.name}（对象类别“{r['kind']}”）", f"{how.name}须符合策略中的格式 {how.pattern}"))
    firsts = frame.filter(pl.col("_key").is_not_null()).group_by("_key").agg(pl.col("_row").min().alias("_first"))
    frame = frame.join(firsts, on="_key", how="left", maintain_order="left")
    report("D243", pl.col("_key").is_not_null() & (pl.col("_row") != pl.col("_first")), "object_id" if "object_id" in entities.headers else "uscc",
           lambda r: (f"对象 '{key_text(r['_key'])}' 重复：第 {r['_first']} 行与第 {r['_row']} 行",
                      "同一对象只能出现一次（同一持有人的库点编号不能重复），请删除重复行或核对编号"))
    keyed = entities.frame.with_columns(frame["_key"].alias("uscc"))
    return problems, replace(entities, frame=keyed)



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
    keys, verdicts = kind_verdicts(policy, frame.unique().iter_rows())
    if not verdicts:
        return []
    rows = (
        frame.with_columns(entities.source_rows.alias("_row"), entities.frame["uscc"])
        .join(keys, on=["type", "code", "tier"], how="inner", nulls_equal=True)
        .sort("_row")
    )
    return kind_row_problems(rows.select("_row", "uscc", "_v").head(ROW_PROBLEM_CAP), rows.height, verdicts, entities.path,
                             entities.describe)


def kind_verdicts(policy: Policy, combos) -> tuple[pl.DataFrame, list[tuple[str, str, str, str]]]:
    """The distinct (kind, code, tier) that disagree with the policy, each with `_v`, its verdict's index.

    Taken in a fixed order, so the closing problem's code is the same however the combinations were found."""
    bad, verdicts = [], []
    for kind, code, tier in sorted(combos, key=lambda c: tuple((v is None, v or "") for v in c)):
        verdict = _verdict(policy, kind, code, tier)
        if verdict is not None:
            bad.append({"type": kind, "code": code, "tier": tier, "_v": len(bad)})
            verdicts.append(verdict)
    return pl.DataFrame(bad, schema={"type": pl.String, "code": pl.String, "tier": pl.String, "_v": pl.Int64}), verdicts


def kind_row_problems(rows: pl.DataFrame, total: int, verdicts: list[tuple[str, str, str, str]], path: Path,
                      describe: Callable[[str], str]) -> list[Problem]:
    """The problems of the first bad rows (`_row`, `uscc`, `_v`, by row), and one for the other `total` less those."""
    problems = []
    for row, uscc, v in rows.select("_row", "uscc", "_v").iter_rows():
        code, field, message, hint = verdicts[v]
        problems.append(Problem(code, f"{message}（统一社会信用代码 {uscc}）", file=str(path), row=row,
                                column=describe(field), hint=hint))
    if total > ROW_PROBLEM_CAP:
        problems.append(Problem(verdicts[0][0], f"另有 {total - ROW_PROBLEM_CAP} 行对象类别或风险等级与策略不符，未逐行列出",
                                file=str(path), hint="改正以上各行后重新检查"))
    return problems


__all__ = ["HOLDER_SEPARATOR", "key_text", "kind_problems", "kind_row_problems", "kind_verdicts", "load_for"]
