"""All-or-nothing output folders.

A draw folder is built in a hidden sibling and renamed into place, so a crash leaves either the whole
folder or none of it. Later stages (visits, teams, notices) add files the same way: copy, add, swap.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from itertools import zip_longest
from pathlib import Path

from spotcheck.errors import Problem, SpotcheckError

# A file's content: its bytes, or (for files of millions of lines) a function yielding it in pieces,
# so that neither writing nor verifying ever holds it whole.
Content = bytes | Callable[[], Iterable[bytes]]


def umask_mode(directory: bool) -> int:
    """The mode open()/mkdir() would give under the current umask: tempfile makes 0600 files and
    0700 folders, which colleagues on a shared server cannot open."""
    mask = os.umask(0)
    os.umask(mask)
    return (0o777 if directory else 0o666) & ~mask


def pieces(content: Content) -> Iterator[bytes]:
    if isinstance(content, bytes):
        yield content
    else:
        yield from content()


def content_bytes(content: Content) -> bytes:
    return content if isinstance(content, bytes) else b"".join(content())


@contextmanager
def staged(out_dir: Path, *, adding: bool = False) -> Iterator[Path]:
    """Yield a staging folder; on success it becomes `out_dir`, on any error it is removed.

    With `adding`, the staging folder starts as a copy of the existing `out_dir`.
    """
    out_dir = Path(out_dir)
    if adding and not out_dir.is_dir():
        raise SpotcheckError(Problem("F601", f"输出目录 {out_dir} 不存在", hint="先运行 spotcheck draw 生成抽取结果目录"))
    if not adding and out_dir.exists() and any(out_dir.iterdir()):
        raise SpotcheckError(
            Problem("F602", f"输出目录 {out_dir} 已存在且不为空，不会覆盖已有的抽取结果", hint="换一个 --out 目录，或先移走旧目录")
        )
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    os.chmod(stage, umask_mode(directory=True))
    try:
        if adding:
            shutil.rmtree(stage)
            shutil.copytree(out_dir, stage)
        yield stage
        if adding:
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old.", dir=out_dir.parent))
            os.rmdir(old)
            os.rename(out_dir, old)
            os.rename(stage, out_dir)
            shutil.rmtree(old)
        else:
            if out_dir.exists():
                out_dir.rmdir()
            os.rename(stage, out_dir)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def write_files(folder: Path, files: Mapping[str, Content]) -> dict[str, str]:
    """Write each file; returns the sha256 of each, computed as it is written (never read back)."""
    digests = {}
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with path.open("wb") as f:
            for piece in pieces(content):
                f.write(piece)
                digest.update(piece)
        digests[name] = digest.hexdigest()
    return digests


def write_file_atomic(path: Path, data: bytes) -> None:
    """Write one file via a temp file in the same folder and os.replace."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, umask_mode(directory=False))
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    rest = b""
    for chunk in chunks:
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        yield from lines
    if rest:
        yield rest


def _file_pieces(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while piece := f.read(1 << 20):
            yield piece


def first_difference(name: str, expected: Content, actual: Content | Path) -> Problem | None:
    """None when the contents are equal, else the first line that differs (read in pieces, never whole)."""
    if isinstance(expected, bytes) and isinstance(actual, bytes) and expected == actual:
        return None
    sizes = [0, 0]

    def counted(chunks: Iterable[bytes], side: int) -> Iterator[bytes]:
        for chunk in chunks:
            sizes[side] += len(chunk)
            yield chunk

    got = _file_pieces(actual) if isinstance(actual, Path) else pieces(actual)
    lines = [0, 0]
    missing = object()
    pairs = zip_longest(_lines(counted(pieces(expected), 0)), _lines(counted(got, 1)), fillvalue=missing)
    for a, b in pairs:
        lines[0] += a is not missing
        lines[1] += b is not missing
        if a is not missing and b is not missing and a != b:
            shown_a, shown_b = a.decode("utf-8", "replace"), b.decode("utf-8", "replace")
            return Problem("V701", f"{name} 第 {lines[0]} 行不一致：重算为 {shown_a!r}，文件中为 {shown_b!r}", file=name)
    if lines[0] != lines[1]:
        return Problem("V701", f"{name} 行数不一致：重算 {lines[0]} 行，文件中 {lines[1]} 行", file=name)
    if sizes[0] != sizes[1]:
        return Problem("V701", f"{name} 各行相同，但文件末尾的换行不同", file=name)
    return None
