"""Interchangeable offers pooled before solving, spread back after.

Offers that every line may take at the same cost (the same set of (line, cost) pairs)
are interchangeable: any allocation over them is equally good however it is split. A
national round has many such offers (one ward's identical slots, a county's units of
one programme in one period), so they are solved as one pool with their places summed,
which shrinks the program by an order of magnitude without changing its optimum. The
pool's places are spread back over its offers in id order, lines in id order, so the
result stays deterministic. A pool is named by its first offer's id, which also draws
its tie-breaks.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from vfu_allocation.model import Bound, Edge, Instance, Supply


def pool(inst: Instance) -> tuple[Instance, dict[str, list[Supply]]]:
    """The instance over pools of interchangeable offers, and each pool's offers.

    Offers are interchangeable when they have the same (line, cost) pairs and count
    towards the same quotas, so a pool is wholly inside or outside each quota.
    """
    signature: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for edge in inst.edges:
        signature[edge.supply].append((edge.demand, edge.cost))
    restricted = [b for b in (*inst.floors, *inst.ceilings) if b.supplies]
    within = {b.name: set(b.supplies) for b in restricted}
    groups: dict[tuple[tuple[tuple[str, int], ...], tuple[str, ...]], list[Supply]]
    groups = defaultdict(list)
    for supply in sorted(inst.supplies):
        if supply.id in signature and supply.places > 0:
            quotas = tuple(b.name for b in restricted if supply.id in within[b.name])
            groups[(tuple(sorted(signature[supply.id])), quotas)].append(supply)
    members = {offers[0].id: offers for offers in groups.values()}
    pooled_edges = tuple(
        Edge(demand, offers[0].id, cost)
        for (pairs, _), offers in groups.items()
        for demand, cost in pairs
    )

    def pooled_bound(bound: Bound) -> Bound:
        if not bound.supplies:
            return bound
        names = tuple(n for n, offers in members.items() if offers[0].id in within[bound.name])
        # A quota none of whose offers is in play still bounds nothing: keep it empty-handed.
        return replace(bound, supplies=names or ("",))

    pooled = replace(
        inst,
        supplies=tuple(
            Supply(name, sum(s.places for s in offers)) for name, offers in members.items()
        ),
        edges=pooled_edges,
        floors=tuple(pooled_bound(b) for b in inst.floors),
        ceilings=tuple(pooled_bound(b) for b in inst.ceilings),
    )
    return pooled.canonical(), members


def spread(
    places: dict[tuple[str, str], int], members: dict[str, list[Supply]]
) -> dict[tuple[str, str], int]:
    """Each pool's places given to its offers in id order, its lines in id order."""
    out: dict[tuple[str, str], int] = {}
    by_pool: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for (demand, name), n in sorted(places.items()):
        by_pool[name].append((demand, n))
    for name, wanted in by_pool.items():
        offers = iter(members[name])
        current, left = next(offers), members[name][0].places
        for demand, n in wanted:
            while n > 0:
                while left == 0:
                    current = next(offers)
                    left = current.places
                take = min(n, left)
                out[(demand, current.id)] = out.get((demand, current.id), 0) + take
                n, left = n - take, left - take
    return out
