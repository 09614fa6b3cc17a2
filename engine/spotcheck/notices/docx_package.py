"""A Word file written part by part: the template's parts compressed once, the body streamed in.

A city's letters are hundreds of thousands of pages. python-docx holds a document's whole XML tree and
compresses every part on every save; here a rendered template's parts are read once, compressed once,
and copied into each file as they are, and word/document.xml is compressed as its text is produced, so
a file costs its body's compression and memory holds one chunk of it, not the document.

Every entry is dated 1980-01-01 (the zip format's first day), so the same letters give the same bytes on
every run. The files are plain zip (no Zip64): an entry or a file past 4 GiB is refused (N851).
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import polars as pl
import pyarrow as pa

from spotcheck.errors import Problem, SpotcheckError

MAIN = "word/document.xml"
_LEVEL = 6  # zlib's default, as python-docx writes
_CHUNK = 1 << 20  # bytes of XML
_LIMIT = 0xFFFFFFFF
_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01
_MADE_BY = (3 << 8) | 20  # Unix, zip 2.0: the external attributes are Unix file modes (rw-------)
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")


Text = str | bytes | memoryview  # a piece of a part: text, or its UTF-8 bytes


def joined(texts: pl.Series) -> memoryview:
    """A column's texts one after the other, as UTF-8: an Arrow string array holds its values end to end
    in one buffer, so a city's XML is handed on without joining and copying it again in Python."""
    array = texts.to_arrow()
    if array.type != pa.large_string():
        array = array.cast(pa.large_string())
    _, offsets, data = array.buffers()
    if data is None:  # no text at all
        return memoryview(b"")
    ends = np.frombuffer(offsets, dtype=np.int64)[array.offset: array.offset + len(array) + 1]
    return memoryview(data)[int(ends[0]): int(ends[-1])]


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
                packer = zlib.compressobj(_LEVEL, zlib.DEFLATED, -15)
                self.parts.append(_Part(info.filename.encode("utf-8"), zlib.crc32(blob), len(blob),
                                        packer.compress(blob) + packer.flush()))
        if self.parts.count(None) != 1:
            raise ValueError("a Word package has exactly one word/document.xml")

    def write(self, out: BinaryIO, document: Iterable[Text]) -> None:
        """The package into `out` (seekable, at its start), with `document`'s strings as word/document.xml."""
        writer = _Writer(out)
        for part in self.parts:
            if part is None:
                writer.stream(MAIN.encode("utf-8"), document)
            else:
                writer.add(part)
        writer.close()

    def bytes(self, document: Iterable[Text]) -> bytes:
        out = io.BytesIO()
        self.write(out, document)
        return out.getvalue()


class _Writer:
    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.start = out.tell()
        self.entries: list[_Entry] = []

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

    def stream(self, name: bytes, texts: Iterable[Text]) -> None:
        """An entry compressed as its text (str, or UTF-8 bytes or a view of them) comes; its header is written again once
        its sizes are known.

        zlib lets go of Python's lock while it compresses, so a chunk is compressed and written on a
        thread of its own while the next is built: on two cores the text and its compression overlap."""
        offset = self._offset()
        self.out.write(self._header(name, 0, 0, 0))
        packer = zlib.compressobj(_LEVEL, zlib.DEFLATED, -15)
        sums = [0, 0, 0]  # crc, size, compressed size

        def deflate(pieces: list[bytes | memoryview], last: bool) -> None:
            # Piece by piece: zlib's stream is the same however its input is cut, and nothing is copied.
            for data in pieces:
                sums[0] = zlib.crc32(data, sums[0])
                sums[1] += len(data)
                packed = packer.compress(data)
                sums[2] += len(packed)
                self.out.write(packed)
            if last:
                packed = packer.flush()
                sums[2] += len(packed)
                self.out.write(packed)

        worker: ThreadPoolExecutor | None = None  # only for an entry of more than one chunk
        try:
            running: Future | None = None
            pending: list[bytes | memoryview] = []
            held = 0
            for text in texts:
                data = text.encode("utf-8") if isinstance(text, str) else text
                pending.append(data)
                held += len(data)
                if held >= _CHUNK:
                    if running is not None:
                        running.result()  # one chunk in hand, one being compressed
                    worker = worker or ThreadPoolExecutor(1)
                    running = worker.submit(deflate, pending, False)
                    pending, held = [], 0
            if running is not None:
                running.result()
            deflate(pending, True)
        finally:
            if worker is not None:
                worker.shutdown()
        crc, size, compressed = sums
        if size > _LIMIT or compressed > _LIMIT:
            raise SpotcheckError(_too_big())
        end = self.out.tell()
        self.out.seek(self.start + offset)
        self.out.write(self._header(name, crc, compressed, size))
        self.out.seek(end)
        self.entries.append(_Entry(name, crc, compressed, size, offset))

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
