"""Cell checks that hold in every kind of directory file."""

import pytest
from spotcheck.directory import uscc
from spotcheck.directory.load import load_entities, load_inspectors
from spotcheck.errors import SpotcheckError

HEADER = "统一社会信用代码,企业名称,主体类型,登记状态,所属辖区,信用风险等级,监管标签,成立日期,住所"


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x0b", "\x7f", "\x85", "\ufffe", "\uffff"])
def test_a_control_character_in_a_name_is_refused_at_its_cell(tmp_path, char):
    a, b = uscc.make("a"), uscc.make("b")
    path = tmp_path / "e.csv"
    path.write_text(
        f"{HEADER}\n{a},福州甲商贸有限公司,企业,存续,鼓楼区,A,,2023-01-05,鼓楼路1号\n"
        f"{b},福州乙{char}商贸有限公司,企业,存续,鼓楼区,A,加油{char}站,2023-01-05,鼓楼路{char}2号\n",
        encoding="utf-8",
    )
    with pytest.raises(SpotcheckError) as info:
        load_entities(path)
    found = [(p.code, p.row, p.column) for p in info.value.problems]
    assert found == [("D220", 3, "企业名称"), ("D220", 3, "监管标签"), ("D220", 3, "住所")]
    assert f"U+{ord(char):04X}" in info.value.problems[0].message and "第 4 个字符" in info.value.problems[0].message


def test_line_breaks_and_tabs_are_text_not_control_characters(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text(f'{HEADER}\n{uscc.make("a")},"福州\t甲商贸",企业,存续,鼓楼区,A,,2023-01-05,"鼓楼路\n1号"\n', "utf-8")
    assert load_entities(path).frame["address"].to_list() == ["鼓楼路\n1号"]


def test_inspector_names_are_checked_too(tmp_path):
    path = tmp_path / "i.csv"
    path.write_text("执法人员编号,姓名,所属单位,所属辖区,在岗状态\nZF1,王\x01伟,鼓楼区局,鼓楼区,在岗\n", "utf-8")
    with pytest.raises(SpotcheckError) as info:
        load_inspectors(path)
    assert [(p.code, p.row, p.column) for p in info.value.problems] == [("D220", 2, "姓名")]
