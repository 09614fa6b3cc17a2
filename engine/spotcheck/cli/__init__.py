"""The `spotcheck` command. A thin layer: each command parses, makes one library call, prints, exits."""

from spotcheck.cli.common import main  # noqa: F401  (the entry point: spotcheck.cli:main)


def _register() -> None:
    # Each area keeps its commands in its own module so that no two stages edit one file.
    from spotcheck.cli import (
        calendar_cmd,  # noqa: F401
        demo_cmd,  # noqa: F401
        draw_cmd,  # noqa: F401
        init_cmd,  # noqa: F401
        ledger_cmd,  # noqa: F401
        notice_cmd,  # noqa: F401
        policy_cmd,  # noqa: F401
        results_cmd,  # noqa: F401
        site_cmd,  # noqa: F401
        teams_cmd,  # noqa: F401
        year_cmd,  # noqa: F401
    )


_register()
