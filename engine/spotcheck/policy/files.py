"""Which file under a policies tree holds what, decided by its name and folder, and the walk that finds them.

Kinds of file (see docs/errors.md):
  - `.../items/*.yaml`            an item list (ItemList)
  - `.../calendars/**/*.yaml`     a holiday schedule (calendar.YearSchedule)
  - `*.cases.yaml`                test cases for the policy beside it (cases.py)
  - every other `*.yaml`          a Policy; README.md and other files are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from spotcheck.errors import Problem

POLICY, ITEM_LIST, CALENDAR, CASES = "policy", "item_list", "calendar", "cases"
CASES_SUFFIX = ".cases.yaml"  # a policy's test cases sit beside it: 2024.yaml, 2024.cases.yaml

SCHEMA_FILES = {
    POLICY: "policy.schema.json",
    ITEM_LIST: "item-list.schema.json",
    CALENDAR: "calendar.schema.json",
    CASES: "cases.schema.json",
}


def file_kind(path: Path) -> str | None:
    """What a file under a policies tree holds, by its name and folder; None for files to skip."""
    if path.suffix != ".yaml":
        return None
    if path.name.endswith(CASES_SUFFIX):
        return CASES
    folders = path.parent.parts
    # Only folders inside the policies tree count, not wherever the checkout happens to live.
    inside = folders[len(folders) - folders[::-1].index("policies"):] if "policies" in folders else folders[-1:]
    if "calendars" in inside:
        return CALENDAR
    if path.parent.name == "items":
        return ITEM_LIST
    return POLICY


KIND_NAMES = {POLICY: "策略", ITEM_LIST: "事项清单", CALENDAR: "节假日安排", CASES: "测试用例"}


def find_files(paths: Iterable[str | Path]) -> tuple[dict[str, list[Path]], list[Problem]]:
    """The YAML files under `paths` by kind; a path that does not exist is a problem."""
    files: dict[str, list[Path]] = {kind: [] for kind in KIND_NAMES}
    problems: list[Problem] = []
    seen: set[Path] = set()
    for given in paths:
        path = Path(given)
        if path.is_dir():
            candidates = sorted(p for p in path.rglob("*.yaml") if p.is_file())
        elif path.is_file():
            candidates = [path]
        else:
            problems.append(Problem("P100", f"路径不存在：{given}", file=str(given), hint="检查路径拼写"))
            continue
        for candidate in candidates:
            kind = file_kind(candidate)
            if kind is not None and candidate.resolve() not in seen:
                seen.add(candidate.resolve())
                files[kind].append(candidate)
    return files, problems

