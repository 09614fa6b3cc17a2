"""Which spotcheck is running: the release (package metadata) and the engine that computes draws.

The release number lives in one place, pyproject.toml, and is read back from the installed package's
metadata. It says little about the code, though: every commit between two releases carries the same
number. A commitment and a draw transcript record the *engine version* instead, the release followed
by a digest of the package's own Python source (`0.1.0+5f3a9c0e21b4`): any change to any module
changes it, so a reveal under a changed engine is refused (R503) and `spotcheck verify` names the
difference. The data the wheel carries (policies, templates, schemas) is not part of the digest; a
draw commits to its policy separately.

The digest is the SHA-256 of, for every `*.py` file under the package in path order, its path
relative to the package (POSIX separators), a NUL byte, its bytes and a NUL byte. An editable install
and a wheel built from the same checkout hold the same files, so they report the same engine version.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import metadata
from pathlib import Path

__version__ = metadata.version("spotcheck")

_PACKAGE = Path(__file__).resolve().parent


@cache
def source_digest(package: Path = _PACKAGE) -> str:
    """SHA-256 of the package's Python source (how: the module docstring); computed once per process."""
    digest = hashlib.sha256()
    files = sorted((p.relative_to(package).as_posix(), p) for p in package.rglob("*.py")
                   if p.relative_to(package).parts[0] != "data")
    for name, path in files:
        digest.update(name.encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def engine_version() -> str:
    """The release and the first 12 hex digits of the source digest, e.g. 0.1.0+5f3a9c0e21b4."""
    return f"{__version__}+{source_digest()[:12]}"
