"""The files a policy names (`extends`, `item_lists`, `calendars`): a path relative to the policy's
own folder, or a bundled file by its stable name, `spotcheck:hebei/baseline`.

A bureau's repository lies wherever the bureau keeps it and spotcheck wherever pip put it, so a policy
reaches a bundled baseline, item list or holiday schedule by name, never by a path into
site-packages. The same name works from an editable checkout and from an installed wheel.
"""

from __future__ import annotations

import os
from pathlib import Path

from spotcheck.errors import Problem
from spotcheck.policy.problems import did_you_mean
from spotcheck.policy.yamlsource import display
from spotcheck.resources import BUNDLED_PREFIX, POLICIES, bundled_file, bundled_name, bundled_names, is_bundled

# key → (code when a path is missing, what the file is, kind of bundled file, how to write it)
_KEYS = {
    "extends": ("P303", "上级策略", "policy",
                "extends 写相对本文件的路径（如 ../../national/baseline.yaml），或内置策略的名称（如 spotcheck:hebei/baseline）"),
    "item_lists": ("P304", "事项清单", "items",
                   "item_lists 写相对本策略文件的路径，或内置清单的名称（如 spotcheck:hebei/items/2024）"),
    "calendars": ("P304", "节假日安排", "calendar",
                  "calendars 写相对本策略文件的路径，或内置安排的名称（spotcheck:calendars/…）"),
}

_NOUNS = {"policy": "策略", "items": "事项清单", "calendar": "节假日安排"}


def resolve(ref: str, folder: Path) -> Path:
    """The file a reference written in a policy of `folder` names (it may not exist)."""
    if ref.startswith(BUNDLED_PREFIX):
        # A name that would climb out of the bundled policies resolves to a file that never exists.
        return bundled_file(ref[len(BUNDLED_PREFIX):]) or POLICIES / ".not-a-bundled-name"
    return Path(os.path.normpath(folder / ref))


def missing(ref: str, resolved: Path, key: str) -> Problem:
    """The problem for a reference under `key` whose file does not exist: P309 for an unknown bundled
    name (with the closest known one), else P303/P304 naming the path."""
    code, what, kind, hint = _KEYS[key]
    if ref.startswith(BUNDLED_PREFIX):
        known, noun = bundled_names(kind), _NOUNS[kind]
        return Problem("P309", f"没有名为 {ref} 的内置{noun}{did_you_mean(ref, known)}",
                       where=key if key == "extends" else None,
                       hint=f"内置的{noun}有：{'、'.join(known) or '（无）'}；或写相对本文件的路径")
    return Problem(code, f"找不到{what}文件 {display(resolved)}", where=key if key == "extends" else None, hint=hint)


def rebase(ref: str, old_folder: Path, new_folder: Path) -> str:
    """A reference written in a file of `old_folder`, as written in a file of `new_folder` (an inherited
    item list or calendar). Bundled names stay names; a path into the bundled policies, seen from
    outside them, becomes its name, so a bureau's resolved policy (and what a draw commits to) does
    not depend on where spotcheck is installed; any other path becomes relative to `new_folder`."""
    if ref.startswith(BUNDLED_PREFIX):
        return ref
    target = old_folder / ref
    name = bundled_name(target)
    if name is not None and not is_bundled(new_folder):
        return name
    return os.path.relpath(target, new_folder)
