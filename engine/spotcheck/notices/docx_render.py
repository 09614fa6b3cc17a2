"""A Notice into Word and PDF: fill a docxtpl template, fix what a template cannot hold, convert with LibreOffice.

The body is built against the template's own named styles (see docx_styles), so a restyled template
restyles every notice. `to_pdf` maps the official font names to free stand-ins through the fontconfig file
shipped beside this module (fonts.conf), so LibreOffice renders Chinese with the right kind of face.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import io
import math
import os
import re
import shutil
import subprocess
import tempfile
import traceback
from collections.abc import Sequence
from functools import cache, lru_cache
from pathlib import Path

from docx import Document as new_document
from docx.document import Document as WordDocument
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Emu, Pt
from docx.text.paragraph import Paragraph
from docxtpl import DocxTemplate
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from lxml import etree
from spotcheck.notices.docx_styles import (
    BLOCK_H,
    BLOCK_W,
    BODY_PT,
    LETTER_PT,
    STYLE,
    STYLES,
    Style,
    add_blocks,
    describe,
)
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.notices.content import cn_date
from spotcheck.notices.docx_package import redated
from spotcheck.notices.model import Block, Notice
from spotcheck.notices.templates import template_problem
from spotcheck.notices.titles import lined
from spotcheck.policy.yamlsource import display

MIN_MARK_SCALE = 60  # below this the issuing-body mark shrinks instead of narrowing further

# ---------------------------------------------------------------- rendering


class Fragment:
    """Body content built with python-docx against the template's own styles, inserted by `{{p name }}`.

    This is what docxtpl's Subdoc does for a new (not file-based) subdocument, without its docxcompose
    dependency: a scratch document shares the template's part, so style names resolve to the
    template's styles, and its body XML is handed to jinja as markup.
    """

    def __init__(self, tpl: DocxTemplate, blocks: Sequence[Block], width: int) -> None:
        self.document = WordDocument(copy.deepcopy(_blank()), tpl.get_docx().part)
        add_blocks(self.document, blocks, width)

    def __html__(self) -> str:
        body = self.document.element.body
        return "".join(etree.tostring(el, encoding="unicode") for el in body if el.tag != qn("w:sectPr"))


@cache
def _blank():
    """python-docx's new document without paragraphs: opening its package for every fragment was about a
    fifth of a render, and a province's publication renders once per task, a city's letters once per shape."""
    element = new_document().element
    body = element.body
    for p in list(body.iterchildren(qn("w:p"))):
        body.remove(p)
    return element


class _Template(DocxTemplate):
    """A docxtpl template that cleans the same XML for jinja once (patch_xml: a dozen regular expressions
    over the whole body on every render)."""

    def patch_xml(self, src_xml: str) -> str:
        return _patched(src_xml)


@lru_cache(maxsize=32)
def _patched(src_xml: str) -> str:
    return DocxTemplate.patch_xml(_CLEANER, src_xml)


_CLEANER = DocxTemplate("")  # patch_xml reads only its text; a template file is opened only when asked for


class _Environment(SandboxedEnvironment):
    """The notices' jinja: values autoescaped, undefined names an error, `cn_date`; the same template text
    compiled once (docxtpl compiles the body, headers and footers on every render: a third of it)."""

    def __init__(self) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=True)
        self.filters["cn_date"] = cn_date

    def compile(self, source, name=None, filename=None, raw=False, defer_init=False):
        if raw or not isinstance(source, str):
            return super().compile(source, name, filename, raw, defer_init)
        return _compiled(source, name, filename, defer_init, self.autoescape)


@lru_cache(maxsize=64)
def _compiled(source: str, name: str | None, filename: str | None, defer_init: bool, autoescape: bool):
    env = _Environment()
    env.autoescape = autoescape
    return SandboxedEnvironment.compile(env, source, name, filename, defer_init=defer_init)


def _missing_styles(tpl: DocxTemplate) -> list[str]:
    names = {s.name for s in tpl.get_docx().styles}
    return [s.name for s in STYLES if s.name not in names]


def render(template: Path, notice: Notice) -> bytes:
    """Fill a docxtpl template with a Notice: named-style body, autoescaped values, GB/T layout fixes.

    Many 随机抽查通知书 are laid out shape by shape (docx_letters), and long tables row by row
    (docx_tables), to the same bytes."""
    if notice.kind == "inspection_letter" and len(notice.entity_notices) >= FAST_LETTERS:
        from spotcheck.notices.docx_letters import render_letters

        fast = render_letters(template, notice)
        if fast is not None:
            return fast
    if notice.body:
        from spotcheck.notices.docx_tables import long_tables, render_tables

        fast = render_tables(template, notice) if long_tables(notice) else None
        if fast is not None:
            return fast
    out = io.BytesIO()
    rendered(template, notice).save(out)
    return redated(out.getvalue())


# Below this many letters the few renders the shape-by-shape layout needs cost more than they save.
FAST_LETTERS = 40


def rendered(template: Path, notice: Notice, *, fit: bool = True) -> DocxTemplate:
    """The filled template, with the layout fixes (each 随机抽查通知书 fitted to its page when `fit`)."""
    tpl = _Template(str(template))
    missing = _missing_styles(tpl)
    if missing:
        raise SpotcheckError(Problem("N841", f"Word 模板缺少样式：{'、'.join(missing)}", file=display(template),
                                     hint="在 Word 中恢复这些样式，或从 templates/docx/ 复制一份标准模板再修改"))
    section = tpl.get_docx().sections[-1]
    width = section.page_width - section.left_margin - section.right_margin
    # The titles get their lines here, not in the Notice: where a line ends depends on the template's page.
    mm = Emu(width).mm
    titled = dataclasses.replace(notice, title=lined(notice.title, mm, notice.issuer), enclosure_title=(
        notice.enclosure_title and lined(notice.enclosure_title, mm, notice.issuer)))
    context = {
        "doc": titled,
        "body": Fragment(tpl, notice.body, width),
        "enclosure": Fragment(tpl, notice.enclosure, width),
        "annexes": [{"label": a.label, "title": lined(a.title, BLOCK_H.mm if a.landscape else mm, notice.issuer),
                     "body": Fragment(tpl, a.blocks, BLOCK_H if a.landscape else width)} for a in notice.annexes],
    }
    try:
        tpl.render(context, jinja_env=_Environment(), autoescape=True)
    except TemplateError as exc:
        raise SpotcheckError(_docx_problem(exc, tpl, template)) from None
    finish(tpl.docx, notice, fit=fit)  # get_docx() would reload the unrendered template
    return tpl


def _docx_problem(exc: TemplateError, tpl: DocxTemplate, template: Path) -> Problem:
    """The template file and the line of the patched document XML (one line per paragraph), with its text."""
    problem = template_problem(exc, template)
    line = next((f.lineno for f in reversed(traceback.extract_tb(exc.__traceback__)) if f.filename == "<template>"),
                problem.line)
    source = re.sub(r"<w:p([ >])", r"\n<w:p\1", tpl.patch_xml(tpl.get_xml())).splitlines()
    text = re.sub(r"<[^>]+>", "", source[line - 1]).strip() if line and 0 < line <= len(source) else ""
    return Problem(problem.code, problem.message, file=display(template), line=line,
                   where=f"模板段落：{text}" if text else None, hint=problem.hint)


def finish(doc: WordDocument, notice: Notice, *, fit: bool = True) -> None:
    """Layout the template cannot hold: a 函's bare first page, a mark fitted to the line, landscape annexes,
    each 随机抽查通知书 fitted to its page; and the file's properties."""
    describe(doc, " ".join(notice.title.split()), notice.issuer, notice.number or "", notice.date)
    doc.sections[0].different_first_page_header_footer = notice.letter
    styled = _styled_paragraphs(doc)
    _fit_marks(styled)
    _landscape_annexes(doc, styled, [a.landscape for a in notice.annexes])
    if notice.kind == "inspection_letter" and fit:
        _fit_letters(styled)


def _styled_paragraphs(doc: WordDocument) -> list[tuple[Paragraph, str | None]]:
    """Each body paragraph with its style's name (None: no style, not even a default), read once.

    python-docx's Paragraph.style looks the style up among all of the template's styles on every
    call; the letters of a city's year are hundreds of thousands of paragraphs."""
    names = {s.style_id: s.name for s in doc.styles if s.type == WD_STYLE_TYPE.PARAGRAPH}
    default = doc.styles.default(WD_STYLE_TYPE.PARAGRAPH)
    fallback = default.name if default is not None else None
    return [(p, names.get(p._p.style, fallback)) for p in doc.paragraphs]


LETTER_BUDGET = 0.93  # of the text block's height: the estimate below is of lines, not of LibreOffice's layout
MIN_LETTER_PT = 9.0


SEPARATOR = "通知书分节"  # the style of the paragraph between two letters


def _letter_height(lines: Sequence[tuple[Style, float]], scale: float) -> float:
    """Points a letter takes at `scale` of its styles' sizes, counting wrapped lines of the text block."""
    total = 0.0
    for spec, units in lines:
        size = spec.size * scale
        per_line = max(1, math.floor(BLOCK_W.pt / size) - round(spec.right + spec.left))
        count = max(1, math.ceil((units + spec.first) / per_line))
        line = (spec.line or size * 1.3) * scale
        total += count * line + (spec.before + spec.after) * scale
    return total


def letter_scale(lines: Sequence[tuple[Style, str]]) -> float | None:
    """The share of its styles' sizes a letter (its paragraphs' styles and texts) is set at to stay on
    one page, in half points down to 9 pt; None when it fits as it is."""
    return units_scale([(spec, text_units(text)) for spec, text in lines])


def units_scale(units: Sequence[tuple[Style, float]]) -> float | None:
    """letter_scale of paragraphs given by their styles and text_units."""
    budget = BLOCK_H.pt * LETTER_BUDGET
    if _letter_height(units, 1.0) <= budget:
        return None
    scale = 1.0
    while scale * LETTER_PT > MIN_LETTER_PT and _letter_height(units, scale) > budget:
        scale -= 0.5 / LETTER_PT
    return scale


def shrink_letter(paragraphs: Sequence[tuple[Paragraph, Style]], scale: float) -> None:
    for p, spec in paragraphs:
        for run in p.runs:
            run.font.size = Pt(math.floor(spec.size * scale * 2) / 2)
        if spec.line is not None:
            p.paragraph_format.line_spacing = Pt(round(spec.line * scale, 1))
        p.paragraph_format.space_after = Pt(spec.after * scale)
        p.paragraph_format.space_before = Pt(spec.before * scale)


def _fit_letters(styled: Sequence[tuple[Paragraph, str | None]]) -> None:
    """Shrink a letter whose text would run onto a second page (many tasks and items in one visit):
    a notice to an entity is one page."""
    letters: list[list[tuple[Paragraph, Style]]] = [[]]
    for p, name in styled:
        spec = STYLE.get(name) if name is not None else None
        if spec is not None and spec.name != SEPARATOR:
            letters[-1].append((p, spec))
        if name == SEPARATOR:
            letters.append([])
    for paragraphs in letters:
        scale = letter_scale([(spec, p.text) for p, spec in paragraphs])
        if scale is not None:
            shrink_letter(paragraphs, scale)


def text_units(text: str) -> float:
    """A text's width in full-width characters: CJK and wider count 1, the rest half."""
    return len(text) - len(_NARROW.findall(text)) / 2


_NARROW = re.compile("[\x00-\u2e7f]")


def _fit_marks(styled: Sequence[tuple[Paragraph, str | None]]) -> None:
    """Narrow (then shrink) the red issuing-body mark so it stays on one line of the text block."""
    available = BLOCK_W.pt
    for p, name in styled:
        if name not in ("发文机关标志", "信函机关标志"):
            continue
        size = (p.style.font.size or Pt(BODY_PT)).pt
        units = text_units(p.text)
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


def _landscape_annexes(doc: WordDocument, styled: Sequence[tuple[Paragraph, str | None]], landscape: list[bool]) -> None:
    """Put each wide annex in its own landscape section; the pages around it stay portrait.

    Only the first section keeps a 函's bare first page (w:titlePg); later sections number every page.
    """
    final = doc.element.body.sectPr
    original = copy.deepcopy(final)
    labels = [p._p for p, name in styled if name == "附件标识"]
    imprint = next((p._p for p, name in styled if name == "版记"), None)
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

# The official faces mapped to free Simplified Chinese fonts (see the file for which Debian packages).
FONTS_CONF = Path(__file__).with_name("fonts.conf")
STAND_IN_PACKAGES = ("fonts-noto-cjk", "fonts-arphic-ukai", "fonts-lxgw-wenkai")
INSTALL_HINT = f"apt-get install libreoffice-writer {' '.join(STAND_IN_PACKAGES)}"


def to_pdf(docx: bytes, dated: dt.date | None = None) -> bytes:
    """Convert with `libreoffice --headless --convert-to pdf`, dated `dated` (the notice's date); SpotcheckError
    when LibreOffice is missing."""
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        raise SpotcheckError(Problem(
            "N830", "生成 PDF 需要 LibreOffice，本机未找到 soffice 或 libreoffice 命令",
            hint=f"安装：{INSTALL_HINT}；或改用 --format docx 后在 Word 中另存为 PDF"))
    with tempfile.TemporaryDirectory(prefix="spotcheck-pdf-") as tmp:
        folder = Path(tmp)
        source = folder / "notice.docx"
        source.write_bytes(docx)
        env = dict(os.environ, HOME=str(folder), FONTCONFIG_FILE=str(FONTS_CONF))
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
        return _redated(pdf.read_bytes(), dated)


def _redated(pdf: bytes, dated: dt.date | None) -> bytes:
    """LibreOffice stamps the moment of conversion as the PDF's creation date, and its /ID and /DocChecksum come
    from that moment: the notice's own date (Beijing time) and an /ID made from the content make the same notice
    the same bytes whenever it is converted."""
    import pikepdf  # only a PDF needs it

    try:
        return _stamped(pikepdf, pdf, dated)
    except pikepdf.PdfError as exc:
        raise SpotcheckError(Problem("N831", f"LibreOffice 生成的 PDF 无法读取：{str(exc)[:300]}",
                                     hint="重试一次；仍不行时改用 --format docx 后在 Word 中另存为 PDF")) from None


def _stamped(pikepdf, pdf: bytes, dated: dt.date | None) -> bytes:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        for key in ("/ID", "/DocChecksum"):
            if key in document.trailer:
                del document.trailer[key]
        info = document.docinfo
        for key in ("/CreationDate", "/ModDate"):
            if key in info:
                del info[key]
        if dated is not None:
            info["/CreationDate"] = f"D:{dated:%Y%m%d}000000+08'00'"
        out = io.BytesIO()
        document.save(out, deterministic_id=True)
    return out.getvalue()
