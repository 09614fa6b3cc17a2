"""The README's stand-alone script (docs/recompute_draw.py) recomputes a task's drawn list."""

from __future__ import annotations

import csv
import datetime as dt
import subprocess
import sys

import polars as pl
from conftest import SHUOZHOU
from spotcheck.draw import compute as draw
from spotcheck.draw.history import history_frame
from spotcheck.draw import pipeline
from spotcheck.draw.commitment import drill_seed
from spotcheck.directory.load import load_entities
from spotcheck.draw.folder import write_files
from spotcheck.policy.loader import load_policy
from conftest import ROOT

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


def test_script_recomputes_independent_draws(shuozhou_dirs, tmp_path):
    # Independent tasks hash a unit with the stratum in it; the script must agree on that too.
    loaded = load_policy(SHUOZHOU)
    result = draw.compute(
        loaded, load_entities(shuozhou_dirs / "entities.csv"), history_frame([], 2021), drill_seed("alone"),
        dt.date(2021, 4, 1), coordination_override="independent",
    )
    write_files(tmp_path, result.files)
    for task_id in ("t01", "t19"):
        expected = sorted(
            ",".join((r["task_id"], str(r["round"]), r["stratum"], r["uscc"]))
            for r in result.drawn.filter(pl.col("task_id") == task_id).iter_rows(named=True)
        )
        run = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path), task_id], capture_output=True, text=True, check=True)
        assert sorted(run.stdout.splitlines()) == expected and expected
