"""Chinese copies of a draw folder's tables: every column titled in Chinese, the originals untouched."""

import csv
import io

import pytest
from conftest import NOTICE_DRAW
from spotcheck.errors import SpotcheckError
from spotcheck.plan.tables import TABLES, window_text, write_tables


def test_every_column_gets_a_chinese_title_and_values_read_as_words(tmp_path):
    before = {name: (NOTICE_DRAW / name).read_bytes() for name in TABLES if (NOTICE_DRAW / name).is_file()}
    written = write_tables(NOTICE_DRAW, tmp_path / "zh")
    assert sorted(p.name for p in written) == ["抽取名单.csv", "检查安排.csv", "检查组.csv"]
    for path in written:
        data = path.read_bytes()
        assert data.startswith("\ufeff".encode())  # Excel reads it as UTF-8
        header = next(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in title) for title in header), header
    visits = list(csv.DictReader(io.StringIO((tmp_path / "zh" / "检查安排.csv").read_text("utf-8-sig"))))
    both = next(v for v in visits if v["检查编号"] == "V01")
    assert both["抽查任务"] == "t01、t02" and both["检查组已配齐"] == "是"
    # The originals, which verify and recompute_draw.py read, are unchanged.
    assert before == {name: (NOTICE_DRAW / name).read_bytes() for name in before}


def test_windows_read_as_words():
    assert window_text("year:2021|round:1") == "2021年度，第1轮"
    assert window_text("month:2023-06") == "2023年6月"
    assert window_text("campaign:c1|round:2|2") == "抽查活动 c1，第2轮，第2次"


def test_a_folder_without_draws_is_refused(tmp_path):
    with pytest.raises(SpotcheckError) as err:
        write_tables(tmp_path, tmp_path / "zh")
    assert err.value.problems[0].code == "F603"
