"""Problems raised by the quotas feature (stable codes)."""

from __future__ import annotations

from vfu_common.errors import ProblemError

from placements.quotas.models import QuotaUse


def quota_exceeded(quota: QuotaUse, requested: int) -> ProblemError:
    """A booking would take the university past a ceiling quota of its agreement."""
    unit = "places" if quota.unit == "places" else "student-weeks"
    return ProblemError(
        409,
        "quota_exceeded",
        "Quota exceeded",
        f"The agreement allows {quota.amount} {unit} of {quota.programme_code} in "
        f"{quota.term} for this university; {quota.used} used, {requested} requested.",
        extensions={
            "quota": {
                "agreement_series_id": str(quota.series_id),
                "agreement_id": str(quota.agreement_id),
                "university_id": str(quota.university_id),
                "programme_code": quota.programme_code,
                "term": quota.term,
                "unit": quota.unit,
                "kind": quota.kind,
                "amount": quota.amount,
                "used": quota.used,
                "requested": requested,
            }
        },
    )
