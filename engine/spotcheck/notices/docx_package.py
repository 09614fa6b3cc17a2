"""A Word file written part by part: the template's parts compressed once, the body streamed in.

A city's letters are hundreds of thousands of pages. python-docx holds a document's whole XML tree and
compresses every part on every save; here a rendered template's parts are read once, compressed once,
and copied into each file as they are, and word/document.xml is compressed as its text is produced, so
a file costs its body's compression and memory holds one chunk of it, not the document.

Every entry is dated 1980-01-01 (the zip format's first day), so the same letters give the same bytes on
every run; `redated` does the same for a file python-docx saved (it stamps the time of saving). The files are plain zip (no Zip64): an entry or a file past 4 GiB is refused (N851).
"""

from __future__ import annotations

import io
import struct
import threading
import zipfile
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO

from spotcheck.deflate import ZIP_DATE, Deflater, deflated
from spotcheck.errors import Problem, SpotcheckError

MAIN = "word/document.xml"
_CHUNK = 1 << 20  # bytes of XML
_LIMIT = 0xFFFFFFFF
_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01
_MADE_BY = (3 << 8) | 20  # Unix, zip 2.0: the external attributes are Unix file modes (rw-------)
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")


def dated(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    """The entry as python-docx wrote it, but dated 1980-01-01."""
    entry = zipfile.ZipInfo(info.filename, ZIP_DATE)
    entry.compress_type, entry.external_attr = info.compress_type, info.external_attr
    return entry


def redated(docx: bytes) -> bytes:
    """A Word file with the same parts, every entry dated 1980-01-01: the same notice, the same bytes, whenever
    it is made."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as source, zipfile.ZipFile(out, "w") as z:
        for info in source.infolist():
            z.writestr(dated(info), source.read(info))
    return out.getvalue()


Text = str | bytes | memoryview  # a piece of a part: text, or its UTF-8 bytes


@dataclass(frozen=True)
class _Entry:
    name: bytes
    crc: int
    compressed: int
    size: int
    offset: int


@dataclass(frozen=True)
class _Part:
    name: bytes
    crc: int
    size: int
    data: bytes  # deflated


class Package:
    """A DOCX's parts as python-docx saved them, each compressed once, the main document to be written anew."""

    def __init__(self, docx: bytes) -> None:
        self.parts: list[_Part | None] = []  # None: where word/document.xml goes
        with zipfile.ZipFile(io.BytesIO(docx)) as z:
            for info in z.infolist():
                if info.filename == MAIN:
                    self.parts.append(None)
                    continue
                blob = z.read(info)
                crc, data = deflated(blob)
                self.parts.append(_Part(info.filename.encode("utf-8"), crc, len(blob), data))
        if self.parts.count(None) != 1:
            raise ValueError("a Word package has exactly one word/document.xml")

    def write(self, out: BinaryIO, document: Iterable[Text]) -> None:
        """The package into `out` (seekable, at its start), with `document`'s strings as word/document.xml."""
        self.start(out, document).result()

    def start(self, out: BinaryIO, document: Iterable[Text], room: threading.Semaphore | None = None) -> Future[None]:
        """write, returning once `document` is read: the rest of its compression and of the file is done
        on a thread of the file's own, and the future is done when the file is whole (or failed). `out`
        stays open until then. At most `room` chunks of text (default 1: one being compressed while the
        next is made) wait to be compressed: with one `room` shared by many files, the next file's text is
        made while the last ones are still being compressed, and memory holds no more than that many
        chunks. When reading `document` raises, what was handed on is compressed before the error is
        raised, so `out` is the caller's again."""
        writer = _Writer(out)
        at = self.parts.index(None)
        for part in self.parts[:at]:
            writer.add(part)
        finish = writer.stream(MAIN.encode("utf-8"), document, room or threading.BoundedSemaphore(1))

        def end() -> None:
            finish()
            for part in self.parts[at + 1:]:
                writer.add(part)
            writer.close()

        return writer.then(end)

    def bytes(self, document: Iterable[Text]) -> bytes:
        out = io.BytesIO()
        self.write(out, document)
        return out.getvalue()


class _Writer:
    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.start = out.tell()
        self.entries: list[_Entry] = []
        self.worker: ThreadPoolExecutor | None = None  # only once an entry's text passes a chunk
        self.failed: list[BaseException] = []

    def _offset(self) -> int:
        offset = self.out.tell() - self.start
        if offset > _LIMIT:
            raise SpotcheckError(_too_big())
        return offset

    def _header(self, name: bytes, crc: int, compressed: int, size: int) -> bytes:
        return _LOCAL.pack(0x04034B50, 20, 0, zipfile.ZIP_DEFLATED, 0, _DOS_DATE, crc, compressed, size, len(name), 0) + name

    def add(self, part: _Part) -> None:
        offset = self._offset()
        self.out.write(self._header(part.name, part.crc, len(part.data), part.size))
        self.out.write(part.data)
        self.entries.append(_Entry(part.name, part.crc, len(part.data), part.size, offset))

    def then(self, task: Callable[[], None]) -> Future[None]:
        """`task` after everything handed to the worker (at once when there is none), raising the first
        error any of it met; the worker then ends."""
        def checked() -> None:
            if self.failed:
                raise self.failed[0]
            task()

        if self.worker is None:
            done: Future[None] = Future()
            try:
                checked()
                done.set_result(None)
            except Exception as exc:  # noqa: BLE001 - handed to the caller through the future
                done.set_exception(exc)
            return done
        future = self.worker.submit(checked)
        self.worker.shutdown(wait=False)
        return future

    def stream(self, name: bytes, texts: Iterable[Text], room: threading.Semaphore) -> Callable[[], None]:
        """An entry compressed as its text (str, or UTF-8 bytes or a view of them) comes. Returns what ends it
        (the last of the compression, and its header written again once its sizes are known), to be run
        after all else handed to the worker.

        The deflater lets go of Python's lock while it compresses, so each chunk is compressed and written
        on the file's own thread while the next is built: on two cores the text and its compression overlap."""
        offset = self._offset()
        self.out.write(self._header(name, 0, 0, 0))
        packer = Deflater()

        def deflate(pieces: list[bytes | memoryview]) -> None:
            for data in pieces:
                self.out.write(packer.compress(data))

        def handed(pieces: list[bytes | memoryview]) -> None:
            try:
                if not self.failed:
                    deflate(pieces)
            except BaseException as exc:  # noqa: BLE001 - raised by the task that ends the file
                self.failed.append(exc)
            finally:
                room.release()

        pending: list[bytes | memoryview] = []
        held = 0
        try:
            for text in texts:
                data = text.encode("utf-8") if isinstance(text, str) else text
                pending.append(data)
                held += len(data)
                if held >= _CHUNK:
                    room.acquire()
                    self.worker = self.worker or ThreadPoolExecutor(1)
                    self.worker.submit(handed, pending)
                    pending, held = [], 0
        except BaseException:
            if self.worker is not None:
                self.worker.shutdown(wait=True)
            raise

        def end() -> None:
            deflate(pending)
            self.out.write(packer.flush())
            crc, size, length = packer.crc, packer.size, packer.compressed
            if size > _LIMIT or length > _LIMIT:
                raise SpotcheckError(_too_big())
            at = self.out.tell()
            self.out.seek(self.start + offset)
            self.out.write(self._header(name, crc, length, size))
            self.out.seek(at)
            self.entries.append(_Entry(name, crc, length, size, offset))

        return end

    def close(self) -> None:
        directory = self._offset()
        for e in self.entries:
            self.out.write(_CENTRAL.pack(0x02014B50, _MADE_BY, 20, 0, zipfile.ZIP_DEFLATED, 0, _DOS_DATE, e.crc, e.compressed,
                                         e.size, len(e.name), 0, 0, 0, 0, 0o600 << 16, e.offset) + e.name)
        size = self._offset() - directory
        self.out.write(_END.pack(0x06054B50, 0, 0, len(self.entries), len(self.entries), size, directory, 0))


def _too_big() -> Problem:
    return Problem("N851", "一个 Word 文件超过 4 GiB，无法写出",
                   hint="按检查单位和月份分文件生成（--per-unit），或改为逐户文件（--per-entity）")
