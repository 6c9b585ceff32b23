"""Problems raised by the training feature (stable codes)."""

from __future__ import annotations

import uuid

from vfu_common.errors import ProblemError


def course_not_found(course_id: uuid.UUID) -> ProblemError:
    """No such training course."""
    return ProblemError(
        404, "course_not_found", "Training course not found", f"No training course {course_id}."
    )


def course_code_not_found(course_code: str) -> ProblemError:
    """A bulk row names a course code the reporting organisation does not run.

    Codes are local to the organisation running the course, so an unknown code is a
    course the caller does not run, whoever else may use the code.
    """
    return ProblemError(
        403,
        "course_not_run_by_caller",
        "Course not run by caller",
        f"Your organisation runs no training course with code {course_code} (admins name "
        "courses by course_id, or the issuer with issuer_id).",
    )


def course_code_taken(course_code: str) -> ProblemError:
    """The provider already has a course with the code (codes are local to a provider)."""
    return ProblemError(
        409,
        "course_code_taken",
        "Course code taken",
        f"Your organisation already has a training course with code {course_code}.",
    )


def not_course_owner(course_id: uuid.UUID) -> ProblemError:
    """Courses are public, so refusing a change with 403 reveals nothing."""
    return ProblemError(
        403,
        "not_owner",
        "Not the owner",
        f"Only the organisation running training course {course_id} may change it.",
    )


def not_course_owner_of_organisation() -> ProblemError:
    """A non-admin naming another organisation as a new course's provider."""
    return ProblemError(
        403,
        "not_owner",
        "Not the owner",
        "You create courses for your own organisation only.",
    )


def provider_id_required() -> ProblemError:
    """An admin creates a course on behalf of an organisation and must name it."""
    return ProblemError(
        422,
        "provider_id_required",
        "provider_id required",
        "An admin creating a course must give the running organisation's provider_id.",
        errors=[{"loc": ["body", "provider_id"], "msg": "required for admins", "type": "missing"}],
    )


def no_organisation() -> ProblemError:
    """A caller without an organisation cannot run courses or report records."""
    return ProblemError(403, "forbidden", "Forbidden", "Your identity names no organisation.")


def course_not_run_by_caller(course_id: uuid.UUID) -> ProblemError:
    """Only the organisation running a course reports, changes and verifies its records."""
    return ProblemError(
        403,
        "course_not_run_by_caller",
        "Course not run by caller",
        f"Training course {course_id} is run by another organisation; only it reports "
        "and verifies its records.",
    )


def supervisor_not_matched(detail: str) -> ProblemError:
    """No registered supervisor matches the record's supervisor reference."""
    return ProblemError(422, "supervisor_not_matched", "Supervisor not matched", detail)


def supervisor_deregistered(supervisor_id: uuid.UUID) -> ProblemError:
    """A supervisor the employer deregistered takes no new training records."""
    return ProblemError(
        409,
        "supervisor_deregistered",
        "Supervisor deregistered",
        f"Supervisor {supervisor_id} has been deregistered by the employer.",
    )


def duplicate_training_record(supervisor_id: uuid.UUID, course_id: uuid.UUID) -> ProblemError:
    """One record per supervisor and course; a retake re-enrols the existing record."""
    return ProblemError(
        409,
        "duplicate_training_record",
        "Duplicate training record",
        f"Supervisor {supervisor_id} already has a record for course {course_id}; "
        "re-enrol that record instead.",
    )


def record_not_found(record_id: uuid.UUID) -> ProblemError:
    """No such record, or not one the caller may see (no existence leak)."""
    return ProblemError(
        404,
        "training_record_not_found",
        "Training record not found",
        f"No training record {record_id}.",
    )


def already_verified(record_id: uuid.UUID) -> ProblemError:
    """Verifying is done once."""
    return ProblemError(
        409,
        "already_verified",
        "Already verified",
        f"Training record {record_id} is already verified.",
    )


def invalid_transition(action: str, status: str) -> ProblemError:
    """``action`` is not allowed from the record's current status."""
    return ProblemError(
        409,
        "invalid_training_transition",
        "Invalid training transition",
        f"Cannot {action} a training record that is {status}.",
    )
