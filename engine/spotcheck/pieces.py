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


def ahead(pieces: Iterable[T]) -> Iterator[T]:
    """`pieces` in order, each next one made on a thread while the caller works on the one before (an error
    making one is raised where it is asked for; a caller that stops early waits only for the one in hand)."""
    source = iter(pieces)
    with ThreadPoolExecutor(max_workers=1) as pool:
        coming = pool.submit(next, source, _END)
        while (piece := coming.result()) is not _END:
            coming = pool.submit(next, source, _END)
            yield piece
