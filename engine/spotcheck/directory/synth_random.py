"""Random streams for synthetic directories: value i of a stream depends only on (seed, purpose, i).

SHAKE-256 keyed by (seed, purpose), so the same seed gives the same rows on any machine and version
(numpy's and Python's generators promise no such thing); the arithmetic on the numbers is polars
expressions, vectorised over the whole directory.
"""

from __future__ import annotations

import array
import hashlib
import sys
from typing import Any, Mapping, Sequence

import polars as pl
import pyarrow as pa

_DOMAIN = b"spotcheck-synth-v1"


def u32(key: bytes, purpose: str, n: int) -> pl.Series:
    """n uniform 32-bit integers; value i depends only on (key, purpose, i)."""
    digest = hashlib.shake_256(_DOMAIN + b"\x00" + key + b"\x00" + purpose.encode("utf-8")).digest(4 * n)
    words = array.array("I")
    if words.itemsize != 4:
        words = array.array("L")
    words.frombytes(digest)
    if sys.byteorder == "big":
        words.byteswap()  # the stream is little-endian by definition, so files match across machines
    arrow = pa.Array.from_buffers(pa.uint32(), n, [None, pa.py_buffer(words)])
    return pl.Series(f"u_{purpose}", pl.from_arrow(arrow))


def seed_int(key: bytes, purpose: str) -> int:
    return int.from_bytes(hashlib.blake2b(_DOMAIN + b"\x00" + key + b"\x00" + purpose.encode()).digest()[:8], "big")


def below(u: pl.Expr, k: int) -> pl.Expr:
    """Integer in [0, k) from a uniform 32-bit column, by multiply-shift (no modulo bias worth speaking of)."""
    return (u.cast(pl.UInt64) * k) // (1 << 32)


def choose(u: pl.Expr, values: Sequence[Any]) -> pl.Expr:
    return below(u, len(values)).replace_strict(dict(enumerate(values)))


def weighted(u: pl.Expr, weights: Mapping[str, int]) -> pl.Expr:
    x = below(u, sum(weights.values()))
    bound, chain = 0, None
    for value, weight in weights.items():
        bound += weight
        chain = (pl.when(x < bound) if chain is None else chain.when(x < bound)).then(pl.lit(value))
    return chain.otherwise(None)

