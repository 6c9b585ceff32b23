"""Who may call each placements operation (vfu_common.access; object rules in the features).

Portals read: units, published offers and the search, never bookings or the agreement
gate's answers (they must not probe who has agreements with whom).
"""

from __future__ import annotations

from vfu_common.access import NON_PORTAL_ROLES, Access, allow, everyone

_API = "/api/v1/placements"
_UNITS = f"{_API}/units"
_OFFERS = f"{_API}/offers"
_OFFER = f"{_OFFERS}/{{offer_id}}"
_BOOKINGS = f"{_API}/bookings"
_BOOKING = f"{_BOOKINGS}/{{booking_id}}"
_OWNER = "the provider owning the unit or offer; admins"
_VISIBLE_OFFER = (
    "published offers by visibility (partners: universities with an agreement with the "
    "provider); drafts only to their owner and admins; others 404"
)
_ROUNDS = f"{_API}/rounds"
_ROUND = f"{_ROUNDS}/{{round_id}}"
_ROUND_AUTHORITY = "a coordinator over its healthcare region, a provider over its own units; admins"
_DEMAND_READERS = "the line's university, the round's coordinator, admins; others 403/404"
_RUNS = f"{_ROUND}/allocations"
_RUN = f"{_RUNS}/{{run_id}}"
_ROUND_OWNER = "the round's own organisation; admins"
_RUN_READERS = (
    "every reader; a university its own lines' places and explanations, a provider the "
    "places on its offers, the round's coordinator all"
)
_BOOKING_PARTIES = "the booking university, the offer's provider, coordinators, admins"
_BOOKING_READERS = ("university", "provider", "coordinator", "admin")

ACCESS: dict[str, Access] = {
    f"GET {_API}/agreement-coverage": allow(
        *NON_PORTAL_ROLES, objects="the university or provider asked about; admins"
    ),
    f"POST {_UNITS}": allow("provider", "admin", objects="for the caller's own organisation"),
    f"GET {_UNITS}": everyone(),
    f"GET {_UNITS}/{{unit_id}}": everyone(),
    f"PATCH {_UNITS}/{{unit_id}}": allow("provider", "admin", objects=_OWNER),
    f"POST {_OFFERS}": allow("provider", "admin", objects="at the caller's own units"),
    f"POST {_OFFERS}/import": allow("provider", "admin", objects="at the caller's own units"),
    f"GET {_OFFERS}": everyone(_VISIBLE_OFFER),
    f"GET {_OFFER}": everyone(_VISIBLE_OFFER),
    f"PATCH {_OFFER}": allow("provider", "admin", objects=_OWNER),
    f"POST {_OFFER}/publish": allow("provider", "admin", objects=_OWNER),
    f"POST {_OFFER}/close": allow("provider", "admin", objects=_OWNER),
    f"POST {_OFFER}/withdraw": allow("provider", "admin", objects=_OWNER),
    f"POST {_BOOKINGS}": allow("university", objects="for the caller's own organisation"),
    f"GET {_BOOKINGS}": allow(*_BOOKING_READERS, objects=_BOOKING_PARTIES),
    f"GET {_BOOKING}": allow(*_BOOKING_READERS, objects=_BOOKING_PARTIES),
    f"POST {_BOOKING}/confirm": allow("provider", "admin", objects="the offer's provider"),
    f"POST {_BOOKING}/decline": allow("provider", "admin", objects="the offer's provider"),
    f"POST {_BOOKING}/cancel": allow(
        "university", "provider", "admin", objects="the booking university or the provider"
    ),
    f"POST {_BOOKING}/start": allow("provider", "admin", objects="the offer's provider"),
    f"POST {_BOOKING}/complete": allow("provider", "admin", objects="the offer's provider"),
    f"PUT {_BOOKING}/students": allow("university", "admin", objects="the booking university"),
    f"GET {_API}/quotas": allow(
        *_BOOKING_READERS,
        objects="a university its own; a provider its agreements'; coordinators, admins all",
    ),
    f"POST {_ROUNDS}": allow("coordinator", "provider", "admin", objects=_ROUND_AUTHORITY),
    f"GET {_ROUNDS}": allow(*_BOOKING_READERS, objects="every round"),
    f"GET {_ROUND}": allow(*_BOOKING_READERS, objects="every round"),
    f"PUT {_ROUND}/policy": allow("coordinator", "provider", "admin", objects=_ROUND_OWNER),
    f"GET {_ROUND}/policies": allow(*_BOOKING_READERS, objects="every round"),
    f"POST {_ROUND}/demand": allow(
        "university", "admin", objects="for the caller's own university"
    ),
    f"POST {_ROUND}/demand/import": allow(
        "university", "admin", objects="for the caller's own university"
    ),
    f"GET {_ROUND}/demand": allow(*_BOOKING_READERS, objects=_DEMAND_READERS),
    f"GET {_ROUND}/demand-summary": allow(*_BOOKING_READERS, objects="every round's totals"),
    f"GET {_ROUND}/demand/{{line_id}}": allow(*_BOOKING_READERS, objects=_DEMAND_READERS),
    f"PATCH {_ROUND}/demand/{{line_id}}": allow(
        "university", "admin", objects="the line's university"
    ),
    f"POST {_ROUND}/demand/{{line_id}}/withdraw": allow(
        "university", "admin", objects="the line's university"
    ),
    f"POST {_RUNS}": allow("coordinator", "provider", "admin", objects=_ROUND_OWNER),
    f"GET {_RUNS}": allow(*_BOOKING_READERS, objects=_RUN_READERS),
    f"GET {_RUN}": allow(*_BOOKING_READERS, objects=_RUN_READERS),
    f"GET {_RUN}/explanations": allow(*_BOOKING_READERS, objects=_RUN_READERS),
    f"GET {_RUN}/explanations/{{line_id}}": allow(
        *_BOOKING_READERS, objects="the line's university, the round's coordinator; others 404"
    ),
    f"POST {_RUN}/publish": allow("coordinator", "provider", "admin", objects=_ROUND_OWNER),
    f"POST {_RUN}/check": allow("coordinator", "provider", "admin", objects=_ROUND_OWNER),
    f"GET {_API}/search/offers": everyone(_VISIBLE_OFFER),
    f"POST {_BOOKING}/supervisors": allow("provider", "admin", objects="the offer's provider"),
    f"GET {_BOOKING}/supervisors": allow(*_BOOKING_READERS, objects=_BOOKING_PARTIES),
    f"POST {_BOOKING}/supervisors/{{assignment_id}}/release": allow(
        "provider", "admin", objects="the offer's provider"
    ),
}
