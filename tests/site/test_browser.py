"""The public site in a real headless Chromium (Debian's, driven by Playwright): tabs, search, the draw check
and the self-check, from file:// and from a local web server."""

from __future__ import annotations

import csv
import functools
import hashlib
import http.server
import json
import re
import shutil
import threading
from pathlib import Path

import pytest
from conftest import SITE_POLICIES
from spotcheck.site import build as site_build

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
