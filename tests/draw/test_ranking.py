from __future__ import annotations

import hashlib

import polars as pl
from spotcheck.draw.commitment import drill_seed
from spotcheck.draw.ranking import Ranking


def test_ties_on_the_integer_sort_key_are_broken_by_the_full_digest():
    codes = pl.Series([f"91140602MA{i:07d}X" for i in range(40)])
    seed = drill_seed("tie")
    ranking = Ranking([], [], codes, seed)
    rows = pl.Series(range(40), dtype=pl.UInt32)
    keys = pl.zeros(40, pl.Int64, eager=True)  # every 60-bit key equal: only the full digests can order the rows
    digest = lambda u: hashlib.sha256(f"{seed.key}|t01|1|A|{u}".encode()).hexdigest()  # noqa: E731
    expected = sorted(codes.to_list(), key=digest)[:7]
    taken = ranking.take("t01|1|A|", rows, keys, 7)
    assert taken["uscc"].to_list() == expected
    assert taken["hash"].to_list() == [digest(u) for u in expected]
    assert taken["rank"].to_list() == list(range(1, 8))
    assert sorted(codes.gather(ranking.chosen("t01|1|A|", rows, keys, 7)).to_list()) == sorted(expected)
