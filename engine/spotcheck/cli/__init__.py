"""The `spotcheck` command. A thin layer: each command parses, makes one library call, prints, exits."""

import click
from spotcheck.version import __version__, engine_version
from spotcheck.cli.common import ChineseGroup


@click.group(cls=ChineseGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="spotcheck", help="显示版本并退出。",
                      message=f"%(prog)s %(version)s（引擎版本 {engine_version()}）")
def main() -> None:
    """spotcheck：“双随机、一公开”抽查计划数据工具。"""


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
