"""随机抽查通知书 in Word at a city's scale: the template rendered once per shape of letter, then repeated.

docxtpl renders by running Jinja over the whole document's XML and parsing the result, and the letters
are then fitted to their pages paragraph by paragraph: hours for the letters of a city's year. A
letter's XML depends only on its shape (which of its texts are empty, how many item, contact and team
lines it has, its date) and its values. So every shape is rendered once through docxtpl with a marker
in each text, and each letter is its shape's XML with its own values put in (escaped as XML text),
fitted to its page by docx_render's own rule.

This decides nothing a letter says. The first letter of every shape, and the first of every shape that
has to shrink to fit its page, are also rendered the slow way, in one document, and both ways must give
the same bytes; if they do not (a bureau's template doing more with a value than print it), or the
template has something around the letters this cannot account for, render_letters returns None and the
notice is rendered the slow way. Letters holding what docxtpl itself rewrites in a value (tabs, line
breaks, its escaped braces) are laid out by docxtpl, all together, and put back in their places.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path

from docx.enum.style import WD_STYLE_TYPE
from docx.opc.oxml import serialize_part_xml
from docx.oxml import parse_xml
from docx.oxml.ns import nsmap, qn
from docx.text.paragraph import Paragraph
from docxtpl import DocxTemplate
from lxml import etree
from spotcheck.notices.docx_render import SEPARATOR, letter_scale, rendered, shrink_letter
from spotcheck.notices.docx_styles import STYLE, Style
from spotcheck.notices.model import EntityNotice, Notice

_OPEN, _CLOSE = "\ue000", "\ue001"  # private-use characters, as markers
_MARK = re.compile(f"{_OPEN}([^{_CLOSE}]*){_CLOSE}")
# What docxtpl rewrites inside a rendered value (tabs, breaks, its escaped braces), other control
# characters (lxml escapes them in its own way) and the markers themselves.
_REWRITTEN = re.compile("[\x00-\x1f\ue000\ue001]|\\{_\\{|\\}_\\}|\\{_%|%_\\}")
_ROOT_XMLNS = re.compile(r' xmlns(?::\w+)?="[^"]*"')
_ESCAPE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# Paragraphs docx_render.finish changes by their own text: letters holding them take the slow way.
_SELF_FITTED = ("发文机关标志", "信函机关标志", "附件标识", "版记")


def _shape(n: EntityNotice) -> tuple:
    return tuple(bool(v) if isinstance(v, str) else len(v) if isinstance(v, tuple) else v
                 for v in (getattr(n, f.name) for f in dataclasses.fields(n)))


def _sentinel(n: EntityNotice) -> EntityNotice:
    changes: dict = {}
    for f in dataclasses.fields(n):
        v = getattr(n, f.name)
        if isinstance(v, str) and v:
            changes[f.name] = f"{_OPEN}{f.name}{_CLOSE}"
        elif isinstance(v, tuple):
            changes[f.name] = tuple(f"{_OPEN}{f.name}.{i}{_CLOSE}" for i in range(len(v)))
    return dataclasses.replace(n, **changes)


def _values(n: EntityNotice) -> dict[str, str]:
    out: dict[str, str] = {}
    for f in dataclasses.fields(n):
        v = getattr(n, f.name)
        if isinstance(v, str):
            out[f.name] = v
        elif isinstance(v, tuple):
            out.update((f"{f.name}.{i}", x) for i, x in enumerate(v))
    return out


def _rewritten(n: EntityNotice) -> bool:
    return any(_REWRITTEN.search(v) for v in _values(n).values())


def _fill(parts: Sequence[str], values: dict[str, str]) -> str:
    return "".join(values[s] if i % 2 else s for i, s in enumerate(parts))


class _Document:
    """A rendered document's XML: the part up to the body's children, each child, and the end."""

    def __init__(self, tpl: DocxTemplate) -> None:
        element = tpl.docx.part._element
        self.tpl = tpl
        self.xml = serialize_part_xml(element).decode("utf-8")
        self.head = self.xml[: self.xml.index("<w:body>") + len("<w:body>")]
        self.tail = self.xml[self.xml.rindex("</w:body>"):]
        self.children = [_unqualified(etree.tostring(c, encoding="unicode")) for c in element.find(qn("w:body"))]
        names = {s.style_id: s.name for s in tpl.docx.styles if s.type == WD_STYLE_TYPE.PARAGRAPH}
        default = tpl.docx.styles.default(WD_STYLE_TYPE.PARAGRAPH)
        self.names = names
        self.default = default.name if default is not None else None

    def style(self, xml: str) -> str | None:
        """The style name docx_render's fitting reads for a body child; None when it is not a paragraph."""
        if not (xml.startswith("<w:p>") or xml.startswith("<w:p ")):
            return None
        ppr = re.match(r"<w:p(?: [^>]*)?><w:pPr>(.*?)</w:pPr>", xml, flags=re.DOTALL)
        sid = re.search(r'<w:pStyle w:val="([^"]*)"', ppr.group(1)) if ppr else None
        return self.names.get(sid.group(1), self.default) if sid else self.default


def _unqualified(xml: str) -> str:
    """A child serialised on its own declares its namespaces on its first tag; inside the document it does not."""
    end = xml.index(">")
    return _ROOT_XMLNS.sub("", xml[:end]) + xml[end:]


@dataclasses.dataclass(frozen=True)
class _Piece:
    """One body child of a shape: its XML with the markers, that XML and its text cut at the markers, and
    the Style it is fitted by."""

    source: str
    xml: tuple[str, ...]
    text: tuple[str, ...]
    spec: Style | None


class _Layout:
    def __init__(self, base: _Document, separator: list[str], pieces: list[list[_Piece]], shapes: dict) -> None:
        self.base, self.separator, self.pieces, self.shapes = base, separator, pieces, shapes
        self._shrunk: dict[tuple[int, float], list[tuple[str, ...]]] = {}

    def scale(self, n: EntityNotice) -> float | None:
        values = _values(n)
        return letter_scale([(p.spec, _fill(p.text, values)) for p in self.pieces[self.shapes[_shape(n)]]
                             if p.spec is not None])

    def letter(self, n: EntityNotice) -> list[str]:
        values = _values(n)
        escaped = {k: v.translate(_ESCAPE) for k, v in values.items()}
        shape = self.shapes[_shape(n)]
        scale = self.scale(n)
        parts = [p.xml for p in self.pieces[shape]] if scale is None else self.shrunk(shape, scale)
        return [_fill(x, escaped) for x in parts]

    def shrunk(self, shape: int, scale: float) -> list[tuple[str, ...]]:
        """A shape's XML shrunk to `scale` by docx_render's rule, markers kept: shrinking sets sizes and
        spacing run by run and paragraph by paragraph, whatever the text, so it is done once per shape and scale."""
        key = (shape, scale)
        if key not in self._shrunk:
            pieces = self.pieces[shape]
            body = parse_xml(f"{self.base.head}{''.join(p.source for p in pieces)}{self.base.tail}".encode("utf-8")).find(qn("w:body"))
            children = list(body)
            shrink_letter([(Paragraph(c, None), p.spec) for c, p in zip(children, pieces, strict=True)
                           if p.spec is not None], scale)
            self._shrunk[key] = [tuple(_MARK.split(_unqualified(etree.tostring(c, encoding="unicode")))) for c in children]
        return self._shrunk[key]

    def document(self, bodies: Sequence[list[str]]) -> str:
        pre, post = self.base.children[:-1], self.base.children[-1:]
        out = [self.base.head, *pre]
        for k, body in enumerate(bodies):
            out += [*(self.separator if k else ()), *body]
        return "".join([*out, *post, self.base.tail])


def render_letters(template: Path, notice: Notice) -> DocxTemplate | None:
    """The letters' document, rendered with docxtpl a few times in all; None when the slow way must be taken."""
    letters = notice.entity_notices
    base = _Document(rendered(template, dataclasses.replace(notice, entity_notices=())))
    # The letters go between the body's text and its last section properties.
    if not base.children or not base.children[-1].startswith("<w:sectPr") or any(
            base.style(x) is not None and (base.style(x) in STYLE) for x in base.children[:-1]):
        return None
    shapes: dict[tuple, int] = {}
    first: dict[tuple, EntityNotice] = {}
    for n in letters:
        shapes.setdefault(_shape(n), len(shapes))
        first.setdefault(_shape(n), n)
    sentinels = tuple(_sentinel(n) for n in first.values())
    two = _Document(rendered(template, dataclasses.replace(notice, entity_notices=sentinels[:1] * 2), fit=False))
    every = _Document(rendered(template, dataclasses.replace(notice, entity_notices=sentinels), fit=False))
    cut = _cut_shapes(base, two, every, len(shapes))
    if cut is None:
        return None
    separator, bodies = cut
    pieces = []
    for body in bodies:
        shape = []
        for x in body:
            name = every.style(x)
            if name in _SELF_FITTED or name == SEPARATOR:
                return None
            text = Paragraph(parse_xml(_qualified(x)), None).text if name is not None else ""
            shape.append(_Piece(x, tuple(_MARK.split(x)), tuple(_MARK.split(text)), STYLE.get(name) if name else None))
        pieces.append(shape)
    layout = _Layout(base, separator, pieces, shapes)
    # The proof: a letter of every shape, and one of every shape that shrinks, both ways, same bytes.
    sample: dict[tuple, EntityNotice] = {}
    shrinking: dict[tuple, EntityNotice] = {}
    for n in letters:
        if not _rewritten(n):
            sample.setdefault(_shape(n), n)
            if _shape(n) not in shrinking and layout.scale(n) is not None:
                shrinking[_shape(n)] = n
    proof = [*sample.values(), *(n for s, n in shrinking.items() if sample.get(s) is not n)]
    slow = _Document(rendered(template, dataclasses.replace(notice, entity_notices=tuple(proof))))
    if layout.document([layout.letter(n) for n in proof]) != slow.xml:
        return None
    own: dict[int, list[str]] = {}
    odd = [n for n in letters if _rewritten(n)]
    if odd:
        done = _Document(rendered(template, dataclasses.replace(notice, entity_notices=tuple(odd))))
        parts = _split(done.children[len(base.children) - 1: -1], separator)
        if len(parts) != len(odd):
            return None
        own = {id(n): part for n, part in zip(odd, parts, strict=True)}
    xml = layout.document([own[id(n)] if id(n) in own else layout.letter(n) for n in letters])
    base.tpl.docx.part._element = parse_xml(xml.encode("utf-8"))
    return base.tpl


def _qualified(xml: str) -> str:
    end = re.match(r"<[\w:]+", xml).end()
    return xml[:end] + "".join(f' xmlns:{k}="{v}"' for k, v in nsmap.items()) + xml[end:]


def _cut_shapes(base: _Document, two: _Document, every: _Document, count: int) -> tuple[list[str], list[list[str]]] | None:
    """The separator between two letters, and each shape's body children, from the sentinel documents."""
    pre, post = base.children[:-1], base.children[-1:]
    for doc in (two, every):
        if doc.children[: len(pre)] != pre or doc.children[len(doc.children) - len(post):] != post:
            return None
    pair = two.children[len(pre): -len(post)]
    middle = every.children[len(pre): -len(post)]
    # pair is L + separator + L, with the separator a single 通知书分节 paragraph in the bundled template.
    found = None
    for size in range(1, len(pair) // 2 + 1):
        gap = len(pair) - 2 * size
        if pair[:size] == pair[size + gap:] and gap > 0:
            found = (size, pair[size: size + gap])
            break
    if found is None:
        return None
    size, separator = found
    bodies = _split(middle, separator)
    if len(bodies) != count or len(bodies[0]) != size or [every.style(x) for x in separator].count(SEPARATOR) != 1:
        return None
    if any(x in separator for body in bodies for x in body) or any(
            every.style(x) is not None and every.style(x) != SEPARATOR and every.style(x) in STYLE for x in separator):
        return None
    return separator, bodies


def _split(items: list[str], separator: list[str]) -> list[list[str]]:
    out, start, i = [], 0, 0
    while i <= len(items) - len(separator):
        if items[i: i + len(separator)] == separator:
            out.append(items[start:i])
            i = start = i + len(separator)
        else:
            i += 1
    out.append(items[start:])
    return out
