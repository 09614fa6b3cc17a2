"""The helper process: parts it solves give the teams this process gives, and its failures read as T811."""

import numpy as np
import pytest
from plan.test_assignment import _grouped_side
from plan.test_pricing import _full, _pairs, _universe
from spotcheck.errors import SpotcheckError
from spotcheck.plan import assignment, flows, pricing


@pytest.fixture(scope="module")
def helper():
    with flows.helper_for(flows.HELPER_PAIRS) as h:
        yield h


@pytest.fixture
def sent(helper, monkeypatch):
    """How many networks went to the helper."""
    count = []
    real = flows.Helper.send
    monkeypatch.setattr(flows.Helper, "send", lambda self, net: count.append(len(net.tails)) or real(self, net))
    return count


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
        universe, general = _universe(seed)
        priced = assignment.priced_matching(universe, general).side
        full = _full(universe, general)
        active = np.ones(len(general), dtype=bool)
        capacity = np.ones(universe.n_people, dtype=np.int64)
        assert _pairs(priced, assignment._solve(priced, active, capacity, helper)) == _pairs(full, assignment._solve(full, active, capacity))
    assert sent


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
    with flows.helper_for(flows.HELPER_PAIRS) as lost:
        lost._process.kill()
        lost._process.wait()
        with pytest.raises(SpotcheckError) as caught:
            assignment._solve(side, np.ones(n_visits, dtype=bool), np.full(n_people, 2, dtype=np.int64), lost)
    assert caught.value.problems[0].code == "T811" and "子进程" in caught.value.problems[0].message


def test_a_small_year_starts_no_helper():
    with flows.helper_for(flows.HELPER_PAIRS - 1) as h:
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
        "with flows.helper_for(flows.HELPER_PAIRS) as helper:\n"
        "    got = assignment._solve(side, np.ones(n_visits, dtype=bool), np.full(n_people, 2, dtype=np.int64), helper)\n"
        "print(int(got.sum()))\n"
    )
    side, n_visits, n_people = _grouped_side(3)
    want = int(assignment._solve(side, np.ones(n_visits, dtype=bool), np.full(n_people, 2, dtype=np.int64)).sum())
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == [str(want)]
