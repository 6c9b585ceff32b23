"""The one place an agreement row becomes ``AgreementTermsV1`` (and the API's view of it).

Events, the coverage endpoint and the API all read terms through here, so what a
consumer projects and what this service decides from cannot drift apart.
"""

from __future__ import annotations

import uuid
from typing import Any

from vfu_common.events.contracts import (
    AgreementPartyV1,
    AgreementTermsV1,
    CompensationRateV1,
    QuotaV1,
)

from agreements.contracting.models import Agreement
from agreements.contracting.schemas import AgreementOut, DocumentOut, PartyOut


def _scope(agreement: Agreement, kind: str) -> list[str]:
    return sorted(item.code for item in agreement.scope if item.kind == kind)


def _quotas(agreement: Agreement) -> list[QuotaV1]:
    return [
        QuotaV1(
            university_organisation_id=q.university_organisation_id,
            programme_code=q.programme_code,
            term=q.term,
            unit=q.unit,
            amount=q.amount,
            kind=q.kind,
        )
        for q in agreement.quotas
    ]


def _rates(agreement: Agreement) -> list[CompensationRateV1]:
    return [
        CompensationRateV1(
            programme_code=r.programme_code,
            level=r.level,
            basis=r.basis,
            amount_ore=r.amount_ore,
            payer_organisation_id=r.payer_organisation_id,
            payee_organisation_id=r.payee_organisation_id,
            valid_from=r.valid_from,
            valid_to=r.valid_to,
        )
        for r in agreement.rates
    ]


def _terms_fields(agreement: Agreement) -> dict[str, Any]:
    return {
        "agreement_id": agreement.id,
        "series_id": agreement.series_id,
        "version_number": agreement.version_number,
        "supersedes_agreement_id": agreement.supersedes_agreement_id,
        "agreement_type": agreement.agreement_type,
        "title": agreement.title,
        "status": agreement.status,
        "parties": [
            AgreementPartyV1(organisation_id=p.organisation_id, role=p.role, signed_at=p.signed_at)
            for p in agreement.parties
        ],
        "programmes": _scope(agreement, "programme"),
        "professions": _scope(agreement, "profession"),
        "covered_unit_ids": [uuid.UUID(code) for code in _scope(agreement, "unit")],
        "covered_municipality_codes": _scope(agreement, "municipality"),
        "valid_from": agreement.valid_from,
        "valid_to": agreement.valid_to,
        "notice_period_months": agreement.notice_period_months,
        "auto_renewal_months": agreement.auto_renewal_months,
        "effective_until": agreement.effective_until,
        "supervision_requirement_level": agreement.supervision_requirement_level,
        "quotas": _quotas(agreement),
        "rates": _rates(agreement),
    }


def to_terms(agreement: Agreement) -> AgreementTermsV1:
    """The terms of one fully loaded agreement version."""
    return AgreementTermsV1(**_terms_fields(agreement))


def terms_fields(agreement: Agreement) -> dict[str, Any]:
    """The terms as keyword arguments, to build an event payload (a subclass of the terms)."""
    return dict(to_terms(agreement))


def to_out(agreement: Agreement) -> AgreementOut:
    """The API's view of one fully loaded agreement version."""
    terms = to_terms(agreement)
    return AgreementOut(
        id=agreement.id,
        series_id=terms.series_id,
        version_number=terms.version_number,
        supersedes_agreement_id=terms.supersedes_agreement_id,
        agreement_type=terms.agreement_type,
        title=terms.title,
        status=terms.status,
        parties=[PartyOut.model_validate(p) for p in agreement.parties],
        programmes=terms.programmes,
        professions=terms.professions,
        covered_unit_ids=terms.covered_unit_ids,
        covered_municipality_codes=terms.covered_municipality_codes,
        valid_from=terms.valid_from,
        valid_to=terms.valid_to,
        notice_period_months=terms.notice_period_months,
        auto_renewal_months=terms.auto_renewal_months,
        effective_until=terms.effective_until,
        supervision_requirement_level=terms.supervision_requirement_level,
        notice_given_on=agreement.notice_given_on,
        notice_given_by_organisation_id=agreement.notice_given_by_organisation_id,
        quotas=terms.quotas,
        rates=terms.rates,
        documents=[DocumentOut.model_validate(d) for d in agreement.documents],
        version=agreement.version,
        created_at=agreement.created_at,
        updated_at=agreement.updated_at,
    )
