"""The draw stage: exact quotas, keyed-hash ranking, coordination, caps."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections import Counter
from fractions import Fraction

import polars as pl
import pytest
from conftest import LONGWAN, SHUOZHOU
from spotcheck.draw import compute as draw
from spotcheck.draw.history import HISTORY_COLUMNS
from spotcheck.draw.commitment import drill_seed
from spotcheck.directory.load import load_entities
from spotcheck.draw.folder import content_bytes
from spotcheck.policy.loader import load_policy
from spotcheck.policy.model import task_ratio

ON = dt.date(2021, 4, 1)
EMPTY = pl.DataFrame(schema=HISTORY_COLUMNS)


@pytest.fixture(scope="module")
def shuozhou(shuozhou_dirs):
    return load_policy(SHUOZHOU), load_entities(shuozhou_dirs / "entities.csv")


def test_same_seed_same_bytes_other_seed_other_draw(shuozhou):
    loaded, entities = shuozhou
    a = draw.compute(loaded, entities, EMPTY, drill_seed("x"), ON)
    b = draw.compute(loaded, entities, EMPTY, drill_seed("x"), ON)
    c = draw.compute(loaded, entities, EMPTY, drill_seed("y"), ON)
    def contents(r):
        return {name: content_bytes(c) for name, c in r.files.items()}

    assert contents(a) == contents(b)
    assert contents(a)["draws.csv"] != contents(c)["draws.csv"]
    # Different seeds, same quotas: the plan fixes the counts, the seed only who.
    assert a.drawn.group_by("task_id").len().sort("task_id").equals(c.drawn.group_by("task_id").len().sort("task_id"))


def test_tier_strata_draw_ceil_of_ratio_times_eligible(shuozhou):
    loaded, entities = shuozhou
    result = draw.compute(loaded, entities, EMPTY, drill_seed("q"), ON)
    drawn = Counter((r["task_id"], r["round"], r["stratum"]) for r in result.drawn.iter_rows(named=True))
    eligible = Counter((r["task_id"], r["stratum"]) for r in result.eligible.iter_rows(named=True))
    checked = 0
    for task in loaded.policy.tasks:
        if task.sampling.ratio is None:
            continue
        for (tid, stratum), n in eligible.items():
            if tid != task.id:
                continue
            tier = stratum.split("|")[0]
            r = task_ratio(task, loaded.policy, tier)
            want = min(n, max(1, math.ceil(r * n)))
            for rnd in range(1, (task.sampling.times_per_year or 1) + 1):
                assert drawn[(tid, rnd, stratum)] == want, (tid, stratum)
                checked += 1
    assert checked > 50


def test_rank_hash_is_recomputable_with_hashlib(shuozhou):
    loaded, entities = shuozhou
    result = draw.compute(loaded, entities, EMPTY, drill_seed("h"), ON)
    row = result.drawn.row(0, named=True)
    task = next(t for t in result.transcript.tasks if t.task_id == row["task_id"])
    unit = task.rounds[row["round"] - 1].unit.replace("{stratum}", row["stratum"])
    assert hashlib.sha256(f"{result.seed.key}|{unit}{row['uscc']}".encode()).hexdigest() == row["hash"]


def test_drawn_are_the_smallest_hashes_of_their_stratum(shuozhou):
    loaded, entities = shuozhou
    result = draw.compute(loaded, entities, EMPTY, drill_seed("s"), ON)
    t = result.transcript.tasks[0]
    d = result.drawn.filter(pl.col("task_id") == t.task_id)
    for stratum, rows in d.group_by("stratum"):
        pool = result.eligible.filter((pl.col("task_id") == t.task_id) & (pl.col("stratum") == stratum[0]))["uscc"]
        unit = t.rounds[0].unit.replace("{stratum}", stratum[0])
        hashes = sorted(hashlib.sha256(f"{result.seed.key}|{unit}{u}".encode()).hexdigest() for u in pool)
        assert sorted(rows["hash"]) == hashes[: rows.height]


def test_joint_coordination_draws_fewer_entities_with_the_same_counts(shuozhou):
    loaded, entities = shuozhou
    joint = draw.compute(loaded, entities, EMPTY, drill_seed("c"), ON, coordination_override="joint")
    indep = draw.compute(loaded, entities, EMPTY, drill_seed("c"), ON, coordination_override="independent")
    counts = lambda r: r.drawn.group_by(["task_id", "round", "stratum"]).len().sort(["task_id", "round", "stratum"])  # noqa: E731
    assert counts(joint).equals(counts(indep))
    assert joint.drawn["uscc"].n_unique() < indep.drawn["uscc"].n_unique()
    assert joint.summary.coordination.distinct_entities["joint"] == joint.drawn["uscc"].n_unique()
    assert joint.summary.coordination.distinct_entities["independent"] == indep.drawn["uscc"].n_unique()


def test_inclusion_frequency_matches_stratum_probability(shuozhou):
    """Over 400 seeds each entity of a stratum is drawn about n/N of the time.

    Bound: for each entity the count is Binomial(400, p); we check every entity lies within
    p·400 ± 5·sqrt(400·p·(1-p)) (a 5-sigma band, false alarm < 1e-4 over the stratum), and that the
    mean over the stratum equals p exactly (the draw takes exactly n every time).
    """
    loaded, entities = shuozhou
    task = loaded.policy.tasks[0]
    first = draw.compute(loaded, entities, EMPTY, drill_seed("p0"), ON)
    stratum = first.eligible.filter(pl.col("task_id") == task.id)["stratum"].mode().sort()[0]
    pool = first.eligible.filter((pl.col("task_id") == task.id) & (pl.col("stratum") == stratum))["uscc"].to_list()
    n_take = first.drawn.filter((pl.col("task_id") == task.id) & (pl.col("stratum") == stratum)).height
    key_unit = first.transcript.tasks[0].rounds[0].unit.replace("{stratum}", stratum)
    runs = 400
    hits: Counter[str] = Counter()
    for s in range(runs):
        key = drill_seed(f"p{s}").key
        ranked = sorted(pool, key=lambda u: hashlib.sha256(f"{key}|{key_unit}{u}".encode()).hexdigest())
        hits.update(ranked[:n_take])
    # The engine's own draw for one seed agrees with this recomputation.
    assert sorted(ranked[:n_take]) == sorted(
        draw.compute(loaded, entities, EMPTY, drill_seed(f"p{runs - 1}"), ON)
        .drawn.filter((pl.col("task_id") == task.id) & (pl.col("stratum") == stratum))["uscc"]
    )
    p = Fraction(n_take, len(pool))
    expected = float(p) * runs
    sigma = math.sqrt(runs * float(p) * (1 - float(p)))
    assert sum(hits.values()) == n_take * runs
    assert all(abs(hits[u] - expected) <= 5 * sigma for u in pool)
    assert len(pool) > 20 and 0 < p < 1


def test_unrelated_rows_do_not_change_a_stratum(shuozhou, tmp_path):
    loaded, entities = shuozhou
    before = draw.compute(loaded, entities, EMPTY, drill_seed("u"), ON)
    # Drop one entity that no task draws in that run: every stratum it was not in is unchanged.
    drawn = set(before.drawn["uscc"])
    frame = entities.frame
    victim = next(u for u in frame["uscc"] if u not in drawn)
    smaller = type(entities)(frame.filter(pl.col("uscc") != victim), entities.path, "x", entities.headers, entities.source_rows)
    after = draw.compute(loaded, smaller, EMPTY, drill_seed("u"), ON)
    victim_strata = set(before.eligible.filter(pl.col("uscc") == victim).select("task_id", "stratum").iter_rows())
    keep = lambda r: [x for x in r.drawn.select("task_id", "stratum", "uscc").iter_rows() if (x[0], x[1]) not in victim_strata]  # noqa: E731
    assert keep(before) == keep(after)


def test_frequency_cap_excludes_with_reason(longwan_dirs):
    loaded = load_policy(LONGWAN)
    entities = load_entities(longwan_dirs / "entities.csv")
    low_risk = (pl.col("tier") == "A") & (pl.col("type") == "企业")
    tier_a = entities.frame.filter(low_risk)["uscc"].to_list()
    # Two earlier checks this year for every low-risk enterprise: the Longwan cap (2 a year) is reached.
    history = pl.DataFrame(
        [{"uscc": u, "visit_id": f"v{k}-{u}", "task_id": "old", "item_codes": ""} for u in tier_a for k in (1, 2)],
        schema=HISTORY_COLUMNS,
    )
    result = draw.compute(loaded, entities, history, drill_seed("cap"), dt.date(2023, 3, 1))
    assert result.drawn.filter(low_risk).height == 0
    assert result.exclusions.height > 0
    assert set(result.exclusions["uscc"]) <= set(tier_a)
    assert set(result.exclusions["cap_id"]) == {"low-risk"}
    assert sum(sum(t.excluded_by_cap.values()) for t in result.summary.tasks) == result.exclusions.height
    free = draw.compute(loaded, entities, EMPTY, drill_seed("cap"), dt.date(2023, 3, 1))
    assert free.drawn.filter(low_risk).height > 0


def test_a_scope_relative_to_the_draw_is_read_on_the_draws_day(tmp_path):
    # “对成立不满1年的新设立企业全部抽查”: who is new depends on the day of the draw, and verify recomputes it so.
    from spotcheck.directory import uscc
    from spotcheck.directory.kinds import load_for
    from spotcheck.policy.cases import run_tests
    from spotcheck.resources import POLICIES

    (tmp_path / "2024.yaml").write_text(f"""\
id: test/new/2024
extends: {POLICIES / "national" / "baseline.yaml"}
jurisdiction: {{code: "140400", name: 长治市市场监督管理局, region: 长治市, level: city}}
year: 2024
tasks:
  - id: t01
    name: 新设立企业抽查
    type: 定向
    items: []
    scope: {{field: established, op: gt, value: 抽取日前1年}}
    scope_text: 成立不满1年的新设立企业
    sampling: {{ratio: "100%", at_least: false, stratify: []}}
    draw_months: [3, 11]
""", encoding="utf-8")
    (tmp_path / "2024.cases.yaml").write_text("""\
policy: 2024.yaml
cases:
  - name: 6月抽取时成立不满1年
    drawn_on: "2024-06-01"
    entity: {uscc: 91140400MA0000000X, type: 企业, status: 存续, district: "140400", tier: A, established: "2023-07-01"}
    expect: {in_scope: [t01]}
  - name: 9月抽取时已满1年
    drawn_on: "2024-09-01"
    entity: {uscc: 91140400MA0000000X, type: 企业, status: 存续, district: "140400", tier: A, established: "2023-07-01"}
    expect: {not_in_scope: [t01]}
""", encoding="utf-8")
    run = run_tests([tmp_path])
    assert run.ok and run.passed == 2
    born = ["2023-07-01", "2024-01-15", "2020-05-05"]
    codes = [uscc.make(f"n{i}", "企业", "140400") for i in range(3)]
    rows = "".join(f"{c},单位{i},企业,存续,140400,A,{d}\n" for i, (c, d) in enumerate(zip(codes, born)))
    (tmp_path / "e.csv").write_text("统一社会信用代码,企业名称,主体类型,登记状态,所属辖区,信用风险等级,成立日期\n" + rows, encoding="utf-8")
    loaded = load_policy(tmp_path / "2024.yaml")
    entities = load_for(loaded.policy, tmp_path / "e.csv")
    history = pl.DataFrame(schema=HISTORY_COLUMNS)
    june = draw.compute(loaded, entities, history, drill_seed("k"), dt.date(2024, 6, 1))
    september = draw.compute(loaded, entities, history, drill_seed("k"), dt.date(2024, 9, 1))
    assert sorted(june.drawn["uscc"]) == sorted(codes[:2]) and list(september.drawn["uscc"]) == [codes[1]]


def test_without_campaigns_the_other_modes_count_is_this_draws_own(longwan_dirs, monkeypatch):
    # Longwan's tasks are in no campaign, so both modes rank each task by its own unit: the summary states
    # this draw's count for the other mode without ranking every eligible pair again, and it is the count
    # the full ranking gives.
    loaded, entities = load_policy(LONGWAN), load_entities(longwan_dirs / "entities.csv")
    short = draw.compute(loaded, entities, EMPTY, drill_seed("alike"), ON)
    assert short.summary.coordination.distinct_entities == {"independent": short.drawn["uscc"].n_unique(), "joint": short.drawn["uscc"].n_unique()}
    monkeypatch.setattr(draw, "_ranked_alike", lambda plans: False)
    full = draw.compute(loaded, entities, EMPTY, drill_seed("alike"), ON)
    assert content_bytes(full.files["summary.json"]) == content_bytes(short.files["summary.json"])


def test_a_campaign_task_is_ranked_again_for_the_other_mode(shuozhou, monkeypatch):
    loaded, entities = shuozhou
    counted = []
    real = draw.Ranking.distinct
    monkeypatch.setattr(draw.Ranking, "distinct", lambda self, *a: counted.append(1) or real(self, *a))
    result = draw.compute(loaded, entities, EMPTY, drill_seed("alike"), ON)
    assert counted == [1]
    assert result.summary.coordination.distinct_entities["independent"] > result.drawn["uscc"].n_unique()
