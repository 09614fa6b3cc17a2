from datetime import date

import polars as pl
import pytest
from spotcheck.directory import uscc
from spotcheck.directory.load import load_entities, load_inspectors, load_recusals
from spotcheck.errors import SpotcheckError
from spotcheck.directory.synth import synthesize, write
from spotcheck.directory.synth_spec import SynthSpec

AS_OF = date(2025, 3, 1)
SPEC = SynthSpec(
    region="350100",
    jurisdiction="福州市",
    city_unit="福州市市场监督管理局",
    districts=[
        ("350102", "鼓楼区", "福州市鼓楼区市场监督管理局"),
        ("350103", "台江区", "福州市台江区市场监督管理局"),
        ("350121", "闽侯县", "闽侯县市场监督管理局"),
    ],
    as_of=AS_OF,
    profiles=[
        {"type": "企业", "labels": ["加油站"], "status": "存续"},
        {"type": "个体工商户", "labels": ["食品经营", "小餐饮"], "tier": ["C", "D"]},
        {"industry": "住宿和餐饮业", "status": "在营"},
        {"type": "农民专业合作社", "district": "闽侯县"},
    ],
    labels=["食品经营", "特种设备使用", "药品零售", "医疗器械经营"],
    specialties=["食品安全", "特种设备", "计量", "药品", "广告"],
)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    result = synthesize(SPEC, entities=3000, inspectors=150, seed=7)
    write(result, out)
    return result, out


@pytest.fixture(scope="module")
def loaded(written):
    _, out = written
    return (
        load_entities(out / "entities.csv"),
        load_inspectors(out / "inspectors.csv"),
        load_recusals(out / "recusals.csv"),
    )


def test_output_loads_back_without_problems(written, loaded):
    result, out = written
    entities, inspectors, recusals = loaded
    assert len(entities) == 3000 and len(inspectors) == 150
    assert len(recusals) == result.recusals.height > 0
    assert recusals.unknown_references(entities, inspectors) == []
    assert sorted(p.name for p in out.iterdir()) == ["entities.csv", "inspectors.csv", "recusals.csv"]
    # What was written is what was synthesised.
    assert entities.frame.equals(result.entities)
    assert inspectors.frame.equals(result.inspectors)


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path, written):
    _, first = written
    again = tmp_path / "again"
    write(synthesize(SPEC, entities=3000, inspectors=150, seed=7), again)
    other = tmp_path / "other"
    write(synthesize(SPEC, entities=3000, inspectors=150, seed="8"), other)
    for name in ("entities.csv", "inspectors.csv", "recusals.csv"):
        assert (again / name).read_bytes() == (first / name).read_bytes()
        assert (other / name).read_bytes() != (first / name).read_bytes()


def _matches(frame: pl.DataFrame, profile: dict) -> pl.Expr:
    conds = []
    for name, value in profile.items():
        if name == "labels":
            conds += [pl.col("labels").list.contains(label) for label in value]
        elif name != "district":
            conds.append(pl.col(name).is_in(value if isinstance(value, list) else [value]))
    return pl.all_horizontal(conds)


def test_every_profile_in_every_district(loaded):
    frame = loaded[0].frame
    for profile in SPEC.profiles:
        districts = [profile["district"]] if "district" in profile else [d.name for d in SPEC.districts]
        for district in districts:
            hits = frame.filter(_matches(frame, profile) & (pl.col("district") == district))
            assert hits.height >= 1, (profile, district)


def test_entities_are_consistent(loaded):
    f = loaded[0].frame
    assert f["uscc"].n_unique() == f.height
    assert all(uscc.is_valid(c) for c in f["uscc"])
    prefix = f["uscc"].str.slice(0, 2).replace_strict({v: k for k, v in uscc.TYPE_PREFIX.items()})
    assert prefix.to_list() == f["type"].to_list()
    codes = {d.name: d.code for d in SPEC.districts}
    assert (f["uscc"].str.slice(2, 6) == f["district"].replace_strict(codes)).all()
    shops = f.filter(pl.col("type") == "个体工商户")
    assert shops["name"].str.ends_with("店").all()
    assert f["established"].max() < AS_OF and f["established"].min() > date(1995, 1, 1)


def test_realistic_mix():
    f = synthesize(SPEC, entities=20000, inspectors=400, seed="mix").entities
    share = lambda col, value: f.filter(pl.col(col) == value).height / f.height  # noqa: E731
    assert 0.66 < share("tier", "A") < 0.74
    assert 0.17 < share("tier", "B") < 0.23
    assert 0.01 < share("tier", "D") < 0.05
    assert 0.30 < share("type", "企业") < 0.40
    assert 0.57 < share("type", "个体工商户") < 0.67
    assert share("type", "农民专业合作社") > 0.01
    statuses = set(f["status"])
    assert {"存续", "在营", "吊销", "注销", "迁出"} <= statuses
    lapsed = f.filter(pl.col("expires") < AS_OF).height
    assert 0 < lapsed < f.height * 0.2
    assert f.filter(pl.col("last_checked").is_not_null()).height > 0
    assert f["labels"].list.contains("药品零售").sum() > 50


def test_inspectors_cover_every_specialty_in_every_unit(loaded):
    f = loaded[1].frame
    units = [d.unit for d in SPEC.districts] + [SPEC.city_unit]
    assert set(f["unit"]) == set(units)
    able = f.filter(
        (pl.col("status") == "在岗") & (pl.col("role") == "执法人员") & (pl.col("certificate_expires") >= AS_OF)
    )
    for unit in units:
        staff = able.filter(pl.col("unit") == unit)
        assert staff.height >= 2, unit
        for specialty in SPEC.specialties:
            assert staff.filter(pl.col("specialties").list.contains(specialty)).height >= 2, (unit, specialty)
    district_staff = f.filter(pl.col("unit") != SPEC.city_unit).height
    assert district_staff >= 0.7 * f.height


def test_inspector_mix():
    f = synthesize(SPEC, entities=100, inspectors=2000, seed=1).inspectors
    assert {"专家", "第三方机构"} <= set(f["role"])
    assert {"退休", "调离"} <= set(f["status"])
    assert f.filter(pl.col("certificate_expires") < AS_OF).height > 0
    assert f["inspector_id"].n_unique() == f.height


def test_spec_problems_reported_together():
    bad = SynthSpec(
        region="3501",
        jurisdiction="福州市",
        city_unit="福州市市场监督管理局",
        districts=[("350102", "鼓楼区", "鼓楼局")],
        as_of=AS_OF,
        profiles=[{"colour": "红"}, {"tier": "E"}, {"uscc": "x"}, {"district": "仓山区"}],
    )
    with pytest.raises(SpotcheckError) as info:
        synthesize(bad, entities=2, inspectors=3, seed=1)
    messages = [p.message for p in info.value.problems]
    assert {p.code for p in info.value.problems} == {"D290"}
    assert len(messages) == 7, messages  # region, 3 bad profile fields, unknown district, too few entities, inspectors


def test_small_directories_still_plant_every_profile():
    result = synthesize(SPEC, entities=10, inspectors=8, seed=3)
    f = result.entities
    for profile in SPEC.profiles:
        districts = [profile["district"]] if "district" in profile else [d.name for d in SPEC.districts]
        for district in districts:
            assert f.filter(_matches(f, profile) & (pl.col("district") == district)).height >= 1


def test_profiles_as_scope_examples_give_them():
    # conditions.example() yields None for "leave it empty", dates as dates, and may name the derived
    # checks_this_year, which only the ledger knows.
    # Random last checks fall in the three years before AS_OF, so 2020-05-01 marks the planted rows.
    profile = {"type": "企业", "expires": None, "last_checked": date(2020, 5, 1), "checks_this_year": 0}
    spec = SynthSpec(
        region=SPEC.region,
        jurisdiction=SPEC.jurisdiction,
        city_unit=SPEC.city_unit,
        districts=SPEC.districts,
        as_of=AS_OF,
        profiles=[profile],
    )
    f = synthesize(spec, entities=300, inspectors=20, seed=5).entities
    planted = f.filter(pl.col("last_checked") == date(2020, 5, 1))
    assert set(planted["district"]) == {d.name for d in SPEC.districts}
    assert (planted["type"] == "企业").all() and planted["expires"].is_null().all()
    assert "checks_this_year" not in f.columns


def test_labels_are_rare_unless_dense_and_dense_changes_nothing_else():
    realistic = synthesize(SPEC, entities=20000, inspectors=100, seed="mix").entities
    dense = synthesize(SPEC, entities=20000, inspectors=100, seed="mix", dense=True).entities
    share = lambda f, label: f["labels"].list.contains(label).sum() / f.height  # noqa: E731
    assert 0.003 < share(realistic, "药品零售") < 0.008
    assert 0.03 < share(dense, "药品零售") < 0.05
    # Planted profiles keep their labels either way, so every task still has entities in scope.
    assert realistic.filter(pl.col("labels").list.contains("加油站")).height >= 3
    assert realistic.drop("labels").equals(dense.drop("labels"))


@pytest.mark.parametrize("dense", [False, True])
def test_written_chunk_by_chunk_is_the_same_bytes(tmp_path, dense):
    from spotcheck.directory.synth import synthesize_to

    write(synthesize(SPEC, entities=3000, inspectors=150, seed="c", dense=dense), tmp_path / "whole")
    # 700 rows a chunk: chunk boundaries fall inside the planted rows and between recusal picks.
    synthesize_to(SPEC, 3000, 150, "c", tmp_path / "chunks", dense=dense, chunk_rows=700)
    for name in ("entities.csv", "inspectors.csv", "recusals.csv"):
        assert (tmp_path / "chunks" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name
