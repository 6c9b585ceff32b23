"""Everything the placements database holds, for Alembic's comparisons."""

from __future__ import annotations

from vfu_common import idempotency
from vfu_common.audit import tables as audit
from vfu_common.db import new_metadata
from vfu_domain import organisation_projection

from placements import models
from placements.allocation import models as _allocation  # noqa: F401  (registers tables)
from placements.bookings import models as _bookings  # noqa: F401  (registers tables)
from placements.demand import models as _demand  # noqa: F401  (registers tables)
from placements.projections import agreements
from placements.quotas import models as _quotas  # noqa: F401  (registers tables)
from placements.rounds import models as _rounds  # noqa: F401  (registers tables)
from placements.search import indexes as _search_indexes  # noqa: F401  (registers the search indexes)
from placements.supervision import models as _supervision  # noqa: F401  (registers tables)

# One MetaData holding copies of every table: Alembic and the schema-equality test read
# ``target_metadata.tables``, and the organisation projection's MetaData is shared with
# the supervisors service, so placements' own tables must not be added to it.
target_metadata = new_metadata()
for _source in (
    organisation_projection.metadata,
    agreements.metadata,
    audit.metadata,
    models.metadata,
    idempotency.metadata,
):
    for _table in _source.tables.values():
        _table.to_metadata(target_metadata)

__all__ = ["target_metadata"]
