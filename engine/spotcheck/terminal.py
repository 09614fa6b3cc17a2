"""Text as a terminal shows it: a Han character or a full-width mark takes two columns, so lines of Chinese are
measured and lined up in columns, not characters (help pages, the year board)."""

from __future__ import annotations

import unicodedata


def columns(text: str) -> int:
    """Terminal columns: a wide or full-width character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def padded(text: str, width: int) -> str:
    """`text` with spaces after it to `width` columns."""
    return text + " " * max(width - columns(text), 0)
