import threading

import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spotcheck.pieces import ahead, joined, spans


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=12)), max_size=30), st.integers(0, 10), st.integers(0, 30))
def test_a_columns_texts_joined_are_its_texts_end_to_end(texts, start, length):
    """Arrow's buffer read as it is: the column's texts in order, nulls as nothing, a slice of a column too."""
    column = pl.Series(texts, dtype=pl.String)
    for part in (column, column.slice(start, length), pl.concat([column, column.slice(start, length)], rechunk=False)):
        assert bytes(joined(part)) == "".join(t for t in part.to_list() if t is not None).encode("utf-8")


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=12), st.text(min_size=13, max_size=40)), max_size=30),
       st.integers(0, 10), st.integers(0, 30))
def test_a_columns_spans_are_its_texts_end_to_end(texts, start, length):
    """The texts in order however polars holds them: short ones in their views, long ones in data buffers,
    nulls as nothing, a slice, chunks, and a column put back in order after being made in parts."""
    column = pl.Series(texts, dtype=pl.String)
    made = pl.DataFrame({"n": range(len(texts)), "text": column}).with_columns(pl.col("text") + "<w:p/>")
    parts = pl.concat([made.filter(pl.col("n") % 2 == 0), made.filter(pl.col("n") % 2 == 1)]).sort("n")
    # A null made by when/then keeps the text's view under its null bit.
    masked = parts.select(pl.when(pl.col("n") % 3 != 0).then(pl.col("text"))).to_series()
    for part in (column, column.slice(start, length), pl.concat([column, column.slice(start, length)], rechunk=False),
                 parts.get_column("text"), parts.get_column("text").slice(start, length), masked):
        assert b"".join(spans(part)) == "".join(t for t in part.to_list() if t is not None).encode("utf-8")


def test_texts_made_end_to_end_are_one_span_not_a_copy():
    column = pl.DataFrame({"n": range(1000)}).select(pl.format("<w:p>{}</w:p>", pl.col("n") + 10**6).alias("xml")).get_column("xml")
    got = spans(column)
    assert b"".join(got) == "".join(column.to_list()).encode("utf-8")
    # A span per buffer polars wrote the texts into, each a view of it, not a copy.
    assert len(got) == len(column.to_arrow(compat_level=pl.CompatLevel.newest()).buffers()) - 2
    assert all(isinstance(span.obj, pa.Buffer) for span in got)


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
