"""The stock Word templates: GB/T 9704-2012 red head, title, body, signature, imprint, as docxtpl tags.

The templates in templates/docx/ are built by `build_template` (`python -m spotcheck.notices.docx_layout`
rewrites them; tests/test_docx_layout.py fails when a stock template drifts from this code). An officer
may open one in Word and restyle it: the numbered body is composed from the template's named styles
(公文正文, 一级标题 …, defined in docx_styles), so changing a style there changes every notice rendered
from it. Filling a template is docx_render's work.
"""

from __future__ import annotations

import copy
from pathlib import Path

from docx import Document as new_document
from docx.document import Document as WordDocument
from docx.enum.text import WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt
from spotcheck.notices.docx_styles import (
    ALIGN,
    BLOCK_H,
    BLOCK_W,
    HEITI,
    IMPRINT_PT,
    RED,
    SONG,
    STYLES,
    add_para,
    add_run,
    add_table,
    border,
    define_style,
    describe,
    paragraph_border,
    set_defaults,
    set_page,
)
from spotcheck.notices.announcements import result_columns
from spotcheck.notices.model import KINDS, Table
from spotcheck.resources import TEMPLATES
from spotcheck.policy.yamlsource import display

# ---------------------------------------------------------------- page numbers and headers


def _page_field(paragraph) -> None:
    """“— 1 —”: 4号宋体 Arabic page number between two em dashes, as a PAGE field."""
    add_run(paragraph, "— ", SONG)
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        run = add_run(paragraph, "", SONG)
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
    add_run(paragraph, " —", SONG)


def _headers_footers(doc: WordDocument) -> None:
    """Odd pages number on the right, even on the left, one character in; a 函's first page carries
    no number but the lower red double rule; every header says 演练 when the notice is a drill."""
    doc.settings.odd_and_even_pages_header_footer = True
    section = doc.sections[0]
    for header in (section.header, section.even_page_header, section.first_page_header):
        header.is_linked_to_previous = False
        p = header.paragraphs[0]
        p.style = doc.styles["演练标记"]
        add_run(p, "{{ '【演练】非正式文书' if doc.drill else '' }}", HEITI)
    for footer, align in ((section.footer, "right"), (section.even_page_footer, "left")):
        footer.is_linked_to_previous = False
        p = footer.paragraphs[0]
        p.style = doc.styles["页码"]
        p.alignment = ALIGN[align]
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
    paragraph_border(p._p.get_or_add_pPr(), border("top", "thinThickSmallGap", 24, 1, RED))


# ---------------------------------------------------------------- the templates


def _tag(doc, text: str) -> None:
    add_para(doc, "公文正文", text)


def _signature(doc) -> None:
    add_para(doc, "发文机关署名", "{{ doc.signature }}")
    add_para(doc, "成文日期", "{{ doc.date | cn_date }}")
    _tag(doc, "{%p if doc.disclosure %}")
    add_para(doc, "附注", "{{ doc.disclosure }}")
    _tag(doc, "{%p endif %}")


def _closing(doc) -> None:
    _tag(doc, "{%p for line in doc.contacts %}")
    add_para(doc, "公文正文", "{{ line }}")
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p for line in doc.attachments %}")
    add_para(doc, "附件说明", "{{ '附件：' if loop.first else '　　　' }}", "{{ line }}")
    _tag(doc, "{%p endfor %}")


def _head(doc) -> None:
    """版头: 文件 (mark + 文件, number centred, red rule) or 函 (mark, red double rule, number right)."""
    _tag(doc, "{%p if doc.letter %}")
    mark = add_para(doc, "信函机关标志", "{{ doc.issuer }}")
    paragraph_border(mark._p.get_or_add_pPr(), border("bottom", "thickThinSmallGap", 24, 4, RED))
    add_para(doc, "信函发文字号", "{{ doc.number or '' }}")
    _tag(doc, "{%p else %}")
    add_para(doc, "发文机关标志", "{{ doc.issuer }}文件")
    number = add_para(doc, "发文字号", "{{ doc.number or '' }}")
    paragraph_border(number._p.get_or_add_pPr(), border("bottom", "single", 12, 11, RED))
    _tag(doc, "{%p endif %}")


def _letters(doc) -> None:
    """One 随机抽查通知书 per visit, each its own section: a page of its own, numbered from 1. The wording
    here is the form; every fact is data. Codes (USCC, visit id) stand on lines of their own."""
    numbering = OxmlElement("w:pgNumType")
    numbering.set(qn("w:start"), "1")
    doc.element.body.sectPr.append(numbering)
    _tag(doc, "{%p for n in doc.entity_notices %}")
    _tag(doc, "{%p if not loop.first %}")
    # Ends the previous letter's section; a copy of the final section's properties (page, footers, numbering).
    brk = add_para(doc, "通知书分节")
    brk._p.get_or_add_pPr().insert_element_before(copy.deepcopy(doc.element.body.sectPr), "w:pPrChange")
    _tag(doc, "{%p endif %}")
    add_para(doc, "通知书标题", "随机抽查通知书", "{{ '（演练）' if doc.drill else '' }}")
    add_para(doc, "通知书编号", "抽查任务编号：", "{{ n.task_no }}")
    add_para(doc, "通知书编号", "检查编号：", "{{ n.visit_id }}")
    add_para(doc, "通知书抬头", "{{ n.entity }}", "：")
    add_para(doc, "通知书抬头", "统一社会信用代码：", "{{ n.uscc }}")
    add_para(doc, "通知书正文", "{{ '根据' ~ n.basis ~ '等规定，' if n.basis else '' }}", "按照《", "{{ n.plan }}",
             "》，你单位被随机抽取为", "{{ n.tasks }}", "的检查对象。", "{{ n.inspector }}", "将于", "{{ n.window }}",
             "期间对你单位进行检查", "{{ '，检查方式为' ~ n.methods if n.methods else '' }}", "。检查事项如下：")
    _tag(doc, "{%p for line in n.items %}")
    add_para(doc, "通知书正文", "{{ line }}")
    _tag(doc, "{%p endfor %}")
    add_para(doc, "通知书正文", "请你单位提前准备营业执照（副本）、法定代表人（负责人）身份证明，以及与上述检查事项有关的许可证件、"
                           "台账、合同、票据等材料，并指定专人配合检查。无正当理由拒绝、阻碍或者不配合检查的，检查机关将依法处理，"
                           "检查结果将记为“不配合检查情节严重”并通过国家企业信用信息公示系统向社会公示。")
    add_para(doc, "通知书正文", "检查人员：", "{{ n.team | join('、') if n.team else '另行通知' }}",
             "{{ '（检查时出示执法证件）' if n.team else '' }}")
    _tag(doc, "{%p for line in n.contacts %}")
    add_para(doc, "通知书正文", "{{ line }}")
    _tag(doc, "{%p endfor %}")
    add_para(doc, "通知书署名", "{{ n.signature }}")
    add_para(doc, "通知书日期", "{{ n.date | cn_date }}")
    _tag(doc, "{%p endfor %}")


def _results_table(doc, width: int) -> None:
    """The results table, one of two: with 检查机关 as a column when the rows' bodies differ, else without
    it (the facts above the table state it). The header is the form, one looped row holds the data cells."""
    _tag(doc, "{%p if '检查机关' in doc.results.columns %}")
    _looped_table(doc, *result_columns(True), width)
    _tag(doc, "{%p else %}")
    _looped_table(doc, *result_columns(False), width)
    _tag(doc, "{%p endif %}")


def _looped_table(doc, columns: tuple[str, ...], widths: tuple[int, ...], width: int) -> None:
    blank = ("",) * (len(columns) - 1)
    t = Table(columns, (("{%tr for r in doc.results.rows %}", *blank), tuple(f"{{{{ r[{i}] }}}}" for i in range(len(columns))),
                        ("{%tr endfor %}", *blank)), widths)
    add_table(doc, t, width)
    # An entity's row is read whole: it moves to the next page rather than being split across two.
    doc.tables[-1].rows[2]._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))


# python-docx's blank package carries Word 2010's stylesWithEffects.xml and a thumbnail picture. Word 2013
# and later, WPS and LibreOffice read neither, and together they are half of a one-letter file: a city's
# per-entity letters (one file per visit) would carry them hundreds of thousands of times.
_UNREAD_PARTS = ("stylesWithEffects", "thumbnail")


def build_template(kind: str) -> WordDocument:
    """The stock docxtpl template of one kind of notice."""
    doc = new_document()
    for rels in (doc.part.rels, doc.part.package.rels):
        for rid, rel in list(rels.items()):
            if rel.reltype.rsplit("/", 1)[-1] in _UNREAD_PARTS:
                rels.pop(rid)
    body = doc.element.body
    for p in list(body.iterchildren(qn("w:p"))):
        body.remove(p)
    set_defaults(doc)
    describe(doc, "", "", "", None)  # each notice is described by docx_render; a bureau's copy is theirs to describe
    for spec in STYLES:
        define_style(doc, spec)
    landscape = kind == "results_notice"
    set_page(doc.sections[0], landscape)
    _headers_footers(doc)
    width = BLOCK_H if landscape else BLOCK_W
    if kind == "inspection_letter":
        _letters(doc)
        return doc
    _tag(doc, "{%p if doc.drill %}")
    add_para(doc, "演练标记", "【演练】本文件由演练抽取生成，不是正式文书，不得送达或公开。")
    _tag(doc, "{%p endif %}")
    if kind not in ("task_notice", "results_notice"):
        _head(doc)
    add_para(doc, "公文标题", "{{ doc.title }}")
    _tag(doc, "{%p if doc.addressees %}")
    add_para(doc, "主送机关", "{{ doc.addressees }}")
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p for p in doc.preamble %}")
    add_para(doc, "公文正文", "{{ p }}")
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p if doc.enclosure_title %}")
    _signature(doc)
    title = add_para(doc, "附件标题", "{{ doc.enclosure_title }}")
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
    _tag(doc, "{%p for a in annexes %}")
    add_para(doc, "附件标识", "{{ a.label }}")
    add_para(doc, "附件标题", "{{ a.title }}")
    _tag(doc, "{{p a.body }}")
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p if doc.cc %}")
    imprint = add_para(doc, "版记", "{{ doc.cc }}")
    paragraph_border(imprint._p.get_or_add_pPr(), border("top", size=8), border("bottom", size=4))
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p if doc.printed_by %}")
    printed = add_para(doc, "版记", "{{ doc.printed_by }}", "　　", "{{ doc.date | cn_date }}", "印发")
    paragraph_border(printed._p.get_or_add_pPr(), border("bottom", size=8))
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


if __name__ == "__main__":
    for written in write_templates():
        print(display(written))
