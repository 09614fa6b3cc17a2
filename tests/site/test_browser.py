"""The public site in a real headless Chromium (Debian's, driven by Playwright): tabs, search, the draw check
and the self-check, from file:// and from a local web server."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import http.server
import json
import re
import shutil
import threading
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pytest
from conftest import SITE_POLICIES, SITE_POLICY, edit
from spotcheck.draw import pipeline
from spotcheck.site import build as site_build
from spotcheck.year.rounds import Request

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.is_file():
    pytest.skip("需要 Chromium（Debian 软件包 chromium，.ci/apt-packages.txt 已列出）", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="需要 playwright（pip install -e '.[test]'）")

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
DONE = "document.getElementById('{0}').className.includes('ok') || document.getElementById('{0}').className.includes('bad')"


@pytest.fixture(scope="module")
def site(site_year, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "site"
    site_build.build(site_year.ledger, out, policies_dir=SITE_POLICIES)
    return out


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert not errors


def _url(site: Path, name: str) -> str:
    return (site / name).as_uri()


def _task_page(site: Path, task_id: str) -> str:
    return next(site.glob(f"task-*-{task_id}.html")).name


def _drawn(site_year, task_id: str) -> list[dict]:
    with (site_year.draw / "draws.csv").open(encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r["task_id"] == task_id]


def _verify(page, url: str) -> tuple[str, str]:
    page.goto(url)
    page.click("#verify-run")
    page.wait_for_function(DONE.format("verify-verdict"), timeout=60_000)
    return page.inner_text("#verify-verdict"), page.inner_text("#verify-steps")


def _self_check(page, url: str, uscc: str) -> str:
    page.goto(url)
    page.fill("#self-uscc", uscc)
    page.click("#self-form button")
    page.wait_for_function(DONE.format("self-verdict"), timeout=60_000)
    return page.inner_text("#self-verdict")


@pytest.fixture(scope="module")
def server(site):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    handler.log_message = lambda *a, **k: None
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.mark.parametrize("name, tab, text", [
    ("index.html", "抽查事项清单", "登记事项检查"),
    ("plans.html", "抽查计划公告", "第1版"),
    ("tasks.html", "抽查任务公告", "加油站计量器具抽查"),
    ("results.html", "抽查结果公告", "第001号抽查任务检查结果公告"),
])
def test_the_four_tabs_render(page, site, name, tab, text):
    page.goto(_url(site, name))
    assert page.inner_text(".tabs a.on") == tab
    assert text in page.inner_text("main")


def test_the_drawn_list_loads_into_the_task_page(page, site, site_year):
    page.goto(_url(site, _task_page(site, "t02")))
    page.wait_for_selector("#drawn tbody td.code")
    shown = page.locator("#drawn tbody td.code").all_inner_texts()
    assert shown == sorted(r["uscc"] for r in _drawn(site_year, "t02"))


def test_search_finds_an_entity_by_code_and_by_name(page, site, site_year):
    row = _drawn(site_year, "t02")[0]
    for query in (row["uscc"], row["name"][-6:]):
        page.goto(_url(site, "search.html") + "?q=" + query)
        page.wait_for_function("document.getElementById('search-status').textContent.startsWith('找到')", timeout=30_000)
        assert row["uscc"] in page.inner_text("#search-results"), query
    page.goto(_url(site, "search.html") + "?q=不存在的名称甲乙丙")
    page.wait_for_function("document.getElementById('search-status').textContent.startsWith('没有')", timeout=30_000)


@pytest.mark.parametrize("task_id", ["t01", "t02", "t03"])
def test_the_verify_panel_passes_on_an_untouched_site(page, site, task_id):
    verdict, steps = _verify(page, _url(site, _task_page(site, task_id)))
    assert verdict.startswith("验证通过"), steps
    assert "承诺于 2023年11月13日 10:00:00（北京时间）" in steps and "中国福利彩票双色球2023130期开奖号码" in steps
    if task_id == "t01":
        assert "与公布的名单完全一致" in steps


def test_the_site_works_from_a_web_server_too(page, site, server):
    verdict, steps = _verify(page, f"{server}/{_task_page(site, 't01')}")
    assert verdict.startswith("验证通过"), steps


@pytest.fixture
def edited(site, tmp_path) -> Path:
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    return copy


def test_the_verify_panel_fails_when_a_drawn_code_is_edited(page, edited, site_year):
    drawn = _drawn(site_year, "t02")
    # A code t01 drew whose t02 rank lies above t02's cut-off: one below it (outside t02's scope, say)
    # would pass the page's checks by the draw's luck, since a scope-only page cannot see the scope.
    transcript = json.loads((site_year.draw / "transcript.json").read_text("utf-8"))
    unit = next(t for t in transcript["tasks"] if t["task_id"] == "t02")["rounds"][0]["unit"]
    cut = max(r["hash"] for r in drawn)

    def above(code: str) -> bool:
        rank = hashlib.sha256(f"{transcript['seed']['key']}|{unit.replace('{stratum}', drawn[0]['stratum'])}{code}".encode())
        return rank.hexdigest() > cut

    others = [r["uscc"] for r in _drawn(site_year, "t01") if r["uscc"] not in {d["uscc"] for d in drawn} and above(r["uscc"])]
    piece = next((edited / "data" / "task").glob("*-t02/d0.js"))
    piece.write_text(piece.read_text("utf-8").replace(drawn[0]["uscc"], others[0]), "utf-8")
    verdict, _ = _verify(page, _url(edited, _task_page(edited, "t02")))
    assert verdict.startswith("验证未通过")
    assert others[0] in verdict and "截止值" in verdict


def test_the_verify_panel_fails_when_a_cut_off_is_edited(page, edited):
    data = next((edited / "data" / "task").glob("*-t01.js"))
    text = data.read_text("utf-8")
    cut = re.search(r'"cutoff":\{"1":"([0-9a-f]{64})"\}', text).group(1)
    lowered = "0" + cut[1:] if cut[0] != "0" else "00" + cut[2:]
    data.write_text(text.replace(cut, lowered, 1), "utf-8")
    verdict, _ = _verify(page, _url(edited, _task_page(edited, "t01")))
    assert verdict.startswith("验证未通过") and "截止值" in verdict


@pytest.mark.parametrize("task_id", ["t01", "t02", "t03"])
def test_an_entity_checks_its_own_treatment(page, site, site_year, task_id):
    url = _url(site, _task_page(site, task_id))
    drawn = _drawn(site_year, task_id)
    assert _self_check(page, url, drawn[0]["uscc"]) == "应被抽中"
    # An entity of the directory the draw did not pick, whose rank hash lies above every cut-off.
    cut = max(r["hash"] for r in drawn)
    with (site_year.draw / "eligible.csv").open(encoding="utf-8") as f:
        codes = [r["uscc"] for r in csv.DictReader(f) if r["task_id"] == task_id]
    transcript = json.loads((site_year.draw / "transcript.json").read_text("utf-8"))
    seed = transcript["seed"]
    task = next(t for t in transcript["tasks"] if t["task_id"] == task_id)
    picked = {r["uscc"] for r in drawn}

    def rank(code: str, stratum: str) -> str:
        unit = task["rounds"][0]["unit"].replace("{stratum}", stratum)
        return hashlib.sha256(f"{seed['key']}|{unit}{code}".encode()).hexdigest()

    strata = [s["stratum"] for s in task["strata"]]
    undrawn = next(c for c in codes if c not in picked and all(rank(c, s) > cut for s in strata))
    assert _self_check(page, url, undrawn) == "不应被抽中"


def test_a_task_without_a_published_list_verifies_its_counts_and_says_why_no_more(page, unlisted_site):
    site = unlisted_site / "site"
    verdict, steps = _verify(page, _url(site, _task_page(site, "t02")))
    assert verdict.startswith("验证通过"), steps
    assert "不公开抽中名单" in steps and "应抽数都由本层符合条件户数" in steps
    assert _self_check(page, _url(site, _task_page(site, "t02")), "91990102MA5H8UNDXA").startswith("无法在本页判定")


# ------------------------------------------------------------------ batches that split a task's sample

SPLIT = """    batch_mode: split
    batches:
      - {name: 第一批, month: 4, due: "2023-06-30"}
      - {name: 第二批, month: 8, due: "2023-10-31"}
"""


@pytest.fixture(scope="module")
def split_sites(site_year, tmp_path_factory):
    """t01 (public list, strata by district) in two batches splitting its sample: both drawn in one draw
    (a drill), and each batch drawn officially on its own, the second after the first, through one ledger."""
    root = tmp_path_factory.mktemp("split")
    policies = root / "policies"
    shutil.copytree(SITE_POLICIES, policies)
    path = policies / SITE_POLICY.relative_to(SITE_POLICIES)
    edit(path, "    draw_months: [4, 4]\n", SPLIT)
    entities = site_year.data / "entities.csv"
    pipeline.draw(path, entities, root / "together", ledger_path=root / "drill.db", seed="split", drawn_on=dt.date(2023, 4, 3))
    site_build.build(root / "drill.db", root / "together-site", policies_dir=policies, drills=True)
    for name, on, value in (("apr", dt.date(2023, 4, 6), "3"), ("aug", dt.date(2023, 8, 2), "5")):
        at = dt.datetime.combine(on - dt.timedelta(days=1), dt.time(2), tzinfo=dt.timezone.utc)
        with mock.patch("spotcheck.ledger.store._utc_now", return_value=at):
            c = pipeline.commit(path, entities, ledger_path=root / "ledger.db", beacon="测试随机数", drawn_on=on,
                                request=Request(task="t01"), reveal_as="numbers:1", actor="测试")
        with mock.patch("spotcheck.ledger.store._utc_now", return_value=at + dt.timedelta(days=2)):
            pipeline.draw(path, entities, root / name, ledger_path=root / "ledger.db", reveal=value, commitment_id=c.id, actor="测试")
    site_build.build(root / "ledger.db", root / "apart-site", policies_dir=policies)
    return SimpleNamespace(root=root, together=root / "together-site", apart=root / "apart-site")


def _split_page(site: Path, batch: int) -> str:
    """The t01 page of the draw that drew `batch` (the page of the draw that drew both, if one did)."""
    for data in (site / "data" / "task").glob("*-t01.js"):
        if f'"round":{batch},' in data.read_text("utf-8"):
            return f"task-{data.stem}.html"
    raise AssertionError(f"no draw of batch {batch}")


def _rows(folder: Path) -> list[dict]:
    with (folder / "draws.csv").open(encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r["task_id"] == "t01"]


@pytest.mark.parametrize("site, batch", [("together", 1), ("apart", 1), ("apart", 2)])
def test_the_verify_panel_passes_on_split_batches(page, split_sites, site, batch):
    folder = getattr(split_sites, site)
    verdict, steps = _verify(page, _url(folder, _split_page(folder, batch)))
    assert verdict.startswith("验证通过"), steps
    assert "与公布的名单完全一致" in steps and "分批拆分样本" in steps


def _copy(site: Path, tmp_path: Path) -> Path:
    shutil.copytree(site, tmp_path / "site")
    return tmp_path / "site"


def test_a_lowered_cut_off_of_the_second_batch_drawn_together_fails(page, split_sites, tmp_path):
    site = _copy(split_sites.together, tmp_path)
    data = next((site / "data" / "task").glob("*-t01.js"))
    text = data.read_text("utf-8")
    cut = re.search(r'"cutoff":\{[^}]*"2":"([0-9a-f]{64})"', text).group(1)
    data.write_text(text.replace(cut, "0" + cut[1:] if cut[0] != "0" else "00" + cut[2:], 1), "utf-8")
    verdict, _ = _verify(page, _url(site, _split_page(site, 1)))
    assert verdict.startswith("验证未通过") and "截止值" in verdict


def test_a_drawn_code_of_the_second_batch_edited_fails(page, split_sites, tmp_path):
    site = _copy(split_sites.together, tmp_path)
    rows = _rows(split_sites.root / "together")
    first = next(r["uscc"] for r in rows if r["round"] == "1")
    second = next(r["uscc"] for r in rows if r["round"] == "2")
    piece = next((site / "data" / "task").glob("*-t01/d0.js"))
    # The first batch's entity in the second batch: its hash is under the cut-off, but it is drawn twice.
    piece.write_text(piece.read_text("utf-8").replace(second, first), "utf-8")
    verdict, _ = _verify(page, _url(site, _split_page(site, 1)))
    assert verdict.startswith("验证未通过") and first in verdict


def test_a_later_batch_that_repeats_an_earlier_ones_entity_fails(page, split_sites, tmp_path):
    site = _copy(split_sites.apart, tmp_path)
    earlier = _rows(split_sites.root / "apr")[0]["uscc"]
    later = _rows(split_sites.root / "aug")[0]["uscc"]
    slug = _split_page(site, 2)[len("task-"):-len(".html")]
    piece = site / "data" / "task" / slug / "d0.js"
    piece.write_text(piece.read_text("utf-8").replace(later, earlier), "utf-8")
    verdict, _ = _verify(page, _url(site, _split_page(site, 2)))
    assert verdict.startswith("验证未通过") and earlier in verdict and "前批" in verdict


def test_a_later_batchs_count_against_an_edited_earlier_count_fails(page, split_sites, tmp_path):
    site = _copy(split_sites.apart, tmp_path)
    data = site / "data" / "task" / (_split_page(site, 2)[len("task-"):-len(".html")] + ".js")
    text = data.read_text("utf-8")
    done = re.search(r'"earlier":(\d+)', text).group(1)
    data.write_text(text.replace(f'"earlier":{done}', f'"earlier":{int(done) - 1}', 1), "utf-8")
    verdict, _ = _verify(page, _url(site, _split_page(site, 2)))
    assert verdict.startswith("验证未通过") and "前批已抽" in verdict


def test_an_entity_of_the_first_batch_checks_its_treatment_in_both(page, split_sites):
    first = next(r["uscc"] for r in _rows(split_sites.root / "together") if r["round"] == "1")
    url = _url(split_sites.together, _split_page(split_sites.together, 1))
    assert _self_check(page, url, first) == "第1轮应被抽中；第2轮不应被抽中"
    assert "bad" not in page.get_attribute("#self-verdict", "class")
