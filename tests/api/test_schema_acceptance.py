"""Input generated from the OpenAPI is accepted unless the domain forbids it.

An integrator generates requests from the gateway's aggregated document (Schemathesis's
positive mode: every value satisfies the schema) for the fifteen operations that take
the data people type in: organisations, units, offers, supervisors, courses and agreements,
created and changed; the two imports; a booking's students. As an integrator would, it
fills in the references that must name something that exists (the care unit of an offer,
the parties of an agreement, the term and its dates) and lets the schema drive the rest.

Each answer is then one of:

* accepted (2xx);
* refused by a rule the schema states as a cross-field rule (``x-rules`` on the request
  model: an end before a start, dates outside the term): a 422 whose every error type is
  listed there;
* refused by the domain for the state it is in (a 403, 404 or 409, or a 422 with the
  service's own problem code: the organisation number is taken, an amendment is pending);
* or a defect: a 422 ``validation_error`` naming an error type the schema does not state
  (the schema said yes, the API said no), or a 5xx.

The test fails on a defect, and on an operation that accepted nothing. The tally of each
operation's answers is printed (``-s``).
"""

from __future__ import annotations

import csv
import io
import os
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from vfu_common.input_rules import RULES_KEY
from vfu_domain.identifiers import luhn_check_digit
from vfu_domain.terms import term_of, term_window

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("VFU_ACCEPTANCE_EXAMPLES", "25"))
# A supervisor has one record per course: each row of a record import names another one.
RECORD_ROWS = 5
IDEMPOTENCY_KEY = "Idempotency-Key"
PROVIDER = "Region Uppsala"
UNIVERSITY = "Uppsala universitet"


# --- the objects the references name ---------------------------------------------------


@dataclass
class World:
    """What exists before the fuzzing starts, made through the API."""

    provider_id: str
    university_id: str
    organisation_id: str  # a private provider the admin changes
    unit_id: str
    draft_offer_id: str
    booking_id: str
    agreement_id: str  # active, amended and the amendment abandoned again
    agreement_valid_from: date
    supervisor_id: str
    record_supervisor_ids: tuple[str, ...]  # one per row of a record import
    course_id: str
    terms: tuple[str, ...]


def _next_terms(today: date, count: int = 2) -> tuple[str, ...]:
    terms: list[str] = []
    day = today
    while len(terms) < count:
        term = term_of(day)
        if term_window(term).first_day > today and term not in terms:
            terms.append(term)
        day += timedelta(days=30)
    return tuple(terms)


def _organisation_number(seed: str) -> str:
    nine = seed.rjust(9, "5")[:9]
    return nine + str(luhn_check_digit(nine))


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.is_success, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="module")
def world(running_system: Any) -> World:
    grants = running_system.launcher.grants()
    provider_id = str(grants[PROVIDER]["organisation_id"])
    university_id = str(grants[UNIVERSITY]["organisation_id"])
    terms = _next_terms(date.today())
    window = term_window(terms[0])
    start, end = window.first_day + timedelta(days=7), window.first_day + timedelta(days=48)

    def client(role: str) -> httpx.Client:
        return httpx.Client(
            base_url=running_system.url, headers=running_system.headers(role), timeout=15
        )

    with client("admin") as admin, client("provider") as provider, client("university") as uni:
        organisation = _ok(
            admin.post(
                "/api/v1/agreements/organisations",
                json={
                    "organisation_number": _organisation_number("55990"),
                    "kind": "private_provider",
                    "name": "Fuzzvården AB",
                    "municipality_code": "0180",
                },
            )
        )
        unit = _ok(
            provider.post(
                "/api/v1/placements/units",
                json={
                    "name": "Fuzz ward",
                    "municipality_code": "0380",
                    "care_setting": "slutenvard",
                },
            )
        )
        offer = {
            "unit_id": unit["id"],
            "programme_code": "sjukskoterskeprogrammet",
            "profession_code": "sjukskoterska",
            "level": "grundniva",
            "term": terms[0],
            "start_date": str(start),
            "end_date": str(end),
            "supervision_model": "one_to_one",
        }
        draft = _ok(provider.post("/api/v1/placements/offers", json={**offer, "places": 4}))
        published = _ok(
            provider.post(
                "/api/v1/placements/offers",
                json={**offer, "places": 1000, "visibility": "all", "publish": True},
            )
        )
        booking = _ok(
            uni.post(
                "/api/v1/placements/bookings",
                json={
                    "offer_id": published["id"],
                    "places": 100,
                    "course_code": "1SJ030",
                    "course_instance": f"{terms[0]}-fuzz",
                },
            )
        )
        agreements = _ok(admin.get("/api/v1/agreements/agreements?status=active&limit=100"))
        agreement = next(a for a in agreements["items"] if a["valid_to"] is not None)
        supervisor, *record_supervisors = (
            _ok(
                provider.post(
                    "/api/v1/supervisors/supervisors",
                    json={"name": f"Fuzz Handledare {n}", "profession_code": "sjukskoterska"},
                )
            )
            for n in range(1 + RECORD_ROWS)
        )
        course = _ok(
            uni.post(
                "/api/v1/supervisors/courses",
                json={
                    "course_code": "FUZZ1",
                    "title": "Handledning, fuzz",
                    "level": "basic",
                    "delivery": "campus",
                    "hours": 16,
                },
            )
        )
    return World(
        provider_id=provider_id,
        university_id=university_id,
        organisation_id=organisation["id"],
        unit_id=unit["id"],
        draft_offer_id=draft["id"],
        booking_id=booking["id"],
        agreement_id=agreement["id"],
        agreement_valid_from=date.fromisoformat(agreement["valid_from"]),
        supervisor_id=supervisor["id"],
        record_supervisor_ids=tuple(s["id"] for s in record_supervisors),
        course_id=course["id"],
        terms=terms,
    )


# --- what an integrator fills in ---------------------------------------------------------


@st.composite
def _term_and_dates(draw: st.DrawFn, terms: tuple[str, ...]) -> dict[str, str]:
    term = draw(st.sampled_from(terms))
    window = term_window(term)
    span = (window.last_day - window.first_day).days
    first, second = sorted(draw(st.lists(st.integers(0, span), min_size=2, max_size=2)))
    return {
        "term": term,
        "start_date": str(window.first_day + timedelta(days=first)),
        "end_date": str(window.first_day + timedelta(days=second)),
    }


def _offer_references(world: World, body: dict[str, Any], data: st.DataObject) -> None:
    if "unit_id" in body:
        body["unit_id"] = world.unit_id
    if {"term", "start_date", "end_date"} & body.keys():
        body.update(data.draw(_term_and_dates(world.terms)))


def _agreement_references(world: World, body: dict[str, Any], data: st.DataObject) -> None:
    if "parties" in body:
        body["parties"] = [
            {"organisation_id": world.provider_id, "role": "region"},
            {"organisation_id": world.university_id, "role": "university"},
        ]
    for quota in body.get("quotas") or []:
        quota["university_organisation_id"] = world.university_id
    for rate in body.get("rates") or []:
        rate["payer_organisation_id"] = world.university_id
        rate["payee_organisation_id"] = world.provider_id
    if "effective_from" in body:
        body["effective_from"] = str(
            world.agreement_valid_from + timedelta(days=data.draw(st.integers(1, 300)))
        )


def _records_fill(world: World, body: Any, data: st.DataObject) -> None:
    del body["records"][RECORD_ROWS:]
    for row, supervisor_id in zip(body["records"], world.record_supervisor_ids, strict=False):
        if isinstance(row, dict):
            for name in ("hsa_id", "employer_id", "employer_reference", "course_code"):
                row.pop(name, None)
            row["supervisor_id"] = supervisor_id
            row["course_id"] = world.course_id


Fill = Callable[[World, Any, st.DataObject], None]


def _none(world: World, body: Any, data: st.DataObject) -> None:
    del world, body, data


@dataclass(frozen=True)
class Target:
    """One operation: who calls it, which object its path names, what references it fills."""

    operation_id: str
    role: str
    path: Callable[[World], dict[str, str]] = lambda world: {}
    fill: Fill = _none
    query: dict[str, str] = field(default_factory=dict)
    # Undoes an accepted call where the next one would otherwise meet its result.
    after: Callable[[Any, Any], None] | None = None


def _drop(*names: str) -> Fill:
    def fill(world: World, body: Any, data: st.DataObject) -> None:
        for name in names:
            body.pop(name, None)

    return fill


def _supervisor_fill(world: World, body: Any, data: st.DataObject) -> None:
    body.pop("employer_id", None)  # admins only
    if body.get("unit_ids") is not None:
        body["unit_ids"] = data.draw(st.sampled_from([[], [world.unit_id]]))


TARGETS = (
    Target("agreements_register_organisation", "admin"),
    Target(
        "agreements_change_organisation",
        "admin",
        lambda world: {"organisation_id": world.organisation_id},
    ),
    Target("agreements_create_agreement", "admin", fill=_agreement_references),
    Target(
        "agreements_amend_agreement",
        "admin",
        lambda world: {"agreement_id": world.agreement_id},
        _agreement_references,
        # One amendment at a time: abandon it, so the next example amends the same agreement.
        after=lambda response, call: call(
            "POST", f"/api/v1/agreements/agreements/{response.json()['id']}/abandon"
        ),
    ),
    # provider_id is for admins only; the provider registers its own units and courses.
    Target("placements_create_unit", "provider", fill=_drop("provider_id")),
    Target("placements_update_unit", "provider", lambda world: {"unit_id": world.unit_id}),
    Target("placements_create_offer", "provider", fill=_offer_references),
    Target(
        "placements_update_offer",
        "provider",
        lambda world: {"offer_id": world.draft_offer_id},
        _offer_references,
    ),
    Target("placements_set_students", "university", lambda world: {"booking_id": world.booking_id}),
    Target("supervisors_register_supervisor", "provider", fill=_supervisor_fill),
    Target(
        "supervisors_update_supervisor",
        "provider",
        lambda world: {"supervisor_id": world.supervisor_id},
        _supervisor_fill,
    ),
    Target("supervisors_create_course", "university", fill=_drop("provider_id")),
    Target("supervisors_update_course", "university", lambda world: {"course_id": world.course_id}),
    # A dry run: the rows name the same supervisors every time.
    Target(
        "supervisors_import_records",
        "university",
        fill=_records_fill,
        query={"dry_run": "true", "mode": "all_or_nothing"},
    ),
)
# The offer import takes a file: its rows are POST /offers bodies written as CSV.
IMPORT_OFFERS = "placements_import_offers"


# --- judging the answers -------------------------------------------------------------------


def _resolve(document: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = document["components"]["schemas"][name]
    return node


def stated_rules(document: dict[str, Any], schema: Any) -> set[str]:
    """Every ``x-rules`` error type in ``schema`` and the schemas it refers to."""
    found: set[str] = set()
    seen: set[int] = set()

    def walk(node: Any) -> None:
        node = _resolve(document, node)
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, dict):
            found.update(node.get(RULES_KEY, {}))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return found


@dataclass
class Tally:
    """How one operation answered."""

    answers: Counter[str] = field(default_factory=Counter)
    defects: list[str] = field(default_factory=list)

    def judge(self, status: int, problem: dict[str, Any], stated: set[str], sent: Any) -> None:
        if 200 <= status < 300:
            self.answers["accepted"] += 1
            return
        code = str(problem.get("code"))
        if status >= 500 or status in (400, 401, 415):
            self.defects.append(f"{status} {code}: {problem} for {sent!r}")
            return
        if status == 422:  # the request itself is at fault: by which rule?
            errors = problem.get("errors") or []
            if code in ("validation_error", "import_has_errors"):
                types = {str(error.get("type") or error.get("code")) for error in _flat(errors)}
            else:
                types = {code}
            unstated = types - stated
            if unstated:
                self.defects.append(f"unstated {sorted(unstated)}: {errors} for {sent!r}")
                return
            self.answers["stated rule: " + ", ".join(sorted(types))] += 1
            return
        self.answers[f"domain: {status} {code}"] += 1


def _flat(errors: list[Any]) -> Iterator[dict[str, Any]]:
    """Validation errors, and an import report's rows' errors."""
    for error in errors:
        if isinstance(error, dict) and "errors" in error:
            yield from _flat(error["errors"])
        elif isinstance(error, dict):
            yield error


def _problem(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


# --- the test -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api(running_system: Any) -> Any:
    running_system.openapi()
    config = schemathesis.Config.from_dict({"base-url": running_system.url})
    return schemathesis.openapi.from_url(f"{running_system.url}/openapi.json", config=config)


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        yield http


def _request_schema(operation: Any) -> Any:
    content = operation.definition.raw["requestBody"]["content"]
    return content.get("application/json", next(iter(content.values())))["schema"]


# Derandomised: the same examples every run, so an operation's tally does not vary.
SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _run(
    target: Target, api: Any, world: World, headers: dict[str, str], session: Any, url: str
) -> Tally:
    operation = api.find_operation_by_id(target.operation_id)
    stated = stated_rules(api.raw_schema, _request_schema(operation))
    tally = Tally()
    strategy = operation.as_strategy(
        GenerationMode.POSITIVE, path_parameters=target.path(world), query=target.query or None
    )

    idempotent = any(
        p["name"] == IDEMPOTENCY_KEY for p in operation.definition.raw.get("parameters", [])
    )

    def call(method: str, path: str) -> None:
        done = session.request(method, f"{url}{path}", headers=headers)
        assert done.ok, done.text

    @SETTINGS
    @given(case=strategy, data=st.data())
    def run(case: Any, data: st.DataObject) -> None:
        # The JSON form (the record import also takes CSV, which no schema describes).
        assume(case.media_type == "application/json")
        target.fill(world, case.body, data)
        # A key per intended request, as the header asks (generated ones repeat).
        extra = {IDEMPOTENCY_KEY: str(uuid.uuid4())} if idempotent else {}
        response = case.call(headers={**headers, **extra}, session=session)
        tally.judge(response.status_code, _problem(response), stated, case.body)
        if target.after is not None and 200 <= response.status_code < 300:
            target.after(response, call)

    run()
    return tally


def _csv(rows: list[dict[str, Any]]) -> bytes:
    columns = sorted({name for row in rows for name in row})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    for row in rows:
        writer.writerow({name: _cell(value) for name, value in row.items()})
    return out.getvalue().encode()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "|".join(value)  # the import's separator of requirements
    return str(value)


def _run_offer_import(
    api: Any, world: World, headers: dict[str, str], session: Any, url: str
) -> Tally:
    create = api.find_operation_by_id("placements_create_offer")
    stated = stated_rules(api.raw_schema, _request_schema(create))
    tally = Tally()
    bodies = st.lists(create.as_strategy(GenerationMode.POSITIVE), min_size=1, max_size=3)

    @SETTINGS
    @given(cases=bodies, data=st.data())
    def run(cases: list[Any], data: st.DataObject) -> None:
        rows = []
        for case in cases:
            _offer_references(world, case.body, data)
            rows.append({k: v for k, v in case.body.items() if k != "publish"})
        response = session.post(
            f"{url}/api/v1/placements/offers/import",
            params={"dry_run": "true"},
            files={"file": ("offers.csv", _csv(rows), "text/csv")},
            headers=headers,
        )
        tally.judge(response.status_code, _problem(response), stated, rows)

    run()
    return tally


def test_schema_valid_input_is_accepted_unless_the_domain_forbids_it(
    api: Any, world: World, running_system: Any, session: requests.Session
) -> None:
    tallies: dict[str, Tally] = {}
    for target in TARGETS:
        tallies[target.operation_id] = _run(
            target, api, world, running_system.headers(target.role), session, running_system.url
        )
    tallies[IMPORT_OFFERS] = _run_offer_import(
        api, world, running_system.headers("provider"), session, running_system.url
    )
    for name, tally in tallies.items():
        print(f"{name}: {dict(tally.answers)}; {len(tally.defects)} defects")
        for defect in tally.defects[:3]:
            print("   ", defect)
    defects = {name: tally.defects[:3] for name, tally in tallies.items() if tally.defects}
    assert not defects, defects
    nothing = [name for name, tally in tallies.items() if not tally.answers["accepted"]]
    assert not nothing, {name: dict(tallies[name].answers) for name in nothing}
    assert len(tallies) == 15
