"""`spotcheck demo` end to end, and what it leaves behind."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from spotcheck import demo
from spotcheck.draw import pipeline
from spotcheck.errors import SpotcheckError
from spotcheck.ledger.store import Ledger


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    return demo.run(out, entities=1500, inspectors=150, seed="t")


def test_demo_writes_every_output(demo_run):
    out = demo_run.out
    for rel in ("data/entities.csv", "draw/draws.csv", "draw/visits.csv", "draw/teams.csv", "notices/plan-notice.docx",
                "notices/task-notice.md", "results/results.csv", "report/report.html", "report/report.json"):
        assert (out / rel).is_file(), rel
    assert demo_run.visits == demo_run.staffed + demo_run.unstaffed and demo_run.visits > 0
    assert demo_run.results_imported == demo_run.visits and demo_run.published == demo_run.visits
    assert json.loads((out / "draw/transcript.json").read_text("utf-8"))["drill"] is True
    assert "演练" in (out / "notices/task-notice.md").read_text("utf-8")


def test_demo_folder_verifies(demo_run):
    out = demo_run.out
    report = pipeline.verify(out / "draw", out / "data/entities.csv", inspectors_path=out / "data/inspectors.csv",
                             recusals_path=out / "data/recusals.csv")
    assert report.ok, [p.format() for p in report.problems]
    assert {"visits.csv", "teams.csv", "draws.csv"} <= set(report.checked)
    with Ledger.open(out / "ledger.db") as ledger:
        assert ledger.verify().ok


def test_demo_refuses_a_used_folder_and_keeps_it(demo_run):
    with pytest.raises(SpotcheckError):
        demo.run(demo_run.out, entities=1500, inspectors=150)
    assert (demo_run.out / "draw/draws.csv").is_file()


@pytest.mark.skipif(not (shutil.which("soffice") and shutil.which("pdfinfo") and shutil.which("pdftotext")),
                    reason="LibreOffice or poppler-utils is not installed")
def test_demo_task_notice_is_one_announcement_and_one_page_letters(demo_run, tmp_path):
    from spotcheck.notices import docx_render

    out = demo_run.out
    pages = {}
    for name in ("task-notice", "letters"):
        pdf = tmp_path / f"{name}.pdf"
        pdf.write_bytes(docx_render.to_pdf((out / "notices" / f"{name}.docx").read_bytes()))
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        pages[name] = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        pages[name + "-text"] = text.split("\f")
    assert not any("随机抽查通知书" in p for p in pages["task-notice-text"])
    # One page per visit, and each page is a whole letter: its title and its signature date.
    assert pages["letters"] == demo_run.visits
    letters = [p for p in pages["letters-text"] if p.strip()]
    assert len(letters) == demo_run.visits
    signed = re.compile(r"市场监督管理局\S*\s+\d{4} ?年 ?\d{1,2} ?月 ?\d{1,2} ?日\s+—\s*1\s*—\s*$")
    assert all("随机抽查通知书" in p and "统一社会信用代码" in p and signed.search(p) for p in letters)
