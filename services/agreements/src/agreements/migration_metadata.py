"""Everything the agreements database holds, for Alembic's comparisons."""

from __future__ import annotations

from vfu_common.audit import tables as audit
from vfu_common.db import new_metadata

import agreements.contracting.models  # registers the tables
import agreements.organisations.models  # noqa: F401  (registers the tables)
from agreements.models import Base

# Copies in a MetaData of our own: the audit table is not an ORM model of Base.
target_metadata = new_metadata()
for _source in (Base.metadata, audit.metadata):
    for _table in _source.tables.values():
        _table.to_metadata(target_metadata)

__all__ = ["target_metadata"]
