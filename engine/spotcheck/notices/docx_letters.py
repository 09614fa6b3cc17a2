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
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from docx.enum.style import WD_STYLE_TYPE
from docx.opc.oxml import serialize_part_xml
from docx.oxml import parse_xml
from docx.oxml.ns import nsmap, qn
from docx.text.paragraph import Paragraph
from docxtpl import DocxTemplate
from lxml import etree
from spotcheck.notices.docx_package import Package
from spotcheck.notices.docx_render import SEPARATOR, rendered, shrink_letter, text_units, units_scale
from spotcheck.notices.docx_styles import STYLE, Style
from spotcheck.notices.letters import unique_name
from spotcheck.notices.model import EntityNotice, Notice

OPEN, CLOSE = "\ue000", "\ue001"  # private-use characters, as markers
MARK = re.compile(f"{OPEN}([^{CLOSE}]*){CLOSE}")
# What docxtpl rewrites inside a rendered value (tabs, breaks, its escaped braces), other control
# characters (lxml escapes them in its own way) and the markers themselves.
REWRITTEN = re.compile("[\x00-\x1f\ue000\ue001]|\\{_\\{|\\}_\\}|\\{_%|%_\\}")
_ROOT_XMLNS = re.compile(r' xmlns(?::\w+)?="[^"]*"')
ESCAPE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# Paragraphs docx_render.finish changes by their own text: letters holding them take the slow way.
_SELF_FITTED = ("发文机关标志", "信函机关标志", "附件标识", "版记")


def _facts(n: EntityNotice) -> tuple[tuple, dict[str, str]]:
    """A letter's shape (which texts are empty, how many lines each list has, the other values) and its
    non-empty texts by the names its shape's markers carry."""
    shape = []
    values: dict[str, str] = {}
    for name, v in n.__dict__.items():
        if isinstance(v, str):
            shape.append(bool(v))
            if v:
                values[name] = v
        elif isinstance(v, tuple):
            shape.append(len(v))
            for i, x in enumerate(v):
                values[f"{name}.{i}"] = x
        else:
            shape.append(v)
    return tuple(shape), values


def _sentinel(n: EntityNotice) -> EntityNotice:
    changes: dict = {}
    for f in dataclasses.fields(n):
        v = getattr(n, f.name)
        if isinstance(v, str) and v:
            changes[f.name] = f"{OPEN}{f.name}{CLOSE}"
        elif isinstance(v, tuple):
            changes[f.name] = tuple(f"{OPEN}{f.name}.{i}{CLOSE}" for i in range(len(v)))
    return dataclasses.replace(n, **changes)


def _rewritten(values: dict[str, str]) -> bool:
    # A space between the texts: no pattern matches across two of them.
    return REWRITTEN.search(" ".join(values.values())) is not None


def format_of(parts: Sequence[tuple[str, ...]]) -> tuple[str, tuple[str, ...]]:
    """Body children cut at their markers as one str.format string, and the names of its fields in order."""
    form, names = [], []
    for cut in parts:
        for i, t in enumerate(cut):
            if i % 2:
                form.append("{}")
                names.append(t)
            else:
                form.append(t.replace("{", "{{").replace("}", "}}"))
    return "".join(form), tuple(names)


class RenderedXml:
    """A rendered document's XML: the part up to the body's children, each child, and the end."""

    def __init__(self, tpl: DocxTemplate) -> None:
        element = tpl.docx.part._element
        self.tpl = tpl
        self.xml = serialize_part_xml(element).decode("utf-8")
        self.head = self.xml[: self.xml.index("<w:body>") + len("<w:body>")]
        self.tail = self.xml[self.xml.rindex("</w:body>"):]
        self.children = [unqualified(etree.tostring(c, encoding="unicode")) for c in element.find(qn("w:body"))]
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


def unqualified(xml: str) -> str:
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


@dataclasses.dataclass(frozen=True)
class _Letter:
    """A letter as the layout uses it: its shape's number, its texts as XML, and the scale it is set at."""

    notice: EntityNotice
    shape: int
    xml: dict[str, str]
    scale: float | None
    odd: bool  # holds what docxtpl rewrites: laid out by docxtpl


class LetterLayout:
    """The letters' Word layout for one run of letters (one notice, many files): the template rendered
    around no letters once, and each shape of letter learnt and proven once, when it is first met.

    `learn` must see a file's letters before `document` writes them; once it has returned False the
    layout is not used again and every file is rendered by docxtpl."""

    def __init__(self, template: Path, notice: Notice) -> None:
        self.template = template
        self.notice = dataclasses.replace(notice, entity_notices=())
        self.base = RenderedXml(rendered(template, self.notice))
        # The letters go between the body's text and its last section properties.
        self.usable = bool(self.base.children) and self.base.children[-1].startswith("<w:sectPr") and not any(
            self.base.style(x) is not None and (self.base.style(x) in STYLE) for x in self.base.children[:-1])
        self.separator: list[str] | None = None
        self.shapes: dict[tuple, int] = {}
        self.pieces: list[list[_Piece]] = []
        self.proven: set[tuple[int, bool]] = set()
        self._shrunk: dict[tuple[int, float], list[tuple[str, ...]]] = {}
        self._scales: dict[tuple, float | None] = {}
        self._texts: dict[str, tuple[float, str]] = {}
        self._fits: dict[int, list[tuple[Style, float, tuple[str, ...]]]] = {}
        self._formats: dict[tuple[int, float | None], tuple[str, tuple[str, ...]]] = {}
        self._learnt: dict[int, _Letter] = {}
        self._package: Package | None = None

    def _render(self, letters: Sequence[EntityNotice], fit: bool = True) -> RenderedXml:
        return RenderedXml(rendered(self.template, dataclasses.replace(self.notice, entity_notices=tuple(letters)), fit=fit))

    def learn(self, letters: Sequence[EntityNotice]) -> bool:
        """Learn the shapes of these letters not met before, and prove a letter of each new shape, and of
        each shape newly seen to shrink, against docxtpl; False when the slow way must be taken."""
        # A file's names and codes are its own: what was learnt of the last file's letters is let go.
        self._texts.clear()
        self._learnt.clear()
        if not self.usable:
            return False
        facts = [(n, *_facts(n)) for n in letters]
        self.usable = self._learn_shapes(facts)
        if self.usable:
            for n, shape, values in facts:
                texts = {k: self._text(v) for k, v in values.items()}
                number = self.shapes[shape]
                self._learnt[id(n)] = _Letter(n, number, {k: t[1] for k, t in texts.items()}, self._scale(number, texts),
                                              _rewritten(values))
            self.usable = self._prove(letters)
        return self.usable

    def _learn_shapes(self, facts: Sequence[tuple[EntityNotice, tuple, dict[str, str]]]) -> bool:
        new: dict[tuple, EntityNotice] = {}
        for n, shape, _ in facts:
            if shape not in self.shapes:
                new.setdefault(shape, n)
        if not new:
            return True
        sentinels = [_sentinel(n) for n in new.values()]
        pre, post = self.base.children[:-1], self.base.children[-1:]
        if self.separator is None:
            two = self._render(sentinels[:1] * 2, fit=False)
            if not _around(two, pre, post):
                return False
            self.separator = _separator(two.children[len(pre): -len(post)])
            if self.separator is None:
                return False
        every = self._render(sentinels, fit=False)
        if not _around(every, pre, post):
            return False
        bodies = split_at(every.children[len(pre): -len(post)], self.separator)
        if len(bodies) != len(new) or [every.style(x) for x in self.separator].count(SEPARATOR) != 1:
            return False
        if any(x in self.separator for body in bodies for x in body) or any(
                every.style(x) is not None and every.style(x) != SEPARATOR and every.style(x) in STYLE for x in self.separator):
            return False
        for shape, body in zip(new, bodies, strict=True):
            pieces = []
            for x in body:
                name = every.style(x)
                if name in _SELF_FITTED or name == SEPARATOR:
                    return False
                text = Paragraph(parse_xml(qualified(x)), None).text if name is not None else ""
                pieces.append(_Piece(x, tuple(MARK.split(x)), tuple(MARK.split(text)), STYLE.get(name) if name else None))
            self.shapes[shape] = len(self.pieces)
            self.pieces.append(pieces)
        return True

    def _prove(self, letters: Sequence[EntityNotice]) -> bool:
        proof: list[EntityNotice] = []
        for n in letters:
            letter = self._learnt[id(n)]
            if letter.odd:
                continue
            chosen = False
            if (letter.shape, False) not in self.proven:
                self.proven.add((letter.shape, False))
                proof.append(n)
                chosen = True
            if (letter.shape, True) not in self.proven and letter.scale is not None:
                self.proven.add((letter.shape, True))
                if not chosen:
                    proof.append(n)
        if not proof:
            return True
        return "".join(self.document(proof)) == self._render(proof).xml

    def _text(self, value: str) -> tuple[float, str]:
        """A text's width (docx_render.text_units) and its XML, worked out once per file."""
        known = self._texts.get(value)
        if known is None:
            known = self._texts[value] = (text_units(value), value.translate(ESCAPE))
        return known

    def _fitted(self, shape: int) -> list[tuple[Style, float, tuple[str, ...]]]:
        """The paragraphs of a shape its fitting reads: each one's Style, the width of its own words, and
        the names of the texts put in it."""
        if shape not in self._fits:
            self._fits[shape] = [(p.spec, sum(text_units(t) for t in p.text[::2]), p.text[1::2])
                                 for p in self.pieces[shape] if p.spec is not None]
        return self._fits[shape]

    def _scale(self, shape: int, texts: dict[str, tuple[float, str]]) -> float | None:
        fitted = self._fitted(shape)
        widths = tuple(fixed + sum(texts[k][0] for k in names) for _, fixed, names in fitted)
        key = (shape, widths)
        if key not in self._scales:
            self._scales[key] = units_scale([(spec, w) for (spec, _, _), w in zip(fitted, widths, strict=True)])
        return self._scales[key]

    def _letter(self, letter: _Letter) -> str:
        key = (letter.shape, letter.scale)
        if key not in self._formats:
            parts = [p.xml for p in self.pieces[letter.shape]] if letter.scale is None else self.shrunk(*key)
            self._formats[key] = format_of(parts)
        form, names = self._formats[key]
        xml = letter.xml
        return form.format(*[xml[k] for k in names])

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
            self._shrunk[key] = [tuple(MARK.split(unqualified(etree.tostring(c, encoding="unicode")))) for c in children]
        return self._shrunk[key]

    def document(self, letters: Sequence[EntityNotice]) -> Iterator[str]:
        """word/document.xml of these letters (learnt by the last `learn`), piece by piece: letters holding
        what docxtpl rewrites are rendered by docxtpl, all together, and put back in their places."""
        learnt = [self._learnt[id(n)] for n in letters]
        own: dict[int, list[str]] = {}
        odd = [x.notice for x in learnt if x.odd]
        if odd:
            done = self._render(odd)
            parts = split_at(done.children[len(self.base.children) - 1: -1], self.separator or [])
            if len(parts) != len(odd):
                raise ValueError("docxtpl laid out a different number of letters than it was given")
            own = {id(n): part for n, part in zip(odd, parts, strict=True)}
        yield self.base.head
        yield from self.base.children[:-1]
        for k, letter in enumerate(learnt):
            if k:
                yield from self.separator or ()
            if letter.odd:
                yield from own[id(letter.notice)]
            else:
                yield self._letter(letter)
        yield from self.base.children[-1:]
        yield self.base.tail

    def package(self) -> Package:
        """The template's other parts, as the base render saved them."""
        if self._package is None:
            out = io.BytesIO()
            self.base.tpl.save(out)
            self._package = Package(out.getvalue())
        return self._package


def render_letters(template: Path, notice: Notice) -> bytes | None:
    """The letters' Word file, rendered with docxtpl a few times in all; None when the slow way must be taken."""
    layout = LetterLayout(template, notice)
    if not layout.learn(notice.entity_notices):
        return None
    return layout.package().bytes(layout.document(notice.entity_notices))


class LetterFiles:
    """The Word files of one run of letters, each file a batch of letters (or a zip of a file per letter),
    all laid out by one LetterLayout; a batch the layout cannot take is rendered by docxtpl."""

    def __init__(self, template: Path) -> None:
        self.template = template
        self.layout: LetterLayout | None = None

    def write(self, notice: Notice, target: Path, *, per_entity: bool = False) -> None:
        """`notice`'s letters into `target`: one Word file, or with `per_entity` a zip of one Word file per letter."""
        if self.layout is None:
            self.layout = LetterLayout(self.template, notice)
        fast = self.layout.learn(notice.entity_notices)
        if per_entity:
            taken: dict[str, str] = {}
            with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as bundle:
                for n in notice.entity_notices:
                    name = unique_name(f"{n.visit_id}_{n.entity}" if n.visit_id else n.entity, taken)
                    data = self._one(notice, (n,), fast)
                    info = zipfile.ZipInfo(f"{name}.docx", date_time=(1980, 1, 1, 0, 0, 0))
                    info.external_attr = 0o644 << 16
                    bundle.writestr(info, data)
        elif fast:
            with open(target, "wb") as out:
                self.layout.package().write(out, self.layout.document(notice.entity_notices))
        else:
            target.write_bytes(self._one(notice, notice.entity_notices, fast))

    def _one(self, notice: Notice, letters: Sequence[EntityNotice], fast: bool) -> bytes:
        if fast and self.layout is not None:
            return self.layout.package().bytes(self.layout.document(letters))
        out = io.BytesIO()
        rendered(self.template, dataclasses.replace(notice, entity_notices=tuple(letters))).save(out)
        return out.getvalue()


def qualified(xml: str) -> str:
    end = re.match(r"<[\w:]+", xml).end()
    return xml[:end] + "".join(f' xmlns:{k}="{v}"' for k, v in nsmap.items()) + xml[end:]


def _around(doc: RenderedXml, pre: list[str], post: list[str]) -> bool:
    """Whether a document with letters keeps the base document's children before and after them."""
    return doc.children[: len(pre)] == pre and doc.children[len(doc.children) - len(post):] == post


def _separator(pair: list[str]) -> list[str] | None:
    """The children between two copies of one letter: pair is L + separator + L, with the separator a
    single 通知书分节 paragraph in the bundled template."""
    for size in range(1, len(pair) // 2 + 1):
        gap = len(pair) - 2 * size
        if pair[:size] == pair[size + gap:] and gap > 0:
            return pair[size: size + gap]
    return None


def split_at(items: list[str], separator: list[str]) -> list[list[str]]:
    out, start, i = [], 0, 0
    while i <= len(items) - len(separator):
        if items[i: i + len(separator)] == separator:
            out.append(items[start:i])
            i = start = i + len(separator)
        else:
            i += 1
    out.append(items[start:])
    return out
