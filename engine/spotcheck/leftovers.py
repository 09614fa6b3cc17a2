"""Files and folders a killed process may strand, and the next run that clears them.

Whoever makes a temporary file or staging folder holds an advisory lock (flock) on a lock file for as
long as it works with it; the kernel drops the lock when the process ends, however it ends. A later
run removes every leftover whose lock it can take: nobody is working with it any more.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterable
from pathlib import Path


class Held:
    """An exclusive lock on `path` (created if missing, or already open as `fd`), held until `release`."""

    def __init__(self, path: Path, fd: int | None = None) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600) if fd is None else fd
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def release(self, *, remove: bool = True) -> None:
        if self._fd < 0:
            return
        if remove:
            self.path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = -1


def unheld(locks: Iterable[Path]) -> list[Path]:
    """The lock files among `locks` that nobody holds (their holders ended without cleaning up)."""
    free = []
    for lock in locks:
        try:
            fd = os.open(lock, os.O_RDWR)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # held: someone is still working with it
        finally:
            os.close(fd)
        free.append(lock)
    return free


def remove(*paths: Path) -> None:
    """Remove files or folders, whichever each is, if they exist."""
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
