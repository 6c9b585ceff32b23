"""One started system for the schema-driven API tests, and the identifier formats.

Both modules here generate requests from the OpenAPI and only add to the system's state
(neither revokes a credential nor counts what others made), so they share one system:
``running_system`` is overridden for the package, and ``tests.conftest.SYSTEM_GROUPS``
keeps their tests on one pytest-xdist worker, which starts it once.

``format: organisationsnummer`` and ``format: hsa-id`` carry a check digit no pattern can
state; without a generator for them, "valid" data would mostly not be.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from vfu_testing.identifier_strategies import hsa_ids, organisation_numbers

from tests.conftest import RunningSystem, started_system

schemathesis.openapi.format("organisationsnummer", organisation_numbers())
schemathesis.openapi.format("hsa-id", hsa_ids())


@pytest.fixture(scope="package")
def running_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    """The whole system with the demo data, for every test of this package."""
    with started_system(tmp_path_factory.mktemp("api-system") / "data", demo=True) as system:
        yield system
