"""The example policies written from real plans outside the seeds (policies/examples/): each one loads,
and its directory can be synthesised, drawn, staffed, verified and printed as letters and as its plan."""

from __future__ import annotations

import csv
import datetime as dt

import pytest
from spotcheck.draw import pipeline
from spotcheck.draw.pools import plan_tasks
from spotcheck.notices.api import make_notice
from spotcheck.plan import workplan
from spotcheck.policy.loader import load_policy
from spotcheck.policy.validate import validate_paths
from spotcheck.resources import POLICIES

EXAMPLES = sorted(p for p in (POLICIES / "examples").rglob("*.yaml")
                  if p.parent.name != "items" and not p.name.endswith(".cases.yaml"))
# A day inside each plan's draw months, so every task with numbers draws.
DRAWN_ON = {"chongqing/2024": dt.date(2024, 5, 6), "bozhou/2024": dt.date(2024, 4, 8), "luzhou/2025": dt.date(2025, 4, 7),
            "shanggao/2023": dt.date(2023, 3, 6), "doumen/2023": dt.date(2023, 8, 1),
            "shanxi/joint-2021": dt.date(2021, 4, 6), "shanxi/taiyuan/2021": dt.date(2021, 4, 6)}


def _name(path) -> str:
    return path.relative_to(POLICIES / "examples").with_suffix("").as_posix()


def test_every_example_has_its_cases_and_names_its_source():
    assert {_name(p) for p in EXAMPLES} == set(DRAWN_ON)
    for path in EXAMPLES:
        assert path.with_name(path.stem + ".cases.yaml").exists()
        head = path.read_text("utf-8").split("\nid:")[0]
        assert "http" in head and "read 2026-" in head, f"{path}: the header comment names the page and the day it was read"


@pytest.mark.parametrize("path", EXAMPLES, ids=_name)
def test_an_example_runs_the_whole_path(path, tmp_path):
    assert validate_paths([path]) == []
    if not plan_tasks(load_policy(path)):
        # A province's rows for its cities (山西 2021, 地市): the cities' policies draw them, not this one.
        assert all(t.regions for t in load_policy(path).policy.tasks)
        return
    data, out, ledger = tmp_path / "dir", tmp_path / "draw", tmp_path / "l.db"
    pipeline.synthesize(path, entities=1500, inspectors=40, seed="e", out_dir=data)
    pipeline.draw(path, data / "entities.csv", out, ledger_path=ledger, seed="e", drawn_on=DRAWN_ON[_name(path)])
    workplan.plan(out, inspectors_path=data / "inspectors.csv", ledger_path=ledger, policy_path=path)
    report = pipeline.verify(out, data / "entities.csv", policy_path=path, inspectors_path=data / "inspectors.csv")
    assert report.ok, report.problems
    with open(out / "visits.csv", encoding="utf-8") as f:
        visits = list(csv.DictReader(f))
    with open(out / "teams.csv", encoding="utf-8") as f:
        staffed = {row["visit_id"] for row in csv.DictReader(f)}
    assert {v["visit_id"] for v in visits} <= staffed
    # A plan that states no number anywhere (斗门 2023) draws nothing and says why; any other draws.
    stated = [t for t in load_policy(path).policy.tasks if t.sampling.unstated is None]
    assert bool(visits) == bool(stated)
    if not stated:
        assert "计划未写明比例" in (out / "summary.json").read_text("utf-8")
    letters = make_notice(path, fmt="md", kind="letter", draw_dir=out)
    assert letters.count("随机抽查通知书") >= len(visits)
    plan = make_notice(path, fmt="md")
    assert load_policy(path).policy.tasks[0].name in plan
