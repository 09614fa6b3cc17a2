"""How many to draw from each stratum, in exact arithmetic.

Officers write "不低于5%": the count is ceil(r·N) computed on Fractions (in floats ceil(0.07×100) is 8).
A stratum that has entities and a positive ratio always yields at least one, never more than it has.
A fixed count is shared among strata by largest remainder, and a shortfall is reported, not hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import ceil, floor


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


def ratio_count(ratio: Fraction, eligible: int) -> int:
    """ceil(ratio × eligible), at least one from a non-empty stratum with a positive ratio."""
    if eligible <= 0 or ratio <= 0:
        return 0
    return max(1, min(eligible, ceil(ratio * eligible)))


def by_ratio(strata: dict[str, tuple[int, Fraction]]) -> list[Quota]:
    """Quotas for ratio tasks; `strata` maps stratum key -> (eligible, ratio)."""
    out = []
    for key in sorted(strata):
        n, r = strata[key]
        k = ratio_count(r, n)
        out.append(Quota(key, n, r, k, k))
    return out


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
