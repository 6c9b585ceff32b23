"""The reports: qualified share and lapsed qualifications, and training demand.

Both read one snapshot (one read transaction) of the registry and the projections.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_domain.qualification import evaluate

from supervisors.projections.agreements import (
    AgreementRequirement,
    covering_requirements,
    strictest_requirement,
    unknown_levels,
)
from supervisors.projections.units import unit_names
from supervisors.reports import repository
from supervisors.reports.access import ReportScope
from supervisors.reports.demand import STUDENTS_PER_SUPERVISOR, OfferNeed, peak_demand
from supervisors.reports.repository import SupervisorQualification
from supervisors.reports.schemas import (
    DemandRowOut,
    LapsedSupervisorOut,
    ProviderQualificationOut,
    QualificationReportOut,
    TrainingDemandOut,
    UnitQualificationOut,
    UnknownLevelOut,
)


@dataclass
class _Tally:
    supervisors: int = 0
    qualified: int = 0
    qualified_for_agreements: int = 0

    def add(self, qualified: bool, qualified_for_agreements: bool) -> None:
        self.supervisors += 1
        self.qualified += qualified
        self.qualified_for_agreements += qualified_for_agreements

    def counts(self) -> dict[str, Any]:
        return {
            "supervisors": self.supervisors,
            "qualified": self.qualified,
            "qualified_share": _share(self.qualified, self.supervisors),
            "qualified_for_agreements": self.qualified_for_agreements,
            "qualified_for_agreements_share": _share(
                self.qualified_for_agreements, self.supervisors
            ),
        }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _qualified_for_agreements(
    supervisor: SupervisorQualification, requirements: Iterable[AgreementRequirement]
) -> bool:
    # The row's required_level is the default it was computed against; agreements only
    # raise it.
    required = strictest_requirement(
        requirements, supervisor.profession_code, supervisor.required_level
    )
    return evaluate(
        licence_verified=supervisor.licence_verified,
        level_achieved=supervisor.level_achieved,
        required_level=required.level,
    ).qualified


@dataclass
class _Registry:
    """One read of the scope's supervisors and units, indexed for the report."""

    supervisors_of: dict[uuid.UUID, list[SupervisorQualification]] = field(
        default_factory=lambda: defaultdict(list)
    )
    units_of: dict[uuid.UUID, list[uuid.UUID]] = field(default_factory=lambda: defaultdict(list))
    provider_units: dict[uuid.UUID, set[uuid.UUID]] = field(
        default_factory=lambda: defaultdict(set)
    )
    names: dict[uuid.UUID, str] = field(default_factory=dict)


async def _read_registry(session: AsyncSession, scope: ReportScope) -> _Registry:
    registry = _Registry()
    for row in await repository.active_supervisors(session, scope):
        registry.supervisors_of[row.employer_id].append(row)
    for supervisor_id, unit_id in await repository.unit_links(session, scope):
        registry.units_of[supervisor_id].append(unit_id)
    for unit in await repository.known_units(session, scope):
        registry.provider_units[unit.provider_id].add(unit.unit_id)
        registry.names[unit.unit_id] = unit.name
    # A supervisor's unit may be one the projection files under another provider.
    linked = {unit_id for ids in registry.units_of.values() for unit_id in ids}
    registry.names |= await unit_names(session, linked - set(registry.names))
    return registry


async def qualification_report(
    session: AsyncSession, scope: ReportScope, on: date
) -> QualificationReportOut:
    """Per provider and unit: active supervisors, qualified counts and shares, lapses."""
    if scope.empty:
        return QualificationReportOut(on=on, providers=[])
    registry = await _read_registry(session, scope)
    providers = []
    for provider_id in sorted(set(registry.supervisors_of) | set(registry.provider_units)):
        requirements = await covering_requirements(session, provider_id, on)
        providers.append(_provider_report(provider_id, registry, requirements))
    return QualificationReportOut(on=on, providers=providers)


def _provider_report(
    provider_id: uuid.UUID, registry: _Registry, requirements: list[AgreementRequirement]
) -> ProviderQualificationOut:
    rows = registry.supervisors_of.get(provider_id, [])
    total = _Tally()
    per_unit = {unit_id: _Tally() for unit_id in registry.provider_units.get(provider_id, set())}
    for row in rows:
        flags = (bool(row.qualified), _qualified_for_agreements(row, requirements))
        total.add(*flags)
        for unit_id in registry.units_of.get(row.id, []):
            per_unit.setdefault(unit_id, _Tally()).add(*flags)
    units = [
        UnitQualificationOut(
            unit_id=unit_id, unit_name=registry.names.get(unit_id), **tally.counts()
        )
        for unit_id, tally in per_unit.items()
    ]
    # Named units by name, then the ones no unit event has named yet.
    units.sort(key=lambda u: (u.unit_name is None, u.unit_name or "", str(u.unit_id)))
    return ProviderQualificationOut(
        provider_id=provider_id,
        units=units,
        lapsed=_lapsed(rows, registry.units_of),
        unknown_requirement_levels=_unknown_levels(requirements),
        **total.counts(),
    )


def _lapsed(
    rows: Iterable[SupervisorQualification], units_of: Mapping[uuid.UUID, list[uuid.UUID]]
) -> list[LapsedSupervisorOut]:
    lapsed = [
        LapsedSupervisorOut(
            supervisor_id=row.id,
            profession_code=row.profession_code,
            unit_ids=sorted(units_of.get(row.id, []), key=str),
            lapsed_at=row.qualification_lapsed_at,
        )
        for row in rows
        if row.qualification_lapsed_at is not None
    ]
    # Most recent first: the lapses a coordinator has not seen yet.
    return sorted(lapsed, key=lambda s: (s.lapsed_at, str(s.supervisor_id)), reverse=True)


def _unknown_levels(requirements: Iterable[AgreementRequirement]) -> list[UnknownLevelOut]:
    return [
        UnknownLevelOut(agreement_id=unknown.agreement_id, level=unknown.level)
        for unknown in unknown_levels(requirements)
    ]


async def training_demand(session: AsyncSession, scope: ReportScope, on: date) -> TrainingDemandOut:
    """Units whose open published offers need more qualified supervisors than they have."""
    assumptions = dict(STUDENTS_PER_SUPERVISOR)
    if scope.empty:
        return TrainingDemandOut(on=on, students_per_supervisor=assumptions, rows=[])
    offers = await repository.open_published_offers(session, scope, on)
    peaks = peak_demand(
        OfferNeed(
            provider_id=o.provider_id,
            unit_id=o.unit_id,
            profession_code=o.profession_code,
            term=o.term,
            places=o.places,
            supervision_model=o.supervision_model,
        )
        for o in offers
    )
    have = await repository.qualified_per_unit(session, scope)
    names = await unit_names(session, {peak.unit_id for peak in peaks})
    rows = []
    for peak in peaks:
        available = have.get((peak.provider_id, peak.unit_id, peak.profession_code), 0)
        if peak.needed > available:
            rows.append(
                DemandRowOut(
                    provider_id=peak.provider_id,
                    unit_id=peak.unit_id,
                    unit_name=names.get(peak.unit_id),
                    profession_code=peak.profession_code,
                    term=peak.term,
                    needed=peak.needed,
                    qualified_available=available,
                    shortfall=peak.needed - available,
                )
            )
    rows.sort(key=lambda r: (-r.shortfall, r.unit_name or "", str(r.unit_id), r.profession_code))
    return TrainingDemandOut(on=on, students_per_supervisor=assumptions, rows=rows)
