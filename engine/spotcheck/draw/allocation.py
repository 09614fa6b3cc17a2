"""How many to draw from each stratum, in exact arithmetic.

Officers write "不低于5%": the count is ceil(r·N) computed on Fractions (in floats ceil(0.07×100) is 8).
A stratum that has entities and a positive ratio always yields at least one, never more than it has;
"不高于10%" is floor(r·N) and never rounds a small stratum up. A fixed total is shared among strata
in proportion to their size times their weight (按风险等级递加 under the plan's total) by largest
remainder, no stratum given more than it has; a shortfall is reported, not hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import floor

from spotcheck.policy.sampling import bounded_count


@dataclass(frozen=True)
class Quota:
    stratum: str
    eligible: int
    ratio: Fraction | None  # None for a share of a fixed count
    wanted: int  # what the plan asks for
    drawn: int  # what can be drawn: min(wanted, eligible)

    @property
    def shortfall(self) -> int:
        return self.wanted - self.drawn


def ratio_count(ratio: Fraction, eligible: int, bound: str = "不低于") -> int:
    """ceil(ratio × eligible), at least one from a non-empty stratum with a positive ratio (floor for 不高于)."""
    return bounded_count(ratio, eligible, bound)


def by_ratio(strata: dict[str, tuple[int, Fraction]], bound: str = "不低于") -> list[Quota]:
    """Quotas for ratio tasks; `strata` maps stratum key -> (eligible, ratio)."""
    out = []
    for key in sorted(strata):
        n, r = strata[key]
        k = ratio_count(r, n, bound)
        out.append(Quota(key, n, r, k, k))
    return out


def by_weight(strata: dict[str, tuple[int, Fraction]], count: int, upper: bool = False) -> list[Quota]:
    """Share a fixed total among strata in proportion to size × weight (key -> (eligible, weight)).

    A stratum never gets more than it has: what its share exceeds is shared again among the others,
    by the same weights. Everyone drawn and still short: the rest is a shortfall on the largest
    stratum, unless the total is an upper bound ("不超过N户"), which asks for nothing more.
    """
    keys = sorted(strata)
    sizes = {k: strata[k][0] for k in keys}
    total = sum(sizes.values())
    if count >= total:
        quotas = by_count(sizes, total if upper else count)
        return quotas
    give = {k: 0 for k in keys}
    left, open_ = count, [k for k in keys if sizes[k] > 0 and strata[k][1] > 0]
    while left and open_:
        mass = sum(strata[k][1] * sizes[k] for k in open_)
        shares = {k: left * strata[k][1] * sizes[k] / mass for k in open_}
        full = [k for k in open_ if give[k] + shares[k] >= sizes[k]]
        if full:
            # Fill the strata the shares would overflow, then share what is left among the rest.
            for k in full:
                left -= sizes[k] - give[k]
                give[k] = sizes[k]
            open_ = [k for k in open_ if k not in full]
            continue
        base = {k: floor(shares[k]) for k in open_}
        rest = left - sum(base.values())
        for k in sorted(open_, key=lambda k: (-(shares[k] - base[k]), k))[:rest]:
            base[k] += 1
        for k in open_:
            give[k] += base[k]
        left = 0
    return [Quota(k, sizes[k], None, give[k], give[k]) for k in keys]


def by_count(strata: dict[str, int], count: int) -> list[Quota]:
    """Share a fixed count among strata in proportion to their size (largest remainder, ties by key)."""
    keys = sorted(strata)
    total = sum(strata[k] for k in keys)
    if total == 0:
        return [Quota(k, 0, None, 0, 0) for k in keys] or [Quota("全部", 0, None, count, 0)]
    if count >= total:
        # Everyone is drawn; the rest of the count is a shortfall on the plan, shown on the largest stratum.
        quotas = [Quota(k, strata[k], None, strata[k], strata[k]) for k in keys]
        if count > total:
            big = max(range(len(keys)), key=lambda i: (strata[keys[i]], -i))
            q = quotas[big]
            quotas[big] = Quota(q.stratum, q.eligible, None, q.wanted + count - total, q.drawn)
        return quotas
    shares = {k: Fraction(count * strata[k], total) for k in keys}
    base = {k: floor(shares[k]) for k in keys}
    left = count - sum(base.values())
    order = sorted(keys, key=lambda k: (-(shares[k] - base[k]), k))
    for k in order[:left]:
        base[k] += 1
    return [Quota(k, strata[k], None, base[k], base[k]) for k in keys]
