"""The proof that a solved network's flow is optimal: node potentials under which no residual arc has a
negative reduced cost, and which nodes the source still reaches (spotcheck.plan.pricing prices the
left-out pairs against them; spotcheck.plan.repair starts from them).

Kept apart from pricing, which needs polars: the plan's helper process (spotcheck.plan.flows) works the
proof of each part it solves out itself, and imports this, NumPy and scipy's graphs only.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order
from spotcheck.errors import Problem, SpotcheckError


def residual_potentials(tails, heads, caps, costs_, flows, n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Shortest-path distances from a virtual root joined to every node at cost 0 (Bellman-Ford over
    the residual graph, which has no negative cycle at an optimum), and which nodes node 0 reaches."""
    fwd, bwd = flows < caps, flows > 0
    t = np.concatenate([tails[fwd], heads[bwd]])
    h = np.concatenate([heads[fwd], tails[bwd]])
    c = np.concatenate([costs_[fwd], -costs_[bwd]])
    reached = np.zeros(n_nodes, dtype=bool)
    reached[breadth_first_order(csr_matrix((np.ones(len(t), dtype=bool), (t, h)), shape=(n_nodes, n_nodes)), 0,
                                directed=True, return_predecessors=False)] = True
    # One array sorted at a time: a province's unit has millions of residual arcs, and this runs beside a repair.
    order = np.argsort(t, kind="stable")
    t = t[order]
    h = h[order]
    c = c[order]
    del order
    start = np.searchsorted(t, np.arange(n_nodes + 1))
    d = np.zeros(n_nodes, dtype=np.int64)
    # Only arcs out of a node whose distance fell can lower another: relax those, round by round.
    frontier = _present(t[c < 0], n_nodes)
    for _ in range(n_nodes + 1):
        if not len(frontier):
            return d, reached
        arcs = _ranges(start[frontier], start[frontier + 1])
        cand, head = d[t[arcs]] + c[arcs], h[arcs]
        lower = cand < d[head]
        head, cand = head[lower], cand[lower]
        np.minimum.at(d, head, cand)
        # Late rounds lower a few nodes: sorting them beats counting over every node of the network.
        frontier = distinct(head) if len(head) < n_nodes >> 6 else _present(head, n_nodes)
    raise SpotcheckError(Problem("T811", "检查人员匹配求解失败：求解结果校验未通过",
                                 hint="这是程序内部错误，不是名录填写问题；请将抽取结果目录和名录文件报告给维护人员"))


def _present(ids: np.ndarray, n: int) -> np.ndarray:
    """The distinct values of small non-negative ids, sorted (np.unique without the sort)."""
    return np.flatnonzero(np.bincount(ids, minlength=n))


def distinct(keys: np.ndarray, sort=np.sort) -> np.ndarray:
    """np.unique by sorting (with `sort`): NumPy 2.3+ hashes instead, several times slower on millions of distinct keys."""
    keys = sort(keys)
    return keys[np.concatenate([[True], keys[1:] != keys[:-1]])] if len(keys) else keys


def _ranges(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """The concatenated ranges start[i]..end[i] (exclusive)."""
    count = end - start
    return np.repeat(start, count) + np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
