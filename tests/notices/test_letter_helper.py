"""随机抽查通知书 files of a big run written on two processes: the same files, nothing lost, nothing left."""

import os
import pickle
import shutil
import signal
import time

import polars as pl
import pytest
from spotcheck.errors import SpotcheckError
from spotcheck.notices import api, letter_helper


@pytest.fixture(scope="module")
def serial(site_year, tmp_path_factory):
    """The site year's letters written by this process alone (the site year is below HELPER_LETTERS)."""
    from conftest import SITE_POLICY

    out = tmp_path_factory.mktemp("serial") / "letters"
    files = api.write_letters(SITE_POLICY, site_year.draw, out, fmt="docx")
    return files, {name: (out / name).read_bytes() for name, _ in files}


@pytest.fixture
def helped(monkeypatch):
    """Every run helped, however small; the helpers started, and the jobs each process wrote."""
    monkeypatch.setattr(letter_helper, "HELPER_LETTERS", 0)
    started, sent, here = [], [], []
    real_init, real_write, real_here = letter_helper.Helper.__init__, letter_helper.Helper.write, letter_helper._write_here

    def init(self, source):
        real_init(self, source)
        started.append(self)

    def write(self, job):
        sent.append(job.target)
        return real_write(self, job)

    def write_here(files, job):
        here.append(job.target)
        real_here(files, job)

    monkeypatch.setattr(letter_helper.Helper, "__init__", init)
    monkeypatch.setattr(letter_helper.Helper, "write", write)
    monkeypatch.setattr(letter_helper, "_write_here", write_here)
    return started, sent, here


def test_a_helped_run_writes_the_same_files(site_year, serial, helped, tmp_path):
    from conftest import SITE_POLICY

    files, data = serial
    out = tmp_path / "letters"
    assert api.write_letters(SITE_POLICY, site_year.draw, out, fmt="docx") == files
    assert {name: (out / name).read_bytes() for name, _ in files} == data
    assert sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file()) == sorted(data)
    started, sent, here = helped
    assert len(started) == 1 and started[0]._process.poll() == 0
    assert sent and here and not set(sent) & set(here)


def test_a_lost_helper_loses_no_file(site_year, serial, helped, tmp_path, monkeypatch):
    from conftest import SITE_POLICY

    started, sent, _ = helped
    recorded = letter_helper._write_here

    def killing(files, job):
        # Killed once it has a job: that job comes back and is written here.
        if started[0]._process.poll() is None:
            while not sent:
                time.sleep(0.01)
            os.kill(started[0].pid, signal.SIGKILL)
            started[0]._process.wait()
        recorded(files, job)

    monkeypatch.setattr(letter_helper, "_write_here", killing)
    files, data = serial
    out = tmp_path / "letters"
    assert api.write_letters(SITE_POLICY, site_year.draw, out, fmt="docx") == files
    assert {name: (out / name).read_bytes() for name, _ in files} == data
    assert started[0]._process.returncode == -signal.SIGKILL


def test_ctrl_c_leaves_no_folder_and_no_helper(site_year, helped, tmp_path, monkeypatch):
    from conftest import SITE_POLICY

    started, sent, _ = helped

    def interrupted(files, job):
        while not sent:
            time.sleep(0.01)
        raise KeyboardInterrupt

    monkeypatch.setattr(letter_helper, "_write_here", interrupted)
    with pytest.raises(KeyboardInterrupt):
        api.write_letters(SITE_POLICY, site_year.draw, tmp_path / "letters", fmt="docx")
    assert list(tmp_path.iterdir()) == []
    assert started[0]._process.returncode == -signal.SIGKILL


def test_the_helpers_error_is_raised_and_no_folder_left(site_year, helped, tmp_path, monkeypatch):
    from conftest import SITE_POLICY

    draw = tmp_path / "draw"
    shutil.copytree(site_year.draw, draw)
    real = letter_helper.write_files

    def unreadable(files, jobs, helper):
        # This process has read the draw folder; the helper reads it at its first job.
        (draw / "transcript.json").unlink()
        real(files, jobs, helper)

    monkeypatch.setattr(api, "write_files", unreadable)
    with pytest.raises(SpotcheckError) as raised:
        api.write_letters(SITE_POLICY, draw, tmp_path / "letters", fmt="docx")
    assert "R510" in str(raised.value) and "transcript.json" in str(raised.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["draw"]


def test_a_helped_per_entity_run_writes_the_same_zips(site_year, helped, tmp_path, monkeypatch):
    # A zip of one Word file per letter travels through the helper as a unit's file does.
    from conftest import SITE_POLICY

    monkeypatch.setattr(letter_helper, "HELPER_LETTERS", 1 << 62)
    alone = api.write_letters(SITE_POLICY, site_year.draw, tmp_path / "alone", fmt="docx", per_entity=True)
    monkeypatch.setattr(letter_helper, "HELPER_LETTERS", 0)
    out = tmp_path / "helped"
    assert api.write_letters(SITE_POLICY, site_year.draw, out, fmt="docx", per_entity=True) == alone
    assert {name: (out / name).read_bytes() for name, _ in alone} == {name: (tmp_path / "alone" / name).read_bytes()
                                                                        for name, _ in alone}
    assert alone and all(name.suffix == ".zip" for name, _ in alone)
    started, sent, here = helped
    assert len(started) == 1 and started[0]._process.poll() == 0
    assert sent and here and not set(sent) & set(here)


def test_a_batch_is_sent_without_the_rest_of_the_plan_s_texts():
    # A part of a frame keeps its texts as views into the whole frame's buffers, and a list's lines in the whole
    # column's.
    whole = pl.DataFrame({"visit_id": [f"V{n:016x}" for n in range(20_000)],
                          "team": [[f"张三（执法证号 {n:012d}）", "李四（主查）"] for n in range(20_000)],
                          "_month": list(range(20_000))})
    part = whole.filter(pl.col("_month") < 3)
    sent = letter_helper._ipc(part)
    assert len(sent) * 100 < len(pickle.dumps(part))
    got = pl.read_ipc(sent)
    assert got.equals(part) and got.schema == part.schema
