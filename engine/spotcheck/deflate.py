"""Raw deflate for the zip members spotcheck writes itself (Word and Excel files), by ISA-L.

A province's letters are about 20 GB of XML a year; zlib's level 6 (python-docx's) spent about two
minutes of a core on them. On a letters file's 280 MB of XML, ISA-L's igzip at level 1 took 0.04–0.06 s
of CPU where zlib took 1.2–1.6 s at level 6 and 0.4–0.5 s at level 1, for about zlib level 1's size (the
file about 1.8 times its level-6 size). Any inflater reads it: it is plain deflate.

igzip's output depends on how its input is cut, and the text comes in pieces of whatever size the
rows made. So the text is handed on in blocks of exactly BLOCK bytes (the last one shorter): the same
text gives the same bytes however it came.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from isal import isal_zlib

LEVEL = 1
BLOCK = 1 << 20
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # every member's date: the same file, the same bytes, whenever it is written


class Deflater:
    """One zip member's raw deflate stream, with the CRC-32 and size of what went in and the size of what came out."""

    def __init__(self) -> None:
        self._packer = isal_zlib.compressobj(LEVEL, isal_zlib.DEFLATED, -15)
        self._held = bytearray()
        self.crc = 0
        self.size = 0
        self.compressed = 0

    def compress(self, data: bytes | bytearray | memoryview) -> bytes:
        """The deflate stream's next bytes (often none) after `data`; igzip lets go of Python's lock."""
        view = memoryview(data).cast("B")
        self.crc = isal_zlib.crc32(view, self.crc)
        self.size += view.nbytes
        out = []
        if self._held:
            take = BLOCK - len(self._held)
            self._held += view[:take]
            view = view[take:]
            if len(self._held) < BLOCK:
                return b""
            out.append(self._packer.compress(self._held))
            self._held = bytearray()
        whole = view.nbytes - view.nbytes % BLOCK
        out.extend(self._packer.compress(view[k:k + BLOCK]) for k in range(0, whole, BLOCK))
        self._held += view[whole:]
        packed = b"".join(out)
        self.compressed += len(packed)
        return packed

    def flush(self) -> bytes:
        """The stream's last bytes; the Deflater is then done."""
        last = (self._packer.compress(self._held) if self._held else b"") + self._packer.flush()
        self._held = bytearray()
        self.compressed += len(last)
        return last

    def stream(self, texts: Iterable[bytes | memoryview]) -> Iterator[bytes]:
        """The whole deflate stream of `texts`, a piece as each comes, the last bytes included."""
        for text in texts:
            yield self.compress(text)
        yield self.flush()


def deflated(data: bytes) -> tuple[int, bytes]:
    """The CRC-32 of `data`, and `data` as one raw deflate stream."""
    packer = Deflater()
    stream = packer.compress(data) + packer.flush()
    return packer.crc, stream


class _Passing:
    """Stands in for zipfile's compressor while a member already deflated passes through as it is."""

    @staticmethod
    def compress(data):
        return data

    @staticmethod
    def flush() -> bytes:
        return b""


def into_entry(entry, packed: Iterable[bytes], packer: Deflater) -> None:
    """Write `packed`, the whole deflate stream `packer` makes, into a zip entry that zipfile opened for writing
    (ZipFile.open(info, "w") of a ZIP_DEFLATED info), with `packer`'s CRC-32 and size of the text. zipfile counts
    the CRC of all that passes through an entry, by zlib: here that is the deflated stream, not the text (a
    province's announcement of one task is 8.8 GB of XML, about 3 s of a core), so the text is counted once."""
    entry._compressor = _Passing
    for data in packed:
        entry.write(data)
    entry._crc, entry._file_size = packer.crc, packer.size
