"""Matching reported training records to their course and supervisor.

A report names its course by id or by the issuer's own course code, and its supervisor by
id, HSA-id or the employer's staff reference. A single report and a bulk import are
matched by the same code: a single report is a batch of one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.principal import Principal

from supervisors.training import access, errors, repository
from supervisors.training.models import Course
from supervisors.training.repository import SupervisorKeys
from supervisors.training.schemas import RecordFields


@dataclass(frozen=True)
class CourseRef:
    """How a report names its course: by id, or by the issuer's own course code."""

    course_id: uuid.UUID | None = None
    course_code: str | None = None


@dataclass
class Lookup:
    """The courses, supervisors and existing records a batch of reports names, read at once.

    A single report is a batch of one: both paths match with the same code.
    """

    courses_by_id: dict[uuid.UUID, Course] = field(default_factory=dict)
    courses_by_code: dict[str, Course] = field(default_factory=dict)
    by_id: dict[uuid.UUID, SupervisorKeys] = field(default_factory=dict)
    by_hsa_id: dict[str, SupervisorKeys] = field(default_factory=dict)
    by_reference: dict[tuple[uuid.UUID, str], SupervisorKeys] = field(default_factory=dict)
    existing: set[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=set)
    # Pairs earlier reports of the batch take: a later one is a duplicate.
    claimed: set[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=set)

    @classmethod
    async def load(
        cls,
        session: AsyncSession,
        reports: Sequence[tuple[CourseRef, RecordFields]],
        *,
        issuer_id: uuid.UUID | None,
    ) -> Lookup:
        """Read what ``reports`` name; course codes are the issuer's own (None: no codes)."""
        codes = [ref.course_code for ref, _ in reports if ref.course_code is not None]
        lookup = cls(
            courses_by_id=await repository.courses_by_id(
                session, (ref.course_id for ref, _ in reports if ref.course_id is not None)
            ),
            courses_by_code=(
                await repository.courses_by_code(session, issuer_id, codes) if issuer_id else {}
            ),
            by_id=await repository.supervisors_by_id(
                session, (r.supervisor_id for _, r in reports if r.supervisor_id is not None)
            ),
            by_hsa_id=await repository.supervisors_by_hsa_id(
                session, (r.hsa_id for _, r in reports if r.hsa_id is not None)
            ),
            by_reference=await repository.supervisors_by_reference(
                session, (ref for _, r in reports if (ref := _reference(r)) is not None)
            ),
        )
        return lookup

    async def load_existing(
        self, session: AsyncSession, pairs: Iterable[tuple[uuid.UUID, uuid.UUID]]
    ) -> None:
        """Read which of ``pairs`` (supervisor, course) already have a record."""
        self.existing = await repository.existing_pairs(session, pairs)

    def course(self, ref: CourseRef, principal: Principal) -> Course:
        """The course a report names, if the caller runs it.

        Raises:
            ProblemError: 404 ``course_not_found``; 403 ``course_not_run_by_caller``.
        """
        if ref.course_id is not None:
            course = self.courses_by_id.get(ref.course_id)
            if course is None:
                raise errors.course_not_found(ref.course_id)
            access.require_issuer(principal, course.id, course.provider_id)
            return course
        course = self.courses_by_code.get(ref.course_code or "")
        if course is None:
            raise errors.course_code_not_found(ref.course_code or "")
        return course

    def supervisor(self, report: RecordFields) -> SupervisorKeys:
        """The active supervisor a report names.

        Raises:
            ProblemError: 422 ``supervisor_not_matched``; 409 ``supervisor_deregistered``.
        """
        found: SupervisorKeys | None
        if report.supervisor_id is not None:
            found, named = self.by_id.get(report.supervisor_id), f"id {report.supervisor_id}"
        elif report.hsa_id is not None:
            found, named = self.by_hsa_id.get(report.hsa_id), f"HSA-id {report.hsa_id}"
        else:
            reference = _reference(report)
            found = self.by_reference.get(reference) if reference else None
            named = f"employer reference {report.employer_reference} of {report.employer_id}"
        if found is None:
            raise errors.supervisor_not_matched(f"No registered supervisor has {named}.")
        if not found.active:
            raise errors.supervisor_deregistered(found.id)
        return found

    def claim(self, supervisor_id: uuid.UUID, course_id: uuid.UUID) -> None:
        """Reserve the pair for this report.

        Raises:
            ProblemError: 409 ``duplicate_training_record`` when stored or claimed before.
        """
        pair = (supervisor_id, course_id)
        if pair in self.existing or pair in self.claimed:
            raise errors.duplicate_training_record(supervisor_id, course_id)
        self.claimed.add(pair)


def _reference(report: RecordFields) -> tuple[uuid.UUID, str] | None:
    if report.employer_id is None or report.employer_reference is None:
        return None
    return report.employer_id, report.employer_reference


def issuer_of_batch(principal: Principal, requested: uuid.UUID | None) -> uuid.UUID | None:
    """Whose course codes a report may use: the caller's, or (admins) the named issuer's."""
    if principal.has_role("admin"):
        return requested
    return principal.organisation_id


@dataclass(frozen=True)
class MatchedReport:
    """A report whose course and supervisor were found and may be stored."""

    report: RecordFields
    course: Course
    supervisor: SupervisorKeys
