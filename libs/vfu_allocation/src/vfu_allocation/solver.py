"""The allocator: the round's policy as a sequence of mixed-integer programs (HiGHS).

Each tier, first tier first, is served in three stages, each fixing what it achieved
before the next one runs (lexicographic optimisation):

1. **floors**: as many places as possible towards the tier's quota floors;
2. **fair split**: the largest ``z`` such that every university of the tier gets at
   least ``z`` times its weight, or all it asked for (``a_u >= min(z * w_u, D_u)``, with
   a binary per university to say which). With weights equal to demand, ``z`` is the
   minimum fill ratio; with admitted students, places in proportion to them;
3. **places**: as many places as possible for the tier.

A later tier only gets what the earlier ones could not use. Last, the total cost
(distance, or the penalty of an accepted alternative) is minimised, with ties broken by a
perturbation drawn from the seed for each (line, offer) pair, so equal choices are
decided by the seed and not by the order the input came in.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Final

from vfu_allocation.model import Allocation, Bound, Instance, StageReport, TierOutcome
from vfu_allocation.pooling import pool, spread
from vfu_allocation.program import INF, Program, Solved

# A stage's optimum is fixed with this slack, so the next stage stays feasible despite
# the solver's floating-point tolerances; integral sums are fixed exactly.
_SLACK: Final = 1e-7


def _tie_break(seed: int, demand: str, supply: str) -> float:
    """A number in [0, 1) drawn from the seed for one pair, the same in any input order."""
    digest = hashlib.blake2b(f"{seed}|{demand}|{supply}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def allocate(instance: Instance, *, mip_rel_gap: float = 0.0) -> Allocation:
    """Solve ``instance`` under its policy; deterministic for the same instance and seed."""
    inst, members = pool(instance.canonical())
    program = Program()
    supply_places = {s.id: s.places for s in inst.supplies}
    demand_of = {d.id: d for d in inst.demands}
    edges = [e for e in inst.edges if e.demand in demand_of and e.supply in supply_places]
    x = {
        (e.demand, e.supply): program.column(
            0,
            min(supply_places[e.supply], demand_of[e.demand].students),
            integer=True,
            relaxable=True,
        )
        for e in edges
    }
    by_supply: dict[str, list[int]] = defaultdict(list)
    by_demand: dict[str, list[int]] = defaultdict(list)
    for (d, s), column in x.items():
        by_supply[s].append(column)
        by_demand[d].append(column)
    for supply, columns in by_supply.items():
        program.row(-INF, supply_places[supply], dict.fromkeys(columns, 1.0))
    for demand, columns in by_demand.items():
        program.row(-INF, demand_of[demand].students, dict.fromkeys(columns, 1.0))

    def places_of(demands: list[str]) -> dict[int, float]:
        return {c: 1.0 for d in demands for c in by_demand.get(d, [])}

    def places_within(bound: Bound) -> dict[int, float]:
        return {c: 1.0 for (d, s), c in x.items() if bound.covers(d, s)}

    for ceiling in inst.ceilings:
        program.row(-INF, ceiling.amount, places_within(ceiling))

    outcomes: list[TierOutcome] = []
    stages: list[StageReport] = []

    def record(name: str, solved: Solved) -> Solved:
        stages.append(
            StageReport(name, solved.status, solved.objective, solved.mip_gap, solved.seconds)
        )
        return solved

    for tier in inst.tiers():
        lines = [d.id for d in inst.demands if d.tier == tier]
        universities = inst.universities_in(tier)

        in_tier = set(lines)
        floors = [f for f in inst.floors if in_tier.intersection(f.demands)]
        floor_vars = []
        for floor in floors:
            towards = program.column(0, floor.amount, integer=False)
            program.row(0, INF, {**places_within(floor), towards: -1.0})
            floor_vars.append(towards)
        floor_total = 0.0
        if floor_vars:
            solved = record(
                f"tier {tier}: floors",
                program.solve(
                    dict.fromkeys(floor_vars, 1.0), maximise=True, mip_rel_gap=mip_rel_gap
                ),
            )
            floor_total = round(solved.objective)
            program.row(floor_total, INF, dict.fromkeys(floor_vars, 1.0))

        weighted = [u for u in universities if inst.weight_of(u) > 0]
        z_max = max((inst.demand_of(u) / inst.weight_of(u) for u in weighted), default=0.0)
        z = program.column(0, z_max, integer=False)
        for university in weighted:
            weight, wanted = inst.weight_of(university), inst.demand_of(university)
            served = program.column(0, 1, integer=True)
            mine = places_of([d for d in lines if demand_of[d].university == university])
            # either at least z * weight ...
            program.row(0, INF, {**mine, z: -weight, served: weight * z_max})
            # ... or everything it asked for
            program.row(0, INF, {**mine, served: -float(wanted)})
        solved = record(
            f"tier {tier}: fair split",
            program.solve({z: 1.0}, maximise=True, mip_rel_gap=mip_rel_gap),
        )
        min_fill = max(solved.objective - _SLACK * max(1.0, solved.objective), 0.0)
        program.row(min_fill, INF, {z: 1.0})

        tier_places = places_of(lines)
        solved = record(
            f"tier {tier}: places",
            program.solve(tier_places, maximise=True, mip_rel_gap=mip_rel_gap),
        )
        placed = round(solved.objective)
        program.row(placed, INF, tier_places)
        outcomes.append(TierOutcome(tier, int(floor_total), min_fill, placed))

    scale = 1.0 + sum(supply_places.values())
    objective = {
        x[(e.demand, e.supply)]: e.cost * scale + _tie_break(inst.seed, e.demand, e.supply)
        for e in edges
    }
    solved = record("cost", program.solve(objective, maximise=False, mip_rel_gap=mip_rel_gap))
    places = {
        pair: round(solved.values[column])
        for pair, column in x.items()
        if round(solved.values[column]) > 0
    }
    cost_of = {(e.demand, e.supply): e.cost for e in edges}
    return Allocation(
        places=spread(places, members),
        tiers=tuple(outcomes),
        cost=sum(n * cost_of[pair] for pair, n in places.items()),
        status=_worst(stages),
        mip_gap=max(stage.mip_gap for stage in stages),
        runtime_seconds=sum(stage.seconds for stage in stages),
        stages=tuple(stages),
    )


def _worst(stages: list[StageReport]) -> str:
    """``Optimal`` when every stage was, else the first other status."""
    return next((s.status for s in stages if s.status != "Optimal"), "Optimal")
