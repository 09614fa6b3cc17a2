"""The one error type of spotcheck, and the problems it carries.

Every stage collects all the problems it finds in an input before it raises, so an officer fixes a
file in one pass. The library never prints: the CLI formats the problems and picks the exit code.
"""

from __future__ import annotations

import errno
import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input, located as precisely as the input allows."""

    code: str  # stable, greppable: P1xx policy, D2xx directory, C3xx calendar, L4xx ledger, ...
    message: str  # Chinese, for the officer
    file: str | None = None
    line: int | None = None  # policy files: 1-based line
    col: int | None = None  # policy files: 1-based column
    where: str | None = None  # path inside the document, objects named by id: "任务 't01' → 抽查比例"
    row: int | None = None  # directories: 1-based data row as a spreadsheet shows it (header is row 1)
    column: str | None = None  # directories: the header as written in the file
    hint: str | None = None  # how to fix it
    severity: str | None = None  # "warning": reported, but the input is still usable; None: an error

    @property
    def warning(self) -> bool:
        return self.severity == "warning"

    def location(self) -> str:
        if self.file is None:
            return ""
        if self.line is not None:
            return f"{self.file}:{self.line}:{self.col or 1}"
        if self.row is not None:
            col = f" 列 {self.column}" if self.column else ""
            return f"{self.file}: 第 {self.row} 行{col}"
        return self.file

    def format(self) -> str:
        """`FILE:LINE:COL: CODE message` then the path inside the document and the hint."""
        head = self.location()
        code = f"{self.code}（提醒）" if self.warning else self.code
        text = f"{head}: {code} {self.message}" if head else f"{code} {self.message}"
        if self.where:
            text += f"\n    ==> 位置：{self.where}"
        if self.hint:
            text += f"\n    ==> 修改建议：{self.hint}"
        return text

    def github(self) -> str:
        """A GitHub Actions annotation line."""
        parts = []
        if self.file:
            parts.append(f"file={self.file}")
        if self.line is not None:
            parts.append(f"line={self.line}")
        if self.col is not None:
            parts.append(f"col={self.col}")
        msg = self.message + (f"（{self.where}）" if self.where else "")
        if self.hint:
            msg += f" 修改建议：{self.hint}"
        msg = msg.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return f"::{'warning' if self.warning else 'error'} {','.join(parts)}::{self.code} {msg}"

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


class SpotcheckError(Exception):
    """Raised with every problem found; `problems` is never empty."""

    def __init__(self, problems: list[Problem] | Problem | str, code: str = "E001") -> None:
        if isinstance(problems, str):
            problems = [Problem(code=code, message=problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        if not problems:
            raise ValueError("SpotcheckError needs at least one problem")
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(p.format() for p in self.problems))


def format_problems(problems: list[Problem], fmt: str = "text", limit: int | None = None) -> str:
    """Render problems as text, GitHub annotations or JSON; `limit` caps the text lines with a count of the rest."""
    if fmt == "json":
        return json.dumps([p.to_dict() for p in problems], ensure_ascii=False, indent=2)
    shown = problems if limit is None else problems[:limit]
    render = (lambda p: p.github()) if fmt == "github" else (lambda p: p.format())
    lines = [render(p) for p in shown]
    if limit is not None and len(problems) > limit:
        lines.append(f"……另有 {len(problems) - limit} 个问题未显示（共 {len(problems)} 个）")
    return "\n".join(lines)


_OS_REASONS = {
    errno.ENOENT: "文件不存在",
    errno.EACCES: "没有读取或写入权限",
    errno.EPERM: "没有读取或写入权限",
    errno.EISDIR: "这是一个文件夹，不是文件",
    errno.ENOTDIR: "路径中的某一级不是文件夹",
    errno.ENAMETOOLONG: "文件名过长",
    errno.ENOSPC: "磁盘空间不足",
    errno.EROFS: "文件系统只读",
    errno.EIO: "磁盘读写出错",
}


def reason(exc: BaseException) -> str:
    """Why a file could not be read, in the officer's words: what the operating system or a library
    says is English, and names its internals."""
    if isinstance(exc, OSError):
        return _OS_REASONS.get(exc.errno or 0, "操作系统拒绝了这次读写")
    if isinstance(exc, UnicodeDecodeError):
        return f"不是 UTF-8 编码（第 {exc.start + 1} 个字节无法解码）"
    if isinstance(exc, json.JSONDecodeError):
        return f"第 {exc.lineno} 行第 {exc.colno} 列处不是有效的 JSON"
    return "内容已损坏或格式不对"
