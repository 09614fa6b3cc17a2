"""Raw deflate by ISA-L: plain deflate any inflater reads, the same bytes however the text is cut."""

import io
import random
import zipfile
import zlib

from hypothesis import given, settings
from hypothesis import strategies as st
from spotcheck import deflate

_RNG = random.Random(3)
_WORDS = ["市场监督管理局", "有限公司", "个体工商户", "食品经营", "随机抽查通知书", "右玉县", '<w:rFonts w:hint="eastAsia"/>']
# Varied as letters are: igzip's output for text this varied depends on where its input is cut.
TEXT = "".join(f"<w:p><w:r><w:t>{_RNG.choice(_WORDS)}{_RNG.randrange(10**9)}{_RNG.choice(_WORDS)}</w:t></w:r></w:p>"
               for _ in range(6000)).encode("utf-8")


def _stream(pieces) -> tuple[bytes, int, int]:
    packer = deflate.Deflater()
    data = b"".join(packer.compress(p) for p in pieces) + packer.flush()
    return data, packer.crc, packer.size


def _cuts(data: bytes, sizes: list[int]) -> list[bytes | memoryview]:
    pieces, at, k = [], 0, 0
    while at < len(data):
        n = sizes[k % len(sizes)]
        piece = data[at:at + n]
        pieces.append(memoryview(piece) if k % 2 else piece)
        at, k = at + n, k + 1
    return pieces


def test_the_stream_inflates_to_the_text_with_zlibs_crc_and_size(monkeypatch):
    monkeypatch.setattr(deflate, "BLOCK", 4096)
    data, crc, size = _stream([TEXT])
    assert zlib.decompress(data, -15) == TEXT
    assert (crc, size) == (zlib.crc32(TEXT), len(TEXT))
    assert len(data) < len(TEXT) // 5
    assert deflate.deflated(TEXT) == (crc, data)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 9000), min_size=1, max_size=8), st.integers(1, 3))
def test_the_same_text_cut_any_way_gives_the_same_bytes(sizes, repeat):
    text = TEXT * repeat
    whole = _stream([text])
    assert _stream(_cuts(text, [max(s, 1) for s in sizes])) == whole
    assert _stream([b"", text, b""]) == whole


def test_cuts_across_blocks_give_the_same_bytes(monkeypatch):
    """Pieces that end inside a block, fill it exactly, or span several blocks at once."""
    monkeypatch.setattr(deflate, "BLOCK", 1000)
    whole = _stream([TEXT])
    rng = random.Random(7)
    for _ in range(20):
        assert _stream(_cuts(TEXT, [rng.choice([1, 999, 1000, 1001, 2500, 7000])])) == whole
    assert _stream(_cuts(TEXT, [1000])) == whole


def test_a_stream_put_into_a_zip_entry_reads_back_with_the_texts_crc_and_size(monkeypatch):
    """zipfile checks the CRC and size as it reads the entry back; its own count saw only the deflated bytes."""
    counted = []

    def crc32(data, value=0):
        counted.append(len(memoryview(data).cast("B")))
        return zlib.crc32(data, value)

    monkeypatch.setattr(zipfile, "crc32", crc32)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        info = zipfile.ZipInfo("a.xml")
        info.compress_type = zipfile.ZIP_DEFLATED
        packer = deflate.Deflater()
        with z.open(info, "w", force_zip64=True) as entry:
            deflate.into_entry(entry, packer.stream(_cuts(TEXT, [5000, 123])), packer)
    assert sum(counted) == packer.compressed < len(TEXT) // 5
    monkeypatch.undo()
    with zipfile.ZipFile(out) as z:
        assert z.read("a.xml") == TEXT
        assert (z.getinfo("a.xml").CRC, z.getinfo("a.xml").file_size) == (zlib.crc32(TEXT), len(TEXT))
