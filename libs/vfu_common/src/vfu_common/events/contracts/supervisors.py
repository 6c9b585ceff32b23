"""Events the supervisors service publishes: supervisors, qualification and training
records."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import Field

from vfu_common.events.contracts.registry import EventPayload, register

TrainingLevel = Literal["introduction", "basic", "course_7_5hp", "advanced"]
TrainingRecordStatus = Literal[
    "registered", "in_progress", "completed", "verified", "failed", "withdrawn"
]


class SupervisorV1(EventPayload):
    """A supervisor as other services may know them: ids, profession and qualification only.

    Name, HSA-id and roles stay in the supervisors service.
    """

    supervisor_id: uuid.UUID
    employer_id: uuid.UUID
    profession_code: str
    unit_ids: list[uuid.UUID] = Field(
        default_factory=list, description="Units the supervisor works at (empty: none named)"
    )
    max_concurrent_students: int = Field(ge=1)
    active: bool = Field(description="False once the employer deregistered the supervisor")
    licence_verified: bool
    level_achieved: TrainingLevel | None = Field(
        default=None, description="Highest level of completed or verified supervisor training"
    )
    required_level: TrainingLevel = Field(
        description="The default requirement level applied for the profession"
    )
    qualified: bool = Field(description="Qualified against required_level")


class SupervisorRegisteredV1(SupervisorV1):
    """An employer registered a supervisor."""


class SupervisorChangedV1(SupervisorV1):
    """A supervisor's employment facts (units, capacity, licence, active) changed."""


class QualificationChangedV1(SupervisorV1):
    """The supervisor's qualification (``qualified`` or ``level_achieved``) changed."""

    previous_qualified: bool
    previous_level_achieved: TrainingLevel | None = None
    reason: str = Field(description="Stable code: why the supervisor is or is not qualified")


class TrainingRecordV1(EventPayload):
    """A supervisor's training record (course, status, dates): no personal fields."""

    record_id: uuid.UUID
    supervisor_id: uuid.UUID
    employer_id: uuid.UUID
    course_id: uuid.UUID
    issuer_id: uuid.UUID = Field(description="The organisation (usually a university) running it")
    course_level: TrainingLevel
    status: TrainingRecordStatus
    completed_on: date | None = None
    verified_at: datetime | None = None


class TrainingRecordedV1(TrainingRecordV1):
    """A training record was created or its status changed."""


class TrainingVerifiedV1(TrainingRecordV1):
    """The issuing university verified a completed record."""


SUPERVISOR_REGISTERED = register(
    "vfu.supervisors.supervisor.registered.v1", SupervisorRegisteredV1, "supervisor"
)
SUPERVISOR_CHANGED = register(
    "vfu.supervisors.supervisor.changed.v1", SupervisorChangedV1, "supervisor"
)
QUALIFICATION_CHANGED = register(
    "vfu.supervisors.qualification.changed.v1", QualificationChangedV1, "supervisor"
)
TRAINING_RECORDED = register(
    "vfu.supervisors.training.recorded.v1", TrainingRecordedV1, "training_record"
)
TRAINING_VERIFIED = register(
    "vfu.supervisors.training.verified.v1", TrainingVerifiedV1, "training_record"
)
