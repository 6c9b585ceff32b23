"""Everything the gateway database holds, for Alembic's comparisons."""

from __future__ import annotations

from gateway.auth.tables import metadata as target_metadata

__all__ = ["target_metadata"]
