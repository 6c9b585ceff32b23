"""Who may call each imports operation (merged into supervisors.access_matrix)."""

from __future__ import annotations

from vfu_common.access import Access, allow

ACCESS: dict[str, Access] = {
    "POST /api/v1/supervisors/training-records/import": allow(
        "university", "provider", "admin", objects="records of the caller's own courses"
    ),
}
