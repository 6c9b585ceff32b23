"""Problems raised by the planning-round feature (stable codes)."""

from __future__ import annotations

import uuid

from vfu_common.errors import ProblemError
from vfu_common.events.contracts import RoundGate

from placements.rounds.models import PlanningRound


def round_not_found(round_id: uuid.UUID) -> ProblemError:
    """No such planning round (or not one the caller may read)."""
    return ProblemError(
        404, "round_not_found", "Planning round not found", f"No planning round {round_id}."
    )


def round_gate_closed(round_: PlanningRound, gate: RoundGate, *, before: bool) -> ProblemError:
    """The request belongs to a gate of the round that the clock has closed."""
    day = round_.gate_date(gate)
    when = f"before {gate} on {day}" if before else f"by {gate} on {day}"
    return ProblemError(
        409,
        "round_gate_closed",
        "Round gate closed",
        f"This is due {when} in round {round_.id} ({round_.term}); that gate has closed.",
        extensions={"round_id": str(round_.id), "gate": gate, "gate_date": day.isoformat()},
    )


def not_round_owner(round_id: uuid.UUID) -> ProblemError:
    """Only the coordinating organisation (or an admin) manages a round."""
    return ProblemError(
        403,
        "not_round_owner",
        "Not the round's coordinator",
        f"Only the organisation that opened round {round_id} may change it.",
    )


def outside_authority(kind: str, ref: str) -> ProblemError:
    """A scope entry the caller does not coordinate."""
    return ProblemError(
        403,
        "outside_round_authority",
        "Outside your authority",
        f"The round may not cover {kind} {ref}: a coordinator covers its own healthcare "
        "region, a provider its own units.",
        extensions={"scope_kind": kind, "ref": ref},
    )


def unknown_scope(kind: str, ref: str) -> ProblemError:
    """A scope entry naming a provider or unit this service does not know."""
    return ProblemError(
        422,
        "unknown_scope_entry",
        "Unknown scope entry",
        f"No {kind} {ref} is known to the placements service.",
        extensions={"scope_kind": kind, "ref": ref},
    )


def no_organisation() -> ProblemError:
    """The caller acts for no organisation (or one this service does not know yet)."""
    return ProblemError(
        403,
        "no_organisation",
        "No organisation",
        "Opening a round needs a caller acting for a known organisation.",
    )


def owner_id_required() -> ProblemError:
    """An admin opens a round on behalf of an organisation and must name it."""
    return ProblemError(
        422, "owner_id_required", "owner_id required", "An admin opening a round names owner_id."
    )


def gate_in_past(gate: str, day: object) -> ProblemError:
    """A new round whose first gate has already passed would be closed at birth."""
    return ProblemError(
        422,
        "gate_in_past",
        "Gate in the past",
        f"{gate} on {day} has already passed: a new round's gates lie today or later.",
        extensions={"gate": gate},
    )


def round_changed(round_id: uuid.UUID) -> ProblemError:
    """The round changed between reading and writing it (another publish won)."""
    return ProblemError(
        409,
        "round_changed",
        "Round changed",
        f"Round {round_id} changed while this request ran; read it again and retry.",
    )
