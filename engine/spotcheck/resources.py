"""Where the data spotcheck ships lives: bundled policies, templates and JSON Schemas.

In the repository they are the top-level folders policies/, templates/ and validators/; the wheel
carries the same folders inside the package as spotcheck/data/ (pyproject's force-include). An
editable install has no data/ folder, so the checkout's folders are used: one set of files either way.

A bureau's own repository has the same shape (`spotcheck init` writes it): its policies/, and
optionally templates/ and validators/, beside each other. Its policies name a bundled file by a
stable name, `spotcheck:<path under the bundled policies/ without .yaml>` (`spotcheck:hebei/baseline`,
`spotcheck:hebei/items/2024`), never by a path into site-packages.
"""

from importlib.resources import files
from pathlib import Path

from spotcheck.errors import Problem, SpotcheckError
from spotcheck.ids import HINT as ID_HINT
from spotcheck.ids import is_path_id

PACKAGE = Path(str(files("spotcheck")))
_BUNDLED = PACKAGE / "data"
_DATA = _BUNDLED if _BUNDLED.is_dir() else PACKAGE.parent.parent

POLICIES = _DATA / "policies"
TEMPLATES = _DATA / "templates"
SCHEMAS = _DATA / "validators"

BUNDLED_PREFIX = "spotcheck:"


def local_policies() -> Path:
    """The policies/ folder of the working folder when there is one (a bureau's repository, or this
    checkout), else the bundled policies: what `validate`, `test` and a draw's policy id look in."""
    here = Path("policies")
    return here if here.is_dir() else POLICIES


def repository_root(path: Path) -> Path:
    """The repository a policy file belongs to: the folder holding its policies/ folder, else the
    nearest folder with .git, else the file's own folder. Its templates/ and validators/ are the
    repository's own."""
    folders = path.resolve().parents
    for folder in folders:
        if folder.name == "policies":
            return folder.parent
    return next((f for f in folders if (f / ".git").exists()), path.resolve().parent)


def policy_file(policy_id: str) -> Path:
    """Where the policy with this id lives: policies/<id>.yaml of the working folder, else bundled."""
    if not is_path_id(policy_id):
        # Ids are checked where they are read; one that is not safe here came from an edited file.
        raise SpotcheckError(Problem("P150", f"策略标识 {policy_id!r} 含有不允许的字符", hint=ID_HINT))
    local = local_policies() / f"{policy_id}.yaml"
    return local if local.is_file() else POLICIES / f"{policy_id}.yaml"


def bundled_file(name: str) -> Path | None:
    """The bundled file a `spotcheck:` name stands for (None when the name could leave the bundled
    policies, e.g. with `..`); whether it exists is the caller's question."""
    parts = Path(name).parts
    if not parts or Path(name).is_absolute() or any(p in ("..", ".") for p in parts):
        return None
    return POLICIES.joinpath(*parts).with_name(parts[-1] + ".yaml")


def is_bundled(path: Path) -> bool:
    """Whether a file or folder lies inside the bundled policies."""
    return path.resolve().is_relative_to(POLICIES.resolve())


def bundled_name(path: Path) -> str | None:
    """The `spotcheck:` name of a file inside the bundled policies, None for any other file."""
    if not is_bundled(path) or path.resolve() == POLICIES.resolve():
        return None
    return BUNDLED_PREFIX + path.resolve().relative_to(POLICIES.resolve()).with_suffix("").as_posix()


def bundled_names(kind: str) -> list[str]:
    """Every bundled name of one kind: "policy" (baselines and seed policies), "items" or "calendar"."""
    out = []
    for path in sorted(POLICIES.rglob("*.yaml")):
        folders = path.relative_to(POLICIES).parts[:-1]
        found = ("calendar" if "calendars" in folders else "items" if folders[-1:] == ("items",)
                 else None if path.name.endswith(".cases.yaml") else "policy")
        if found == kind:
            out.append(str(bundled_name(path)))
    return out
