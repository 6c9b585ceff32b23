"""Who may call each training operation (merged into supervisors.access_matrix).

The course catalogue is public; records are for the issuer, the employer, coordinators
and admins, never portals.
"""

from __future__ import annotations

from vfu_common.access import Access, allow, everyone

_API = "/api/v1/supervisors"
_COURSES = f"{_API}/courses"
_RECORDS = f"{_API}/training-records"
_RECORD = f"{_RECORDS}/{{record_id}}"
_ISSUER = "the organisation running the record's course; admins; others who may see it 403"
_RECORD_READERS = "the issuer, the supervisor's employer, coordinators and admins; others 404"
_RUNNERS = ("university", "provider", "admin")

ACCESS: dict[str, Access] = {
    f"POST {_COURSES}": allow(*_RUNNERS, objects="for the caller's own organisation"),
    f"GET {_COURSES}": everyone(),
    f"GET {_COURSES}/{{course_id}}": everyone(),
    f"PATCH {_COURSES}/{{course_id}}": allow(*_RUNNERS, objects="the running organisation"),
    f"POST {_RECORDS}": allow(*_RUNNERS, objects="records of the caller's own courses"),
    f"GET {_RECORDS}": allow(
        "university", "provider", "coordinator", "admin", objects=_RECORD_READERS
    ),
    f"GET {_RECORD}": allow(
        "university", "provider", "coordinator", "admin", objects=_RECORD_READERS
    ),
    **{
        f"POST {_RECORD}/{action}": allow(*_RUNNERS, objects=_ISSUER)
        for action in ("start", "complete", "fail", "withdraw", "reenrol", "verify")
    },
}
