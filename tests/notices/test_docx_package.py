"""A Word file written part by part: python-docx's parts, the body streamed, the same bytes every time."""

import io
import threading
import zipfile

import pytest
from docx import Document
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


def test_the_body_may_come_as_views_of_bytes(monkeypatch):
    monkeypatch.setattr(docx_package, "_CHUNK", 100)
    body = _parts(TEMPLATE)[docx_package.MAIN]
    written = docx_package.Package(TEMPLATE).bytes(memoryview(body)[k: k + 41] for k in range(0, len(body), 41))
    assert _parts(written) == _parts(TEMPLATE)


def test_files_started_one_after_another_share_their_room_and_each_is_whole(monkeypatch):
    """Files compressed on their own threads while the next is made give the bytes written one at a time."""
    monkeypatch.setattr(docx_package, "_CHUNK", 100)
    body = _parts(TEMPLATE)[docx_package.MAIN].decode("utf-8")
    package = docx_package.Package(TEMPLATE)
    bodies = [body, body.replace("<w:t>", "<w:t>甲", 3), body[: len(body) // 2] + body[len(body) // 2:]]
    room = threading.BoundedSemaphore(1)
    outs = [io.BytesIO() for _ in bodies]
    futures = [package.start(out, (b[k: k + 29] for k in range(0, len(b), 29)), room) for out, b in zip(outs, bodies)]
    for future in futures:
        future.result()
    assert [o.getvalue() for o in outs] == [package.bytes([b]) for b in bodies]
    assert _parts(outs[1].getvalue())[docx_package.MAIN] == bodies[1].encode("utf-8")


def test_a_body_that_fails_as_it_is_read_leaves_the_room_free(monkeypatch):
    monkeypatch.setattr(docx_package, "_CHUNK", 100)
    body = _parts(TEMPLATE)[docx_package.MAIN].decode("utf-8")
    package = docx_package.Package(TEMPLATE)
    room = threading.BoundedSemaphore(1)

    def failing():
        yield from (body[k: k + 50] for k in range(0, 1000, 50))
        raise LookupError("the letters could not be laid out")

    with pytest.raises(LookupError):
        package.start(io.BytesIO(), failing(), room)
    assert room.acquire(timeout=10)  # every chunk handed on was compressed and gave its room back
    room.release()


def test_a_failed_write_is_raised_by_the_files_future(monkeypatch):
    monkeypatch.setattr(docx_package, "_CHUNK", 100)
    body = _parts(TEMPLATE)[docx_package.MAIN].decode("utf-8")

    class Full(io.BytesIO):
        def write(self, data):
            if self.tell() > 3000:
                raise OSError(28, "No space left on device")
            return super().write(data)

    future = docx_package.Package(TEMPLATE).start(Full(), (body[k: k + 100] for k in range(0, len(body), 100)))
    with pytest.raises(OSError):
        future.result()
