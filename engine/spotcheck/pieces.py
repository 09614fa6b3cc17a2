"""Text handed on in pieces between polars, zlib and files: a column's UTF-8 bytes as Arrow holds them, and
the next piece made on a thread while the caller works on the last. polars and zlib let go of Python's lock,
so on two cores making a city's XML and compressing it overlap."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import polars as pl
import pyarrow as pa

T = TypeVar("T")
_END = object()


def joined(texts: pl.Series) -> memoryview:
    """A column's texts one after the other, as UTF-8: an Arrow string array holds its values end to end
    in one buffer, so a city's XML is handed on without joining and copying it again in Python."""
    array = texts.to_arrow()
    if array.type != pa.large_string():
        array = array.cast(pa.large_string())
    _, offsets, data = array.buffers()
    if data is None:  # no text at all
        return memoryview(b"")
    ends = np.frombuffer(offsets, dtype=np.int64)[array.offset: array.offset + len(array) + 1]
    return memoryview(data)[int(ends[0]): int(ends[-1])]


def spans(texts: pl.Series) -> list[memoryview]:
    """A column's texts one after the other, as UTF-8 pieces of the buffers polars holds them in, not copied.

    polars keeps a text of over 12 bytes in one of a few data buffers, in the order an expression made
    it, and a shorter one in its 16-byte view; a text that starts where the one before it ends (same
    buffer) joins that one's piece: a 1M city's 263,586 letters, made shape by shape and put back in order,
    are about 60,600 pieces. `joined`'s single buffer is a copy of every byte (about 0.85 ms of CPU per MiB, and
    the letters are 1.9 GB of XML)."""
    if not texts.len():
        return []
    array = texts.to_arrow(compat_level=pl.CompatLevel.newest())
    if array.type not in (pa.string_view(), pa.binary_view()):
        raise TypeError(f"spans reads texts (string view), not {array.type}")
    _, views, *data = array.buffers()
    view = np.frombuffer(views, dtype=np.int32).reshape(-1, 4)[array.offset: array.offset + len(array)]
    length = view[:, 0].astype(np.int64)
    if array.null_count:
        length[array.is_null().to_numpy(zero_copy_only=False)] = 0
    short = length <= 12
    # Buffer 0 is the views themselves (a short text sits in its view after its length), data buffers from 1.
    where = np.where(short, 0, view[:, 2].astype(np.int64) + 1)
    start = np.where(short, (np.arange(len(view), dtype=np.int64) + array.offset) * 16 + 4, view[:, 3].astype(np.int64))
    some = length > 0
    where, start, length = where[some], start[some], length[some]
    if not length.size:
        return []
    end = start + length
    begins = np.ones(length.size, dtype=bool)
    begins[1:] = (where[1:] != where[:-1]) | (start[1:] != end[:-1])
    first = np.flatnonzero(begins)
    last = np.append(first[1:], length.size) - 1
    buffers = [memoryview(b) for b in (views, *data)]
    return [buffers[b][s:e] for b, s, e in zip(where[first].tolist(), start[first].tolist(), end[last].tolist(), strict=True)]


def ahead(pieces: Iterable[T]) -> Iterator[T]:
    """`pieces` in order, each next one made on a thread while the caller works on the one before (an error
    making one is raised where it is asked for; a caller that stops early waits only for the one in hand)."""
    source = iter(pieces)
    with ThreadPoolExecutor(max_workers=1) as pool:
        coming = pool.submit(next, source, _END)
        while (piece := coming.result()) is not _END:
            coming = pool.submit(next, source, _END)
            yield piece
