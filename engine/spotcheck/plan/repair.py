"""Repairing a solved optimum when pricing adds a few arcs, instead of solving the network again.

A city's unit is one min-cost max-flow of about a million nodes; after its first solve the pricing
proof (spotcheck.plan.pricing) usually fails on a handful of left-out pairs out of millions. OR-tools
starts every solve from nothing, so solving the unit again costs as much as the first solve. The old
flow is still optimal but for those few arcs, and the potentials that came with it (reduced costs
c + d[tail] - d[head] >= 0 on every residual arc) say exactly how far: so the new arcs are worked in by
successive shortest paths (Dijkstra over reduced costs, scipy):

1. every new arc of negative reduced cost is filled, which leaves an excess at its head and a deficit
   at its tail; the excesses go back to deficits along shortest residual paths, the potentials moved
   by the distances found, until none is left (so no cycle of negative cost remains). One search from
   every excess at once finds a path for each: moved by the distances up to the farthest deficit
   reached, the potentials make every path of the search's tree cost nothing reduced, so each
   excess goes to the nearest deficit of its own tree in that one round while the paths have room
   (a round for each excess was most of a repair: the zero reduced costs of an optimum let every
   search reach nearly the whole unit);
2. while the sink can be reached from the source, one more unit goes along a shortest path.

Each step keeps every residual reduced cost non-negative, so the result is a flow of the largest value
at the least cost over the old arcs and the new, which is what a fresh solve returns (the optimum is
unique: docs/teams.md). The distances are exact: costs are below 2**32, so every distance stays far
below 2**53; a network whose potentials would not keep that margin is not repaired (the caller solves it
again instead).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import breadth_first_order, dijkstra

EXACT = float(1 << 52)  # distances and potentials stay below this: float64 holds them exactly
START = float(1 << 24)  # the first search radius when no bound is known; each miss widens it 16×


def repair(tails: np.ndarray, heads: np.ndarray, caps: np.ndarray, costs: np.ndarray, flows: np.ndarray,
           d: np.ndarray, n_old: int) -> np.ndarray | None:
    """Flows of largest value at least cost over all arcs, from an optimum `flows` over the first `n_old`
    arcs (the later ones carry 0) and its potentials `d` (one per node; the nodes only new arcs touch
    may hold anything). None when the potentials do not prove the old flow optimal, or the distances
    could outgrow float64's exact integers: the caller then solves again."""
    n = len(d)
    flows = np.array(flows, dtype=np.int64)
    d = _new_nodes(tails, heads, costs, np.array(d, dtype=np.int64), n_old)
    rc = costs + d[tails] - d[heads]
    if ((rc[:n_old] < 0) & (flows[:n_old] < caps[:n_old])).any() or ((rc[:n_old] > 0) & (flows[:n_old] > 0)).any():
        return None
    excess = np.zeros(n, dtype=np.int64)
    fill = np.flatnonzero((rc < 0) & (flows < caps))
    amount = caps[fill] - flows[fill]
    flows[fill] = caps[fill]
    np.add.at(excess, heads[fill], amount)
    np.subtract.at(excess, tails[fill], amount)
    graph = _Residual(tails, heads, n)
    if not graph.simple:
        return None
    # Going back along the arc just filled costs its |reduced cost|: no excess is farther from a deficit.
    bound = float(-rc[fill].min()) if len(fill) else START
    del rc  # not needed by the searches: an array per arc fewer held through them
    while (excess > 0).any():
        found = graph.nearest(flows, caps, costs, d, np.flatnonzero(excess > 0), excess < 0, bound, every=True)
        if found is None:
            return None
        d, paths = found
        for path, source, target in paths:
            if excess[source] > 0 and excess[target] < 0 and graph.has_room(flows, caps, path):
                graph.push(flows, path)
                excess[source] -= 1
                excess[target] += 1
    while graph.reaches_sink(flows, caps):
        found = graph.nearest(flows, caps, costs, d, np.array([0]), np.arange(n) == 1, START)
        if found is None:
            return None
        d, ((path, _, _),) = found
        graph.push(flows, path)
    return flows


def _new_nodes(tails, heads, costs, d, n_old) -> np.ndarray:
    """Potentials for the nodes only new arcs touch, the highest their arcs in allow (so arcs into them
    cost nothing reduced, and arcs out of them are filled if they cost less than nothing)."""
    old = np.zeros(len(d), dtype=bool)
    old[tails[:n_old]] = old[heads[:n_old]] = True
    old[:2] = True
    new_in = np.flatnonzero(~old[heads[n_old:]] & old[tails[n_old:]]) + n_old
    best = np.full(len(d), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(best, heads[new_in], d[tails[new_in]] + costs[new_in])
    fresh = ~old & (best < np.iinfo(np.int64).max)
    d[fresh] = best[fresh]
    return d


class _Residual:
    """The residual graph as one CSR matrix with a fixed place for each arc's forward and backward entry,
    re-weighted before each search: the reduced cost where the arc has room that way, else infinity."""

    def __init__(self, tails: np.ndarray, heads: np.ndarray, n: int) -> None:
        m = len(tails)
        # scipy's COO to CSR is a counting sort by row: the entries' numbers ride along as the data.
        order = coo_matrix((np.arange(2 * m, dtype=np.int64), (np.concatenate([tails, heads]), np.concatenate([heads, tails]))),
                           shape=(n, n)).tocsr()
        # Two arcs joining the same nodes would be summed into one entry: none do in the matching's
        # layered networks, and a network with them is not repaired.
        self.simple = order.nnz == 2 * m
        # Per entry: its arc, plus m for a backward entry. Which arc and which way are worked out from it for the
        # few entries of a path only: as arrays of their own, two more of the entries' size held through every search.
        self.entry = order.data
        self.indices, self.indptr = order.indices, order.indptr
        self.tails, self.heads, self.n, self.m = tails, heads, n, m

    def matrix(self, flows, caps, costs, d) -> csr_matrix:
        rc = d[self.tails]
        rc -= d[self.heads]
        rc += costs
        rc = rc.astype(np.float64)
        # Both entries of each arc worked out in the arcs' order, then put in the matrix's by one gather: at a
        # province's unit, gathering each arc's flow, capacity and cost entry by entry took half of a repair.
        m = len(rc)
        both = np.full(2 * m, np.inf)
        np.copyto(both[:m], rc, where=flows < caps)
        np.negative(rc, out=both[m:], where=flows > 0)
        return csr_matrix((np.take(both, self.entry), self.indices, self.indptr), shape=(self.n, self.n))

    def nearest(self, flows, caps, costs, d, sources, targets, radius, every=False):
        """The nearest target from any source by reduced cost, searched within a radius that widens
        until one is in it: (new potentials, [(the path's CSR entries, its source, the target)]), or None.
        With `every`, a path to each target the search reached, nearest first: the potentials are moved
        by the distances up to the farthest of them, so each of those paths costs nothing reduced."""
        graph = self.matrix(flows, caps, costs, d)
        while True:
            limit = radius if radius < EXACT else np.inf
            dist, pred, src = dijkstra(graph, directed=True, indices=sources, min_only=True,
                                       return_predecessors=True, limit=limit)
            reach = np.flatnonzero(targets & np.isfinite(dist))
            if len(reach):
                break
            if limit == np.inf:
                return None
            radius *= 16
        reach = reach[np.argsort(dist[reach], kind="stable")] if every else reach[[np.argmin(dist[reach])]]
        far = dist[reach[-1]]
        if far >= EXACT or np.abs(d).max() >= EXACT:
            return None
        # Moving every node by its distance (at most the farthest target's) keeps every reduced cost
        # non-negative (an arc's head is at most its reduced cost farther than its tail) and makes those
        # along the search's tree, up to that target, zero.
        d = d + np.minimum(dist, far).astype(np.int64)
        return d, [(self._path(pred, int(target)), int(src[target]), int(target)) for target in reach]

    def _path(self, pred, node: int) -> np.ndarray:
        """The CSR entries from the search's source to `node`, along its predecessors."""
        path = []
        while pred[node] >= 0:
            u = int(pred[node])
            row = slice(self.indptr[u], self.indptr[u + 1])
            path.append(self.indptr[u] + int(np.flatnonzero(self.indices[row] == node)[0]))
            node = u
        return np.array(path, dtype=np.int64)

    def has_room(self, flows, caps, entries) -> bool:
        """Can one more unit go along these entries (forward ones below their capacity, backward ones carrying flow)?"""
        entry = self.entry[entries]
        arc = entry % self.m
        return bool(np.where(entry < self.m, flows[arc] < caps[arc], flows[arc] > 0).all())

    def push(self, flows, entries) -> None:
        """One unit along the path's entries: forward entries carry one more, backward ones one less."""
        entry = self.entry[entries]
        np.add.at(flows, entry % self.m, np.where(entry < self.m, 1, -1))

    def reaches_sink(self, flows, caps) -> bool:
        room = np.take(np.concatenate([flows < caps, flows > 0]), self.entry)
        # eliminate_zeros works in place: on copies, so the fixed places stay.
        graph = csr_matrix((room.astype(np.int8), self.indices.copy(), self.indptr.copy()), shape=(self.n, self.n))
        graph.eliminate_zeros()
        return bool((breadth_first_order(graph, 0, directed=True, return_predecessors=False) == 1).any())
