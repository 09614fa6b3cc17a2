"""Help pages wrapped by terminal columns, at places Chinese allows, never inside an ASCII word."""

from __future__ import annotations

import re

import click
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from spotcheck.cli import helptext, main
from spotcheck.terminal import columns

WORDS = st.sampled_from(["计", "划", "抽", "查", "，", "。", "、", "（", "）", "“", "”", "：", " ", "work_notice",
                         "--kind", "2021", ".zip", "x"])


@given(st.lists(WORDS, max_size=60), st.integers(min_value=12, max_value=60))
def test_every_line_fits_and_nothing_is_lost_or_broken(pieces, width):
    text = "".join(pieces)
    lines = helptext.wrap(text, width)
    # Wider than the line only where there is nowhere to break: one word with the marks held to it.
    assert all(columns(line) <= width or len(helptext._units(line)) == 1 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    for word in re.findall(r"[!-~]+", text):
        assert any(word in line for line in lines), word  # an ASCII word is never cut
    for before, after in zip(lines, lines[1:]):
        assert after[:1] not in helptext._CLOSING and before[-1:] not in helptext._OPENING, (before, after)


def test_a_paragraphs_lines_join_without_a_space_between_han_characters_and_paragraphs_stay():
    assert helptext.wrap("第一段第一行\n接着写，\nthen words\n\n第二段", 80) == ["第一段第一行接着写， then words", "", "第二段"]
    assert helptext.wrap("\b\n保留  原样\n的行", 4) == ["保留  原样", "的行"]


def test_the_notice_commands_help_fits_80_columns_and_keeps_every_kind_whole():
    out = CliRunner().invoke(main, ["notice", "--help"], terminal_width=80).output
    # click counted characters: a line of Han characters ran to ~110 columns and "work_notice" was cut.
    assert max(columns(line) for line in out.splitlines()) <= 80
    for kind in ("plan_notice", "campaign_notice", "work_notice", "inspection_letter", "results_notice"):
        assert kind in out
    assert "选项：" in out and "选项:" not in out


def test_the_list_of_commands_shows_each_commands_first_sentence_whole():
    out = CliRunner().invoke(main, ["--help"], terminal_width=80).output
    listed = re.sub(r"\s+", "", out[out.index("命令："):])
    assert "..." not in listed  # click cut a long line to "……teams.csv..."
    assert "tables把抽取结果目录中的draws.csv、visits.csv、teams.csv另存为中文表头的副本（抽取名单、检查安排、检查组）。" in listed


def _pages(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    # Through list_commands and get_command: the commands are loaded as they are asked for.
    ctx = click.Context(group)
    out = [path]
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        out += _pages(command, (*path, name)) if isinstance(command, click.Group) else [(*path, name)]
    return out


def test_every_help_page_fits_80_columns():
    # The demo's page printed the checkout's absolute path of its default policy, 86 columns and more.
    runner = CliRunner()
    pages = _pages(main)
    assert len(pages) > 30
    for path in pages:
        out = runner.invoke(main, [*path, "--help"], terminal_width=80).output
        widest = max(out.splitlines(), key=columns)
        assert columns(widest) <= 80, (path, widest)
