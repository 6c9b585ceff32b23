"""Who may call each agreements operation (vfu_common.access; object rules in the features).

Portals read published capacity in the placements service, never agreements or the
organisation register's write side.
"""

from __future__ import annotations

from vfu_common.access import Access, allow, everyone

_API = "/api/v1/agreements"
_READERS = ("admin", "coordinator", "university", "provider")
_PARTIES = "parties to the agreement; coordinators of a party's healthcare region; admins"

ACCESS: dict[str, Access] = {
    f"POST {_API}/organisations": allow("admin"),
    f"GET {_API}/organisations": everyone(),
    f"GET {_API}/organisations/{{organisation_id}}": everyone(),
    f"PATCH {_API}/organisations/{{organisation_id}}": allow("admin"),
    f"POST {_API}/agreements": allow(*_READERS, objects="a party to the draft, or oversight"),
    f"GET {_API}/agreements": allow(*_READERS, objects=_PARTIES),
    f"GET {_API}/coverage": allow(*_READERS, objects="the parties asked about"),
    f"GET {_API}/agreements/{{agreement_id}}": allow(*_READERS, objects=_PARTIES),
    f"GET {_API}/agreements/{{agreement_id}}/history": allow(*_READERS, objects=_PARTIES),
    f"POST {_API}/agreements/{{agreement_id}}/propose": allow(*_READERS, objects=_PARTIES),
    f"POST {_API}/agreements/{{agreement_id}}/sign": allow(
        *_READERS, objects="a party signs for its own organisation"
    ),
    f"POST {_API}/agreements/{{agreement_id}}/abandon": allow(*_READERS, objects=_PARTIES),
    f"POST {_API}/agreements/{{agreement_id}}/notice": allow(
        *_READERS, objects="a party gives notice for its own organisation"
    ),
    f"POST {_API}/agreements/{{agreement_id}}/amend": allow(*_READERS, objects=_PARTIES),
}
