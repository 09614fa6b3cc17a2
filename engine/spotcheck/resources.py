"""Where the data spotcheck ships lives: bundled policies, templates and JSON Schemas.

In the repository they are the top-level folders policies/, templates/ and validators/; the wheel
carries the same folders inside the package as spotcheck/data/ (pyproject's force-include). An
editable install has no data/ folder, so the checkout's folders are used: one set of files either way.
"""

from importlib.resources import files
from pathlib import Path

_PACKAGE = Path(str(files("spotcheck")))
_BUNDLED = _PACKAGE / "data"
_DATA = _BUNDLED if _BUNDLED.is_dir() else _PACKAGE.parent.parent

POLICIES = _DATA / "policies"
TEMPLATES = _DATA / "templates"
SCHEMAS = _DATA / "validators"


def policy_file(policy_id: str) -> Path:
    """Where a bundled policy with this id lives: policies/<id>.yaml."""
    return POLICIES / f"{policy_id}.yaml"
