"""PDF fidelity: what LibreOffice prints is the DOCX's text, in the intended free stand-in fonts.

Runs where LibreOffice, poppler-utils and the stand-in fonts are installed (CI installs them from
.ci/apt-packages.txt); elsewhere it is skipped, naming what is missing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import shutil
import subprocess
import zipfile
from collections import Counter

import pytest
from lxml import etree
from conftest import announced_rows
from spotcheck.notices import api as notice
from spotcheck.notices import docx_render
from spotcheck.notices.announcements import results_notice
from spotcheck.notices.titles import capacity, title_lines
from spotcheck.policy.loader import load_policy
from spotcheck.resources import POLICIES

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
TOOLS = ("soffice", "pdftotext", "pdffonts")
missing = [t for t in TOOLS if shutil.which(t) is None]
pytestmark = pytest.mark.skipif(bool(missing), reason=f"not installed: {', '.join(missing)}")


def fonts_installed() -> list[str]:
    if shutil.which("fc-list") is None:
        return []
    families = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True).stdout
    return [f for f in ("LXGW WenKai", "AR PL UKai CN", "Noto Serif CJK SC", "Noto Sans CJK SC") if f not in families]


@pytest.fixture(scope="module")
def shuozhou():
    absent = fonts_installed()
    if absent:
        pytest.skip(f"stand-in fonts not installed: {', '.join(absent)} (see .ci/apt-packages.txt)")
    loaded = load_policy(POLICIES / "shanxi/shuozhou/2021.yaml")
    docx = notice.render(loaded, fmt="docx")
    return docx, docx_render.to_pdf(docx)


def docx_paragraphs(docx: bytes) -> tuple[list[str], str]:
    """The body's paragraphs outside tables, in order, and all of the body's text."""
    body = etree.fromstring(zipfile.ZipFile(io.BytesIO(docx)).read("word/document.xml")).find(f"{W}body")
    paragraphs = ["".join(t.text or "" for t in p.iter(f"{W}t")) for p in body.iter(f"{W}p")
                  if not any(a.tag == f"{W}tbl" for a in p.iterancestors())]
    return [p for p in paragraphs if p.strip()], "".join(t.text or "" for t in body.iter(f"{W}t"))


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "n.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return re.sub(r"—\s*\d+\s*—", "", text)  # page numbers


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_pdf_text_equals_the_docx_text(shuozhou, tmp_path):
    docx, pdf = shuozhou
    paragraphs, everything = docx_paragraphs(docx)
    printed = squeeze(pdf_text(pdf, tmp_path))
    # Not one character of the document is lost (a "，" ending a line once vanished) …
    assert Counter(squeeze(everything)) - Counter(printed) == Counter()
    # … the paragraphs come out whole and in order (tables repeat their header row on every page) …
    at = 0
    for p in paragraphs:
        found = printed.find(squeeze(p), at)
        assert found >= 0, f"paragraph missing or broken in the PDF: {p[:40]}"
        at = found + len(squeeze(p))
    # … and line-end punctuation survives where it used to disappear.
    assert "充实基层执法力量，缓解" in printed and "提升执法能力水平，要" in printed


def test_pdf_fonts_are_the_intended_stand_ins(shuozhou, tmp_path):
    _, pdf = shuozhou
    path = tmp_path / "n.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    names = {line.split()[0].split("+", 1)[-1] for line in listing.splitlines()[2:] if line.strip()}
    # 仿宋 body → LXGW WenKai, 黑体 headings → Noto Sans CJK, 小标宋 title → Noto Serif CJK Bold,
    # 宋体 page numbers → Noto Serif CJK (the collections name their shared outlines "jp", whatever face is used).
    assert any(n.startswith("LXGWWenKai") for n in names), names
    assert any(n.startswith("NotoSansCJK") for n in names), names
    assert any(n.startswith("NotoSerifCJK") and "-Bold" in n for n in names), names
    allowed = ("LXGWWenKai", "UKai", "NotoSansCJK", "NotoSerifCJK")
    assert all(n.startswith(allowed) for n in names), names


@pytest.mark.parametrize("body", ["", "示范市东区市场监督管理局"])
def test_results_notice_prints_each_code_and_date_on_one_line(demo_policy, tmp_path, body):
    """Both results tables (检查机关 a column, row 1's body being the task's own; or stated above the table)."""
    absent = fonts_installed()
    if absent:
        pytest.skip(f"stand-in fonts not installed: {', '.join(absent)} (see .ci/apt-packages.txt)")
    codes = ["WWWWWWWWWWWWWWWWWW", "MMMMMMMMMMMMMMMMMM", "91130302MAMXRKR00U"]
    rows = announced_rows(3, r1={"inspecting_body": body})
    for row, code in zip(rows, codes, strict=True):
        row.update(uscc=code, completed="2026-12-31")
    pdf = docx_render.to_pdf(notice.render_results_notice(demo_policy, rows, "docx"))
    lines = pdf_text(pdf, tmp_path).splitlines()
    assert all(any(code in line for line in lines) for code in codes)
    assert sum("2026年12月31日" in line.replace(" ", "") for line in lines) == len(codes)


def test_printed_title_lines_are_the_computed_ones(shuozhou, demo_policy, tmp_path):
    """GB/T 9704 §7.3.2: LibreOffice breaks the title where notices.titles does and nowhere else."""
    issuer = "秦皇岛市市场监督管理局"
    results = dataclasses.replace(results_notice(demo_policy, announced_rows(3), dt.date(2026, 12, 6)), issuer=issuer,
                                  title=f"{issuer}2026年度第001号抽查任务检查结果公告")
    landscape = docx_render.to_pdf(notice.render_notice(demo_policy, results, "docx"))
    for pdf, width, issuer, lines in (
        (shuozhou[1], 156, "朔州市市场监督管理局", ("朔州市市场监督管理局关于印发2021年度", "双随机抽查工作计划的通知")),
        (landscape, 225, issuer, (f"{issuer}2026年度", "第001号抽查任务检查结果公告")),
    ):
        assert title_lines("".join(lines), capacity(width, 22), issuer) == lines
        printed = [squeeze(line) for line in pdf_text(pdf, tmp_path).splitlines()]
        at = printed.index(lines[0])
        assert printed[at:at + len(lines)] == list(lines)
