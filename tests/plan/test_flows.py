"""The helper process: parts it solves give the teams this process gives, and its failures read as T811."""

import ast
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from plan.test_assignment import _grouped_side
from plan.test_repair import _network, _optimum, priced_and_full
from spotcheck.errors import SpotcheckError
from spotcheck.plan import assignment, flows, pricing, proof


@pytest.fixture(scope="module")
def helper():
    with flows.helper_for(flows.HELPER_VISITS) as h:
        yield h


@pytest.fixture
def sent(helper, monkeypatch):
    """The kinds of job that went to the helper."""
    kinds = []
    real = flows.Helper.send
    monkeypatch.setattr(flows.Helper, "send", lambda self, job: kinds.append(job.kind) or real(self, job))
    return kinds


@pytest.mark.parametrize("seed", range(5))
def test_parts_the_helper_solves_are_the_parts_solved_here(seed, helper, sent):
    side, n_visits, n_people = _grouped_side(seed)
    active = np.ones(n_visits, dtype=bool)
    capacity = np.full(n_people, 2, dtype=np.int64)
    here = assignment._solve(side, active, capacity)
    assert not sent
    both = assignment._solve(side, active, capacity, helper)
    assert sent  # the first part at least went to the helper
    assert here.any() and (both == here).all()


def test_a_priced_year_repaired_with_the_helper_equals_the_full_solve(helper, sent, monkeypatch):
    monkeypatch.setattr(pricing, "CANDIDATES", 1)
    for seed in range(30):
        priced, full = priced_and_full(seed, helper=helper)
        assert priced == full
    assert flows.REPAIR in sent and flows.SOLVE in sent


def test_a_repair_the_helper_gives_up_reads_as_one_given_up_here(helper):
    """Potentials that do not prove the old flow: the part is solved again, whichever process tried."""
    tails, heads, caps, costs, _ = _network(3)
    flows_ = _optimum(tails, heads, caps, costs)
    d, _ = proof.residual_potentials(tails, heads, caps, costs, flows_, int(heads.max()) + 1)
    wrong = d.copy()
    wrong[tails[np.argmax(costs)]] -= 2**40
    for potentials, status in ((d, flows.OPTIMAL), (wrong, flows.UNREPAIRED)):
        job = flows.repair_job(tails, heads, caps, costs, flows_, potentials, len(tails))
        here = flows.run(job)
        number = helper.send(job)
        got, *there = helper.receive()
        assert got == number
        assert here[0] == there[0] == status
        assert (here[1] is None and there[1] is None) or (here[1] == there[1]).all()


def test_a_network_the_helper_cannot_solve_reads_as_t811(helper):
    side, n_visits, n_people = _grouped_side(0)
    side.pair_cost[:] = np.int64(1) << 62  # beyond what OR-tools' cost scaling holds
    with pytest.raises(SpotcheckError) as caught:
        assignment._solve(side, np.ones(n_visits, dtype=bool), np.full(n_people, 2, dtype=np.int64), helper)
    assert caught.value.problems[0].code == "T811"
    assert "费用数值超出求解器范围" in caught.value.problems[0].message
    # The helper is still there for the next network.
    side, n_visits, n_people = _grouped_side(1)
    assert assignment._solve(side, np.ones(n_visits, dtype=bool), np.full(n_people, 2, dtype=np.int64), helper).any()


def test_a_helper_that_ends_without_answering_reads_as_t811():
    side, n_visits, n_people = _grouped_side(2)
    with flows.helper_for(flows.HELPER_VISITS) as lost:
        lost._process.kill()
        lost._process.wait()
        with pytest.raises(SpotcheckError) as caught:
            assignment._solve(side, np.ones(n_visits, dtype=bool), np.full(n_people, 2, dtype=np.int64), lost)
    assert caught.value.problems[0].code == "T811" and "子进程" in caught.value.problems[0].message


def test_a_small_year_starts_no_helper():
    with flows.helper_for(flows.HELPER_VISITS - 1) as h:
        assert h is None


def test_a_script_without_a_main_guard_can_use_the_helper(tmp_path):
    """multiprocessing's spawned children run the caller's main script again: the helper must not."""
    import subprocess
    import sys

    script = tmp_path / "plan_it.py"
    script.write_text(
        "import sys\n"
        f"sys.path[:0] = {[str(p) for p in sys.path if p]!r}\n"
        "import numpy as np\n"
        "from plan.test_assignment import _grouped_side\n"
        "from spotcheck.plan import assignment, flows\n"
        "side, n_visits, n_people = _grouped_side(3)\n"
        "with flows.helper_for(flows.HELPER_VISITS) as helper:\n"
        "    got = assignment._solve(side, np.ones(n_visits, dtype=bool), np.full(n_people, 2, dtype=np.int64), helper)\n"
        "print(int(got.sum()))\n"
    )
    side, n_visits, n_people = _grouped_side(3)
    want = int(assignment._solve(side, np.ones(n_visits, dtype=bool), np.full(n_people, 2, dtype=np.int64)).sum())
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == [str(want)]


def _star(n: int) -> flows.Job:
    """Node 0 sends n units to node 1 through n middle nodes: its answer is 2n flows, every one 1."""
    middle = np.arange(2, n + 2, dtype=np.int64)
    tails = np.concatenate([np.zeros(n, np.int64), middle])
    heads = np.concatenate([middle, np.ones(n, np.int64)])
    return flows.Job(flows.SOLVE, (tails, heads, np.ones(2 * n, np.int64), np.arange(2 * n, dtype=np.int64)), (n,))


def _received(helper: flows.Helper, seconds: float = 60) -> tuple:
    """The helper's answer; if none comes in time, the helper is killed (its pipe ends) so the test fails, not hangs."""
    got = []
    reader = threading.Thread(target=lambda: got.append(helper.receive()), daemon=True)
    reader.start()
    reader.join(seconds)
    if reader.is_alive():
        helper._process.kill()
        reader.join()
    return got[0]


def test_an_answer_worked_out_through_a_stop_and_continue_arrives_whole():
    """Ctrl-Z and fg (SIGSTOP, SIGCONT) while the helper works: its answer still comes, whole."""
    n = 1 << 19
    with flows.helper_for(flows.HELPER_VISITS) as helper:
        number = helper.send(_star(n))
        time.sleep(0.3)
        os.kill(helper._process.pid, signal.SIGSTOP)
        time.sleep(0.1)
        os.kill(helper._process.pid, signal.SIGCONT)
        got, status, answer = _received(helper)
        assert got == number and status == flows.OPTIMAL
        assert answer is not None and len(answer) == 2 * n and (answer == 1).all()


def test_a_job_number_sent_through_short_writes_arrives_whole(monkeypatch):
    """A stop ends a write to a pipe early, having written part: the rest of the job's number must follow."""
    real = os.write
    monkeypatch.setattr(flows.os, "write", lambda fd, data: real(fd, memoryview(data).cast("B")[:3]))
    n = 1 << 12
    with flows.helper_for(flows.HELPER_VISITS) as helper:
        numbers = [helper.send(_star(n)) for _ in range(3)]
        monkeypatch.undo()
        answers = [_received(helper) for _ in numbers]
    assert [a[0] for a in answers] == numbers
    assert all(status == flows.OPTIMAL and (answer == 1).all() for _, status, answer in answers)


def test_a_job_the_helper_has_not_started_is_taken_back_whole():
    """Taken back, a job is this process's to work out: the helper skips it and answers the others."""
    with flows.helper_for(flows.HELPER_VISITS) as helper:
        os.kill(helper._process.pid, signal.SIGSTOP)  # it starts nothing until this test has taken one back
        try:
            jobs = [_star(8), _star(16), _star(32)]
            numbers = [helper.send(job) for job in jobs]
            back = helper.take_back(numbers[1])
            assert helper.take_back(numbers[1]) is None  # taken once only
        finally:
            os.kill(helper._process.pid, signal.SIGCONT)
        assert back is not None and back.kind == jobs[1].kind and back.numbers == jobs[1].numbers
        assert all((a == b).all() for a, b in zip(back.arrays, jobs[1].arrays, strict=True))
        assert [_received(helper)[0] for _ in range(2)] == [numbers[0], numbers[2]]
        # Started, a job cannot be taken back: its answer comes.
        last = helper.send(_star(8))
        while not helper.ready():
            time.sleep(0.01)
        assert helper.take_back(last) is None and _received(helper)[0] == last


@pytest.mark.parametrize("depth", [flows.DEPTH, 1])
def test_the_helper_is_kept_busy_while_this_process_solves(monkeypatch, depth):
    """`depth` jobs go to the helper before this process solves one itself, and once no job is left to make this
    process takes back the newest one the helper has not started."""
    events = []
    real_send, real_run = flows.Helper.send, flows.run
    monkeypatch.setattr(flows.Helper, "send", lambda self, job: events.append(("send", job.numbers[0])) or real_send(self, job))
    monkeypatch.setattr(flows, "run", lambda job: events.append(("here", job.numbers[0])) or real_run(job))
    sizes = [1 << 17, 1 << 16, 8, 1 << 15, 1 << 14]
    with flows.helper_for(flows.HELPER_VISITS) as helper:
        os.kill(helper._process.pid, signal.SIGSTOP)  # busy for as long as this test says
        try:
            answers = flows.optima(((n, _star(n)) for n in sizes), helper, depth)
            first = next(answers)
        finally:
            os.kill(helper._process.pid, signal.SIGCONT)
        rest = list(answers)
    assert events[:depth + 1] == [*(("send", n) for n in sizes[:depth]), ("here", sizes[depth])]
    assert first[0] == sizes[depth]
    keys = [first[0]] + [key for key, _, _ in rest]
    assert sorted(keys) == sorted(sizes)
    assert all(status == flows.OPTIMAL for _, status, _ in [first, *rest])
    assert all(len(answer) == 2 * key and (answer == 1).all() for key, _, answer in [first, *rest])


def test_the_helpers_folder_goes_with_it(tmp_path):
    """Closed, or its caller gone without closing it (killed), the jobs' folder is removed."""
    with flows.helper_for(flows.HELPER_VISITS) as helper:
        folder = helper._dir
        helper.send(_star(8))
        assert helper.receive()[1] == flows.OPTIMAL
        assert folder.is_dir()
    assert not folder.exists()
    orphan = flows.Helper()
    orphan._process.stdin.close()  # as a killed caller's pipe ends
    orphan._process.wait(timeout=60)
    assert not orphan._dir.exists()
    orphan._process.stdout.close()


def test_the_helper_starts_without_what_it_seldom_needs():
    """Every large plan pays the helper's start-up: scipy's graphs serve repairs only, which most years never send,
    and the package's release (importlib.metadata) is never asked for there."""
    root = str(Path(flows.__file__).resolve().parents[2])
    shown = ("import runpy, sys, tempfile; sys.argv[1:] = [tempfile.mkdtemp()]; "
             "runpy.run_module('spotcheck.plan.flows', run_name='__main__'); print(sorted(sys.modules))")
    out = subprocess.run([sys.executable, "-c", shown], input=b"", capture_output=True, check=True,
                         env={**os.environ, "PYTHONPATH": root}).stdout.decode()
    modules = set(ast.literal_eval(out))
    assert {"numpy", "ortools.graph.python.min_cost_flow", "spotcheck.plan"} <= modules
    assert not {m for m in modules if m == "scipy" or m.startswith("scipy.")}
    assert "importlib.metadata" not in modules


def test_each_part_is_proved_by_the_process_that_solved_it(helper, sent, monkeypatch):
    """The helper sends each optimum back with its potentials: this process does not work them out again."""
    monkeypatch.setattr(pricing, "CANDIDATES", 1)
    again = []
    real = assignment.residual_potentials
    monkeypatch.setattr(assignment, "residual_potentials", lambda *a: again.append(1) or real(*a))
    for seed in range(10):
        priced, full = priced_and_full(seed, helper=helper)
        assert priced == full
    assert flows.SOLVE in sent and flows.REPAIR in sent
    assert not again


def test_an_optimum_sent_back_with_its_proof_holds_the_proof_worked_out_here(helper):
    tails, heads, caps, costs, _ = _network(5)
    n_nodes = int(heads.max()) + 1
    job = flows.Job(flows.SOLVE, (tails, heads, caps, costs), (int(caps[tails == 0].sum()), n_nodes))
    helper.send(job)
    _, status, answer = helper.receive()
    assert status == flows.OPTIMAL
    got, (d, reached) = flows.proved(answer, len(tails))
    want_d, want_reached = proof.residual_potentials(tails, heads, caps, costs, got, n_nodes)
    assert (got == _optimum(tails, heads, caps, costs)).all()
    assert (d == want_d).all() and (reached == want_reached).all()
    # The potentials are kept until the year is proved: they must not keep the answer's flows alive with them.
    assert d.base is None and reached.base is None


def test_flows_that_cannot_be_proved_come_back_without_a_proof():
    """A proof that fails where the part was solved is worked out again by the caller, which reports it (T811)."""
    tails, heads, caps, costs, _ = _network(5)
    cycle = np.zeros(len(tails), dtype=np.int64)  # nothing flows, yet an arc of negative cost closes a cycle
    tails, heads = np.append(tails, [3, 2]), np.append(heads, [2, 3])
    caps, costs, cycle = np.append(caps, [1, 1]), np.append(costs, [-5, 1]), np.append(cycle, [0, 0])
    answer = flows._with_proof(tails, heads, caps, costs, cycle, int(heads.max()) + 1)
    got, proof_ = flows.proved(answer, len(tails))
    assert proof_ is None and (got == cycle).all()
    with pytest.raises(SpotcheckError):
        proof.residual_potentials(tails, heads, caps, costs, cycle, int(heads.max()) + 1)


def test_a_job_that_cannot_be_written_is_worked_out_here(monkeypatch):
    """A full disk where the jobs' folder is: the part is solved in this process, with the same answer."""
    def full(stream, job):
        stream.write(b"\0" * 8)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(flows, "_write_job", full)
    with flows.helper_for(flows.HELPER_VISITS) as helper:
        got = list(flows.optima(((n, _star(n)) for n in (8, 16, 32)), helper))
        assert not list(helper._dir.iterdir())  # nothing half written is left there
    assert sorted(key for key, _, _ in got) == [8, 16, 32]
    assert all(status == flows.OPTIMAL and len(answer) == 2 * key and (answer == 1).all() for key, status, answer in got)


def test_no_temporary_folder_means_no_helper(monkeypatch):
    """Without a temporary folder to hand jobs through (a read-only /tmp), the year is solved in this process."""
    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "/tmp")

    monkeypatch.setattr(flows.tempfile, "mkdtemp", refused)
    with flows.helper_for(flows.HELPER_VISITS) as h:
        assert h is None
