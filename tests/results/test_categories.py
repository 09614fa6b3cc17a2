import pytest
from spotcheck.results import categories


@pytest.mark.parametrize("text, codes", [
    ("R01", ["R01"]),
    ("r0201；R03", ["R0201", "R03"]),
    ("发现问题待后续处理（未按规定公示应当公示的信息、通过登记的住所(经营场所)无法联系）", ["R02", "R0201", "R0203"]),
    ("公示信息隐瞒真实情况、弄虚作假", ["R0202"]),
    ("发现问题待后续处理：违反其他市场监管规定", ["R02", "R0204"]),
])
def test_scan_categories(text, codes):
    found, unknown = categories.scan(text, categories.CATEGORY_VOCAB)
    assert (found, unknown) == (codes, [])


def test_scan_reports_what_it_does_not_know():
    assert categories.scan("R01、R011、没问题", categories.CATEGORY_VOCAB) == (["R01"], ["r011", "没问题"])


def test_category_text_reads_back():
    codes = ("R0201", "R0203", "R03")
    text = categories.category_text(codes)
    assert text == "发现问题待后续处理（未按规定公示应当公示的信息、通过登记的住所（经营场所）无法联系）；发现问题已责令改正"
    assert categories.ordered_categories(categories.scan(text, categories.CATEGORY_VOCAB)[0]) == codes
