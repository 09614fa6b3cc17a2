"""The officers' eligible (visit, person) pairs of a year, held as blocks, not as a list of pairs.

A city's visits each allow the officers of one unit or a few (spotcheck.plan.eligibility.visit_units),
less those whose certificate ends before the visit's date and those recused or rotated off it: tens of
millions of pairs at a million entities. The matcher (spotcheck.plan.assignment) never holds them all:

- candidates: it starts from each visit's CANDIDATES cheapest eligible officers and, for every
  specialty place, the CANDIDATES cheapest eligible holders of that specialty;
- pricing: after each solve it proves the restricted optimum optimal over ALL eligible pairs, or adds
  the pairs that break the proof and solves again (column generation). The proof is the usual one for
  min-cost flow: node potentials d (shortest-path distances in the solved network's residual graph)
  under which every residual arc has a reduced cost c + d[tail] - d[head] >= 0. A pair left out is
  priced as a hub of its own (spotcheck.plan.assignment: the same teams), so it would add the arcs
  entry -> person (entry: the visit's general places, or a specialty place the person can fill) of
  cost c; if every such arc has a non-negative reduced cost, the potentials stay valid with it,
  so no cheaper flow uses it; if no such arc leads from a node the source reaches to one it does not,
  no larger flow uses it. Pairs joining two separately solved parts are added outright.

So the teams are exactly those of one solve over every eligible pair (tests/plan/test_pricing.py
compares both on random problems), while memory follows a block of visits × a unit's officers.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl
from spotcheck.plan import costs
from spotcheck.plan.eligibility import certified_through
from spotcheck.plan.proof import _present, _ranges, distinct

# Per visit and per specialty place. At a province (10M entities) 6 left 36 pairs breaking the first proof in 6 of
# its 7 units, whose repairs took 25 s; 7 leaves about 2 in one unit (5 s) for 5–9 s more of solving, 8 none for
# 15 s more and 8.0 GiB at the peak; 5 left 245 (55 s of repairs).
CANDIDATES = 7
CHUNK = 1 << 21  # pairs priced at once: a few tens of MiB of arrays
SIFT = 1 << 18  # pairs searched at once for the candidates: arrays small enough to stay in the cache
# A row's k + 1 cheapest of its n eligible pairs are looked for below SPREAD * (k + 1) / n of the cost
# range first (costs are uniform: about 3 (k + 1) pairs fall below; fewer than k + 1 about once in
# 10,000 rows, which are then searched whole).
SPREAD = 3
SEARCHERS = 2  # blocks searched at once
# A row whose line is above this (few eligible pairs) has every pair finished and the cheapest picked by
# partition: sorting the pairs under such a line costs more. At most 2**31: the premixed words order the
# costs only below it.
DENSE = 1 << (costs.COST_BITS - 3)
INF = np.int64(1) << np.int64(60)
_NONE = np.iinfo(np.int64).max  # the key of an ineligible pair (_cheapest_whole)


# From this many keys on, polars sorts them, on every core; NumPy's sort takes one. A province's 31.9 million
# candidate keys: 2.5-3.2 s against 0.7-1.3 s, in a stretch where the plan's helper process waits for work.
SORTED_ON_EVERY_CORE = 1 << 20


def sorted_keys(keys: np.ndarray) -> np.ndarray:
    """np.sort of int64 keys (a side's pairs v * n_people + p), as they are when they already are."""
    if len(keys) < SORTED_ON_EVERY_CORE:
        return np.sort(keys)
    if (keys[1:] >= keys[:-1]).all():
        return keys
    return pl.Series(keys, dtype=pl.Int64).sort(multithreaded=True).to_numpy()


@dataclass
class Universe:
    """Every eligible officer pair, as blocks of (the visits allowing a unit) × (the unit's officers)."""

    n_people: int
    visit_words: np.ndarray  # uint64 per visit
    person_words: np.ndarray  # uint64 per person
    inspect_by: np.ndarray  # int64 days per visit
    expires: np.ndarray  # certificate's last day per person (eligibility.days)
    blocks: list[tuple[np.ndarray, np.ndarray]]  # (visits, persons), both sorted
    banned: np.ndarray  # sorted v * n_people + p: recused, or last time's lead on a one-officer team
    slot_visit: np.ndarray
    slot_spec: np.ndarray  # code of the slot's specialty
    holds: np.ndarray  # bool [n_people, n_specs]
    # Set by candidates(): the least cost of a pair it left out, per visit and per slot (a bound for pricing).
    floor: np.ndarray | None = None
    slot_floor: np.ndarray | None = None

    def chunks(self, visits: np.ndarray | None = None, people: np.ndarray | None = None):
        """(visits, persons, cost matrix, eligible matrix) block by block, CHUNK pairs at a time."""
        for block_v, block_p in self.blocks:
            if visits is not None:
                block_v = block_v[visits[block_v]]
            if people is not None:
                block_p = block_p[people[block_p]]
            if not len(block_v) or not len(block_p):
                continue
            rows = max(1, CHUNK // len(block_p))
            for i in range(0, len(block_v), rows):
                vc = block_v[i : i + rows]
                yield vc, block_p, costs.mixed(self.visit_words[vc][:, None], self.person_words[block_p][None, :]), self._eligible(vc, block_p)

    def _eligible(self, vc: np.ndarray, people: np.ndarray) -> np.ndarray:
        ok = certified_through(self.expires[people][None, :], self.inspect_by[vc][:, None])
        lo, hi = np.searchsorted(self.banned, [vc[0] * self.n_people, (vc[-1] + 1) * self.n_people])
        if hi > lo:
            bv, bp = np.divmod(self.banned[lo:hi], self.n_people)
            row = np.searchsorted(vc, bv)
            col = np.minimum(np.searchsorted(people, bp), len(people) - 1)
            hit = (row < len(vc)) & (vc[np.minimum(row, len(vc) - 1)] == bv) & (people[col] == bp)
            ok[row[hit], col[hit]] = False
        return ok

    def candidates(self, n_visits: int, k: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The starting pairs (v, p), each visit's count of eligible officers and each slot's of eligible holders.

        Blocks are searched two at a time (NumPy releases the GIL in its loops), the largest first, so the
        last one searched, while the other searcher has nothing left, is the smallest; what they find is
        summed, taken the least of and sorted, so the result does not depend on the order."""
        k = CANDIDATES if k is None else k
        eligible = np.zeros(n_visits, dtype=np.int64)
        holders = np.zeros(len(self.slot_visit), dtype=np.int64)
        self.floor = np.full(n_visits, INF, dtype=np.int64)
        self.slot_floor = np.full(len(self.slot_visit), INF, dtype=np.int64)
        order = np.argsort(self.slot_visit, kind="stable")
        start = np.searchsorted(self.slot_visit[order], np.arange(n_visits + 1))
        blocks = sorted(((bv, bp) for bv, bp in self.blocks if len(bv) and len(bp)), key=lambda b: -len(b[0]) * len(b[1]))
        vs, ps = [], []
        with ThreadPoolExecutor(max_workers=SEARCHERS) as pool:
            for block_v, v, p, count, floor, slots, slot_count, slot_floor in pool.map(
                    lambda block: self._block_candidates(*block, order, start, k), blocks):
                vs.append(v)
                ps.append(p)
                eligible[block_v] += count
                self.floor[block_v] = np.minimum(self.floor[block_v], floor)
                holders[slots] += slot_count
                self.slot_floor[slots] = np.minimum(self.slot_floor[slots], slot_floor)
        v = np.concatenate(vs) if vs else np.zeros(0, dtype=np.int64)
        p = np.concatenate(ps) if ps else np.zeros(0, dtype=np.int64)
        v, p = np.divmod(distinct(v * self.n_people + p, sort=sorted_keys), self.n_people)
        return v, p, eligible, holders

    def _block_candidates(self, block_v, people, order, start, k):
        """One block's candidates (v, p), and per visit (block_v's order) and per slot of its visits the
        eligible count and the floor, searched SIFT pairs at a time in reused arrays. No matrix of who is
        eligible is made: the counts come from the sorted certificate expiries, and only the few pairs
        under a row's line are checked (_cheapest)."""
        vs, ps, counts, floors = [], [], [], []
        rows = max(1, SIFT // len(people))
        room = max(rows * len(people), SIFT)
        out, spare = np.empty(room, dtype=np.uint64), np.empty(room, dtype=np.uint64)
        person_words = self.person_words[people][None, :]
        expiries = np.sort(self.expires[people])
        for i in range(0, len(block_v), rows):
            vc = block_v[i : i + rows]
            words = costs.premixed(self.visit_words[vc][:, None], person_words, *_matrices(out, spare, len(vc), len(people)))
            count = self._count(vc, people, expiries)
            counts.append(count)
            floors.append(_cheapest(self, vc, people, words, count, k, vs, ps))
        # The specialty places, one specialty at a time over the whole block, among its holders: a city's
        # visits nearly all have a place of one specialty that a seventh of the officers hold, and searched
        # with the general rows they came a few dozen at a time, each search costing more than its pairs.
        slots = order[_ranges(start[block_v], start[block_v + 1])]
        slot_ids, slot_counts, slot_floors = [], [], []
        for spec in _present(self.slot_spec[slots], self.holds.shape[1]):
            holders = people[self.holds[people, spec]]
            if not len(holders):
                continue
            of_spec = slots[self.slot_spec[slots] == spec]
            holder_words = self.person_words[holders][None, :]
            holder_expiries = np.sort(self.expires[holders])
            step = max(1, SIFT // len(holders))
            for i in range(0, len(of_spec), step):
                s = of_spec[i : i + step]
                sv = self.slot_visit[s]
                # A visit with two places of one specialty has two rows of the same visit.
                visit, again = np.unique(sv, return_inverse=True)
                count = self._count(visit, holders, holder_expiries)[again]
                words = costs.premixed(self.visit_words[sv][:, None], holder_words, *_matrices(out, spare, len(s), len(holders)))
                slot_ids.append(s)
                slot_counts.append(count)
                slot_floors.append(_cheapest(self, sv, holders, words, count, k, vs, ps))
        none = np.zeros(0, dtype=np.int64)
        return (block_v, *(np.concatenate(a) if a else none for a in (vs, ps, counts, floors, slot_ids, slot_counts, slot_floors)))

    def _count(self, vc: np.ndarray, people: np.ndarray, expiries: np.ndarray) -> np.ndarray:
        """Per visit of vc (sorted, distinct): how many of `people` (sorted; `expiries`: their certificates'
        last days, sorted) are eligible, as _eligible(vc, people).sum(axis=1) counts them."""
        # certified_through (expires >= inspect_by) counted by a search in the sorted expiries.
        count = len(expiries) - np.searchsorted(expiries, self.inspect_by[vc], side="left")
        lo, hi = np.searchsorted(self.banned, [vc[0] * self.n_people, (vc[-1] + 1) * self.n_people])
        if hi > lo:
            bv, bp = np.divmod(self.banned[lo:hi], self.n_people)
            row = np.minimum(np.searchsorted(vc, bv), len(vc) - 1)
            col = np.minimum(np.searchsorted(people, bp), len(people) - 1)
            hit = (vc[row] == bv) & (people[col] == bp) & certified_through(self.expires[bp], self.inspect_by[bv])
            count = count - np.bincount(row[hit], minlength=len(vc))
        return count

    def _eligible_pairs(self, v: np.ndarray, p: np.ndarray) -> np.ndarray:
        """_eligible pair by pair: for each (v[i], p[i])."""
        ok = certified_through(self.expires[p], self.inspect_by[v])
        if not len(self.banned) or not len(v):
            return ok
        # Only the bans of these visits are looked up: a city bans a few hundred pairs, and most searches hold none.
        lo, hi = np.searchsorted(self.banned, [v.min() * self.n_people, (v.max() + 1) * self.n_people])
        if hi > lo:
            banned, keys = self.banned[lo:hi], v * self.n_people + p
            ok &= banned[np.minimum(np.searchsorted(banned, keys), len(banned) - 1)] != keys
        return ok

    def holdings(self, v: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(slot, index into v/p) for each specialty place of visit v that person p can fill."""
        order = np.argsort(self.slot_visit, kind="stable")
        # Where each visit's places begin in that order, by counting: two binary searches per pair took
        # seconds for a province's tens of millions of candidates.
        first = np.concatenate([[0], np.cumsum(np.bincount(self.slot_visit, minlength=len(self.visit_words)))])
        start, end = first[v], first[v + 1]
        pair = np.repeat(np.arange(len(v)), end - start)
        slot = order[_ranges(start, end)]
        keep = self.holds[p[pair], self.slot_spec[slot]]
        return slot[keep], pair[keep]

    def cost(self, v: np.ndarray, p: np.ndarray) -> np.ndarray:
        return costs.mixed(self.visit_words[v], self.person_words[p])

    def violators(self, active: np.ndarray, capacity: np.ndarray, present: np.ndarray, pot: Potentials,
                  changed: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The eligible pairs left out of the solve (not in sorted keys `present`) that break its proof.

        Through entry e (general places, or a place of a specialty the person holds) a left-out pair
        breaks it when cost - d[person] < -d[e], or when the source reaches e but not the person. Its
        cost is at least the visit's (or slot's) floor, so a visit whose floor clears the block's
        highest person potential is proved without pricing its pairs one by one. `changed` (visits,
        people): only blocks holding one were solved again since the last pricing; the rest stand."""
        out_v, out_p = [], []
        specs = _present(self.slot_spec, self.holds.shape[1])
        col = np.searchsorted(specs, self.slot_spec)
        # Per visit and specialty: the least potential of its places, whether the source reaches one,
        # and the least floor + potential (the bound).
        slot_d = np.full((len(active), len(specs)), INF, dtype=np.int64)
        slot_r = np.zeros((len(active), len(specs)), dtype=bool)
        slot_b = np.full((len(active), len(specs)), INF, dtype=np.int64)
        np.minimum.at(slot_d, (self.slot_visit, col), pot.slot)
        np.logical_or.at(slot_r, (self.slot_visit, col), pot.slot_reached)
        np.minimum.at(slot_b, (self.slot_visit, col), np.minimum(self.slot_floor + pot.slot, INF))
        for block_v, block_p in self.blocks:
            block_v, block_p = block_v[active[block_v]], block_p[capacity[block_p] > 0]
            if not len(block_v) or not len(block_p):
                continue
            if changed is not None and not (changed[0][block_v].any() or changed[1][block_p].any()):
                continue
            rows = block_v[self._unproved(block_v, block_p, pot, specs, slot_b, slot_r)]
            for i in range(0, len(rows), max(1, CHUNK // len(block_p))):
                vc = rows[i : i + max(1, CHUNK // len(block_p))]
                cost = costs.mixed(self.visit_words[vc][:, None], self.person_words[block_p][None, :])
                bad = self._breaking(vc, block_p, cost, pot, specs, slot_d, slot_r) & self._eligible(vc, block_p)
                if bad.any():
                    r, c = np.nonzero(bad)
                    out_v.append(vc[r])
                    out_p.append(block_p[c])
        if not out_v:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        v, p = np.concatenate(out_v), np.concatenate(out_p)
        keys = v * self.n_people + p
        at = np.minimum(np.searchsorted(present, keys), max(len(present) - 1, 0))
        fresh = present[at] != keys if len(present) else np.ones(len(keys), dtype=bool)
        return v[fresh], p[fresh]

    def _unproved(self, vs, people, pot: Potentials, specs, slot_b, slot_r) -> np.ndarray:
        """Which visits of a block its bounds do not settle (they are priced pair by pair)."""
        top = pot.person[people].max()
        general = pot.general[vs]
        need = (general < INF) & (self.floor[vs] + general - top < 0)
        for j, spec in enumerate(specs):
            held = self.holds[people, spec]
            if held.any():
                need |= slot_b[vs, j] - pot.person[people[held]].max() < 0
        if not pot.person_reached[people].all():
            need |= pot.general_reached[vs] | slot_r[vs].any(axis=1)
        # A visit no part holds, or a block whose people and visits are not all one part.
        known = pot.person_part[people][pot.person_part[people] != -2]
        labels = np.concatenate([pot.visit_part[vs], known])
        need |= pot.visit_part[vs] < 0
        if len(labels) and labels.min() != labels.max():
            need[:] = True
        return need

    def _breaking(self, vc, people, cost, pot: Potentials, specs, slot_d, slot_r) -> np.ndarray:
        """Per pair of visits vc × people: does it break the proof (eligibility aside)?"""
        base = cost - pot.person[people][None, :]
        unreached = ~pot.person_reached[people]
        bad = base < -pot.general[vc][:, None]
        bad |= pot.general_reached[vc][:, None] & unreached[None, :]
        servable = np.broadcast_to((pot.general[vc] < INF)[:, None], bad.shape).copy()
        for j, spec in enumerate(specs):
            rows = np.flatnonzero(slot_d[vc, j] < INF)
            cols = np.flatnonzero(self.holds[people, spec])
            if not len(rows) or not len(cols):
                continue
            ix = np.ix_(rows, cols)
            bad[ix] |= (base[ix] < -slot_d[vc[rows], j][:, None]) | (slot_r[vc[rows], j][:, None] & unreached[cols][None, :])
            servable[ix] = True
        # A pair to a visit no part holds, or across separately solved parts, is added outright
        # (a person in no part may take potential 0, unreached, beside any part).
        vp, pp = pot.visit_part[vc], pot.person_part[people]
        lost, known = vp < 0, pp != -2
        bad[lost] = True
        labels = np.concatenate([vp[~lost], pp[known]])
        if len(labels) and labels.min() != labels.max():
            bad |= (vp[:, None] != pp[None, :]) & servable & known[None, :]
        return bad


def _matrices(out: np.ndarray, spare: np.ndarray, n_rows: int, n_cols: int) -> tuple[np.ndarray, np.ndarray]:
    """The first n_rows × n_cols of two flat buffers, as matrices (premixed's output and scratch)."""
    size = n_rows * n_cols
    return out[:size].reshape(n_rows, n_cols), spare[:size].reshape(n_rows, n_cols)


def _nonzero(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.nonzero of a matrix, several times faster (NumPy's tracks both indices per element)."""
    return np.divmod(np.flatnonzero(mask), mask.shape[1])


def _cheapest(universe: Universe, vc, people, words, count, k, vs, ps) -> np.ndarray:
    """Append each row's k cheapest eligible (visit, person) pairs; return each row's next cost (INF: none).

    `words` are premixed (spotcheck.plan.costs), `count` each row's eligible pairs. Only the pairs
    under a row's line (SPREAD * (k + 1) / count of the range) are finished and sorted, and only they are
    checked for eligibility. A row whose line takes in more than DENSE of the range (few eligible
    pairs: a specialty few people hold), or with fewer than k + 1 eligible pairs under it, is searched
    whole (_cheapest_whole). Rows are visits in order (a visit may fill two rows: two places of one
    specialty). Ties go to the person first in the block."""
    line = (SPREAD * (k + 1) << costs.COST_BITS) // np.maximum(count, 1)
    whole = line > DENSE
    if whole.all():
        r = c = np.zeros(0, dtype=np.int64)
    else:
        r, c = _nonzero(words < (line.astype(np.uint64) << np.uint64(costs.COST_BITS))[:, None])
        keep = ~whole[r]
        r, c = r[keep], c[keep]
    keep = universe._eligible_pairs(vc[r], people[c])
    r, c = r[keep], c[keep]
    whole |= np.bincount(r, minlength=len(vc)) < np.minimum(count, k + 1)
    keep = ~whole[r]
    r, c = r[keep], c[keep]
    cost = costs.finished(words[r, c])
    # Rows come in order and each row's people in theirs: a stable sort by (row, cost) keeps that order for ties
    # (and runs several times faster than np.lexsort here).
    order = np.argsort((r.astype(np.int64) << costs.COST_BITS) | cost, kind="stable")
    r, c, cost = r[order], c[order], cost[order]
    rank = np.arange(len(r)) - np.searchsorted(r, np.arange(len(vc)))[r]
    take = rank < k
    vs.append(vc[r[take]])
    ps.append(people[c[take]])
    rest = np.full(len(vc), INF, dtype=np.int64)
    rest[r[rank == k]] = cost[rank == k]
    if whole.any():
        rows = np.flatnonzero(whole)
        rest[rows] = _cheapest_whole(universe, vc[rows], people, words[rows], k, vs, ps)
    return rest


def _cheapest_whole(universe: Universe, vc, people, words, k, vs, ps) -> np.ndarray:
    """_cheapest over every pair of the rows: each row's k + 1 least keys (cost, then column: the same
    order as a stable sort by cost) picked by partition, not a sort of all of them."""
    visit, again = np.unique(vc, return_inverse=True)
    bits = max(int(len(people) - 1).bit_length(), 1)
    keys = (costs.finished(words) << bits) | np.arange(len(people), dtype=np.int64)
    keys[~universe._eligible(visit, people)[again]] = _NONE
    if len(people) > k + 1:
        keys = np.partition(keys, k, axis=1)[:, : k + 1]
    keys.sort(axis=1)
    mask = (1 << bits) - 1
    for j in range(min(k, keys.shape[1])):
        held = keys[:, j] != _NONE
        vs.append(vc[held])
        ps.append(people[keys[held, j] & mask])
    if keys.shape[1] <= k:
        return np.full(len(vc), INF, dtype=np.int64)
    return np.where(keys[:, k] != _NONE, keys[:, k] >> bits, INF)


@dataclass
class Potentials:
    """Per node of a solved matching: its potential, and whether the source reaches it in the residual graph."""

    general: np.ndarray  # per visit (INF where it has no general places or was not solved)
    general_reached: np.ndarray
    slot: np.ndarray
    slot_reached: np.ndarray
    person: np.ndarray
    person_reached: np.ndarray
    visit_part: np.ndarray  # which separately solved part (-1: none)
    person_part: np.ndarray  # (-2: none)

    def take(self, other: Potentials, visits: np.ndarray, slots: np.ndarray, people: np.ndarray, part: int) -> None:
        """Copy a part's potentials from an earlier solve (the part unchanged, only renumbered)."""
        for name, ids in (("general", visits), ("slot", slots), ("person", people)):
            getattr(self, name)[ids] = getattr(other, name)[ids]
            getattr(self, f"{name}_reached")[ids] = getattr(other, f"{name}_reached")[ids]
        self.visit_part[visits] = part
        self.person_part[people] = part

    @classmethod
    def empty(cls, n_visits: int, n_slots: int, n_people: int) -> Potentials:
        return cls(np.full(n_visits, INF, dtype=np.int64), np.zeros(n_visits, dtype=bool),
                   np.full(n_slots, INF, dtype=np.int64), np.zeros(n_slots, dtype=bool),
                   np.zeros(n_people, dtype=np.int64), np.zeros(n_people, dtype=bool),
                   np.full(n_visits, -1, dtype=np.int64), np.full(n_people, -2, dtype=np.int64))
