"""Who may call each supervisors operation (vfu_common.access; object rules in the features)."""

from __future__ import annotations

from vfu_common.access import Access

# Only the shared routers' operations so far (organisation projection, audit log).
ACCESS: dict[str, Access] = {}
