"""What each module of the package says it exports (`__all__`) is there: `from module import *` works."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
import spotcheck

PACKAGE = Path(spotcheck.__file__).parent


def _exporting() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        if any(isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets)
               for node in tree.body):
            parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_modules_export_something():
    assert len(_exporting()) >= 10


@pytest.mark.parametrize("name", _exporting())
def test_every_exported_name_exists(name):
    module = importlib.import_module(name)
    assert [n for n in module.__all__ if not hasattr(module, n)] == []
