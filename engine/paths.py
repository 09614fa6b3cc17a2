"""Where the project's own data lives: policies/, templates/, validators/ beside engine/.

spotcheck is installed from a checkout (`pip install -e .`): policies are versioned in the same
repository as the code that reads them, so the data folders are found relative to this file.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"
TEMPLATES = ROOT / "templates"
SCHEMAS = ROOT / "validators"


def policy_file(policy_id: str) -> Path:
    """Where a policy with this id lives in the repository: policies/<id>.yaml."""
    return POLICIES / f"{policy_id}.yaml"
