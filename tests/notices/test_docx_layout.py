"""The stock Word templates as docx_layout builds them: tags in one run, red head, footers, the 函 layout,
the drill header and the results table loop."""

import io
import re
import zipfile

import pytest
from conftest import NOTICE_DRAW, open_docx
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from spotcheck.notices import docx_layout
from spotcheck.notices import api as notice
from spotcheck.notices import announcements as notice_announcements
from spotcheck.notices import model as notice_model
from spotcheck.resources import TEMPLATES

TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}")


def word_parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist() if n.startswith("word/") and n.endswith(".xml") or n == "docProps/core.xml"}


# ---------------------------------------------------------------- the stock templates


@pytest.mark.parametrize("kind", notice_model.KINDS)
def test_stock_template_is_what_the_builder_makes(kind, tmp_path):
    path = tmp_path / f"{kind}.docx"
    docx_layout.build_template(kind).save(str(path))
    assert word_parts((TEMPLATES / "docx" / f"{kind}.docx").read_bytes()) == word_parts(path.read_bytes()), (
        "templates/docx is stale: run python -m spotcheck.notices.docx_layout"
    )


@pytest.mark.parametrize("kind", notice_model.KINDS)
def test_stock_template_carries_no_part_word_does_not_read(kind):
    # Word 2010's stylesWithEffects.xml and python-docx's thumbnail were half of every per-entity letter file.
    with zipfile.ZipFile(TEMPLATES / "docx" / f"{kind}.docx") as z:
        names = z.namelist()
        types = z.read("[Content_Types].xml").decode("utf-8") + z.read("_rels/.rels").decode("utf-8")
    assert "word/styles.xml" in names
    assert not [n for n in names if "stylesWithEffects" in n or "thumbnail" in n], names
    assert "stylesWithEffects" not in types and "thumbnail" not in types


@pytest.mark.parametrize("kind", notice_model.KINDS)
def test_every_tag_sits_in_one_run(kind):
    for name, xml in word_parts((TEMPLATES / "docx" / f"{kind}.docx").read_bytes()).items():
        text = xml.decode("utf-8")
        runs = re.findall(r"<w:t(?: [^>]*)?>(.*?)</w:t>", text)
        in_runs = [t for run in runs for t in TAG.findall(run)]
        paragraphs = ["".join(re.findall(r"<w:t(?: [^>]*)?>(.*?)</w:t>", p)) for p in re.findall(r"<w:p[ >].*?</w:p>", text)]
        in_paragraphs = [t for p in paragraphs for t in TAG.findall(p)]
        assert in_runs == in_paragraphs, f"{kind} {name}: a tag is split across runs"


# ---------------------------------------------------------------- rendered notices (seed 002 and seed 000's 函)


def test_red_head_number_title_and_signature(shuozhou_docx):
    paragraphs = [p for p in shuozhou_docx.paragraphs if p.text.strip()]
    mark, number, title = paragraphs[:3]
    assert mark.text == "朔州市市场监督管理局文件" and mark.style.name == "发文机关标志"
    assert mark.style.element.rPr.find(qn("w:color")).get(qn("w:val")) == "FF0000"
    assert number.text == "朔市监〔2021〕26号"
    assert number.style.name == "发文字号" and number._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom")).get(qn("w:color")) == "FF0000"
    assert title.style.name == "公文标题" and title.text == "朔州市市场监督管理局关于印发2021年度\n双随机抽查工作计划的通知"
    texts = [p.text for p in paragraphs]
    assert "各县（市、区）市场监管局、开发区分局，市局机关各科室，各直属事业单位：" in texts
    assert texts.index("朔州市市场监督管理局") + 1 == texts.index("2021年3月5日")
    assert "附件：朔州市市场监管局2021年度双随机抽查工作计划" in texts
    assert not any(TAG.search(t) for t in texts)


def test_footer_numbers_pages_with_dashes(shuozhou_docx):
    section = shuozhou_docx.sections[0]
    assert shuozhou_docx.settings.odd_and_even_pages_header_footer
    for footer, align in ((section.footer, "right"), (section.even_page_footer, "left")):
        p = footer.paragraphs[0]
        assert p.text.startswith("— ") and p.text.endswith(" —")
        assert "PAGE" in "".join(t.text for t in p._p.iter(qn("w:instrText")))
        assert p.alignment.name.lower() == align
    assert section._sectPr.find(qn("w:titlePg")) is None  # a 文件 numbers its first page


def test_letter_layout(letter_docx):
    paragraphs = [p for p in letter_docx.paragraphs if p.text.strip()]
    mark, number = paragraphs[:2]
    assert mark.text == "秦皇岛市市场监督管理局" and mark.style.name == "信函机关标志"  # a 函: no “文件”
    rule = mark._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
    assert rule.get(qn("w:color")) == "FF0000" and "thick" in rule.get(qn("w:val"))  # red double rule
    assert number.text == "秦市监函〔2023〕453号" and number.alignment is None and number.style.name == "信函发文字号"
    assert letter_docx.styles["信函发文字号"].paragraph_format.alignment.name == "RIGHT"
    section = letter_docx.sections[0]
    assert section.different_first_page_header_footer  # no page number on page 1
    first = section.first_page_footer.paragraphs[0]
    assert "PAGE" not in first._p.xml and first._p.pPr.find(qn("w:pBdr")).find(qn("w:top")).get(qn("w:color")) == "FF0000"


def test_drill_is_marked_in_every_header_and_every_notice(demo_policy):
    doc = open_docx(notice.render(demo_policy, kind="task", fmt="docx", draw_dir=NOTICE_DRAW))
    section = doc.sections[0]
    for header in (section.header, section.even_page_header, section.first_page_header):
        assert header.paragraphs[0].text == "【演练】非正式文书"
    assert sum(p.text.startswith("【演练】本文件由演练抽取生成") for p in doc.paragraphs) == 1
    letters = open_docx(notice.render(demo_policy, kind="letter", fmt="docx", draw_dir=NOTICE_DRAW))
    titles = [p.text for p in letters.paragraphs if p.style.name == "通知书标题"]
    assert titles == ["随机抽查通知书（演练）"] * 7
    # One section per letter, each numbered from 1, so a letter's pages are its own.
    assert len(letters.sections) == 7
    assert all(s._sectPr.find(qn("w:pgNumType")).get(qn("w:start")) == "1" for s in letters.sections)
    assert all(s.header.paragraphs[0].text == "【演练】非正式文书" for s in letters.sections)
    plain = open_docx(notice.render(demo_policy, fmt="docx"))
    assert plain.sections[0].header.paragraphs[0].text == ""


def test_results_notice_table_rows_come_from_the_loop(demo_policy):
    rows = [{"task_id": "t01", "name": f"主体{i}&Co", "uscc": f"USCC{i}", "completed": "2023-12-01", "result": "未发现问题"}
            for i in range(3)]
    doc = open_docx(notice.render_results_notice(demo_policy, rows, "docx"))
    facts, table = doc.tables
    assert [c.text for c in table.rows[0].cells] == list(notice_announcements.result_columns(False)[0])
    assert [r.cells[1].text for r in table.rows[1:]] == ["主体0&Co", "主体1&Co", "主体2&Co"]
    # An entity's row is never split across two pages.
    assert all(r._tr.trPr.find(qn("w:cantSplit")) is not None for r in table.rows[1:])
    assert doc.sections[0].orientation == WD_ORIENT.LANDSCAPE


# The widest character a code holds (W) in LXGW WenKai, the 仿宋 stand-in LibreOffice prints with, in ems.
WIDEST_CODE_EM = 0.88
CELL_MARGINS_TWIPS = 2 * 108  # Word's default left and right cell margins


@pytest.mark.parametrize("per_body", [True, False])
def test_results_table_holds_a_whole_code_and_date_on_one_line(per_body):
    """Both of the stock template's results tables (with 检查机关 as a column and without) leave room for 18
    of the widest code characters and for the longest date, in 五号 (10.5 pt = 210 twips to the em)."""
    columns = notice_announcements.result_columns(per_body)[0]
    doc = open_docx((TEMPLATES / "docx" / "results_notice.docx").read_bytes())
    (grid,) = [[int(c.get(qn("w:w"))) for c in t._tbl.tblGrid.findall(qn("w:gridCol"))] for t in doc.tables
               if t.rows[0].cells[0].text == "序号" and len(t.columns) == len(columns)]
    width = dict(zip(columns, grid, strict=True))
    assert width["统一社会信用代码"] >= 18 * WIDEST_CODE_EM * 210 + CELL_MARGINS_TWIPS
    # 2026年12月31日: digits 0.6 em, and a quarter em at each of the five changes between digits and Chinese.
    assert width["检查完成日期"] >= (8 * 0.6 + 3 + 5 * 0.25) * 210 + CELL_MARGINS_TWIPS
