"""GB/T 9704 in Word: the named styles and their official faces, the page and its text block."""

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from spotcheck.notices import docx_styles
from spotcheck.resources import TEMPLATES


def test_templates_name_official_faces_for_east_asian_text():
    styles = Document(str(TEMPLATES / "docx" / "plan_notice.docx")).styles
    expected = {"公文正文": "仿宋_GB2312", "一级标题": "黑体", "二级标题": "楷体_GB2312", "公文标题": "方正小标宋简体",
                "发文机关标志": "方正小标宋简体", "页码": "宋体"}
    for name, face in expected.items():
        fonts = styles[name].element.rPr.rFonts
        assert fonts.get(qn("w:eastAsia")) == face and fonts.get(qn("w:ascii")) == face, name
    assert styles["公文标题"].font.size == Pt(22) and styles["公文正文"].font.size == Pt(16)
    for style in styles:
        rpr = style.element.rPr
        if rpr is not None and rpr.rFonts is not None:
            assert rpr.rFonts.get(qn("w:eastAsia")), style.name


def test_page_is_a4_with_the_gbt9704_text_block(shuozhou_docx):
    first = shuozhou_docx.sections[0]
    assert (first.page_width.mm, first.page_height.mm) == pytest.approx((210, 297), abs=0.05)
    assert (first.top_margin.mm, first.left_margin.mm) == pytest.approx((37, 28), abs=0.05)
    assert abs(first.page_width - first.left_margin - first.right_margin - Mm(156)) < Mm(0.1)
    assert abs(first.page_height - first.top_margin - first.bottom_margin - Mm(225)) < Mm(0.1)
    grid = first._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:linePitch")) == "579"  # 22 lines in 225 mm
    assert 22 * 28.95 == pytest.approx(Mm(225).pt, abs=1)
    assert 28 * (16 + docx_styles.CONDENSE / 20) <= Mm(156).pt < 29 * (16 + docx_styles.CONDENSE / 20)


def test_headings_use_their_styles(shuozhou_docx):
    styles = {p.text: p.style.name for p in shuozhou_docx.paragraphs}
    assert styles["一、科学制定年度抽查工作计划"] == "一级标题"
    assert styles["四、加强督促指导力度"] == "一级标题"


def test_every_run_names_its_east_asian_face(shuozhou_docx, letter_docx):
    for doc in (shuozhou_docx, letter_docx):
        parts = [doc.element.body] + [s.footer._element for s in doc.sections] + [s.header._element for s in doc.sections]
        runs = [r for part in parts for r in part.iter(qn("w:r")) if r.find(qn("w:t")) is not None and "".join(t.text or "" for t in r.iter(qn("w:t")))]
        assert runs
        missing = [r for r in runs if r.find(qn("w:rPr")) is None or r.find(qn("w:rPr")).find(qn("w:rFonts")) is None
                   or not r.find(qn("w:rPr")).find(qn("w:rFonts")).get(qn("w:eastAsia"))]
        assert not missing


def test_table_rows_copied_from_the_first_keep_their_own_text_and_the_same_layout():
    from spotcheck.notices.model import Table

    doc = Document(str(TEMPLATES / "docx" / "task_notice.docx"))
    rows = (("1", "甲店", "A"), ("2", "", "B\tC"), ("3", " 丙 公司 ", "第二行\n第三行"))
    docx_styles.add_table(doc, Table(("序号", "名称", "代码"), rows, (1, 6, 4)), Mm(156))
    table = doc.tables[-1]
    assert [[c.text for c in r.cells] for r in table.rows] == [["序号", "名称", "代码"], *map(list, rows)]
    first = table.rows[1]
    for row in table.rows[2:]:
        for cell, model in zip(row.cells, first.cells, strict=True):
            assert cell.paragraphs[0].style.name == "表格文字"
            assert cell.paragraphs[0].alignment == model.paragraphs[0].alignment
            assert cell.width == model.width and cell.vertical_alignment == model.vertical_alignment
            assert cell.paragraphs[0].runs[0].font.name == model.paragraphs[0].runs[0].font.name
    assert len(table.rows[2].cells[1].paragraphs[0].runs) == 1  # an empty value keeps its run and its face
