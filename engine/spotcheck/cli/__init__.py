"""The `spotcheck` command. A thin layer: each command parses, makes one library call, prints, exits."""

from spotcheck.cli.common import main

# Each area keeps its commands in its own module so that no two stages edit one file; a module is imported
# when one of its commands is named (tests/cli/test_common.py checks this list against the modules).
COMMANDS = {
    "deadline": "calendar_cmd",
    "demo": "demo_cmd",
    "synth": "draw_cmd", "draw": "draw_cmd", "verify": "draw_cmd",
    "init": "init_cmd",
    "ledger": "ledger_cmd",
    "notice": "notice_cmd",
    "validate": "policy_cmd", "diff": "policy_cmd", "test": "policy_cmd", "schema": "policy_cmd",
    "results": "results_cmd", "report": "results_cmd",
    "site": "site_cmd", "lodge": "site_cmd",
    "plan": "teams_cmd", "teams": "teams_cmd", "tables": "teams_cmd",
    "year": "year_cmd",
}
main.load_lazily({name: f"spotcheck.cli.{module}" for name, module in COMMANDS.items()})

__all__ = ["main"]  # the entry point: spotcheck.cli:main
