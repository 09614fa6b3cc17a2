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
import threading
import zipfile
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import BinaryIO, Self

from docx.enum.style import WD_STYLE_TYPE
from docx.opc.oxml import serialize_part_xml
from docx.oxml import parse_xml
from docx.oxml.ns import nsmap, qn
from docx.text.paragraph import Paragraph
import polars as pl
from docxtpl import DocxTemplate
from lxml import etree
from spotcheck.deflate import ZIP_DATE
from spotcheck.notices.docx_package import Package, Text, redated
from spotcheck.notices.docx_render import SEPARATOR, rendered, shrink_letter, text_units, units_scale
from spotcheck.notices.docx_styles import STYLE, Style
from spotcheck.notices.letters import FIELDS, LISTS, LetterRows, frame_of, notices_of, unique_name
from spotcheck.notices.model import EntityNotice, Notice
from spotcheck.pieces import spans

OPEN, CLOSE = "\ue000", "\ue001"  # private-use characters, as markers
MARK = re.compile(f"{OPEN}([^{CLOSE}]*){CLOSE}")
# What docxtpl rewrites inside a rendered value (tabs, breaks, its escaped braces), other control
# characters (lxml escapes them in its own way) and the markers themselves.
REWRITTEN = re.compile("[\x00-\x1f\ue000\ue001]|\\{_\\{|\\}_\\}|\\{_%|%_\\}")
_ROOT_XMLNS = re.compile(r' xmlns(?::\w+)?="[^"]*"')
ESCAPE_TEXT = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
ESCAPE = str.maketrans(ESCAPE_TEXT)
# Paragraphs docx_render.finish changes by their own text: letters holding them take the slow way.
_SELF_FITTED = ("发文机关标志", "信函机关标志", "附件标识", "版记")
_AHEAD = 2  # chunks of letters' text waiting to be compressed, over all files
_OPEN = 4  # files still being compressed while the next is laid out


def _sentinel(n: EntityNotice) -> EntityNotice:
    changes: dict = {}
    for f in dataclasses.fields(n):
        v = getattr(n, f.name)
        if isinstance(v, str) and v:
            changes[f.name] = f"{OPEN}{f.name}{CLOSE}"
        elif isinstance(v, tuple):
            changes[f.name] = tuple(f"{OPEN}{f.name}.{i}{CLOSE}" for i in range(len(v)))
    return dataclasses.replace(n, **changes)


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


class Unusable(Exception):
    """The letters cannot be laid out shape by shape: docxtpl lays them out."""


# REWRITTEN and docx_render.text_units' narrow characters as polars (Rust) patterns.
REWRITTEN_RS = r"[\x00-\x1F\x{E000}\x{E001}]|\{_\{|\}_\}|\{_%|%_\}"
_NARROW_RS = r"[\x00-\x{2E7F}]"


def _value(name: str, prefix: str = "") -> pl.Expr:
    """A marker's value in a frame of EntityNotice's fields: `entity`, or `items.3` (a line of a list);
    with a prefix, of the column named prefix + field."""
    field, _, line = name.partition(".")
    return pl.col(prefix + field).list.get(int(line)) if line else pl.col(prefix + field)


def _widths(chunk: pl.DataFrame, field: str) -> pl.Expr:
    """docx_render.text_units of each of a field's values (of each line, for a list), worked out once per
    distinct value: a letter's long texts (its items, tasks, basis) repeat from letter to letter."""
    lines = field in LISTS
    distinct = (chunk.get_column(field).explode() if lines else chunk.get_column(field)).drop_nulls().unique()
    widths = distinct.str.len_chars().cast(pl.Float64) - distinct.str.count_matches(_NARROW_RS).cast(pl.Float64) / 2
    width = (pl.element() if lines else pl.col(field)).replace_strict(distinct, widths, return_dtype=pl.Float64)
    return (pl.col(field).list.eval(width) if lines else width).alias(f"_w_{field}")


def escaped(value: pl.Expr) -> pl.Expr:
    """ESCAPE's translation, in one pass."""
    return value.str.replace_many(list(ESCAPE_TEXT), list(ESCAPE_TEXT.values()))


class LetterLayout:
    """The letters' Word layout for one run of letters (one notice, many files): the template rendered
    around no letters once, and each shape of letter learnt and proven once, when it is first met.

    Letters come as frames of EntityNotice's fields (letters.frame_of), a chunk at a time; each letter's
    XML is its shape's pieces with its values put in, built by polars a chunk at a time. A chunk's new
    shapes are learnt and proven before its XML is made; when they cannot be, Unusable is raised, the
    layout is not used again and the caller has docxtpl render its file."""

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
        self._fits: dict[int, list[tuple[Style, float, tuple[str, ...]]]] = {}
        self._exprs: dict[tuple[int, float | None], pl.Expr] = {}
        self._package: Package | None = None

    def _render(self, letters: Sequence[EntityNotice], fit: bool = True) -> RenderedXml:
        return RenderedXml(rendered(self.template, dataclasses.replace(self.notice, entity_notices=tuple(letters)), fit=fit))

    def _learn(self, chunk: pl.DataFrame) -> pl.DataFrame:
        """The chunk with each letter's shape number (_shape), scale (_scale, null: as it is) and whether it
        holds what docxtpl rewrites (_odd), its new shapes learnt and proven; Unusable when they cannot be."""
        if not self.usable:
            raise Unusable
        keys = [f"_s{k}" for k in range(len(FIELDS))]
        kinds = {f.name: f.type for f in dataclasses.fields(EntityNotice)}
        shape = [(pl.col(f).list.len() if f in LISTS else pl.col(f) != "" if kinds[f] == "str" else pl.col(f)).alias(k)
                 for f, k in zip(FIELDS, keys, strict=True)]
        texts = [f for f in FIELDS if kinds[f] == "str"]
        odd = pl.any_horizontal(*(pl.col(f).str.contains(REWRITTEN_RS) for f in texts),
                                *(pl.col(f).list.eval(pl.element().str.contains(REWRITTEN_RS)).list.any() for f in LISTS))
        chunk = chunk.with_row_index("_n").with_columns(*shape, odd.alias("_odd"))
        firsts = chunk.unique(subset=keys, keep="first", maintain_order=True)
        new = {s: n for s, n in zip(firsts.select(keys).rows(), notices_of(firsts), strict=True) if s not in self.shapes}
        if new and not self._learn_shapes(new):
            self.usable = False
            raise Unusable
        numbers = firsts.select(*keys, pl.Series("_shape", [self.shapes[s] for s in firsts.select(keys).rows()], pl.Int64))
        chunk = chunk.join(numbers, on=keys, how="left", maintain_order="left", nulls_equal=True).drop(keys)
        chunk = chunk.join(self._scale(chunk), on="_n", how="left", maintain_order="left")
        self._prove(chunk)
        return chunk

    def _learn_shapes(self, new: dict[tuple, EntityNotice]) -> bool:
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

    def _fitted(self, shape: int) -> list[tuple[Style, float, tuple[str, ...]]]:
        """The paragraphs of a shape its fitting reads: each one's Style, the width of its own words, and
        the names of the texts put in it."""
        if shape not in self._fits:
            self._fits[shape] = [(p.spec, sum(text_units(t) for t in p.text[::2]), p.text[1::2])
                                 for p in self.pieces[shape] if p.spec is not None]
        return self._fits[shape]

    def _scale(self, chunk: pl.DataFrame) -> pl.DataFrame:
        """Each letter's scale (_n, _scale): docx_render.units_scale of the widths of its fitted paragraphs,
        worked out once per shape and widths of its texts."""
        # Only the texts some fitted paragraph of these shapes holds count (a letter's id, its code, … may not).
        fitted = {name.partition(".")[0] for shape in chunk.get_column("_shape").unique().to_list()
                  for _, _, names in self._fitted(shape) for name in names}
        texts = [f for f in FIELDS if f in fitted]
        widths = chunk.select("_n", "_shape", *(_widths(chunk, f) for f in texts))
        # A list's widths as a column per line, so that all of a letter's widths are plain values.
        lines = {f: widths.get_column(f"_w_{f}").list.len().max() or 0 for f in LISTS if f in texts}
        flat = widths.select("_n", "_shape", *(f"_w_{f}" for f in texts if f not in LISTS),
                             *(pl.col(f"_w_{f}").list.get(i, null_on_oob=True).alias(f"_w_{f}.{i}")
                               for f in lines for i in range(lines[f])))
        keys = flat.drop("_n").unique(maintain_order=True)
        scales = []
        for row in keys.iter_rows(named=True):
            fitted = self._fitted(row["_shape"])
            said = tuple(sum((row[f"_w_{k}"] for k in names), float(fixed)) for _, fixed, names in fitted)
            scales.append(self._units_scale(row["_shape"], fitted, said))
        return (flat.join(keys.with_columns(pl.Series("_scale", scales, pl.Float64)), on=keys.columns, how="left",
                          maintain_order="left", nulls_equal=True).select("_n", "_scale"))

    def _units_scale(self, shape: int, fitted: list[tuple[Style, float, tuple[str, ...]]], widths: tuple) -> float | None:
        key = (shape, widths)
        if key not in self._scales:
            self._scales[key] = units_scale([(spec, w) for (spec, _, _), w in zip(fitted, widths, strict=True)])
        return self._scales[key]

    def _prove(self, chunk: pl.DataFrame) -> None:
        """The first letter of each shape not proven yet, and of each shape newly seen to shrink, laid out
        both ways: the same XML, or Unusable."""
        plain = chunk.select("_n", "_shape", "_scale", "_odd").filter(~pl.col("_odd"))
        chosen: set[int] = set()
        for n, shape, scale in plain.unique(subset="_shape", keep="first").select("_n", "_shape", "_scale").rows():
            if (shape, False) not in self.proven:
                self.proven.add((shape, False))
                chosen.add(n)
        shrunk = plain.filter(pl.col("_scale").is_not_null()).unique(subset="_shape", keep="first")
        for n, shape in shrunk.select("_n", "_shape").rows():
            if (shape, True) not in self.proven:
                self.proven.add((shape, True))
                chosen.add(n)
        if not chosen:
            return
        proof = chunk.filter(pl.col("_n").is_in(sorted(chosen)))
        made = b"".join(x.encode("utf-8") if isinstance(x, str) else x for x in self._document([proof]))
        if made != self._render(notices_of(proof)).xml.encode("utf-8"):
            self.usable = False
            raise Unusable

    def _expr(self, shape: int, scale: float | None, lead: str) -> pl.Expr:
        """The XML of letters of one shape and scale, after `lead`: its pieces' text with each value escaped in
        its place."""
        key = (shape, scale, lead)
        if key not in self._exprs:
            parts = [p.xml for p in self.pieces[shape]] if scale is None else self.shrunk(shape, scale)
            exprs = [(escaped(_value(t)) if i % 2 else pl.lit(t)) for cut in parts for i, t in enumerate(cut) if i % 2 or t]
            self._exprs[key] = pl.concat_str([pl.lit(lead), *exprs] if lead else exprs)
        return self._exprs[key]

    def _xml(self, chunk: pl.DataFrame, lead: str = "") -> pl.Series:
        """Each letter's XML (a learnt chunk) after `lead`, in order: letters holding what docxtpl rewrites are
        laid out by docxtpl, all together, and put back in their places."""
        made = []
        odd = chunk.filter(pl.col("_odd"))
        plain = chunk.filter(~pl.col("_odd")) if odd.height else chunk
        for (shape, scale), rows in plain.partition_by("_shape", "_scale", as_dict=True, maintain_order=True).items():
            made.append(rows.select("_n", self._expr(shape, scale, lead).alias("xml")))
        if odd.height:
            done = self._render(notices_of(odd))
            parts = split_at(done.children[len(self.base.children) - 1: -1], self.separator or [])
            if len(parts) != odd.height:
                raise ValueError("docxtpl laid out a different number of letters than it was given")
            made.append(pl.DataFrame({"_n": odd.get_column("_n"), "xml": [lead + "".join(p) for p in parts]}))
        return pl.concat(made).sort("_n").get_column("xml") if made else pl.Series("xml", [], pl.String)

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

    def document(self, chunks: Iterable[pl.DataFrame]) -> Iterator[Text]:
        """word/document.xml of these letters (frames of EntityNotice's fields), a chunk at a time."""
        return self._document(self._learn(c) for c in chunks)

    def _document(self, learnt: Iterable[pl.DataFrame]) -> Iterator[Text]:
        yield self.base.head
        yield from self.base.children[:-1]
        skip = None
        for chunk in learnt:
            if not chunk.height:
                continue
            # Every letter comes after the separator (learnt with the first chunk) but the file's first.
            separator = "".join(self.separator or ())
            xml = spans(self._xml(chunk, separator))
            if skip is None:
                skip = len(separator.encode("utf-8"))
                xml[0] = xml[0][skip:]
            yield from xml
        yield from self.base.children[-1:]
        yield self.base.tail

    def letters(self, chunks: Iterable[pl.DataFrame]) -> Iterator[tuple[str, str, bytes]]:
        """(visit id, entity, its own word/document.xml) of each letter, in order."""
        before = "".join((self.base.head, *self.base.children[:-1])).encode("utf-8")
        after = "".join((*self.base.children[-1:], self.base.tail)).encode("utf-8")
        for chunk in chunks:
            learnt = self._learn(chunk)
            xml = self._xml(learnt).cast(pl.Binary)
            for visit_id, entity, own in zip(learnt.get_column("visit_id"), learnt.get_column("entity"), xml, strict=True):
                yield visit_id, entity, before + own + after

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
    try:
        return layout.package().bytes(layout.document([frame_of(notice.entity_notices)]))
    except Unusable:
        return None


class LetterFiles:
    """The Word files of one run of letters, each file a batch of letters (or a zip of a file per letter),
    all laid out by one LetterLayout; a batch the layout cannot take is rendered by docxtpl.

    A file's text is made here and compressed on a thread of the file's own, so the next file's letters
    are laid out while the last ones are still being compressed (zlib lets go of Python's lock): use it as
    a context manager, every file is whole when it ends, the first error raised then."""

    def __init__(self, template: Path) -> None:
        self.template = template
        self.layout: LetterLayout | None = None
        # Chunks of text made and not yet compressed, over all files: memory holds at most this many.
        self._room = threading.BoundedSemaphore(_AHEAD)
        self._writing: deque[tuple[Future[None], BinaryIO]] = deque()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        errors = self._end_all()
        if errors and kind is None:
            raise errors[0]

    def wait(self) -> None:
        """Every file written so far whole, or the first error met."""
        errors = self._end_all()
        if errors:
            raise errors[0]

    def _end_all(self) -> list[Exception]:
        errors = []
        while self._writing:
            try:
                self._end_one()
            except Exception as exc:  # noqa: BLE001 - every file is closed before the first error is raised
                errors.append(exc)
        return errors

    def write(self, head: Notice, rows: LetterRows, target: Path, *, per_entity: bool = False) -> None:
        """The letters of `rows` (around them `head`) into `target`: one Word file, or with `per_entity` a zip
        of one Word file per letter."""
        if self.layout is None:
            self.layout = LetterLayout(self.template, head)
        layout = self.layout
        try:
            if per_entity:
                _bundle(target, ((v, e, layout.package().bytes([own])) for v, e, own in layout.letters(rows.chunks())))
            else:
                self._start(target, layout.document(rows.chunks()))
            return
        except Unusable:
            pass
        if per_entity:
            _bundle(target, ((n.visit_id, n.entity, _slow(head, (n,), self.template)) for n in rows.notices()))
        else:
            target.write_bytes(_slow(head, rows.notices(), self.template))

    def _start(self, target: Path, document: Iterable[Text]) -> None:
        out = open(target, "wb")  # noqa: SIM115 - closed once its compression is done (_end_one)
        try:
            future = self.layout.package().start(out, document, self._room)
        except BaseException:
            out.close()
            raise
        self._writing.append((future, out))
        # Files whose compression is done are closed as the run goes on; a few are written at a time.
        while self._writing and (len(self._writing) > _OPEN or self._writing[0][0].done()):
            self._end_one()

    def _end_one(self) -> None:
        future, out = self._writing.popleft()
        try:
            future.result()
        finally:
            out.close()

    def document_bytes(self, head: Notice, rows: LetterRows) -> bytes:
        """The letters of `rows` as one Word file in memory, as `write` lays it out."""
        if self.layout is None:
            self.layout = LetterLayout(self.template, head)
        try:
            return self.layout.package().bytes(self.layout.document(rows.chunks()))
        except Unusable:
            return _slow(head, rows.notices(), self.template)


def _slow(head: Notice, letters: Sequence[EntityNotice], template: Path) -> bytes:
    out = io.BytesIO()
    rendered(template, dataclasses.replace(head, entity_notices=tuple(letters))).save(out)
    return redated(out.getvalue())


def _bundle(target: Path, files: Iterable[tuple[str, str, bytes]]) -> None:
    """A zip of Word files named after their visit and entity, each dated 1980-01-01."""
    taken: dict[str, str] = {}
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as bundle:
        for visit_id, entity, data in files:
            name = unique_name(f"{visit_id}_{entity}" if visit_id else entity, taken)
            info = zipfile.ZipInfo(f"{name}.docx", date_time=ZIP_DATE)
            info.external_attr = 0o644 << 16
            bundle.writestr(info, data)


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
