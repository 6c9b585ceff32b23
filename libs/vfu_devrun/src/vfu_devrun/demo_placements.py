"""Demo placements: care units, offers and bookings in every state, through the gateway.

Loaded after the demo agreements are active. Bookings pass the placements service's
agreement gate, which reads its own projection of agreement events, so the loader first
waits until that projection covers the demo parties (the events travel over NATS).
Dates are chosen relative to today so that the demo always holds a placement in
progress and a completed one, whatever day ``make run`` starts on.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from vfu_domain.terms import term_of, term_window

from vfu_devrun.http import request_json

NURSING = {"programme_code": "sjukskoterskeprogrammet", "profession_code": "sjukskoterska"}
MEDICINE = {"programme_code": "lakarprogrammet", "profession_code": "lakare"}

# name, owner, municipality, care setting, (lat, lon), rural, vulnerable area
DEMO_UNITS: list[dict[str, Any]] = [
    {
        "owner": "Region Uppsala",
        "name": "Akademiska sjukhuset, avdelning 30C kirurgi",
        "municipality_code": "0380",
        "care_setting": "slutenvard",
        "latitude": 59.8497,
        "longitude": 17.6389,
    },
    {
        "owner": "Region Uppsala",
        "name": "Akademiska sjukhuset, akutmottagningen",
        "municipality_code": "0380",
        "care_setting": "akutsjukvard",
        "latitude": 59.8493,
        "longitude": 17.6404,
    },
    {
        "owner": "Region Uppsala",
        "name": "Vårdcentralen Gottsunda",
        "municipality_code": "0380",
        "care_setting": "primarvard",
        "latitude": 59.8075,
        "longitude": 17.6250,
        "vulnerable_area": True,
    },
    {
        "owner": "Region Uppsala",
        "name": "Vårdcentralen Östhammar",
        "municipality_code": "0382",
        "care_setting": "primarvard",
        "latitude": 60.2582,
        "longitude": 18.3718,
        "rural": True,
    },
    {
        "owner": "Uppsala kommun",
        "name": "Hemsjukvården Uppsala centrum",
        "municipality_code": "0380",
        "care_setting": "hemsjukvard",
        "latitude": 59.8586,
        "longitude": 17.6389,
    },
    {
        "owner": "Uppsala kommun",
        "name": "Vård- och omsorgsboendet Torgny Segerstedts allé",
        "municipality_code": "0380",
        "care_setting": "aldreomsorg",
        "special_requirements": ["criminal-record extract"],
    },
    {
        "owner": "Region Örebro län",
        "name": "Universitetssjukhuset Örebro, medicinkliniken",
        "municipality_code": "1880",
        "care_setting": "slutenvard",
        "latitude": 59.2749,
        "longitude": 15.2290,
    },
    {
        "owner": "Region Örebro län",
        "name": "Vårdcentralen Vivalla",
        "municipality_code": "1880",
        "care_setting": "primarvard",
        "latitude": 59.2927,
        "longitude": 15.1712,
        "vulnerable_area": True,
    },
    {
        "owner": "Region Örebro län",
        "name": "Lindesbergs lasarett",
        "municipality_code": "1885",
        "care_setting": "slutenvard",
        "latitude": 59.5942,
        "longitude": 15.2303,
        "rural": True,
    },
]


@dataclass(frozen=True)
class PlacementDemoIds:
    """What the supervisors demo refers to: unit ids by name, a confirmed peer booking."""

    units: dict[str, str]
    peer_booking: str


@dataclass(frozen=True)
class Period:
    """A placement period inside one term."""

    term: str
    start: date
    end: date


def period(start: date, end: date) -> Period | None:
    """The period if one term's window holds it, else None."""
    term = term_of(start)
    return Period(term, start, end) if term_window(term).contains(start, end) else None


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def demo_periods(today: date) -> dict[str, Period | None]:
    """Upcoming, current and past periods (None where no term window fits them)."""
    next_window = term_window(_next_term(today))
    upcoming_start = _monday(next_window.first_day + timedelta(days=40))
    return {
        "upcoming": Period(
            _next_term(today), upcoming_start, upcoming_start + timedelta(weeks=6, days=-3)
        ),
        "current": period(_monday(today) - timedelta(weeks=1), _monday(today) + timedelta(days=25)),
        "past": period(_monday(today) - timedelta(weeks=8), _monday(today) - timedelta(weeks=3)),
    }


def _next_term(today: date) -> str:
    return f"{today.year}-HT" if today.month < 7 else f"{today.year + 1}-VT"


class PlacementDemo:
    """Loads the placement demo through the gateway with the demo credentials."""

    def __init__(
        self,
        gateway_url: str,
        keys: Mapping[str, str],
        org_id: Callable[[str], str],
        say: Callable[[str], None],
    ) -> None:
        self.api = f"{gateway_url}/api/v1/placements"
        self.keys = keys
        self.org_id = org_id
        self.say = say
        self.units: dict[str, str] = {}

    def call(self, who: str, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """``method`` on the placements API as ``who``; raises unless the answer is 2xx."""
        status, answer = request_json(method, self.api + path, self.keys[who], body)
        if not 200 <= status < 300:
            raise RuntimeError(f"demo: {method} {path} as {who} gave {status}: {answer}")
        return answer

    def advance(self, who: str, booking_id: str, action: str, wanted: tuple[str, ...]) -> None:
        """``action`` (start, complete) on a booking, unless it is already in ``wanted``.

        The placements lifecycle scheduler moves bookings by their dates too; if it ticks
        between two demo calls it has done the step already, which is fine.
        """
        status, answer = request_json(
            "POST", f"{self.api}/bookings/{booking_id}/{action}", self.keys[who], {}
        )
        if 200 <= status < 300:
            return
        current = self.call(who, "GET", f"/bookings/{booking_id}")["status"]
        if current not in wanted:
            raise RuntimeError(f"demo: {action} of {booking_id} gave {status}: {answer}")

    def wait_for_coverage(self, university: str, provider: str, codes: Mapping[str, str]) -> None:
        """Wait until the placements projection holds the demo agreement of the two parties."""
        query = urllib.parse.urlencode(
            {
                "university_id": self.org_id(university),
                "provider_id": self.org_id(provider),
                "programme_code": codes["programme_code"],
                "start": date.today().isoformat(),
                "end": date.today().isoformat(),
            }
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            answer = self.call(university, "GET", f"/agreement-coverage?{query}")
            if answer["covered"]:
                return
            time.sleep(0.2)
        raise RuntimeError(f"demo: placements never saw the agreement {university} and {provider}")

    def create_units(self) -> None:
        """Every demo unit, as its owner."""
        for spec in DEMO_UNITS:
            body = {k: v for k, v in spec.items() if k != "owner"}
            body = {"rural": False, "vulnerable_area": False} | body
            unit = self.call(spec["owner"], "POST", "/units", body)
            self.units[spec["name"]] = unit["id"]

    def offer(
        self, unit: str, codes: Mapping[str, str], when: Period, **fields: Any
    ) -> dict[str, Any]:
        """Create an offer at ``unit`` (published unless ``publish=False``)."""
        owner = next(u["owner"] for u in DEMO_UNITS if u["name"] == unit)
        level = "avancerad_niva" if codes is MEDICINE else "grundniva"
        body = {
            "unit_id": self.units[unit],
            **codes,
            "level": level,
            "term": when.term,
            "start_date": when.start.isoformat(),
            "end_date": when.end.isoformat(),
            "places": 4,
            "supervision_model": "one_to_one",
            "visibility": "all",
            "requirements": [],
            "publish": True,
        } | fields
        answer: dict[str, Any] = self.call(owner, "POST", "/offers", body)
        return answer

    def book(self, university: str, offer: Mapping[str, Any], places: int, course: str) -> str:
        """Request ``places`` on ``offer`` for a course instance; returns the booking id."""
        body = {
            "offer_id": offer["id"],
            "places": places,
            "course_code": course,
            "course_instance": f"{offer['term']}-1",
        }
        return str(self.call(university, "POST", "/bookings", body)["id"])


def load_placement_demo(
    gateway_url: str,
    keys: Mapping[str, str],
    *,
    org_id: Callable[[str], str],
    say: Callable[[str], None],
    today: date | None = None,
) -> PlacementDemoIds:
    """Units, offers for both demo programmes, and bookings in each state.

    Returns the ids later demo data refers to (units by name, notable bookings).
    """
    demo = PlacementDemo(gateway_url, keys, org_id, say)
    demo.wait_for_coverage("Uppsala universitet", "Region Uppsala", NURSING)
    demo.wait_for_coverage("Örebro universitet", "Region Örebro län", MEDICINE)
    demo.create_units()
    periods = demo_periods(today or date.today())
    upcoming = periods["upcoming"]
    assert upcoming is not None
    uu, oru = "Uppsala universitet", "Örebro universitet"
    region_uppsala, region_orebro = "Region Uppsala", "Region Örebro län"

    surgery = demo.offer("Akademiska sjukhuset, avdelning 30C kirurgi", NURSING, upcoming)
    emergency = demo.offer(
        "Akademiska sjukhuset, akutmottagningen",
        NURSING,
        upcoming,
        places=6,
        supervision_model="peer_2_to_1",
    )
    gottsunda = demo.offer("Vårdcentralen Gottsunda", NURSING, upcoming, places=2)
    demo.offer("Vårdcentralen Östhammar", NURSING, upcoming, places=2, visibility="partners")
    home_care = demo.offer("Hemsjukvården Uppsala centrum", NURSING, upcoming, places=3)
    demo.offer(
        "Vård- och omsorgsboendet Torgny Segerstedts allé",
        NURSING,
        upcoming,
        places=8,
        supervision_model="student_ward",
        auto_confirm=True,
    )
    demo.offer("Vårdcentralen Vivalla", MEDICINE, upcoming, places=2, publish=False)
    medicine = demo.offer(
        "Universitetssjukhuset Örebro, medicinkliniken", MEDICINE, upcoming, places=6
    )
    demo.offer("Lindesbergs lasarett", MEDICINE, upcoming, places=2, visibility="partners")

    requested = demo.book(uu, surgery, 2, "1SJ030")
    demo.say(f"demo: booking {requested} requested (Akademiska, kirurgi)")
    confirmed = demo.book(uu, emergency, 4, "1SJ030")
    demo.call(region_uppsala, "POST", f"/bookings/{confirmed}/confirm", {"places": 2})
    declined = demo.book(uu, gottsunda, 2, "1SJ020")
    demo.call(region_uppsala, "POST", f"/bookings/{declined}/decline", {"reason": "no_supervisor"})
    cancelled = demo.book(uu, home_care, 1, "1SJ020")
    demo.call(uu, "POST", f"/bookings/{cancelled}/cancel", {"reason": "course_cancelled"})
    medicine_booking = demo.book(oru, medicine, 3, "MC004")
    demo.call(region_orebro, "POST", f"/bookings/{medicine_booking}/confirm", {})

    for name, when in (("current", periods["current"]), ("past", periods["past"])):
        if when is None:  # today lies outside every term window (July)
            demo.say(f"demo: no {name} placement (today is outside every term)")
            continue
        offer = demo.offer("Universitetssjukhuset Örebro, medicinkliniken", MEDICINE, when)
        booking = demo.book(oru, offer, 2, "MC003")
        demo.call(region_orebro, "POST", f"/bookings/{booking}/confirm", {})
        demo.advance(region_orebro, booking, "start", wanted=("in_progress", "completed"))
        if name == "past":
            demo.advance(region_orebro, booking, "complete", wanted=("completed",))
    demo.say("demo: placements loaded (units, offers, bookings in every state)")
    return PlacementDemoIds(units=dict(demo.units), peer_booking=confirmed)
