"""Titles broken into whole phrases (GB/T 9704-2012 §7.3.2), for any title a bureau writes."""

from __future__ import annotations

import pytest
from spotcheck.notices.titles import breaks, capacity, em_width, lined, title_lines

PORTRAIT, LANDSCAPE = capacity(156, 22), capacity(225, 22)
QHD = "秦皇岛市市场监督管理局"


def test_a_title_that_fits_is_one_line_unchanged():
    assert title_lines("随机抽查通知书", PORTRAIT) == ("随机抽查通知书",)
    assert lined(f"{QHD}2026年度第001号抽查任务检查结果公告", 156 * 3, QHD) == f"{QHD}2026年度第001号抽查任务检查结果公告"


def test_the_results_title_in_landscape_breaks_into_two_even_lines_at_the_year():
    # Printed before as one line and "告" alone on a second.
    title = f"{QHD}2026年度第001号抽查任务检查结果公告"
    assert len(title) == 32 and em_width(title) == 28.5
    assert title_lines(title, LANDSCAPE, QHD) == (f"{QHD}2026年度", "第001号抽查任务检查结果公告")


def test_a_quoted_name_is_never_broken():
    # Printed before as "…2026 年度“双随机、" / "一公开”抽查任务公告".
    title = f"{QHD}2026年度“双随机、一公开”抽查任务公告"
    assert title_lines(title, PORTRAIT, QHD) == (f"{QHD}2026年度", "“双随机、一公开”抽查任务公告")


@pytest.mark.parametrize("title", [
    "关于转发《国家市场监督管理总局关于2026年度第3号抽查工作的指导意见》的通知",
    "某县市场监督管理局关于印发《某县2026年度“双随机、一公开”抽查实施方案（第2026号修订稿）》的通知",
    "某某省某某市某某区市场监督管理局关于开展2026年度第十二号产品质量监督抽查工作的通知",
    "长治市2024年度部门联合双随机抽查工作计划（“一业一查”部门联合双随机抽查工作计划）-市直",
])
@pytest.mark.parametrize("width", [PORTRAIT, LANDSCAPE, 12])
def test_a_bureaus_title_breaks_only_between_whole_phrases(title, width):
    lines = title_lines(title, width, title[:title.find("局") + 1] if "局" in title else None)
    assert "".join(lines) == title
    if len(lines) > 1:
        assert all(em_width(line) <= width for line in lines)
        assert all(len(line) >= 2 for line in lines)
        assert all(line[0] not in "”’》）)" and line[-1] not in "“‘《（(" for line in lines)
        depth = 0
        for line in lines[:-1]:
            depth += sum(line.count(c) for c in "“《（") - sum(line.count(c) for c in "”》）")
            assert depth == 0, lines
            assert not (line[-1].isdigit() and lines[lines.index(line) + 1][0].isdigit())


def test_breaks_are_the_declared_phrase_ends_only():
    title = f"{QHD}关于印发2026年度“双随机、一公开”抽查工作计划的通知"
    assert [title[:i][-2:] + "|" + title[i:i + 2] for i in breaks(title, QHD)] == ["理局|关于", "年度|“双"]
    # A year in a date (年 before a digit), 年 inside a word and 第 without 号 are no phrase ends.
    assert breaks("2026年1月青年工作第一阶段安排") == []
    assert breaks("某局2026年度第001号公告", "某局") == [2, 8]


def test_a_break_never_leaves_one_character_alone():
    # The only break that fits would leave "告" alone: the title is left to wrap as before.
    assert title_lines("甲乙丙丁戊己2026年度告", 10) == ("甲乙丙丁戊己2026年度告",)


def test_the_most_even_lines_the_upper_the_shorter():
    assert title_lines("甲乙局丙关于丁戊", 5, "甲乙局") == ("甲乙局丙", "关于丁戊")  # not 3 | 5
    assert title_lines("甲乙局丙关于丁", 5, "甲乙局") == ("甲乙局", "丙关于丁")  # 3 | 4, not 4 | 3


def test_no_allowed_break_that_fits_leaves_the_title_to_wrap():
    title = "某市市场监督管理局关于加强和改进食品生产经营企业日常监督检查工作的通知"
    assert title_lines(title, PORTRAIT, "某市市场监督管理局") == (title,)
