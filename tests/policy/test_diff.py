import shutil
from pathlib import Path

import pytest
from conftest import POLICY_FIXTURES, edit
from spotcheck.policy.diff import diff, diff_files, format_changes
from spotcheck.errors import SpotcheckError
from spotcheck.policy.loader import load_policy


def texts(old: Path, new: Path) -> list[str]:
    return [c.text for c in diff_files(old, new)]


def test_year_over_year_lists_the_ratio_change_and_the_added_task():
    changes = diff_files(POLICY_FIXTURES / "city" / "2022.yaml", POLICY_FIXTURES / "city" / "2023.yaml")
    assert [c.kind for c in changes] == ["task_added", "task", "item"]
    added, ratio, item = (c.text for c in changes)
    assert added.startswith("新增任务 t03“对广告发布登记事项的双随机抽查”（定向，抽查比例 不低于3%，事项 G01（广告发布登记事项的检查），")
    assert "范围：主体类型为企业，且监管标签含广告发布单位" in added
    assert ratio == "任务“对拍卖企业拍卖活动经营资格的双随机抽查”抽查比例 不低于50% → 100%"
    assert item == "事项清单新增事项 G01（广告发布登记事项的检查）"


def test_same_dates_in_the_next_year_are_no_change_but_moved_ones_are(policy_tree):
    old, new = policy_tree / "city" / "2022.yaml", policy_tree / "city" / "2023.yaml"
    assert not any("时间" in t or "期限" in t for t in texts(old, new))
    edit(new, 'window: {start: "2023-04-01", end: "2023-11-30"}', 'window: {start: "2023-05-01", end: "2023-11-30"}')
    edit(new, '"on": "2023-12-20"', '"on": "2023-12-15"')
    found = texts(old, new)
    assert "抽查活动“示范市2023年联合抽查”时间 2022-04-01 至 2022-11-30 → 2023-05-01 至 2023-11-30" in found
    assert "期限“抽查任务完成” 2022-12-20 前 → 2023-12-15 前" in found


def test_task_changes_in_officers_terms(policy_tree):
    old, new = policy_tree / "city" / "2023.yaml", policy_tree / "city" / "2023b.yaml"
    shutil.copy(old, new)
    edit(new, "  - id: t01\n", "  - id: t11\n")  # renumbered, matched by name
    edit(new, "items: [J01]", "items: [J01, J02]")
    edit(new, "scope: {field: labels, op: contains, value: 加油站}", "scope: {field: labels, op: any_of, value: [加油站, 眼镜店]}")
    edit(new, "  拍卖企业:\n", "  拍卖企业:\n  眼镜店:\n")
    edit(new, "draw_months: [4, 11]", "draw_months: [5, 10]")
    edit(new, "  - id: t02\n", "  - id: t20\n")
    edit(new, "name: 对拍卖企业拍卖活动经营资格的双随机抽查", "name: 拍卖企业检查")  # new id and new name: removed + added
    edit(new, "deadlines:", "team: {min_size: 3}\ndeadlines:")
    edit(new, "multiplier: \"0.5\"", "ratio: \"2%\"")
    found = texts(old, new)
    label = "任务“对在用计量器具的监督抽查”"
    assert found == [
        "删去任务 t02“对拍卖企业拍卖活动经营资格的双随机抽查”",
        found[1],
        f"{label}的标识 t01 → t11",
        f"{label}新增抽查事项 J02（计量标准的监督检查）",
        f"{label}抽查对象范围 监管标签含加油站 → 监管标签含加油站、眼镜店之一",
        f"{label}抽取月份 4月—11月 → 5月—10月",
        "A级（低风险）主体 按任务抽查比例的0.5倍抽取（最高100%） → 抽查比例2%",
        "每组最少人数 2 → 3",
    ]
    assert found[1].startswith("新增任务 t20“拍卖企业检查”")


def test_identical_policies_have_no_changes():
    loaded = load_policy(POLICY_FIXTURES / "city" / "2023.yaml")
    assert diff(loaded, loaded) == []
    assert format_changes([]) == "两份策略没有影响抽查工作的差别"


def test_problems_in_either_policy_are_raised(policy_tree):
    edit(policy_tree / "city" / "2023.yaml", 'ratio: "5%"', 'ratio: "500%"')
    with pytest.raises(SpotcheckError) as exc:
        diff_files(policy_tree / "city" / "2022.yaml", policy_tree / "city" / "2023.yaml")
    assert [p.code for p in exc.value.problems] == ["P112"]
