"""The identifier formats the OpenAPI names, taught to Schemathesis for every API test.

``format: organisationsnummer`` and ``format: hsa-id`` carry a check digit no pattern can
state; without a generator for them, "valid" data would mostly not be.
"""

from __future__ import annotations

import schemathesis
from vfu_testing.identifier_strategies import hsa_ids, organisation_numbers

schemathesis.openapi.format("organisationsnummer", organisation_numbers())
schemathesis.openapi.format("hsa-id", hsa_ids())
