from __future__ import annotations

import hashlib

import polars as pl
from spotcheck.draw import transcript
from spotcheck.draw.transcript import Codes, csv_bytes, csv_pieces


def test_stratum_hash_from_code_records_equals_joined_codes(monkeypatch):
    codes = pl.Series([f"91140602MA{i:07d}X" for i in range(12)])
    rows = pl.Series([0, 2, 3, 5, 7, 8, 11], dtype=pl.UInt32)
    small = Codes(codes, rows=rows.len())
    assert small.sha256(rows) == hashlib.sha256("\n".join(codes.gather(rows)).encode()).hexdigest()
    assert small.records is None  # a small draw never builds the records
    monkeypatch.setattr(transcript, "_RECORDS_FROM", 1)
    fast = Codes(codes, rows=rows.len())
    assert fast.sha256(rows) == hashlib.sha256("\n".join(codes.gather(rows)).encode()).hexdigest()
    assert fast.records is not None
    assert fast.sha256(rows.head(1)) == hashlib.sha256(codes[0].encode()).hexdigest()
    # Codes that are not all 18 bytes (never after validation) are joined as strings.
    odd = pl.concat([codes.head(11), pl.Series(["SHORT"])])
    assert Codes(odd, rows=rows.len()).records is None
    assert Codes(odd, rows=rows.len()).sha256(rows) == hashlib.sha256("\n".join(odd.gather(rows)).encode()).hexdigest()
    assert fast.sha256(rows.clear()) == hashlib.sha256(b"").hexdigest()


def test_csv_bytes_are_what_write_csv_writes_as_text():
    frame = pl.DataFrame({"name": ["朔州市“晋北”商贸有限公司", 'a,"b"', "two\nlines", None, ""], "n": [1, None, 3, 4, 5]})
    assert csv_bytes(frame) == frame.write_csv().encode("utf-8")
    assert csv_bytes(frame, include_header=False) == frame.write_csv(include_header=False).encode("utf-8")
    assert b"".join(csv_pieces(frame)) == frame.write_csv().encode("utf-8")
