"""The matching problem as flat arrays, and as one flow network (what spotcheck.plan.assignment solves).

A side (officers, or pool members) is its visits' general places and specialty slots, its eligible
(visit, person) pairs with their costs, and which pairs' people can fill which slots. Its network:
source → each visit's specialty slots (1 each) and general places → person (the pair's cost) → sink
(the person's cap); the people who can fill the same set of a visit's specialty places reach it through
one hub node of theirs, so nobody fills two places of one team. Visits that share no eligible person are
separate parts (_components), solved one by one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from spotcheck.plan.pricing import Universe, _present, sorted_keys


@dataclass
class _Side:
    """One matching problem (officers, or pool members) over the visits, as flat arrays."""

    general: np.ndarray  # per visit: places any eligible person may fill
    slot_visit: np.ndarray  # per specialty slot: its visit
    pair_visit: np.ndarray  # per eligible pair
    pair_person: np.ndarray
    pair_cost: np.ndarray
    hold_slot: np.ndarray  # per (slot, pair) where the pair's person can fill the slot
    hold_pair: np.ndarray
    # How many identical visits each visit stands for (the default caps' search), or None: one each.
    mult: np.ndarray | None = None
    # Every eligible pair when the pairs above are only some of them (spotcheck.plan.pricing).
    universe: Universe | None = None
    _keys: np.ndarray | None = field(default=None, repr=False)

    def places(self) -> np.ndarray:
        return self.general + np.bincount(self.slot_visit, minlength=len(self.general))

    def keys(self) -> np.ndarray:
        """The pairs' keys v * n_people + p, sorted; kept, and merged with the few pairs add() brings
        (pricing asks after every solve, and sorting a province's tens of millions of keys takes seconds)."""
        if self._keys is None:
            self._keys = sorted_keys(self.pair_visit * np.int64(len(self.universe.person_words)) + self.pair_person)
        return self._keys

    def add(self, v: np.ndarray, p: np.ndarray) -> None:
        """Take more of the universe's pairs into the problem (with the specialty places they can fill)."""
        first = len(self.pair_visit)
        if self._keys is not None:
            new = np.sort(v * np.int64(len(self.universe.person_words)) + p)
            self._keys = np.insert(self._keys, np.searchsorted(self._keys, new), new)
        slot, pair = self.universe.holdings(v, p)
        self.pair_visit = np.concatenate([self.pair_visit, v])
        self.pair_person = np.concatenate([self.pair_person, p])
        self.pair_cost = np.concatenate([self.pair_cost, self.universe.cost(v, p)])
        self.hold_slot = np.concatenate([self.hold_slot, slot])
        self.hold_pair = np.concatenate([self.hold_pair, first + pair])


@dataclass
class _Net:
    """A matching problem as one flow network: node 0 is the source, node 1 the sink."""

    tails: np.ndarray
    heads: np.ndarray
    caps: np.ndarray
    costs: np.ndarray
    supply: int
    pair_arcs: np.ndarray  # arcs into a person, one per usable pair
    pairs: np.ndarray  # the pair of each of those arcs
    sink_arcs: np.ndarray  # person → sink
    people: np.ndarray  # the person of each of those arcs
    person0: int  # node of person 0 (visit v's general places are node 2 + v, its slot s node 2 + visits + s)


def _hubs(side: _Side, holding: np.ndarray, hold_on: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each holding pair's hub: pairs of one visit whose people can fill the same set of its specialty
    places share one. Returns each holding pair's hub, and the (slot, hub) arcs feeding the hubs."""
    pairs = np.flatnonzero(holding)
    k, s = side.hold_pair[hold_on], side.hold_slot[hold_on]
    order = np.lexsort((s, k))
    k, s = k[order], s[order]
    row = np.searchsorted(pairs, k)
    start = np.searchsorted(row, np.arange(len(pairs)))
    col = np.arange(len(row)) - start[row]
    # One row per holding pair: its visit, then the places it can fill in order (-1 beyond them).
    kind = np.full((len(pairs), 1 + (int(col.max()) + 1 if len(col) else 0)), -1, dtype=np.int64)
    kind[:, 0] = side.pair_visit[pairs]
    kind[row, 1 + col] = s
    order = np.lexsort(kind.T[::-1])
    new = np.ones(len(pairs), dtype=bool)
    new[1:] = (kind[order[1:]] != kind[order[:-1]]).any(axis=1)
    hub = np.empty(len(pairs), dtype=np.int64)
    hub[order] = np.cumsum(new) - 1
    first = order[new]
    h, c = np.nonzero(kind[first, 1:] >= 0)
    return hub, kind[first, 1:][h, c], h


def _network(side: _Side, active: np.ndarray, capacity: np.ndarray) -> _Net | None:
    """source → specialty slot (1) / general places (count) → person (pair cost) → sink (cap).

    A person who can fill one of the visit's specialty places could fill two places of one team
    through two entries; so the pairs of people who can fill the same set of a visit's specialty
    places go through one hub node of that visit (the places they can fill → hub → each of them, 1
    each), which keeps each person to one place a team. A pair whose person holds none of the visit's
    slot specialties goes from the general node to the person directly. None when there is nothing
    to match."""
    n_visits = len(side.general)
    mult = np.ones(n_visits, dtype=np.int64) if side.mult is None else side.mult
    general = np.where(active, side.general, 0) * mult
    slot_on = active[side.slot_visit]
    pair_on = active[side.pair_visit] & (capacity[side.pair_person] > 0)
    hold_on = slot_on[side.hold_slot] & pair_on[side.hold_pair]
    supply = int(general.sum() + mult[side.slot_visit[slot_on]].sum())
    if supply == 0 or not pair_on.any():
        return None
    holding = np.zeros(len(side.pair_visit), dtype=bool)
    holding[side.hold_pair[hold_on]] = True
    hub, feed_slot, feed_hub = _hubs(side, holding, hold_on)
    n_hubs = int(hub.max()) + 1 if len(hub) else 0
    hub_visit = np.zeros(n_hubs, dtype=np.int64)
    hub_visit[hub] = side.pair_visit[holding]
    gen0, slot0 = 2, 2 + n_visits
    hub0 = slot0 + len(side.slot_visit)
    person0 = hub0 + n_hubs
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def arcs(t, h, c, k=None) -> int:
        t = np.asarray(t, dtype=np.int64)
        parts.append((t, np.asarray(h, dtype=np.int64), np.broadcast_to(np.asarray(c, dtype=np.int64), len(t)),
                      np.zeros(len(t), dtype=np.int64) if k is None else np.asarray(k, dtype=np.int64)))
        return sum(len(p[0]) for p in parts) - len(t)

    has_general = general > 0
    gv = np.nonzero(has_general)[0]
    arcs(np.zeros(len(gv)), gen0 + gv, general[gv])
    sv = np.nonzero(slot_on)[0]
    arcs(np.zeros(len(sv)), slot0 + sv, mult[side.slot_visit[sv]])
    arcs(slot0 + feed_slot, hub0 + feed_hub, mult[side.slot_visit[feed_slot]])
    gh = np.flatnonzero(has_general[hub_visit])
    arcs(gen0 + hub_visit[gh], hub0 + gh, general[hub_visit[gh]])
    x_idx = np.flatnonzero(holding)
    first = arcs(hub0 + hub, person0 + side.pair_person[x_idx], mult[side.pair_visit[x_idx]], side.pair_cost[x_idx])
    d_idx = np.nonzero(~holding & pair_on & has_general[side.pair_visit])[0]
    arcs(gen0 + side.pair_visit[d_idx], person0 + side.pair_person[d_idx], mult[side.pair_visit[d_idx]], side.pair_cost[d_idx])
    people = _present(side.pair_person[pair_on], len(capacity))
    last = arcs(person0 + people, np.ones(len(people)), capacity[people])
    pairs = np.concatenate([x_idx, d_idx])
    return _Net(
        *(np.concatenate([p[i] for p in parts]) for i in range(4)), supply=supply,
        pair_arcs=np.arange(first, first + len(pairs)), pairs=pairs,
        sink_arcs=np.arange(last, last + len(people)), people=people, person0=person0,
    )


def _components(side: _Side, active: np.ndarray, capacity: np.ndarray) -> tuple[int, np.ndarray]:
    """The independent parts of one matching problem: visits joined by a person who may fill places
    on both. Returns the number of parts and each visit's part (-1 for a visit nobody can join)."""
    n_visits = len(side.general)
    pair_on = active[side.pair_visit] & (capacity[side.pair_person] > 0)
    visit, person = side.pair_visit[pair_on], side.pair_person[pair_on]
    person = _dense(person, len(capacity))
    size = n_visits + (int(person.max()) + 1 if len(person) else 0)
    graph = coo_matrix((np.ones(len(visit), dtype=np.int8), (visit, n_visits + person)), shape=(size, size))
    _, label = connected_components(graph, directed=False)
    part = np.full(n_visits, -1, dtype=np.int64)
    joined = np.zeros(n_visits, dtype=bool)
    joined[visit] = True
    part[joined] = _dense(label[:n_visits][joined], size)
    return int(part.max()) + 1 if joined.any() else 0, part


def _dense(ids: np.ndarray, n: int) -> np.ndarray:
    """Small non-negative ids renumbered 0, 1, … in their order (np.unique's inverse without the sort)."""
    used = np.bincount(ids, minlength=n) > 0
    return (np.cumsum(used) - 1)[ids]


def _subset(side: _Side, visits: np.ndarray, people: np.ndarray, with_pairs: bool = False) -> _Side | tuple[_Side, np.ndarray]:
    """The part of a matching problem on some visits and some people, visits renumbered (and, with
    `with_pairs`, which of the problem's pairs the part's pairs are)."""
    keep_v = np.nonzero(visits)[0]
    vmap = np.full(len(side.general), -1, dtype=np.int64)
    vmap[keep_v] = np.arange(len(keep_v))
    pair_on = visits[side.pair_visit] & people[side.pair_person]
    keep_k = np.nonzero(pair_on)[0]
    kmap = np.full(len(side.pair_visit), -1, dtype=np.int64)
    kmap[keep_k] = np.arange(len(keep_k))
    slot_on = visits[side.slot_visit]
    keep_s = np.nonzero(slot_on)[0]
    smap = np.full(len(side.slot_visit), -1, dtype=np.int64)
    smap[keep_s] = np.arange(len(keep_s))
    hold_on = slot_on[side.hold_slot] & pair_on[side.hold_pair]
    part = _Side(
        general=side.general[keep_v],
        slot_visit=vmap[side.slot_visit[keep_s]],
        pair_visit=vmap[side.pair_visit[keep_k]],
        pair_person=side.pair_person[keep_k],
        pair_cost=side.pair_cost[keep_k],
        hold_slot=smap[side.hold_slot[hold_on]],
        hold_pair=kmap[side.hold_pair[hold_on]],
        mult=None if side.mult is None else side.mult[keep_v],
    )
    return (part, keep_k) if with_pairs else part


def _prefix(side: _Side, n: int) -> _Side:
    """The problem as it stood when it held its first n pairs (pairs, and the places they can fill, are
    only ever added at the end)."""
    if n == len(side.pair_visit):
        return side
    held = side.hold_pair < n
    return _Side(general=side.general, slot_visit=side.slot_visit, pair_visit=side.pair_visit[:n],
                 pair_person=side.pair_person[:n], pair_cost=side.pair_cost[:n], hold_slot=side.hold_slot[held],
                 hold_pair=side.hold_pair[held], mult=side.mult)


def _joined(net: _Net, more: _Net) -> _Net:
    """`net` with `more`'s arcs after its own (`more` numbers its arcs as the joined network does)."""
    return _Net(*(np.concatenate([getattr(net, f), getattr(more, f)]) for f in ("tails", "heads", "caps", "costs")),
                supply=net.supply, **{f: np.concatenate([getattr(net, f), getattr(more, f)]) for f in _TAILED},
                person0=net.person0)


def _beyond(net: _Net, first: _Net) -> _Net:
    """What `net` holds after the arcs of `first`, its beginning: copies, so `net` itself can go."""
    return _Net(*(getattr(net, f)[len(first.tails):].copy() for f in ("tails", "heads", "caps", "costs")),
                supply=net.supply, **{f: getattr(net, f)[len(getattr(first, f)):].copy() for f in _TAILED},
                person0=net.person0)


_TAILED = ("pair_arcs", "pairs", "sink_arcs", "people")
