"""随机抽查通知书 laid out shape by shape: the same bytes as docxtpl's own render, or docxtpl's render."""

import dataclasses
import io
import zipfile
from pathlib import Path

import pytest
from spotcheck.notices import api, docx_letters, docx_render
from spotcheck.policy.loader import load_policy
from spotcheck.resources import TEMPLATES

FIXTURES = Path(__file__).parents[1] / "fixtures" / "notice"
DEMO = FIXTURES / "policies" / "demo" / "city" / "2023.yaml"
TEMPLATE = TEMPLATES / "docx" / "inspection_letter.docx"


@pytest.fixture(scope="module")
def letters():
    """The fixture's seven letters made into 45 of several shapes, one too long for its page, one whose
    name holds a tab (docxtpl rewrites it), one with XML's special characters."""
    notice = api.choose_notice(load_policy(DEMO), "letter", None, FIXTURES / "draw")
    made = []
    for k in range(45):
        n = notice.entity_notices[k % len(notice.entity_notices)]
        change = {"entity": f"{n.entity}{k}", "visit_id": f"V{k:03d}"}
        change.update({5: {"items": n.items * 9}, 7: {"entity": "名称\t有制表符"}, 9: {"entity": 'A&B <"甲"> \'乙\''},
                       11: {"team": ()}, 13: {"basis": ""}, 17: {"contacts": n.contacts[:1]}}.get(k, {}))
        made.append(dataclasses.replace(n, **change))
    return dataclasses.replace(notice, entity_notices=tuple(made))


def parts(tpl) -> dict[str, bytes]:
    out = io.BytesIO()
    tpl.save(out)
    with zipfile.ZipFile(out) as z:
        return {name: z.read(name) for name in z.namelist()}


def test_shape_by_shape_gives_docxtpls_bytes(letters):
    fast = docx_letters.render_letters(TEMPLATE, letters)
    assert fast is not None
    slow = parts(docx_render.rendered(TEMPLATE, letters))
    assert parts(fast) == slow
    document = slow["word/document.xml"].decode()
    assert all(document.count(f">V{k:03d}<") == 1 for k in range(45))
    assert "名称" in document and "A&amp;B &lt;" in document
    assert '<w:sz w:val="' in document  # the long letter was shrunk to its page


def test_a_template_that_does_more_than_print_a_value_is_rendered_by_docxtpl(letters, tmp_path):
    template = tmp_path / "inspection_letter.docx"
    with zipfile.ZipFile(TEMPLATE) as src, zipfile.ZipFile(template, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "word/document.xml":
                assert b"n.entity }}" in data
                data = data.replace(b"n.entity }}", b"n.entity[:4] }}")
            dst.writestr(item, data)
    assert docx_letters.render_letters(template, letters) is None
    with zipfile.ZipFile(io.BytesIO(docx_render.render(template, letters))) as z:
        document = z.read("word/document.xml").decode()
    assert "示范东区甲贸易有限公司0" not in document and ">示范东区<" in document


def test_few_letters_take_docxtpl_alone(letters, monkeypatch):
    few = dataclasses.replace(letters, entity_notices=letters.entity_notices[: docx_render.FAST_LETTERS - 1])
    monkeypatch.setattr(docx_letters, "render_letters", lambda *a: pytest.fail("shape by shape for a few letters"))
    assert docx_render.render(TEMPLATE, few)
