"""抽查比例/数量 as officers write them, and the one definition of how many a task draws.

A plan's sampling clause is data: a ratio with its bound (不低于 / 不高于 / exact), a fixed count, a
minimum count, the plan's stated 抽查基数 and 抽查目标数, rules that depend on the size of the
population ("不足50户的全部抽查，50户以上的不低于10%"), classes of entities with their own ratio,
multiplier or weight (hospital grade, 一人多照), per-tier rules that override the policy's, and
"N次/年". `rates` and `totals` are used by the draw and by `spotcheck test` alike, so a case and a
draw can never disagree about a task's ratio.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from math import ceil, floor
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from spotcheck.policy.cadence import Cycle
from spotcheck.policy.numbers import (
    Count,
    Limit,
    Model,
    Multiplier,
    Percent,
    PositiveCount,
    PositivePercent,
    once_each,
    percent_fraction,
)
from spotcheck.rules.conditions import Condition

Bound = Literal["不低于", "不高于", "等于"]
# Fields a task may stratify its draw by: each distinct value is a stratum with its own quota.
Stratum = Literal["tier", "district", "type", "industry", "office", "grid"]
STRATUM_WORDS = {"tier": "风险等级", "district": "辖区", "type": "对象类别", "industry": "行业", "office": "管辖单位", "grid": "网格"}


class TierRule(Model):
    label: StrictStr | None = Field(None, title="等级名称")
    multiplier: Multiplier | None = Field(None, title="比例倍数", description="任务比例乘以该倍数（不超过100%）")
    ratio: Percent | None = Field(None, title="等级比例", description="该等级统一的抽查比例")
    weight: Multiplier | None = Field(
        None, title="递加权重",
        description="“按风险等级递加比例抽取”且总数固定时，各等级按 权重×户数 分配总数（如 A 1、B 2、C 3、D 4）")
    max_checks_per_year: Limit | None = Field(None, title="年度抽查次数上限")


class Stated(Model):
    """A number the plan prints beside the ratio: 抽查基数 or 抽查目标数."""

    count: Count = Field(title="户数")
    text: StrictStr | None = Field(None, title="原文", description="计划表中的原话，如“全市抽查基数约40065户（动态更新）”")


class SizeRule(Model):
    """One band of a rule that depends on the population: "不足50户的全部抽查"."""

    below: Count | None = Field(None, title="不足（户）", description="适用于抽查对象不足该户数时")
    from_: Count | None = Field(None, alias="from", title="起（户）", description="适用于抽查对象达到该户数（含）时")
    all: StrictBool = Field(False, title="全部抽查")
    ratio: Percent | None = Field(None, title="抽查比例")
    at_most: StrictBool = Field(False, title="不高于", description="比例为上限（“不高于10%”）")
    exact: StrictBool = Field(False, title="确切比例", description="比例既非上限也非下限（“抽查比例为20%”）")
    count: Count | None = Field(None, title="抽查户数", description="该档抽查的户数（“抽查5户”）")
    min_count: Count | None = Field(None, title="最少户数")
    text: StrictStr | None = Field(None, title="原文")

    @model_validator(mode="after")
    def _one_rule(self) -> SizeRule:
        given = [name for name, v in (("all", self.all or None), ("ratio", self.ratio), ("count", self.count)) if v is not None]
        if len(given) != 1:
            raise ValueError("每一档须且只须写 all（全部抽查）、ratio（比例）或 count（户数）之一")
        if self.below is not None and self.from_ is not None and self.from_ >= self.below:
            raise ValueError(f"from（{self.from_}户）须小于 below（{self.below}户）")
        return self

    def covers(self, n: int) -> bool:
        return (self.below is None or n < self.below) and (self.from_ is None or n >= self.from_)

    def range_text(self) -> str:
        if self.from_ is None and self.below is not None:
            return f"不足{self.below}户"
        if self.below is None and self.from_ is not None:
            return f"{self.from_}户以上"
        if self.from_ is not None and self.below is not None:
            return f"{self.from_}户至不足{self.below}户"
        return "任何户数"


class SampleClass(Model):
    """Entities a condition picks out, with their own ratio, multiplier or weight (hospital grade, 一人多照)."""

    id: StrictStr = Field(title="类别标识")
    name: StrictStr = Field(title="类别名称", description="如 三级定点医疗机构、一人多照")
    when: Condition = Field(title="适用主体（条件）")
    ratio: Percent | None = Field(None, title="抽查比例", description="该类别自己的比例，代替任务比例")
    multiplier: Multiplier | None = Field(None, title="比例倍数", description="“加大抽查力度”：该类别按任务比例乘以倍数（最高100%）")
    weight: Multiplier | None = Field(None, title="分配权重", description="总数固定时，该类别按 权重×户数 分得更多")
    count: PositiveCount | None = Field(
        None, title="抽查户数", description="分配表给该类别的户数（如各县区抽查数量分配表）：从该类别抽取这么多户，不足时全部抽取并报告差额")
    text: StrictStr | None = Field(None, title="原文")

    @model_validator(mode="after")
    def _one_number(self) -> SampleClass:
        if self.ratio is None and self.multiplier is None and self.weight is None and self.count is None:
            raise ValueError(f"类别“{self.name}”须写 ratio（比例）、multiplier（倍数）、weight（权重）或 count（户数）")
        if self.count is not None and (self.ratio is not None or self.multiplier is not None or self.weight is not None):
            raise ValueError(f"类别“{self.name}”写了户数（count），不再写比例、倍数或权重")
        return self


def _conflicts(data: Any) -> list[str]:
    """Cross-field problems of a sampling block, read from the block as written."""
    if not isinstance(data, dict):
        return []
    given = [k for k in ("ratio", "count", "by_size", "from_list", "unstated") if data.get(k) not in (None, [], {})]
    out = []
    # “A3% B4% C5% D6%”: a ratio for each tier and none for the task is a rule of its own.
    tiers = data.get("tiers") if isinstance(data.get("tiers"), dict) else {}
    tier_ratios = bool(data.get("by_tier")) or any(isinstance(r, dict) and r.get("ratio") is not None for r in tiers.values())
    if not given and tier_ratios:
        weights = any(isinstance(r, dict) and r.get("weight") is not None for r in tiers.values())
        if data.get("target") is not None or weights:
            out.append("只写了各等级的比例、没有任务比例时，没有可按 户数×权重 分配的总数：不写目标数（target）或权重（weight）；"
                       "计划表中与各级比例并列的户数写作 expected（计划抽取户数）")
    classes = data.get("classes") if isinstance(data.get("classes"), list) else []
    counted = [c for c in classes if isinstance(c, dict) and c.get("count") is not None]
    if counted and any(data.get(k) not in (None, [], False) for k in ("count", "target", "by_size", "from_list")):
        out.append("按类别分配户数（classes 的 count）时，任务不再写总数（count、target）、按规模的规则（by_size）或名单（from_list）")
    cycle = data.get("once_in_years") is not None
    # An unknown key is reported as such, with its did-you-mean; it is most likely the missing one.
    # A task whose classes are all given counts (各县区抽查数量分配表) needs no rule of its own.
    if (not given and classes and len(counted) == len(classes)) or (not given and tier_ratios):
        pass
    elif not given and not cycle and not set(data) - set(Sampling.model_fields):
        out.append("须填写抽查比例（ratio）、抽查数量（count）、按规模的规则（by_size）或按名单抽查（from_list）之一；"
                   "计划未写明比例时照录原话写作 unstated")
    elif cycle and given:
        out.append(f"每N年至少抽查一次（once_in_years）由周期决定每年抽多少，不再写 {'、'.join(given)}")
    elif len(given) > 1:
        out.append(f"{'、'.join(given)} 只能填写一项：比例与户数同时出现时，户数写作 min_count（最少户数）或 "
                   "target（计划的抽查目标数），按规模变化的写作 by_size；按名单抽查时户数以名单为准")
    if data.get("at_least") is True and data.get("at_most") is True:
        out.append("at_least（不低于）与 at_most（不高于）不能同时为 true")
    if data.get("count") is not None and data.get("min_count") is not None:
        out.append("固定数量（count）不需要最少户数（min_count）")
    if data.get("ratio_max") is not None:
        others = [k for k in ("count", "by_size", "from_list", "once_in_years") if data.get(k) not in (None, [], {})]
        if others:
            out.append(f"比例上限（ratio_max）只用于按比例抽取，不与 {'、'.join(others)} 同用")
        elif data.get("ratio") is None:
            out.append("比例上限（ratio_max）须与比例（ratio）同用：区间“3%—5%”写作 ratio: \"3%\" 和 ratio_max: \"5%\"")
        if data.get("at_most") is True:
            out.append("at_most（不高于）已把比例作为上限，不再写比例上限（ratio_max）")
        if data.get("at_least") is False:
            out.append("确切比例（at_least: false）没有区间，不再写比例上限（ratio_max）")
    if data.get("from_list") is not None and any(data.get(k) is not None for k in ("min_count", "target", "base")):
        out.append("按名单抽查（from_list）以名单为准，不写最少户数（min_count）、目标数（target）或基数（base）")
    if data.get("unstated") is not None and any(data.get(k) is not None for k in ("min_count", "target", "min_per_stratum")):
        out.append("比例未写明（unstated）时不能写最少户数（min_count、min_per_stratum）或目标数（target）")
    if data.get("count") is not None and data.get("target") is not None:
        out.append("固定数量（count）即抽查户数，不再写目标数（target）")
    if data.get("times_at_least") is True and data.get("times_per_year") is None:
        out.append("“至少N次”（times_at_least）须与每年次数（times_per_year）同用")
    return out


class Sampling(Model):
    """抽查比例/数量 as the plan writes it: "不低于5%", "100%", a fixed number, "不低于5%，2次/年", "3%—5%",
    "不高于10%", "抽查基数约40065户，比例不低于3%，目标数1200户", "不足50户的全部抽查，50户以上的不低于10%"."""

    ratio: PositivePercent | None = Field(None, title="抽查比例")
    at_least: StrictBool | None = Field(
        None, title="不低于", description="true：比例或数量为下限（“不低于5%”，默认）；false：确切比例（“抽查比例为20%”）")
    at_most: StrictBool = Field(False, title="不高于", description="比例或数量为上限（“不高于10%”）：按比例向下取整，不补足1户")
    ratio_max: PositivePercent | None = Field(
        None, title="比例上限",
        description="比例写成区间时的上限（“3%—5%”“不低于10%，不高于30%”）：按 ratio 抽取，按信用等级、类别的倍数提高后的比例"
                    "不超过此数；各等级、类别写明的比例须在区间内；户数规定（min_count、target、min_per_stratum）不受此限")
    count: PositiveCount | None = Field(None, title="抽查数量", description="固定户数，代替比例")
    min_count: Count | None = Field(None, title="最少户数", description="按比例算出的户数少于此数时抽此数（不超过对象户数）")
    min_per_stratum: PositiveCount | None = Field(
        None, title="每层最少户数", description="“各县（市、区）抽查不少于20户”：每一层（按 stratify 分出的辖区、行业……）至少抽此数，该层不足时全部抽取")
    base: Stated | None = Field(None, title="抽查基数", description="计划写明的基数；抽取时报告名录实际户数与之比较")
    target: Stated | None = Field(
        None, title="抽查目标数", description="计划写明的目标户数；与比例同为下限时取两者较大者，比例为上限时取较小者")
    expected: Stated | None = Field(
        None, title="计划抽取户数",
        description="计划表按比例估出、与比例并列的户数（如“抽取对象数(户) 18”“1户(以实际工作抽查数为准)”）：不改变抽取数，"
                    "抽取时报告按名录算出的户数与之比较；要作为下限的写 target")
    by_size: list[SizeRule] = Field(default_factory=list, title="按规模的规则", description="随抽查对象户数变化的比例或户数，各档不重叠")
    unstated: StrictStr | None = Field(
        None, title="比例未写明",
        description="计划没有写出比例或数量时照录原话（如“抽取一定比例”），或注明原表在此截断；不编造数字：这部分主体不抽取，"
                    "抽取结果逐层说明；classes 中写明比例的类别照常抽取")
    from_list: StrictStr | None = Field(
        None, title="按名单抽查", description="lists 中的名单标识：抽查名单上在抽查范围内的全部主体（如“以联合双随机牵头单位抽查数为准”）")
    times_per_year: Annotated[StrictInt, Field(ge=1, le=12)] | None = Field(None, title="每年次数", description="“2次/年”")
    times_at_least: StrictBool = Field(
        False, title="至少", description="true：“每年至少N次”：按 times_per_year 次安排抽取，另加的抽取须经批准（--override-reason）")
    once_in_years: Cycle | None = Field(
        None, title="每N年至少抽查一次",
        description="“每3年至少抽查一次”“3年内全覆盖”：每年抽取本周期尚未检查的主体的 1/剩余年数（按台账中的检查记录）；不再写 ratio、count")
    by_tier: dict[StrictStr, Percent] = Field(default_factory=dict, title="分级比例", description="各信用风险等级的抽查比例，覆盖倍数")
    tiers: dict[StrictStr, TierRule] = Field(
        default_factory=dict, title="本任务的分级规则", description="本任务各等级的比例、倍数或权重，覆盖策略 risk.tiers 中同一等级的规定")
    tier_kinds: list[StrictStr] = Field(
        default_factory=list, title="分级规则适用的对象类别",
        description="分级规则只用于这些对象类别（如只对企业“按A、B、C、D类递加”）；须与 stratify 中的 type 同用；不填则用于所有类别")
    classes: list[SampleClass] = Field(default_factory=list, title="分类抽查", description="按条件划出的类别及其比例、倍数或权重；主体归入第一个符合的类别")
    stratify: Annotated[list[Stratum], AfterValidator(once_each)] = Field(
        default_factory=lambda: ["tier"], title="分层", description="按风险等级、辖区、对象类别、行业、管辖单位（市场监管所）或网格分层抽取",
        json_schema_extra={"uniqueItems": True})
    text: StrictStr | None = Field(None, title="原文", description="计划表中抽查比例一栏的原话")

    @model_validator(mode="wrap")
    @classmethod
    def _all_problems(cls, data: Any, handler: Any) -> Sampling:
        # Cross-field problems are found on the block as written, so they are reported together with
        # the problems of its fields rather than only after those are fixed.
        conflicts = _conflicts(data)
        try:
            model = handler(data)
        except ValidationError as exc:
            if not conflicts:
                raise
            details = [InitErrorDetails(type=e["type"], loc=e["loc"], input=e["input"], **({"ctx": e["ctx"]} if e.get("ctx") else {}))
                       for e in exc.errors()]
            details += [InitErrorDetails(type=PydanticCustomError("value_error", c), loc=(), input=data) for c in conflicts]
            raise ValidationError.from_exception_data(cls.__name__, details) from None
        if conflicts:
            raise ValueError("；".join(conflicts))
        model._check_bands()
        model._check_range()
        if model.ratio is None and model.tier_ratios and "tier" not in model.stratify and not model.unstated:
            raise ValueError("只写了各等级的比例（tiers 的 ratio 或 by_tier）时须按风险等级分层：在 stratify 中加入 tier")
        if model.tier_kinds and "type" not in model.stratify:
            raise ValueError("tier_kinds（分级规则适用的对象类别）须与 stratify 中的 type（按对象类别分层）同用")
        return model

    def _check_bands(self) -> None:
        bands = sorted(self.by_size, key=lambda b: b.from_ or 0)
        for a, b in pairwise(bands):
            if a.below is None or (b.from_ or 0) < a.below:
                raise ValueError(f"按规模的规则“{a.range_text()}”与“{b.range_text()}”重叠")
            if b.from_ is not None and b.from_ > a.below:
                raise ValueError(f"按规模的规则在 {a.below} 户至 {b.from_} 户之间没有规定")
        if bands and ((bands[0].from_ or 0) > 0 or bands[-1].below is not None):
            raise ValueError("按规模的规则须覆盖所有户数：第一档不写 from，最后一档不写 below")

    def _check_range(self) -> None:
        cap = self.ratio_max
        if cap is None:
            return
        if self.ratio is not None and cap < self.ratio:
            raise ValueError(f"比例上限（ratio_max）{cap.normalize():f}% 低于比例（ratio）{self.ratio.normalize():f}%")
        stated = [(f"{k}级", r) for k, r in self.tier_ratios.items()] + [(f"类别“{c.name}”", c.ratio) for c in self.classes if c.ratio is not None]
        over = [f"{who}{r.normalize():f}%" for who, r in stated if r > cap]
        if over:
            raise ValueError(f"{'、'.join(over)} 超过比例上限（ratio_max）{cap.normalize():f}%：计划写明的比例须在区间内")

    @property
    def bound(self) -> Bound:
        if self.at_most:
            return "不高于"
        return "等于" if self.at_least is False else "不低于"

    @property
    def fixed_total(self) -> bool:
        """Whether the task draws a total over all its strata rather than a ratio per stratum."""
        return (self.count is not None or self.target is not None or self.weighted or bool(self.by_size)
                or self.from_list is not None)

    @property
    def tier_ratios(self) -> dict[str, Decimal]:
        """The ratios this task states tier by tier (by_tier, or its tiers' own ratio)."""
        out = {k: r.ratio for k, r in self.tiers.items() if r.ratio is not None}
        return {**out, **self.by_tier}

    @property
    def ratio_rule(self) -> bool:
        """Whether each stratum draws a ratio: the task's, its tiers' own, or none stated (unstated)."""
        return not self.fixed_total and (self.ratio is not None or self.unstated is not None or bool(self.tier_ratios))

    @property
    def weighted(self) -> bool:
        """Whether a fixed total is shared among strata by weight (递加 under a fixed total)."""
        return any(r.weight is not None for r in self.tiers.values()) or any(c.weight is not None for c in self.classes)


# ---------------------------------------------------------------- the one definition of a task's numbers


def _pct(f: Fraction | Decimal) -> str:
    value = Decimal(f.numerator * 100) / Decimal(f.denominator) if isinstance(f, Fraction) else f
    return f"{value.normalize():f}%"


def bounded_count(ratio: Fraction, eligible: int, bound: str) -> int:
    """How many a ratio asks of `eligible` entities: 不低于 and exact round up and take at least one from a
    non-empty population; 不高于 rounds down and never rounds a small population up to one."""
    if eligible <= 0 or ratio <= 0:
        return 0
    if bound == "不高于":
        return min(eligible, floor(ratio * eligible))
    return max(1, min(eligible, ceil(ratio * eligible)))


@dataclass(frozen=True)
class Rule:
    """What a task asks of a population of `eligible` entities: a ratio (with its bound) or a total."""

    ratio: Fraction | None
    bound: str
    count: int | None  # a fixed count (the plan's count, or a band's)
    min_count: int | None
    words: tuple[str, ...]  # where each number comes from, in the plan's words


def size_rule(s: Sampling, eligible: int, year: int | None = None) -> Rule:
    """The rule that holds for a population of `eligible` entities: the task's own, or its size band's;
    for "每N年至少抽查一次", 1/(years left in the cycle of `year`) of those not yet checked in it."""
    if s.once_in_years is not None and year is not None:
        _, left = s.once_in_years.position(year)
        return Rule(Fraction(1, left), "不低于", None, s.min_count, (s.once_in_years.words(year),))
    if not s.by_size:
        ratio = percent_fraction(s.ratio) if s.ratio is not None else None
        return Rule(ratio, s.bound, s.count, s.min_count, (f"抽查比例/数量：{sampling_text(s)}",))
    band = next(b for b in s.by_size if b.covers(eligible))
    said = f"按规模：抽查对象{eligible}户，适用“{band.text or band.range_text()}”"
    if band.all:
        return Rule(Fraction(1), "等于", None, None, (said + "（全部抽查）",))
    bound = "不高于" if band.at_most else "等于" if band.exact else "不低于"
    ratio = percent_fraction(band.ratio) if band.ratio is not None else None
    return Rule(ratio, bound, band.count, band.min_count or s.min_count, (said,))


def stratum_ratio(s: Sampling, risk_tiers: Mapping[str, TierRule], base: Fraction | None, tier: str | None,
                  klass: SampleClass | None) -> tuple[Fraction, list[str]]:
    """The exact ratio of one stratum. Precedence: the class's own ratio; the task's per-tier ratio; the
    task's tier rule, then the policy's (ratio, else the base times the multiplier); the base. A class
    multiplier then applies. Capped at 100%. `tier` is None when the task does not stratify by tier,
    so tier rules never touch such a task. `base` is None when the plan states no ratio (unstated): a
    stratum no stated number reaches is not drawn, never given an invented one."""
    words = []
    r: Fraction | None = base
    if tier is not None:
        rule = s.tiers.get(tier) or risk_tiers.get(tier)
        whose = "本任务" if tier in s.tiers else "策略"
        if tier in s.by_tier:
            r = percent_fraction(s.by_tier[tier])
            words.append(f"{tier}级按本任务分级比例{_pct(r)}")
        elif rule is not None and rule.ratio is not None:
            r = percent_fraction(rule.ratio)
            words.append(f"{tier}级按{whose}等级比例{_pct(r)}")
        elif rule is not None and rule.multiplier is not None and base is not None:
            r = base * Fraction(rule.multiplier)
            words.append(f"{tier}级按{whose}规定为任务比例的{rule.multiplier.normalize():f}倍")
    if klass is not None:
        if klass.ratio is not None:
            r = percent_fraction(klass.ratio)
            words.append(f"“{klass.name}”按类别比例{_pct(r)}")
        if klass.multiplier is not None and r is not None:
            r = r * Fraction(klass.multiplier)
            words.append(f"“{klass.name}”按{klass.multiplier.normalize():f}倍")
    if r is None and s.unstated is None:
        stated = "、".join(s.tier_ratios)
        return Fraction(0), [*words, f"计划只写明了{stated}级的比例，{'本层' if tier is None else f'{tier}级'}不抽取"]
    if r is None:
        return Fraction(0), [*words, f"计划未写明比例（“{s.unstated}”），不抽取"]
    if s.ratio_max is not None and r > (cap := percent_fraction(s.ratio_max)):
        words.append(f"按比例区间最高{_pct(cap)}")
        return cap, words
    if r > 1:
        words.append("最高100%")
    return min(Fraction(1), r), words


def stratum_weight(s: Sampling, risk_tiers: Mapping[str, TierRule], tier: str | None, klass: SampleClass | None) -> Fraction:
    """A stratum's weight when a fixed total is shared (1 unless a tier rule or class gives one)."""
    w = Fraction(1)
    if tier is not None:
        rule = s.tiers.get(tier) or risk_tiers.get(tier)
        if rule is not None and rule.weight is not None:
            w *= Fraction(rule.weight)
    if klass is not None and klass.weight is not None:
        w *= Fraction(klass.weight)
    return w


def total_for(rule: Rule, s: Sampling, eligible: int) -> tuple[int, list[str]]:
    """The task's total over all its strata when the total is fixed (a count, a target, or shared by weight)."""
    words = []
    if rule.count is not None:
        return rule.count, words
    assert rule.ratio is not None  # a Rule has a ratio or a count (Sampling's validator)
    by_ratio = bounded_count(rule.ratio, eligible, rule.bound)
    words.append(f"名录中抽查对象{eligible}户×{_pct(rule.ratio)}（{rule.bound}）={_count_words(rule.ratio, eligible, rule.bound)}")
    total = by_ratio
    if s.target is not None:
        t = s.target.count
        total = min(by_ratio, t) if rule.bound == "不高于" else max(by_ratio, t)
        words.append(f"计划目标数{t}户（{s.target.text or '目标数'}），取{'较小' if rule.bound == '不高于' else '较大'}者{total}户")
    if rule.min_count is not None and total < rule.min_count:
        total = min(eligible, rule.min_count)
        words.append(f"不少于{rule.min_count}户，取{total}户")
    return total, words


def _count_words(ratio: Fraction, eligible: int, bound: str) -> str:
    exact = ratio * eligible
    n = bounded_count(ratio, eligible, bound)
    if exact.denominator == 1:
        return f"{n}户"
    way = "向下取整" if bound == "不高于" else "向上取整"
    shown = (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(Decimal("0.01"))
    return f"{shown}户，{way}为{n}户"


def expected_comparison(s: Sampling, wanted: int) -> dict | None:
    """How the count the rule gives compares with the count the plan printed beside its ratios (None if none)."""
    if s.expected is None:
        return None
    stated = s.expected.count
    said = "相同" if wanted == stated else f"{'多' if wanted > stated else '少'}{abs(wanted - stated)}户"
    return _compared(s.expected, "wanted", wanted, f"计划抽取户数{stated}户，按名录和比例应抽{wanted}户，{said}")


def base_comparison(s: Sampling, eligible: int) -> dict | None:
    """How the directory's population compares with the plan's stated 基数 (None if the plan states none)."""
    if s.base is None:
        return None
    stated = s.base.count
    return _compared(s.base, "directory", eligible,
                     f"计划基数{stated}户，名录中抽查对象{eligible}户，{'多' if eligible >= stated else '少'}{abs(eligible - stated)}户")


def _compared(stated: Stated, key: str, value: int, words: str) -> dict:
    return {"stated": stated.count, "text": stated.text, key: value, "difference": value - stated.count, "words": words}


def sampling_text(s: Sampling) -> str:
    """抽查比例 as officers write it: 不低于5%, 100%, 50%, 不低于5%，2次/年, 10户, 不高于10%."""
    if s.text is not None:
        return s.text
    if s.from_list is not None:
        return f"按名单（{s.from_list}）全部抽查"
    if s.unstated is not None and s.ratio is None:
        return s.unstated
    if s.once_in_years is not None:
        head = s.once_in_years.text or f"每{s.once_in_years.years}年至少抽查一次"
    elif s.by_size:
        head = "，".join(b.text or _band_text(b) for b in s.by_size)
    elif s.count is not None:
        head = f"{s.count}户"
    elif s.ratio is None and s.tier_ratios:
        head = "、".join(f"{k}级{v.normalize():f}%" for k, v in s.tier_ratios.items())
    else:
        pct = f"{s.ratio.normalize():f}%" if s.ratio is not None else ""
        if s.ratio_max is not None:
            head = f"{pct}—{s.ratio_max.normalize():f}%"
        else:
            head = pct if s.bound == "等于" or s.ratio == 100 else f"{s.bound}{pct}"
    if s.min_count is not None:
        head += f"，不少于{s.min_count}户"
    if s.min_per_stratum is not None:
        head += f"，每{'、'.join(STRATUM_WORDS[x] for x in s.stratify) or '层'}不少于{s.min_per_stratum}户"
    if s.times_per_year:
        head += f"，{'至少' if s.times_at_least else ''}{s.times_per_year}次/年"
    return head


def _band_text(b: SizeRule) -> str:
    if b.all:
        return f"{b.range_text()}的全部抽查"
    if b.count is not None:
        return f"{b.range_text()}的抽查{b.count}户"
    bound = "不高于" if b.at_most else "" if b.exact else "不低于"
    return f"{b.range_text()}的{bound}{b.ratio.normalize():f}%"  # type: ignore[union-attr]


__all__ = ["Bound", "Rule", "SampleClass", "Sampling", "SizeRule", "Stated", "TierRule", "base_comparison",
           "bounded_count", "expected_comparison", "sampling_text", "size_rule", "stratum_ratio", "stratum_weight", "total_for"]
