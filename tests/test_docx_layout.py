"""The Word layout: stock templates, GB/T 9704 page and faces, red head, tables, footers, escaping, errors."""

import io
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from spotcheck import (
    docx_layout,
    docx_render,
    docx_styles,
    notice,
    notice_announcements,
    notice_content,
    notice_model,
)
from spotcheck.errors import SpotcheckError
from spotcheck.loader import load_policy
from spotcheck.paths import POLICIES, TEMPLATES

FIXTURES = Path(__file__).parent / "fixtures" / "notice"
DEMO = FIXTURES / "policies" / "demo" / "city" / "2023.yaml"
TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}")


def word_parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist() if n.startswith("word/") and n.endswith(".xml")}


def open_docx(data: bytes):
    return Document(io.BytesIO(data))


@pytest.fixture(scope="module")
def shuozhou():
    return open_docx(notice.render(load_policy(POLICIES / "shanxi/shuozhou/2021.yaml"), fmt="docx"))


@pytest.fixture(scope="module")
def letter():
    return open_docx(notice.render(load_policy(POLICIES / "hebei/qinhuangdao/2023.yaml"), fmt="docx"))


@pytest.fixture(scope="module")
def demo_docx():
    return notice.render(load_policy(DEMO), fmt="docx")


# ---------------------------------------------------------------- the stock templates


@pytest.mark.parametrize("kind", notice_model.KINDS)
def test_stock_template_is_what_the_builder_makes(kind, tmp_path):
    path = tmp_path / f"{kind}.docx"
    docx_layout.build_template(kind).save(str(path))
    assert word_parts((TEMPLATES / "docx" / f"{kind}.docx").read_bytes()) == word_parts(path.read_bytes()), (
        "templates/docx is stale: run python -m spotcheck.docx_layout"
    )


@pytest.mark.parametrize("kind", notice_model.KINDS)
def test_every_tag_sits_in_one_run(kind):
    for name, xml in word_parts((TEMPLATES / "docx" / f"{kind}.docx").read_bytes()).items():
        text = xml.decode("utf-8")
        runs = re.findall(r"<w:t(?: [^>]*)?>(.*?)</w:t>", text)
        in_runs = [t for run in runs for t in TAG.findall(run)]
        paragraphs = ["".join(re.findall(r"<w:t(?: [^>]*)?>(.*?)</w:t>", p)) for p in re.findall(r"<w:p[ >].*?</w:p>", text)]
        in_paragraphs = [t for p in paragraphs for t in TAG.findall(p)]
        assert in_runs == in_paragraphs, f"{kind} {name}: a tag is split across runs"


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


# ---------------------------------------------------------------- a rendered plan notice (seed 002)


def test_page_is_a4_with_the_gbt9704_text_block(shuozhou):
    first = shuozhou.sections[0]
    assert (first.page_width.mm, first.page_height.mm) == pytest.approx((210, 297), abs=0.05)
    assert (first.top_margin.mm, first.left_margin.mm) == pytest.approx((37, 28), abs=0.05)
    assert abs(first.page_width - first.left_margin - first.right_margin - Mm(156)) < Mm(0.1)
    assert abs(first.page_height - first.top_margin - first.bottom_margin - Mm(225)) < Mm(0.1)
    grid = first._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:linePitch")) == "579"  # 22 lines in 225 mm
    assert 22 * 28.95 == pytest.approx(Mm(225).pt, abs=1)
    assert 28 * (16 + docx_styles.CONDENSE / 20) <= Mm(156).pt < 29 * (16 + docx_styles.CONDENSE / 20)


def test_red_head_number_title_and_signature(shuozhou):
    paragraphs = [p for p in shuozhou.paragraphs if p.text.strip()]
    mark, number, title = paragraphs[:3]
    assert mark.text == "朔州市市场监督管理局文件" and mark.style.name == "发文机关标志"
    assert mark.style.element.rPr.find(qn("w:color")).get(qn("w:val")) == "FF0000"
    assert number.text == "朔市监〔2021〕26号"
    assert number.style.name == "发文字号" and number._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom")).get(qn("w:color")) == "FF0000"
    assert title.style.name == "公文标题" and title.text.startswith("朔州市市场监督管理局关于印发2021年度双随机抽查工作计划")
    texts = [p.text for p in paragraphs]
    assert "各县（市、区）市场监管局、开发区分局，市局机关各科室，各直属事业单位：" in texts
    assert texts.index("朔州市市场监督管理局") + 1 == texts.index("2021年3月5日")
    assert "附件：朔州市市场监管局2021年度双随机抽查工作计划" in texts
    assert not any(TAG.search(t) for t in texts)


def test_headings_use_their_styles(shuozhou):
    styles = {p.text: p.style.name for p in shuozhou.paragraphs}
    assert styles["一、科学制定年度抽查工作计划"] == "一级标题"
    assert styles["四、加强督促指导力度"] == "一级标题"


def test_plan_table_has_21_rows_with_borders_in_a_landscape_annex(shuozhou):
    (table,) = shuozhou.tables
    assert [c.text for c in table.rows[0].cells] == list(notice_content.PLAN_COLUMNS)
    assert len(table.rows) == 22
    assert [table.rows[i].cells[0].text for i in range(1, 22)] == [str(i) for i in range(1, 22)]
    assert table.rows[19].cells[5].text == "不低于5%，2次/年" and table.rows[1].cells[6].text == "4月-11月"
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None  # repeated on every page
    borders = table._tbl.tblPr.find(qn("w:tblBorders"))
    assert {b.tag.split("}")[1] for b in borders} == {"top", "left", "bottom", "right", "insideH", "insideV"}
    assert [s.orientation for s in shuozhou.sections] == [WD_ORIENT.PORTRAIT, WD_ORIENT.LANDSCAPE]
    body, annex = shuozhou.sections
    assert annex.page_width == body.page_height and annex._sectPr.find(qn("w:titlePg")) is None
    labels = [p.text for p in shuozhou.paragraphs if p.style.name in ("附件标识", "附件标题")]
    assert labels == ["附件", "朔州市市场监管局2021年度双随机抽查工作计划"]


def test_every_run_names_its_east_asian_face(shuozhou, letter):
    for doc in (shuozhou, letter):
        parts = [doc.element.body] + [s.footer._element for s in doc.sections] + [s.header._element for s in doc.sections]
        runs = [r for part in parts for r in part.iter(qn("w:r")) if r.find(qn("w:t")) is not None and "".join(t.text or "" for t in r.iter(qn("w:t")))]
        assert runs
        missing = [r for r in runs if r.find(qn("w:rPr")) is None or r.find(qn("w:rPr")).find(qn("w:rFonts")) is None
                   or not r.find(qn("w:rPr")).find(qn("w:rFonts")).get(qn("w:eastAsia"))]
        assert not missing


def test_footer_numbers_pages_with_dashes(shuozhou):
    section = shuozhou.sections[0]
    assert shuozhou.settings.odd_and_even_pages_header_footer
    for footer, align in ((section.footer, "right"), (section.even_page_footer, "left")):
        p = footer.paragraphs[0]
        assert p.text.startswith("— ") and p.text.endswith(" —")
        assert "PAGE" in "".join(t.text for t in p._p.iter(qn("w:instrText")))
        assert p.alignment.name.lower() == align
    assert section._sectPr.find(qn("w:titlePg")) is None  # a 文件 numbers its first page


def test_letter_layout(letter):
    paragraphs = [p for p in letter.paragraphs if p.text.strip()]
    mark, number = paragraphs[:2]
    assert mark.text == "秦皇岛市市场监督管理局" and mark.style.name == "信函机关标志"  # a 函: no “文件”
    rule = mark._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
    assert rule.get(qn("w:color")) == "FF0000" and "thick" in rule.get(qn("w:val"))  # red double rule
    assert number.text == "秦市监函〔2023〕453号" and number.alignment is None and number.style.name == "信函发文字号"
    assert letter.styles["信函发文字号"].paragraph_format.alignment.name == "RIGHT"
    section = letter.sections[0]
    assert section.different_first_page_header_footer  # no page number on page 1
    first = section.first_page_footer.paragraphs[0]
    assert "PAGE" not in first._p.xml and first._p.pPr.find(qn("w:pBdr")).find(qn("w:top")).get(qn("w:color")) == "FF0000"


def test_long_issuing_body_is_narrowed_to_the_line():
    loaded = load_policy(POLICIES / "shanxi/shuozhou/2021.yaml")
    doc = open_docx(notice.render(loaded, fmt="docx"))
    mark = next(p for p in doc.paragraphs if p.style.name == "发文机关标志")
    scale = int(mark.runs[0]._r.rPr.find(qn("w:w")).get(qn("w:val")))
    assert docx_render.MIN_MARK_SCALE <= scale < 100
    assert len(mark.text) * 42 * scale / 100 <= Mm(156).pt


# ---------------------------------------------------------------- escaping, drills, results


def test_values_are_escaped_and_policy_text_stays_text(demo_docx):
    text = "\n".join(p.text for p in open_docx(demo_docx).paragraphs)
    assert "原文中的 {{ 7*7 }} 与 A&B <b>x</b> 都是文字。" in text
    assert "3.A&B <产品> 质量检查。" in text
    cells = [c.text for t in open_docx(demo_docx).tables for r in t.rows for c in r.cells]
    assert "A&B <产品> 质量检查" in cells  # inside the task table as well


def test_drill_is_marked_in_every_header_and_every_notice():
    loaded = load_policy(DEMO)
    doc = open_docx(notice.render(loaded, kind="task", fmt="docx", draw_dir=FIXTURES / "draw"))
    section = doc.sections[0]
    for header in (section.header, section.even_page_header, section.first_page_header):
        assert header.paragraphs[0].text == "【演练】非正式文书"
    titles = [p.text for p in doc.paragraphs if p.style.name == "通知书标题"]
    assert titles == ["随机抽查通知书（演练）"] * 7
    assert sum(p.text.startswith("【演练】本文件由演练抽取生成") for p in doc.paragraphs) == 1
    plain = open_docx(notice.render(loaded, fmt="docx"))
    assert plain.sections[0].header.paragraphs[0].text == ""


def test_results_notice_table_rows_come_from_the_loop():
    loaded = load_policy(DEMO)
    rows = [{"task_id": "t01", "name": f"主体{i}&Co", "uscc": f"USCC{i}", "completed": "2023-12-01", "result": "未发现问题"}
            for i in range(3)]
    doc = open_docx(notice.render_results_notice(loaded, rows, "docx"))
    (table,) = doc.tables
    assert [c.text for c in table.rows[0].cells] == list(notice_announcements.RESULT_COLUMNS)
    assert [r.cells[5].text for r in table.rows[1:]] == ["主体0&Co", "主体1&Co", "主体2&Co"]
    assert doc.sections[0].orientation == WD_ORIENT.LANDSCAPE


# ---------------------------------------------------------------- broken Word templates


@pytest.fixture
def template_root(tmp_path) -> Path:
    root = tmp_path / "templates"
    shutil.copytree(TEMPLATES, root)
    return root


def test_missing_variable_in_a_word_template_names_file_and_line(template_root):
    path = template_root / "docx" / "plan_notice.docx"
    doc = Document(str(path))
    next(p for p in doc.paragraphs if p.style.name == "公文标题").add_run("{{ doc.no_such_thing }}")
    doc.save(str(path))
    with pytest.raises(SpotcheckError) as err:
        notice.render(load_policy(DEMO), fmt="docx", root=template_root)
    problem = err.value.problems[0]
    assert problem.code == "N807" and "no_such_thing" in problem.message
    assert problem.file.endswith("docx/plan_notice.docx") and problem.line is not None
    assert "doc.no_such_thing" in problem.where


def test_word_template_missing_a_style_is_refused(template_root):
    path = template_root / "docx" / "plan_notice.docx"
    doc = Document(str(path))
    style = doc.styles["一级标题"].element
    style.getparent().remove(style)
    doc.save(str(path))
    with pytest.raises(SpotcheckError) as err:
        notice.render(load_policy(DEMO), fmt="docx", root=template_root)
    assert err.value.problems[0].code == "N841" and "一级标题" in err.value.problems[0].message


def test_a_jurisdiction_word_template_wins(template_root):
    own = template_root / "demo" / "city" / "docx"
    own.mkdir(parents=True)
    doc = Document(str(template_root / "docx" / "plan_notice.docx"))
    doc.add_paragraph("本市专用落款", style="公文正文")
    doc.save(str(own / "plan_notice.docx"))
    rendered = open_docx(notice.render(load_policy(DEMO), fmt="docx", root=template_root))
    assert rendered.paragraphs[-1].text == "本市专用落款"
