"""Kinds of object and risk scales: a directory checked against the policy's vocabulary, by row and column."""

from __future__ import annotations

import polars as pl
import pytest
from conftest import edit, line_of, policy_problems
from spotcheck.directory import uscc
from spotcheck.directory.kinds import load_for
from spotcheck.directory.synth import synthesize
from spotcheck.draw.history import HISTORY_COLUMNS
from spotcheck.draw.pipeline import spec_from_policy
from spotcheck.errors import SpotcheckError
from spotcheck.policy.loader import load_policy
from spotcheck.resources import POLICIES

HEADER = "统一社会信用代码,企业名称,主体类型,登记状态,所属辖区,信用风险等级\n"

CITY = f"""\
id: test/city/2024
extends: {POLICIES / "national" / "baseline.yaml"}
jurisdiction:
  code: "341700"
  name: 池州市市场监督管理局
  region: 池州市
  level: city
  districts: [{{code: "341702", name: 贵池区, unit: 池州市贵池区市场监督管理局}}]
year: 2024
kinds:
  个体工商户: {{uscc_codes: ["92"], scale: 分型}}
scales:
  分型: {{name: 个体工商户分型分类, values: {{生存型: 生存型, 成长型: 成长型, 发展型: 发展型}}}}
targets:
  enterprise_coverage: {{value: "3%", kinds: [企业, 民办非企业单位]}}
tasks:
  - id: t01
    name: 民办非企业单位抽查
    type: 定向
    items: []
    scope: {{field: type, op: in, value: [民办非企业单位, 个体工商户]}}
    scope_text: 民办非企业单位、个体工商户
    sampling: {{ratio: "10%", stratify: [type, tier]}}
    draw_months: [3, 10]
"""


@pytest.fixture
def city(tmp_path):
    path = tmp_path / "2024.yaml"
    path.write_text(CITY, encoding="utf-8")
    return load_policy(path)


def _directory(tmp_path, rows: list[tuple[str, str, str]]) -> str:
    path = tmp_path / "entities.csv"
    lines = [f"{code},单位{i},{kind},存续,贵池区,{tier}" for i, (code, kind, tier) in enumerate(rows)]
    path.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_every_kind_agrees_with_its_code_and_its_scale(tmp_path, city):
    rows = [(uscc.make("a", "企业", "341700"), "企业", "A"), (uscc.make("b", "民办非企业单位", "341700"), "民办非企业单位", ""),
            (uscc.make("c", "个体工商户", "341700"), "个体工商户", "成长型"), (uscc.make("d", "事业单位", "341700"), "事业单位", "")]
    entities = load_for(city.policy, _directory(tmp_path, rows))
    assert entities.frame["type"].cast(pl.String).to_list() == ["企业", "民办非企业单位", "个体工商户", "事业单位"]
    assert entities.frame["tier"].cast(pl.String).to_list() == ["A", None, "成长型", None]


def test_a_kind_that_disagrees_is_a_row_and_column_error_never_a_guess(tmp_path, city):
    rows = [(uscc.make("a", "民办非企业单位", "341700"), "企业", "A"),  # code 52 written as 企业
            (uscc.make("b", "企业", "341700"), "库点", ""),  # a kind the policy does not declare
            (uscc.make("c", "企业", "341700"), "企业", ""),  # 企业 need a tier
            (uscc.make("d", "事业单位", "341700"), "事业单位", "B"),  # 不涉及信用风险分类
            (uscc.make("e", "个体工商户", "341700"), "个体工商户", "A")]  # not on the 分型 scale
    with pytest.raises(SpotcheckError) as exc:
        load_for(city.policy, _directory(tmp_path, rows))
    got = [(p.code, p.row, p.column) for p in exc.value.problems]
    assert got == [("D216", 2, "主体类型"), ("D215", 3, "主体类型"), ("D217", 4, "信用风险等级"),
                   ("D218", 5, "信用风险等级"), ("D217", 6, "信用风险等级")]
    first = exc.value.problems[0]
    assert "52（民办非企业单位）" in first.message and "91" in first.message and first.hint


def test_the_synthetic_city_carries_the_policys_kinds_and_scales(tmp_path, city):
    result = synthesize(spec_from_policy(city), entities=2000, inspectors=40, seed=3)
    frame = result.entities
    assert "民办非企业单位" in frame["type"].to_list()
    shops = frame.filter(pl.col("type") == "个体工商户")["tier"].unique().to_list()
    assert set(shops) == {"生存型", "成长型", "发展型"}
    assert frame.filter(pl.col("type") == "民办非企业单位")["tier"].null_count() == frame.filter(pl.col("type") == "民办非企业单位").height
    assert all(code.startswith("52") for code in frame.filter(pl.col("type") == "民办非企业单位")["uscc"])


def test_wrong_kinds_in_a_policy_are_located_problems(tmp_path):
    path = tmp_path / "2024.yaml"
    path.write_text(CITY.replace("scale: 分型}", "scale: 分形}").replace('uscc_codes: ["92"]', 'uscc_codes: ["92", "99"]')
                    .replace("kinds: [企业, 民办非企业单位]", "kinds: [企业, 民非]"), encoding="utf-8")
    problems = policy_problems(path)
    got = {(p.code, p.line) for p in problems}
    assert ("P112", line_of(path, '"99"')) in got  # not a GB 32100 code
    assert any(p.code == "P231" and "民非" in p.message for p in problems)
    edit(path, 'uscc_codes: ["92", "99"]', 'uscc_codes: ["92"]')
    problems = policy_problems(path)
    assert {p.code for p in problems} == {"P230", "P231"}
    assert next(p for p in problems if p.code == "P230").line == line_of(path, "分形")


def test_coverage_counts_the_kinds_its_target_names(tmp_path, city):
    import datetime as dt

    from spotcheck.directory import synth
    from spotcheck.draw import compute
    from spotcheck.draw.commitment import drill_seed

    out = tmp_path / "syn"
    synth.write(synthesize(spec_from_policy(city), entities=2000, inspectors=40, seed=3), out)
    entities = load_for(city.policy, out / "entities.csv")
    result = compute.compute(city, entities, pl.DataFrame(schema=HISTORY_COLUMNS), drill_seed("k"), dt.date(2024, 3, 4))
    frame = entities.frame.with_columns(pl.col("type").cast(pl.String), pl.col("status").cast(pl.String))
    counted = frame.filter(pl.col("type").is_in(["企业", "民办非企业单位"]) & pl.col("status").is_in(["存续", "在营", "开业", "在业"]))
    assert result.summary.directory.enterprises_operating == counted.height
    drawn = result.drawn.filter(pl.col("type").is_in(["企业", "民办非企业单位"]))["uscc"].n_unique()
    assert result.summary.distinct_enterprises_drawn == drawn > 0


NUMBERED = f"""\
id: test/wuwei/2023
extends: {POLICIES / "national" / "baseline.yaml"}
jurisdiction: {{code: "340281", name: 无为市市场监督管理局, region: 无为市, level: district}}
year: 2023
kinds:
  库点: {{uscc_codes: ["91", "12"], identified_by: {{name: 库点编号, holder: true}}}}
  特种设备作业人员: {{identified_by: {{name: 证书编号, pattern: "[A-Z0-9]{{6,20}}"}}}}
tasks:
  - id: t01
    name: 储备粮库点抽查
    type: 定向
    items: []
    scope: {{field: type, op: in, value: [库点, 特种设备作业人员]}}
    scope_text: 备查库点、特种设备作业人员
    sampling: {{ratio: "100%", at_least: false, stratify: []}}
    draw_months: [7, 10]
"""
NUMBERED_HEADER = "统一社会信用代码,企业名称,主体类型,登记状态,所属辖区,信用风险等级,库点编号\n"


def test_objects_without_a_uscc_of_their_own_are_keyed_by_their_number(tmp_path):
    import datetime as dt

    from spotcheck.draw import compute
    from spotcheck.draw.commitment import drill_seed

    (tmp_path / "2023.yaml").write_text(NUMBERED, encoding="utf-8")
    loaded = load_policy(tmp_path / "2023.yaml")
    holder = uscc.make("grain", "企业", "340281")
    rows = [f"{holder},无为市粮食购销有限公司,企业,存续,340281,A,", f"{holder},1号库点,库点,存续,340281,,KD01",
            f"{holder},2号库点,库点,存续,340281,,KD02", ",张三,特种设备作业人员,存续,340281,,T1234567"]
    path = tmp_path / "objects.csv"
    path.write_text(NUMBERED_HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    entities = load_for(loaded.policy, path)
    assert entities.frame["uscc"].to_list() == [holder, f"{holder}/库点编号:KD01", f"{holder}/库点编号:KD02", "证书编号:T1234567"]
    draw = compute.compute(loaded, entities, pl.DataFrame(schema=HISTORY_COLUMNS), drill_seed("k"), dt.date(2023, 7, 3))
    assert sorted(draw.drawn["uscc"]) == sorted(entities.frame["uscc"][1:])
    from spotcheck.directory.kinds import key_text
    assert key_text(f"{holder}/库点编号:KD01") == f"{holder}（库点编号 KD01）" and key_text("证书编号:T1234567") == "无（证书编号 T1234567）"


def test_an_object_missing_its_identity_is_a_row_and_column_error(tmp_path):
    (tmp_path / "2023.yaml").write_text(NUMBERED, encoding="utf-8")
    loaded = load_policy(tmp_path / "2023.yaml")
    holder = uscc.make("grain", "企业", "340281")
    rows = [f",无名库点,库点,存续,340281,,KD01",  # a site without its holder's code
            f"{holder},1号库点,库点,存续,340281,,",  # no number
            f"{holder},2号库点,库点,存续,340281,,KD02", f"{holder},2号库点（重复）,库点,存续,340281,,KD02",
            ",李四,特种设备作业人员,存续,340281,,t-12",  # not the declared form
            ",王五,企业,存续,340281,A,"]  # an enterprise needs its USCC
    path = tmp_path / "objects.csv"
    path.write_text(NUMBERED_HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(SpotcheckError) as exc:
        load_for(loaded.policy, path)
    got = [(p.code, p.row, p.column) for p in exc.value.problems]
    assert sorted(got) == sorted([("D240", 2, "统一社会信用代码"), ("D241", 3, "库点编号"), ("D243", 5, "库点编号"),
                                  ("D242", 6, "库点编号"), ("D240", 7, "统一社会信用代码")])
    messages = {p.code: p.message for p in exc.value.problems}
    assert "挂在持有人名下，须写持有人的统一社会信用代码" in messages["D240"] or "按统一社会信用代码识别" in messages["D240"]
    assert "第 4 行与第 5 行" in messages["D243"] and "'t-12' 不是有效的证书编号" in messages["D242"]


def test_a_kind_identified_otherwise_declares_its_codes_consistently(tmp_path):
    path = tmp_path / "2023.yaml"
    path.write_text(NUMBERED.replace("特种设备作业人员: {identified_by", '特种设备作业人员: {uscc_codes: ["91"], identified_by')
                    .replace('库点: {uscc_codes: ["91", "12"], ', "库点: {"), encoding="utf-8")
    problems = policy_problems(path)
    assert [p.code for p in problems] == ["P112", "P112"]
    assert any("不写 uscc_codes" in p.message and p.line == line_of(path, "特种设备作业人员: {") for p in problems)
    assert any("须写 uscc_codes" in p.message and p.line == line_of(path, "库点: {") for p in problems)


def test_numbered_objects_go_the_whole_way_synth_draw_verify_plan_and_letters(tmp_path):
    # A site under its holder and a person by certificate: planted, drawn, recomputed, staffed, printed.
    import datetime as dt

    from spotcheck.directory import synth
    from spotcheck.draw import pipeline
    from spotcheck.notices import api as notice
    from spotcheck.plan import workplan

    text = NUMBERED.replace('jurisdiction: {code: "340281", name: 无为市市场监督管理局, region: 无为市, level: district}',
                            'jurisdiction: {code: "340281", name: 无为市市场监督管理局, region: 无为市, level: district,\n'
                            '  districts: [{code: "340281", name: 无为市, unit: 无为市市场监督管理局}]}')
    text = text.replace("items: []", "items: [WW23-03]").replace(
        "year: 2023\n", f"year: 2023\nitem_lists: [{POLICIES / 'anhui' / 'items' / '2023.yaml'}]\n"
                        "departments: [{id: 市场监管, name: 市场监管部门, unit: 无为市市场监督管理局}]\n", 1)
    path = tmp_path / "2023.yaml"
    path.write_text(text, encoding="utf-8")
    loaded = load_policy(path)
    dirs = tmp_path / "dirs"
    synth.write(synthesize(spec_from_policy(loaded), entities=400, inspectors=30, seed=5), dirs)
    out, ledger = tmp_path / "draw", tmp_path / "l.db"
    pipeline.draw(path, dirs / "entities.csv", out, ledger_path=ledger, seed="k", drawn_on=dt.date(2023, 7, 3))
    drawn = pl.read_csv(out / "draws.csv", infer_schema_length=0)["uscc"].to_list()
    assert any("/库点编号:" in k for k in drawn) and any(k.startswith("证书编号:") for k in drawn)
    assert pipeline.verify(out, dirs / "entities.csv", policy_path=path).ok
    workplan.plan(out, inspectors_path=dirs / "inspectors.csv", recusals_path=dirs / "recusals.csv", ledger_path=ledger, policy_path=path)
    visits = pl.read_csv(out / "visits.csv", infer_schema_length=0)
    assert visits.height == len(drawn) and (visits["staffed"] == "true").all()
    letters = notice.render(loaded, kind="inspection_letter", fmt="md", draw_dir=out)
    assert "（库点编号 " in letters and "统一社会信用代码：`无（证书编号 " in letters
