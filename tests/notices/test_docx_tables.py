"""Long tables in Word filled in row by row: the same bytes as python-docx's own table, or python-docx's table."""

import dataclasses
import io
import random
import zipfile

import polars as pl
from conftest import NOTICE_DRAW
from spotcheck.notices import api, docx_render, docx_tables
from spotcheck.notices.model import FrameRows, Table
from spotcheck.notices.templates import find_template, render_text, search_path
from spotcheck.resources import TEMPLATES

TEMPLATE = TEMPLATES / "docx" / "task_notice.docx"


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist()}


def _slow(notice) -> dict[str, bytes]:
    out = io.BytesIO()
    docx_render.rendered(TEMPLATE, notice).save(out)
    return _parts(out.getvalue())


def _long(demo_policy, rows, held=tuple):
    """The demo's announcement with its first drawn list replaced by `rows` and their reverse (two long
    tables, one after the other), held as `held` makes them: a tuple, or columns (FrameRows)."""
    notice = api.choose_notice(demo_policy, "task", None, NOTICE_DRAW)
    body = list(notice.body)
    k = next(i for i, b in enumerate(body) if isinstance(b, Table) and b.columns[0] == "序号")
    body[k] = dataclasses.replace(body[k], rows=held(rows))
    body.insert(k + 1, dataclasses.replace(body[k], rows=held(list(reversed(rows)))))
    return dataclasses.replace(notice, body=tuple(body))


def _columns(rows) -> FrameRows:
    return FrameRows(pl.DataFrame(rows, schema=["序号", "市场主体名称", "统一社会信用代码"], orient="row"))


# Every character Python's str.strip takes for white space, but the control characters (docxtpl rewrites
# those, so a table holding one is laid out by python-docx whole), beside XML's special characters.
_SPACES = [c for c in map(chr, range(0x3001)) if c.isspace() and ord(c) > 0x1F]
_PIECES = ["甲", "贸易", "A", "7", "&", "<", ">", '"', "'", *_SPACES]


def test_long_tables_filled_in_give_python_docxs_bytes(demo_policy):
    rows = [(str(i), f"甲{i}贸易有限公司", f"91130302MA0{i:07d}") for i in range(1, 120)]
    # XML's special characters, an empty cell and spaces at the ends (python-docx writes those its own way).
    rows[5] = ("6", 'A&B <"甲"> \'乙\'', "9113")
    rows[7] = ("8", "", "9113")
    rows[9] = ("10", " 前后有空格　", "9113 ")
    notice = _long(demo_policy, rows)
    assert docx_tables.long_tables(notice)
    fast = docx_tables.render_tables(TEMPLATE, notice)
    assert fast is not None
    assert _parts(fast) == _slow(notice)
    document = _parts(fast)["word/document.xml"].decode()
    assert document.count("91130302MA0") == 2 * 116 and "A&amp;B &lt;" in document


def test_a_value_with_a_line_break_takes_python_docx(demo_policy):
    rows = [(str(i), f"乙{i}", "9113") for i in range(1, 60)]
    rows[3] = ("4", "名称\n换行", "9113")
    notice = _long(demo_policy, rows)
    assert docx_tables.render_tables(TEMPLATE, notice) is None
    assert _parts(docx_render.render(TEMPLATE, notice)) == _slow(notice)


def test_drawn_lists_held_as_columns_give_python_docxs_bytes(demo_policy):
    """The announcement's drawn lists are columns (FrameRows); their rows made by polars must be the bytes
    python-docx writes, white space at a value's ends (Python's idea of it) and empty values included."""
    pick = random.Random(15)
    rows = [(str(i), "".join(pick.choice(_PIECES) for _ in range(pick.randrange(0, 7))),
             "".join(pick.choice(_PIECES[:4]) for _ in range(pick.randrange(1, 5)))) for i in range(1, 301)]
    assert {c for _, name, _ in rows for c in name} >= set(_SPACES)
    notice = _long(demo_policy, rows, _columns)
    fast = docx_tables.render_tables(TEMPLATE, notice)
    assert fast is not None
    assert _parts(fast) == _slow(notice) == _slow(_long(demo_policy, rows))


def test_drawn_lists_held_as_columns_print_as_a_tuple_of_rows(demo_policy):
    rows = [(str(i), f"壹{i}&<商行>", f"9113{i:04d}") for i in range(1, 50)]
    for fmt in ("md", "html"):
        template = find_template(demo_policy, "task_notice", fmt)
        texts = [render_text(_long(demo_policy, rows, held), fmt, template, search_path(demo_policy)) for held in (tuple, _columns)]
        assert texts[0] == texts[1] and texts[0].count("壹") == 2 * 49
