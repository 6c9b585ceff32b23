"""A run's result (what the solver decided, byte-identical for the same input) and its
report (fill ratios, fairness, unmet demand, timings) with an explanation per line.

Jain's fairness index over fill ratios x_i is (sum x)^2 / (n * sum x^2): 1 when every
university is filled alike, 1/n when one takes everything.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from vfu_allocation import Allocation

from placements.allocation.snapshot import Snapshot


def result_of(allocation: Allocation) -> dict[str, Any]:
    """The decision alone: places per (line, offer), what each tier achieved, the cost
    and the solver's verdict. No timings, so a recomputation gives the same bytes."""
    return {
        "places": [[d, s, n] for (d, s), n in sorted(allocation.places.items()) if n > 0],
        "tiers": [
            {
                "tier": t.tier,
                "floor_places": t.floor_places,
                "min_fill": round(t.min_fill, 9),
                "places": t.places,
            }
            for t in allocation.tiers
        ],
        "cost": allocation.cost,
        "status": allocation.status,
        "mip_gap": round(allocation.mip_gap, 9),
    }


def jain(values: list[float]) -> float | None:
    """Jain's index of ``values`` (None for none; 1.0 when all are zero)."""
    if not values:
        return None
    squares = sum(v * v for v in values)
    return 1.0 if squares == 0 else round(sum(values) ** 2 / (len(values) * squares), 6)


def report_of(snapshot: Snapshot, result: dict[str, Any], allocation: Allocation) -> dict[str, Any]:
    """Fill per university and tier, fairness, unmet demand, the solver's stages, and an
    explanation for every line."""
    got: dict[str, int] = defaultdict(int)
    for line, _, n in result["places"]:
        got[line] += n
    lines = snapshot["lines"]
    tier_names = snapshot["tiers"]
    per: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    for line in lines:
        entry = per[(line["tier"], line["university_id"])]
        entry[0] += line["students"]
        entry[1] += got[line["id"]]
    fill = [
        {
            "tier": tier_names[tier],
            "university_id": university,
            "demand": demand,
            "allocated": allocated,
            "fill_ratio": round(allocated / demand, 6),
        }
        for (tier, university), (demand, allocated) in sorted(per.items())
    ]
    by_tier: dict[str, list[float]] = defaultdict(list)
    for row in fill:
        by_tier[row["tier"]].append(row["fill_ratio"])
    unmet: dict[tuple[str, str, str], int] = defaultdict(int)
    for line in lines:
        short = line["students"] - got[line["id"]]
        if short > 0:
            area = ",".join(line["counties"]) or "any"
            unmet[(line["profession_code"], line["programme_code"], area)] += short
    reach = _Reach.of(snapshot)
    return {
        "fill": fill,
        "jain_index": {tier: jain(values) for tier, values in sorted(by_tier.items())},
        "unmet_demand": [
            {"profession_code": p, "programme_code": q, "counties": area, "places": n}
            for (p, q, area), n in sorted(unmet.items())
        ],
        "solver": {
            "status": allocation.status,
            "mip_gap": allocation.mip_gap,
            "runtime_seconds": round(allocation.runtime_seconds, 3),
            "stages": [
                {"name": s.name, "status": s.status, "objective": s.objective, "seconds": s.seconds}
                for s in allocation.stages
            ],
        },
        "lines": [_explain(snapshot, result, line, got, reach) for line in lines],
    }


@dataclass(frozen=True)
class _Reach:
    """Read once from the snapshot's pairs (a national round has ~150,000): the lines
    with any offer they may take, and per tier the places its lines could take."""

    paired: frozenset[str]
    offered_in_tier: dict[int, int]

    @classmethod
    def of(cls, snapshot: Snapshot) -> _Reach:
        tier_of = {line["id"]: line["tier"] for line in snapshot["lines"]}
        places = {offer["id"]: offer["places"] for offer in snapshot["offers"]}
        reachable: dict[int, set[str]] = defaultdict(set)
        for pair in snapshot["pairs"]:
            reachable[tier_of[pair["line"]]].add(pair["offer"])
        return cls(
            paired=frozenset(pair["line"] for pair in snapshot["pairs"]),
            offered_in_tier={t: sum(places[o] for o in offers) for t, offers in reachable.items()},
        )


def _explain(
    snapshot: Snapshot,
    result: dict[str, Any],
    line: dict[str, Any],
    got: dict[str, int],
    reach: _Reach,
) -> dict[str, Any]:
    """What the line got and, for what it did not get, the deciding reason in words."""
    wanted, allocated = line["students"], got[line["id"]]
    tier = line["tier"]
    tier_name = snapshot["tiers"][tier]
    entry: dict[str, Any] = {
        "line_id": line["id"],
        "university_id": line["university_id"],
        "tier": tier_name,
        "students": wanted,
        "allocated": allocated,
    }
    if allocated >= wanted:
        entry["reason"] = "served"
        entry["explanation"] = f"All {wanted} places asked for were allocated."
        return entry
    if line["id"] not in reach.paired:
        entry["reason"] = "no_matching_offer"
        entry["explanation"] = (
            f"No offer in the round matches this line ({line['profession_code']}, "
            f"{line['start_date']}..{line['end_date']}, the care settings and areas asked "
            "for) under an agreement covering it; 0 of "
            f"{wanted} places could be given."
        )
        return entry
    full = [
        c
        for c in snapshot["ceilings"]
        if line["id"] in c["lines"]
        and sum(n for d, s, n in result["places"] if d in c["lines"] and s in c["offers"])
        >= c["amount"]
    ]
    if full:
        ceiling = full[0]
        entry["reason"] = "quota_ceiling"
        entry["explanation"] = (
            f"The agreement's quota {ceiling['name']} allows {ceiling['amount']} more places "
            f"for this programme this term, and all of them were allocated; this line got "
            f"{allocated} of {wanted}."
        )
        return entry
    in_tier = [d for d in snapshot["lines"] if d["tier"] == tier]
    asked = sum(d["students"] for d in in_tier)
    offered = reach.offered_in_tier.get(tier, 0)
    outcome = next((t for t in result["tiers"] if t["tier"] == tier), None)
    min_fill = outcome["min_fill"] if outcome else 0.0
    mine = [d for d in in_tier if d["university_id"] == line["university_id"]]
    mine_asked = sum(d["students"] for d in mine)
    mine_got = sum(got[d["id"]] for d in mine)
    entry["reason"] = "fair_share"
    entry["explanation"] = (
        f"Tier {tier + 1} ({tier_name}) demand for {line['profession_code']} "
        f"{snapshot['term']} was {asked} places for {offered} places its lines could take; "
        f"the fair split gave every university of the tier at least {min_fill:.0%} of its "
        f"demand. Your university got {mine_got} of {mine_asked}; this line {allocated} "
        f"of {wanted}."
    )
    return entry


def dumps(value: Any) -> str:
    """Stored JSON: sorted keys, no spaces."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
