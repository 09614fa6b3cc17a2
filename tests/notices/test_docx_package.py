"""A Word file written part by part: python-docx's parts, the body streamed, the same bytes every time."""

import io
import zipfile

import polars as pl
import pytest
from docx import Document
from hypothesis import given, settings
from hypothesis import strategies as st
from spotcheck.errors import SpotcheckError
from spotcheck.notices import docx_package
from spotcheck.resources import TEMPLATES

TEMPLATE = (TEMPLATES / "docx" / "plan_notice.docx").read_bytes()


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
        return {i.filename: z.read(i) for i in z.infolist()}


def test_the_parts_are_the_templates_and_the_body_is_streamed_in(monkeypatch):
    monkeypatch.setattr(docx_package, "_CHUNK", 100)  # many chunks, compressed while the next is built
    body = _parts(TEMPLATE)[docx_package.MAIN].decode("utf-8")
    package = docx_package.Package(TEMPLATE)
    written = package.bytes(body[k: k + 37] for k in range(0, len(body), 37))
    assert _parts(written) == _parts(TEMPLATE)
    with zipfile.ZipFile(io.BytesIO(written)) as z, zipfile.ZipFile(io.BytesIO(TEMPLATE)) as t:
        assert z.namelist() == t.namelist()
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert Document(io.BytesIO(written)).paragraphs
    assert package.bytes([body]) == written  # the same bytes on every run


def test_a_file_past_the_zip_limit_is_refused(monkeypatch):
    monkeypatch.setattr(docx_package, "_LIMIT", 1000)
    body = _parts(TEMPLATE)[docx_package.MAIN].decode("utf-8")
    with pytest.raises(SpotcheckError) as err:
        docx_package.Package(TEMPLATE).bytes([body])
    assert [p.code for p in err.value.problems] == ["N851"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=12)), max_size=30), st.integers(0, 10), st.integers(0, 30))
def test_a_columns_texts_joined_are_its_texts_end_to_end(texts, start, length):
    """Arrow's buffer read as it is: the column's texts in order, nulls as nothing, a slice of a column too."""
    column = pl.Series(texts, dtype=pl.String)
    for part in (column, column.slice(start, length), pl.concat([column, column.slice(start, length)], rechunk=False)):
        assert bytes(docx_package.joined(part)) == "".join(t for t in part.to_list() if t is not None).encode("utf-8")


def test_the_body_may_come_as_views_of_bytes(monkeypatch):
    monkeypatch.setattr(docx_package, "_CHUNK", 100)
    body = _parts(TEMPLATE)[docx_package.MAIN]
    written = docx_package.Package(TEMPLATE).bytes(memoryview(body)[k: k + 41] for k in range(0, len(body), 41))
    assert _parts(written) == _parts(TEMPLATE)
