"""All-or-nothing output folders.

A draw folder is built in a hidden sibling and renamed into place, so a crash leaves either the whole
folder or none of it. Later stages (visits, teams, notices) add files the same way: copy, add, swap.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from spotcheck.errors import Problem, SpotcheckError


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


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def write_file_atomic(path: Path, data: bytes) -> None:
    """Write one file via a temp file in the same folder and os.replace."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def first_difference(name: str, expected: bytes, actual: bytes) -> Problem | None:
    if expected == actual:
        return None
    exp, act = expected.decode("utf-8").splitlines(), actual.decode("utf-8").splitlines()
    for i, (a, b) in enumerate(zip(exp, act, strict=False), start=1):
        if a != b:
            return Problem("V701", f"{name} 第 {i} 行不一致：重算为 {a!r}，文件中为 {b!r}", file=name)
    return Problem("V701", f"{name} 行数不一致：重算 {len(exp)} 行，文件中 {len(act)} 行", file=name)
