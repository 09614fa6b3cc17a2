"""`spotcheck demo` end to end, and what it leaves behind."""

from __future__ import annotations

import json

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
