import csv
import io

import pytest
from conftest import RESULTS
from spotcheck.results import tables


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig"])
def test_csv_encodings_read_the_same(tmp_path, encoding):
    good = RESULTS / "results-good.csv"
    path = tmp_path / "r.csv"
    path.write_bytes(good.read_text("utf-8").encode(encoding))
    cells = tables.read_cells(path)
    assert cells == tables.read_cells(good)
    assert cells[0][:2] == ["检查编号", "市场主体名称"]


def test_table_bytes_csv_has_bom_and_crlf():
    data = tables.table_bytes(".csv", ["甲", "乙"], [["1", "a,b"]])
    assert data == "\ufeff甲,乙\r\n1,\"a,b\"\r\n".encode("utf-8")
    assert list(csv.reader(io.StringIO(data.decode("utf-8-sig")))) == [["甲", "乙"], ["1", "a,b"]]
