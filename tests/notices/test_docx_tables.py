"""Long tables in Word filled in row by row: the same bytes as python-docx's own table, or python-docx's table."""

import dataclasses
import io
import zipfile

from conftest import NOTICE_DRAW
from spotcheck.notices import api, docx_render, docx_tables
from spotcheck.notices.model import Table
from spotcheck.resources import TEMPLATES

TEMPLATE = TEMPLATES / "docx" / "task_notice.docx"


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist()}


def _slow(notice) -> dict[str, bytes]:
    out = io.BytesIO()
    docx_render.rendered(TEMPLATE, notice).save(out)
    return _parts(out.getvalue())


def _long(demo_policy, rows):
    notice = api.choose_notice(demo_policy, "task", None, NOTICE_DRAW)
    body = list(notice.body)
    k = next(i for i, b in enumerate(body) if isinstance(b, Table) and b.columns[0] == "序号")
    body[k] = dataclasses.replace(body[k], rows=tuple(rows))
    body.insert(k + 1, dataclasses.replace(body[k], rows=tuple(reversed(rows))))  # two long tables, one after the other
    return dataclasses.replace(notice, body=tuple(body))


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
