"""The public site as files: what it holds, what it must never hold, and how it is (re)built."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import INTERNAL_LABEL, SITE_POLICIES, SITE_POLICY
from spotcheck.errors import SpotcheckError
from spotcheck.policy.loader import load_policy
from spotcheck.ledger.store import Ledger
from spotcheck.rules.fields import TIER_NAMES
from spotcheck.site import build as site_build
from spotcheck.site import sources
from spotcheck.site.search import fnv1a, normal


@pytest.fixture(scope="module")
def site(site_year, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    site_build.build(site_year.ledger, out, policies_dir=SITE_POLICIES)
    return out


def _data(site: Path, name: str):
    text = (site / "data" / f"{name}.js").read_text("utf-8")
    head = f"SC.put({json.dumps(name)},"
    assert text.startswith(head)
    return json.loads(text[len(head):-3])


def _task(site: Path, task_id: str) -> tuple[str, dict]:
    (path,) = (site / "data" / "task").glob(f"*-{task_id}.js")
    slug = path.stem
    return slug, _data(site, f"task/{slug}")


def _all_text(site: Path) -> str:
    return "\n".join(p.read_text("utf-8") for p in sorted(site.rglob("*")) if p.is_file())


def test_four_tabs_and_a_page_per_task_and_plan(site):
    names = {p.name for p in site.iterdir()}
    assert {"index.html", "plans.html", "tasks.html", "results.html", "search.html"} <= names
    assert len([n for n in names if n.startswith("task-")]) == 3
    assert len([n for n in names if n.startswith("plan-demo-site-2023")]) == 1
    for tab in ("抽查事项清单", "抽查计划公告", "抽查任务公告", "抽查结果公告"):
        assert tab in (site / "index.html").read_text("utf-8")


def test_every_page_names_the_ledger_head_it_was_built_from(site, site_year):
    with Ledger.open(site_year.ledger, create=False) as ledger:
        seq, digest = ledger.head()
    for page in site.glob("*.html"):
        text = page.read_text("utf-8")
        assert digest in text and f"第 {seq} 条" in text, page.name


def test_nothing_is_fetched_from_elsewhere(site):
    for page in site.rglob("*"):
        if page.suffix in {".html", ".js", ".css"}:
            text = page.read_text("utf-8")
            assert not re.search(r"(src|href)=\"(https?:)?//", text), page.name
            assert "fetch(" not in text and "XMLHttpRequest" not in text and "@import" not in text, page.name


def test_each_task_gets_the_disclosure_its_scope_and_strata_allow(site):
    kinds = {t: _task(site, t)[1]["disclosure"] for t in ("t01", "t02", "t03")}
    assert kinds == {"t01": "public", "t02": "scope", "t03": "tier"}


def test_a_tier_task_ties_no_entity_to_a_stratum_and_publishes_no_cut_off(site):
    slug, t03 = _task(site, "t03")
    assert [s["label"] for s in t03["strata"]] == [f"第{k}层" for k in range(1, len(t03["strata"]) + 1)]
    assert all(set(s) == {"label", "eligible", "ratio", "ratio_text", "wanted", "drawn"} for s in t03["strata"])
    assert set(t03["bound"]) == {"1"}
    rows = _data(site, f"task/{slug}/d0")
    assert rows and all(r[4] == -1 for r in rows)


def test_drawn_lists_carry_only_name_code_and_registration_authority(site, site_year):
    drawn = list(csv.DictReader((site_year.draw / "draws.csv").open(encoding="utf-8")))
    for task_id in ("t01", "t02", "t03"):
        slug, data = _task(site, task_id)
        rows = _data(site, f"task/{slug}/d0")
        want = sorted((int(r["round"]), r["uscc"]) for r in drawn if r["task_id"] == task_id)
        assert [(r[0], r[1]) for r in rows] == want  # by code, never grouped by stratum
        assert all(len(r) == 5 and data["authorities"][r[3]].endswith("市场监督管理局") for r in rows)


def test_no_tier_label_inspector_or_internal_eligible_list_reaches_the_site(site, site_year):
    text = _all_text(site)
    public_text = SITE_POLICY.read_text("utf-8")
    with (site_year.data / "entities.csv").open(encoding="utf-8-sig") as f:
        entities = list(csv.DictReader(f))
    public_names = "\n".join(e["企业名称"] for e in entities) + public_text
    labels = {x for e in entities for x in e["监管标签"].split("；") if x}
    assert INTERNAL_LABEL in labels
    for label in labels - {x for x in labels if x in public_text}:
        assert label not in text, label
    for tier in TIER_NAMES.values():
        assert tier not in text, tier
    with (site_year.data / "inspectors.csv").open(encoding="utf-8-sig") as f:
        inspectors = list(csv.DictReader(f))
    for person in inspectors:
        assert person["执法人员编号"] not in text
        if person["姓名"] not in public_names:  # a name that is also part of a firm's name proves nothing
            assert person["姓名"] not in text, person["姓名"]
    with (site_year.draw / "eligible.csv").open(encoding="utf-8") as f:
        eligible = list(csv.DictReader(f))
    with (site_year.draw / "draws.csv").open(encoding="utf-8") as f:
        published = {r["uscc"] for r in csv.DictReader(f)}
    published |= {r["uscc"] for r in eligible if r["task_id"] == "t01"}  # t01's list is public by design
    published |= set(re.findall(r'id="([0-9A-Z]{18})"', text))  # results rows
    internal = {r["uscc"] for r in eligible if r["task_id"] in ("t02", "t03")} - published
    assert internal
    codes = set(re.findall(r"[0-9A-Z]{18}", text))
    assert not internal & codes


def test_search_index_finds_codes_and_name_pairs(site, site_year):
    meta = _data(site, "search/meta")
    with (site_year.draw / "draws.csv").open(encoding="utf-8") as f:
        row = next(csv.DictReader(f))
    bucket = _data(site, f"search/u{fnv1a(row['uscc']) % meta['ub']}")
    at = bucket[row["uscc"]]
    entry = _data(site, f"search/r{at // meta['piece']}")[at % meta["piece"]]
    assert entry[:2] == [row["uscc"], row["name"]] and meta["authorities"][entry[2]].endswith("市场监督管理局")
    pair = normal(row["name"])[:2]
    assert at in _data(site, f"search/n{fnv1a(pair) % meta['nb']}")[pair]


def test_results_show_national_columns_and_publication_dates(site):
    page = next(site.glob("results-*-t01-1.html")).read_text("utf-8")
    for column in ("抽查计划编号/名称", "抽查任务编号/名称", "检查机关", "统一社会信用代码", "检查完成日期", "检查结果", "公示日期", "应公示截止日"):
        assert column in page
    assert "2023-12-20" in page


def test_a_rebuild_replaces_the_site_but_never_another_folder(site_year, tmp_path):
    out = tmp_path / "site"
    site_build.build(site_year.ledger, out, policies_dir=SITE_POLICIES)
    (out / "stale.html").write_text("old", "utf-8")
    site_build.build(site_year.ledger, out, policies_dir=SITE_POLICIES)
    assert not (out / "stale.html").exists() and (out / "index.html").is_file()
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine", "utf-8")
    with pytest.raises(SpotcheckError) as err:
        site_build.build(site_year.ledger, other, policies_dir=SITE_POLICIES)
    assert err.value.problems[0].code == "W906" and (other / "keep.txt").read_text("utf-8") == "mine"


def test_a_policy_changed_since_the_draw_is_refused(site_year, tmp_path):
    policies = tmp_path / "policies"
    (policies / "demo" / "site").mkdir(parents=True)
    (policies / "demo" / "items").mkdir()
    (policies / "demo" / "items" / "2023.yaml").write_bytes((SITE_POLICIES / "demo" / "items" / "2023.yaml").read_bytes())
    changed = SITE_POLICY.read_text("utf-8").replace("全市加油站", "全市加油站（修订）")
    (policies / "demo" / "site" / "2023.yaml").write_text(changed, "utf-8")
    with pytest.raises(SpotcheckError) as err:
        site_build.build(site_year.ledger, tmp_path / "site", policies_dir=policies)
    assert [p.code for p in err.value.problems] == ["W902"]
    assert not (tmp_path / "site").exists()


def test_an_earlier_revision_kept_beside_the_current_plan_is_found(site_year, tmp_path):
    policies = tmp_path / "policies"
    (policies / "demo" / "site").mkdir(parents=True)
    (policies / "demo" / "items").mkdir()
    (policies / "demo" / "items" / "2023.yaml").write_bytes((SITE_POLICIES / "demo" / "items" / "2023.yaml").read_bytes())
    revised = SITE_POLICY.read_text("utf-8").replace("全市加油站", "全市加油站（修订）")
    (policies / "demo" / "site" / "2023.yaml").write_text(revised, "utf-8")
    (policies / "demo" / "site" / "2023.r0.yaml").write_bytes(SITE_POLICY.read_bytes())
    out = tmp_path / "site"
    site_build.build(site_year.ledger, out, policies_dir=policies)
    assert "全市加油站（修订）" not in (out / next(p.name for p in out.glob("plan-*.html"))).read_text("utf-8")


@pytest.mark.parametrize("summary", ["{broken", '{"draw_id": "../x"}'])
def test_a_draw_folder_with_a_broken_summary_is_named_not_a_traceback(site_year, tmp_path, monkeypatch, summary):
    draw = tmp_path / "draw"
    shutil.copytree(site_year.draw, draw)
    (draw / "summary.json").write_text(summary, "utf-8")
    monkeypatch.setattr(sources, "_folder", lambda out, ledger_path: draw)
    with pytest.raises(SpotcheckError) as err:
        site_build.build(site_year.ledger, tmp_path / "site", policies_dir=SITE_POLICIES)
    assert {p.code for p in err.value.problems} == {"R511"} and not (tmp_path / "site").exists()


def test_a_task_whose_list_the_plan_keeps_internal_publishes_counts_only(unlisted_site):
    site = unlisted_site / "site"
    with (unlisted_site / "draw" / "draws.csv").open(encoding="utf-8") as f:
        drawn = [r for r in csv.DictReader(f)]
    # An entity other tasks drew too is listed there: only t02's own are hidden.
    others = {r["uscc"] for r in drawn if r["task_id"] != "t02"}
    hidden = {r["uscc"] for r in drawn if r["task_id"] == "t02"} - others
    shown = {r["uscc"] for r in drawn if r["task_id"] == "t01"}
    assert hidden and shown
    # t01's eligible list (all operating enterprises) is public and names gas-station companies as such.
    text = "\n".join(p.read_text("utf-8") for p in sorted(site.rglob("*"))
                     if p.is_file() and not re.search(r"-t01/e\d+-\d+\.js$", p.as_posix()))
    assert not [u for u in hidden if u in text]  # not in a list, a search piece or a page
    assert all(u in text for u in shown)
    _, t02 = _task(site, "t02")
    assert (t02["disclosure"], t02["list_published"], t02["drawn_pieces"]) == ("unlisted", False, 0)
    assert t02["drawn_total"] == sum(r["task_id"] == "t02" for r in drawn) and all("cutoff" not in s and "name" not in s for s in t02["strata"])
    page = next(site.glob("task-*-t02.html")).read_text("utf-8")
    assert "本任务不公开抽中名单" in page and 'id="drawn"' not in page


def test_a_rebuild_from_the_same_ledger_is_byte_for_byte_the_same(site_year, tmp_path):
    import datetime as dt

    now = dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc)
    for name in ("a", "b"):
        site_build.build(site_year.ledger, tmp_path / name, policies_dir=SITE_POLICIES, now=now)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert files and all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)


def test_a_plan_page_prints_the_plans_table_as_its_document_does_merged_cells_and_all():
    # Luzhou 2025's plan notice has its own eleven columns, three of them with cells merged across rows 2-3 and 5-6.
    loaded = load_policy(Path(__file__).parents[2] / "policies" / "examples" / "luzhou" / "2025.yaml")
    page = site_build._environment().get_template("plan.html").render(
        site_region="潞州区", site_title="潞州区", built_at="", built_utc="", head_seq=0, head_hash="", ledger_name="",
        drills=False, tab="plans", plan=site_build._plan(loaded, []))
    table = page[page.index('<table class="plan">'):page.index("</table>")]
    heads = re.findall(r"<th>(.*?)</th>", table)
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
    assert heads[:2] == ["序号", "抽查任务名称"] and "信用风险分类管理" in heads and len(heads) == 11
    assert [r.count("<td") for r in rows] == [11, 11, 8, 11, 11, 9]
    assert [r.count('rowspan="2"') for r in rows] == [0, 3, 0, 0, 2, 0]
    assert ">对食品生产加工企业的双随机检查</td>" in rows[1] and ">对食品生产加工企业的双随机检查</td>" not in rows[2]
