"""All-or-nothing output folders.

A draw folder is built in a hidden sibling and renamed into place, so a crash leaves either the whole
folder or none of it. Later stages (visits, teams, notices) add files the same way: link, add, swap
(the staging folder holds hard links to the existing files; a file is only ever replaced, never written into).
A folder whose records go into the ledger lands with them as one outcome (`committed`).
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from itertools import zip_longest
from pathlib import Path

from spotcheck.errors import Problem, SpotcheckError
from spotcheck.leftovers import Held, remove, unheld
from spotcheck.ledger.store import Ledger, Transaction

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


def _check_target(out_dir: Path, adding: bool) -> None:
    if adding and not out_dir.is_dir():
        raise SpotcheckError(Problem("F601", f"输出目录 {out_dir} 不存在", hint="先运行 spotcheck draw 生成抽取结果目录"))
    if not adding and out_dir.exists() and any(out_dir.iterdir()):
        raise SpotcheckError(
            Problem("F602", f"输出目录 {out_dir} 已存在且不为空，不会覆盖已有的抽取结果", hint="换一个 --out 目录，或先移走旧目录")
        )


def _new_stage(out_dir: Path, adding: bool) -> tuple[Path, Held]:
    """A hidden sibling `.<name>.XXXX` to build in, and the lock `.<name>.XXXX.lock` held while it is in use."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    fd, lock = tempfile.mkstemp(prefix=f".{out_dir.name}.", suffix=_LOCK, dir=out_dir.parent)
    held = Held(Path(lock), fd)
    stage = Path(lock[: -len(_LOCK)])
    try:
        if adding:
            shutil.copytree(out_dir, stage, copy_function=_link_or_copy)
        else:
            stage.mkdir()
    except BaseException:
        remove(stage)
        held.release()
        raise
    return stage, held


def _link_or_copy(source: str, target: str) -> None:
    """An existing file of a folder being added to, in its staging folder: a hard link, since a province's draw
    folder is over a gigabyte and a stage adds or rewrites a few files (write_files replaces a file, never writes
    into it, so the folder in place keeps its bytes until the swap); a copy where the file system links none."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


_LOCK = ".lock"


@contextmanager
def staged(out_dir: Path, *, adding: bool = False) -> Iterator[Path]:
    """Yield a staging folder; on success it becomes `out_dir`, on any error it is removed.

    With `adding`, the staging folder starts with the existing `out_dir`'s files (hard links: replace a file
    there, as write_files does, rather than write into it). For a folder whose
    ledger records must land with it, use `committed`.
    """
    out_dir = Path(out_dir)
    sweep(out_dir)
    _check_target(out_dir, adding)
    stage, held = _new_stage(out_dir, adding)
    try:
        yield stage
        _move_into_place(stage, out_dir, adding)
    except BaseException:
        remove(stage)
        raise
    finally:
        held.release()


def _move_into_place(stage: Path, out_dir: Path, adding: bool) -> None:
    """Rename `stage` to `out_dir` (with `adding`, swap it for the folder it copied). Each step can be
    repeated after a crash at any point of it: the step already done is seen on disk and skipped."""
    old = stage.with_name(stage.name + ".old")
    if stage.exists():
        if adding and out_dir.exists():
            os.rename(out_dir, old)
        elif out_dir.exists():
            out_dir.rmdir()  # the empty folder an officer made for the draw
        os.rename(stage, out_dir)
        _sync_dir(out_dir.parent)
    remove(old)


class Landing:
    """A staging folder whose ledger records and whose rename into place are one outcome."""

    def __init__(self, ledger: Ledger, stage: Path, out_dir: Path, adding: bool) -> None:
        self.ledger, self.path, self.out_dir, self.adding = ledger, stage, out_dir, adding
        self.committed = False

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """The ledger transaction of this folder: when it commits, the folder is named in it as pending."""
        with self.ledger.transaction() as tx:
            yield tx
            _sync_tree(self.path)
            tx.add_pending(str(self.path), str(self.out_dir), self.adding)
        self.committed = True


@contextmanager
def committed(out_dir: Path, ledger: Ledger, *, adding: bool = False) -> Iterator[Landing]:
    """A staging folder (`.path`) for files whose ledger records go in `.transaction()`: after a kill
    at any instant, either the records and the folder both exist or neither does.

    The files are written and fsynced first; the transaction that commits the records also names the
    staging folder as pending; the rename follows. A kill before the commit leaves a staging folder no
    record names, removed by the next command for this folder; a kill after it leaves a pending
    folder that the next command using the ledger moves into place (`recover`).
    """
    out_dir = Path(out_dir).absolute()
    recover(ledger, out_dir)
    _check_target(out_dir, adding)
    stage, held = _new_stage(out_dir, adding)
    landing = Landing(ledger, stage, out_dir, adding)
    try:
        yield landing
    except BaseException:
        if not landing.committed:
            remove(stage)
            held.release()
            raise
        _finish(ledger, stage)
        held.release()
        raise
    if landing.committed:
        _finish(ledger, stage)
    else:
        remove(stage)
    held.release()


def _finish(ledger: Ledger, stage: Path) -> None:
    # Under the ledger's write lock, so a `recover` in another process never moves the same folder.
    with ledger.transaction() as tx:
        for pending, out, adding in tx.pending():
            if pending == str(stage):
                _move_into_place(stage, Path(out), adding)
                tx.clear_pending(pending)


def recover(ledger: Ledger, out_dir: Path | None = None) -> list[Path]:
    """Finish what a crash left: move every committed folder of this ledger into place, and remove the
    staging folders beside `out_dir` that no record names and no running command holds. Returns the
    folders moved into place."""
    moved = []
    with ledger.transaction() as tx:
        for stage, out, adding in tx.pending():
            _move_into_place(Path(stage), Path(out), adding)
            remove(Path(stage + _LOCK))  # its holder was killed: nobody holds it
            tx.clear_pending(stage)
            moved.append(Path(out))
        if out_dir is not None:
            sweep(out_dir)
    return moved


def sweep(out_dir: Path) -> None:
    """Remove the staging folders beside `out_dir` that a killed command left and no running one holds.

    A command killed between the two renames of a swap left `out_dir` moved aside (`.old`) and not yet
    replaced: the folder is put back as it was, as if the killed command had not run. A caller that
    decides from `out_dir` whether to add to it calls this first. (A folder whose records are in the
    ledger is finished by `recover` instead, before it gets here.)"""
    if not out_dir.parent.is_dir():
        return
    for lock in unheld(out_dir.parent.glob(f".{glob.escape(out_dir.name)}.*{_LOCK}")):
        stage = Path(str(lock)[: -len(_LOCK)])
        old = stage.with_name(stage.name + ".old")
        if old.is_dir() and not out_dir.exists():
            os.rename(old, out_dir)
            _sync_dir(out_dir.parent)
        remove(stage, old, lock)


def _sync_tree(folder: Path) -> None:
    """fsync every file and folder under `folder`, so what the ledger is about to name survives a power cut."""
    for root, _, files in os.walk(folder):
        for name in files:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _sync_dir(Path(root))


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_files(folder: Path, files: Mapping[str, Content]) -> dict[str, str]:
    """Write each file; returns the sha256 of each, computed as it is written (never read back)."""
    digests = {}
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        # A new file, not the old one truncated: in a staging folder the old one is the live folder's (a hard link).
        path.unlink(missing_ok=True)
        with path.open("wb") as f:
            for piece in pieces(content):
                f.write(piece)
                digest.update(piece)
        digests[name] = digest.hexdigest()
    return digests


def write_output(path: Path, data: bytes) -> None:
    """Write a file an officer named (`--out`): never into a draw folder, whose files only the stages
    write (a board written over transcript.json would leave a draw nobody can verify)."""
    path = Path(path)
    if (path.parent / "transcript.json").is_file():
        raise SpotcheckError(Problem(
            "R540", f"{path} 在抽取结果目录 {path.parent} 中，不会写入", file=str(path),
            hint="抽取结果目录中的文件只由 spotcheck 各命令写入；请把 --out 指向别的目录"))
    write_file_atomic(path, data)


def write_file_atomic(path: Path, data: bytes) -> None:
    """Write one file via a temp file in the same folder and os.replace. The temp file is locked while
    it is written, so one a killed run left is removed by the next write of that file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stranded in unheld(path.parent.glob(f".{glob.escape(path.name)}.*{_PART}")):
        remove(stranded)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=_PART, dir=path.parent)
    held = Held(Path(tmp), fd)
    try:
        os.fchmod(fd, umask_mode(directory=False))
        with os.fdopen(os.dup(fd), "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        held.release()


_PART = ".part"


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
