"""Allocation of a national-size planning round, against HiGHS's own bounds.

    .venv/bin/python bench/allocation.py [--scale 1.0] [--seed 1] [--mip-rel-gap 0.0]

A seeded generator builds the round as the allocator sees it (``vfu_allocation``):
30 universities in three tiers, 25 programmes, 6,000 units in all 290 municipalities,
40,000 offers (1 to 2 places, in one of four periods), 2,000 demand lines for about
60,000 students (each wanting its university's county and period; a third accept other
weeks, a third another county of the healthcare region, at a distance cost), and 400
agreement quotas (half floors, half ceilings) on (university, programme). ``--scale``
shrinks every count for a quick run.

It then runs ``allocate`` (every stage: per tier floors, fair split, places; then cost)
and reports the wall time, the process's peak resident memory, the solver status and
MIP gap, and two baselines computed by HiGHS on the same instance in the same run:

* the **LP bound of the places**: the linear relaxation of "as many places as possible"
  under capacity, demand and ceilings, ignoring tiers and fairness. The ratio
  places / bound says what the policy's priorities cost in places (not a solver gap);
* the **optimality gap of the last stage**: the allocation's cost against the LP
  relaxation of the last stage's program (the same rows, integrality dropped).

Targets (issue: allocation): <= 60 s, <= 2 GiB on the 2-core machine, gap <= 0.1 %.
Publishing the result as bookings is not part of this script yet.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from collections import defaultdict

from _support import load_line, machine_line
from vfu_allocation import INF, Bound, Demand, Edge, Instance, Program, Supply, allocate
from vfu_domain.reference import healthcare_region_for_municipality, municipalities

PERIODS = 4
OTHER_WEEKS_COST = 20
OTHER_COUNTY_COST = 80


def generate(scale: float, seed: int, *, unit_costs: bool = False) -> Instance:
    rng = random.Random(seed)
    towns = sorted(municipalities().values(), key=lambda m: m.code)
    county_of = {m.code: m.lan_code for m in towns}
    region_of = {m.code: healthcare_region_for_municipality(m.code) for m in towns}
    counties = sorted(set(county_of.values()))
    county_region = {county_of[m.code]: region_of[m.code] for m in towns}
    n_units, n_offers = int(6000 * scale), int(40000 * scale)
    n_lines, n_quotas = max(1, int(2000 * scale)), int(400 * scale)
    programmes = [f"programme-{k:02d}" for k in range(25)]
    universities = [(f"university-{k:02d}", rng.choice(counties)) for k in range(30)]
    tier_of = {u: k % 3 for k, (u, _) in enumerate(universities)}
    # every municipality has a unit, the rest where people live (a few large towns)
    unit_towns = [m.code for m in towns] + rng.choices(
        [m.code for m in towns], k=max(0, n_units - len(towns))
    )
    offers: dict[tuple[str, str, int], list[Supply]] = defaultdict(list)  # (county, prog, period)
    unit_km: dict[str, int] = {}  # the offer's distance from the campus within its county
    for k in range(n_offers):
        town = rng.choice(unit_towns)
        key = (county_of[town], rng.choice(programmes), rng.randrange(PERIODS))
        offers[key].append(Supply(f"offer-{k:05d}", rng.choice((1, 1, 2))))
        unit_km[f"offer-{k:05d}"] = rng.randrange(0, 40) if unit_costs else 0
    demands, edges = [], []
    programme_of: dict[str, str] = {}
    students_per_line = 60000 / 2000
    for k in range(n_lines):
        university, county = rng.choice(universities)
        programme, period = rng.choice(programmes), rng.randrange(PERIODS)
        line = Demand(
            f"line-{k:04d}",
            university,
            max(1, int(rng.expovariate(1 / students_per_line))),
            tier_of[university],
        )
        demands.append(line)
        programme_of[line.id] = programme
        other_weeks, other_county = rng.random() < 1 / 3, rng.random() < 1 / 3
        for c in counties:
            if c != county and not (other_county and county_region[c] == county_region[county]):
                continue
            for p in range(PERIODS):
                if p != period and not other_weeks:
                    continue
                cost = (OTHER_COUNTY_COST if c != county else 0) + (
                    OTHER_WEEKS_COST if p != period else 0
                )
                edges.extend(
                    Edge(line.id, s.id, cost + unit_km[s.id])
                    for s in offers.get((c, programme, p), ())
                )
    lines_of: dict[tuple[str, str], list[str]] = defaultdict(list)
    for line in demands:
        lines_of[(line.university, programme_of[line.id])].append(line.id)
    keys = sorted(lines_of)
    floors, ceilings = [], []
    for q in range(n_quotas):
        university, programme = keys[rng.randrange(len(keys))]
        ids = tuple(lines_of[(university, programme)])
        wanted = sum(d.students for d in demands if d.id in ids)
        bound = Bound(f"quota-{q:03d}", university, int(wanted * rng.uniform(0.5, 1.0)), ids)
        (floors if q % 2 == 0 else ceilings).append(bound)
    supplies = tuple(s for group in offers.values() for s in group)
    return Instance(
        supplies, tuple(demands), tuple(edges), tuple(floors), tuple(ceilings), seed=seed
    )


def places_bound(inst: Instance) -> float:
    """The LP relaxation of the most places under capacity, demand and ceilings."""
    program = Program()
    x = {(e.demand, e.supply): program.column(0, INF, integer=False) for e in inst.edges}
    rows: dict[str, list[int]] = defaultdict(list)
    for (d, s), column in x.items():
        rows["s" + s].append(column)
        rows["d" + d].append(column)
    limit = {"s" + s.id: s.places for s in inst.supplies} | {
        "d" + d.id: d.students for d in inst.demands
    }
    for name, columns in rows.items():
        program.row(-INF, limit[name], dict.fromkeys(columns, 1.0))
    for c in inst.ceilings:
        columns = [x[p] for p in x if p[0] in set(c.demands)]
        program.row(-INF, c.amount, dict.fromkeys(columns, 1.0))
    return program.solve(dict.fromkeys(x.values(), 1.0), maximise=True, mip_rel_gap=0).objective


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mip-rel-gap", type=float, default=0.0)
    parser.add_argument(
        "--unit-costs",
        action="store_true",
        help="a distance per offer (few offers are interchangeable, so little is pooled)",
    )
    args = parser.parse_args()
    print(machine_line())
    print(load_line())
    started = time.perf_counter()
    inst = generate(args.scale, args.seed, unit_costs=args.unit_costs)
    students = sum(d.students for d in inst.demands)
    places = sum(s.places for s in inst.supplies)
    print(
        f"instance: {len(inst.supplies)} offers ({places} places), {len(inst.demands)} lines "
        f"({students} students), {len(inst.edges)} compatible pairs, {len(inst.floors)} floors, "
        f"{len(inst.ceilings)} ceilings; generated in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    started = time.perf_counter()
    result = allocate(inst, mip_rel_gap=args.mip_rel_gap)
    wall = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    placed = sum(result.places.values())
    started = time.perf_counter()
    bound = places_bound(inst)
    lp_seconds = time.perf_counter() - started
    share = placed / bound if bound else 1.0
    print(f"allocate: {wall:.1f} s wall ({result.runtime_seconds:.1f} s solving)")
    print(f"peak RSS {peak_mib:.0f} MiB")
    print(f"status {result.status}, largest stage MIP gap {result.mip_gap:.2e}")
    for tier in result.tiers:
        print(
            f"  tier {tier.tier}: floors {tier.floor_places} places, "
            f"min fill {tier.min_fill:.3f}, {tier.places} places"
        )
    print(f"places {placed} / LP bound {bound:.0f} = {share:.4f} (what the priorities cost)")
    print(f"the LP bound took {lp_seconds:.1f} s; cost {result.cost}")
    for stage in result.stages:
        print(
            f"  stage {stage.name}: {stage.status}, {stage.seconds:.1f} s, gap {stage.mip_gap:.1e}"
        )
    print(load_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
