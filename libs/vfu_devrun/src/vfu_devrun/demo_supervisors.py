"""Demo supervisors, supervisor courses and training records, through the gateway.

Loaded after the demo placements (it names their units and a confirmed peer-learning
booking). The employers register their supervisors, the universities publish their
supervisor courses and report completions; some supervisors end up qualified and some
not, each for a different reason, so the qualification report has something to show.
The names are invented ("Handledare Demo n"); nobody real is in the demo.

Finally Region Uppsala assigns a qualified supervisor to the confirmed peer-learning
booking, which the placements service accepts only once the supervisor's events have
reached its own projection (they travel over NATS), so the loader waits for that.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from vfu_devrun.demo_placements import PlacementDemoIds
from vfu_devrun.http import request_json

UU, ORU = "Uppsala universitet", "Örebro universitet"
REGION_UPPSALA, UPPSALA_KOMMUN, REGION_OREBRO = (
    "Region Uppsala",
    "Uppsala kommun",
    "Region Örebro län",
)

# course key: (university, body)
DEMO_COURSES: dict[str, tuple[str, dict[str, Any]]] = {
    "uu-intro": (
        UU,
        {
            "course_code": "HL001",
            "title": "Introduktion till handledning i VFU (webbkurs)",
            "hours": 2,
            "level": "introduction",
            "delivery": "web",
        },
    ),
    "uu-basic": (
        UU,
        {
            "course_code": "HL010",
            "title": "Grundläggande handledarutbildning, två dagar",
            "hours": 16,
            "level": "basic",
            "delivery": "campus",
        },
    ),
    "uu-7.5": (
        UU,
        {
            "course_code": "3HL075",
            "title": "Handledning inom hälso- och sjukvård, 7,5 hp",
            "credits_hp": 7.5,
            "level": "course_7_5hp",
            "delivery": "module",
        },
    ),
    "oru-7.5": (
        ORU,
        {
            "course_code": "HA7501",
            "title": "Klinisk handledning, 7,5 hp (distans)",
            "credits_hp": 7.5,
            "level": "course_7_5hp",
            "delivery": "web",
        },
    ),
}


@dataclass(frozen=True)
class DemoSupervisor:
    """One demo supervisor: employer, unit, profession, licence and training."""

    key: str
    employer: str
    unit: str
    profession_code: str
    licensed: bool
    # (course key, status) reported by the course's university
    training: tuple[tuple[str, str], ...]
    max_students: int = 1


DEMO_SUPERVISORS = (
    # qualified: licensed, basic course completed; the one assigned to the peer booking
    DemoSupervisor(
        "1",
        REGION_UPPSALA,
        "Akademiska sjukhuset, akutmottagningen",
        "sjukskoterska",
        True,
        (("uu-basic", "completed"),),
        max_students=2,
    ),
    # qualified: 7.5 hp, completed and verified by the university
    DemoSupervisor(
        "2",
        REGION_UPPSALA,
        "Akademiska sjukhuset, avdelning 30C kirurgi",
        "sjukskoterska",
        True,
        (("uu-7.5", "verified"),),
        max_students=2,
    ),
    # not qualified: only the introduction (below the default "basic"); the API
    # walkthrough (docs/) reports a basic completion for this one
    DemoSupervisor(
        "3",
        REGION_UPPSALA,
        "Akademiska sjukhuset, akutmottagningen",
        "sjukskoterska",
        True,
        (("uu-intro", "completed"),),
    ),
    # not qualified: trained, but the licence is not verified yet
    DemoSupervisor(
        "4",
        REGION_UPPSALA,
        "Vårdcentralen Gottsunda",
        "sjukskoterska",
        False,
        (("uu-basic", "completed"),),
    ),
    # not qualified: the course is still in progress
    DemoSupervisor(
        "5",
        UPPSALA_KOMMUN,
        "Hemsjukvården Uppsala centrum",
        "sjukskoterska",
        True,
        (("uu-basic", "in_progress"),),
    ),
    # qualified physician in Örebro
    DemoSupervisor(
        "6",
        REGION_OREBRO,
        "Universitetssjukhuset Örebro, medicinkliniken",
        "lakare",
        True,
        (("oru-7.5", "completed"),),
        max_students=2,
    ),
)


class SupervisorDemo:
    """Calls to the supervisors API as the demo organisations."""

    def __init__(
        self, gateway_url: str, keys: Mapping[str, str], say: Callable[[str], None]
    ) -> None:
        self.gateway_url = gateway_url
        self.keys = keys
        self.say = say

    def call(self, who: str, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        status, answer = request_json(method, self.gateway_url + path, self.keys[who], body)
        if status >= 300:
            raise RuntimeError(f"demo: {method} {path} as {who} gave {status}: {answer}")
        return answer

    def create_courses(self) -> dict[str, str]:
        """Every demo course, as its university; ids by course key."""
        return {
            key: str(self.call(university, "POST", "/api/v1/supervisors/courses", body)["id"])
            for key, (university, body) in DEMO_COURSES.items()
        }

    def register(self, spec: DemoSupervisor, units: Mapping[str, str]) -> str:
        """Register ``spec`` as its employer; returns the supervisor id."""
        body = {
            "name": f"Handledare Demo {spec.key}",
            "employer_reference": f"DEMO-{spec.key}",
            "profession_code": spec.profession_code,
            "licence_verified": spec.licensed,
            "unit_ids": [units[spec.unit]],
            "roles": ["handledare"],
            "max_concurrent_students": spec.max_students,
        }
        if spec.licensed:
            body["licence_verified_on"] = (date.today() - timedelta(days=400)).isoformat()
        answer = self.call(spec.employer, "POST", "/api/v1/supervisors/supervisors", body)
        return str(answer["id"])

    def report(self, course: str, course_id: str, supervisor_id: str, status: str) -> None:
        """The course's university reports the record (and verifies it when asked)."""
        university = DEMO_COURSES[course][0]
        body: dict[str, Any] = {
            "course_id": course_id,
            "supervisor_id": supervisor_id,
            "status": "completed" if status == "verified" else status,
        }
        if body["status"] == "completed":
            body["completed_on"] = (date.today() - timedelta(days=30)).isoformat()
        record = self.call(university, "POST", "/api/v1/supervisors/training-records", body)
        if status == "verified":
            path = f"/api/v1/supervisors/training-records/{record['id']}/verify"
            self.call(university, "POST", path, {})

    def assign(self, provider: str, booking_id: str, supervisor_id: str, students: int) -> None:
        """Assign through the placements gate, waiting for the supervisor's events."""
        path = f"/api/v1/placements/bookings/{booking_id}/supervisors"
        body = {"supervisor_id": supervisor_id, "students": students}
        deadline = time.monotonic() + 30
        while True:
            status, answer = request_json(
                "POST", self.gateway_url + path, self.keys[provider], body
            )
            if status == 201:
                return
            waiting = status == 409 and answer.get("code") in {
                "unknown_supervisor",
                "supervisor_not_qualified",
            }
            if not waiting or time.monotonic() > deadline:
                raise RuntimeError(f"demo: assigning {supervisor_id} gave {status}: {answer}")
            time.sleep(0.2)


def load_supervisor_demo(
    gateway_url: str,
    keys: Mapping[str, str],
    placements: PlacementDemoIds,
    *,
    say: Callable[[str], None],
) -> dict[str, str]:
    """Courses, supervisors and their records; one assignment. Supervisor ids by key."""
    demo = SupervisorDemo(gateway_url, keys, say)
    courses = demo.create_courses()
    supervisors: dict[str, str] = {}
    for spec in DEMO_SUPERVISORS:
        supervisor_id = demo.register(spec, placements.units)
        supervisors[spec.key] = supervisor_id
        for course, status in spec.training:
            demo.report(course, courses[course], supervisor_id, status)
    demo.assign(REGION_UPPSALA, placements.peer_booking, supervisors["1"], students=2)
    say(
        f"demo: {len(DEMO_SUPERVISORS)} supervisors, {len(courses)} courses; "
        f"Handledare Demo 1 supervises the confirmed peer-learning booking "
        f"{placements.peer_booking}"
    )
    return supervisors
