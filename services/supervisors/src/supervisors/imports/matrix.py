"""Who may call each imports operation (merged into supervisors.access_matrix)."""

from __future__ import annotations

from vfu_common.access import Access

ACCESS: dict[str, Access] = {}
