"""GB/T 9704-2012 in Word: page geometry, official faces, the named styles, and notice blocks set in them.

The numbered body is composed from named styles (公文正文, 一级标题 …), so an officer who changes a
style in a template changes every notice rendered from it. The official font names stay in the file
(仿宋_GB2312, 方正小标宋简体 …) and are set for East Asian text (w:eastAsia) on every style and run;
machines without them substitute.
"""

from __future__ import annotations

import copy
import datetime as dt
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

from docx.document import Document as WordDocument
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Emu, Mm, Pt
from spotcheck.notices.model import Block, Heading, Para, Table

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
LETTER_PT, LETTER_LINE_PT = 14, 22  # 随机抽查通知书 body: 4号

FANGSONG, KAITI, HEITI, XIAOBIAOSONG, SONG = "仿宋_GB2312", "楷体_GB2312", "黑体", "方正小标宋简体", "宋体"
RED = "FF0000"
SHORT_CELL = 8  # characters; a column whose values are all this short is centred


@dataclass(frozen=True)
class Style:
    name: str
    font: str = FANGSONG
    size: float = BODY_PT
    # Left, not justified: LibreOffice drops a "，" or "、" that ends a justified full line of Chinese (a
    # content error in the PDF); on the 28-character grid every full line of Chinese ends flush anyway.
    align: str = "left"
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
    # 随机抽查通知书: a form on one page, in 4号 on a 22 pt line (29 lines of 31 characters).
    Style("通知书标题", XIAOBIAOSONG, TITLE_PT, "center", line=None, after=LETTER_LINE_PT, grid=False),
    Style("通知书编号", size=LETTER_PT, align="right", line=LETTER_LINE_PT, grid=False),
    Style("通知书抬头", size=LETTER_PT, align="left", line=LETTER_LINE_PT, grid=False),
    Style("通知书正文", size=LETTER_PT, first=2, line=LETTER_LINE_PT, grid=False),
    Style("通知书署名", size=LETTER_PT, align="right", right=2, line=LETTER_LINE_PT, before=LETTER_LINE_PT / 2,
          keep_next=True, grid=False),
    Style("通知书日期", size=LETTER_PT, align="right", right=2, line=LETTER_LINE_PT, grid=False),
    # The paragraph that ends one letter's section: a hairline, so it never pushes a letter onto a second page.
    Style("通知书分节", size=1, align="left", line=1, grid=False),
    Style("表格文字", size=TABLE_PT, align="left", line=None, grid=False),
    Style("表格表头", HEITI, TABLE_PT, "center", line=None, grid=False),
    Style("版记", size=IMPRINT_PT, align="left", left=1, right=1),
    Style("页码", SONG, IMPRINT_PT, "right", line=None, grid=False),
    Style("演练标记", HEITI, align="center", color=RED),
)
STYLE = {s.name: s for s in STYLES}
HEADING_STYLES = ("一级标题", "二级标题", "三级标题", "四级标题")
ALIGN = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER, "right": WD_ALIGN_PARAGRAPH.RIGHT,
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


def border(edge: str, val: str = "single", size: int = 4, space: int = 1, color: str = "000000"):
    el = OxmlElement(f"w:{edge}")
    for k, v in (("w:val", val), ("w:sz", str(size)), ("w:space", str(space)), ("w:color", color)):
        el.set(qn(k), v)
    return el


def paragraph_border(ppr, *edges) -> None:
    """Add borders (made by `border`) to a paragraph or paragraph style."""
    pbdr = ppr.find(qn("w:pBdr"))
    if pbdr is None:
        pbdr = OxmlElement("w:pBdr")
        ppr.insert_element_before(pbdr, *_PPR_AFTER_PBDR)
    for edge in edges:
        pbdr.append(edge)


def add_run(paragraph, text: str, font: str):
    run = paragraph.add_run(text)
    set_fonts(run._r.get_or_add_rPr(), font)
    return run


_STYLE_IDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def set_style(paragraph, name: str) -> None:
    """`paragraph.style = name`, the name looked up once per document: python-docx scans all of the
    template's styles on every lookup, which made a task announcement's many tables take minutes."""
    ids = _STYLE_IDS.setdefault(paragraph.part, {})
    if name not in ids:
        ids[name] = paragraph.part.get_style_id(name, WD_STYLE_TYPE.PARAGRAPH)
    paragraph._p.style = ids[name]


def add_para(container, style: str, *texts: str):
    """A paragraph of `style` with one run per text, so each {{ }} tag sits whole in one run."""
    p = container.add_paragraph()
    set_style(p, style)
    for text in texts:
        add_run(p, text, STYLE[style].font)
    return p


def no_hanging(ppr) -> None:
    """w:overflowPunct off: LibreOffice reads it per paragraph style, not from the document defaults."""
    overflow = ppr.find(qn("w:overflowPunct"))
    if overflow is None:
        overflow = OxmlElement("w:overflowPunct")
        ppr.insert_element_before(overflow, *_PPR_AFTER_PBDR[_PPR_AFTER_PBDR.index("w:overflowPunct") + 1:])
    overflow.set(qn("w:val"), "0")


def define_style(doc: WordDocument, spec: Style) -> None:
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
    pf.alignment = ALIGN[spec.align]
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
    no_hanging(ppr)
    if not spec.grid:
        snap = OxmlElement("w:snapToGrid")
        snap.set(qn("w:val"), "0")
        ppr.insert_element_before(snap, *_PPR_AFTER_PBDR[_PPR_AFTER_PBDR.index("w:snapToGrid") + 1:])
    if spec.outline is not None:
        ppr.get_or_add_outlineLvl().set(qn("w:val"), str(spec.outline))


def set_defaults(doc: WordDocument) -> None:
    """Document defaults and Normal in 3号仿宋, Chinese East Asian language; no theme fonts (they fall back to MS Mincho)."""
    rpr = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    set_fonts(rpr, FANGSONG)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    # Latin-script text (digits, codes, e-mail addresses) in English, as Word sets up a Chinese document:
    # with w:val zh-CN, LibreOffice breaks a USCC or a certificate number at any character.
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    for tag in ("w:sz", "w:szCs"):
        size = rpr.find(qn(tag))
        if size is None:
            size = OxmlElement(tag)
            rpr.insert_element_before(size, "w:highlight", "w:u", "w:effect", "w:bdr", "w:shd", "w:fitText",
                                      "w:vertAlign", "w:rtl", "w:cs", "w:em", "w:lang", "w:eastAsianLayout")
        size.set(qn("w:val"), str(BODY_PT * 2))
    # No punctuation hanging past the text block: LibreOffice drops a hanging "，" or "、" from the PDF
    # (a content error in an official document), and GB/T 9704's block is 28 characters wide.
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    ppr_default = defaults.find(qn("w:pPrDefault"))
    if ppr_default is None:
        ppr_default = OxmlElement("w:pPrDefault")
        defaults.append(ppr_default)
    ppr = ppr_default.find(qn("w:pPr"))
    if ppr is None:
        ppr = OxmlElement("w:pPr")
        ppr_default.append(ppr)
    no_hanging(ppr)
    normal = doc.styles["Normal"]
    no_hanging(normal.element.get_or_add_pPr())
    normal.font.size = Pt(BODY_PT)
    set_fonts(normal.element.get_or_add_rPr(), FANGSONG)
    for style in doc.styles:
        rpr = style.element.rPr
        if rpr is not None and rpr.rFonts is not None:
            set_fonts(rpr, rpr.rFonts.get(qn("w:eastAsia")) or FANGSONG)


def describe(doc: WordDocument, title: str, author: str, subject: str, date: dt.date | None) -> None:
    """What Word's 属性 (and a PDF made from the file) shows. python-docx starts every file naming itself and
    2013-12-23; a notice is described by its own title, issuer, number and date, not the clock's, so the same
    notice is the same bytes; without a date the file has none. A template's other properties (category,
    keywords) are the bureau's and stay."""
    props = doc.core_properties
    props.title, props.subject = title, subject
    props.author = props.last_modified_by = author
    props.language = "zh-CN"
    props.revision = 1
    if props.comments == "generated by python-docx":
        props.comments = ""
    if date is None:
        element = props._element
        for name in ("dcterms:created", "dcterms:modified"):
            for old in element.findall(qn(name)):
                element.remove(old)
    else:
        props.created = props.modified = dt.datetime.combine(date, dt.time())


def set_page(section, landscape: bool = False) -> None:
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


# ---------------------------------------------------------------- the body: tables and blocks in the named styles

_TC, _P, _R = qn("w:tc"), qn("w:p"), qn("w:r")


def table_borders(table) -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        borders.append(border(edge, size=4, space=0))
    # Word rejects a table whose properties are out of schema order.
    table._tbl.tblPr.insert_element_before(borders, "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook",
                                           "w:tblCaption", "w:tblDescription", "w:tblPrChange")


def add_table(container, t: Table, width: int) -> None:
    """A bordered table across the text block, header row repeated on every page.

    Every body row has the same cell properties and styles, so the first is built through python-docx
    and the others are copies of it with their own text: setting a style by name scans every style of
    the template, which made a drawn list of thousands of rows take minutes.
    """
    table = container.add_table(rows=1 + min(1, len(t.rows)), cols=len(t.columns))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    table_borders(table)
    total = sum(t.widths)
    widths = [Emu(width * w // total) for w in t.widths]
    grid = table._tbl.tblGrid
    for col, w in zip(grid.findall(qn("w:gridCol")), widths, strict=True):
        col.set(qn("w:w"), str(round(w / 635)))  # EMU → twentieths of a point
    short = t.centred or centred_columns(t)
    for r, (row, values) in enumerate(zip(table.rows, [t.columns, *t.rows[:1]], strict=True)):
        if r == 0:
            row._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
        for c, (cell, value, w) in enumerate(zip(row.cells, values, widths, strict=True)):
            cell.width = w
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            p = cell.paragraphs[0]
            set_style(p, "表格表头" if r == 0 else "表格文字")
            if r and short[c]:
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            add_run(p, str(value), HEITI if r == 0 else FANGSONG)
    if len(t.rows) > 1:
        _repeat_row(table, t.rows[1:])
    # A merged cell is written once in its top cell, then joined with the cells it covers.
    for r, spans in enumerate(t.spans, 1):
        for c, span in enumerate(spans):
            if span > 1:
                table.cell(r, c).merge(table.cell(r + span - 1, c))


def centred_columns(t: Table) -> tuple[bool, ...]:
    """Columns of short values (序号, 抽查类型, 比例 …) read better centred."""
    return tuple(all(len(str(row[c])) <= SHORT_CELL for row in t.rows) for c in range(len(t.columns)))


def _repeat_row(table, rows: Sequence[Sequence[str]]) -> None:
    """Append a copy of the table's last row per item of `rows`, each cell's one run given its value."""
    proto = table._tbl.tr_lst[-1]
    tbl = proto.getparent()
    for values in rows:
        tbl.append(filled_row(proto, values))


def filled_row(proto, values: Sequence[str]):
    """A copy of a table row, each cell's one run given its value."""
    tr = copy.deepcopy(proto)
    for run, value in zip(tr.iterfind(f"{_TC}/{_P}/{_R}"), values, strict=True):
        run.text = str(value)
    return tr


def add_blocks(container, blocks: Sequence[Block], width: int) -> None:
    """Headings, paragraphs and tables of a notice body, in the named styles."""
    for b in blocks:
        if isinstance(b, Heading):
            style = HEADING_STYLES[min(b.level, 4) - 1]
            p = add_para(container, style, f"{b.number}{b.text}")
            if b.runin:
                add_run(p, b.runin, FANGSONG)
                p.paragraph_format.keep_with_next = False
        elif isinstance(b, Para):
            add_para(container, "公文正文", b.text)
        else:
            add_table(container, b, width)
