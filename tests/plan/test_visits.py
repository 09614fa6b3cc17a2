import dataclasses
import datetime as dt
import hashlib

import polars as pl
import pytest
from spotcheck.rules import engine as rules
from spotcheck.plan import visits
from spotcheck.draw.transcript import csv_bytes
from spotcheck.calendar.deadlines import due
from spotcheck.errors import SpotcheckError
from spotcheck.policy.loader import load_policy
from spotcheck.resources import POLICIES

SHUOZHOU = POLICIES / "shanxi/shuozhou/2021.yaml"  # seed 002: 21 tasks, merge window "year"
QINGDAO = POLICIES / "shandong/qingdao/2020.yaml"  # seed 003: 2 tasks in one campaign
LONGWAN = POLICIES / "zhejiang/wenzhou/longwan/2023.yaml"  # seed 004: general items fused, month window


@pytest.fixture(scope="module")
def shuozhou():
    return load_policy(SHUOZHOU)


@pytest.fixture(scope="module")
def qingdao():
    return load_policy(QINGDAO)


@pytest.fixture(scope="module")
def longwan():
    return load_policy(LONGWAN)


def draws(*rows):
    """Rows (task_id, round, month, uscc, district[, tier]) as the draw stage writes draws.csv."""
    return pl.DataFrame(
        [
            {"task_id": t, "round": r, "month": m, "uscc": u, "name": f"主体{u}", "district": d,
             "tier": (rest[0] if rest else "A"), "stratum": "A", "rank": 1, "hash": "0"}
            for t, r, m, u, d, *rest in rows
        ],
        schema=visits.DRAWS_SCHEMA,
    )


def by_uscc(result, uscc):
    return result.frame.filter(pl.col("uscc") == uscc).to_dicts()


def test_entity_drawn_by_two_tasks_is_one_visit_with_both_tasks_items(shuozhou):
    drawn = draws(("t08", 1, 6, "E1", "朔城区"), ("t09", 1, 6, "E1", "朔城区"), ("t08", 1, 6, "E2", "朔城区"))
    result = visits.build(shuozhou, drawn, draw_id="d1", drawn_on=dt.date(2021, 3, 5))
    [e1] = by_uscc(result, "E1")
    assert e1["task_ids"] == ["t08", "t09"]
    assert set(shuozhou.task("t08").items) | set(shuozhou.task("t09").items) <= set(e1["item_codes"])
    [e2] = by_uscc(result, "E2")
    assert e2["task_ids"] == ["t08"] and e2["item_codes"] == shuozhou.task("t08").items
    assert result.summary()["saved_by_merging"] == 1
    assert result.summary()["task_entity_pairs"] == 3


def test_a_unit_the_plan_misspells_counts_as_the_declared_one(shuozhou):
    # Row 9's 指导单位 is printed "质量监管库"; the pairing with row 8 is led by 质量监管科: one unit, not two.
    assert shuozhou.task("t09").guide == "质量监管库"
    drawn = draws(("t08", 1, 6, "E1", "朔城区"), ("t09", 1, 6, "E1", "朔城区"), ("t09", 1, 6, "E2", "朔城区"))
    result = visits.build(shuozhou, drawn, draw_id="d1", drawn_on=dt.date(2021, 3, 5))
    [e1], [e2] = by_uscc(result, "E1"), by_uscc(result, "E2")
    assert e1["units"] == ["质量监管科"] and e2["units"] == ["质量监管科"]


def test_seed_003_entity_in_both_tasks_gets_every_item(qingdao):
    drawn = draws(("t01", 1, 10, "E1", "370202"), ("t02", 1, 10, "E1", "370202"))
    [visit] = visits.build(qingdao, drawn, draw_id="d", drawn_on=dt.date(2020, 10, 23)).frame.to_dicts()
    assert visit["item_codes"] == qingdao.task("t01").items + qingdao.task("t02").items


def test_seed_004_every_visit_carries_the_general_items(longwan):
    general = [c for c, item in longwan.items.items() if item.general]
    assert general
    drawn = draws(
        ("t01", 1, 3, "E1", "永中街道"), ("t04", 1, 3, "E2", "永兴街道"), ("t06", 1, 4, "E3", "海滨街道"),
        ("t01", 1, 5, "E4", "海滨街道"), ("t02", 1, 5, "E4", "海滨街道"),
    )
    frame = visits.build(longwan, drawn, draw_id="d", drawn_on=dt.date(2023, 2, 24)).frame
    assert frame.height == 4
    for codes in frame["item_codes"].to_list():
        assert set(general) <= set(codes)


def test_without_fusing_the_general_items_stay_out(longwan):
    policy = longwan.policy.model_copy(update={"merge": longwan.policy.merge.model_copy(update={"fuse_general_items": False})})
    plain = dataclasses.replace(longwan, policy=policy)
    [visit] = visits.build(plain, draws(("t01", 1, 3, "E1", "永中街道")), draw_id="d", drawn_on=dt.date(2023, 2, 24)).frame.to_dicts()
    assert visit["item_codes"] == longwan.task("t01").items


def test_pairing_rule_names_the_lead_and_offices_of_one_bureau_are_not_cross_department(longwan):
    drawn = draws(
        ("t01", 1, 3, "E1", "永中街道"), ("t02", 1, 3, "E1", "永中街道"), ("t03", 1, 3, "E1", "永中街道"),
        ("t01", 1, 3, "E2", "永中街道"), ("t02", 1, 3, "E2", "永中街道"),
        ("t04", 1, 3, "E3", "永中街道"), ("t05", 1, 3, "E3", "永中街道"),
        ("t05", 1, 3, "E4", "永中街道"),
    )
    result = visits.build(longwan, drawn, draw_id="d", drawn_on=dt.date(2023, 2, 24))
    e1, e2, e3, e4 = (by_uscc(result, u)[0] for u in ("E1", "E2", "E3", "E4"))
    # Several 科室 of one bureau take part: merged, but not 跨部门联合 (the joint-share KPI counts departments).
    assert e1["lead_unit"] == "食药检验所" and not e1["joint"]
    assert set(e1["units"]) == {"食药检验所", "食品生产流通科", "餐饮科"}
    # No pairing covers t01+t02 alone: the first task's own lead unit leads.
    assert e2["lead_unit"] == "食品生产流通科" and e2["units"] == ["食品生产流通科", "餐饮科"] and not e2["joint"]
    assert e3["lead_unit"] == "特种设备科" and len(e3["units"]) == 2 and not e3["joint"]
    assert e4["lead_unit"] == "市场合同科" and e4["units"] == ["市场合同科"] and not e4["joint"]


def test_pairings_are_evaluated_once_per_class_not_per_visit(longwan):
    rows = [("t04", 1, 3, f"E{i}", "永中街道") for i in range(40)] + [("t05", 1, 3, f"E{i}", "永中街道") for i in range(20)]
    before = rules.STATS.facts
    result = visits.build(longwan, draws(*rows), draw_id="d", drawn_on=dt.date(2023, 2, 24))
    assert result.frame.height == 40
    # Two classes of visit (t04 alone, t04+t05), whatever the number of visits.
    assert 0 < rules.STATS.facts - before <= 2


def test_month_window_merges_within_a_month_only(longwan):
    drawn = draws(("t01", 1, 3, "E1", "永中街道"), ("t02", 1, 3, "E1", "永中街道"), ("t04", 1, 4, "E1", "永中街道"))
    frame = visits.build(longwan, drawn, draw_id="d", drawn_on=dt.date(2023, 2, 24)).frame.sort("month")
    assert frame["task_ids"].to_list() == [["t01", "t02"], ["t04"]]
    assert frame["window"].to_list() == ["month:2023-03", "month:2023-04"]


def test_year_window_keeps_a_second_round_as_its_own_visit(shuozhou):
    drawn = draws(("t19", 1, 4, "E1", "朔城区"), ("t19", 2, 8, "E1", "朔城区"), ("t20", 1, 4, "E1", "朔城区"))
    frame = visits.build(shuozhou, drawn, draw_id="d", drawn_on=dt.date(2021, 3, 5)).frame.sort("window")
    assert frame["task_ids"].to_list() == [["t19", "t20"], ["t19"]]
    assert frame["window"].to_list() == ["year:2021|round:1", "year:2021|round:2"]


def test_month_window_keeps_two_rounds_of_one_task_in_one_month_apart(longwan):
    drawn = draws(("t01", 1, 3, "E1", "永中街道"), ("t01", 2, 3, "E1", "永中街道"))
    frame = visits.build(longwan, drawn, draw_id="d", drawn_on=dt.date(2023, 2, 24)).frame.sort("window")
    assert frame["window"].to_list() == ["month:2023-03", "month:2023-03|2"]


def test_one_plus_x_items_join_the_lead_item(shuozhou):
    [visit] = visits.build(shuozhou, draws(("t12", 1, 4, "E1", "朔城区")), draw_id="d", drawn_on=dt.date(2021, 3, 5)).frame.to_dicts()
    rule = shuozhou.policy.merge.one_plus_x[0]
    assert rule.lead_item in visit["item_codes"] and set(rule.x_items) <= set(visit["item_codes"])


def test_visit_id_is_a_hash_of_draw_window_and_entity(qingdao):
    [visit] = visits.build(qingdao, draws(("t01", 1, 10, "E1", "370202")), draw_id="abc", drawn_on=dt.date(2020, 10, 23)).frame.to_dicts()
    expected = "V" + hashlib.sha256(f"abc|{visit['window']}|E1".encode()).hexdigest()[:16]
    assert visit["visit_id"] == expected == visits.visit_id("abc", visit["window"], "E1")
    [other] = visits.build(qingdao, draws(("t01", 1, 10, "E1", "370202")), draw_id="abd", drawn_on=dt.date(2020, 10, 23)).frame.to_dicts()
    assert other["visit_id"] != visit["visit_id"]


def test_inspecting_unit_from_district_code_or_name(qingdao):
    frame = visits.build(
        qingdao, draws(("t01", 1, 10, "E1", "370202"), ("t01", 1, 10, "E2", "市北区"), ("t01", 1, 10, "E3", "外地")),
        draw_id="d", drawn_on=dt.date(2020, 10, 23),
    ).frame.sort("uscc")
    assert frame["inspecting_unit"].to_list() == ["青岛市市南区市场监督管理局", "青岛市市北区市场监督管理局", None]


def test_seed_003_deadlines(qingdao):
    [visit] = visits.build(qingdao, draws(("t01", 1, 10, "E1", "370202")), draw_id="d", drawn_on=dt.date(2020, 10, 23)).frame.to_dicts()
    cal = qingdao.calendar
    assert visit["list_fetched_by"] == cal.add_working_days(dt.date(2020, 10, 23), 5) == dt.date(2020, 10, 30)
    assert visit["inspectors_matched_by"] == cal.add_working_days(visit["list_fetched_by"], 5)
    # The campaign window ends 11-30 but every task must be done by 11-15.
    assert visit["inspect_by"] == dt.date(2020, 11, 15)
    assert visit["results_due_by"] == cal.add_working_days(dt.date(2020, 11, 15), 20)
    assert visit["issue_by"] is None


def test_month_window_deadlines_and_monthly_issue_date(longwan):
    [visit] = visits.build(longwan, draws(("t01", 1, 4, "E1", "永中街道")), draw_id="d", drawn_on=dt.date(2023, 2, 24)).frame.to_dicts()
    assert visit["inspect_by"] == dt.date(2023, 4, 30)
    assert visit["results_due_by"] == longwan.calendar.add_working_days(dt.date(2023, 4, 30), 20)
    rule = longwan.policy.deadlines["task_issue"]
    assert visit["issue_by"] == due(rule, dt.date(2023, 4, 1), longwan.calendar)
    assert visit["list_fetched_by"] is None


def test_tasks_done_bounds_the_inspection(shuozhou):
    [visit] = visits.build(shuozhou, draws(("t18", 1, 2, "E1", "朔城区")), draw_id="d", drawn_on=dt.date(2021, 3, 5)).frame.to_dicts()
    assert visit["inspect_by"] == shuozhou.policy.deadlines["tasks_done"].on == dt.date(2021, 12, 20)


def test_a_year_the_calendar_does_not_know_is_an_error(qingdao):
    with pytest.raises(SpotcheckError) as exc_info:
        visits.build(qingdao, draws(("t01", 1, 10, "E1", "370202")), draw_id="d", drawn_on=dt.date(2031, 10, 23))
    assert [p.code for p in exc_info.value.problems] == ["C301"]


def test_visits_csv_joins_lists_and_keeps_columns(qingdao):
    result = visits.build(qingdao, draws(("t01", 1, 10, "E1", "370202"), ("t02", 1, 10, "E1", "370202")), draw_id="d",
                          drawn_on=dt.date(2020, 10, 23))
    frame = result.frame.with_columns(pl.lit(True).alias("staffed"), pl.lit(None, dtype=pl.String).alias("reason"))
    text = csv_bytes(visits.csv_frame(frame)).decode()
    header, row = text.splitlines()
    assert header.split(",") == list(visits.CSV_COLUMNS)
    assert ",t01|t02," in row and "SD20-01|SD20-02" in row


@pytest.mark.parametrize("width", [18, 6, 19])
def test_visits_are_in_the_order_of_window_district_code_and_check(shuozhou, width):
    # 18-byte codes (USCCs) are put in order through their bytes as integers, other codes through their
    # distinct values: either way the order is the strings' order. Codes share long prefixes and
    # differ in their last two bytes, where a wrong byte order would show.
    import random
    rng = random.Random(width)
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    stems = ["".join(rng.choice(alphabet) for _ in range(width - 2)) for _ in range(5)]
    codes = sorted({s + "".join(rng.choice(alphabet) for _ in range(2)) for s in stems for _ in range(8)}, key=lambda _: rng.random())
    tasks = ["t08", "t09", "t13", "t21"]
    rows = [(rng.choice(tasks), rng.choice([1, 2]), 6, code, rng.choice(["朔城区", "平鲁区", "山阴县"])) for code in codes for _ in range(3)]
    drawn = draws(*{(t, r, m, u, d): None for t, r, m, u, d in rows})
    drawn = drawn.with_columns(pl.col("district").first().over("uscc"))
    frame = visits.build(shuozhou, drawn, draw_id="d1", drawn_on=dt.date(2021, 3, 5)).frame
    assert frame.height > 40
    assert frame.select("window", "district", "uscc", "method").rows() == sorted(frame.select("window", "district", "uscc", "method").rows())
    order = {t.id: i for i, t in enumerate(shuozhou.policy.tasks)}
    assert all(ids == sorted(ids, key=order.__getitem__) for ids in frame["task_ids"].to_list())
    # Each entity's rows of one window make one visit with exactly their tasks: codes alike but for a byte, or
    # one code in two windows, stay apart (a task's second draw of an entity in a window is a window of its own).
    drawn_tasks, seen = {}, {}
    for t, r, u in drawn.select("task_id", "round", "uscc").rows():
        k = seen[t, r, u] = seen.get((t, r, u), 0) + 1
        drawn_tasks.setdefault((f"year:2021|round:{r}" + (f"|{k}" if k > 1 else ""), u), set()).add(t)
    made = {(w, u): ids for w, u, ids in frame.unique(["window", "uscc"], maintain_order=True).select("window", "uscc", "task_ids").rows()}
    assert {key: set(ids) for key, ids in made.items()} == drawn_tasks
    assert all(len(ids) == len(set(ids)) for ids in made.values())
