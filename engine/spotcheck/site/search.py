"""Search by name or code without a server: a prebuilt index in pieces the page loads on demand.

Rows (one per entity) are kept in pieces of ROWS_PER_PIECE. A code is found through its bucket
(FNV-1a of the code, the same function as assets/site.js computes); a name through the buckets of its
two-character pieces: the page loads the buckets of the query's pairs, intersects their row lists
(leaving out pairs too common to narrow anything) and then loads only the pieces holding the candidates. Names and queries are NFKC-normalised on both sides
(（）and () match). A query of one character is too short for the pairs and the page says so.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

import numpy as np
import polars as pl

ROWS_PER_PIECE = 2000
CODES_PER_BUCKET = 4000
POSTINGS_PER_BUCKET = 20000
# A pair in more names than this (公司, 有限) narrows nothing and would be a file of its own: the index
# keeps it as 0, "too common", and the page intersects the query's other pairs.
COMMON = 5000


def fnv1a_many(texts: list[str]) -> np.ndarray:
    """FNV-1a over UTF-16 code units of each text, as `fnv` in assets/site.js computes it with Math.imul;
    texts of one length are hashed together, a column at a time."""
    out = np.zeros(len(texts), dtype=np.uint32)
    by_length: dict[int, list[int]] = {}
    units = [t.encode("utf-16-le") for t in texts]
    for i, u in enumerate(units):
        by_length.setdefault(len(u) // 2, []).append(i)
    for length, at in by_length.items():
        h = np.full(len(at), 0x811C9DC5, dtype=np.uint32)
        if length:
            grid = np.frombuffer(b"".join(units[i] for i in at), dtype="<u2").reshape(len(at), length)
            for j in range(length):
                h ^= grid[:, j].astype(np.uint32)
                h *= np.uint32(16777619)
        out[at] = h
    return out


def fnv1a(text: str) -> int:
    return int(fnv1a_many([text])[0])


def normal(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


def _buckets(n: int, per: int) -> int:
    b = 1
    while b * per < n:
        b *= 2
    return b


@dataclass
class Index:
    parts: list[pl.DataFrame] = field(default_factory=list)
    refs: dict[tuple[str, str], int] = field(default_factory=dict)  # (page, text) → its number, kept once in meta

    def add_many(self, entities: pl.DataFrame, page: str, text: str) -> None:
        """One line about each of these entities (uscc, name, authority): a page and what it says there.
        A results page is opened at the entity's row."""
        ref = self.refs.setdefault((page, text), len(self.refs))
        self.parts.append(entities.select("uscc", "name", "authority").with_columns(pl.lit(ref, pl.Int64).alias("ref")))

    def count(self) -> int:
        return pl.concat(self.parts)["uscc"].n_unique() if self.parts else 0

    def files(self) -> dict[str, object]:
        """name → value of every data file of the index (written as SC.put(name, value))."""
        schema = {"uscc": pl.String, "name": pl.String, "authority": pl.String, "ref": pl.Int64}
        every = pl.concat(self.parts) if self.parts else pl.DataFrame(schema=schema)
        rows = (
            every.group_by("uscc")
            .agg(pl.col("name").first(), pl.col("authority").filter(pl.col("authority") != "").first(),
                 pl.col("ref").unique(maintain_order=True))
            .with_columns(pl.col("authority").fill_null(""))
            .sort("uscc")
        )
        names = sorted(set(rows["authority"]))
        at = {a: i for i, a in enumerate(names)}
        out: dict[str, object] = {}
        columns = [rows["uscc"].to_list(), rows["name"].to_list(), [at[a] for a in rows["authority"]], rows["ref"].to_list()]
        for start in range(0, rows.height, ROWS_PER_PIECE):
            piece = zip(*(c[start:start + ROWS_PER_PIECE] for c in columns), strict=True)
            out[f"search/r{start // ROWS_PER_PIECE}"] = [list(r) for r in piece]
        ub = _buckets(rows.height, CODES_PER_BUCKET)
        codes: list[dict[str, int]] = [{} for _ in range(ub)]
        for i, (code, bucket) in enumerate(zip(columns[0], (fnv1a_many(columns[0]) % ub).tolist(), strict=True)):
            codes[bucket][code] = i
        chars = pl.DataFrame({"id": pl.int_range(0, rows.height, eager=True), "t": [normal(n) for n in rows["name"]]},
                             schema={"id": pl.Int64, "t": pl.String})
        pairs = (
            chars.with_columns(pl.col("t").str.split("").list.eval(pl.element() + pl.element().shift(-1)).alias("p"))
            .select("id", "p").explode("p").drop_nulls().unique()
            .group_by("p").agg(pl.col("id").sort())
            .sort("p")  # group_by's order varies run to run: a rebuilt site is byte for byte the same
        )
        nb = _buckets(pairs["id"].list.len().clip(upper_bound=COMMON).sum(), POSTINGS_PER_BUCKET)
        keys = pairs["p"].to_list()
        pairs = pairs.with_columns(pl.Series("b", (fnv1a_many(keys) % nb).astype(np.int64)))
        postings: list[dict[str, list[int]]] = [{} for _ in range(nb)]
        for (bucket,), part in pairs.partition_by("b", as_dict=True).items():
            postings[bucket] = {p: ids if len(ids) <= COMMON else 0
                                for p, ids in zip(part["p"].to_list(), part["id"].to_list(), strict=True)}
        out.update({f"search/u{b}": v for b, v in enumerate(codes)})
        out.update({f"search/n{b}": v for b, v in enumerate(postings)})
        out["search/meta"] = {"rows": rows.height, "piece": ROWS_PER_PIECE, "ub": ub, "nb": nb, "authorities": names,
                              "refs": [list(ref) for ref in sorted(self.refs, key=self.refs.get)]}
        return out
