"""Closed vocabularies of the supervisors domain.

Each vocabulary is also a CHECK constraint, so a value outside it cannot be stored by any
code path.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from vfu_common.events.contracts import TrainingLevel, TrainingRecordStatus

SupervisorRole = Literal["handledare", "huvudhandledare", "bashandledare", "clinical_lecturer"]
CourseDelivery = Literal["campus", "web", "module"]

SUPERVISOR_ROLES: Final = get_args(SupervisorRole)
COURSE_DELIVERIES: Final = get_args(CourseDelivery)
TRAINING_LEVELS: Final = get_args(TrainingLevel)
RECORD_STATUSES: Final = get_args(TrainingRecordStatus)
