"""The training course catalogue: create, read, list, change, and the refusals."""

from __future__ import annotations

from typing import Any

from services.supervisors.tests.conftest import (
    ADMIN,
    COORDINATOR,
    EMPLOYER,
    OTHER_UNIVERSITY,
    PORTAL,
    UNIVERSITY,
    UNIVERSITY_ID,
    RunningService,
)
from services.supervisors.tests.training_kit import course_body, create_course


def _types(response: Any) -> list[str]:
    return [error["type"] for error in response.json()["errors"]]


async def test_a_university_adds_a_course_that_every_role_reads(
    supervisors_service: RunningService,
) -> None:
    course = await create_course(supervisors_service)
    assert course["provider_id"] == str(UNIVERSITY_ID)
    assert (course["course_code"], course["credits_hp"], course["hours"]) == ("3HA100", 7.5, None)
    assert (course["level"], course["delivery"], course["version"]) == (
        "course_7_5hp",
        "campus",
        1,
    )
    for actor in (PORTAL, COORDINATOR, EMPLOYER, OTHER_UNIVERSITY):
        one = await supervisors_service.call(actor, "GET", f"/courses/{course['id']}")
        assert one.status_code == 200, one.text
        assert one.json() == course
    await create_course(supervisors_service, OTHER_UNIVERSITY, "3HA100", level="basic")
    everyone = await supervisors_service.call(PORTAL, "GET", "/courses")
    assert [c["provider_id"] for c in everyone.json()["items"]] == [
        str(UNIVERSITY_ID),
        str(OTHER_UNIVERSITY.organisation_id),
    ]
    mine = await supervisors_service.call(
        PORTAL, "GET", "/courses", params={"provider_id": str(UNIVERSITY_ID)}
    )
    assert [c["id"] for c in mine.json()["items"]] == [course["id"]]
    basic = await supervisors_service.call(PORTAL, "GET", "/courses", params={"level": "basic"})
    assert [c["provider_id"] for c in basic.json()["items"]] == [
        str(OTHER_UNIVERSITY.organisation_id)
    ]


async def test_course_codes_are_unique_per_organisation(
    supervisors_service: RunningService,
) -> None:
    await create_course(supervisors_service)
    again = await supervisors_service.call(
        UNIVERSITY, "POST", "/courses", json=course_body(title="Another title")
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["code"] == "course_code_taken"


async def test_a_course_needs_an_extent_a_known_level_and_delivery(
    supervisors_service: RunningService,
) -> None:
    cases = [
        (course_body(credits_hp=None), "course_extent_missing"),
        (course_body(credits_hp="0"), "greater_than"),
        (course_body(hours=-3), "greater_than"),
        (course_body(level="expert"), "literal_error"),
        (course_body(delivery="mail"), "literal_error"),
        (course_body(course_code="no spaces"), "string_pattern_mismatch"),
        (course_body(colour="blue"), "extra_forbidden"),
    ]
    for body, expected in cases:
        response = await supervisors_service.call(UNIVERSITY, "POST", "/courses", json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["code"] == "validation_error"
        assert expected in _types(response), (body, response.text)
    hours_only = await supervisors_service.call(
        UNIVERSITY, "POST", "/courses", json=course_body(credits_hp=None, hours=16)
    )
    assert hours_only.status_code == 201, hours_only.text
    assert (hours_only.json()["credits_hp"], hours_only.json()["hours"]) == (None, 16)


async def test_who_may_add_courses(supervisors_service: RunningService) -> None:
    for actor in (PORTAL, COORDINATOR):
        refused = await supervisors_service.call(actor, "POST", "/courses", json=course_body())
        assert refused.status_code == 403, actor
    own = await create_course(supervisors_service, EMPLOYER, "REG-1", level="introduction")
    assert own["provider_id"] == str(EMPLOYER.organisation_id)
    foreign = await supervisors_service.call(
        UNIVERSITY,
        "POST",
        "/courses",
        json=course_body(provider_id=str(OTHER_UNIVERSITY.organisation_id)),
    )
    assert (foreign.status_code, foreign.json()["code"]) == (403, "not_owner")
    nameless = await supervisors_service.call(ADMIN, "POST", "/courses", json=course_body())
    assert (nameless.status_code, nameless.json()["code"]) == (422, "provider_id_required")
    for_university = await supervisors_service.call(
        ADMIN, "POST", "/courses", json=course_body("ADM-1", provider_id=str(UNIVERSITY_ID))
    )
    assert for_university.status_code == 201
    assert for_university.json()["provider_id"] == str(UNIVERSITY_ID)


async def test_the_running_organisation_changes_its_course(
    supervisors_service: RunningService,
) -> None:
    course = await create_course(supervisors_service)
    await create_course(supervisors_service, code="3HA200")
    path = f"/courses/{course['id']}"
    changed = await supervisors_service.call(
        UNIVERSITY, "PATCH", path, json={"title": "Ny titel", "hours": 200, "delivery": "web"}
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["title"], changed.json()["hours"]) == ("Ny titel", 200)
    assert (changed.json()["delivery"], changed.json()["version"]) == ("web", 2)
    unchanged = await supervisors_service.call(UNIVERSITY, "PATCH", path, json={"hours": 200})
    assert unchanged.json()["version"] == 2
    cleared = await supervisors_service.call(
        UNIVERSITY, "PATCH", path, json={"credits_hp": None, "hours": None}
    )
    assert cleared.status_code == 422
    assert "course_extent_missing" in _types(cleared)
    taken = await supervisors_service.call(
        UNIVERSITY, "PATCH", path, json={"course_code": "3HA200"}
    )
    assert (taken.status_code, taken.json()["code"]) == (409, "course_code_taken")
    for actor in (OTHER_UNIVERSITY, EMPLOYER):
        refused = await supervisors_service.call(actor, "PATCH", path, json={"title": "X"})
        assert (refused.status_code, refused.json()["code"]) == (403, "not_owner")
    by_admin = await supervisors_service.call(ADMIN, "PATCH", path, json={"level": "advanced"})
    assert (by_admin.status_code, by_admin.json()["level"]) == (200, "advanced")
    portal = await supervisors_service.call(PORTAL, "PATCH", path, json={"title": "X"})
    assert portal.status_code == 403
    stored = await supervisors_service.call(PORTAL, "GET", path)
    assert stored.json()["title"] == "Ny titel"


async def test_unknown_courses_are_404(supervisors_service: RunningService) -> None:
    missing = "00000000-0000-7000-8000-000000009999"
    for method, body in (("GET", None), ("PATCH", {"title": "X"})):
        response = await supervisors_service.call(
            UNIVERSITY, method, f"/courses/{missing}", json=body
        )
        assert (response.status_code, response.json()["code"]) == (404, "course_not_found")
    bad_cursor = await supervisors_service.call(
        UNIVERSITY, "GET", "/courses", params={"cursor": "eyJ4IjoxfQ"}
    )
    assert (bad_cursor.status_code, bad_cursor.json()["code"]) == (400, "invalid_cursor")
