"""Who may run courses and see or change training records (object-level rules).

* Courses are public: every role reads the catalogue; the running organisation (a
  university, or a provider running its own course) and admins change a course.
* A record is seen by the organisation running its course (the issuer), by the
  supervisor's employer (role provider), and by coordinators and admins; nobody else
  learns it exists (404). Portals never reach records (the access matrix refuses them).
* Only the issuer (or an admin) reports, moves and verifies a record.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, false, or_, true
from vfu_common.principal import Principal

from supervisors.registry.models import supervisors
from supervisors.training import errors
from supervisors.training.models import Course, training_courses
from supervisors.training.repository import RecordView

# The roles that may run (own) courses: "provider organisation, usually a university".
COURSE_RUNNER_ROLES = ("university", "provider")


def runs(principal: Principal, provider_id: uuid.UUID) -> bool:
    """True when the caller's organisation runs courses as ``provider_id`` (or is admin)."""
    if principal.has_role("admin"):
        return True
    return principal.has_role(*COURSE_RUNNER_ROLES) and principal.organisation_id == provider_id


def require_course_owner(principal: Principal, course: Course) -> None:
    """Refuse (403 ``not_owner``) anyone but the running organisation or an admin."""
    if not runs(principal, course.provider_id):
        raise errors.not_course_owner(course.id)


def require_issuer(principal: Principal, course_id: uuid.UUID, provider_id: uuid.UUID) -> None:
    """Refuse (403 ``course_not_run_by_caller``) reports on another organisation's course
    (``course_id``, run by ``provider_id``)."""
    if not runs(principal, provider_id):
        raise errors.course_not_run_by_caller(course_id)


def owner_of_new_course(principal: Principal, requested: uuid.UUID | None) -> uuid.UUID:
    """Organisations create courses for themselves; an admin names the organisation."""
    own = principal.organisation_id if principal.has_role(*COURSE_RUNNER_ROLES) else None
    if principal.has_role("admin"):
        owner = requested or own
        if owner is None:
            raise errors.provider_id_required()
        return owner
    if own is None:
        raise errors.no_organisation()
    if requested is not None and requested != own:
        raise errors.not_course_owner_of_organisation()
    return own


def records_visible_to(principal: Principal) -> ColumnElement[bool]:
    """The condition on the record view (records ⋈ courses ⋈ supervisors) a caller may read."""
    if principal.has_role("admin", "coordinator"):
        return true()
    organisation_id = principal.organisation_id
    if organisation_id is None:
        return false()
    allowed: list[ColumnElement[bool]] = []
    if principal.has_role(*COURSE_RUNNER_ROLES):
        allowed.append(training_courses.c.provider_id == organisation_id)
    if principal.has_role("provider"):
        allowed.append(supervisors.c.employer_id == organisation_id)
    return or_(false(), *allowed)


def may_see_record(principal: Principal, record: RecordView) -> bool:
    """The same rule as ``records_visible_to``, for one record of the record view."""
    if principal.has_role("admin", "coordinator"):
        return True
    organisation_id = principal.organisation_id
    if organisation_id is None:
        return False
    if principal.has_role(*COURSE_RUNNER_ROLES) and record.issuer_id == organisation_id:
        return True
    return principal.has_role("provider") and record.employer_id == organisation_id
