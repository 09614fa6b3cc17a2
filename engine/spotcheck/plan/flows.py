"""OR-tools' min-cost max-flow and the repairs of its optima, two parts at a time on two cores.

OR-tools holds the GIL while it solves, so a thread cannot solve a second network beside it; a helper
process can. A year's parts (spotcheck.plan.network._components: a city's units) are independent
networks: while this process solves one, the helper solves another, and this process works out the
potentials of each solved part while the helper is still busy. Each network's optimum is what it is
whichever process finds it (the same OR-tools on the same arcs), so the teams do not change. A small
year is solved here alone: starting the helper (a fresh interpreter importing NumPy and OR-tools)
costs more than it saves.

The repairs of a pricing round (spotcheck.plan.repair: shortest paths in scipy, which holds the GIL
too) are independent in the same way, one per part, and go to the helper the same way. Whichever process
finds an optimum also works out its proof (spotcheck.plan.proof), so the helper's parts do not wait for
this process to prove them.

The helper is `python -m spotcheck.plan.flows`, fed through its standard input and output (not
multiprocessing: its spawned children run the caller's main script again, which a script without a
`__main__` guard does not survive). A job goes as three int64 (its kind, its number of arrays and of
numbers), the numbers, each array's length, then the arrays of int64; the answer comes back as a
status and an array's length, then the array (at an optimum, the flow on each arc, then its proof when
asked for: `proved`).
"""

from __future__ import annotations

import select
import subprocess
import sys
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO, NamedTuple

import numpy as np
from ortools.graph.python import min_cost_flow
from spotcheck import pipes
from spotcheck.errors import SpotcheckError

HELPER_VISITS = 1 << 17  # visits before a helper is started (a city of a million entities has about 300,000)
OPTIMAL = int(min_cost_flow.SimpleMinCostFlow.OPTIMAL)
LOST = -1  # the helper ended without answering (killed for memory, say)
UNREPAIRED = -2  # a repair that gave up (spotcheck.plan.repair returned None): the part is solved again
SOLVE, REPAIR = 0, 1  # the kinds of job


def optimum(tails: np.ndarray, heads: np.ndarray, caps: np.ndarray, costs: np.ndarray, supply: int,
            n_nodes: int = 0) -> tuple[int, np.ndarray | None]:
    """(OR-tools' status, the flow on each arc at the optimum or None): node 0 sends `supply`, node 1 takes it.
    With `n_nodes`, the flows are followed by their proof (`proved`)."""
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    flow.set_node_supply(0, supply)
    flow.set_node_supply(1, -supply)
    status = int(flow.solve_max_flow_with_min_cost())
    if status != OPTIMAL:
        return status, None
    flows = flow.flows(np.arange(len(tails)))
    del flow  # OR-tools' copy of the network, not held through the proof
    return status, _with_proof(tails, heads, caps, costs, flows, n_nodes) if n_nodes else flows


def _with_proof(tails, heads, caps, costs, flows, n_nodes: int) -> np.ndarray:
    """The flows, their nodes' potentials and which nodes the source reaches, as one array. Imported at the
    first proof: scipy's graphs, about a third of a second of the helper's start-up."""
    from spotcheck.plan.proof import residual_potentials

    try:
        d, reached = residual_potentials(tails, heads, caps, costs, flows, n_nodes)
    except SpotcheckError:
        return flows  # the caller works the proof out again, and reports why it fails
    return np.concatenate([flows, d, reached])


def proved(answer: np.ndarray, n_arcs: int) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """An optimum's flows, and its proof (each node's potential, whether the source reaches it) or None."""
    if len(answer) == n_arcs:
        return answer, None
    d, reached = np.split(answer[n_arcs:], 2)
    # Copies: a part's potentials are kept until the year is proved, its answer's flows (an int64 per arc) need not be.
    return answer[:n_arcs], (d.copy(), reached.astype(bool))


def status_of(code: int) -> min_cost_flow.SimpleMinCostFlow.Status:
    return min_cost_flow.SimpleMinCostFlow.Status(code)


class Job(NamedTuple):
    """What a process is to work out: its kind, its int64 arrays and its numbers."""

    kind: int
    arrays: tuple[np.ndarray, ...]
    numbers: tuple[int, ...]


def solve_job(net: Any, n_nodes: int = 0) -> Job:
    """A network's optimum (spotcheck.plan.network._Net); with `n_nodes`, and its proof."""
    return Job(SOLVE, (net.tails, net.heads, net.caps, net.costs), (net.supply, n_nodes))


def repair_job(tails: np.ndarray, heads: np.ndarray, caps: np.ndarray, costs: np.ndarray, flows: np.ndarray,
               d: np.ndarray, n_old: int) -> Job:
    """An optimum worked along the arcs after the first n_old (spotcheck.plan.repair.repair), and its proof."""
    return Job(REPAIR, (tails, heads, caps, costs, flows, d), (n_old,))


def _repaired(tails, heads, caps, costs, flows, d, n_old) -> tuple[int, np.ndarray | None]:
    # Imported at the first repair: it brings scipy.linalg too, while a city's year is mostly proved without one.
    from spotcheck.plan.repair import repair

    got = repair(tails, heads, caps, costs, flows, d, n_old)
    return (UNREPAIRED, None) if got is None else (OPTIMAL, _with_proof(tails, heads, caps, costs, got, len(d)))


_WORK = {SOLVE: optimum, REPAIR: _repaired}


def run(job: Job) -> tuple[int, np.ndarray | None]:
    """(status, the answer's array or None), worked out in this process."""
    return _WORK[job.kind](*job.arrays, *job.numbers)


class Helper:
    """A process that works out the jobs it is sent (solves, repairs), one at a time."""

    def __init__(self) -> None:
        self._process = pipes.start("spotcheck.plan.flows")

    def send(self, job: Job) -> None:
        out = self._process.stdin
        try:
            _write(out, np.array([job.kind, len(job.arrays), len(job.numbers), *job.numbers, *map(len, job.arrays)],
                                 dtype=np.int64))
            for a in job.arrays:
                _write(out, np.ascontiguousarray(a, dtype=np.int64))
            out.flush()
        except OSError:  # it has ended: receive() says so
            pass

    def ready(self) -> bool:
        """Has it answered (or ended)? Without waiting."""
        return bool(select.select([self._process.stdout], [], [], 0)[0])

    def receive(self) -> tuple[int, np.ndarray | None]:
        head = pipes.read_exactly(self._process.stdout, 16)
        if head is None:
            return LOST, None
        status, n = (int(x) for x in np.frombuffer(head, dtype=np.int64))
        if n < 0:
            return status, None
        body = pipes.read_exactly(self._process.stdout, 8 * n)
        return (LOST, None) if body is None else (status, np.frombuffer(body, dtype=np.int64))

    def close(self) -> None:
        try:
            self._process.stdin.close()  # its end of input: it stops
        except OSError:
            pass
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process.stdout.close()


class helper_for:
    """A Helper for a year of `visits` visits, or None when it is too small to gain from one. Started
    before the candidates are searched, it has its imports done by the time the first part is sent."""

    def __init__(self, visits: int) -> None:
        self.helper = Helper() if visits >= HELPER_VISITS else None

    def __enter__(self) -> Helper | None:
        return self.helper

    def __exit__(self, *_: object) -> None:
        if self.helper is not None:
            self.helper.close()


def optima(jobs: Iterable[tuple[Any, Job]], helper: Helper | None) -> Iterator[tuple[Any, int, np.ndarray | None]]:
    """(key, status, answer) for each (key, job) of `jobs`, in the order they are done: with a helper,
    a job goes to it whenever it is free, and this process works out the next one. A helper found done
    is given its next job before the answers in hand are worked on by the caller, so it waits only while
    that job is made, not also while the answers are entered."""
    away = None
    done: list[tuple[Any, int, np.ndarray | None]] = []
    try:
        for key, job in jobs:
            if away is not None and helper.ready():
                done.append((away, *helper.receive()))
                away = None
            if helper is not None and away is None:
                helper.send(job)
                away = key
            else:
                done.append((key, *run(job)))
                if away is not None and helper.ready():
                    done.append((away, *helper.receive()))
                    away = None
                    continue  # the next job goes to the helper before these answers are handed on
            yield from _handed(done)
        if away is not None:
            done.append((away, *helper.receive()))
            away = None
        yield from _handed(done)
    finally:
        # Left early (a part failed): the helper's answer is not read by the next caller.
        if away is not None:
            helper.receive()


def _handed(done: list) -> Iterator:
    while done:
        yield done.pop(0)


def _write(stream: BinaryIO, array: np.ndarray) -> None:
    pipes.write_all(stream, memoryview(array))


def _serve(source: BinaryIO, sink: BinaryIO) -> None:
    while (head := pipes.read_exactly(source, 24)) is not None:
        kind, n_arrays, n_numbers = (int(x) for x in np.frombuffer(head, dtype=np.int64))
        sizes = np.frombuffer(pipes.read_exactly(source, 8 * (n_numbers + n_arrays)) or b"", dtype=np.int64)
        if len(sizes) != n_numbers + n_arrays:
            return
        numbers, lengths = [int(x) for x in sizes[:n_numbers]], [int(x) for x in sizes[n_numbers:]]
        arrays = [np.frombuffer(pipes.read_exactly(source, 8 * n) or b"", dtype=np.int64) for n in lengths]
        if [len(a) for a in arrays] != lengths:
            return
        status, answer = run(Job(kind, tuple(arrays), tuple(numbers)))
        del arrays
        _write(sink, np.array([status, -1 if answer is None else len(answer)], dtype=np.int64))
        if answer is not None:
            _write(sink, np.ascontiguousarray(answer, dtype=np.int64))
        sink.flush()


if __name__ == "__main__":
    _serve(sys.stdin.buffer, sys.stdout.buffer)
