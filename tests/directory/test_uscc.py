import hashlib

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spotcheck.directory import uscc

# Real codes as printed on business licences (Fujian, Beijing, Shenzhen registrations); each passes
# the GB 32100-2015 check. 911100001000061630, sometimes quoted as an example, does not: its first
# 17 characters call for 'A'.
REAL = ["91350100M000100Y43", "91110108551385082Q", "91440300708461136T"]


@pytest.mark.parametrize("code", REAL)
def test_real_codes_pass(code):
    assert uscc.is_valid(code)
    assert uscc.check_char(code[:17]) == code[17]


def test_quoted_example_with_wrong_check_char_fails():
    assert not uscc.is_valid("911100001000061630")
    assert uscc.check_char("91110000100006163") == "A"


@pytest.mark.parametrize("code", REAL)
def test_every_single_character_change_fails(code):
    # The weights are all non-zero modulo the prime 31, so any one substitution moves the sum.
    for pos in range(18):
        for c in uscc.CHARSET:
            if c != code[pos]:
                changed = code[:pos] + c + code[pos + 1 :]
                assert not uscc.is_valid(changed), changed


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y4",  # 17 characters
        "91350100M000100Y433",  # 19
        "9135010OM000100Y43",  # letter O is not in the character set
        "91350100m000100Y43",  # lower case
        "",
        None,
        913501001000100,
    ],
)
def test_malformed_codes_fail(code):
    assert not uscc.is_valid(code)


def test_check_char_rejects_bad_input():
    with pytest.raises(ValueError):
        uscc.check_char("9135010")
    with pytest.raises(ValueError):
        uscc.check_char("9135010IM000100Y4")


def test_constructed_codes_pass():
    for first17 in ("92350102MA2Y7QK3X", "93350121MA34A0G1L", "11100000000013127"):
        code = first17 + uscc.check_char(first17)
        assert uscc.is_valid(code)


def test_organisation_check_char_matches_real_codes():
    # The 9th to 17th characters of a USCC are the GB 11714 organisation code.
    assert uscc.org_check_char("70846113") == "6"
    assert uscc.org_check_char("55138508") == "2"
    bodies = pl.Series(["70846113", "55138508"])
    assert pl.select(uscc.org_check_char_expr(pl.lit(bodies))).to_series().to_list() == ["6", "2"]


def _random_codes(n: int) -> list[str | None]:
    """Codes of every kind: valid, wrong check char, illegal characters, wrong length, missing."""
    out: list[str | None] = []
    for i in range(n):
        h = hashlib.blake2b(f"code-{i}".encode(), digest_size=32).digest()
        first17 = "".join(uscc.CHARSET[b % 31] for b in h[:17])
        kind = h[17] % 6
        if kind == 0:
            out.append(first17 + uscc.check_char(first17))
        elif kind == 1:
            out.append(first17 + uscc.CHARSET[h[18] % 31])
        elif kind == 2:
            out.append(first17[:5] + "IOSVZ"[h[18] % 5] + first17[6:] + "0")
        elif kind == 3:
            out.append(first17[: h[18] % 20])
        elif kind == 4:
            out.append(first17 + uscc.check_char(first17) + "1")
        else:
            out.append(None)
    return out


def test_vectorised_check_agrees_with_scalar():
    codes = _random_codes(10_000)
    series = pl.Series("uscc", codes, dtype=pl.String)
    vector = uscc.valid_series(series).to_list()
    scalar = [uscc.is_valid(c) if c is not None else False for c in codes]
    assert vector == scalar
    assert 1000 < sum(scalar) < 9000  # both kinds are really exercised

    expected = pl.select(uscc.check_char_expr(pl.lit(series))).to_series().to_list()
    for code, char in zip(codes, expected):
        if code is not None and len(code) >= 17 and all(c in uscc.CHARSET for c in code[:17]):
            assert char == uscc.check_char(code[:17])
        else:
            assert char is None


# Near-codes: legal characters mixed with lower case, letters GB 32100 leaves out, spaces, NUL and
# characters of several bytes in UTF-8, at lengths around 17 and 18.
near_code = st.text(alphabet=uscc.CHARSET * 3 + "aioszIOSVZ \x00é中𠀀", min_size=15, max_size=20)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(near_code, st.builds(uscc.make, st.text(max_size=8)), st.none()), max_size=20))
def test_expressions_agree_with_scalars_on_any_text(codes):
    series = pl.Series(codes, dtype=pl.String)
    got = pl.select(
        uscc.check_char_expr(pl.lit(series)).alias("char"),
        uscc.remainder_expr(pl.lit(series)).alias("remainder"),
        uscc.valid_expr(pl.lit(series)).alias("valid"),
    )
    for code, char, remainder, valid in zip(codes, *got.get_columns()):
        legal17 = code is not None and len(code) >= 17 and all(c in uscc.CHARSET for c in code[:17])
        assert char == (uscc.check_char(code[:17]) if legal17 else None)
        assert valid == (code is not None and uscc.is_valid(code))
        whole = code is not None and len(code) == 18 and all(c in uscc.CHARSET for c in code)
        assert (remainder is not None) == whole
        assert (remainder == 0) == valid


# Codes of exactly 18 bytes take the fixed-width path (numpy), anything else the expression.
code18 = st.text(alphabet=uscc.CHARSET * 3 + "aioszIOSVZ \x00", min_size=18, max_size=18)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(code18, st.builds(uscc.make, st.text(max_size=8))), max_size=20),
       st.lists(st.one_of(near_code, st.none()), max_size=3))
def test_remainders_by_fixed_width_bytes_equal_the_expression(fixed, others):
    for codes in (fixed, fixed + others):
        series = pl.Series("uscc", codes, dtype=pl.String)
        expected = pl.select(uscc.remainder_expr(pl.lit(series))).to_series().to_list()
        assert uscc.remainders(series).to_list() == expected
        streamed = series.to_frame().lazy().select(uscc.remainders_expr("uscc")).collect(engine="streaming")
        assert streamed.to_series().to_list() == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZa é", min_size=7, max_size=9), max_size=20))
def test_organisation_check_char_expr_agrees_with_scalar(bodies):
    got = pl.select(uscc.org_check_char_expr(pl.lit(pl.Series(bodies, dtype=pl.String)))).to_series().to_list()
    for body, char in zip(bodies, got):
        legal = len(body) >= 8 and all(c.isascii() and c.isupper() or c.isdigit() for c in body[:8])
        assert char == (uscc.org_check_char(body[:8]) if legal else None)


def test_valid_expr_in_a_frame():
    frame = pl.DataFrame({"code": [REAL[0], REAL[0][:17] + "0", None]})
    assert frame.select(uscc.valid_expr("code")).to_series().to_list() == [True, False, False]


def test_make_is_valid_deterministic_and_typed():
    a = uscc.make("row-1")
    assert uscc.is_valid(a)
    assert a == uscc.make(b"row-1")
    assert a != uscc.make("row-2")
    assert a.startswith("91110000MA")
    shop = uscc.make("row-1", entity_type="个体工商户", region="350102")
    coop = uscc.make("row-1", entity_type="农民专业合作社", region="350121")
    assert shop.startswith("92350102") and uscc.is_valid(shop)
    assert coop.startswith("93350121") and uscc.is_valid(coop)
    # The organisation-code part carries its own GB 11714 check character.
    assert uscc.org_check_char(shop[8:16]) == shop[16]


def test_make_rejects_bad_arguments():
    with pytest.raises(ValueError):
        uscc.make("x", entity_type="公司")
    with pytest.raises(ValueError):
        uscc.make("x", region="3501")
