"""Schemathesis against the running system's aggregated OpenAPI, as each role.

Schemathesis generates requests from the gateway's ``/openapi.json``, valid ones and
invalid ones (its positive and negative modes), and they go through the gateway with a
real credential of each role: the admin's, the coordinator's, a university's and a
provider's access tokens and the student portal's API key. Every answer must:

- not be a server error (``not_a_server_error``),
- have a content type the operation documents for its status
  (``content_type_conformance``),
- match the schema documented for its status and content type
  (``response_schema_conformance``).

One test per role walks every operation as a subtest named ``METHOD /path``; each runs
a Hypothesis test over ``APIOperation.as_strategy()``. (Schemathesis's own pytest
integration does not fit: ``schema.parametrize()`` needs the schema at collection time,
before the system runs, and ``schemathesis.pytest.from_fixture``, made for that case,
writes ``Function._nodeid``, which pytest 9.2 no longer has.) CI runs
``VFU_FUZZ_EXAMPLES`` (default 2) examples per operation, role and mode; ``make fuzz``
runs many more.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

pytestmark = pytest.mark.e2e

ROLES = ("admin", "coordinator", "university", "provider", "portal")
EXAMPLES = int(os.environ.get("VFU_FUZZ_EXAMPLES", "2"))
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


@pytest.fixture(scope="module")
def api_schema(running_system: Any) -> Any:
    """The gateway's aggregated document, as Schemathesis loads it over HTTP."""
    running_system.openapi()  # every service has contributed (else it says which not)
    config = schemathesis.Config.from_dict({"base-url": running_system.url})
    return schemathesis.openapi.from_url(f"{running_system.url}/openapi.json", config=config)


@pytest.fixture(scope="module")
def operations(api_schema: Any) -> list[Any]:
    found = [result.ok() for result in api_schema.get_all_operations()]
    assert len(found) > 30, "the aggregated OpenAPI lists the services' operations"
    return found


@pytest.fixture(scope="module")
def session() -> Any:
    """One connection pool for every call (a new session per call costs a connection)."""
    with requests.Session() as http:
        yield http


def _fuzz(
    operation: Any, headers: dict[str, str], session: requests.Session, seen: Counter[int]
) -> None:
    """Call ``operation`` with generated positive and negative cases; raise on a failure."""
    strategy = st.one_of(*(operation.as_strategy(generation_mode=mode) for mode in MODES))

    @settings(
        max_examples=EXAMPLES * len(MODES),
        deadline=None,
        database=None,
        # Each example is an HTTP round trip through the gateway, slow by Hypothesis's
        # standard; and how hard generating from a schema is, is not what we test.
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.large_base_example,
        ],
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        response = case.call_and_validate(headers=headers, checks=CHECKS, session=session)
        seen[response.status_code] += 1
        # The credential is valid: a 401 would mean we fuzzed the gateway's front door only.
        assert response.status_code != 401, f"{operation.label}: credential refused"

    run()


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_answers_as_documented(
    role: str,
    operations: list[Any],
    running_system: Any,
    session: requests.Session,
    subtests: pytest.Subtests,
) -> None:
    seen: Counter[int] = Counter()
    for operation in operations:
        with subtests.test(msg=f"{operation.label} as {role}"):
            _fuzz(operation, running_system.headers(role), session, seen)
    # Not only refusals and invalid requests: some calls did what they asked for.
    assert any(200 <= status < 300 for status in seen), f"nothing succeeded as {role}: {seen}"
