"""The README's stand-alone script (docs/recompute_draw.py) recomputes a task's drawn list."""

from __future__ import annotations

import csv
import datetime as dt
import subprocess
import sys

from conftest import SHUOZHOU
from spotcheck import pipeline
from spotcheck.paths import ROOT

SCRIPT = ROOT / "docs/recompute_draw.py"


def test_readme_carries_the_script():
    readme = (ROOT / "README.md").read_text("utf-8")
    assert SCRIPT.read_text("utf-8").strip() in readme


def test_script_recomputes_each_task(shuozhou_dirs, tmp_path):
    out = tmp_path / "d"
    pipeline.draw(SHUOZHOU, shuozhou_dirs / "entities.csv", out, ledger_path=tmp_path / "l.db", seed="readme", drawn_on=dt.date(2021, 4, 1))
    with (out / "draws.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for task_id in ("t01", "t19", "t21"):
        expected = sorted(",".join((r["task_id"], r["round"], r["stratum"], r["uscc"])) for r in rows if r["task_id"] == task_id)
        run = subprocess.run([sys.executable, str(SCRIPT), str(out), task_id], capture_output=True, text=True, check=True)
        assert sorted(run.stdout.splitlines()) == expected and expected
    # Tampering with eligible.csv is caught by the script's own check.
    text = (out / "eligible.csv").read_text("utf-8").splitlines()
    (out / "eligible.csv").write_text("\n".join(text[:-1]) + "\n", "utf-8")
    last_task = text[-1].split(",")[0]
    run = subprocess.run([sys.executable, str(SCRIPT), str(out), last_task], capture_output=True, text=True)
    assert run.returncode != 0
