"""A run's input, read from the round's tables into one canonical JSON document.

The snapshot holds everything the solver decides from and everything publication needs
(which agreement covers each pair), in id order, so its SHA-256 digest names the input:
a run is recomputed from its snapshot alone, and a preview is stale exactly when a fresh
snapshot's digest differs. Offers count with their free places at the time of reading.

Quotas counted in places are modelled (floors and ceilings, at the offers their
agreement covers); quotas in student-weeks are not, and are enforced when publication
books the places (a breach there makes the preview stale, nothing is half-written).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_allocation import Bound, Demand, Edge, Instance, Supply
from vfu_common.events.contracts import AgreementTermsV1
from vfu_common.rows import all_as

from placements.allocation import compatibility
from placements.bookings.gate import covering_decision
from placements.demand import repository as demand_repository
from placements.demand.models import DemandLine
from placements.offers.models import Offer, capacity_offers
from placements.projections.agreements import terms_between
from placements.quotas import repository as quota_repository
from placements.rounds import repository as round_repository
from placements.rounds.models import PlanningRound
from placements.rounds.schemas import Policy

Snapshot = dict[str, Any]


async def current_policy(session: AsyncSession, round_: PlanningRound) -> Policy:
    """The round's policy in force."""
    stored = await round_repository.policy(session, round_.id, round_.policy_version)
    return Policy.model_validate_json(stored.body)


async def _offers_in_scope(session: AsyncSession, round_: PlanningRound) -> list[Offer]:
    scope = (await round_repository.scope_of(session, [round_.id]))[round_.id]
    refs: dict[str, list[str]] = defaultdict(list)
    for kind, ref in scope:
        refs[kind].append(ref)
    o = capacity_offers.c
    covered = [
        o.provider_id.in_([uuid.UUID(r) for r in refs["provider"]]),
        o.unit_id.in_([uuid.UUID(r) for r in refs["unit"]]),
        o.municipality_code.in_(refs["municipality"]),
    ]
    stmt = (
        select(capacity_offers)
        .where(
            o.term == round_.term,
            o.status == "published",
            o.held_places + o.confirmed_places < o.places,
            or_(*covered),
        )
        .order_by(o.id)
    )
    return all_as(Offer, await session.execute(stmt))


def _line_facts(line: DemandLine) -> compatibility.LineFacts:
    return compatibility.LineFacts(
        profession_code=line.profession_code,
        programme_code=line.programme_code,
        start_date=line.start_date,
        end_date=line.end_date,
        care_settings=tuple(json.loads(line.care_settings)),
        municipality_codes=tuple(json.loads(line.municipality_codes)),
        county_codes=tuple(json.loads(line.county_codes)),
        accepts_other_municipality=line.accepts_other_municipality,
        accepts_other_weeks=line.accepts_other_weeks,
    )


def _offer_facts(offer: Offer) -> compatibility.OfferFacts:
    return compatibility.OfferFacts(
        profession_code=offer.profession_code,
        programme_code=offer.programme_code,
        start_date=offer.start_date,
        end_date=offer.end_date,
        care_setting=offer.care_setting,
        municipality_code=offer.municipality_code,
        county_code=offer.county_code,
    )


def _tier_of(policy: Policy) -> tuple[dict[str, int], int]:
    names = [tier.name for tier in policy.tiers]
    member = {str(u): names.index(t.name) for t in policy.tiers for u in t.university_ids}
    return member, names.index(policy.default_tier)


async def build(session: AsyncSession, round_: PlanningRound) -> Snapshot:
    """The round's allocation input as of now."""
    policy = await current_policy(session, round_)
    lines = await demand_repository.counting_lines(session, round_.id)
    offers = await _offers_in_scope(session, round_)
    tier_of, default_tier = _tier_of(policy)
    # Agreement terms per (university, provider), read when a pair first needs them.
    terms: dict[tuple[uuid.UUID, uuid.UUID], list[AgreementTermsV1]] = {}
    pairs: list[dict[str, Any]] = []
    series_offers: dict[tuple[str, str], set[str]] = defaultdict(set)
    offer_facts = {offer.id: _offer_facts(offer) for offer in offers}
    # A line only ever takes offers of its profession: look at those alone.
    by_profession: dict[str, list[Offer]] = defaultdict(list)
    for offer in offers:
        by_profession[offer.profession_code].append(offer)
    for line in lines:
        facts = _line_facts(line)
        for offer in by_profession.get(line.profession_code, []):
            cost = compatibility.cost(facts, offer_facts[offer.id])
            if cost is None:
                continue
            key = (line.university_id, offer.provider_id)
            if key not in terms:
                terms[key] = await terms_between(session, university_id=key[0], provider_id=key[1])
            found = terms[key]
            decision = covering_decision(found, offer, line.university_id)
            if decision.agreement is None:
                continue
            agreement = decision.agreement
            pairs.append(
                {
                    "line": str(line.id),
                    "offer": str(offer.id),
                    "cost": cost,
                    "agreement_id": str(agreement.agreement_id),
                }
            )
            series_offers[(str(line.university_id), str(agreement.series_id))].add(str(offer.id))
    floors, ceilings = await _bounds(session, round_, lines, series_offers)
    weights = (
        {str(u): float(n) for u, n in sorted(policy.admitted_students.items())}
        if policy.fairness_basis == "admitted_students"
        else {}
    )
    return {
        "round_id": str(round_.id),
        "term": round_.term,
        "policy_version": round_.policy_version,
        "seed": policy.seed,
        "tiers": [tier.name for tier in policy.tiers],
        "fairness_basis": policy.fairness_basis,
        "offers": [_offer_entry(offer) for offer in offers],
        "lines": [
            _line_entry(line, tier_of.get(str(line.university_id), default_tier)) for line in lines
        ],
        "pairs": pairs,
        "floors": floors,
        "ceilings": ceilings,
        "weights": weights,
    }


def _offer_entry(offer: Offer) -> dict[str, Any]:
    return {
        "id": str(offer.id),
        "places": offer.places - offer.held_places - offer.confirmed_places,
        "provider_id": str(offer.provider_id),
        "unit_id": str(offer.unit_id),
        "profession_code": offer.profession_code,
        "programme_code": offer.programme_code,
        "start_date": offer.start_date.isoformat(),
        "end_date": offer.end_date.isoformat(),
        "care_setting": offer.care_setting,
        "municipality_code": offer.municipality_code,
        "county_code": offer.county_code,
        "version": offer.version,
    }


def _line_entry(line: DemandLine, tier: int) -> dict[str, Any]:
    return {
        "id": str(line.id),
        "university_id": str(line.university_id),
        "tier": tier,
        "students": line.students,
        "profession_code": line.profession_code,
        "programme_code": line.programme_code,
        "course_code": line.course_code,
        "course_instance": line.course_instance,
        "start_date": line.start_date.isoformat(),
        "end_date": line.end_date.isoformat(),
        "counties": _counties_of(line),
        "version": line.version,
    }


def _counties_of(line: DemandLine) -> list[str]:
    """The counties a line asks for, named or by their municipalities (none: anywhere)."""
    counties = set(json.loads(line.county_codes))
    counties |= {code[:2] for code in json.loads(line.municipality_codes)}
    return sorted(counties)


async def _bounds(
    session: AsyncSession,
    round_: PlanningRound,
    lines: Sequence[DemandLine],
    series_offers: dict[tuple[str, str], set[str]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Floors and ceilings in places: a quota's lines are its university's of its
    programme (or profession), its offers those its agreement series covers."""
    floors: list[dict[str, Any]] = []
    ceilings: list[dict[str, Any]] = []
    universities = sorted({line.university_id for line in lines})
    for quota in await quota_repository.of_universities(session, universities, round_.term):
        if quota.unit != "places":
            continue
        university = str(quota.university_id)
        covered = [
            str(line.id)
            for line in lines
            if str(line.university_id) == university
            and quota.programme_code in (line.programme_code, line.profession_code)
        ]
        offers = series_offers.get((university, str(quota.series_id)), set())
        if not covered or not offers:
            continue
        entry = {
            "name": f"{quota.series_id}/{quota.programme_code}",
            "university": university,
            "agreement_id": str(quota.agreement_id),
            "amount": max(quota.amount - quota.used, 0),
            "lines": covered,
            "offers": sorted(offers),
        }
        (floors if quota.kind == "floor" else ceilings).append(entry)
    return floors, ceilings


def canonical(snapshot: Snapshot) -> str:
    """The snapshot as stored: sorted keys, no spaces."""
    return json.dumps(snapshot, sort_keys=True, separators=(",", ":"))


def digest(snapshot: Snapshot) -> str:
    """SHA-256 of the canonical snapshot: equal digests, equal input."""
    return hashlib.sha256(canonical(snapshot).encode()).hexdigest()


def instance(snapshot: Snapshot) -> Instance:
    """The solver's instance of a snapshot (and nothing else: a run is recomputable)."""

    def bound(entry: dict[str, Any]) -> Bound:
        return Bound(
            entry["name"],
            entry["university"],
            entry["amount"],
            tuple(entry["lines"]),
            tuple(entry["offers"]),
        )

    return Instance(
        supplies=tuple(Supply(o["id"], o["places"]) for o in snapshot["offers"]),
        demands=tuple(
            Demand(d["id"], d["university_id"], d["students"], d["tier"]) for d in snapshot["lines"]
        ),
        edges=tuple(Edge(p["line"], p["offer"], p["cost"]) for p in snapshot["pairs"]),
        floors=tuple(bound(b) for b in snapshot["floors"]),
        ceilings=tuple(bound(b) for b in snapshot["ceilings"]),
        weights=dict(snapshot["weights"]),
        seed=snapshot["seed"],
    )


def changes(old: Snapshot, new: Snapshot) -> dict[str, Any]:
    """What differs between two snapshots, per kind: ids added, removed and changed."""
    out: dict[str, Any] = {}
    if old["policy_version"] != new["policy_version"]:
        out["policy_version"] = {"was": old["policy_version"], "now": new["policy_version"]}
    for kind, key in (("offers", "id"), ("lines", "id"), ("floors", "name"), ("ceilings", "name")):
        before = {e[key]: e for e in old[kind]}
        after = {e[key]: e for e in new[kind]}
        diff = {
            "added": sorted(after.keys() - before.keys()),
            "removed": sorted(before.keys() - after.keys()),
            "changed": sorted(k for k in before.keys() & after.keys() if before[k] != after[k]),
        }
        if any(diff.values()):
            out[kind] = {name: ids[:20] for name, ids in diff.items() if ids}
    if not out and old["pairs"] != new["pairs"]:
        out["pairs"] = "the agreements covering the pairs changed"
    return out
