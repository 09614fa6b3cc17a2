import datetime as dt

import pytest
from conftest import announced_rows as rows
from spotcheck.notices import api as notice
from spotcheck.notices.announcements import results_notice
from spotcheck.results import notice_md, substitution

ON = dt.date(2023, 12, 20)


def fast_path(policy, full, cells):
    return notice_md._fast(policy, full, cells, substitution.survey(cells, notice_md._SPECIAL, notice_md._ESCAPED),
                           notice.TEMPLATES)


def both(policy, given):
    full = results_notice(policy, given, ON)
    cells = substitution.cell_frame(full.results.rows, len(full.results.columns))
    return full, cells


# With 检查机关 as a column (row 11's body is the task's own) and without it (every row's body the same).
@pytest.mark.parametrize("body, columns", [("", 7), ("示范市东区市场监督管理局", 6)])
def test_rows_by_substitution_equal_the_template_rendering(demo_policy, body, columns):
    given = rows(substitution.FAST_ROWS + 5, r7={"name": "示范|丁|A&B \\ \"工作室\"", "remarks": "<备注>"},
                 r11={"inspecting_body": body}, r30={"remarks": "a||b"})
    full, cells = both(demo_policy, given)
    assert cells.width == columns
    fast = fast_path(demo_policy, full, cells)
    assert fast is not None  # the fast path was taken, not the fallback
    assert b"".join(fast).decode("utf-8") == notice.render_notice(demo_policy, full, "md")


def test_a_pattern_that_does_not_reproduce_the_guard_rows_falls_back(demo_policy, monkeypatch):
    given = rows(substitution.FAST_ROWS, r4={"name": "甲|乙"})
    full, cells = both(demo_policy, given)
    monkeypatch.setattr(notice_md, "_cell", lambda text: text)  # not as md_cell writes a cell
    assert fast_path(demo_policy, full, cells) is None
    assert b"".join(notice_md.frame_md(demo_policy, full, cells)).decode("utf-8") == notice.render_notice(demo_policy, full, "md")


@pytest.mark.parametrize("count, text", [(substitution.FAST_ROWS, "第一行\n第二行"), (3, "甲|乙")])
def test_line_breaks_and_short_tables_are_rendered_whole(demo_policy, monkeypatch, count, text):
    given = rows(count, r1={"remarks": text})
    full, cells = both(demo_policy, given)
    monkeypatch.setattr(notice_md, "_fast", lambda *a: pytest.fail("went through the fast path"))
    assert b"".join(notice_md.frame_md(demo_policy, full, cells)).decode("utf-8") == notice.render_notice(demo_policy, full, "md")


def test_rows_made_in_several_batches_equal_the_template_rendering(demo_policy, monkeypatch):
    monkeypatch.setattr(substitution, "_BATCH", 5)
    given = rows(substitution.FAST_ROWS + 11, r6={"name": "甲|乙"}, r17={"remarks": "a|b"})
    full, cells = both(demo_policy, given)
    fast = fast_path(demo_policy, full, cells)
    assert fast is not None
    assert b"".join(fast).decode("utf-8") == notice.render_notice(demo_policy, full, "md")
