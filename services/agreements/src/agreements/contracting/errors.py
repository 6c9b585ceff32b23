"""Problems raised by the agreement feature (stable codes)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from vfu_common.errors import ProblemError


def agreement_not_found(agreement_id: uuid.UUID) -> ProblemError:
    """No such agreement, or not one the caller may see (no existence leak)."""
    return ProblemError(
        404, "agreement_not_found", "Agreement not found", f"No agreement {agreement_id}."
    )


def too_few_parties(count: int) -> ProblemError:
    """An agreement needs two or more parties."""
    return ProblemError(
        422,
        "too_few_parties",
        "Too few parties",
        f"An agreement needs 2 or more parties, got {count}.",
    )


def duplicate_party(organisation_id: uuid.UUID) -> ProblemError:
    """The same organisation is listed twice."""
    return ProblemError(
        422,
        "duplicate_party",
        "Duplicate party",
        f"Organisation {organisation_id} is listed more than once.",
    )


def unknown_party_organisation(missing: Iterable[uuid.UUID]) -> ProblemError:
    """A party is not a registered organisation."""
    names = ", ".join(sorted(str(m) for m in missing))
    return ProblemError(
        422,
        "unknown_party_organisation",
        "Unknown party organisation",
        f"Not registered organisations: {names}.",
    )


def party_role_mismatch(organisation_id: uuid.UUID, role: str, kind: str) -> ProblemError:
    """A party's role differs from what its organisation is."""
    return ProblemError(
        422,
        "party_role_mismatch",
        "Party role does not match the organisation",
        f"Organisation {organisation_id} is a {kind}, not a {role}.",
    )


def invalid_terms(code: str, detail: str) -> ProblemError:
    """Terms that contradict each other (e.g. a rate for a programme outside the scope)."""
    return ProblemError(422, code, "Invalid agreement terms", detail)


def overlapping_agreement(other_id: uuid.UUID) -> ProblemError:
    """Another live agreement between the same parties covers the same scope and dates."""
    return ProblemError(
        409,
        "overlapping_agreement",
        "Overlapping agreement",
        f"Agreement {other_id} has the same parties, overlapping dates and an overlapping "
        "programme or profession.",
    )


def not_a_party(agreement_id: uuid.UUID | None = None) -> ProblemError:
    """The caller's organisation is not a party (signing is only for oneself)."""
    target = f"agreement {agreement_id}" if agreement_id else "this agreement"
    return ProblemError(
        403, "not_a_party", "Not a party", f"Your organisation is not a party to {target}."
    )


def forbidden(detail: str) -> ProblemError:
    """The caller's roles do not allow this."""
    return ProblemError(403, "forbidden", "Forbidden", detail)


def invalid_transition(action: str, status: str) -> ProblemError:
    """``action`` is not allowed from the agreement's current state."""
    return ProblemError(
        409,
        "invalid_transition",
        "Invalid transition",
        f"Cannot {action} an agreement in state {status}.",
    )


def already_signed(organisation_id: uuid.UUID) -> ProblemError:
    """A party signs only once per version."""
    return ProblemError(
        409, "already_signed", "Already signed", f"Organisation {organisation_id} has signed."
    )


def notice_after_end(effective_until: str, valid_to: str) -> ProblemError:
    """Notice would take effect after the agreement ends anyway."""
    return ProblemError(
        409,
        "notice_after_end",
        "Notice ends after the agreement",
        f"Notice would take effect on {effective_until}, after valid_to {valid_to}.",
    )


def amendment_conflict(code: str, detail: str) -> ProblemError:
    """An amendment that cannot be made now (one in progress, an old version, bad date)."""
    return ProblemError(409, code, "Amendment not possible", detail)
