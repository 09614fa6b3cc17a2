import hashlib

import pytest
from spotcheck.errors import SpotcheckError
from spotcheck.draw.folder import first_difference, staged, write_file_atomic, write_files


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
