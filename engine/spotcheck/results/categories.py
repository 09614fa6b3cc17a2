"""The official vocabulary of inspection results: result categories (检查结果) and their codes, check
methods (检查方式) and follow-up actions (后续处置), and how officers' spellings of them are read.

"发现问题待后续处理（未按规定公示应当公示的信息）" and "R0201" name the same category; a sub-category
implies its parent, and `category_text` writes codes back the way the public list prints them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Category:
    """One official result category (检查结果). `problem`: a problem was found and needs follow-up."""

    code: str
    name: str
    parent: str | None = None
    problem: bool = False
    aliases: tuple[str, ...] = ()


CATEGORIES: dict[str, Category] = {
    c.code: c
    for c in (
        Category("R01", "未发现问题", aliases=("未发现违法违规问题", "正常")),
        Category("R02", "发现问题待后续处理", problem=True),
        Category("R0201", "未按规定公示应当公示的信息", "R02", True),
        Category("R0202", "公示信息隐瞒真实情况弄虚作假", "R02", True, ("公示信息隐瞒真实情况、弄虚作假",)),
        Category("R0203", "通过登记的住所（经营场所）无法联系", "R02", True,
                 ("通过登记的住所或者经营场所无法联系", "通过登记的住所无法联系", "通过登记的经营场所无法联系")),
        Category("R0204", "违反其他市场监管规定", "R02", True),
        Category("R0205", "违反食品药品相关规定", "R02", True),
        Category("R0206", "违反质量相关规定", "R02", True),
        Category("R0207", "违反其他部门相关规定", "R02", True),
        Category("R0208", "违反公安相关规定", "R02", True),
        Category("R03", "发现问题已责令改正", problem=True),
        Category("R04", "未发现开展本次抽查涉及的经营活动"),
        Category("R05", "已关闭停业或正在组织清算", aliases=("已关闭停业", "正在组织清算")),
        Category("R06", "不配合检查情节严重", problem=True),
        Category("R07", "注销", aliases=("已注销",)),
        Category("R08", "被吊销", aliases=("吊销", "已吊销", "被吊销营业执照")),
        Category("R09", "被撤销", aliases=("撤销", "已撤销")),
        Category("R10", "迁出", aliases=("已迁出",)),
    )
}
NO_PROBLEM = "R01"
UNREACHABLE = "R0203"  # 经营异常名录: 通过登记的住所（经营场所）无法联系

METHODS: dict[str, tuple[str, ...]] = {
    "实地检查": ("现场检查", "实地核查"),
    "书面检查": ("书面审查", "材料审查"),
    "网络监测": ("网络检查", "网上检查", "网络核查"),
    "检验检测": ("抽样检验", "抽样检测", "检验"),
    "委托专业机构": ("委托第三方", "委托第三方机构", "专业机构"),
}

ACTIONS: dict[str, tuple[str, ...]] = {
    "责令改正": ("责令限期改正", "限期整改", "责令整改"),
    "立案查处": ("立案调查", "立案"),
    "移送": ("移交",),
    "列入经营异常名录": ("经营异常名录",),
    "列入严重违法失信名单": ("严重违法失信名单",),
    "行政指导": ("约谈", "提醒告诫"),
}


def fold(text: str) -> str:
    """Text as compared with the vocabulary: full-width forms made plain, case folded."""
    return unicodedata.normalize("NFKC", text).casefold()


_SEPARATORS = frozenset("、;,|\n\r\t :()/")


def _vocabulary(entries: Iterable[tuple[str, Iterable[str]]]) -> tuple[dict[str, str], list[str]]:
    vocab = {fold(spelling): canon for canon, spellings in entries for spelling in spellings}
    return vocab, sorted(vocab, key=len, reverse=True)


CATEGORY_VOCAB = _vocabulary((c.code, (c.code, c.name, *c.aliases)) for c in CATEGORIES.values())
METHOD_VOCAB = _vocabulary((m, (m, *aliases)) for m, aliases in METHODS.items())
_ACTION_PREFIXES = sorted(((fold(a), canon) for canon, al in ACTIONS.items() for a in (canon, *al)),
                          key=lambda p: len(p[0]), reverse=True)


def scan(text: str, vocabulary: tuple[dict[str, str], list[str]]) -> tuple[list[str], list[str]]:
    """Known terms in `text` (longest match first, so names holding 、 or （） stay whole) and the rest.

    "发现问题待后续处理（未按规定公示应当公示的信息）" and "R01；R03" both read; what matches nothing is
    returned as unknown words for the officer to fix.
    """
    vocab, keys = vocabulary
    s = fold(text)
    found: list[str] = []
    unknown: list[str] = []
    i = 0
    while i < len(s):
        if s[i] in _SEPARATORS:
            i += 1
            continue
        hit = next((k for k in keys if s.startswith(k, i) and (i + len(k) == len(s) or s[i + len(k)] in _SEPARATORS)), None)
        if hit is not None:
            if vocab[hit] not in found:
                found.append(vocab[hit])
            i += len(hit)
            continue
        j = i
        while j < len(s) and s[j] not in _SEPARATORS:
            j += 1
        unknown.append(s[i:j])
        i = j
    return found, unknown


def ordered_categories(codes: Iterable[str]) -> tuple[str, ...]:
    """Codes in the official order; a sub-category makes its parent implied, so the parent is dropped."""
    codes = set(codes)
    implied = {CATEGORIES[c].parent for c in codes if CATEGORIES[c].parent}
    return tuple(c for c in CATEGORIES if c in codes and c not in implied)


def category_text(codes: Iterable[str]) -> str:
    """检查结果 as published: 发现问题待后续处理（未按规定公示应当公示的信息）；发现问题已责令改正."""
    # A year's public list has hundreds of thousands of rows and a few dozen distinct results.
    return _category_text(tuple(codes))


@lru_cache(maxsize=4096)
def _category_text(codes: tuple[str, ...]) -> str:
    codes = ordered_categories(codes)
    parts: list[str] = []
    subs: dict[str, list[str]] = {}
    for code in codes:
        parent = CATEGORIES[code].parent
        if parent:
            if parent not in subs:
                subs[parent] = []
                parts.append(parent)
            subs[parent].append(CATEGORIES[code].name)
        else:
            parts.append(code)
    return "；".join(
        f"{CATEGORIES[p].name}（{'、'.join(subs[p])}）" if p in subs else CATEGORIES[p].name for p in parts
    )


def split_actions(text: str) -> tuple[list[str], list[str]]:
    """Follow-up actions as written (e.g. "移送区卫生健康局"), each starting with a known action."""
    known, unknown = [], []
    for piece in re.split(r"[、;；,，|\n]", text):
        piece = piece.strip()
        if not piece:
            continue
        k = fold(piece)
        (known if any(k.startswith(prefix) for prefix, _ in _ACTION_PREFIXES) else unknown).append(piece)
    return known, unknown

