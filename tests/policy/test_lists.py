"""Lists a policy imports by file and SHA-256: another body's published draw as a task's sample, and
another agency's 重点 list as a condition."""

from __future__ import annotations

import datetime as dt
import hashlib

import polars as pl
import pytest
from conftest import edit, line_of, policy_problems
from spotcheck.directory import uscc
from spotcheck.directory.kinds import load_for
from spotcheck.draw import compute
from spotcheck.draw.commitment import drill_seed
from spotcheck.draw.history import HISTORY_COLUMNS
from spotcheck.errors import SpotcheckError
from spotcheck.policy.cases import run_tests
from spotcheck.policy.loader import load_policy
from spotcheck.resources import POLICIES

CODES = [uscc.make(f"e{i}", "企业", "140400") for i in range(8)]
ABSENT = uscc.make("gone", "企业", "140400")  # on the published list, not in our directory

POLICY = f"""\
id: test/joint/2024
extends: {POLICIES / "national" / "baseline.yaml"}
jurisdiction: {{code: "140400", name: 长治市市场监督管理局, region: 长治市, level: city}}
year: 2024
lists:
  - id: 烟草抽取
    name: 市烟草专卖局2024年度联合双随机抽查名单
    issuer: 长治市烟草专卖局
    file: tobacco.csv
    sha256: "SHA"
    text: 以联合双随机牵头单位抽查数为准
  - id: 重点
    name: 市邮政管理局重点寄递企业名单
    file: focus.csv
    sha256: "FOCUS"
tasks:
  - id: t01
    name: 涉烟经营活动联合检查
    type: 定向
    items: []
    scope: {{field: status, op: in, value: [存续, 在营]}}
    scope_text: 本辖区物流、寄递企业
    sampling: {{from_list: 烟草抽取}}
    draw_months: [3, 12]
  - id: t02
    name: 重点寄递企业检查
    type: 定向
    items: []
    scope: {{field: lists, op: contains, value: 重点}}
    scope_text: 重点寄递企业
    sampling: {{ratio: "50%", stratify: []}}
    draw_months: [3, 12]
"""

CASES = f"""\
policy: 2024.yaml
cases:
  - name: 名单上的企业在范围内
    entity: {{uscc: {CODES[0]}, type: 企业, status: 存续, district: "140400", tier: A, lists: [烟草抽取]}}
    expect: {{in_scope: [t01], not_in_scope: [t02]}}
  - name: 不在名单上的不抽
    entity: {{uscc: {CODES[1]}, type: 企业, status: 存续, district: "140400", tier: A}}
    expect: {{not_in_scope: [t01, t02]}}
"""


def _csv(path, codes):
    path.write_text("统一社会信用代码,名称\n" + "".join(f"{c},单位\n" for c in codes), encoding="utf-8")
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def folder(tmp_path):
    sha = _csv(tmp_path / "tobacco.csv", [CODES[0], CODES[2], CODES[5], ABSENT])
    focus = _csv(tmp_path / "focus.csv", CODES[4:8])
    (tmp_path / "2024.yaml").write_text(POLICY.replace('"SHA"', f'"{sha}"').replace('"FOCUS"', f'"{focus}"'), encoding="utf-8")
    (tmp_path / "2024.cases.yaml").write_text(CASES, encoding="utf-8")
    rows = "".join(f"{c},单位{i},企业,{'注销' if i == 5 else '存续'},140400,A\n" for i, c in enumerate(CODES))
    (tmp_path / "entities.csv").write_text("统一社会信用代码,企业名称,主体类型,登记状态,所属辖区,信用风险等级\n" + rows, encoding="utf-8")
    return tmp_path


def test_a_published_draw_is_the_sample_and_a_list_is_a_condition(folder):
    loaded = load_policy(folder / "2024.yaml")
    entities = load_for(loaded.policy, folder / "entities.csv")
    draw = compute.compute(loaded, entities, pl.DataFrame(schema=HISTORY_COLUMNS), drill_seed("k"), dt.date(2024, 3, 4))
    drawn = draw.drawn.group_by("task_id").agg(pl.col("uscc").sort())
    got = dict(drawn.iter_rows())
    # The lead body's draw, as far as our directory has it in scope: the 注销 entity and the absent one are not drawn.
    assert got["t01"] == sorted([CODES[0], CODES[2]])
    assert len(got["t02"]) == 2 and set(got["t02"]) <= set(CODES[4:8])
    (t01,) = [t for t in draw.summary.to_json()["tasks"] if t["task_id"] == "t01"]
    listed = t01["sampling"]["list"]
    assert listed["listed"] == 4 and listed["drawn"] == 2 and listed["not_in_directory"] == [ABSENT]
    assert "名录中没有的1户" in listed["words"] and "不在抽查范围内或已达频次上限的1户" in listed["words"]
    run = run_tests([folder])
    assert run.ok and run.passed == 2


def test_a_changed_list_is_refused_by_validation_and_by_the_draw(folder):
    loaded = load_policy(folder / "2024.yaml")
    _csv(folder / "tobacco.csv", [CODES[0]])
    problems = policy_problems(folder / "2024.yaml")
    assert [p.code for p in problems] == ["P271"]
    assert problems[0].line == line_of(folder / "2024.yaml", "sha256:") and "改动" in problems[0].message
    entities = load_for(loaded.policy, folder / "entities.csv")
    with pytest.raises(SpotcheckError) as exc:
        compute.compute(loaded, entities, pl.DataFrame(schema=HISTORY_COLUMNS), drill_seed("k"), dt.date(2024, 3, 4))
    assert exc.value.problems[0].code == "R560"


def test_wrong_lists_are_located(folder):
    path = folder / "2024.yaml"
    (folder / "focus.csv").write_text("统一社会信用代码\n91140400MA0000000X\n", encoding="utf-8")
    edit(path, "value: 重点}", "value: 重典}")
    edit(path, "file: tobacco.csv", "file: tobaco.csv")
    problems = policy_problems(path)
    got = {(p.code, p.line, p.row) for p in problems}
    assert ("P270", line_of(path, "file: tobaco.csv"), None) in got
    assert ("P274", line_of(path, "value: 重典"), None) in got
    assert any(p.code == "P271" for p in problems)  # focus.csv changed since it was adopted
    edit(path, "sampling: {from_list: 烟草抽取}", 'sampling: {from_list: 烟草抽取, ratio: "3%"}')
    conflict = [p for p in policy_problems(path) if p.code == "P112"]
    assert conflict and "只能填写一项" in conflict[0].message and conflict[0].line == line_of(path, "from_list: 烟草抽取")


def test_a_list_of_codes_that_are_not_usccs_is_reported_by_row(folder):
    path = folder / "2024.yaml"
    old = hashlib.sha256((folder / "focus.csv").read_bytes()).hexdigest()
    sha = _csv(folder / "focus.csv", [CODES[4], "91140400MA0000000X"])
    edit(path, old, sha)
    problems = policy_problems(path)
    assert [(p.code, p.row, p.column) for p in problems] == [("P272", 3, "统一社会信用代码")]
    assert "不是有效的统一社会信用代码" in problems[0].message


def test_diff_names_a_list_that_changed_file_and_a_kind_identified_otherwise(folder):
    from spotcheck.policy.diff import diff

    old = load_policy(folder / "2024.yaml")
    sha = _csv(folder / "tobacco.csv", [CODES[0], CODES[3]])
    text = (folder / "2024.yaml").read_text("utf-8")
    start = text.index("file: tobacco.csv")
    line_end = text.index("\n", text.index("sha256:", start))
    text = text[:start] + f'file: tobacco.csv\n    sha256: "{sha}"' + text[line_end:]
    text = text.replace("lists:\n", "kinds:\n  库点: {uscc_codes: [\"91\"], identified_by: {name: 库点编号, holder: true}}\nlists:\n", 1)
    (folder / "2025.yaml").write_text(text, encoding="utf-8")
    words = [c.text for c in diff(old, load_policy(folder / "2025.yaml"))]
    assert any(w.startswith("名单“市烟草专卖局2024年度联合双随机抽查名单”换了文件") for w in words)
    assert "新增对象类别“库点”" in words
