"""CSV directories whose rows do not match the header, title lines, broken quotes: every one named by row,
in Chinese, never padded or refused without a word."""

import re

import pytest
import xlsxwriter
from spotcheck.directory import uscc
from spotcheck.directory.load import ROW_PROBLEM_CAP, load_entities, load_inspectors
from spotcheck.errors import SpotcheckError

A = uscc.make("a", region="350102")
B = uscc.make("b", entity_type="个体工商户", region="350102")
HEADER = "统一社会信用代码,企业名称,主体类型,登记状态,所属辖区,信用风险等级,监管标签,成立日期"
ROW_A = f"{A},福州甲商贸有限公司,企业,存续,鼓楼区,A,加油站,2023-01-05"
ROW_B = f"{B},鼓楼区乙便利店,个体工商户,在营,鼓楼区,B,,2023/1/5"
# Three English words in a row: a library's message reached the officer untranslated.
ENGLISH = re.compile(r"[A-Za-z]{2,}[ _'`][a-z]{2,}[ _'`][a-z]{2,}")


def problems(path, load=load_entities):
    with pytest.raises(SpotcheckError) as info:
        load(path)
    for p in info.value.problems:
        assert not ENGLISH.search(p.message + (p.hint or "")), p
    return info.value.problems


def write(tmp_path, *lines, encoding="utf-8", name="e.csv"):
    path = tmp_path / name
    path.write_bytes("\n".join(lines).encode(encoding) + b"\n")
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_a_short_row_is_named_not_padded(tmp_path, encoding):
    path = write(tmp_path, HEADER, ROW_A, ",".join(ROW_B.split(",")[:3]), ROW_A.replace(A, uscc.make("c")), encoding=encoding)
    found = problems(path)
    assert found[0].code == "D221" and found[0].row == 3 and "3 个单元格" in found[0].message
    assert "8 列" in found[0].message and all(p.row == 3 for p in found)


def test_a_long_row_is_named_by_row_with_the_likely_cause(tmp_path):
    path = write(tmp_path, HEADER, ROW_A, ROW_B.replace("鼓楼区乙便利店", "鼓楼区乙便利店,连锁"))
    found, *shifted = problems(path)
    assert (found.code, found.row, found.file) == ("D221", 3, str(path)) and all(p.row == 3 for p in shifted)
    assert "9 个单元格" in found.message and "逗号" in found.hint


def test_empty_cells_past_the_header_are_harmless(tmp_path):
    assert load_entities(write(tmp_path, HEADER, ROW_A + ",,", ROW_B + ",")).frame.height == 2


def test_a_title_line_needs_no_padding(tmp_path):
    loaded = load_entities(write(tmp_path, "福州市市场主体名录（2025年3月）", "", HEADER, ROW_A, ROW_B))
    assert loaded.source_rows.to_list() == [4, 5]
    (found,) = problems(write(tmp_path, "名录", HEADER, ROW_A, ROW_B.replace(",B,", ",Z,"), name="t.csv"))
    assert (found.code, found.row) == ("D209", 4)


def test_a_quoted_line_break_keeps_the_rows_numbered_as_records(tmp_path):
    multi = ROW_A.replace("福州甲商贸有限公司", '"福州\n甲商贸有限公司"')
    loaded = load_entities(write(tmp_path, HEADER, multi, ROW_B))
    assert loaded.frame["name"].to_list() == ["福州\n甲商贸有限公司", "鼓楼区乙便利店"]
    found = problems(write(tmp_path, HEADER, multi, ROW_B, ROW_B[:40], name="m.csv"))
    assert (found[0].code, found[0].row) == ("D221", 4) and all(p.row == 4 for p in found)


def test_a_quoted_comma_is_one_cell(tmp_path):
    row = ROW_A.replace("福州甲商贸有限公司", '"福州,甲商贸""有限""公司"')
    assert load_entities(write(tmp_path, HEADER, row, ROW_B)).frame["name"][0] == '福州,甲商贸"有限"公司'


@pytest.mark.parametrize(
    "line, reason",
    [(f'"{B},鼓楼区乙便利店', "没有配对"), (f'{B},"鼓楼区"乙便利店,个体工商户,在营,鼓楼区,B,,2023/1/5', "结束引号后")],
)
def test_broken_quotes_are_located_in_chinese(tmp_path, line, reason):
    (found,) = problems(write(tmp_path, HEADER, ROW_A, line, ROW_A.replace(A, uscc.make("c"))))
    assert (found.code, found.row) == ("D222", 3) and reason in found.message


def test_many_ragged_rows_are_listed_up_to_the_cap_and_counted(tmp_path):
    rows = [",".join(ROW_B.split(",")[:4]).replace(B, uscc.make(str(i), entity_type="个体工商户")) for i in range(120)]
    found = [p for p in problems(write(tmp_path, HEADER, *rows)) if p.code == "D221"]
    assert len(found) == ROW_PROBLEM_CAP + 1 and "另有 20 行" in found[-1].message


def test_inspector_directories_follow_the_same_rule(tmp_path):
    path = write(tmp_path, "执法人员编号,姓名,所属单位,所属辖区,在岗状态", "ZF1,王伟,鼓楼区局,鼓楼区,在岗", "ZF2,李娜", name="i.csv")
    assert [(p.code, p.row) for p in problems(path, load_inspectors) if p.code == "D221"] == [("D221", 3)]


def test_a_damaged_workbook_is_described_in_chinese(tmp_path):
    path = tmp_path / "e.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet().write_row(0, 0, HEADER.split(","))
    book.close()
    path.write_bytes(path.read_bytes()[:300])
    (found,) = problems(path)
    assert found.code == "D201" and "Excel" in found.message
