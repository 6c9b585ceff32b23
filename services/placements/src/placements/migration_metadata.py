"""Everything the placements database holds, for Alembic's comparisons."""

from __future__ import annotations

from vfu_common.projections.organisations import metadata as target_metadata

__all__ = ["target_metadata"]
