"""How a long step tells its caller how far it has got: the library reports, the CLI draws.

A step is named in Chinese for the officer; `done` of `total` is given where the step can count
its work (tasks ranked, say), so a terminal can show a bar instead of a spinner.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def __call__(self, step: str, done: int | None = None, total: int | None = None) -> None: ...


def silent(step: str, done: int | None = None, total: int | None = None) -> None:
    """The default: a library call reports to no one."""
