"""A title (公文标题) broken into lines as GB/T 9704-2012 §7.3.2 asks: each line a whole phrase, the lines even.

A title that fits one line is left alone. A longer one is broken only where a phrase of these documents
ends (the closed set below), never inside “…”, 《…》 or （…）, never between digits, never before a
closing mark or after an opening one; of the breaks whose lines all fit, the fewest lines, then the most
even, the upper line the shorter (正梯形). When no allowed break fits, the title stays one paragraph that
the line fills, as before.
"""

from __future__ import annotations

import re
from itertools import combinations

from spotcheck.notices.docx_styles import TITLE_PT

MM_PT = 72 / 25.4
# The stand-in for 方正小标宋 (Noto Serif CJK SC Bold) sets digits 0.6 em wide, not the half em counted
# below: a line is kept one em short of the text block so ten of them still do not push its end over.
SLACK_EM = 1
OPENING, CLOSING = "“‘《（(〔【「", "”’》）)〕】」"
_DIGITS = "0-9０-９"
_NUMERAL = f"[{_DIGITS}一二三四五六七八九十百零〇]"
# Where a phrase of a title ends: before 关于, after a year (年度 / 年 not followed by a digit), before 第…号.
_BEFORE = re.compile(f"关于|第{_NUMERAL}+号")
_AFTER = re.compile(f"[{_DIGITS}](?:年度|年(?!度))(?![{_DIGITS}])")
SHORTEST_LINE = 2  # characters: a line of one character is what this module exists to prevent


def em_width(text: str) -> float:
    """Width in em of the title face: ASCII half an em, everything else (CJK, full-width marks) one."""
    return sum(0.5 if ord(c) < 128 else 1 for c in text)


def capacity(width_mm: float, size_pt: float) -> float:
    """How many em of a `size_pt` title one line of a `width_mm` text block holds."""
    return width_mm * MM_PT / size_pt - SLACK_EM


def _enclosed(title: str) -> list[bool]:
    """For each position, whether a break before it would fall inside a quotation, book title or bracket."""
    inside, depth = [], 0
    for c in title:
        inside.append(depth > 0)
        if c in OPENING:
            depth += 1
        elif c in CLOSING and depth:
            depth -= 1
    return inside


def breaks(title: str, issuer: str | None = None) -> list[int]:
    """The positions a title may be broken before, from the closed set of phrase ends."""
    found = set()
    if issuer and title.startswith(issuer):
        found.add(len(issuer))
    found.update(m.start() for m in _BEFORE.finditer(title))
    found.update(m.end() for m in _AFTER.finditer(title))
    inside = _enclosed(title)
    return sorted(
        i for i in found
        if 0 < i < len(title) and not inside[i]
        and title[i] not in CLOSING and title[i - 1] not in OPENING
        and not (title[i - 1].isdigit() and title[i].isdigit())
    )


def title_lines(title: str, width_em: float, issuer: str | None = None) -> tuple[str, ...]:
    """The lines of `title` in a line of `width_em` em; one line when it fits or no allowed break does."""
    if em_width(title) <= width_em:
        return (title,)
    at = breaks(title, issuer)
    if any(em_width(title[i:j]) > width_em for i, j in zip((0, *at), (*at, len(title)))):
        return (title,)  # a phrase longer than the line: no choice of breaks fits
    best = None
    for count in range(1, len(at) + 1):
        for cut in combinations(at, count):
            lines = [title[i:j] for i, j in zip((0, *cut), (*cut, len(title)))]
            widths = [em_width(line) for line in lines]
            if max(widths) > width_em or min(map(len, lines)) < SHORTEST_LINE:
                continue
            key = (max(widths) - min(widths), widths)
            if best is None or key < best[0]:
                best = (key, tuple(lines))
        if best is not None:
            return best[1]
    return (title,)


def lined(title: str, width_mm: float, issuer: str | None = None, size_pt: float = TITLE_PT) -> str:
    """`title` with a newline between its lines (docxtpl sets a newline in a value as a line break, w:br)."""
    return "\n".join(title_lines(title, capacity(width_mm, size_pt), issuer))
