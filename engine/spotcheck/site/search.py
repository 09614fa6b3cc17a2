"""Search by name or code without a server: a prebuilt index in pieces the page loads on demand.

Rows (one per entity) are kept in pieces of ROWS_PER_PIECE. A code is found through its bucket
(FNV-1a of the code, the same function as assets/site.js computes); a name through the buckets of its
two-character pieces: the page loads the buckets of the query's pairs, intersects their row lists and
then loads only the pieces holding the candidates. Names and queries are NFKC-normalised on both sides
(（）and () match). A query of one character is too short for the pairs and the page says so.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

ROWS_PER_PIECE = 2000
CODES_PER_BUCKET = 4000
POSTINGS_PER_BUCKET = 20000


def fnv1a(text: str) -> int:
    """FNV-1a over UTF-16 code units: what `fnv` in assets/site.js computes with Math.imul."""
    h = 0x811C9DC5
    data = text.encode("utf-16-le")
    for i in range(0, len(data), 2):
        h ^= data[i] | (data[i + 1] << 8)
        h = (h * 16777619) & 0xFFFFFFFF
    return h


def normal(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


def pairs(text: str) -> set[str]:
    t = normal(text)
    return {t[i:i + 2] for i in range(len(t) - 1)}


def _buckets(n: int, per: int) -> int:
    b = 1
    while b * per < n:
        b *= 2
    return b


@dataclass
class Entry:
    uscc: str
    name: str
    authority: str
    refs: list[int] = field(default_factory=list)  # into Index.refs


@dataclass
class Index:
    entries: dict[str, Entry] = field(default_factory=dict)
    refs: dict[tuple[str, str], int] = field(default_factory=dict)  # (page, text) → its number, kept once in meta

    def add(self, uscc: str, name: str, authority: str, page: str, text: str) -> None:
        """One line about an entity: a page (a results page is opened at the entity's row) and what it says."""
        entry = self.entries.setdefault(uscc, Entry(uscc, name, authority))
        entry.authority = entry.authority or authority
        ref = self.refs.setdefault((page, text), len(self.refs))
        if ref not in entry.refs:
            entry.refs.append(ref)

    def files(self) -> dict[str, object]:
        """name → value of every data file of the index (written as SC.put(name, value))."""
        rows = sorted(self.entries.values(), key=lambda e: e.uscc)
        out: dict[str, object] = {}
        for start in range(0, len(rows), ROWS_PER_PIECE):
            out[f"search/r{start // ROWS_PER_PIECE}"] = [[e.uscc, e.name, e.authority, e.refs] for e in rows[start:start + ROWS_PER_PIECE]]
        ub = _buckets(len(rows), CODES_PER_BUCKET)
        codes: list[dict[str, int]] = [{} for _ in range(ub)]
        postings: dict[str, list[int]] = {}
        for i, e in enumerate(rows):
            codes[fnv1a(e.uscc) % ub][e.uscc] = i
            for p in pairs(e.name):
                postings.setdefault(p, []).append(i)
        nb = _buckets(sum(len(v) for v in postings.values()), POSTINGS_PER_BUCKET)
        names: list[dict[str, list[int]]] = [{} for _ in range(nb)]
        for p, ids in postings.items():
            names[fnv1a(p) % nb][p] = ids
        out.update({f"search/u{b}": v for b, v in enumerate(codes)})
        out.update({f"search/n{b}": v for b, v in enumerate(names)})
        out["search/meta"] = {"rows": len(rows), "piece": ROWS_PER_PIECE, "ub": ub, "nb": nb,
                              "refs": [list(ref) for ref in sorted(self.refs, key=self.refs.get)]}
        return out
