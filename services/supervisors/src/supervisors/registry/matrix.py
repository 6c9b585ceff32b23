"""Who may call each registry operation (merged into supervisors.access_matrix).

Portals never see supervisors. Object rules: ``registry.access``.
"""

from __future__ import annotations

from vfu_common.access import Access, allow

_SUPERVISORS = "/api/v1/supervisors/supervisors"
_SUPERVISOR = f"{_SUPERVISORS}/{{supervisor_id}}"
_EMPLOYER = "the employing provider; admins; others 404"
_READERS = (
    "employer: own staff, every field; university: supervisors assigned (now or before) "
    "to its bookings, every field; coordinator: all, without personal fields; admin: all; "
    "others 404"
)

ACCESS: dict[str, Access] = {
    f"POST {_SUPERVISORS}": allow(
        "provider", "admin", objects="for the caller's own organisation; admins name employer_id"
    ),
    f"GET {_SUPERVISORS}": allow(
        "provider", "university", "coordinator", "admin", objects=_READERS
    ),
    f"GET {_SUPERVISOR}": allow("provider", "university", "coordinator", "admin", objects=_READERS),
    f"PATCH {_SUPERVISOR}": allow("provider", "admin", objects=_EMPLOYER),
    f"POST {_SUPERVISOR}/deregister": allow("provider", "admin", objects=_EMPLOYER),
}
