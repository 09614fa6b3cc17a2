"""Sampling clauses as officers write them: bounds, counts, 基数/目标数, size bands, classes, tier weights."""

from __future__ import annotations

from fractions import Fraction

import pytest
from conftest import edit, line_of, policy_problems
from pydantic import ValidationError
from spotcheck.draw.allocation import by_weight
from spotcheck.draw.pools import task_quotas
from spotcheck.policy.model import Task
from spotcheck.policy.sampling import Sampling, TierRule, bounded_count, sampling_text

SCOPE = {"field": "type", "op": "eq", "value": "企业"}


def _task(**sampling) -> Task:
    return Task.model_validate({"id": "t", "name": "任务", "type": "不定向", "items": [], "scope": SCOPE,
                                "scope_text": "全市企业", "sampling": sampling})


def _wanted(task: Task, strata: dict, risk: dict | None = None) -> dict[str, int]:
    quotas, _ = task_quotas(task, risk or {}, strata)
    return {q.stratum: q.wanted for q in quotas}


def test_an_upper_bound_rounds_a_small_population_down_and_a_lower_bound_up():
    assert bounded_count(Fraction(10, 100), 7, "不高于") == 0
    assert bounded_count(Fraction(10, 100), 7, "不低于") == 1
    assert bounded_count(Fraction(10, 100), 25, "不高于") == 2
    assert _wanted(_task(ratio="10%", at_most=True, stratify=[]), {"全部": (7, None, None)}) == {"全部": 0}
    assert sampling_text(Sampling(ratio="10%", at_most=True)) == "不高于10%"


@pytest.mark.parametrize(("eligible", "want"), [(49, 49), (50, 5), (51, 6), (0, 0)])
def test_a_size_band_holds_on_each_side_of_its_threshold(eligible, want):
    task = _task(stratify=[], by_size=[{"below": 50, "all": True, "text": "不足50户的全部抽查"},
                                       {"from": 50, "ratio": "10%", "text": "50户以上的不低于10%"}])
    assert _wanted(task, {"全部": (eligible, None, None)}) == {"全部": want}
    assert sampling_text(task.sampling) == "不足50户的全部抽查，50户以上的不低于10%"


def test_a_fixed_total_is_shared_upward_by_tier_weight_and_stays_the_plans():
    weights = {t: TierRule(weight=w) for t, w in zip("ABCD", ("1", "2", "3", "4"), strict=True)}
    task = _task(ratio="3%", base={"count": 40065}, target={"count": 1200, "text": "1200户"}, tiers=weights)
    strata = {"A": (28000, "A", None), "B": (8000, "B", None), "C": (3000, "C", None), "D": (1065, "D", None)}
    wanted = _wanted(task, strata)
    # 3% of 40065 is 1201.95 → 1202, more than the target 1200: the larger lower bound holds.
    assert sum(wanted.values()) == 1202
    ratios = [Fraction(wanted[t], strata[t][0]) for t in "ABCD"]
    assert ratios == sorted(ratios) and ratios[0] < ratios[-1]
    _, explain = task_quotas(task, {}, strata)
    assert explain["base"]["difference"] == 0 and explain["total"] == 1202
    assert any("1200" in w for w in explain["words"])


def test_a_share_never_exceeds_its_stratum_and_the_excess_goes_to_the_others():
    quotas = by_weight({"A": (100, Fraction(1)), "D": (5, Fraction(100))}, 30)
    assert {q.stratum: q.wanted for q in quotas} == {"A": 25, "D": 5}


def test_a_class_multiplier_oversamples_its_label_and_a_min_count_tops_up():
    task = _task(ratio="5%", stratify=[], classes=[
        {"id": "multi", "name": "一人多照", "when": {"field": "labels", "op": "any_of", "value": ["一人多照"]},
         "multiplier": "3"}])
    got = _wanted(task, {"一人多照": (100, None, task.sampling.classes[0]), "其他": (100, None, None)})
    assert got == {"一人多照": 15, "其他": 5}
    assert _wanted(_task(ratio="1%", min_count=10, stratify=[]), {"全部": (200, None, None)}) == {"全部": 10}


def test_a_task_tier_rule_overrides_the_policy_and_an_unstratified_task_ignores_both():
    policy_rule = {"A": TierRule(multiplier="0.5")}
    mine = _task(ratio="10%", tiers={"A": {"ratio": "1%"}})
    assert _wanted(mine, {"A": (100, "A", None)}, policy_rule) == {"A": 1}
    assert _wanted(_task(ratio="10%"), {"A": (100, "A", None)}, policy_rule) == {"A": 5}
    assert _wanted(_task(ratio="10%", stratify=[]), {"全部": (100, None, None)}, policy_rule) == {"全部": 10}


def test_an_upper_bound_count_asks_nothing_more_than_there_is():
    quotas, _ = task_quotas(_task(count=10, at_most=True, stratify=[]), {}, {"全部": (4, None, None)})
    assert [(q.wanted, q.shortfall) for q in quotas] == [(4, 0)]
    quotas, _ = task_quotas(_task(count=10, stratify=[]), {}, {"全部": (4, None, None)})
    assert [(q.wanted, q.shortfall) for q in quotas] == [(10, 6)]


@pytest.mark.parametrize(("sampling", "words"), [
    ({"ratio": "5%", "count": 3}, "只能填写一项"),
    ({"ratio": "5%", "at_least": True, "at_most": True}, "不能同时为 true"),
    ({"count": 3, "min_count": 2}, "不需要最少户数"),
    ({"by_size": [{"below": 50, "all": True}, {"from": 60, "ratio": "10%"}]}, "之间没有规定"),
    ({"by_size": [{"below": 50, "all": True, "ratio": "5%"}, {"from": 50, "ratio": "10%"}]}, "须且只须"),
    ({"ratio": "5%", "classes": [{"id": "x", "name": "甲", "when": SCOPE}]}, "须写 ratio"),
    ({"ratio": "5%", "unstated": "抽取一定比例"}, "只能填写一项"),
    ({"unstated": "抽取一定比例", "min_count": 2}, "不能写最少户数"),
    ({"from_list": "名单", "target": {"count": 5}}, "以名单为准"),
    ({"stratify": []}, "unstated"),
    ({"count": 10, "classes": [{"id": "x", "name": "甲", "when": SCOPE, "count": 3}]}, "不再写总数"),
    ({"classes": [{"id": "x", "name": "甲", "when": SCOPE, "count": 3, "ratio": "5%"}]}, "不再写比例"),
    ({"classes": [{"id": "x", "name": "甲", "when": SCOPE, "count": 3}, {"id": "y", "name": "乙", "when": SCOPE, "weight": "2"}]}, "须填写"),
    ({"tiers": {"A": {"ratio": "3%"}}, "stratify": []}, "须按风险等级分层"),
    ({"tiers": {"A": {"ratio": "3%"}}, "target": {"count": 18}}, "写作 expected"),
    ({"tiers": {"A": {"ratio": "3%"}, "B": {"weight": "2"}}}, "不写目标数（target）或权重"),
])
def test_wrong_sampling_is_refused_in_chinese(sampling, words):
    with pytest.raises(ValidationError) as exc:
        Sampling.model_validate(sampling)
    assert any(words in e["msg"] for e in exc.value.errors())


def test_a_ratio_and_count_conflict_is_reported_with_the_other_problems_of_its_block(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, 'sampling: {ratio: "5%"}', 'sampling: {ratio: "5%", count: 3, times_per_year: 0}')
    problems = policy_problems(path)
    line = line_of(path, "count: 3")
    assert {p.line for p in problems} == {line} and len(problems) == 2
    assert any("只能填写一项" in p.message for p in problems)
    assert any("不能小于 1" in p.message for p in problems)
    assert all(p.where.startswith("任务 't01' → sampling") for p in problems)


def test_diff_names_a_changed_weight_under_the_same_words(tmp_path):
    from spotcheck.policy.diff import diff
    from spotcheck.policy.loader import load_policy
    from spotcheck.resources import POLICIES

    source = (POLICIES / "anhui" / "chizhou" / "2024.yaml").read_text(encoding="utf-8")
    old, new = tmp_path / "old", tmp_path / "new"
    for folder, text in ((old, source), (new, source.replace('D: {weight: "4"}', 'D: {weight: "5"}'))):
        (folder / "anhui" / "chizhou").mkdir(parents=True)
        for rel in ("baseline.yaml", "items/2024.yaml"):
            (folder / "anhui" / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / "anhui" / rel).write_text((POLICIES / "anhui" / rel).read_text(encoding="utf-8")
                                                .replace("../national/baseline.yaml", str(POLICIES / "national" / "baseline.yaml")),
                                                encoding="utf-8")
        (folder / "anhui" / "chizhou" / "2024.yaml").write_text(text, encoding="utf-8")
    changes = diff(load_policy(old / "anhui/chizhou/2024.yaml"), load_policy(new / "anhui/chizhou/2024.yaml"))
    assert [c.text for c in changes] == ["任务“2024年度全省市场监管部门不定向抽查”抽查比例条款的本任务分级规则有改动"]


def test_an_unstated_ratio_draws_nothing_where_no_stated_number_reaches():
    # Changzhi row 4: 三级 ≥50%, 二级 ≥30%, “抽取一定比例的一级及以下定点医疗机构、定点药店”.
    grade3 = {"id": "g3", "name": "三级", "when": SCOPE, "ratio": "50%"}
    task = _task(unstated="抽取一定比例的一级及以下定点医疗机构、定点药店", stratify=[], classes=[grade3])
    klass = task.sampling.classes[0]
    quotas, explain = task_quotas(task, {}, {"三级": (5, None, klass), "其他": (60, None, None)})
    assert {q.stratum: q.wanted for q in quotas} == {"三级": 3, "其他": 0}
    assert "其他：计划未写明比例（“抽取一定比例的一级及以下定点医疗机构、定点药店”），不抽取" in explain["words"]
    assert sampling_text(Sampling(unstated="原表在此截断", stratify=[])) == "原表在此截断"


def test_counts_per_class_are_a_district_allocation_table():
    # 各县区抽查数量分配表: 贵池区 30户, 东至县 20户; the table is the whole plan, nobody else is drawn.
    def county(code, name, n):
        return {"id": code, "name": name, "when": {"field": "district", "op": "eq", "value": code}, "count": n}
    task = _task(stratify=["tier"], classes=[county("341702", "贵池区", 30), county("341721", "东至县", 20)])
    g, d = task.sampling.classes
    strata = {"A|贵池区": (300, "A", g), "B|贵池区": (100, "B", g), "A|东至县": (12, "A", d), "C|东至县": (3, "C", d),
              "A|其他": (50, "A", None)}
    quotas, explain = task_quotas(task, {}, strata)
    got = {q.stratum: (q.wanted, q.drawn) for q in quotas}
    assert got == {"A|贵池区": (23, 23), "B|贵池区": (7, 7), "A|东至县": (17, 12), "C|东至县": (3, 3), "A|其他": (0, 0)}
    assert "“东至县”按分配户数20户，该类只有15户，全部抽取" in explain["words"]
    assert "A|其他：不在按类别分配的户数中，不抽取" in explain["words"]
    # With a ratio of its own the task draws the entities outside the table by it.
    with_ratio = _task(ratio="10%", stratify=["tier"], classes=[county("341702", "贵池区", 30)])
    quotas, _ = task_quotas(with_ratio, {}, {"A|贵池区": (300, "A", with_ratio.sampling.classes[0]), "A|其他": (50, "A", None)})
    assert {q.stratum: q.wanted for q in quotas} == {"A|贵池区": 30, "A|其他": 5}


def test_an_unstated_ratio_and_a_class_count_are_located_when_written_wrong(policy_tree):
    path = policy_tree / "city" / "2023.yaml"
    edit(path, 'sampling: {ratio: "5%"}', 'sampling: {unstated: 抽取一定比例, min_count: 2}')
    (problem,) = policy_problems(path)
    assert problem.code == "P112" and problem.line == line_of(path, "unstated: 抽取一定比例")
    assert "比例未写明（unstated）时不能写最少户数" in problem.message
    edit(path, "sampling: {unstated: 抽取一定比例, min_count: 2}",
         'sampling: {count: 9, classes: [{id: a, name: 甲县, when: {field: district, op: eq, value: "130302"}, count: 3}]}')
    (problem,) = policy_problems(path)
    assert problem.code == "P112" and problem.line == line_of(path, "count: 9") and "不再写总数" in problem.message


def test_a_floor_per_stratum_and_strata_by_industry():
    # “抽查比例不低于5%，各县（市、区）不少于20户”; strata may also be 行业, 管辖单位 or 网格.
    task = _task(ratio="5%", stratify=["district"], min_per_stratum=20)
    quotas, explain = task_quotas(task, {}, {"东区": (1000, None, None), "西区": (100, None, None), "北区": (8, None, None)})
    assert {q.stratum: q.wanted for q in quotas} == {"东区": 50, "西区": 20, "北区": 8}
    assert "西区：按比例5户，少于每层最少户数20户，抽20户" in explain["words"]
    assert sampling_text(task.sampling) == "不低于5%，每辖区不少于20户"
    assert _task(ratio="5%", stratify=["industry", "grid"]).sampling.stratify == ["industry", "grid"]


def test_ratios_tier_by_tier_without_a_task_ratio_draw_each_tier_its_own():
    # 重庆 2024 row 1: “A3% B4% C5% D6%”, no ratio for the task; a tier the plan gives no ratio is not drawn.
    task = _task(tiers={"A": {"ratio": "3%"}, "B": {"ratio": "4%"}, "C": {"ratio": "5%"}, "D": {"ratio": "6%"}},
                 expected={"count": 18, "text": "18"})
    strata = {"A": (300, "A", None), "B": (100, "B", None), "C": (20, "C", None), "D": (5, "D", None)}
    assert _wanted(task, strata) == {"A": 9, "B": 4, "C": 1, "D": 1}
    _, explain = task_quotas(task, {}, strata)
    assert explain["expected"] == {"stated": 18, "text": "18", "wanted": 15, "difference": -3,
                                   "words": "计划抽取户数18户，按名录和比例应抽15户，少3户"}
    assert sampling_text(task.sampling) == "A级3%、B级4%、C级5%、D级6%"
    only_a = _task(by_tier={"A": "3%"})
    _, explain = task_quotas(only_a, {}, {"A": (100, "A", None), "D": (10, "D", None)})
    assert _wanted(only_a, {"A": (100, "A", None), "D": (10, "D", None)}) == {"A": 3, "D": 0}
    assert "D：计划只写明了A级的比例，D级不抽取" in explain["words"]


def test_an_expected_count_beside_a_ratio_changes_nothing_but_is_reported():
    plain, told = _task(ratio="5%", stratify=[]), _task(ratio="5%", stratify=[], expected={"count": 1, "text": "1户"})
    strata = {"全部": (30, None, None)}
    assert _wanted(plain, strata) == _wanted(told, strata) == {"全部": 2}
    _, explain = task_quotas(told, {}, strata)
    assert explain["expected"]["words"] == "计划抽取户数1户，按名录和比例应抽2户，多1户"


def test_a_ratio_range_draws_its_lower_bound_and_caps_what_the_tiers_raise():
    # “抽查比例3%—5%，按信用风险分类结果递加”: the tiers raise the ratio, never past the range's top.
    risk = {"A": TierRule(multiplier="0.5"), "C": TierRule(multiplier="1.5"), "D": TierRule(multiplier="3")}
    task = _task(ratio="3%", ratio_max="5%", tiers={}, text=None)
    strata = {t: (1000, t, None) for t in "ABCD"}
    assert _wanted(task, strata, risk) == {"A": 15, "B": 30, "C": 45, "D": 50}
    _, explain = task_quotas(task, risk, strata)
    assert "D：按比例区间最高5%" in explain["words"]
    assert sampling_text(task.sampling) == "3%—5%"
    # Without the range the same tiers take D to 9%.
    assert _wanted(_task(ratio="3%"), strata, risk)["D"] == 90


@pytest.mark.parametrize(("sampling", "words"), [
    ({"ratio": "5%", "ratio_max": "3%"}, "比例上限（ratio_max）3% 低于比例（ratio）5%"),
    ({"ratio": "3%", "ratio_max": "5%", "by_tier": {"D": "10%"}}, "D级10% 超过比例上限"),
    ({"ratio": "3%", "ratio_max": "5%", "at_most": True}, "不再写比例上限"),
    ({"count": 9, "ratio_max": "5%"}, "不与 count 同用"),
    ({"unstated": "一定比例", "ratio_max": "5%"}, "须与比例（ratio）同用"),
])
def test_a_ratio_range_that_cannot_hold_is_refused(sampling, words):
    with pytest.raises(ValidationError) as caught:
        Sampling.model_validate(sampling)
    assert words in str(caught.value)
