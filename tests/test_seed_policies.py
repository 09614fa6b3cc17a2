"""The five seed policies hold what their source notices say, word for word where the notice words it.

Each policy is loaded as every stage loads it (spotcheck.policy.loader.load_policy, parents resolved) and
compared with the notice text in ../shared/seeds (found through that folder's README index). Text is
compared after dropping whitespace and Markdown emphasis, because the seed files break lines and
bold words where the printed notice does not.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from spotcheck.resources import POLICIES
from conftest import ROOT

loader = pytest.importorskip("spotcheck.policy.loader", reason="spotcheck.policy.loader is not available yet")
from spotcheck.policy.model import sampling_text  # noqa: E402  (after the loader check on purpose)

SEEDS = ROOT.parent / "shared" / "seeds"
if not (SEEDS / "README.md").is_file():
    pytest.skip(f"seed notices not found: {SEEDS}/README.md (the shared/ folder beside the repository)",
                allow_module_level=True)

# policy file → what identifies its notice in the seeds README index (document number, or issuer)
SEED_KEYS = {
    "hebei/qinhuangdao/2023.yaml": "秦市监函〔2023〕453号",
    "hebei/qinhuangdao/2024.yaml": "秦市监函〔2024〕58号",
    "shanxi/shuozhou/2021.yaml": "朔市监〔2021〕26号",
    "shandong/qingdao/2020.yaml": "局函〔2020〕277号",
    "zhejiang/wenzhou/longwan/2023.yaml": "龙湾区市场监督管理局",
}
POLICY_FILES = list(SEED_KEYS)


def norm(text: str) -> str:
    return re.sub(r"[\s*]", "", text)


def seed_file(key: str) -> Path:
    rows = [line for line in (SEEDS / "README.md").read_text(encoding="utf-8").splitlines()
            if line.startswith("|") and key in line]
    assert len(rows) == 1, f"README index has {len(rows)} rows for {key}"
    name = rows[0].split("|")[1].strip()
    return SEEDS / name


def seed_text(policy_file: str) -> str:
    return seed_file(SEED_KEYS[policy_file]).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def loaded():
    cache: dict[str, object] = {}

    def get(policy_file: str):
        if policy_file not in cache:
            cache[policy_file] = loader.load_policy(POLICIES / policy_file)
        return cache[policy_file]

    return get


def cn_date(d) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def pct(value: Decimal) -> str:
    return f"{value.normalize():f}%"


# ---------------------------------------------------------------- every policy


@pytest.mark.parametrize("policy_file", POLICY_FILES)
def test_document_head_is_the_notices(loaded, policy_file):
    doc = loaded(policy_file).policy.documents[0]
    seed = norm(seed_text(policy_file))
    number = SEED_KEYS[policy_file]
    if "〔" in number:
        assert doc.number is not None and doc.number.text() == number
        assert number in seed
    else:
        assert doc.number is None  # seed 004 prints no document number
    assert cn_date(doc.date) in seed
    for text in (doc.title, doc.issuer, doc.enclosure_title, *doc.addressees, *doc.attachments):
        if text is not None:
            assert norm(text) in seed, text


@pytest.mark.parametrize("policy_file", POLICY_FILES)
def test_prose_is_verbatim(loaded, policy_file):
    doc = loaded(policy_file).policy.documents[0]
    seed = norm(seed_text(policy_file))

    def walk(sections):
        for s in sections:
            if s.heading is not None:
                yield s.heading
            yield from s.text
            yield from walk(s.sections)

    paragraphs = [*doc.preamble, *walk(doc.sections)]
    assert paragraphs
    for text in paragraphs:
        assert norm(text) in seed, text


@pytest.mark.parametrize("policy_file", POLICY_FILES)
def test_contacts_are_the_notices(loaded, policy_file):
    doc = loaded(policy_file).policy.documents[0]
    seed = norm(seed_text(policy_file))
    assert doc.contacts
    for c in doc.contacts:
        for value in (c.name, c.phone, c.email, c.unit):
            if value is not None:
                assert value in seed, value


@pytest.mark.parametrize("policy_file", POLICY_FILES)
def test_numbers_in_rule_texts_match_the_rules(loaded, policy_file):
    """Where a target or deadline quotes the notice, the quote says the same number as the rule."""
    policy = loaded(policy_file).policy
    national = loaded("national/baseline.yaml").policy
    seed = norm(seed_text(policy_file))
    for metric, target in policy.targets.items():
        if target == national.targets.get(metric):
            continue  # inherited from the national baseline, not this notice's words
        assert norm(target.text) in seed, (metric, target.text)
        assert pct(target.value) in norm(target.text), (metric, target.text)
    for rid, rule in policy.deadlines.items():
        if rule == national.deadlines.get(rid):
            continue
        assert rule.text is not None and norm(rule.text) in seed, rid
        text = norm(rule.text)
        if rule.working_days is not None:
            assert f"{rule.working_days}个工作日" in text, rid
        elif rule.on is not None:
            month_end = (rule.on + timedelta(days=1)).month != rule.on.month
            said = f"{rule.on.month}月{rule.on.day}日" in text or (month_end and f"{rule.on.month}月底" in text)
            assert said, rid
        elif rule.monthly is not None:
            assert f"{rule.monthly.day}日" in text, rid


@pytest.mark.parametrize("policy_file", POLICY_FILES)
def test_quoted_notes_are_the_notices(loaded, policy_file):
    policy = loaded(policy_file).policy
    seed = norm(seed_text(policy_file))
    notes = [policy.merge.note, policy.risk.note, *(p.note for p in policy.team.pools)]
    notes += [p.note for p in policy.merge.pairings if policy_file.startswith("zhejiang")]
    notes += [c.name for c in policy.caps]
    notes += list(policy.steps)
    for note in notes:
        if note is not None:
            assert norm(note) in seed, note


@pytest.mark.parametrize("policy_file", POLICY_FILES)
def test_floors_are_inherited(loaded, policy_file):
    policy = loaded(policy_file).policy
    assert policy.targets["enterprise_coverage"].value >= 3
    assert policy.deadlines["results_public"].working_days <= 20
    assert policy.team.min_size >= 2


# ---------------------------------------------------------------- item lists

# Names this project words itself, each with the reason; every other item and sub-item name of a
# list must appear in its seed exactly.
NOT_VERBATIM = {
    "SD20-01": "named as in the national item list; the seed says “获证资格及条件检查”",
    "SD20-02": "named as in the national item list; the seed says “产品质量安全开展监督检查”",
    "ZJ23-EX01": "illustrative", "ZJ23-EX02": "illustrative", "ZJ23-EX03": "illustrative",
    "ZJ23-EX04": "illustrative", "ZJ23-EX05": "illustrative",
}
LISTS = {
    "hebei/items/2023.yaml": "hebei/qinhuangdao/2023.yaml",
    "shanxi/items/2021.yaml": "shanxi/shuozhou/2021.yaml",
    "shandong/items/2020.yaml": "shandong/qingdao/2020.yaml",
    "zhejiang/items/2023.yaml": "zhejiang/wenzhou/longwan/2023.yaml",
}


@pytest.mark.parametrize("list_file", list(LISTS))
def test_item_names_are_the_seeds(list_file):
    item_list = loader.load_item_list(POLICIES / list_file).item_list
    seed = norm(seed_text(LISTS[list_file]))
    for item in item_list.items:
        if item.code in NOT_VERBATIM:
            continue
        for name in (item.name, *(s.name for s in item.sub_items)):
            assert norm(name) in seed, (item.code, name)


def test_qinhuangdao_2023_lists_the_eleven_items_with_their_sub_items(loaded):
    lp = loaded("hebei/qinhuangdao/2023.yaml")
    seed = norm(seed_text("hebei/qinhuangdao/2023.yaml")).replace("(", "（").replace(")", "）")
    codes = lp.visit_items([t.id for t in lp.policy.tasks])
    assert codes == [f"HB23-{i:02d}" for i in range(1, 12)]
    for i, code in enumerate(codes, 1):
        item = lp.items[code]
        line = item.name + (f"（{'，'.join(s.name for s in item.sub_items)}）" if item.sub_items else "")
        assert f"{i}.{line}".replace("(", "（").replace(")", "）") + "；" in seed, line
    sub_counts = {c: len(lp.items[c].sub_items) for c in codes}
    assert sub_counts == {"HB23-01": 0, "HB23-02": 0, "HB23-03": 2, "HB23-04": 2, "HB23-05": 0, "HB23-06": 0,
                          "HB23-07": 4, "HB23-08": 0, "HB23-09": 3, "HB23-10": 0, "HB23-11": 2}


def test_longwan_general_items_are_the_three_the_notice_names(loaded):
    lp = loaded("zhejiang/wenzhou/longwan/2023.yaml")
    seed = norm(seed_text("zhejiang/wenzhou/longwan/2023.yaml"))
    general = [c for c, item in lp.items.items() if item.general]
    assert general == ["A99", "A100", "A101"]
    for code in general:
        item = lp.items[code]
        assert f"“{code}.通用检查事项({item.name}-{item.sub_items[0].name})”" in seed, code
    assert "等7个抽查事项融入到每个随机抽查任务之中" in seed
    assert lp.policy.merge.fuse_general_items
    for task in lp.policy.tasks:
        assert set(general) <= set(lp.visit_items([task.id])), task.id


# ---------------------------------------------------------------- seed by seed


def shuozhou_rows() -> list[list[str]]:
    text = seed_text("shanxi/shuozhou/2021.yaml")
    return [line.split("\t") for line in text.splitlines() if re.match(r"^\d+\t", line)]


def test_shuozhou_has_the_21_rows_of_the_table_column_by_column(loaded):
    tasks = loaded("shanxi/shuozhou/2021.yaml").policy.tasks
    rows = shuozhou_rows()
    assert len(rows) == len(tasks) == 21
    for task, row in zip(tasks, rows):
        no, name, kind, items, scope, sampling, months, by, level = (cell.strip() for cell in row)
        assert task.no == int(no)
        assert task.name == name or (name == "" and task.name == task.items_text)
        assert task.type == kind
        assert task.items_text == items
        assert task.scope_text == scope
        assert sampling_text(task.sampling) == sampling
        assert f"{task.draw_months[0]}月-{task.draw_months[1]}月" == months
        if by:
            assert f"{task.initiator}组织发起/{task.guide}指导" == by
        else:
            assert task.initiator is None and task.guide is None
        assert task.inspecting_level == (level or None)


def test_shuozhou_sampling_column_in_order(loaded):
    tasks = loaded("shanxi/shuozhou/2021.yaml").policy.tasks
    assert [sampling_text(t.sampling) for t in tasks] == [
        "不低于5%", "不低于30%", "不低于5%", "100%", "不低于5%", "50%", "不低于30%", "50%", "50%", "不低于30%",
        "不低于3%", "不低于3%", "不低于30%", "不低于30%", "不低于5%", "不低于10%", "不低于1%", "不低于20%",
        "不低于5%，2次/年", "不低于1%，1次/年", "不低于1%，2次/年",
    ]
    exact = {t.no for t in tasks if not t.sampling.at_least}
    assert exact == {4, 6, 8, 9}


def test_shuozhou_deadlines_and_targets(loaded):
    policy = loaded("shanxi/shuozhou/2021.yaml").policy
    assert str(policy.deadlines["tasks_done"].on) == "2021-12-20"
    assert policy.deadlines["results_public"].working_days == 20
    assert pct(policy.targets["enterprise_coverage"].value) == "3%"
    assert policy.merge.window == "year"


def test_qinhuangdao_2023_campaign(loaded):
    policy = loaded("hebei/qinhuangdao/2023.yaml").policy
    seed = norm(seed_text("hebei/qinhuangdao/2023.yaml"))
    (campaign,) = policy.campaigns
    window = f"{cn_date(campaign.window.start)}至{campaign.window.end.month}月{campaign.window.end.day}日"
    assert window in seed
    assert f"总体不低于{pct(campaign.ratio)}" in seed
    assert campaign.coordination == "joint"
    assert all(t.campaign == campaign.id and t.sampling.ratio == campaign.ratio and t.sampling.at_least
               for t in policy.tasks)
    assert set(policy.risk.tiers) == {"A", "B", "C", "D"}
    assert policy.documents[0].letter and policy.documents[0].kind == "campaign_notice"


def test_qinhuangdao_2024_targets_and_special_check(loaded):
    policy = loaded("hebei/qinhuangdao/2024.yaml").policy
    seed = norm(seed_text("hebei/qinhuangdao/2024.yaml"))
    assert {m: pct(t.value) for m, t in policy.targets.items()} == {
        "risk_based_share": "85%", "enterprise_coverage": "3%", "on_time_publication": "100%", "follow_up": "100%"}
    assert str(policy.deadlines["plan_published"].on) == "2024-01-31"
    assert {p.kind for p in policy.team.pools} == {"专家", "第三方机构"}
    (task,) = policy.tasks
    assert task.name in seed
    special = next(c for c in policy.campaigns if c.id == task.campaign)
    assert (special.window.start.month, special.window.end.month) == (7, 8) and "7-8月" in seed


def test_qingdao_two_tasks_and_their_chain_of_deadlines(loaded):
    lp = loaded("shandong/qingdao/2020.yaml")
    policy = lp.policy
    seed = norm(seed_text("shandong/qingdao/2020.yaml"))
    assert [(t.scope_text, sampling_text(t.sampling)) for t in policy.tasks] == [
        ("全市在营工业产品生产许可证获证企业", "20%"), ("全市在营食品相关产品企业", "20%")]
    for t in policy.tasks:
        assert f"{t.scope_text}，抽查比例为{sampling_text(t.sampling)}" in seed
    (campaign,) = policy.campaigns
    assert f"从{cn_date(campaign.window.start)}开始至{cn_date(campaign.window.end)}结束" in seed
    d = policy.deadlines
    assert (d["list_fetched"].working_days, d["list_fetched"].after) == (5, "scheme_received")
    assert (d["inspectors_matched"].working_days, d["inspectors_matched"].after) == (5, "list_fetched")
    assert str(d["tasks_done"].on) == "2020-11-15" and str(d["results_entered"].on) == "2020-11-30"
    assert policy.team.no_change_without_approval
    assert lp.visit_items(["t01", "t02"]) == ["SD20-01", "SD20-02"]


def test_longwan_rules(loaded):
    policy = loaded("zhejiang/wenzhou/longwan/2023.yaml").policy
    assert policy.documents[0].number is None
    assert policy.deadlines["task_issue"].monthly.day == 5
    assert policy.deadlines["task_issue"].monthly.holiday == "postpone"
    assert str(policy.targets_due) == "2023-10-31"
    assert {m: pct(t.value) for m, t in policy.targets.items()} == {
        "enterprise_coverage": "3%", "item_coverage": "100%", "double_random_share": "40%",
        "risk_classification_use": "100%", "joint_share": "30%", "mobile_enforcement": "100%",
        "plan_publication": "100%", "follow_up": "100%"}
    (cap,) = policy.caps
    assert cap.max_per_year == 2
    assert {p.lead for p in policy.merge.pairings} == {"食药检验所", "特种设备科"}
    # The tasks are illustrative (attachment 3 is not in the seed) and say so in their names.
    assert all(t.name.endswith("（示例）") for t in policy.tasks)


# ---------------------------------------------------------------------------------------------
# Mistakes in a copy of a real seed policy


def _broken_copy(tmp_path, edits):
    import shutil

    from spotcheck.resources import POLICIES

    root = tmp_path / "policies"
    shutil.copytree(POLICIES, root)
    shutil.copytree(POLICIES.parent / "validators", tmp_path / "validators")
    path = root / "shanxi/shuozhou/2021.yaml"
    lines = path.read_text("utf-8").splitlines(keepends=True)
    for number, old, new in edits:
        assert old in lines[number - 1], (number, old)
        lines[number - 1] = lines[number - 1].replace(old, new)
    path.write_text("".join(lines), "utf-8")
    return root, path


def _line_of(path, text):
    return next(i for i, line in enumerate(path.read_text("utf-8").splitlines(), 1) if text in line)


def test_three_mistakes_in_a_seed_copy_give_three_problems_on_their_lines(tmp_path):
    from spotcheck.resources import POLICIES
    from spotcheck.policy.validate import validate_paths

    src = POLICIES / "shanxi/shuozhou/2021.yaml"
    key_line = _line_of(src, 'scope_text: "本辖区内依法设置的法定计量检定机构')
    ratio_line = _line_of(src, 'sampling: {ratio: "30%", at_least: true}')
    item_line = _line_of(src, "items: [SX21-05]")
    root, path = _broken_copy(
        tmp_path,
        [(key_line, "scope_text:", "scope_txt:"), (ratio_line, '"30%"', '"150%"'), (item_line, "SX21-05", "SX21-99")],
    )
    problems = [p for p in validate_paths([root]) if p.file and p.file.endswith("shuozhou/2021.yaml")]
    assert sorted(p.line for p in problems) == sorted([key_line, ratio_line, item_line]), [p.format() for p in problems]
    by_line = {p.line: p for p in problems}
    assert "scope_text" in by_line[key_line].message  # did you mean
    assert "150%" in by_line[ratio_line].message
    assert "SX21-99" in by_line[item_line].message


def test_lowering_the_national_floor_names_both_files(tmp_path):
    from spotcheck.resources import POLICIES
    from spotcheck.policy.validate import validate_paths

    line = _line_of(POLICIES / "shanxi/shuozhou/2021.yaml", 'value: "3%"')
    root, _ = _broken_copy(tmp_path, [(line, '"3%"', '"2%"')])
    problems = [p for p in validate_paths([root]) if p.code == "P301"]
    assert len(problems) == 1
    text = problems[0].format()
    assert f"shuozhou/2021.yaml:{line}:" in text and "national/baseline.yaml:" in text
