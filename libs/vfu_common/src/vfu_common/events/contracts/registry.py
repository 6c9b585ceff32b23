"""The contract registry: every event type bound to its payload model, and the base
every payload derives from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel, ConfigDict


class EventPayload(BaseModel):
    """Base of every payload: consumers ignore fields they do not know yet."""

    model_config = ConfigDict(extra="ignore", frozen=True)


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
# The modules of this package that define the platform's own payloads.
_PLATFORM_MODULES = tuple(
    f"vfu_common.events.contracts.{name}"
    for name in ("agreements", "placements", "planning", "supervisors")
)

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
    """The contracts defined in this package: what the platform publishes.

    Tests register contracts of their own; those are left out of the published AsyncAPI
    document and the schema snapshots.
    """
    return [c for c in all_contracts() if c.payload.__module__.startswith(_PLATFORM_MODULES)]


def all_contracts() -> list[EventContract]:
    """Every registered contract, sorted by type."""
    return sorted(_REGISTRY.values(), key=lambda c: c.event_type)
