"""Filling a Word template with a Notice: landscape annexes, the fitted issuing-body mark, escaping, broken
templates named by file and line, and PDF through LibreOffice."""

import dataclasses
import io
import shutil
import time
import zipfile

import pytest
from conftest import open_docx
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from docx.shared import Mm
from spotcheck.notices import docx_render
from spotcheck.notices import api as notice
from spotcheck.notices import content as notice_content
from spotcheck.errors import SpotcheckError


@pytest.fixture(scope="module")
def demo_docx(demo_policy):
    return notice.render(demo_policy, fmt="docx")


def test_a_notice_saved_by_python_docx_is_the_same_bytes_whenever_it_is_made(demo_policy, demo_docx, monkeypatch):
    # python-docx dates each zip entry with the time of saving: a plan notice made a second later differed.
    with zipfile.ZipFile(io.BytesIO(demo_docx)) as z:
        assert {info.date_time for info in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    later = zipfile.time.time() + 86_400 * 400
    monkeypatch.setattr(zipfile.time, "time", lambda: later)
    assert notice.render(demo_policy, fmt="docx") == demo_docx


def test_a_notice_file_is_described_by_its_own_title_issuer_and_date(demo_policy, demo_docx):
    # The stock templates were started by python-docx, which names itself and 2013-12-23 in every file's 属性.
    expected = notice.choose_notice(demo_policy)
    props = open_docx(demo_docx).core_properties
    assert (props.title, props.author, props.subject) == (expected.title, expected.issuer, expected.number or "")
    assert props.created.date() == props.modified.date() == expected.date
    with zipfile.ZipFile(io.BytesIO(demo_docx)) as z:
        assert b"python-docx" not in z.read("docProps/core.xml")


def test_a_notice_without_a_date_has_no_dates_in_its_file(demo_policy):
    undated = dataclasses.replace(notice.choose_notice(demo_policy), date=None)
    docx = notice.render_notice(demo_policy, undated, "docx")
    props = open_docx(docx).core_properties
    assert props.created is None and props.modified is None and props.title == undated.title


# ---------------------------------------------------------------- layout the template cannot hold


def test_plan_table_has_21_rows_with_borders_in_a_landscape_annex(shuozhou_docx):
    (table,) = shuozhou_docx.tables
    assert [c.text for c in table.rows[0].cells] == list(notice_content.PLAN_COLUMNS)
    assert len(table.rows) == 22
    assert [table.rows[i].cells[0].text for i in range(1, 22)] == [str(i) for i in range(1, 22)]
    assert table.rows[19].cells[5].text == "不低于5%，2次/年" and table.rows[1].cells[6].text == "4月-11月"
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None  # repeated on every page
    borders = table._tbl.tblPr.find(qn("w:tblBorders"))
    assert {b.tag.split("}")[1] for b in borders} == {"top", "left", "bottom", "right", "insideH", "insideV"}
    assert [s.orientation for s in shuozhou_docx.sections] == [WD_ORIENT.PORTRAIT, WD_ORIENT.LANDSCAPE]
    body, annex = shuozhou_docx.sections
    assert annex.page_width == body.page_height and annex._sectPr.find(qn("w:titlePg")) is None
    labels = [p.text for p in shuozhou_docx.paragraphs if p.style.name in ("附件标识", "附件标题")]
    assert labels == ["附件", "朔州市市场监管局2021年度双随机抽查工作计划"]


def test_long_issuing_body_is_narrowed_to_the_line(shuozhou_docx):
    mark = next(p for p in shuozhou_docx.paragraphs if p.style.name == "发文机关标志")
    scale = int(mark.runs[0]._r.rPr.find(qn("w:w")).get(qn("w:val")))
    assert docx_render.MIN_MARK_SCALE <= scale < 100
    assert len(mark.text) * 42 * scale / 100 <= Mm(156).pt


def test_values_are_escaped_and_policy_text_stays_text(demo_docx):
    text = "\n".join(p.text for p in open_docx(demo_docx).paragraphs)
    assert "原文中的 {{ 7*7 }} 与 A&B <b>x</b> 都是文字。" in text
    assert "3.A&B <产品> 质量检查。" in text
    cells = [c.text for t in open_docx(demo_docx).tables for r in t.rows for c in r.cells]
    assert "A&B <产品> 质量检查" in cells  # inside the task table as well


# ---------------------------------------------------------------- broken and overriding Word templates


def test_missing_variable_in_a_word_template_names_file_and_line(demo_policy, template_root):
    path = template_root / "docx" / "plan_notice.docx"
    doc = Document(str(path))
    next(p for p in doc.paragraphs if p.style.name == "公文标题").add_run("{{ doc.no_such_thing }}")
    doc.save(str(path))
    with pytest.raises(SpotcheckError) as err:
        notice.render(demo_policy, fmt="docx", root=template_root)
    problem = err.value.problems[0]
    assert problem.code == "N807" and "no_such_thing" in problem.message
    assert problem.file.endswith("docx/plan_notice.docx") and problem.line is not None
    assert "doc.no_such_thing" in problem.where


def test_word_template_missing_a_style_is_refused(demo_policy, template_root):
    path = template_root / "docx" / "plan_notice.docx"
    doc = Document(str(path))
    style = doc.styles["一级标题"].element
    style.getparent().remove(style)
    doc.save(str(path))
    with pytest.raises(SpotcheckError) as err:
        notice.render(demo_policy, fmt="docx", root=template_root)
    assert err.value.problems[0].code == "N841" and "一级标题" in err.value.problems[0].message


def test_a_jurisdiction_word_template_wins(demo_policy, template_root):
    own = template_root / "demo" / "city" / "docx"
    own.mkdir(parents=True)
    doc = Document(str(template_root / "docx" / "plan_notice.docx"))
    doc.add_paragraph("本市专用落款", style="公文正文")
    doc.save(str(own / "plan_notice.docx"))
    rendered = open_docx(notice.render(demo_policy, fmt="docx", root=template_root))
    assert rendered.paragraphs[-1].text == "本市专用落款"


def test_a_render_after_others_equals_one_with_nothing_kept_from_them(demo_policy):
    """Each template's text is cleaned and compiled once, and every fragment starts from a copy of one blank
    document: a notice rendered after other notices and templates is the one rendered with nothing kept."""
    def parts(docx: bytes) -> dict[str, bytes]:
        with zipfile.ZipFile(io.BytesIO(docx)) as z:
            return {n: z.read(n) for n in z.namelist()}

    kinds = ("plan", "campaign", "plan")
    after = [parts(notice.render(demo_policy, kind=k, fmt="docx")) for k in kinds]
    for kept in (docx_render._compiled, docx_render._patched, docx_render._blank):
        kept.cache_clear()
    assert parts(notice.render(demo_policy, kind=kinds[-1], fmt="docx")) == after[-1] == after[0]
    assert after[0] != after[1]


# ---------------------------------------------------------------- PDF


@pytest.mark.skipif(not (shutil.which("soffice") or shutil.which("libreoffice")), reason="LibreOffice (soffice) is not installed")
def test_pdf_through_libreoffice(demo_docx):
    pdf = docx_render.to_pdf(demo_docx)
    assert pdf.startswith(b"%PDF-") and len(pdf) > 10_000


@pytest.mark.skipif(not (shutil.which("soffice") or shutil.which("libreoffice")), reason="LibreOffice (soffice) is not installed")
def test_a_pdf_is_dated_by_its_notice_and_the_same_bytes_whenever_it_is_converted(demo_policy, demo_docx):
    import pikepdf

    dated = notice.choose_notice(demo_policy).date
    first = docx_render.to_pdf(demo_docx, dated)
    with pikepdf.open(io.BytesIO(first)) as pdf:
        assert str(pdf.docinfo["/CreationDate"]) == f"D:{dated:%Y%m%d}000000+08'00'"
        assert "/ModDate" not in pdf.docinfo and "/DocChecksum" not in pdf.trailer
    # LibreOffice stamps the second of conversion: a conversion a second later differed in three places.
    time.sleep(1.1)
    assert docx_render.to_pdf(demo_docx, dated) == first


def test_a_pdf_libreoffice_wrote_that_cannot_be_read_is_a_problem_not_a_traceback():
    with pytest.raises(SpotcheckError) as caught:
        docx_render._redated(b"%PDF-1.7\nnot a pdf at all", None)
    (problem,) = caught.value.problems
    assert problem.code == "N831" and "无法读取" in problem.message
