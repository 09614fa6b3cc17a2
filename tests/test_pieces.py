import threading

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spotcheck.pieces import ahead, joined


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=12)), max_size=30), st.integers(0, 10), st.integers(0, 30))
def test_a_columns_texts_joined_are_its_texts_end_to_end(texts, start, length):
    """Arrow's buffer read as it is: the column's texts in order, nulls as nothing, a slice of a column too."""
    column = pl.Series(texts, dtype=pl.String)
    for part in (column, column.slice(start, length), pl.concat([column, column.slice(start, length)], rechunk=False)):
        assert bytes(joined(part)) == "".join(t for t in part.to_list() if t is not None).encode("utf-8")


def test_pieces_ahead_come_in_order_each_made_off_the_callers_thread():
    makers = []

    def pieces():
        for i in range(5):
            makers.append(threading.current_thread())
            yield i

    assert list(ahead(pieces())) == [0, 1, 2, 3, 4]
    assert threading.current_thread() not in makers


def test_an_error_making_a_piece_is_raised_where_it_is_asked_for():
    def pieces():
        yield "a"
        raise ValueError("bad piece")

    got = ahead(pieces())
    assert next(got) == "a"
    with pytest.raises(ValueError, match="bad piece"):
        next(got)
