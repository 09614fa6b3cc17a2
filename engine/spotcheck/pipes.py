"""A helper process fed through its standard input and output, as the plan's solves (plan.flows) and a big
run's letters (notices.letter_helper) use one: `python -m <module>` rather than multiprocessing, whose
spawned children run the caller's main script again, which a script without a main guard cannot survive."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import BinaryIO


def start(module: str, *args: str) -> subprocess.Popen:
    """`python -m module args...` with pipes for its input and output, importing this very package, wherever it
    was imported from here."""
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, *filter(None, [os.environ.get("PYTHONPATH")])])}
    return subprocess.Popen([sys.executable, "-m", module, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env)


def write_all(stream: BinaryIO, view: memoryview) -> None:
    """All of `view`'s bytes. A stop (Ctrl-Z, SIGSTOP; a sampling profiler's pause) ends a write to a full pipe
    early, having written part, and CPython's buffered writer returns that short count instead of writing on:
    unchecked, the other process waits forever for the rest."""
    view = view.cast("B")
    while view:
        view = view[stream.write(view):]


def read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    """Exactly `size` bytes, or None if the stream ends first."""
    data = stream.read(size)
    return data if len(data) == size else None
