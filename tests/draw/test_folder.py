import datetime as dt
import hashlib
import shutil
import signal
import subprocess
import sys

import pytest
from conftest import SHUOZHOU
from spotcheck.draw import pipeline
from spotcheck.draw.folder import first_difference, recover, staged, write_file_atomic, write_files
from spotcheck.errors import SpotcheckError
from spotcheck.ledger.store import Ledger
from spotcheck.plan import workplan


def test_staged_folder_becomes_the_output_on_success(tmp_path):
    out = tmp_path / "draw"
    with staged(out) as stage:
        assert stage.parent == tmp_path and stage != out and not out.exists()
        write_files(stage, {"draws.csv": b"a\n", "sub/x.json": b"{}"})
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == ["draws.csv", "sub/x.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["draw"]


def test_staged_leaves_nothing_when_the_work_fails(tmp_path):
    out = tmp_path / "draw"
    with pytest.raises(RuntimeError), staged(out) as stage:
        write_files(stage, {"draws.csv": b"half written"})
        raise RuntimeError("the draw crashed")
    assert list(tmp_path.iterdir()) == []


def test_staged_refuses_a_folder_that_is_not_empty_and_leaves_it_alone(tmp_path):
    out = tmp_path / "draw"
    out.mkdir()
    (out / "draws.csv").write_bytes(b"earlier draw")
    with pytest.raises(SpotcheckError) as exc, staged(out):
        pytest.fail("the body must not run")
    assert [p.code for p in exc.value.problems] == ["F602"]
    assert [p.name for p in tmp_path.iterdir()] == ["draw"]
    assert [p.name for p in out.iterdir()] == ["draws.csv"] and (out / "draws.csv").read_bytes() == b"earlier draw"


def test_adding_keeps_the_old_folder_when_the_work_fails(tmp_path):
    out = tmp_path / "draw"
    out.mkdir()
    (out / "draws.csv").write_bytes(b"draw")
    with pytest.raises(RuntimeError), staged(out, adding=True) as stage:
        assert (stage / "draws.csv").read_bytes() == b"draw"
        write_files(stage, {"teams.csv": b"teams"})
        raise RuntimeError("killed")
    assert [p.name for p in tmp_path.iterdir()] == ["draw"]
    assert [p.name for p in out.iterdir()] == ["draws.csv"]
    with staged(out, adding=True) as stage:
        write_files(stage, {"teams.csv": b"teams"})
    assert sorted(p.name for p in out.iterdir()) == ["draws.csv", "teams.csv"]
    assert [p.name for p in tmp_path.iterdir()] == ["draw"]


def test_adding_links_the_existing_files_instead_of_copying_them(tmp_path):
    out = tmp_path / "draw"
    (out / "units").mkdir(parents=True)
    (out / "eligible.csv").write_bytes(b"a province's gigabyte\n")
    (out / "units" / "u.xlsx").write_bytes(b"xlsx")
    with staged(out, adding=True) as stage:
        for name in ("eligible.csv", "units/u.xlsx"):
            assert (stage / name).stat().st_ino == (out / name).stat().st_ino
    assert (out / "eligible.csv").read_bytes() == b"a province's gigabyte\n" and (out / "eligible.csv").stat().st_nlink == 1


def test_a_file_rewritten_in_a_failed_addition_keeps_its_old_bytes(tmp_path):
    out = tmp_path / "draw"
    out.mkdir()
    (out / "summary.json").write_bytes(b"the draw's summary")
    with pytest.raises(RuntimeError), staged(out, adding=True) as stage:
        write_files(stage, {"summary.json": lambda: iter([b"with the plan's ", b"sections"])})
        assert (stage / "summary.json").read_bytes() == b"with the plan's sections"
        raise RuntimeError("the plan crashed")
    assert (out / "summary.json").read_bytes() == b"the draw's summary"


def test_adding_copies_where_the_file_system_cannot_link(tmp_path, monkeypatch):
    import os

    out = tmp_path / "draw"
    out.mkdir()
    (out / "draws.csv").write_bytes(b"draw")

    def refused(source, target):
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", refused)
    with staged(out, adding=True) as stage:
        assert (stage / "draws.csv").read_bytes() == b"draw"
        assert (stage / "draws.csv").stat().st_ino != (out / "draws.csv").stat().st_ino
        write_files(stage, {"teams.csv": b"teams"})
    assert sorted(p.name for p in out.iterdir()) == ["draws.csv", "teams.csv"]


def test_adding_to_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(SpotcheckError) as exc, staged(tmp_path / "nowhere", adding=True):
        pytest.fail("the body must not run")
    assert [p.code for p in exc.value.problems] == ["F601"]
    assert list(tmp_path.iterdir()) == []


def test_write_file_atomic_replaces_the_file_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "out" / "plan.md"
    write_file_atomic(path, b"first")
    write_file_atomic(path, b"second")
    assert path.read_bytes() == b"second"
    assert [p.name for p in path.parent.iterdir()] == ["plan.md"]


def test_first_difference_names_the_line():
    assert first_difference("draws.csv", b"a\nb\n", b"a\nb\n") is None
    changed = first_difference("draws.csv", b"a\nb\nc\n", b"a\nB\nc\n")
    assert (changed.code, changed.file) == ("V701", "draws.csv") and "第 2 行" in changed.message
    shorter = first_difference("draws.csv", b"a\nb\n", b"a\n")
    assert "重算 2 行，文件中 1 行" in shorter.message


def test_first_difference_reads_pieces_and_files(tmp_path):
    path = tmp_path / "eligible.csv"
    path.write_bytes(b"h\n" + b"x\n" * 5000 + b"y\n")
    expected = lambda: iter([b"h\nx", b"\n" * 1, b"x\n" * 4999, b"z\n"])  # noqa: E731
    changed = first_difference("eligible.csv", expected, path)
    assert "第 5002 行" in changed.message and "'z'" in changed.message and "'y'" in changed.message
    same = lambda: iter([b"h\n", b"x\n" * 5000, b"y\n"])  # noqa: E731
    assert first_difference("eligible.csv", same, path) is None
    assert "换行" in first_difference("eligible.csv", b"h\n" + b"x\n" * 5000 + b"y", path).message


def test_write_files_writes_pieces(tmp_path):
    digests = write_files(tmp_path, {"big.csv": lambda: iter([b"a\n", b"b\n"]), "small.json": b"{}"})
    assert (tmp_path / "big.csv").read_bytes() == b"a\nb\n"
    assert digests == {name: hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() for name in ("big.csv", "small.json")}


def test_files_and_folders_honour_the_umask(tmp_path):
    import os

    from spotcheck.draw.folder import staged, write_file_atomic

    old = os.umask(0o022)
    try:
        with staged(tmp_path / "out") as stage:
            (stage / "a.csv").write_bytes(b"x")
        write_file_atomic(tmp_path / "out" / "b.csv", b"y")
    finally:
        os.umask(old)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "out" / "b.csv").stat().st_mode & 0o777 == 0o644


# ---------------------------------------------------------------- kill -9 at the worst instants, then the next command

KILLED_RUN = """
import datetime as dt, os, signal, sys
from pathlib import Path
from spotcheck.draw import folder, pipeline
from spotcheck.plan import workplan

what, at, policy, data, out, ledger = sys.argv[1], sys.argv[2], *map(Path, sys.argv[3:])
calls = []

def kill_at(name, real):
    def wrapped(*args, **kwargs):
        calls.append(name)
        if calls.count(name) == int(at.split(":")[1]) and at.startswith(name):
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    return wrapped

os.rename = kill_at("rename", os.rename)
folder._sync_tree = kill_at("sync", folder._sync_tree)
if what == "draw":
    pipeline.draw(policy, data / "entities.csv", out, ledger_path=ledger, seed="k", drawn_on=dt.date(2021, 4, 1))
else:
    workplan.plan(out, inspectors_path=data / "inspectors.csv", recusals_path=data / "recusals.csv", ledger_path=ledger)
"""


def killed(what, at, dirs, out, ledger):
    """Run a draw or a plan in a child that SIGKILLs itself at the n-th call of rename or of the pre-commit
    fsync; returns only if the kill really landed there."""
    proc = subprocess.run([sys.executable, "-c", KILLED_RUN, what, at, str(SHUOZHOU), str(dirs), str(out), str(ledger)],
                          capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr


def records(ledger, kind):
    with Ledger.open(ledger) as led:
        assert led.verify().ok
        return led.find(kind)


def test_a_kill_between_the_ledger_commit_and_the_rename_is_finished_by_the_next_command(shuozhou_dirs, tmp_path):
    out, ledger = tmp_path / "d", tmp_path / "l.db"
    killed("draw", "rename:1", shuozhou_dirs, out, ledger)
    (drill,) = records(ledger, "drill")  # committed …
    assert not out.exists()  # … but not yet in place: the kill landed between the two
    with Ledger.open(ledger) as led:
        assert recover(led) == [out]
    assert pipeline.verify(out, shuozhou_dirs / "entities.csv").ok
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_kill_before_the_commit_leaves_nothing_once_the_draw_is_retried(shuozhou_dirs, tmp_path):
    out, ledger = tmp_path / "d", tmp_path / "l.db"
    killed("draw", "sync:1", shuozhou_dirs, out, ledger)  # files written, not yet committed
    assert records(ledger, "drill") == [] and not out.exists()
    assert any(p.name.startswith(".d.") for p in tmp_path.iterdir())  # the stranded staging folder
    pipeline.draw(SHUOZHOU, shuozhou_dirs / "entities.csv", out, ledger_path=ledger, seed="k", drawn_on=dt.date(2021, 4, 1))
    assert len(records(ledger, "drill")) == 1 and pipeline.verify(out, shuozhou_dirs / "entities.csv").ok
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_kill_between_the_plans_two_renames_never_loses_the_draw_folder(shuozhou_dirs, tmp_path):
    out, ledger = tmp_path / "d", tmp_path / "l.db"
    pipeline.draw(SHUOZHOU, shuozhou_dirs / "entities.csv", out, ledger_path=ledger, seed="k", drawn_on=dt.date(2021, 4, 1))
    killed("plan", "rename:2", shuozhou_dirs, out, ledger)
    assert len(records(ledger, "drill_plan")) == 1 and not out.exists()  # the old folder moved aside, the new not yet in
    with Ledger.open(ledger) as led:
        recover(led)
    assert (out / "visits.csv").is_file() and (out / "draws.csv").is_file()
    with pytest.raises(SpotcheckError) as exc:  # a retry is refused by the folder, the record is not doubled
        workplan.plan(out, inspectors_path=shuozhou_dirs / "inspectors.csv", ledger_path=ledger)
    assert exc.value.problems[0].code == "T802" and len(records(ledger, "drill_plan")) == 1


def test_the_ledger_refuses_a_plan_recorded_twice(shuozhou_dirs, tmp_path):
    out, ledger = tmp_path / "d", tmp_path / "l.db"
    pipeline.draw(SHUOZHOU, shuozhou_dirs / "entities.csv", out, ledger_path=ledger, seed="k", drawn_on=dt.date(2021, 4, 1))
    twin = tmp_path / "twin"
    shutil.copytree(out, twin)  # two runs that both saw a folder without a plan
    workplan.plan(out, inspectors_path=shuozhou_dirs / "inspectors.csv", ledger_path=ledger)
    with pytest.raises(SpotcheckError) as exc:
        workplan.plan(twin, inspectors_path=shuozhou_dirs / "inspectors.csv", ledger_path=ledger)
    assert [p.code for p in exc.value.problems] == ["T828"]
    assert len(records(ledger, "drill_plan")) == 1 and not (twin / "visits.csv").exists()


KILLED_STAGE = """
import os, signal, sys
from pathlib import Path
from spotcheck.draw.folder import staged, write_file_atomic, write_files

out, at = Path(sys.argv[1]), int(sys.argv[2])
real, calls = os.rename, []

def rename(*args):
    calls.append(args)
    if len(calls) == at:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(*args)

os.rename = rename
if at < 0:
    os.replace = lambda *args: os.kill(os.getpid(), signal.SIGKILL)
    write_file_atomic(out / "report.json", b"new")
with staged(out, adding=out.is_dir()) as stage:
    write_files(stage, {"report.json": b"new"})
    if at == 0:
        os.kill(os.getpid(), signal.SIGKILL)
"""


def killed_stage(out, at):
    proc = subprocess.run([sys.executable, "-c", KILLED_STAGE, str(out), str(at)], capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr


@pytest.mark.parametrize(("existing", "at"), [(False, 0), (False, 1), (True, 0), (True, 1), (True, 2)])
def test_a_staging_folder_a_kill_left_is_swept_by_the_next_command(tmp_path, existing, at):
    """Killed while building (0), before the first rename (1), between the two renames of a swap (2):
    the next command finds the folder as it was, and no staging folder beside it."""
    out = tmp_path / "report"
    if existing:
        out.mkdir()
        (out / "report.json").write_text("old")
    killed_stage(out, at)
    assert any(p.name.startswith(".report.") for p in tmp_path.iterdir())
    with staged(out, adding=existing) as stage:
        assert (stage / "report.json").read_text() == "old" if existing else not any(stage.iterdir())
    assert [p.name for p in tmp_path.iterdir()] == ["report"]


def test_a_temporary_file_a_kill_left_is_removed_by_the_next_write(tmp_path):
    out = tmp_path / "report"
    out.mkdir()
    killed_stage(out, -1)
    assert [p.name for p in out.iterdir() if p.name.startswith(".report.json.")]
    write_file_atomic(out / "report.json", b"again")
    assert [p.name for p in out.iterdir()] == ["report.json"]
