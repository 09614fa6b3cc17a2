import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from spotcheck.results import notice_docx, notice_md, substitution


def test_the_guard_rows_cover_empty_text_and_escaped_cells():
    table = [("1", "甲", ""), ("2", "乙", ""), ("3", "A&B", "x"), ("4", "丁", "")]
    assert substitution.survey(substitution.cell_frame(table, 3), notice_docx.WORD_SPECIAL, notice_docx.WORD_ESCAPED).guards == [0, 2]


LAYOUT = "\t\n\a\f\r"  # what docxtpl lays out


def surveyed_cell_by_cell(table: list[list[str]], special: str, escaped: str) -> tuple:
    """The survey of `table` read cell by cell: (guards, laid_out, escapes, empties, same)."""
    columns = list(zip(*table, strict=True))
    guards = {0}
    for column in columns:
        for kind in (lambda t: t == "", lambda t: t != "", lambda t: any(ch in special for ch in t)):
            guards |= {i for i in [next((i for i, t in enumerate(column) if kind(t)), None)] if i is not None}
    return (sorted(guards), any(ch in LAYOUT for row in table for t in row for ch in t),
            tuple(any(ch in escaped for t in column for ch in t) for column in columns),
            tuple("" in column for column in columns), tuple(column[0] if len(set(column)) == 1 else None for column in columns))


# One of each character looked for (by the Word table, and by the Markdown one: | and \), alone in its cell,
# beside plain and empty cells.
_CELL = st.sampled_from(["", "甲", "a", "a&b", "&", "<", ">", "\"", "'", "|", "\\", "\t", "\n", "\a", "\f", "\r"])
# (the survey's special and escaped characters as a regular expression's class holds them, the same as text)
TABLES = {"docx": (notice_docx.WORD_SPECIAL, notice_docx.WORD_ESCAPED, "&<>\"'", "&<>"),
          "md": (notice_md._SPECIAL, notice_md._ESCAPED, "|\\", "|")}


@pytest.mark.parametrize("fmt", TABLES)
@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(_CELL, min_size=3, max_size=3), min_size=1, max_size=12))
@example([["", "", ""], ["a", "a", "a"], ["'", "a", "a"]])  # guards 0, 1 (first non-empty), 2 (first quote)
@example([["a", "a", "a"], ["a", "\r", "a"]])
@example([["a", "a", "a"], ["\\", "a", "|"]])
def test_one_survey_of_the_cells_finds_what_reading_each_cell_finds(fmt, table):
    """The guard rows, the characters docxtpl lays out, the columns to escape or test for empty text and
    those of one text, read from the rows holding any character looked for, are what reading each cell finds."""
    special, escaped, special_text, escaped_text = TABLES[fmt]
    frame = pl.DataFrame(table, schema={f"c{j}": pl.String for j in range(3)}, orient="row")
    survey = substitution.survey(frame, special, escaped)
    assert (survey.guards, survey.laid_out, survey.escapes, survey.empties, survey.same) == surveyed_cell_by_cell(
        table, special_text, escaped_text)
