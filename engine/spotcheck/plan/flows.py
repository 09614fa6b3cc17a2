"""OR-tools' min-cost max-flow, two networks at a time on two cores.

OR-tools holds the GIL while it solves, so a thread cannot solve a second network beside it; a helper
process can. A year's parts (spotcheck.plan.network._components: a city's units) are independent
networks: while this process solves one, the helper solves another, and this process works out the
potentials of each solved part while the helper is still busy. Each network's optimum is what it is
whichever process finds it (the same OR-tools on the same arcs), so the teams do not change. A small
year is solved here alone: starting the helper (a fresh interpreter importing NumPy and OR-tools)
costs more than it saves.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
from ortools.graph.python import min_cost_flow

HELPER_PAIRS = 1 << 20  # pairs in all before a helper is started (a city of a million entities has about two million)
OPTIMAL = int(min_cost_flow.SimpleMinCostFlow.OPTIMAL)


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
    """A process that solves the networks it is sent, one at a time (the arrays go through a pipe as raw int64)."""

    def __init__(self) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(target=_serve, args=(child,), daemon=True)
        self._process.start()
        child.close()

    def send(self, net: Any) -> None:
        self._conn.send((len(net.tails), net.supply))
        for a in (net.tails, net.heads, net.caps, net.costs):
            self._conn.send_bytes(np.ascontiguousarray(a, dtype=np.int64))

    def ready(self) -> bool:
        return self._conn.poll()

    def receive(self) -> tuple[int, np.ndarray | None]:
        status = self._conn.recv()
        return status, (np.frombuffer(self._conn.recv_bytes(), dtype=np.int64) if status == OPTIMAL else None)

    def close(self) -> None:
        try:
            self._conn.send(None)
            self._process.join(timeout=10)
        finally:
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
            self._conn.close()


class helper_for:
    """A Helper for a year of `pairs` eligible pairs in all, or None when it is too small to gain from one."""

    def __init__(self, pairs: int) -> None:
        # A daemonic process (a multiprocessing pool's worker) may not start one.
        self.helper = Helper() if pairs >= HELPER_PAIRS and not mp.current_process().daemon else None

    def __enter__(self) -> Helper | None:
        return self.helper

    def __exit__(self, *_: object) -> None:
        if self.helper is not None:
            self.helper.close()


def optima(jobs: Iterable[tuple[Any, Any]], helper: Helper | None) -> Iterator[tuple[Any, Any, int, np.ndarray | None]]:
    """(key, net, status, flows) for each (key, net) of `jobs`, in the order they are solved: with a
    helper, every other network goes to it while this process solves the next one."""
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
                yield *done, *helper.receive()
        if away is not None:
            done, away = away, None
            yield *done, *helper.receive()
    finally:
        # Left early (a part failed): the helper's answer is not read by the next caller.
        if away is not None:
            helper.receive()


def _serve(conn) -> None:
    while (head := conn.recv()) is not None:
        _, supply = head
        arrays = [np.frombuffer(conn.recv_bytes(), dtype=np.int64) for _ in range(4)]
        status, flows = optimum(*arrays, supply)
        del arrays
        conn.send(status)
        if flows is not None:
            conn.send_bytes(flows)
