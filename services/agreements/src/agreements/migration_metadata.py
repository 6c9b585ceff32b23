"""Everything the agreements database holds, for Alembic's comparisons."""

from __future__ import annotations

import agreements.agreements.models  # registers the tables
import agreements.organisations.models  # noqa: F401  (registers the tables)
from agreements.models import Base

target_metadata = Base.metadata
