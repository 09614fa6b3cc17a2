"""Everything wrong in a tree of policy files, found in one pass, each problem with file:line:col.

Each policy is loaded (loader.Session: its model, the floors of `extends:`, the checks across the
policy); this module adds the schema header line, the holiday schedules and the cases files, and
walks folders, deciding each file's kind by where it lives (files.file_kind).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from spotcheck.calendar.workdays import WorkCalendar
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.policy.cases import cases_file_problems
from spotcheck.policy.files import CALENDAR, ITEM_LIST, KIND_NAMES, POLICY, SCHEMA_FILES, find_files
from spotcheck.policy.loader import Session
from spotcheck.policy.problems import sorted_problems
from spotcheck.policy.yamlsource import display
from spotcheck.resources import PACKAGE, repository_root

SCHEMA_LINE = "# yaml-language-server: $schema="


@dataclass(frozen=True)
class ValidationReport:
    files: dict[str, list[Path]]  # kind → files checked
    problems: list[Problem]  # sorted by file, line, column
    warnings: list[Problem]  # the same, for what is still usable (W9xx: another year named …)


def schema_header_problem(path: Path, kind: str, text: str) -> Problem | None:
    """P190 when the first line does not point the editor at the right JSON Schema inside the file's
    own repository (this checkout's validators/, or a bureau's written by `spotcheck schema export`)."""
    expected = SCHEMA_FILES[kind]
    here = path.resolve().parent
    repo = repository_root(path)
    local = next((d / "validators" / expected for d in (here, *here.parents)
                  if d.is_relative_to(repo) and (d / "validators" / expected).is_file()), None)
    if local is None:
        hint = (f"运行 spotcheck schema export --out {display(repo / 'validators')} 把 JSON Schema 写进本仓库，"
                f"然后第一行写：{SCHEMA_LINE}{os.path.relpath(repo / 'validators' / expected, here)}")
    else:
        hint = f"第一行写：{SCHEMA_LINE}{os.path.relpath(local, here)}（编辑器据此提示键名和说明）"
    first = text.split("\n", 1)[0].strip()
    if not first.startswith(SCHEMA_LINE):
        return Problem("P190", f"第一行缺少 JSON Schema 声明（{KIND_NAMES[kind]}应使用 {expected}）",
                       file=display(path), line=1, col=1, hint=hint)
    target = first[len(SCHEMA_LINE):].strip()
    pointed = path.parent / target
    if Path(target).name != expected or not pointed.is_file():
        why = f"应指向 {expected}" if Path(target).name != expected else "指向的文件不存在"
    elif pointed.resolve().is_relative_to(PACKAGE.resolve()) and not path.resolve().is_relative_to(PACKAGE.resolve()):
        why = "指向 spotcheck 的安装目录，换一台电脑或升级后就找不到了"
    else:
        return None
    return Problem("P190", f"JSON Schema 声明 {target} {why}", file=display(path), line=1,
                   col=len(SCHEMA_LINE) + 1, hint=hint)


def validate_report(paths: Iterable[str | Path]) -> ValidationReport:
    """Validate every policy, item list, calendar and cases file under `paths`."""
    files, problems = find_files(paths)
    if not problems and not any(files.values()):
        problems.append(Problem("P105", "没有找到要检查的 YAML 文件", hint="给出 policies/ 下的文件或文件夹；新仓库可先运行 spotcheck init"))
    session = Session()
    warnings: list[Problem] = []
    for kind, found in files.items():
        for path in found:
            if kind in (POLICY, ITEM_LIST):
                doc, _ = session.document(path)
                if doc is not None and (header := schema_header_problem(path, kind, doc.text)) is not None:
                    problems.append(header)
            if kind == POLICY:
                outcome = session.policy(path)
                problems += outcome.problems
                warnings += outcome.warnings
            elif kind == ITEM_LIST:
                problems += session.item_list(path)[1]
            elif kind == CALENDAR:
                try:
                    WorkCalendar.from_files([path])
                except SpotcheckError as exc:
                    problems += exc.problems
            else:
                problems += cases_file_problems(path, session)
    return ValidationReport(files, sorted_problems(problems), sorted_problems(warnings))


def validate_paths(paths: Iterable[str | Path]) -> list[Problem]:
    """All problems in all files under `paths`, sorted by file and line."""
    return validate_report(paths).problems

