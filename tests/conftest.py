"""Shared fixtures: synthetic directories shaped like the seed policies (made once per session), writable
copies of the fixture trees under tests/fixtures, and the helpers the tests that edit those copies share.

Test modules import the constants and helpers from here (`from conftest import edit, line_of`); pytest
finds the fixtures by name.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from unittest import mock
from dataclasses import dataclass
from pathlib import Path

import pytest
import spotcheck
from hypothesis import settings
from docx import Document
from spotcheck.notices import api as notice
from spotcheck.draw import pipeline
from spotcheck.results import records as results
from spotcheck.errors import Problem, SpotcheckError
from spotcheck.ledger.store import Ledger
from spotcheck.policy.loaded import LoadedPolicy
from spotcheck.policy.loader import load_policy
from spotcheck.resources import POLICIES, TEMPLATES

# Property tests check behaviour, not speed: on a loaded 2-core machine an example can take seconds.
settings.register_profile("spotcheck", deadline=None)
settings.load_profile("spotcheck")

SHUOZHOU = POLICIES / "shanxi/shuozhou/2021.yaml"
QINGDAO = POLICIES / "shandong/qingdao/2020.yaml"
LONGWAN = POLICIES / "zhejiang/wenzhou/longwan/2023.yaml"
QINHUANGDAO = POLICIES / "hebei/qinhuangdao/2023.yaml"

ROOT = Path(__file__).resolve().parent.parent  # the repository checkout

# Several checkouts (git worktrees) can share a machine: the tests must exercise this checkout's code,
# not whichever spotcheck the interpreter happens to import.
if spotcheck.__file__ is None or Path(spotcheck.__file__).resolve().parents[2] != ROOT:
    raise pytest.UsageError(
        f"these tests are in {ROOT} but import spotcheck from {spotcheck.__file__ or spotcheck.__path__}; "
        f"install this checkout first: pip install -e '{ROOT}[test]'"
    )
FIXTURES = Path(__file__).parent / "fixtures"
POLICY_FIXTURES = FIXTURES / "policies"
RESULTS = FIXTURES / "results"
RESULTS_POLICY = RESULTS / "policy-2023.yaml"
RESULTS_TODAY = dt.date(2023, 11, 1)  # after every result in results-good.csv was completed
NOTICE_FIXTURES = FIXTURES / "notice"
DEMO = NOTICE_FIXTURES / "policies" / "demo" / "city" / "2023.yaml"
NOTICE_DRAW = NOTICE_FIXTURES / "draw"


# The fixture cities keep the dense label mix (`spotcheck synth --dense`): the tests want strata of
# many entities and entities in several tasks' scopes at once.
@pytest.fixture(scope="session")
def shuozhou_dirs(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("shuozhou")
    pipeline.synthesize(SHUOZHOU, 6000, 400, "fixture", out, dense=True)
    return out


@pytest.fixture(scope="session")
def qingdao_dirs(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("qingdao")
    pipeline.synthesize(QINGDAO, 6000, 120, "fixture", out, dense=True)
    return out


@pytest.fixture(scope="session")
def longwan_dirs(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("longwan")
    pipeline.synthesize(LONGWAN, 3000, 300, "fixture", out, dense=True)
    return out


# ---------------------------------------------------------------- policy files


@pytest.fixture
def policy_tree(tmp_path, monkeypatch) -> Path:
    """A writable copy of tests/fixtures/policies, laid out as in the repository (validators/ three levels
    up, where the files' JSON Schema declarations point), named relative to the working directory."""
    shutil.copytree(POLICY_FIXTURES, tmp_path / "tests" / "fixtures" / "policies")
    shutil.copytree(ROOT / "validators", tmp_path / "validators")
    monkeypatch.chdir(tmp_path)
    return Path("tests/fixtures/policies")


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first `old` in a file; `old` must be there, so an edit that misses fails the test."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str, after: int = 0) -> int:
    """The 1-based number of the first line after line `after` that contains `needle`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if i > after and needle in line)


def policy_problems(path: Path) -> list[Problem]:
    """The problems load_policy raises for a policy file (it must raise)."""
    with pytest.raises(SpotcheckError) as exc:
        load_policy(path)
    return exc.value.problems


# ---------------------------------------------------------------- a draw folder and its results


@pytest.fixture
def draw_dir(tmp_path) -> Path:
    """A writable copy of the results fixture's draw folder (publishing writes into it)."""
    return Path(shutil.copytree(RESULTS / "draw", tmp_path / "draw"))


@pytest.fixture
def visit_rows(draw_dir) -> list[dict[str, str]]:
    """The rows of the draw folder's visits.csv."""
    with open(draw_dir / "visits.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def visit_ledger(tmp_path, visit_rows) -> Path:
    """A ledger holding the draw's `visit` records, as the visits stage writes them."""
    path = tmp_path / "ledger.db"
    with Ledger.open(path, actor="安排人") as led, led.transaction() as tx:
        for row in visit_rows:
            tx.append("visit", row["visit_id"], dict(row))
    return path


@pytest.fixture
def results_ledger(visit_ledger, draw_dir) -> Path:
    """The visit ledger with the good results file imported (nothing approved yet)."""
    results.import_results(RESULTS / "results-good.csv", draw_dir, ledger_path=visit_ledger, today=RESULTS_TODAY)
    return visit_ledger


# ---------------------------------------------------------------- notices


@pytest.fixture(scope="session")
def demo_policy() -> LoadedPolicy:
    """The notice fixture's demo city policy, loaded once."""
    return load_policy(DEMO)


@pytest.fixture(scope="session")
def demo_md(demo_policy) -> str:
    """The demo policy's default notice in Markdown."""
    return notice.render(demo_policy, fmt="md")


@pytest.fixture
def template_root(tmp_path) -> Path:
    """A writable copy of templates/, for tests that override or break a template."""
    root = tmp_path / "templates"
    shutil.copytree(TEMPLATES, root)
    return root


def open_docx(data: bytes):
    return Document(io.BytesIO(data))


def announced_rows(n: int, **extra) -> list[dict]:
    """n rows of a task's results announcement (demo policy's t01); extra: r<i>={field: value} changes row i."""
    out = [{"task_id": "t01", "name": f"示范东区主体{i}有限公司", "uscc": f"91990102MA5H8U{i:04d}", "completed": "2023-12-01",
            "result": "未发现问题", "remarks": "已整改" if i % 3 == 0 else "", "inspecting_body": "示范市东区市场监督管理局"}
           for i in range(n)]
    for i, changes in extra.items():
        out[int(i[1:])].update(changes)
    return out


@pytest.fixture(scope="session")
def shuozhou_docx():
    """Seed 002's plan notice in Word: a 文件 with the 21-row table in a landscape annex. Read it, never change it."""
    return open_docx(notice.render(load_policy(SHUOZHOU), fmt="docx"))


@pytest.fixture(scope="session")
def letter_docx():
    """Seed 000's campaign notice in Word: a 函. Read it, never change it."""
    return open_docx(notice.render(load_policy(QINHUANGDAO), fmt="docx"))


SITE_POLICIES = FIXTURES / "site" / "policies"
SITE_POLICY = SITE_POLICIES / "demo" / "site" / "2023.yaml"


INTERNAL_LABEL = "重点监控对象"  # a label no policy text names: it must never reach the public site


def _add_label(entities: Path, label: str, every: int) -> None:
    with entities.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    column = rows[0].index("监管标签")
    for row in rows[1::every]:
        row[column] = "；".join(x for x in (row[column], label) if x)
    with entities.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)


@dataclass(frozen=True)
class SiteYear:
    """An official draw (commit, then reveal) of the site policy's three tasks, planned, with results published."""

    root: Path
    ledger: Path
    draw: Path
    data: Path


@pytest.fixture(scope="session")
def site_year(tmp_path_factory) -> SiteYear:
    from spotcheck.plan import workplan
    from spotcheck.results import publish
    from spotcheck.results import sample as results_sample

    root = tmp_path_factory.mktemp("site-year")
    data, draw, ledger = root / "data", root / "draw", root / "ledger.db"
    pipeline.synthesize(SITE_POLICY, 3000, 120, "site", data, dense=True)
    _add_label(data / "entities.csv", INTERNAL_LABEL, every=7)
    # Committed the day before the beacon is drawn (2023-11-14), as the ledger's clock records it.
    committed_at = dt.datetime(2023, 11, 13, 2, 0, tzinfo=dt.timezone.utc)
    with mock.patch("spotcheck.ledger.store._utc_now", return_value=committed_at):
        c = pipeline.commit(SITE_POLICY, data / "entities.csv", ledger_path=ledger, beacon="中国福利彩票双色球2023130期开奖号码",
                            drawn_on=dt.date(2023, 11, 14), reveal_as="numbers:6+1", actor="示范市局抽查专员")
    pipeline.draw(SITE_POLICY, data / "entities.csv", draw, ledger_path=ledger, reveal="03 08 14 21 27 30 + 11", commitment_id=c.id,
                  actor="示范市局抽查专员")
    workplan.plan(draw, inspectors_path=data / "inspectors.csv", recusals_path=data / "recusals.csv", ledger_path=ledger,
                  policy_path=SITE_POLICY)
    today = dt.date(2023, 12, 20)
    results_sample.sample_results(draw, root / "results.csv", policy_path=SITE_POLICY, seed="site", today=today)
    results.import_results(root / "results.csv", draw, ledger_path=ledger, actor="测试", today=today)
    results.approve(draw, ledger_path=ledger, actor="测试审核人", on=today)
    publish.publish(draw, root / "public", ledger_path=ledger, policy_path=SITE_POLICY, actor="测试", on=today)
    return SiteYear(root, ledger, draw, data)


@pytest.fixture(scope="session")
def unlisted_site(site_year, tmp_path_factory) -> Path:
    """The site policy with t02's drawn list unpublished (`publish_drawn: false`), drawn as a drill and built."""
    from spotcheck.site import build as site_build

    root = tmp_path_factory.mktemp("unlisted")
    policies = root / "policies"
    shutil.copytree(SITE_POLICIES, policies)
    path = policies / SITE_POLICY.relative_to(SITE_POLICIES)
    edit(path, "    scope_text: 全市加油站\n", "    scope_text: 全市加油站\n    publish_drawn: false\n")
    pipeline.draw(path, site_year.data / "entities.csv", root / "draw", ledger_path=root / "ledger.db", seed="unlisted",
                  drawn_on=dt.date(2023, 11, 14))
    site_build.build(root / "ledger.db", root / "site", policies_dir=policies, drills=True)
    return root


def pytest_collection_modifyitems(items):
    # The suite runs on pytest-xdist's workers (pyproject's addopts): a module goes whole to one worker, so its
    # module fixtures (a built wheel, a drawn year) are made once; every test using the Spark session goes to
    # one worker, so one JVM starts, not one per worker.
    for item in items:
        group = "spark" if "spark" in getattr(item, "fixturenames", ()) else item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(scope="session")
def spark():
    """One local[2] Spark session for every Spark test (starting Spark costs seconds)."""
    from spotcheck.draw import spark as spark_engine

    session = spark_engine.session("local[2]")
    yield session
    session.stop()
