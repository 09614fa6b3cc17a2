from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spotcheck.draw.allocation import by_count, by_ratio, ratio_count


def test_exact_ceiling_where_floats_go_wrong():
    # In floats 0.07 * 100 is 7.000000000000001 and ceil gives 8.
    assert ratio_count(Fraction(7, 100), 100) == 7


@pytest.mark.parametrize(
    ("ratio", "eligible", "expected"),
    [
        (Fraction(5, 100), 1, 1),  # a non-empty stratum with a positive ratio yields one
        (Fraction(5, 100), 21, 2),
        (Fraction(1, 1), 13, 13),
        (Fraction(1, 2), 7, 4),
        (Fraction(0), 50, 0),
        (Fraction(3, 100), 0, 0),
    ],
)
def test_ratio_count(ratio, eligible, expected):
    assert ratio_count(ratio, eligible) == expected


@given(st.integers(0, 10**6), st.integers(0, 100), st.integers(1, 100))
@settings(max_examples=300, deadline=None)
def test_ratio_count_bounds(n, num, den):
    r = Fraction(min(num, den), den)
    k = ratio_count(r, n)
    assert 0 <= k <= n
    if n and r:
        assert k >= 1 and k >= r * n and k - 1 < max(r * n, 1)


def test_by_ratio_reports_each_stratum_sorted():
    quotas = by_ratio({"B": (40, Fraction(1, 10)), "A": (100, Fraction(3, 100))})
    assert [(q.stratum, q.wanted, q.drawn) for q in quotas] == [("A", 3, 3), ("B", 4, 4)]


def test_fixed_count_largest_remainder():
    quotas = by_count({"A": 70, "B": 20, "C": 7, "D": 3}, 10)
    assert {q.stratum: q.drawn for q in quotas} == {"A": 7, "B": 2, "C": 1, "D": 0}
    assert sum(q.drawn for q in quotas) == 10


def test_fixed_count_shortfall_is_reported():
    quotas = by_count({"A": 3, "B": 1}, 10)
    assert sum(q.drawn for q in quotas) == 4
    assert sum(q.shortfall for q in quotas) == 6


@given(st.dictionaries(st.sampled_from("ABCD"), st.integers(0, 500), min_size=1), st.integers(0, 800))
@settings(max_examples=300, deadline=None)
def test_fixed_count_never_exceeds_pool_or_count(strata, count):
    quotas = by_count(strata, count)
    total = sum(strata.values())
    assert sum(q.drawn for q in quotas) == min(count, total)
    assert all(0 <= q.drawn <= q.eligible for q in quotas)
