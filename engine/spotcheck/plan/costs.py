"""The random, keyed cost of putting a person on a visit's team, cheap enough for every pair of a city.

Each visit and each person gets one 64-bit word from SHA-256 under the draw's seed key:

    visit_word(v)  = first 8 bytes (big-endian) of sha256(key + "|visit|" + visit_id)
    person_word(p) = first 8 bytes (big-endian) of sha256(key + "|inspector|" + inspector_id)
    cost(v, p)     = mix64(visit_word(v) XOR person_word(p)) >> (64 - COST_BITS)

where mix64 is the splitmix64 finaliser (a bijection of 64-bit words, all arithmetic modulo 2**64):
z ^= z >> 30; z *= 0xbf58476d1ce4e5b9; z ^= z >> 27; z *= 0x94d049bb133111eb; z ^= z >> 31.
So a city's tens of millions of (visit, person) pairs cost two SHA-256 per visit and person plus a
few integer operations per pair, the costs are integers below 2**32 (OR-tools multiplies costs by the
node count within int64), random, fixed by the seed, and anyone can recompute them (docs/teams.md).

A visit's place in the queue when places run short (the give-way rounds) is its whole visit_word.
"""

from __future__ import annotations

import hashlib

import numpy as np
import polars as pl
import polars_hash as plh

COST_BITS = 32
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def words(key: str, role: str, ids: pl.Series) -> np.ndarray:
    """The 64-bit words of visit or inspector ids (role "visit" or "inspector"), as uint64."""
    hexed = ids.to_frame("id").select(
        plh.concat_str([pl.lit(f"{key}|{role}|"), pl.col("id")]).chash.sha2_256().alias("h"))["h"]
    hi = hexed.str.slice(0, 8).str.to_integer(base=16).cast(pl.UInt64).to_numpy()
    lo = hexed.str.slice(8, 8).str.to_integer(base=16).cast(pl.UInt64).to_numpy()
    return (hi << np.uint64(32)) | lo


def mixed(visit_words: np.ndarray, person_words: np.ndarray) -> np.ndarray:
    """cost(v, p) for aligned (or broadcast) arrays of words, as int64."""
    return finished(premixed(visit_words, person_words))


def premixed(visit_words: np.ndarray, person_words: np.ndarray, out: np.ndarray | None = None,
             spare: np.ndarray | None = None) -> np.ndarray:
    """mix64(visit XOR person) short of its last step, into `out` (with `spare` as scratch) if given.

    The last step (z ^= z >> 31) changes the top 32 bits only in their lowest bit, and only when the
    top bit is set; so for c <= 2**31 the cost is below c exactly when this word is below c << 32,
    and a search for a visit's cheap pairs compares these words and finishes only the few it keeps."""
    # z ^ (z >> 30) of z = v XOR p is (v ^ v >> 30) XOR (p ^ p >> 30): that step costs nothing per pair.
    visit_words = visit_words ^ (visit_words >> np.uint64(30))
    person_words = person_words ^ (person_words >> np.uint64(30))
    out = np.bitwise_xor(visit_words, person_words, out=out)
    spare = np.empty_like(out) if spare is None else spare
    with np.errstate(over="ignore"):
        out *= _M1
        np.right_shift(out, np.uint64(27), out=spare)
        out ^= spare
        out *= _M2
    return out


def finished(z: np.ndarray) -> np.ndarray:
    """The costs of premixed words, as int64."""
    return ((z ^ (z >> np.uint64(31))) >> np.uint64(64 - COST_BITS)).astype(np.int64)


def word(key: str, role: str, ident: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{key}|{role}|{ident}".encode()).digest()[:8], "big")


def pair_cost(key: str, visit: str, inspector: str) -> int:
    """cost(visit, inspector) in plain Python, as docs/teams.md writes it."""
    mask = (1 << 64) - 1
    z = word(key, "visit", visit) ^ word(key, "inspector", inspector)
    z ^= z >> 30
    z = (z * 0xBF58476D1CE4E5B9) & mask
    z ^= z >> 27
    z = (z * 0x94D049BB133111EB) & mask
    z ^= z >> 31
    return z >> (64 - COST_BITS)
