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

The helper is `python -m spotcheck.plan.flows DIR` (not multiprocessing: its spawned children run the
caller's main script again, which a script without a `__main__` guard does not survive). Jobs and answers
are files in DIR, a temporary folder; the pipes carry only their numbers, so neither process waits for
the other to finish a solve before a network or an answer is handed over (a process solving a part reads
and writes nothing meanwhile: OR-tools holds the GIL). This process keeps DEPTH jobs at the helper (the
one it works on and the next; one for repairs, whose grown networks are the plan's peak of memory) and solves
a part itself only when the helper has them. A job file is three int64 (its kind, its number of arrays and of numbers), the
numbers, each array's length, then the arrays of int64; whichever process renames it first works it out,
so a job the helper has not started can be taken back. An answer file is the array (at an optimum, the
flow on each arc, then its proof when asked for: `proved`), announced by its job's number, status and
length.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import numpy as np
from ortools.graph.python import min_cost_flow
from spotcheck import pipes
from spotcheck.errors import SpotcheckError

HELPER_VISITS = 1 << 17  # visits before a helper is started (a city of a million entities has about 300,000)
OPTIMAL = int(min_cost_flow.SimpleMinCostFlow.OPTIMAL)
LOST = -1  # the helper ended without answering (killed for memory, say)
UNREPAIRED = -2  # a repair that gave up (spotcheck.plan.repair returned None): the part is solved again
DEPTH = 2  # jobs at the helper at once: while this process solves a part, the helper finishes one and starts the next
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
    """A process that works out the jobs it is sent (solves, repairs), one at a time, in the order sent."""

    def __init__(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="spotcheck-flows-"))
        try:
            self._process = pipes.start("spotcheck.plan.flows", str(self._dir))
        except OSError:
            shutil.rmtree(self._dir, ignore_errors=True)
            raise
        self._sent = 0

    def send(self, job: Job) -> int | None:
        """Queue a job; returns its number, which its answer comes back with, or None when it could not be
        written (a full disk, say): this process works it out instead."""
        number, self._sent = self._sent, self._sent + 1
        written = self._dir / f"{number}.part"
        try:
            with open(written, "wb") as out:
                _write_job(out, job)
            # Renamed whole into place: the helper never starts a job half written.
            os.replace(written, self._dir / f"{number}.job")
        except OSError:
            written.unlink(missing_ok=True)
            return None
        try:
            _put(self._process.stdin.fileno(), np.array([number], dtype=np.int64))
        except OSError:  # it has ended: receive() says so
            pass
        return number

    def take_back(self, number: int) -> Job | None:
        """Job `number` to work out here, or None when the helper has started it (its answer will come)."""
        mine = self._dir / f"{number}.here"
        try:
            os.rename(self._dir / f"{number}.job", mine)
        except FileNotFoundError:
            return None
        try:
            return _read_job(mine)
        finally:
            mine.unlink()

    def ready(self) -> bool:
        """Has it answered (or ended)? Without waiting."""
        return bool(select.select([self._process.stdout], [], [], 0)[0])

    def receive(self) -> tuple[int, int, np.ndarray | None]:
        """(the job's number, status, answer) of the next job it has done; (-1, LOST, None) once it has ended."""
        head = _take(self._process.stdout.fileno(), 24)
        if head is None:
            return -1, LOST, None
        number, status, n = (int(x) for x in np.frombuffer(head, dtype=np.int64))
        if n < 0:
            return number, status, None
        path = self._dir / f"{number}.answer"
        try:
            answer = np.fromfile(path, dtype=np.int64)
            path.unlink()
        except OSError:
            return -1, LOST, None
        return (number, status, answer) if len(answer) == n else (-1, LOST, None)

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
        shutil.rmtree(self._dir, ignore_errors=True)


class helper_for:
    """A Helper for a year of `visits` visits, or None when it is too small to gain from one. Started
    before the candidates are searched, it has its imports done by the time the first part is sent."""

    def __init__(self, visits: int) -> None:
        self.helper = None
        if visits >= HELPER_VISITS:
            try:
                self.helper = Helper()
            except OSError:  # no temporary folder to hand it jobs through (a read-only /tmp, say): solved here alone
                pass

    def __enter__(self) -> Helper | None:
        return self.helper

    def __exit__(self, *_: object) -> None:
        if self.helper is not None:
            self.helper.close()


def optima(jobs: Iterable[tuple[Any, Job]], helper: Helper | None, depth: int = DEPTH) -> Iterator[tuple[Any, int, np.ndarray | None]]:
    """(key, status, answer) for each (key, job) of `jobs`, in the order they are done: with a helper, a
    job goes to it while it has fewer than `depth`, and this process works out the next one. A helper with
    room is sent its next job before the answers in hand are handed to the caller, so it does not wait
    while they are entered; once there is no job left to make, this process takes back the newest job the
    helper has not started."""
    if helper is None:
        for key, job in jobs:
            yield (key, *run(job))
        return
    away: dict[int, Any] = {}  # job number → key, of the jobs at the helper
    done: list[tuple[Any, int, np.ndarray | None]] = []
    try:
        for key, job in jobs:
            _collect(helper, away, done, wait=False)
            number = helper.send(job) if len(away) < depth else None
            if number is not None:
                away[number] = key
            else:
                done.append((key, *run(job)))
                _collect(helper, away, done, wait=False)
            if len(away) < depth:
                continue
            yield from _handed(done)
        while away:
            newest = max(away)
            job = helper.take_back(newest) if len(away) > 1 else None
            if job is None:
                _collect(helper, away, done, wait=True)
            else:
                done.append((away.pop(newest), *run(job)))
            yield from _handed(done)
        yield from _handed(done)
    finally:
        # Left early (a part failed): no answer of these is left for the next caller to read.
        for number in sorted(away, reverse=True):
            if helper.take_back(number) is not None:
                del away[number]
        while away:
            number, status, _ = helper.receive()
            if status == LOST:
                break
            away.pop(number, None)


def _collect(helper: Helper, away: dict[int, Any], done: list, wait: bool) -> None:
    """The helper's answers that have come (with `wait`, at least one) into `done`."""
    while away and (wait or helper.ready()):
        number, status, answer = helper.receive()
        if status == LOST:  # it has ended: every job it held is lost with it
            done.extend((away.pop(n), LOST, None) for n in sorted(away))
            return
        done.append((away.pop(number), status, answer))
        wait = False


def _handed(done: list) -> Iterator:
    while done:
        yield done.pop(0)


def _write_job(stream: BinaryIO, job: Job) -> None:
    head = np.array([job.kind, len(job.arrays), len(job.numbers), *job.numbers, *map(len, job.arrays)], dtype=np.int64)
    for a in (head, *job.arrays):
        pipes.write_all(stream, memoryview(np.ascontiguousarray(a, dtype=np.int64)))


def _read_job(path: Path) -> Job:
    data = np.fromfile(path, dtype=np.int64)
    kind, n_arrays, n_numbers = (int(x) for x in data[:3])
    numbers = tuple(int(x) for x in data[3 : 3 + n_numbers])
    lengths = data[3 + n_numbers : 3 + n_numbers + n_arrays]
    bounds = np.cumsum(np.concatenate([[3 + n_numbers + n_arrays], lengths]))
    return Job(kind, tuple(data[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)), numbers)


def _put(fd: int, message: np.ndarray) -> None:
    """A message on a pipe, by the descriptor: a stop (Ctrl-Z, SIGSTOP) may end a write early, having written part."""
    view = memoryview(message).cast("B")
    while view:
        view = view[os.write(fd, view):]


def _take(fd: int, size: int) -> bytes | None:
    """`size` bytes from a pipe by its descriptor (no buffer that select cannot see), or None if it ends first."""
    data = b""
    while len(data) < size:
        more = os.read(fd, size - len(data))
        if not more:
            return None
        data += more
    return data


def _serve(folder: Path, source: int, sink: int) -> None:
    while (head := _take(source, 8)) is not None:
        number = int(np.frombuffer(head, dtype=np.int64)[0])
        mine = folder / f"{number}.work"
        try:
            os.rename(folder / f"{number}.job", mine)
        except FileNotFoundError:  # taken back: the caller works it out
            continue
        job = _read_job(mine)
        mine.unlink()
        status, answer = run(job)
        del job
        if answer is not None:
            np.ascontiguousarray(answer, dtype=np.int64).tofile(folder / f"{number}.answer")
        _put(sink, np.array([number, status, -1 if answer is None else len(answer)], dtype=np.int64))
    # The caller has ended its end of our input: nothing here is read again, even if it was killed.
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    _serve(Path(sys.argv[1]), sys.stdin.fileno(), sys.stdout.fileno())
