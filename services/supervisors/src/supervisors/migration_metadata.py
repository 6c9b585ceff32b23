"""Everything the supervisors database holds, for Alembic's comparisons."""

from __future__ import annotations

from vfu_common import idempotency
from vfu_common.audit import tables as audit
from vfu_common.db import new_metadata
from vfu_domain import organisation_projection

from supervisors import models
from supervisors.projections import handlers as _projections  # noqa: F401  (registers tables)
from supervisors.registry import models as _registry  # noqa: F401  (registers tables)
from supervisors.training import models as _training  # noqa: F401  (registers tables)

# Copies in a MetaData of our own: the projection's MetaData is shared with placements.
target_metadata = new_metadata()
for _source in (
    organisation_projection.metadata,
    audit.metadata,
    models.metadata,
    idempotency.metadata,
):
    for _table in _source.tables.values():
        _table.to_metadata(target_metadata)

__all__ = ["target_metadata"]
