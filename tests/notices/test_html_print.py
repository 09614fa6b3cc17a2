"""The HTML notice printed by headless Chromium: nothing clipped, no line breaking inside a word or a code.

Runs where Chromium and poppler-utils are installed (CI installs them from .ci/apt-packages.txt).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
from spotcheck.notices import api as notice
from spotcheck.notices.docx_render import FONTS_CONF
from spotcheck.policy.loader import load_policy
from spotcheck.resources import POLICIES

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None or shutil.which("pdftotext") is None,
                                reason="Chromium or pdftotext is not installed")


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("print")
    html = folder / "n.html"
    html.write_text(notice.render(load_policy(POLICIES / "shanxi/shuozhou/2021.yaml"), fmt="html"), "utf-8")
    pdf = folder / "n.pdf"
    env = dict(os.environ, FONTCONFIG_FILE=str(FONTS_CONF), HOME=str(folder))
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                    f"--user-data-dir={folder / 'profile'}", f"--print-to-pdf={pdf}", html.as_uri()],
                   env=env, capture_output=True, timeout=180, check=True)
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def test_the_issuing_body_mark_is_whole_on_one_line(printed):
    assert "朔州市市场监督管理局文件" in lines(printed)


def test_no_line_breaks_inside_a_phrase_or_a_number(printed):
    rows = lines(printed)
    for a, b in zip(rows, rows[1:]):
        joined = a[-6:] + b[:6]
        for phrase in ("双随机", "一公开"):
            if phrase in joined:
                assert phrase in a or phrase in b, (a, b)
    # Table cells: the ratio with its percent sign, the short headers whole.
    assert re.search(r"不低于\s*5%|不低于5%", printed)
    assert not re.search(r"\d\s*\n\s*%", printed)
    assert "序号" in printed
