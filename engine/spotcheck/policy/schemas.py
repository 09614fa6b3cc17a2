"""JSON Schemas for editors and other tools, exported from the pydantic models.

The files in validators/ are generated and checked in: a policy's first line
`# yaml-language-server: $schema=../../validators/policy.schema.json` gives officers key completion and
the models' Chinese titles as hover help. `schema_drift` tells when the checked-in files no longer
match the models (the test suite fails then; `spotcheck schema export` rewrites them).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from pydantic import BaseModel
from spotcheck.calendar.workdays import YearSchedule
from spotcheck.policy.cases import CasesFile
from spotcheck.errors import Problem
from spotcheck.policy.files import CALENDAR, CASES, ITEM_LIST, POLICY, SCHEMA_FILES
from spotcheck.resources import SCHEMAS
from spotcheck.policy.model import ItemList, Policy

MODELS: dict[str, type[BaseModel]] = {
    SCHEMA_FILES[POLICY]: Policy,
    SCHEMA_FILES[ITEM_LIST]: ItemList,
    SCHEMA_FILES[CALENDAR]: YearSchedule,
    SCHEMA_FILES[CASES]: CasesFile,
}
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema(model: type[BaseModel]) -> dict:
    """The JSON Schema of a file model, as YAML input is validated (by alias, dates as strings)."""
    return {"$schema": DIALECT, **model.model_json_schema(by_alias=True, mode="validation")}


def render(model: type[BaseModel]) -> str:
    return json.dumps(schema(model), ensure_ascii=False, indent=2) + "\n"


def export_schemas(dest: Path = SCHEMAS) -> list[Path]:
    """Write every schema into `dest` (each file replaced atomically); returns the files written."""
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in MODELS.items():
        target = dest / name
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=dest)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
                out.write(render(model))
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(target)
    return written


def schema_drift(dest: Path = SCHEMAS) -> list[Problem]:
    """P191 for each schema file in `dest` that is missing or differs from a fresh export."""
    found = []
    for name, model in MODELS.items():
        target = dest / name
        try:
            current = target.read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != render(model):
            state = "缺失" if current is None else "与模型不一致"
            found.append(Problem("P191", f"{target.name} {state}", file=str(target),
                                 hint="模型改动后运行 spotcheck schema export 重新生成并一起提交"))
    return found
