"""Typed event contracts: one pydantic model per event type and major version.

Rules (DESIGN §5): a v1 payload may only gain optional fields; a breaking change is a
new ``v2`` type. ``tests/contracts`` snapshots the JSON Schema of every payload and fails
on a non-additive change. Producers build payloads with these models; consumers parse
with them, ignoring unknown fields so producers can add fields first.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict

OrganisationKind = Literal[
    "region", "municipality", "university", "private_provider", "coordinating_body"
]


class EventPayload(BaseModel):
    """Base of every payload: consumers ignore fields they do not know yet."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class OrganisationRegisteredV1(EventPayload):
    """An organisation (party) was registered in the agreements service."""

    organisation_id: uuid.UUID
    organisation_number: str
    kind: OrganisationKind
    name: str
    municipality_code: str | None = None


@dataclass(frozen=True)
class EventContract:
    """Binds an event type (= NATS subject) to its payload model and aggregate type."""

    event_type: str
    payload: type[EventPayload]
    aggregate_type: str

    @property
    def stream_service(self) -> str:
        """The producing service, the second token of ``vfu.<service>.<...>``."""
        return self.event_type.split(".")[1]


P = TypeVar("P", bound=EventPayload)

_REGISTRY: dict[str, EventContract] = {}


def register(event_type: str, payload: type[EventPayload], aggregate_type: str) -> EventContract:
    """Add a contract to the registry; a type may be registered only once."""
    if event_type in _REGISTRY:
        raise ValueError(f"event type already registered: {event_type}")
    parts = event_type.split(".")
    if (
        len(parts) != 5
        or parts[0] != "vfu"
        or not parts[4].startswith("v")
        or event_type.lower() != event_type
    ):
        raise ValueError(
            f"event type must be vfu.<service>.<aggregate>.<event>.v<major>: {event_type}"
        )
    contract = EventContract(event_type, payload, aggregate_type)
    _REGISTRY[event_type] = contract
    return contract


def contract_for(event_type: str) -> EventContract:
    """Look up a contract; KeyError for an unknown type."""
    return _REGISTRY[event_type]


def platform_contracts() -> list[EventContract]:
    """The contracts defined in this module: what the platform publishes.

    Tests register contracts of their own; those are left out of the published AsyncAPI
    document and the schema snapshots.
    """
    return [c for c in all_contracts() if c.payload.__module__ == __name__]


def all_contracts() -> list[EventContract]:
    """Every registered contract, sorted by type."""
    return sorted(_REGISTRY.values(), key=lambda c: c.event_type)


ORGANISATION_REGISTERED = register(
    "vfu.agreements.organisation.registered.v1", OrganisationRegisteredV1, "organisation"
)
