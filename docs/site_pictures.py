"""Pictures of the public site for the README, taken with headless Chromium (Debian's, via Playwright).

    python docs/site_pictures.py SITE_DIR OUT_DIR [--task t01]

Writes site-tasks.png (the 抽查任务公告 tab), site-verify.png (a task page after “开始验证”),
site-self.png (the self-check for the first drawn entity) and site-phone.png (a task page at phone width).
"""

import argparse
import json
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
DONE = "document.getElementById('{0}').className.includes('ok') || document.getElementById('{0}').className.includes('bad')"

parser = argparse.ArgumentParser()
parser.add_argument("site", type=Path)
parser.add_argument("out", type=Path)
parser.add_argument("--task", default="t01")
a = parser.parse_args()
page_name = next(a.site.glob(f"task-*-{a.task}.html")).name
slug = page_name[len("task-"):-len(".html")]
first = json.loads((a.site / "data" / "task" / slug / "d0.js").read_text("utf-8").split(",", 1)[1][:-3])[0][1]

with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
    page = browser.new_page(viewport={"width": 1100, "height": 760}, device_scale_factor=1)
    page.goto((a.site / "tasks.html").as_uri())
    page.screenshot(path=a.out / "site-tasks.png")
    page.goto((a.site / page_name).as_uri())
    page.click("#verify-run")
    page.wait_for_function(DONE.format("verify-verdict"), timeout=120_000)
    page.locator("#verify").screenshot(path=a.out / "site-verify.png")
    page.fill("#self-uscc", first)
    page.click("#self-form button")
    page.wait_for_function(DONE.format("self-verdict"), timeout=120_000)
    page.locator("#self").screenshot(path=a.out / "site-self.png")
    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    phone.goto((a.site / page_name).as_uri())
    phone.wait_for_selector("#drawn tbody td.code")
    phone.screenshot(path=a.out / "site-phone.png")
    browser.close()
