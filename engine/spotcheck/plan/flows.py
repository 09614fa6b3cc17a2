"""OR-tools' min-cost max-flow, two networks at a time on two cores.

OR-tools holds the GIL while it solves, so a thread cannot solve a second network beside it; a helper
process can. A year's parts (spotcheck.plan.network._components: a city's units) are independent
networks: while this process solves one, the helper solves another, and this process works out the
potentials of each solved part while the helper is still busy. Each network's optimum is what it is
whichever process finds it (the same OR-tools on the same arcs), so the teams do not change. A small
year is solved here alone: starting the helper (a fresh interpreter importing NumPy and OR-tools)
costs more than it saves.

The helper is `python -m spotcheck.plan.flows`, fed through its standard input and output (not
multiprocessing: its spawned children run the caller's main script again, which a script without a
`__main__` guard does not survive). A network goes as two int64 (arcs, supply) and its four arrays of
int64; the answer comes back as OR-tools' status and, at an optimum, the flow on each arc.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from ortools.graph.python import min_cost_flow

HELPER_PAIRS = 1 << 20  # pairs in all before a helper is started (a city of a million entities has about two million)
OPTIMAL = int(min_cost_flow.SimpleMinCostFlow.OPTIMAL)
LOST = -1  # the helper ended without answering (killed for memory, say)


def optimum(tails: np.ndarray, heads: np.ndarray, caps: np.ndarray, costs: np.ndarray, supply: int) -> tuple[int, np.ndarray | None]:
    """(OR-tools' status, the flow on each arc at the optimum or None): node 0 sends `supply`, node 1 takes it."""
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    flow.set_node_supply(0, supply)
    flow.set_node_supply(1, -supply)
    status = int(flow.solve_max_flow_with_min_cost())
    return status, (flow.flows(np.arange(len(tails))) if status == OPTIMAL else None)


def status_of(code: int) -> min_cost_flow.SimpleMinCostFlow.Status:
    return min_cost_flow.SimpleMinCostFlow.Status(code)


class Helper:
    """A process that solves the networks it is sent, one at a time."""

    def __init__(self) -> None:
        # The helper imports this very package, wherever it was imported from here.
        root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, *filter(None, [os.environ.get("PYTHONPATH")])])}
        self._process = subprocess.Popen([sys.executable, "-m", "spotcheck.plan.flows"], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)

    def send(self, net: Any) -> None:
        out = self._process.stdin
        try:
            out.write(np.array([len(net.tails), net.supply], dtype=np.int64).tobytes())
            for a in (net.tails, net.heads, net.caps, net.costs):
                out.write(memoryview(np.ascontiguousarray(a, dtype=np.int64)))
            out.flush()
        except OSError:  # it has ended: receive() says so
            pass

    def ready(self) -> bool:
        """Has it answered (or ended)? Without waiting."""
        return bool(select.select([self._process.stdout], [], [], 0)[0])

    def receive(self, n_arcs: int) -> tuple[int, np.ndarray | None]:
        head = _read(self._process.stdout, 8)
        if head is None:
            return LOST, None
        status = int(np.frombuffer(head, dtype=np.int64)[0])
        if status != OPTIMAL:
            return status, None
        body = _read(self._process.stdout, 8 * n_arcs)
        return (LOST, None) if body is None else (OPTIMAL, np.frombuffer(body, dtype=np.int64))

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
    """A Helper for a year of `pairs` eligible pairs in all, or None when it is too small to gain from one."""

    def __init__(self, pairs: int) -> None:
        self.helper = Helper() if pairs >= HELPER_PAIRS else None

    def __enter__(self) -> Helper | None:
        return self.helper

    def __exit__(self, *_: object) -> None:
        if self.helper is not None:
            self.helper.close()


def optima(jobs: Iterable[tuple[Any, Any]], helper: Helper | None) -> Iterator[tuple[Any, Any, int, np.ndarray | None]]:
    """(key, net, status, flows) for each (key, net) of `jobs`, in the order they are solved: with a
    helper, a network goes to it whenever it is free, and this process solves the next one."""
    away = None
    try:
        for key, net in jobs:
            if helper is not None and away is None:
                helper.send(net)
                away = (key, net)
                continue
            yield key, net, *optimum(net.tails, net.heads, net.caps, net.costs, net.supply)
            if away is not None and helper.ready():
                done, away = away, None
                yield *done, *helper.receive(len(done[1].tails))
        if away is not None:
            done, away = away, None
            yield *done, *helper.receive(len(done[1].tails))
    finally:
        # Left early (a part failed): the helper's answer is not read by the next caller.
        if away is not None:
            helper.receive(len(away[1].tails))


def _read(stream: BinaryIO, size: int) -> bytes | None:
    """Exactly `size` bytes, or None if the stream ends first."""
    data = stream.read(size)
    return data if len(data) == size else None


def _serve(source: BinaryIO, sink: BinaryIO) -> None:
    while (head := _read(source, 16)) is not None:
        n, supply = (int(x) for x in np.frombuffer(head, dtype=np.int64))
        arrays = [np.frombuffer(_read(source, 8 * n) or b"", dtype=np.int64) for _ in range(4)]
        if any(len(a) != n for a in arrays):
            return
        status, flows = optimum(*arrays, supply)
        del arrays
        sink.write(np.array([status], dtype=np.int64).tobytes())
        if flows is not None:
            sink.write(memoryview(np.ascontiguousarray(flows, dtype=np.int64)))
        sink.flush()


if __name__ == "__main__":
    _serve(sys.stdin.buffer, sys.stdout.buffer)
