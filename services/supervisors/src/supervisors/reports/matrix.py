"""Who may call each reports operation (merged into supervisors.access_matrix).

Reports hold no personal fields, so coordinators read them; universities and portals
never do (the matrix answers 403 before the handler runs).
"""

from __future__ import annotations

from vfu_common.access import Access, allow

_REPORTS = "/api/v1/supervisors/reports"
_SCOPE = "providers: their own organisation only (another provider_id: 403); any for others"

ACCESS: dict[str, Access] = {
    f"GET {_REPORTS}/qualification": allow("provider", "coordinator", "admin", objects=_SCOPE),
    f"GET {_REPORTS}/training-demand": allow("provider", "coordinator", "admin", objects=_SCOPE),
}
