"""Development API keys: ``Authorization: Bearer <key>`` → an organisation and roles.

Keys are looked up by their SHA-256 digest, so lookup time does not depend on how much
of a guessed key matches. The gateway-security work replaces this with OAuth2 client
credentials and hashed, revocable API keys.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from vfu_common.identity import ROLES, Principal

from gateway.settings import Settings


class DevKey(BaseModel):
    """What one development key stands for."""

    model_config = ConfigDict(extra="forbid")

    organisation_id: uuid.UUID | None = None
    roles: list[str] = Field(min_length=1)
    name: str

    def model_post_init(self, _context: Any) -> None:
        unknown = set(self.roles) - ROLES
        if unknown:
            raise ValueError(f"unknown roles {sorted(unknown)} for dev key {self.name!r}")


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


class DevKeyAuthenticator:
    """Maps bearer keys to principals."""

    def __init__(self, keys: dict[str, DevKey]) -> None:
        self._by_digest = {_digest(key): value for key, value in keys.items()}

    @classmethod
    def from_settings(cls, settings: Settings) -> DevKeyAuthenticator:
        """Load keys from GATEWAY_DEV_API_KEYS (inline JSON) or GATEWAY_DEV_API_KEYS_FILE."""
        raw = settings.dev_api_keys
        if raw is None and settings.dev_api_keys_file is not None:
            raw = settings.dev_api_keys_file.read_text()
        data: dict[str, Any] = json.loads(raw) if raw else {}
        return cls({key: DevKey.model_validate(value) for key, value in data.items()})

    def authenticate(self, authorization: str | None, request_id: str) -> Principal | None:
        """The principal of a valid ``Bearer`` key, else None."""
        if not authorization:
            return None
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer" or not key:
            return None
        dev_key = self._by_digest.get(_digest(key.strip()))
        if dev_key is None:
            return None
        return Principal(
            subject=f"devkey:{dev_key.name}",
            organisation_id=dev_key.organisation_id,
            roles=frozenset(dev_key.roles),
            request_id=request_id,
        )
