"""GB/T 9704-2012 in Word: page, named styles, red head, the docxtpl templates, and PDF through LibreOffice.

The templates in templates/docx/ are built by `build_template` (`python -m spotcheck.docx_layout`
rewrites them; tests/test_docx_layout.py fails when a stock template drifts from this code). An officer
may open one in Word and restyle it: the numbered body is composed from the template's named styles
(公文正文, 一级标题 …), so changing a style there changes every notice rendered from it.

The official font names stay in the file (仿宋_GB2312, 方正小标宋简体 …) and are set for East Asian
text (w:eastAsia) on every style and run; machines without them substitute. `to_pdf` maps them to free
stand-ins through fontconfig so LibreOffice renders Chinese with the right kind of face.
"""

from __future__ import annotations

import copy
import io
import math
import os
import re
import shutil
import subprocess
import tempfile
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from docx import Document as new_document
from docx.document import Document as WordDocument
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Emu, Mm, Pt
from docxtpl import DocxTemplate
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from lxml import etree

from spotcheck.errors import Problem, SpotcheckError
from spotcheck.loader import display
from spotcheck.notice import KINDS, RESULT_COLUMNS, RESULT_WIDTHS, Block, Heading, Notice, Para, Table, cn_date, template_problem
from spotcheck.paths import TEMPLATES

# ---------------------------------------------------------------- GB/T 9704 geometry and faces

PAGE_W, PAGE_H = Mm(210), Mm(297)
TOP, LEFT = Mm(37), Mm(28)
BLOCK_W, BLOCK_H = Mm(156), Mm(225)  # 版心
BOTTOM, RIGHT = Emu(PAGE_H - TOP - BLOCK_H), Emu(PAGE_W - LEFT - BLOCK_W)
LINE_PT = 28.95  # 225 mm / 22 lines
LINE_PITCH = 579  # the same in twentieths of a point, for the document grid
# 28 characters of 16 pt do not fit 156 mm (442 pt); 3号's nominal 15.75 pt do. Body text is condensed by
# a quarter point (w:spacing, in twentieths) rather than by a character grid, which LibreOffice misreads.
CONDENSE = -5
BODY_PT, TITLE_PT, TABLE_PT, IMPRINT_PT = 16, 22, 10.5, 14  # 3号, 2号, 五号, 4号

FANGSONG, KAITI, HEITI, XIAOBIAOSONG, SONG = "仿宋_GB2312", "楷体_GB2312", "黑体", "方正小标宋简体", "宋体"
STAND_INS = {
    FANGSONG: ("仿宋", "FangSong", "AR PL UKai CN"),
    KAITI: ("楷体", "KaiTi", "AR PL UKai CN"),
    HEITI: ("SimHei", "Noto Sans CJK SC"),
    XIAOBIAOSONG: ("Noto Serif CJK SC",),
    SONG: ("SimSun", "Noto Serif CJK SC"),
}
RED = "FF0000"
SHORT_CELL = 8  # characters; a column whose values are all this short is centred
MIN_MARK_SCALE = 60  # below this the issuing-body mark shrinks instead of narrowing further


@dataclass(frozen=True)
class Style:
    name: str
    font: str = FANGSONG
    size: float = BODY_PT
    align: str = "justify"
    first: float = 0  # first-line indent, in characters of this style
    left: float = 0
    right: float = 0
    line: float | None = LINE_PT  # exact line height in points; None: single
    before: float = 0
    after: float = 0
    color: str | None = None
    keep_next: bool = False
    page_break: bool = False
    outline: int | None = None
    grid: bool = True  # snap to the 22-line grid


STYLES = (
    Style("公文正文", first=2),
    Style("主送机关"),
    Style("一级标题", HEITI, first=2, keep_next=True, outline=0),
    Style("二级标题", KAITI, first=2, keep_next=True, outline=1),
    Style("三级标题", first=2, keep_next=True, outline=2),
    Style("四级标题", first=2, keep_next=True, outline=3),
    # 发文机关标志 of a 文件 sits 35 mm below the top of the text block; the number two lines below it.
    Style("发文机关标志", XIAOBIAOSONG, 42, "center", line=None, before=99, color=RED, grid=False),
    Style("信函机关标志", XIAOBIAOSONG, 30, "center", line=None, color=RED, grid=False),
    Style("发文字号", align="center", before=2 * LINE_PT),
    Style("信函发文字号", align="right", before=6),
    Style("公文标题", XIAOBIAOSONG, TITLE_PT, "center", line=35, before=2 * LINE_PT, after=LINE_PT, grid=False),
    Style("发文机关署名", align="right", right=2, before=LINE_PT, keep_next=True),
    Style("成文日期", align="right", right=4),
    Style("附注", first=2),
    Style("附件说明", first=2),
    Style("附件标识", HEITI, align="left", page_break=True, keep_next=True),
    Style("附件标题", XIAOBIAOSONG, TITLE_PT, "center", line=35, after=LINE_PT, grid=False),
    Style("通知书标题", XIAOBIAOSONG, TITLE_PT, "center", after=LINE_PT, grid=False, page_break=True),
    Style("通知书编号", align="right"),
    Style("表格文字", size=TABLE_PT, align="left", line=None, grid=False),
    Style("表格表头", HEITI, TABLE_PT, "center", line=None, grid=False),
    Style("版记", size=IMPRINT_PT, align="left", left=1, right=1),
    Style("页码", SONG, IMPRINT_PT, "right", line=None, grid=False),
    Style("演练标记", HEITI, align="center", color=RED),
)
STYLE = {s.name: s for s in STYLES}
HEADING_STYLES = ("一级标题", "二级标题", "三级标题", "四级标题")
_ALIGN = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER, "right": WD_ALIGN_PARAGRAPH.RIGHT,
          "justify": WD_ALIGN_PARAGRAPH.JUSTIFY}
_PPR_AFTER_PBDR = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
                   "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid",
                   "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
                   "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId",
                   "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")


# ---------------------------------------------------------------- low-level helpers


def set_fonts(rpr, font: str) -> None:
    """Name `font` for every script of a run or style: w:ascii, w:hAnsi, w:cs and w:eastAsia.

    python-docx writes only ascii/hAnsi; Chinese text is drawn with the w:eastAsia face, and without it
    Word falls back to the theme's East Asian font.
    """
    fonts = rpr.get_or_add_rFonts()
    for attr in list(fonts.attrib):
        if attr.endswith("Theme"):
            del fonts.attrib[attr]
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), font)


def _border(edge: str, val: str = "single", size: int = 4, space: int = 1, color: str = "000000"):
    el = OxmlElement(f"w:{edge}")
    for k, v in (("w:val", val), ("w:sz", str(size)), ("w:space", str(space)), ("w:color", color)):
        el.set(qn(k), v)
    return el


def paragraph_border(ppr, *edges) -> None:
    """Add borders (made by `_border`) to a paragraph or paragraph style."""
    pbdr = ppr.find(qn("w:pBdr"))
    if pbdr is None:
        pbdr = OxmlElement("w:pBdr")
        ppr.insert_element_before(pbdr, *_PPR_AFTER_PBDR)
    for edge in edges:
        pbdr.append(edge)


def _run(paragraph, text: str, font: str):
    run = paragraph.add_run(text)
    set_fonts(run._r.get_or_add_rPr(), font)
    return run


def _para(container, style: str, *texts: str):
    """A paragraph of `style` with one run per text, so each {{ }} tag sits whole in one run."""
    p = container.add_paragraph(style=style)
    for text in texts:
        _run(p, text, STYLE[style].font)
    return p


def _define_style(doc: WordDocument, spec: Style) -> None:
    style = doc.styles.add_style(spec.name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = doc.styles["Normal"]
    style.quick_style = True
    style.font.size = Pt(spec.size)
    set_fonts(style.element.get_or_add_rPr(), spec.font)
    if spec.color:
        style.element.get_or_add_rPr().get_or_add_color().set(qn("w:val"), spec.color)
    if spec.size == BODY_PT:
        spacing = OxmlElement("w:spacing")
        spacing.set(qn("w:val"), str(CONDENSE))
        style.element.get_or_add_rPr().insert_element_before(
            spacing, "w:w", "w:kern", "w:position", "w:sz", "w:szCs", "w:highlight", "w:u", "w:effect", "w:bdr",
            "w:shd", "w:fitText", "w:vertAlign", "w:rtl", "w:cs", "w:em", "w:lang", "w:eastAsianLayout")
    pf = style.paragraph_format
    pf.alignment = _ALIGN[spec.align]
    pf.space_before, pf.space_after = Pt(spec.before), Pt(spec.after)
    if spec.line is None:
        pf.line_spacing_rule = WD_LINE_SPACING.SINGLE
    else:
        pf.line_spacing, pf.line_spacing_rule = Pt(spec.line), WD_LINE_SPACING.EXACTLY
    pf.keep_with_next = spec.keep_next or None
    pf.page_break_before = spec.page_break or None
    pf.widow_control = True
    ppr = style.element.get_or_add_pPr()
    ind = ppr.get_or_add_ind()
    # Indents in characters (firstLineChars …) so they follow the font size; twips for older readers.
    for attr, chars in (("firstLine", spec.first), ("left", spec.left), ("right", spec.right)):
        if chars:
            ind.set(qn(f"w:{attr}"), str(round(chars * spec.size * 20)))
            ind.set(qn(f"w:{attr}Chars"), str(round(chars * 100)))
    if not spec.grid:
        snap = OxmlElement("w:snapToGrid")
        snap.set(qn("w:val"), "0")
        ppr.insert_element_before(snap, *_PPR_AFTER_PBDR[_PPR_AFTER_PBDR.index("w:snapToGrid") + 1:])
    if spec.outline is not None:
        ppr.get_or_add_outlineLvl().set(qn("w:val"), str(spec.outline))


def _defaults(doc: WordDocument) -> None:
    """Document defaults and Normal in 3号仿宋, Chinese language; no theme fonts (they fall back to MS Mincho)."""
    rpr = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    set_fonts(rpr, FANGSONG)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "zh-CN")
    lang.set(qn("w:eastAsia"), "zh-CN")
    for tag in ("w:sz", "w:szCs"):
        size = rpr.find(qn(tag))
        if size is None:
            size = OxmlElement(tag)
            rpr.insert_element_before(size, "w:highlight", "w:u", "w:effect", "w:bdr", "w:shd", "w:fitText",
                                      "w:vertAlign", "w:rtl", "w:cs", "w:em", "w:lang", "w:eastAsianLayout")
        size.set(qn("w:val"), str(BODY_PT * 2))
    normal = doc.styles["Normal"]
    normal.font.size = Pt(BODY_PT)
    set_fonts(normal.element.get_or_add_rPr(), FANGSONG)
    for style in doc.styles:
        rpr = style.element.rPr
        if rpr is not None and rpr.rFonts is not None:
            set_fonts(rpr, rpr.rFonts.get(qn("w:eastAsia")) or FANGSONG)


def _page(section, landscape: bool = False) -> None:
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = PAGE_H, PAGE_W
        section.top_margin, section.bottom_margin = Mm(28), Mm(26)
        section.left_margin, section.right_margin = Mm(37), Mm(35)
    else:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = PAGE_W, PAGE_H
        section.top_margin, section.bottom_margin = TOP, BOTTOM
        section.left_margin, section.right_margin = LEFT, RIGHT
    section.header_distance, section.footer_distance = Mm(15), Mm(23)
    grid = section._sectPr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        section._sectPr.append(grid)
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(LINE_PITCH))


def _page_field(paragraph) -> None:
    """“— 1 —”: 4号宋体 Arabic page number between two em dashes, as a PAGE field."""
    _run(paragraph, "— ", SONG)
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        run = _run(paragraph, "", SONG)
        if kind is not None:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            run._r.append(fld)
        elif text == " PAGE ":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        else:
            run.text = text
    _run(paragraph, " —", SONG)


def _headers_footers(doc: WordDocument) -> None:
    """Odd pages number on the right, even on the left, one character in; a 函's first page carries
    no number but the lower red double rule; every header says 演练 when the notice is a drill."""
    doc.settings.odd_and_even_pages_header_footer = True
    section = doc.sections[0]
    for header in (section.header, section.even_page_header, section.first_page_header):
        header.is_linked_to_previous = False
        p = header.paragraphs[0]
        p.style = doc.styles["演练标记"]
        _run(p, "{{ '【演练】非正式文书' if doc.drill else '' }}", HEITI)
    for footer, align in ((section.footer, "right"), (section.even_page_footer, "left")):
        footer.is_linked_to_previous = False
        p = footer.paragraphs[0]
        p.style = doc.styles["页码"]
        p.alignment = _ALIGN[align]
        indent = Pt(IMPRINT_PT)
        if align == "right":
            p.paragraph_format.right_indent = indent
        else:
            p.paragraph_format.left_indent = indent
        _page_field(p)
    first = section.first_page_footer
    first.is_linked_to_previous = False
    p = first.paragraphs[0]
    p.style = doc.styles["页码"]
    # Only the rule: a hairline paragraph, so the footer does not eat into the first page's text block.
    p.paragraph_format.line_spacing, p.paragraph_format.line_spacing_rule = Pt(1), WD_LINE_SPACING.EXACTLY
    paragraph_border(p._p.get_or_add_pPr(), _border("top", "thinThickSmallGap", 24, 1, RED))


def table_borders(table) -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        borders.append(_border(edge, size=4, space=0))
    # Word rejects a table whose properties are out of schema order.
    table._tbl.tblPr.insert_element_before(borders, "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook",
                                           "w:tblCaption", "w:tblDescription", "w:tblPrChange")


def add_table(container, t: Table, width: int) -> None:
    """A bordered table across the text block, header row repeated on every page."""
    table = container.add_table(rows=1 + len(t.rows), cols=len(t.columns))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    table_borders(table)
    total = sum(t.widths)
    widths = [Emu(width * w // total) for w in t.widths]
    grid = table._tbl.tblGrid
    for col, w in zip(grid.findall(qn("w:gridCol")), widths, strict=True):
        col.set(qn("w:w"), str(round(w / 635)))  # EMU → twentieths of a point
    # Columns of short values (序号, 抽查类型, 比例 …) read better centred.
    short = [all(len(str(row[c])) <= SHORT_CELL for row in t.rows) for c in range(len(t.columns))]
    for r, values in enumerate([t.columns, *t.rows]):
        row = table.rows[r]
        if r == 0:
            row._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
        for c, (cell, value, w) in enumerate(zip(row.cells, values, widths, strict=True)):
            cell.width = w
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            p = cell.paragraphs[0]
            p.style = "表格表头" if r == 0 else "表格文字"
            if r and short[c]:
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _run(p, str(value), HEITI if r == 0 else FANGSONG)


def add_blocks(container, blocks: Sequence[Block], width: int) -> None:
    """Headings, paragraphs and tables of a notice body, in the named styles."""
    for b in blocks:
        if isinstance(b, Heading):
            style = HEADING_STYLES[min(b.level, 4) - 1]
            p = _para(container, style, f"{b.number}{b.text}")
            if b.runin:
                _run(p, b.runin, FANGSONG)
                p.paragraph_format.keep_with_next = False
        elif isinstance(b, Para):
            _para(container, "公文正文", b.text)
        else:
            add_table(container, b, width)


# ---------------------------------------------------------------- the templates


def _tag(doc, text: str) -> None:
    _para(doc, "公文正文", text)


def _signature(doc) -> None:
    _para(doc, "发文机关署名", "{{ doc.signature }}")
    _para(doc, "成文日期", "{{ doc.date | cn_date }}")
    _tag(doc, "{%p if doc.disclosure %}")
    _para(doc, "附注", "{{ doc.disclosure }}")
    _tag(doc, "{%p endif %}")


def _closing(doc) -> None:
    _tag(doc, "{%p for line in doc.contacts %}")
    _para(doc, "公文正文", "{{ line }}")
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p for line in doc.attachments %}")
    _para(doc, "附件说明", "{{ '附件：' if loop.first else '　　　' }}", "{{ line }}")
    _tag(doc, "{%p endfor %}")


def _head(doc) -> None:
    """版头: 文件 (mark + 文件, number centred, red rule) or 函 (mark, red double rule, number right)."""
    _tag(doc, "{%p if doc.letter %}")
    mark = _para(doc, "信函机关标志", "{{ doc.issuer }}")
    paragraph_border(mark._p.get_or_add_pPr(), _border("bottom", "thickThinSmallGap", 24, 4, RED))
    _para(doc, "信函发文字号", "{{ doc.number or '' }}")
    _tag(doc, "{%p else %}")
    _para(doc, "发文机关标志", "{{ doc.issuer }}文件")
    number = _para(doc, "发文字号", "{{ doc.number or '' }}")
    paragraph_border(number._p.get_or_add_pPr(), _border("bottom", "single", 12, 11, RED))
    _tag(doc, "{%p endif %}")


def _entity_notices(doc) -> None:
    """One 随机抽查通知书 per drawn entity; the wording here is the form, every fact is data."""
    _tag(doc, "{%p for n in doc.entity_notices %}")
    _para(doc, "通知书标题", "随机抽查通知书", "{{ '（演练）' if doc.drill else '' }}")
    _para(doc, "通知书编号", "抽查任务编号：", "{{ n.task_no }}")
    _para(doc, "主送机关", "{{ n.entity }}", "（统一社会信用代码：", "{{ n.uscc }}", "）：")
    _para(doc, "公文正文", "{{ '根据' ~ n.basis ~ '等规定，' if n.basis else '' }}", "按照《", "{{ n.plan }}",
          "》，你单位被随机抽取为", "{{ n.tasks }}", "的检查对象。", "{{ n.inspector }}", "将于", "{{ n.window }}",
          "期间对你单位进行检查", "{{ '，检查方式为' ~ n.methods if n.methods else '' }}", "。检查事项如下：")
    _tag(doc, "{%p for line in n.items %}")
    _para(doc, "公文正文", "{{ line }}")
    _tag(doc, "{%p endfor %}")
    _para(doc, "公文正文", "请你单位提前准备营业执照（副本）、法定代表人（负责人）身份证明，以及与上述检查事项有关的许可证件、"
                       "台账、合同、票据等材料，并指定专人配合检查。")
    _para(doc, "公文正文", "无正当理由拒绝、阻碍或者不配合检查的，检查机关将依法处理，检查结果将记为“不配合检查情节严重”"
                       "并通过国家企业信用信息公示系统向社会公示。")
    # Contacts on one line, kept with the signature: a signature never stands alone on a page.
    _para(doc, "公文正文", "{{ n.contacts | join('　') }}").paragraph_format.keep_with_next = True
    _para(doc, "发文机关署名", "{{ n.signature }}")
    _para(doc, "成文日期", "{{ n.date | cn_date }}")
    _tag(doc, "{%p endfor %}")


def _results_table(doc, width: int) -> None:
    """The disclosure table: the header is the form, one looped row holds the data cells."""
    blank = ("",) * (len(RESULT_COLUMNS) - 1)
    t = Table(RESULT_COLUMNS, (("{%tr for r in doc.results.rows %}", *blank),
                               tuple(f"{{{{ r[{i}] }}}}" for i in range(len(RESULT_COLUMNS))),
                               ("{%tr endfor %}", *blank)), RESULT_WIDTHS)
    add_table(doc, t, width)


def build_template(kind: str) -> WordDocument:
    """The stock docxtpl template of one kind of notice."""
    doc = new_document()
    body = doc.element.body
    for p in list(body.iterchildren(qn("w:p"))):
        body.remove(p)
    _defaults(doc)
    for spec in STYLES:
        _define_style(doc, spec)
    landscape = kind == "results_notice"
    _page(doc.sections[0], landscape)
    _headers_footers(doc)
    width = BLOCK_H if landscape else BLOCK_W
    _tag(doc, "{%p if doc.drill %}")
    _para(doc, "演练标记", "【演练】本文件由演练抽取生成，不是正式文书，不得送达或公开。")
    _tag(doc, "{%p endif %}")
    if kind not in ("task_notice", "results_notice"):
        _head(doc)
    _para(doc, "公文标题", "{{ doc.title }}")
    _tag(doc, "{%p if doc.addressees %}")
    _para(doc, "主送机关", "{{ doc.addressees }}")
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p for p in doc.preamble %}")
    _para(doc, "公文正文", "{{ p }}")
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p if doc.enclosure_title %}")
    _signature(doc)
    title = _para(doc, "附件标题", "{{ doc.enclosure_title }}")
    title.paragraph_format.page_break_before = True
    _tag(doc, "{{p enclosure }}")
    _closing(doc)
    _tag(doc, "{%p else %}")
    _tag(doc, "{{p body }}")
    if kind == "results_notice":
        _results_table(doc, width)
    _closing(doc)
    _signature(doc)
    _tag(doc, "{%p endif %}")
    if kind == "task_notice":
        _entity_notices(doc)
    _tag(doc, "{%p for a in annexes %}")
    _para(doc, "附件标识", "{{ a.label }}")
    _para(doc, "附件标题", "{{ a.title }}")
    _tag(doc, "{{p a.body }}")
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p if doc.cc %}")
    imprint = _para(doc, "版记", "{{ doc.cc }}")
    paragraph_border(imprint._p.get_or_add_pPr(), _border("top", size=8), _border("bottom", size=4))
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p if doc.printed_by %}")
    printed = _para(doc, "版记", "{{ doc.printed_by }}", "　　", "{{ doc.date | cn_date }}", "印发")
    paragraph_border(printed._p.get_or_add_pPr(), _border("bottom", size=8))
    _tag(doc, "{%p endif %}")
    return doc


def write_templates(folder: Path = TEMPLATES / "docx") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in KINDS:
        path = folder / f"{kind}.docx"
        build_template(kind).save(str(path))
        written.append(path)
    return written


# ---------------------------------------------------------------- rendering


class Fragment:
    """Body content built with python-docx against the template's own styles, inserted by `{{p name }}`.

    This is what docxtpl's Subdoc does for a new (not file-based) subdocument, without its docxcompose
    dependency: a scratch document shares the template's part, so style names resolve to the
    template's styles, and its body XML is handed to jinja as markup.
    """

    def __init__(self, tpl: DocxTemplate, blocks: Sequence[Block], width: int) -> None:
        self.document = new_document()
        self.document._part = tpl.get_docx().part
        body = self.document.element.body
        for p in list(body.iterchildren(qn("w:p"))):
            body.remove(p)
        add_blocks(self.document, blocks, width)

    def __html__(self) -> str:
        body = self.document.element.body
        return "".join(etree.tostring(el, encoding="unicode") for el in body if el.tag != qn("w:sectPr"))


def _missing_styles(tpl: DocxTemplate) -> list[str]:
    names = {s.name for s in tpl.get_docx().styles}
    return [s.name for s in STYLES if s.name not in names]


def render(template: Path, notice: Notice) -> bytes:
    """Fill a docxtpl template with a Notice: named-style body, autoescaped values, GB/T layout fixes."""
    tpl = DocxTemplate(str(template))
    missing = _missing_styles(tpl)
    if missing:
        raise SpotcheckError(Problem("N841", f"Word 模板缺少样式：{'、'.join(missing)}", file=display(template),
                                     hint="在 Word 中恢复这些样式，或从 templates/docx/ 复制一份标准模板再修改"))
    section = tpl.get_docx().sections[-1]
    width = section.page_width - section.left_margin - section.right_margin
    context = {
        "doc": notice,
        "body": Fragment(tpl, notice.body, width),
        "enclosure": Fragment(tpl, notice.enclosure, width),
        "annexes": [{"label": a.label, "title": a.title, "body": Fragment(tpl, a.blocks, BLOCK_H if a.landscape else width)}
                    for a in notice.annexes],
    }
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)
    env.filters["cn_date"] = cn_date
    try:
        tpl.render(context, jinja_env=env, autoescape=True)
    except TemplateError as exc:
        raise SpotcheckError(_docx_problem(exc, tpl, template)) from None
    finish(tpl.docx, notice)  # get_docx() would reload the unrendered template
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


def _docx_problem(exc: TemplateError, tpl: DocxTemplate, template: Path) -> Problem:
    """The template file and the line of the patched document XML (one line per paragraph), with its text."""
    problem = template_problem(exc, template)
    line = next((f.lineno for f in reversed(traceback.extract_tb(exc.__traceback__)) if f.filename == "<template>"),
                problem.line)
    source = re.sub(r"<w:p([ >])", r"\n<w:p\1", tpl.patch_xml(tpl.get_xml())).splitlines()
    text = re.sub(r"<[^>]+>", "", source[line - 1]).strip() if line and 0 < line <= len(source) else ""
    return Problem(problem.code, problem.message, file=display(template), line=line,
                   where=f"模板段落：{text}" if text else None, hint=problem.hint)


def finish(doc: WordDocument, notice: Notice) -> None:
    """Layout the template cannot hold: a 函's bare first page, a mark fitted to the line, landscape annexes."""
    doc.sections[0].different_first_page_header_footer = notice.letter
    _fit_marks(doc)
    _landscape_annexes(doc, [a.landscape for a in notice.annexes])


def _text_units(text: str) -> float:
    return sum(1 if ord(c) >= 0x2E80 else 0.5 for c in text)


def _fit_marks(doc: WordDocument) -> None:
    """Narrow (then shrink) the red issuing-body mark so it stays on one line of the text block."""
    available = BLOCK_W.pt
    for p in doc.paragraphs:
        if p.style is None or p.style.name not in ("发文机关标志", "信函机关标志"):
            continue
        size = (p.style.font.size or Pt(BODY_PT)).pt
        units = _text_units(p.text)
        if not units or units * size <= available:
            continue
        scale = max(MIN_MARK_SCALE, math.floor(100 * available / (units * size)))
        new_size = min(size, available / (units * scale / 100))
        for run in p.runs:
            rpr = run._r.get_or_add_rPr()
            w = OxmlElement("w:w")
            w.set(qn("w:val"), str(scale))
            rpr.insert_element_before(w, "w:kern", "w:position", "w:sz", "w:szCs", "w:highlight", "w:u", "w:effect",
                                      "w:bdr", "w:shd", "w:fitText", "w:vertAlign", "w:rtl", "w:cs", "w:em",
                                      "w:lang", "w:eastAsianLayout", "w:specVanish", "w:oMath")
            if new_size < size:
                run.font.size = Pt(math.floor(new_size))


def _landscape_annexes(doc: WordDocument, landscape: list[bool]) -> None:
    """Put each wide annex in its own landscape section; the pages around it stay portrait.

    Only the first section keeps a 函's bare first page (w:titlePg); later sections number every page.
    """
    final = doc.element.body.sectPr
    original = copy.deepcopy(final)
    paragraphs = [p for p in doc.paragraphs if p.style is not None]
    labels = [p._p for p in paragraphs if p.style.name == "附件标识"]
    imprint = next((p._p for p in paragraphs if p.style.name == "版记"), None)
    broken = False
    for label, end, wide in zip(labels, [*labels[1:], imprint], landscape, strict=False):
        if not wide:
            continue
        before = copy.deepcopy(original)
        if broken:
            _drop_title_page(before)
        _break_before(label, before)
        broken = True
        if end is None:
            _rotate(final)
        else:
            rotated = copy.deepcopy(original)
            _rotate(rotated)
            _break_before(end, rotated)
    if broken:
        _drop_title_page(final)


def _drop_title_page(sect_pr) -> None:
    title_pg = sect_pr.find(qn("w:titlePg"))
    if title_pg is not None:
        sect_pr.remove(title_pg)


def _break_before(element, sect_pr) -> None:
    """End a section just before `element`: its properties go on a paragraph in front of it."""
    prev = element.getprevious()
    if prev is None or prev.tag != qn("w:p"):
        prev = OxmlElement("w:p")
        element.addprevious(prev)
    prev.get_or_add_pPr().insert_element_before(sect_pr, "w:pPrChange")


def _rotate(sect_pr) -> None:
    size = sect_pr.find(qn("w:pgSz"))
    w, h = size.get(qn("w:w")), size.get(qn("w:h"))
    size.set(qn("w:w"), h)
    size.set(qn("w:h"), w)
    size.set(qn("w:orient"), "landscape")
    margins = sect_pr.find(qn("w:pgMar"))
    for edge, mm in (("top", 28), ("bottom", 26), ("left", 37), ("right", 35)):
        margins.set(qn(f"w:{edge}"), str(round(mm * 72 / 25.4 * 20)))
    _drop_title_page(sect_pr)


# ---------------------------------------------------------------- PDF


def _fontconfig(folder: Path) -> Path:
    """A fontconfig file that keeps the system's fonts and adds the free stand-ins for the official names."""
    aliases = "".join(
        f"<alias binding=\"same\"><family>{name}</family><accept>{''.join(f'<family>{f}</family>' for f in subs)}</accept></alias>"
        for name, subs in STAND_INS.items()
    )
    path = folder / "fonts.conf"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f'<include ignore_missing="yes">/etc/fonts/fonts.conf</include>{aliases}</fontconfig>',
        "utf-8",
    )
    return path


def to_pdf(docx: bytes) -> bytes:
    """Convert with `libreoffice --headless --convert-to pdf`; SpotcheckError when LibreOffice is missing."""
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        raise SpotcheckError(Problem(
            "N830", "生成 PDF 需要 LibreOffice，本机未找到 soffice 或 libreoffice 命令",
            hint="安装：apt-get install libreoffice-writer fonts-noto-cjk；或改用 --format docx 后在 Word 中另存为 PDF"))
    with tempfile.TemporaryDirectory(prefix="spotcheck-pdf-") as tmp:
        folder = Path(tmp)
        source = folder / "notice.docx"
        source.write_bytes(docx)
        env = dict(os.environ, HOME=str(folder), FONTCONFIG_FILE=str(_fontconfig(folder)))
        try:
            done = subprocess.run(
                [office, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless", "--convert-to", "pdf",
                 "--outdir", str(folder), str(source)],
                env=env, capture_output=True, text=True, timeout=300, check=False,
            )
        except subprocess.TimeoutExpired:
            raise SpotcheckError(Problem("N831", "LibreOffice 转换 PDF 超时（300 秒）")) from None
        pdf = folder / "notice.pdf"
        if done.returncode != 0 or not pdf.is_file():
            raise SpotcheckError(Problem("N831", f"LibreOffice 未能生成 PDF：{(done.stderr or done.stdout).strip()[:300]}"))
        return pdf.read_bytes()


if __name__ == "__main__":
    for written in write_templates():
        print(display(written))
