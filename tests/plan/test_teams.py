import dataclasses
import datetime as dt
import gc
import weakref

import polars as pl
import polars_hash as plh
import pytest
from spotcheck.plan import costs
from spotcheck.plan import eligibility
from spotcheck.plan import flows
from spotcheck.draw import pipeline
from spotcheck.plan import reassignment
from spotcheck.directory import synth
from spotcheck.plan import teams
from spotcheck.plan import visits
from spotcheck.rules.fields import INSPECTOR_FIELDS
from spotcheck.policy.loader import load_policy
from spotcheck.resources import POLICIES

SHUOZHOU = POLICIES / "shanxi/shuozhou/2021.yaml"
QINGDAO = POLICIES / "shandong/qingdao/2020.yaml"
QINHUANGDAO = POLICIES / "hebei/qinhuangdao/2023.yaml"
KEY = "k" * 64
HOME = "青岛市市南区市场监督管理局"


def with_team(loaded, **changes):
    team = loaded.policy.team.model_copy(update=changes)
    return dataclasses.replace(loaded, policy=loaded.policy.model_copy(update={"team": team}))


@pytest.fixture(scope="module")
def qingdao():
    return load_policy(QINGDAO)


def person(iid, unit=HOME, *, status="在岗", expires=dt.date(2030, 1, 1), specialties=(), role="执法人员", cert="C"):
    return {
        "inspector_id": iid, "name": f"人员{iid}", "unit": unit, "district": "市南区", "status": status,
        "certificate": cert if role == "执法人员" else None, "certificate_expires": expires if role == "执法人员" else None,
        "specialties": list(specialties), "role": role, "grid": None,
    }


def directory(*people):
    schema = {name: (pl.Date if f.kind == "date" else pl.List(pl.String) if f.kind == "labels" else pl.String)
              for name, f in INSPECTOR_FIELDS.items()}
    return pl.DataFrame(list(people), schema=schema)


def visit_rows(*rows):
    """(visit_id, uscc, item_codes[, inspecting_unit, lead_unit, joint])"""
    out = []
    for vid, uscc, codes, *rest in rows:
        unit, lead, joint = (rest + [HOME, None, False][len(rest):])[:3] if rest else (HOME, None, False)
        out.append({"visit_id": vid, "uscc": uscc, "district": "市南区", "inspecting_unit": unit, "lead_unit": lead,
                    "joint": joint, "item_codes": list(codes), "inspect_by": dt.date(2020, 11, 15)})
    return pl.DataFrame(out, schema={"visit_id": pl.String, "uscc": pl.String, "district": pl.String,
                                     "inspecting_unit": pl.String, "lead_unit": pl.String, "joint": pl.Boolean,
                                     "item_codes": pl.List(pl.String), "inspect_by": pl.Date})


def recusal_frame(*pairs):
    return pl.DataFrame([{"inspector_id": i, "uscc": u, "reason": "亲属"} for i, u in pairs],
                        schema={"inspector_id": pl.String, "uscc": pl.String, "reason": pl.String})


def staff(loaded, v, people, recused=None, *, key=KEY, leads=None):
    return teams.staff(loaded, v, people, recused, key=key, previous_leads=leads or {})


def members(result, vid):
    return result.teams.filter(pl.col("visit_id") == vid)["inspector_id"].to_list()


def reason(result, vid):
    return result.outcome.filter(pl.col("visit_id") == vid)["reason"][0]


# ---------------------------------------------------------------------------------------------
# Rules of a team


def test_lead_is_never_the_entitys_last_lead(qingdao):
    people = directory(*(person(f"P{i}") for i in range(6)))
    v = visit_rows(*((f"V{i}", f"E{i}", ["SD20-03"]) for i in range(12)))
    first = staff(qingdao, v, people)
    leads = dict(first.teams.filter(pl.col("role") == "主查").join(v, on="visit_id").select("uscc", "inspector_id").iter_rows())
    again = staff(qingdao, v, people, leads=leads)
    for uscc, was in leads.items():
        vid = f"V{uscc[1:]}"
        lead = again.teams.filter((pl.col("visit_id") == vid) & (pl.col("role") == "主查"))["inspector_id"].to_list()
        assert lead and lead[0] != was
        # Rotation is about who leads: the same two-person team, the other member leading.
        assert sorted(members(again, vid)) == sorted(members(first, vid))


def test_one_person_team_excludes_the_last_lead(qingdao):
    loaded = with_team(qingdao, min_size=1)
    people = directory(person("P1"), person("P2"))
    v = visit_rows(("V1", "E1", ["SD20-03"]))
    chosen = members(staff(loaded, v, people), "V1")
    other = "P2" if chosen == ["P1"] else "P1"
    assert members(staff(loaded, v, people, leads={"E1": chosen[0]}), "V1") == [other]
    only = staff(loaded, v, directory(person("P1")), leads={"E1": "P1"})
    assert not only.outcome["staffed"][0] and reason(only, "V1") == "除上次检查的主查人外无其他符合条件的执法人员"


def test_joint_visit_may_take_the_lead_units_people(qingdao):
    people = directory(person("H1"), person("L1", unit="质量监管处"), person("L2", unit="质量监管处"))
    joint = staff(qingdao, visit_rows(("V1", "E1", ["SD20-03"], HOME, "质量监管处", True)), people)
    assert joint.outcome["staffed"][0] and len(members(joint, "V1")) == 2
    alone = staff(qingdao, visit_rows(("V1", "E1", ["SD20-03"], HOME, "质量监管处", False)), people)
    assert not alone.outcome["staffed"][0]
    assert reason(alone, "V1") == f"{HOME}在岗执法人员不足 2 人（仅 1 人）"
    assert alone.teams.height == 0


@pytest.mark.parametrize(
    ("people", "recused", "codes", "expected"),
    [
        ([person("P1"), person("P2", status="退休"), person("P3", status="调离")], [], ["SD20-03"],
         f"{HOME}在岗执法人员不足 2 人（仅 1 人）"),
        ([person("P1"), person("P2", expires=dt.date(2020, 11, 1))], [], ["SD20-03"],
         f"{HOME}执法证在 2020-11-15 仍有效的在岗执法人员不足 2 人（仅 1 人）"),
        ([person("P1"), person("P2", cert=None)], [], ["SD20-03"],
         f"{HOME}执法证在 2020-11-15 仍有效的在岗执法人员不足 2 人（仅 1 人）"),
        ([person("P1"), person("P2"), person("P3")], [("P2", "E1"), ("P3", "E1")], ["SD20-03"],
         "回避后人数不足（需 2 人，回避后仅 1 人）"),
        ([person("P1"), person("P2"), person("P3", specialties=["工业产品"], status="病休")], [], ["SD20-01"],
         "该单位无具备“工业产品”专业的在岗执法人员"),
        ([person("P1", specialties=["工业产品", "食品相关产品"]), person("P2"), person("P3")], [], ["SD20-01", "SD20-02"],
         "具备所需专业的执法人员人数不足，无法由不同人员分别承担各专业事项"),
    ],
)
def test_unstaffed_visit_gets_the_reason(qingdao, people, recused, codes, expected):
    result = staff(qingdao, visit_rows(("V1", "E1", codes)), directory(*people), recusal_frame(*recused))
    assert not result.outcome["staffed"][0]
    assert reason(result, "V1") == expected
    assert result.teams.height == 0


def test_visit_outside_every_district_gets_the_reason(qingdao):
    result = staff(qingdao, visit_rows(("V1", "E1", ["SD20-03"], None)), directory(person("P1"), person("P2")))
    assert reason(result, "V1") == "主体所在辖区“市南区”未在策略中指定负责检查的单位"


def test_workload_cap_reason_and_nobody_past_the_cap(qingdao):
    loaded = with_team(qingdao, max_visits_per_inspector=3)
    people = directory(*(person(f"P{i}") for i in range(4)))
    v = visit_rows(*((f"V{i}", f"E{i}", ["SD20-03"]) for i in range(8)))
    result = staff(loaded, v, people)
    assert result.outcome["staffed"].sum() == 6  # 4 people × 3 visits / 2 per team
    assert max(result.workload().values()) <= 3
    assert set(result.outcome.filter(~pl.col("staffed"))["reason"]) == {"符合条件的执法人员均已达到工作量上限（每人最多 3 户）"}


def test_default_cap_staffs_everything_the_specialists_can(qingdao):
    # Two 工业产品 holders must share every 工业产品 visit: the default cap grows to fit them.
    people = directory(person("S1", specialties=["工业产品"]), person("S2", specialties=["工业产品"]),
                       *(person(f"P{i}") for i in range(8)))
    v = visit_rows(*((f"V{i}", f"E{i}", ["SD20-01"]) for i in range(10)))
    result = staff(qingdao, v, people)
    assert result.outcome["staffed"].all()
    assert result.caps[HOME] == 5 + eligibility.DEFAULT_SLACK
    for vid in v["visit_id"]:
        assert {"S1", "S2"} & set(members(result, vid))


def test_specialist_items_take_a_pool_member():
    loaded = load_policy(QINHUANGDAO)
    unit = "秦皇岛市海港区市场监督管理局"
    v = visit_rows(("V1", "E1", ["HB23-02"], unit), ("V2", "E2", ["HB23-02"], unit))
    officers = [person(f"P{i}", unit=unit) for i in range(4)]
    result = staff(loaded, v, directory(*officers, person("X1", unit="某检测公司", role="第三方机构", specialties=["检验检测"]),
                                        person("X2", unit="某检测公司", role="专家", specialties=["计量"])))
    assert result.outcome["staffed"].all()
    roles = result.teams.filter(pl.col("visit_id") == "V1").sort("role")["role"].to_list()
    assert sorted(roles) == sorted(["主查", "组员", "第三方机构"])
    none = staff(loaded, v, directory(*officers, person("X2", unit="某检测公司", role="专家", specialties=["计量"])))
    assert reason(none, "V1") == "专家库、第三方机构库中无具备“检验检测”专业的在岗人员"


def test_each_unit_of_one_part_gets_the_default_cap_of_its_own_visits():
    """Visits needing a pool member put both units in one part: each unit's cap still comes from its own
    visits and people. Two of the busy unit's four officers hold certificates ended before the visits, so
    its cap is above the even share (8 visits a person, not 4); the quiet unit's is 1."""
    loaded = load_policy(QINHUANGDAO)
    busy, quiet = "秦皇岛市海港区市场监督管理局", "秦皇岛市山海关区市场监督管理局"
    v = visit_rows(*((f"B{i}", f"E{i}", ["HB23-02"], busy) for i in range(8)),
                   *((f"Q{i}", f"F{i}", ["HB23-02"], quiet) for i in range(2)))
    people = directory(*(person(f"P{i}", unit=busy, expires=dt.date(2019, 1, 1) if i < 2 else dt.date(2030, 1, 1))
                         for i in range(4)),
                       *(person(f"R{i}", unit=quiet) for i in range(8)),
                       *(person(f"X{i}", unit="某检测公司", role="第三方机构", specialties=["检验检测"]) for i in range(10)))
    result = staff(loaded, v, people)
    assert result.outcome["staffed"].all()
    assert result.caps[busy] == 8 + eligibility.DEFAULT_SLACK
    assert result.caps[quiet] == 1 + eligibility.DEFAULT_SLACK


def test_same_inputs_same_teams_other_key_other_teams(qingdao):
    people = directory(*(person(f"P{i}") for i in range(10)))
    v = visit_rows(*((f"V{i}", f"E{i}", ["SD20-03"]) for i in range(20)))
    a, b = staff(qingdao, v, people), staff(qingdao, v, people.reverse())
    assert teams.to_csv(a.teams) == teams.to_csv(b.teams)
    assert teams.to_csv(staff(qingdao, v, people, key="j" * 64).teams) != teams.to_csv(a.teams)


# ---------------------------------------------------------------------------------------------
# A synthetic city, every row re-checked against the directories


def recheck(loaded, frame, result, people, recused, leads):
    """Every rule of a team, checked row by row from the directories; returns the violations."""
    by_id = {r["inspector_id"]: r for r in people.to_dicts()}
    units = set(people["unit"].drop_nulls())
    recusals = set(recused.select("inspector_id", "uscc").iter_rows())
    kinds = eligibility.pool_kinds(loaded)
    load: dict[str, int] = {}
    bad = []
    outcome = dict(result.outcome.select("visit_id", "staffed").iter_rows())
    grouped = {vid: rows for (vid,), rows in result.teams.group_by("visit_id")}
    for visit in frame.to_dicts():
        rows = grouped.get(visit["visit_id"])
        needs = eligibility.needs_of(loaded, visit["item_codes"])
        if not outcome[visit["visit_id"]]:
            if rows is not None or not result.outcome.filter(pl.col("visit_id") == visit["visit_id"])["reason"][0]:
                bad.append(("unstaffed visit has members or no reason", visit["visit_id"]))
            continue
        officers, pool = [], []
        for row in rows.to_dicts():
            p = by_id[row["inspector_id"]]
            load[p["inspector_id"]] = load.get(p["inspector_id"], 0) + 1
            if p["status"] != "在岗":
                bad.append(("not in post", row))
            if (p["inspector_id"], visit["uscc"]) in recusals:
                bad.append(("recused", row))
            if row["name"] != p["name"] or row["unit"] != p["unit"]:
                bad.append(("copied wrong", row))
            if row["role"] in ("主查", "组员"):
                officers.append(p)
                if p["role"] != "执法人员" or p["certificate"] is None:
                    bad.append(("not an officer", row))
                elif p["certificate_expires"] is not None and p["certificate_expires"] < visit["inspect_by"]:
                    bad.append(("certificate expired", row))
                if p["unit"] not in eligibility.allowed_units(visit, units):
                    bad.append(("outside the unit", row))
                if row["role"] == "主查" and leads.get(visit["uscc"]) == p["inspector_id"]:
                    bad.append(("same lead as last time", row))
            else:
                pool.append(p)
                if p["role"] != row["role"] or p["role"] not in kinds:
                    bad.append(("not from the pools", row))
        if len(officers) < needs.officers or sum(r["role"] == "主查" for r in rows.to_dicts()) != 1:
            bad.append(("team too small or lead missing", visit["visit_id"]))
        if eligibility.distinct_cover(needs.officer_specialties, officers, lambda p, s: s in p["specialties"]):
            bad.append(("specialty not covered", visit["visit_id"]))
        if eligibility.distinct_cover(needs.pool_specialties, pool, lambda p, s: eligibility.pool_ok(p, s, kinds)):
            bad.append(("specialist missing", visit["visit_id"]))
    for iid, n in load.items():
        if n > eligibility.cap_of(by_id[iid], result.caps):
            bad.append(("past the cap", iid, n))
    return bad


@pytest.fixture(scope="module")
def city():
    """Seed 002's city: 4,000 synthetic entities, 300 inspectors, every task drawing about 4%."""
    loaded = load_policy(SHUOZHOU)
    made = synth.synthesize(pipeline.spec_from_policy(loaded), 4000, 300, "city")
    parts = []
    for task in loaded.policy.tasks:
        rounds = task.sampling.times_per_year or 1
        first = task.draw_months[0] if task.draw_months else 1
        pick = made.entities.filter(
            plh.concat_str([pl.lit(task.id), pl.col("uscc")]).chash.sha2_256().str.slice(0, 2).str.to_integer(base=16) < 10
        )
        for r in range(1, rounds + 1):
            parts.append(pick.select(
                pl.lit(task.id).alias("task_id"), pl.lit(r, dtype=pl.Int64).alias("round"),
                pl.lit(first + 4 * (r - 1), dtype=pl.Int64).alias("month"), "uscc", "name", "district", "tier",
                pl.col("tier").alias("stratum"), pl.lit(1, dtype=pl.Int64).alias("rank"), pl.lit("").alias("hash"),
            ))
    frame = visits.build(loaded, pl.concat(parts), draw_id="city", drawn_on=dt.date(2021, 3, 5)).frame
    people = made.inspectors
    officers = people.filter((pl.col("role") == "执法人员") & (pl.col("status") == "在岗"))
    # Recusals aimed at drawn entities (one officer of the unit per visit), and last leads for others.
    aimed = frame.head(60).join(officers.select("inspector_id", pl.col("unit").alias("inspecting_unit")), on="inspecting_unit")
    extra = aimed.group_by("visit_id", maintain_order=True).first().select("inspector_id", "uscc", pl.lit("近亲属").alias("reason"))
    recused = pl.concat([made.recusals, extra]).unique(["inspector_id", "uscc"])
    led = frame.slice(60, 60).join(officers.select("inspector_id", pl.col("unit").alias("inspecting_unit")), on="inspecting_unit")
    leads = dict(led.group_by("uscc", maintain_order=True).first().select("uscc", "inspector_id").iter_rows())
    return loaded, frame, people, recused, leads


def test_synthetic_city_every_team_row_meets_every_rule(city):
    loaded, frame, people, recused, leads = city
    assert frame.height > 1000 and people.height == 300
    result = teams.staff(loaded, frame, people, recused, key=KEY, previous_leads=leads)
    assert result.outcome.height == frame.height
    assert recheck(loaded, frame, result, people, recused, leads) == []
    assert result.outcome["staffed"].sum() > frame.height * 0.9


def test_synthetic_city_lead_is_the_teams_first_officer_by_rotation_unit_and_cost(city):
    """Each team's 主查 is, of its officers, the one who did not lead the entity last time, then of the
    inspecting unit, then the cheapest (costs.pair_cost); the others are 组员."""
    loaded, frame, people, recused, leads = city
    result = teams.staff(loaded, frame, people, recused, key=KEY, previous_leads=leads)
    visit = {r["visit_id"]: r for r in frame.select("visit_id", "uscc", "inspecting_unit").to_dicts()}
    led = 0
    for (vid,), rows in result.teams.filter(pl.col("role").is_in(["主查", "组员"])).group_by("visit_id"):
        v = visit[vid]
        first = min(rows.to_dicts(), key=lambda r: (leads.get(v["uscc"]) == r["inspector_id"], r["unit"] != v["inspecting_unit"],
                                                    costs.pair_cost(KEY, vid, r["inspector_id"])))
        assert rows.filter(pl.col("role") == "主查")["inspector_id"].to_list() == [first["inspector_id"]], vid
        led += rows.height > 1 and leads.get(v["uscc"]) in rows["inspector_id"].to_list()
    assert led  # some team holds the entity's last lead, who then does not lead it


def test_synthetic_city_staffed_with_the_helper_process_gets_the_same_teams(city, monkeypatch):
    """The helper (spotcheck.plan.flows) starts from a city's size on: a small one made to start it
    gets the teams, outcomes and caps it gets without one."""
    loaded, frame, people, recused, leads = city
    alone = teams.staff(loaded, frame, people, recused, key=KEY, previous_leads=leads)
    started = []
    monkeypatch.setattr(flows, "HELPER_VISITS", 1)
    monkeypatch.setattr(flows.Helper, "send", lambda self, job, real=flows.Helper.send: started.append(job.kind) or real(self, job))
    helped = teams.staff(loaded, frame, people, recused, key=KEY, previous_leads=leads)
    assert started
    assert helped.teams.equals(alone.teams) and helped.outcome.equals(alone.outcome) and helped.caps == alone.caps


def test_synthetic_city_team_rows_are_made_with_the_sides_let_go(city, monkeypatch):
    """The team rows are sorted with only the chosen pairs held: at a province the sides' pairs, kept beside
    that sort, were gigabytes of the plan's peak."""
    loaded, frame, people, recused, leads = city
    sides, alive = [], []
    priced, plain, rows = teams.priced_matching, teams.matching, teams._team_rows

    def kept(made):
        def spy(*args):
            got = made(*args)
            sides.append(weakref.ref(got.side))
            return got
        return spy

    def team_rows(*args):
        gc.collect()
        alive.append([side() is not None for side in sides])
        return rows(*args)

    monkeypatch.setattr(teams, "priced_matching", kept(priced))
    monkeypatch.setattr(teams, "matching", kept(plain))
    monkeypatch.setattr(teams, "_team_rows", team_rows)
    result = teams.staff(loaded, frame, people, recused, key=KEY, previous_leads=leads)
    assert recheck(loaded, frame, result, people, recused, leads) == []
    assert alive and all(len(a) >= 2 and not any(a) for a in alive)


def test_synthetic_city_under_a_tight_cap(city):
    loaded, frame, people, recused, leads = city
    tight = with_team(loaded, max_visits_per_inspector=8)
    result = teams.staff(tight, frame, people, recused, key=KEY, previous_leads=leads)
    assert recheck(tight, frame, result, people, recused, leads) == []
    unstaffed = result.outcome.filter(~pl.col("staffed"))
    assert unstaffed.height > 0 and unstaffed["reason"].str.contains("工作量上限").any()


def test_recheck_catches_a_bad_row(city):
    loaded, frame, people, recused, leads = city
    result = teams.staff(loaded, frame, people, recused, key=KEY, previous_leads=leads)
    retired = people.filter(pl.col("status") == "退休").row(0, named=True)
    victim = result.teams.filter(pl.col("role") == "组员").row(0, named=True)
    broken = dataclasses.replace(result, teams=reassignment.swap(result.teams, victim["visit_id"], victim["inspector_id"], retired))
    assert ("not in post",) == recheck(loaded, frame, broken, people, recused, leads)[0][:1]


def test_the_officers_blocks_are_each_units_visits_and_officers_in_order(city, monkeypatch):
    """Per unit with serving officers, in the units' order: the visits it may join, sorted, and its officers;
    and each specialty place's specialty as its place among the year's specialties, sorted."""
    loaded, frame, people, recused, leads = city
    seen = {}
    real_side = teams._officer_side

    class Stop(Exception):
        pass

    def side(v, people_, *rest):
        seen["v"], seen["people"] = v, people_
        return real_side(v, people_, *rest)

    def priced(universe, general):
        seen["universe"] = universe
        raise Stop

    monkeypatch.setattr(teams, "_officer_side", side)
    monkeypatch.setattr(teams, "priced_matching", priced)
    with pytest.raises(Stop):
        teams.staff(loaded, frame, people, recused, key=KEY, previous_leads=leads)
    v, universe = seen["v"], seen["universe"]
    units = eligibility.visit_units(v, frozenset(seen["people"]["unit"].drop_nulls().to_list()))
    officers = eligibility.serving_officers(seen["people"])
    want = [(sorted(units.filter(pl.col("unit") == unit)["v"].to_list()), sorted(officers.filter(pl.col("unit") == unit)["p"].to_list()))
            for unit in sorted(set(units["unit"].to_list()) & set(officers["unit"].to_list()))]
    assert len(want) > 1
    assert [(bv.tolist(), bp.tolist()) for bv, bp in universe.blocks] == want
    places = v.select(pl.col("_off_specs").alias("spec")).explode("spec").drop_nulls()["spec"].to_list()
    specs = sorted(set(places))
    assert len(specs) > 1 and universe.slot_spec.tolist() == [specs.index(s) for s in places]


def test_parts_join_a_joint_visits_units_and_every_visit_needing_the_pools():
    rows = [("A", False, [], []), ("B", False, [], []), ("C", True, ["A"], []), ("D", False, [], ["x"]),
            ("E", False, [], ["y"]), (None, False, [], []), ("B", False, [], []), ("F", False, [], [])]
    v = pl.DataFrame(
        [{"v": k, "inspecting_unit": unit, "lead_unit": None, "units": [], "joint": joint, "department_units": partners,
          "_pool_specs": pools} for k, (unit, joint, partners, pools) in enumerate(rows)],
        schema={"v": pl.UInt32, "inspecting_unit": pl.String, "lead_unit": pl.String, "units": pl.List(pl.String),
                "joint": pl.Boolean, "department_units": pl.List(pl.String), "_pool_specs": pl.List(pl.String)})
    group = teams._unit_groups(v, pl.DataFrame({"unit": ["A", "B", "C", "D", "E", "F"]})).to_list()
    parts = {frozenset(k for k, g in enumerate(group) if g == label) for label in group}
    assert parts == {frozenset({0, 2}), frozenset({1, 6}), frozenset({3, 4}), frozenset({5}), frozenset({7})}


@pytest.mark.parametrize("cap", [None, 12])
def test_staffing_unit_by_unit_equals_one_solve_of_the_year(city, monkeypatch, cap):
    loaded, frame, people, recused, leads = city
    if cap is not None:
        loaded = with_team(loaded, max_visits_per_inspector=cap)
    groups = teams._unit_groups(frame.with_row_index("v").with_columns(pl.lit([], dtype=pl.List(pl.String)).alias("_pool_specs")), people)
    assert groups.n_unique() == len(loaded.policy.jurisdiction.districts)  # each district bureau a part of its own
    parted = teams.staff(loaded, frame, people, recused, key=KEY, previous_leads=leads)
    monkeypatch.setattr(teams, "_unit_groups", lambda v, p: pl.Series("group", [""] * v.height))
    whole = teams.staff(loaded, frame, people, recused, key=KEY, previous_leads=leads)
    assert parted.teams.equals(whole.teams)
    assert parted.outcome.equals(whole.outcome)
    assert parted.caps == whole.caps
    if cap is not None:
        assert 0 < parted.outcome.filter(~pl.col("staffed")).height  # the cap leaves some visits to give way


def test_default_cap_counts_the_places_a_partner_department_fills():
    # Changzhi row 1: the 烟草 unit inspects, each joint team also needs one 邮政 officer. The two 邮政
    # officers have no visits of their own; their default cap must still cover all twelve joint visits.
    loaded = load_policy(POLICIES / "shanxi/changzhi/2024.yaml")
    tobacco, post = "长治市烟草专卖局", "长治市邮政管理局"
    people = directory(*(dict(person(f"Y{i}", tobacco), department="烟草") for i in range(6)),
                       *(dict(person(f"Z{i}", post), department="邮政") for i in range(2)))
    v = visit_rows(*((f"V{i:02}", f"E{i}", ["CZ24-01"], tobacco, tobacco, True) for i in range(12))).with_columns(
        pl.lit(["烟草", "邮政"]).alias("departments"), pl.lit([tobacco, post]).alias("department_units"))
    result = staff(loaded, v, people)
    assert result.outcome["staffed"].all()
    assert result.caps[post] == 6 + eligibility.DEFAULT_SLACK
    for vid in v["visit_id"]:
        assert {"Z0", "Z1"} & set(members(result, vid))


def test_a_draw_that_took_nobody_gets_an_empty_plan(qingdao):
    result = staff(qingdao, visit_rows(), directory(person("P1"), person("P2")))
    assert result.teams.height == 0 and result.outcome.height == 0
    assert list(result.teams.columns) == list(teams.TEAM_COLUMNS) and result.summary()["staffed"] == 0
