import json

import pytest
from spotcheck.errors import Problem, SpotcheckError, format_problems

AT_LINE = Problem("P112", "比例 150% 超过 100%", file="p/2023.yaml", line=12, col=23, where="任务 't02' → sampling → ratio",
                  hint="改为 0% 到 100%")
AT_ROW = Problem("D207", "校验码不对", file="e.csv", row=3, column="统一社会信用代码")
NOWHERE = Problem("E001", "出错了")


def test_format_puts_the_location_first_then_where_and_hint():
    assert AT_LINE.format() == ("p/2023.yaml:12:23: P112 比例 150% 超过 100%\n"
                                "    ==> 位置：任务 't02' → sampling → ratio\n"
                                "    ==> 修改建议：改为 0% 到 100%")
    assert AT_ROW.format() == "e.csv: 第 3 行 列 统一社会信用代码: D207 校验码不对"
    assert NOWHERE.format() == "E001 出错了"
    assert Problem("P190", "缺少声明", file="x.yaml", line=1).format() == "x.yaml:1:1: P190 缺少声明"


def test_github_annotation_escapes_percent_and_newlines():
    assert AT_LINE.github() == ("::error file=p/2023.yaml,line=12,col=23::P112 比例 150%25 超过 100%25"
                                "（任务 't02' → sampling → ratio） 修改建议：改为 0%25 到 100%25")
    assert Problem("X1", "两行\r\n文字").github() == "::error ::X1 两行%0D%0A文字"


def test_json_keeps_only_the_fields_that_are_set():
    assert json.loads(format_problems([AT_ROW, NOWHERE], "json")) == [
        {"code": "D207", "message": "校验码不对", "file": "e.csv", "row": 3, "column": "统一社会信用代码"},
        {"code": "E001", "message": "出错了"},
    ]


def test_limit_shows_the_first_problems_and_counts_the_rest():
    problems = [Problem(f"D2{i:02d}", f"第 {i} 个") for i in range(5)]
    lines = format_problems(problems, limit=2).splitlines()
    assert lines == ["D200 第 0 个", "D201 第 1 个", "……另有 3 个问题未显示（共 5 个）"]
    assert format_problems(problems, limit=5) == format_problems(problems)
    assert len(format_problems(problems, "github", limit=2).splitlines()) == 3
    assert len(json.loads(format_problems(problems, "json", limit=2))) == 5  # the limit is for people reading text


def test_spotcheck_error_always_carries_a_problem():
    assert SpotcheckError("无法读取").problems == [Problem("E001", "无法读取")]
    assert SpotcheckError(AT_ROW).problems == [AT_ROW]
    assert str(SpotcheckError([AT_ROW, NOWHERE])) == f"{AT_ROW.format()}\n{NOWHERE.format()}"
    with pytest.raises(ValueError):
        SpotcheckError([])
