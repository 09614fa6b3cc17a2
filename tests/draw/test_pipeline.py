"""Draws end to end: commit and reveal, the ledger, atomic folders, verification."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from conftest import SHUOZHOU
from spotcheck.draw import pipeline
from spotcheck.plan import workplan
from spotcheck.errors import SpotcheckError
from spotcheck.ledger.store import Ledger

ON = dt.date(2021, 4, 1)


def _draw(dirs, out, ledger, **kw):
    return pipeline.draw(SHUOZHOU, dirs / "entities.csv", out, ledger_path=ledger, **kw)


def test_drill_is_reproducible_and_verifies(shuozhou_dirs, tmp_path):
    a = _draw(shuozhou_dirs, tmp_path / "a", tmp_path / "l.db", seed="s", drawn_on=ON)
    _draw(shuozhou_dirs, tmp_path / "b", tmp_path / "l.db", seed="s", drawn_on=ON)
    for name in a.files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert pipeline.verify(tmp_path / "a", shuozhou_dirs / "entities.csv").ok
    assert '"drill": true' in (tmp_path / "a/transcript.json").read_text("utf-8")
    with Ledger.open(tmp_path / "l.db") as ledger:
        assert [r.kind for r in ledger.iter()] == ["drill", "drill"]
        assert ledger.history() == []  # drills never count towards frequency caps


def test_verify_matches_the_directory_by_content_not_by_name(shuozhou_dirs, tmp_path):
    _draw(shuozhou_dirs, tmp_path / "d", tmp_path / "l.db", seed="n", drawn_on=ON)
    renamed = tmp_path / "名录-2021年4月导出.csv"
    shutil.copyfile(shuozhou_dirs / "entities.csv", renamed)
    report = pipeline.verify(tmp_path / "d", renamed)
    assert report.ok, [p.format() for p in report.problems]


def test_verify_fails_after_one_entity_row_is_edited(shuozhou_dirs, tmp_path):
    _draw(shuozhou_dirs, tmp_path / "d", tmp_path / "l.db", seed="v", drawn_on=ON)
    drawn = (tmp_path / "d/draws.csv").read_text("utf-8").splitlines()[1].split(",")[3]
    edited = tmp_path / "entities.csv"
    lines = (shuozhou_dirs / "entities.csv").read_text("utf-8").splitlines(keepends=True)
    # Take a drawn entity out of scope by changing its status to 注销.
    i = next(i for i, line in enumerate(lines) if line.startswith(drawn))
    cells = lines[i].split(",")
    cells[3] = "注销"
    lines[i] = ",".join(cells)
    edited.write_text("".join(lines), "utf-8")
    report = pipeline.verify(tmp_path / "d", edited)
    assert not report.ok
    codes = [p.code for p in report.problems]
    assert "V703" in codes and "V701" in codes
    assert any(p.file == "draws.csv" for p in report.problems)


def test_commit_then_reveal_once(shuozhou_dirs, tmp_path):
    ledger = tmp_path / "l.db"
    c = pipeline.commit(SHUOZHOU, shuozhou_dirs / "entities.csv", ledger_path=ledger, beacon="双色球2021036期开奖号码", drawn_on=ON,
                        reveal_as="numbers:6+1", actor="王科长")
    result = _draw(shuozhou_dirs, tmp_path / "d", ledger, reveal="03 07 12 19 25 31 + 09", commitment_id=c.id, actor="王科长")
    assert not result.seed.drill and result.drawn_on == ON
    assert pipeline.verify(tmp_path / "d", shuozhou_dirs / "entities.csv").ok
    with pytest.raises(SpotcheckError) as err:
        _draw(shuozhou_dirs, tmp_path / "again", ledger, reveal="other value", commitment_id=c.id, actor="王科长")
    assert err.value.problems[0].code == "L402"
    assert not (tmp_path / "again").exists()
    with Ledger.open(ledger) as led:
        kinds = [r.kind for r in led.iter()]
        assert kinds.count("refused_redraw") == 1 and kinds.count("draw") == 1
        assert len(led.history(year=2021)) == result.drawn.height
        assert led.verify().ok


def test_the_commitment_fixes_the_reveal_format_and_the_actor(shuozhou_dirs, tmp_path):
    ledger = tmp_path / "l.db"
    with pytest.raises(SpotcheckError) as err:
        pipeline.commit(SHUOZHOU, shuozhou_dirs / "entities.csv", ledger_path=ledger, beacon="双色球", drawn_on=ON,
                        reveal_as="numbers:6+1", actor=None)
    assert err.value.problems[0].code == "R513" and "SPOTCHECK_ACTOR" in err.value.problems[0].hint
    with pytest.raises(SpotcheckError) as err:
        pipeline.commit(SHUOZHOU, shuozhou_dirs / "entities.csv", ledger_path=ledger, beacon="双色球", drawn_on=ON,
                        reveal_as="任意", actor="王科长")
    assert err.value.problems[0].code == "R508"
    c = pipeline.commit(SHUOZHOU, shuozhou_dirs / "entities.csv", ledger_path=ledger, beacon="双色球2021036期", drawn_on=ON,
                        reveal_as="numbers:6+1", actor="王科长")
    with pytest.raises(SpotcheckError) as err:
        _draw(shuozhou_dirs, tmp_path / "x", ledger, reveal="03 07 12 19 25 31 + 09", commitment_id=c.id)
    assert err.value.problems[0].code == "R513"
    with pytest.raises(SpotcheckError) as err:
        _draw(shuozhou_dirs, tmp_path / "x", ledger, reveal="03 07 12 19 25 + 09", commitment_id=c.id, actor="王科长")
    assert err.value.problems[0].code == "R509" and not (tmp_path / "x").exists()
    # Another spelling of the same numbers is the same value: the same key as the canonical form.
    result = _draw(shuozhou_dirs, tmp_path / "d", ledger, reveal="3,7,12,19,25,31+9", commitment_id=c.id, actor="王科长")
    assert result.seed.value == "03 07 12 19 25 31 + 09"
    with Ledger.open(ledger) as led:
        assert {r.actor for r in led.iter() if r.kind in ("commitment", "draw")} == {"王科长"}


def test_a_drill_outside_the_policy_year_is_refused(shuozhou_dirs, tmp_path):
    with pytest.raises(SpotcheckError) as err:
        _draw(shuozhou_dirs, tmp_path / "d", tmp_path / "l.db", seed="s", drawn_on=dt.date(2026, 4, 1))
    assert err.value.problems[0].code == "R514" and "2021" in err.value.problems[0].message
    assert not (tmp_path / "d").exists()


def test_reveal_refuses_changed_inputs(shuozhou_dirs, tmp_path):
    ledger = tmp_path / "l.db"
    c = pipeline.commit(SHUOZHOU, shuozhou_dirs / "entities.csv", ledger_path=ledger, beacon="beacon round 1", drawn_on=ON,
                        reveal_as="hex:2", actor="王科长")
    changed = tmp_path / "entities.csv"
    shutil.copy(shuozhou_dirs / "entities.csv", changed)
    with changed.open("a", encoding="utf-8") as f:
        f.write("\n")
    with pytest.raises(SpotcheckError) as err:
        pipeline.draw(SHUOZHOU, changed, tmp_path / "d", ledger_path=ledger, reveal="1f", commitment_id=c.id, actor="王科长")
    assert [p.code for p in err.value.problems] == ["R502"]
    assert not (tmp_path / "d").exists()


def _committed(dirs, ledger):
    return pipeline.commit(SHUOZHOU, dirs / "entities.csv", ledger_path=ledger, beacon="双色球2021036期开奖号码", drawn_on=ON,
                           reveal_as="numbers:6+1", actor="王科长")


def test_a_reveal_reads_the_directory_its_commitment_checked_without_checking_it_again(shuozhou_dirs, tmp_path, monkeypatch):
    # Two ledgers, one commitment (its id follows the committed values only): one reveal checks the directory
    # whole, the other may not, and both must write the same folder.
    c = _committed(shuozhou_dirs, tmp_path / "whole.db")
    assert _committed(shuozhou_dirs, tmp_path / "known.db").id == c.id
    with monkeypatch.context() as m:
        m.setattr(pipeline, "load_known", lambda *_: None)
        whole = _draw(shuozhou_dirs, tmp_path / "whole", tmp_path / "whole.db", reveal="03 07 12 19 25 31 + 09", commitment_id=c.id,
                      actor="王科长")
    monkeypatch.setattr(pipeline, "load_sheet", lambda *_: pytest.fail("the directory the commitment checked was checked again"))
    known = _draw(shuozhou_dirs, tmp_path / "known", tmp_path / "known.db", reveal="03 07 12 19 25 31 + 09", commitment_id=c.id,
                  actor="王科长")
    assert known.drawn.height and sorted(known.files) == sorted(whole.files)
    for name in whole.files:
        assert (tmp_path / "known" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name


def test_a_reveal_checks_a_directory_changed_since_the_commitment_whole(shuozhou_dirs, tmp_path):
    ledger = tmp_path / "l.db"
    c = _committed(shuozhou_dirs, ledger)
    changed = tmp_path / "entities.csv"
    lines = (shuozhou_dirs / "entities.csv").read_text("utf-8").splitlines(keepends=True)
    changed.write_text("".join([lines[0], lines[1].replace(",存续,", ",,", 1), *lines[2:]]), "utf-8")
    with pytest.raises(SpotcheckError) as err:
        pipeline.draw(SHUOZHOU, changed, tmp_path / "d", ledger_path=ledger, reveal="03 07 12 19 25 31 + 09", commitment_id=c.id,
                      actor="王科长")
    # The blank status is found (the directory was checked) before the changed input is refused.
    assert [(p.code, p.row) for p in err.value.problems] == [("D205", 2)]
    assert not (tmp_path / "d").exists()


def test_bad_directory_reports_all_and_draws_nothing(tmp_path):
    bad = tmp_path / "entities.csv"
    # Missing 信用风险等级 column, a bad check digit, a duplicate USCC.
    bad.write_text(
        "统一社会信用代码,企业名称,主体类型,登记状态,所属辖区\n"
        "91140602MA0K0000X1,甲,企业,存续,朔城区\n"
        "91350100M000100Y43,乙,企业,存续,朔城区\n"
        "91350100M000100Y43,丙,企业,存续,朔城区\n",
        "utf-8",
    )
    with pytest.raises(SpotcheckError) as err:
        pipeline.draw(SHUOZHOU, bad, tmp_path / "d", ledger_path=tmp_path / "l.db", seed="x", drawn_on=ON)
    codes = {p.code for p in err.value.problems}
    assert len(codes) >= 3
    assert not (tmp_path / "d").exists()
    assert not (tmp_path / "l.db").exists() or Ledger.open(tmp_path / "l.db").head()[0] == 0


def test_killed_draw_leaves_ledger_whole_and_no_folder(tmp_path):
    """SIGKILL a real draw at several moments: each time, either it finished or nothing is left."""
    data = tmp_path / "data"
    pipeline.synthesize(SHUOZHOU, 60000, 300, "kill", data)
    ledger = tmp_path / "l.db"
    states = set()
    for k, delay in enumerate((0.3, 1.0, 2.0, 3.0, 60.0)):
        out = tmp_path / f"d{k}"
        cmd = [sys.executable, "-m", "spotcheck.cli", "draw", str(SHUOZHOU), "--entities", str(data / "entities.csv"),
               "--seed", f"k{k}", "--date", "2021-04-01", "--out", str(out), "--ledger", str(ledger)]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        time.sleep(0.1)
        with Ledger.open(ledger) as led:
            assert led.verify().ok
            recorded = {r.body["out"] for r in led.iter(kind="drill")}
        finished = out.exists()
        assert finished == (str(out) in recorded)
        if finished:
            assert pipeline.verify(out, data / "entities.csv").ok
        states.add(finished)
    assert True in states  # the last, unhurried run finished


def test_draw_reports_each_step_and_counts_the_tasks(shuozhou_dirs, tmp_path):
    seen = []
    _draw(shuozhou_dirs, tmp_path / "p", tmp_path / "l.db", seed="p", drawn_on=ON,
          progress=lambda step, done=None, total=None: seen.append((step, done, total)))
    steps = list(dict.fromkeys(step for step, _, _ in seen))
    assert steps[0] == "读取策略" and steps[-1] == "写入抽取结果与台账"
    ranked = [done for step, done, total in seen if step == "按随机数排序抽取" and total == 21]
    assert ranked == list(range(21))



DRAW_ALONE = """
import datetime as dt, sys
from pathlib import Path
from spotcheck.draw import pipeline

policy, data, out = map(Path, sys.argv[1:])
pipeline.draw(policy, data / "entities.csv", out / "d", ledger_path=out / "l.db", seed="alone", drawn_on=dt.date(2021, 4, 1))
print(" ".join(m for m in ("ortools", "scipy", "spotcheck.plan.changes", "spotcheck.directory.synth") if m in sys.modules))
"""


def test_a_draw_loads_neither_the_plans_solvers_nor_the_synthetic_data(shuozhou_dirs, tmp_path):
    """A draw is one command's process: the plan's OR-Tools and SciPy and synth's modules are loaded by the
    commands that use them, not by every draw."""
    proc = subprocess.run([sys.executable, "-c", DRAW_ALONE, str(SHUOZHOU), str(shuozhou_dirs), str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_a_policy_without_tasks_is_refused_before_anything_is_written(shuozhou_dirs, tmp_path):
    baseline = SHUOZHOU.parents[2] / "national" / "baseline.yaml"  # floors only, no tasks
    with pytest.raises(SpotcheckError) as exc:
        pipeline.draw(baseline, shuozhou_dirs / "entities.csv", tmp_path / "out", ledger_path=tmp_path / "l.db",
                      seed="s", drawn_on=ON)
    assert [p.code for p in exc.value.problems] == ["R507"]
    assert not (tmp_path / "out").exists()


def test_a_task_stratified_by_class_alone_draws(tmp_path):
    # Changzhi's hospital task has sampling classes and no other strata (stratify: []).
    from spotcheck.resources import POLICIES

    policy = POLICIES / "shanxi/changzhi/2024.yaml"
    pipeline.synthesize(policy, 1500, 120, "classes", tmp_path / "dirs")
    result = pipeline.draw(policy, tmp_path / "dirs/entities.csv", tmp_path / "d", ledger_path=tmp_path / "l.db", seed="c", drawn_on=dt.date(2024, 3, 4))
    by_class = [t for t in result.summary.tasks if any("三级定点医疗机构" in s.stratum for s in t.strata)]
    assert by_class and sum(s.drawn for s in by_class[0].strata) > 0


def test_a_county_listing_no_districts_is_its_own_district(tmp_path):
    # A 县局 plan names no districts below it: its synthetic directory is its own county, inspected by itself.
    policy = tmp_path / "policies/jiangxi/shanggao/2023.yaml"
    policy.parent.mkdir(parents=True)
    policy.write_text("""id: jiangxi/shanggao/2023
extends: spotcheck:national/baseline
year: 2023
jurisdiction: {code: "360923", name: 上高县市场监督管理局, region: 上高县, level: district}
tasks:
  - id: t02
    name: 对经营者价格活动的行政检查
    type: 定向
    items: [SG-02]
    scope: {field: type, op: eq, value: 企业}
    scope_text: 经营者
    sampling: {ratio: "5%"}
    draw_months: [5, 5]
item_lists: [items.yaml]
""", "utf-8")
    (policy.parent / "items.yaml").write_text("""id: jiangxi/shanggao/items
name: 事项清单
issuer: 上高县市场监督管理局
year: 2023
items: [{code: SG-02, name: 对经营者价格活动的行政检查, method: [实地检查]}]
""", "utf-8")
    written = pipeline.synthesize(policy, entities=300, inspectors=12, seed="c", out_dir=tmp_path / "dir")
    assert sorted(p.name for p in written) == ["entities.csv", "inspectors.csv", "recusals.csv"]
    entities = (tmp_path / "dir/entities.csv").read_text("utf-8")
    assert "上高县" in entities and all(row.split(",")[0][2:8] == "360923" for row in entities.splitlines()[1:])
    assert "上高县市场监督管理局" in (tmp_path / "dir/inspectors.csv").read_text("utf-8")
    # The policy lives outside the bundled policies/: drawing, planning and verifying all take it by path.
    data, out = tmp_path / "dir", tmp_path / "draw"
    pipeline.draw(policy, data / "entities.csv", out, ledger_path=tmp_path / "l.db", seed="c", drawn_on=dt.date(2023, 5, 8))
    workplan.plan(out, inspectors_path=data / "inspectors.csv", ledger_path=tmp_path / "l.db", policy_path=policy)
    report = pipeline.verify(out, data / "entities.csv", policy_path=policy, inspectors_path=data / "inspectors.csv")
    assert report.ok, report.problems
    assert "teams.csv" in report.checked
