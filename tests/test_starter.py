"""`spotcheck init`: a bureau's starter repository that validates, passes its cases and renders notices
at once, and the bureau's own templates searched before the bundled ones."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from spotcheck.cli import main
from spotcheck.errors import SpotcheckError
from spotcheck.notices import api as notice
from spotcheck.notices.templates import find_template
from spotcheck.policy.loader import load_policy
from spotcheck.resources import TEMPLATES
from spotcheck.starter import Starter, init

QINHUANGDAO = Starter(province="hebei", city="qinhuangdao", region="秦皇岛市", code="130300", year=2026, short="秦市监")
POLICY = Path("policies/hebei/qinhuangdao/2026.yaml")


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def bureau(tmp_path, monkeypatch) -> Path:
    """An empty folder, the working folder, with the starter written into it."""
    monkeypatch.chdir(tmp_path)
    init(Path("."), QINHUANGDAO)
    return tmp_path


def test_init_from_the_command_line_then_validate_and_test(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("init", "--province", "hebei", "--city", "qinhuangdao", "--region", "秦皇岛市", "--code", "130300",
                 "--year", "2026")
    assert result.exit_code == 0, result.output
    assert {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()} == {
        ".github/workflows/spotcheck.yml", ".pre-commit-config.yaml", "README.md", "templates/README.md",
        "policies/hebei/qinhuangdao/2026.yaml", "policies/hebei/qinhuangdao/2026.cases.yaml",
        "policies/hebei/qinhuangdao/items/2026.yaml", "validators/policy.schema.json",
        "validators/item-list.schema.json", "validators/calendar.schema.json", "validators/cases.schema.json",
        "validators/policy.reference.md", "validators/item-list.reference.md", "validators/calendar.reference.md",
        "validators/cases.reference.md"}
    # With no paths, validate and test read the working folder's policies/, not the bundled ones.
    validated = run("validate")
    assert validated.exit_code == 0 and "策略 1 个" in validated.output, validated.output
    # Without --short the document number takes the bureau's full name for its 代字: a reminder, not a failure.
    assert "W925" in validated.output and "秦皇岛市市场监督管理局〔2026〕1号" in validated.output
    tested = run("test")
    assert tested.exit_code == 0 and tested.output.strip().endswith("通过 4 个，未通过 0 个"), tested.output
    assert run("schema", "check").exit_code == 0


def test_the_starter_extends_the_province_baseline_by_name(bureau):
    assert "W925" not in run("validate").output  # --short 秦市监 given
    loaded = load_policy(POLICY)
    assert loaded.policy.extends == "spotcheck:hebei/baseline"
    assert [p.name for p in loaded.chain[:2]] == ["baseline.yaml", "baseline.yaml"]
    assert loaded.policy.targets["enterprise_coverage"].value == 3  # the national floor, inherited
    assert [(d.code, d.unit) for d in loaded.policy.jurisdiction.districts] == [("130300", "秦皇岛市市场监督管理局")]
    assert "秦市监〔2026〕1号" in notice.make_notice(POLICY, fmt="md")
    assert notice.make_notice(POLICY, fmt="docx", out="通知.docx")[:2] == b"PK"


def test_districts_and_their_units(tmp_path):
    init(tmp_path, Starter(province="hebei", city="qinhuangdao", region="秦皇岛市", code="130300", year=2026,
                           districts=(("130302", "海港区"), ("130303", "山海关区"))))
    loaded = load_policy(tmp_path / "policies/hebei/qinhuangdao/2026.yaml")
    assert [(d.code, d.name, d.unit) for d in loaded.policy.jurisdiction.districts] == [
        ("130302", "海港区", "海港区市场监督管理局"), ("130303", "山海关区", "山海关区市场监督管理局")]


def test_a_province_without_a_bundled_baseline_extends_the_national_one(tmp_path):
    init(tmp_path, Starter(province="fujian", city="fuzhou", region="福州市", code="350100", year=2026))
    assert load_policy(tmp_path / "policies/fujian/fuzhou/2026.yaml").policy.extends == "spotcheck:national/baseline"



def test_a_province_bureau_writes_its_own_plan_one_folder_up(tmp_path, monkeypatch):
    """--level province: the province's own policy (policies/hebei/2026.yaml, no city folder), its cities as the
    districts, the notice addressed to the cities' bureaus; it validates, passes its cases and renders."""
    monkeypatch.chdir(tmp_path)
    result = run("init", "--province", "hebei", "--region", "河北省", "--code", "130000", "--year", "2026", "--level",
                 "province", "--short", "冀市监", "--district", "130100=石家庄市", "--district", "130300=秦皇岛市")
    assert result.exit_code == 0, result.output
    assert {p.relative_to(tmp_path / "policies").as_posix() for p in (tmp_path / "policies").rglob("*") if p.is_file()} == {
        "hebei/2026.yaml", "hebei/2026.cases.yaml", "hebei/items/2026.yaml"}
    policy = Path("policies/hebei/2026.yaml")
    assert policy.read_text("utf-8").startswith("# yaml-language-server: $schema=../../validators/policy.schema.json")
    loaded = load_policy(policy)
    assert (loaded.policy.id, loaded.policy.extends, loaded.policy.jurisdiction.level) == (
        "hebei/2026", "spotcheck:hebei/baseline", "province")
    assert [(d.name, d.unit) for d in loaded.policy.jurisdiction.districts] == [
        ("石家庄市", "石家庄市市场监督管理局"), ("秦皇岛市", "秦皇岛市市场监督管理局")]
    assert run("validate").exit_code == 0 and run("test").output.strip().endswith("通过 4 个，未通过 0 个")
    assert run("schema", "check").exit_code == 0
    text = notice.make_notice(policy, fmt="md")
    assert "冀市监〔2026〕1号" in text and "各市市场监督管理局，省局机关各处室：" in text


def test_the_city_folder_is_asked_for_by_level(tmp_path):
    with pytest.raises(SpotcheckError) as exc:
        init(tmp_path, Starter(province="hebei", city="shijiazhuang", region="河北省", code="130000", year=2026,
                               level="province"))
    assert [(p.code, p.where) for p in exc.value.problems] == [("P160", "--city")]
    assert "--level city" in exc.value.problems[0].hint
    with pytest.raises(SpotcheckError) as exc:
        init(tmp_path, Starter(province="hebei", city=None, region="秦皇岛市", code="130300", year=2026))
    assert [(p.code, p.where) for p in exc.value.problems] == [("P160", "--city")]
    assert "--level province" in exc.value.problems[0].hint
    assert not any(tmp_path.iterdir())

def test_init_never_overwrites_and_writes_nothing_then(bureau):
    readme = bureau / "README.md"
    readme.write_text("本局原有说明\n", "utf-8")
    (bureau / "policies").rename(bureau / "old-policies")
    with pytest.raises(SpotcheckError) as exc:
        init(Path("."), QINHUANGDAO)
    # Every file already there is named (all but the policies moved away), and none is touched.
    assert [p.code for p in exc.value.problems] == ["P161"] * 12
    assert "README.md" in " ".join(p.message for p in exc.value.problems)
    assert readme.read_text("utf-8") == "本局原有说明\n" and not (bureau / "policies").exists()
    assert not [p for p in bureau.iterdir() if p.name.startswith(".spotcheck-init")]


def test_bad_options_are_named_in_chinese(tmp_path):
    with pytest.raises(SpotcheckError) as exc:
        init(tmp_path, Starter(province="河北", city="Qin Huang Dao", region="秦皇岛市: x", code="1303",
                               year=2026, extends="spotcheck:hebei/basline"))
    problems = exc.value.problems
    assert [p.code for p in problems] == ["P160", "P160", "P160", "P160", "P309"]
    assert [p.where for p in problems[:4]] == ["--province", "--city", "--code", "--region"]
    assert not any(tmp_path.iterdir())
    with pytest.raises(SpotcheckError) as exc:
        init(tmp_path, Starter(province="hebei", city="qinhuangdao", region="秦皇岛市", code="130300", year=2026,
                               districts=(("13030", "海港区"), ("130303", ""))))
    assert [(p.where, p.message) for p in exc.value.problems] == [
        ("--district", "--district '13030' 不是6位行政区划代码"), ("--district", "--district 缺少名称")]
    assert "spotcheck:hebei/baseline" in problems[-1].message
    assert not any(tmp_path.iterdir())


def test_the_bureau_templates_come_before_the_bundled_ones(bureau):
    loaded = load_policy(POLICY)
    assert find_template(loaded, "plan_notice", "md") == TEMPLATES / "plan_notice.md.j2"
    own = bureau / "templates" / "hebei" / "qinhuangdao"
    own.mkdir(parents=True)
    (own / "plan_notice.md.j2").write_text("本局模板：{{ doc.title }}\n", "utf-8")
    assert find_template(loaded, "plan_notice", "md") == own / "plan_notice.md.j2"
    assert notice.make_notice(POLICY, fmt="md") == "本局模板：秦皇岛市市场监督管理局关于印发2026年度“双随机、一公开”抽查工作计划的通知\n"
    listing = "\n".join(notice.describe_templates(POLICY))
    assert "templates/hebei/qinhuangdao/plan_notice.md.j2" in listing
    assert str(TEMPLATES / "docx" / "plan_notice.docx") in listing or "docx/plan_notice.docx" in listing


def test_a_template_link_out_of_the_template_roots_is_not_followed(bureau, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "plan_notice.md.j2"
    outside.write_text("{{ doc.title }} 不该用到\n", "utf-8")
    os.symlink(outside, bureau / "templates" / "plan_notice.md.j2")
    assert find_template(load_policy(POLICY), "plan_notice", "md") == TEMPLATES / "plan_notice.md.j2"


def test_the_starter_draws_and_a_draw_is_verified_by_its_policy_id(bureau):
    """synth → drill draw → verify from the bureau's folder: verify finds the policy by the id in the
    transcript in the working folder's policies/, not among the bundled ones."""
    assert run("synth", POLICY, "--entities", "400", "--inspectors", "30", "--seed", "s", "--out", "data").exit_code == 0
    drawn = run("draw", POLICY, "--entities", "data/entities.csv", "--seed", "s", "--date", "2026-04-01", "--out", "d")
    assert drawn.exit_code == 0, drawn.output
    verified = run("verify", "d", "--entities", "data/entities.csv")
    assert verified.exit_code == 0 and "核验通过" in verified.output, verified.output


def test_the_starter_is_planned_before_next_years_holidays_are_known(bureau):
    """Results are due 20 working days after the year's last checks, in January of a year whose holidays the
    State Council has not given yet: the plan is made, those deadlines are left empty and the officer is told
    how to fill them in."""
    assert run("synth", POLICY, "--entities", "400", "--inspectors", "30", "--seed", "s", "--out", "data").exit_code == 0
    assert run("draw", POLICY, "--entities", "data/entities.csv", "--seed", "s", "--date", "2026-04-01", "--out", "d").exit_code == 0
    planned = run("plan", "d", "--inspectors", "data/inspectors.csv", "--ledger", "l.db")
    assert planned.exit_code == 0, planned.output
    assert "提醒" in planned.output and "C301 不知道 2027 年的节假日安排" in planned.output
    assert "policies/calendars/2027.yaml" in planned.output
    visits = pl.read_csv("d/visits.csv", infer_schema=False)
    assert visits.height and visits["results_due_by"].is_null().all()
    assert visits["inspect_by"].is_not_null().all()
    verified = run("verify", "d", "--entities", "data/entities.csv", "--inspectors", "data/inspectors.csv")
    assert verified.exit_code == 0, verified.output
