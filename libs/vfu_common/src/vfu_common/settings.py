"""Settings shared by every service; each service subclasses with its own env prefix."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class BaseServiceSettings(BaseSettings):
    """Configuration every service reads from its environment.

    Subclasses set ``model_config = SettingsConfigDict(env_prefix="PLACEMENTS_")`` and so
    on, so ``PLACEMENTS_DATABASE_URL`` configures the placements service.
    """

    model_config = SettingsConfigDict(extra="ignore")

    service_name: str = "service"
    database_url: str = Field(
        default="sqlite+aiosqlite:///./data/service.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///... or postgresql+asyncpg://...",
    )
    database_read_concurrency: int | None = Field(
        default=None,
        ge=1,
        description="Hot one-statement reads (the portal search) run at once; the rest "
        "queue. Default: the CPU count, at least 2 (vfu_common.db.default_read_concurrency)",
    )
    nats_url: str = Field(default="nats://127.0.0.1:4223", description="NATS server URL(s)")
    internal_public_key_file: Path | None = Field(
        default=None,
        description="PEM file with the gateway's Ed25519 public key for internal tokens",
    )
    internal_public_key: str | None = Field(
        default=None, description="The same key inline (PEM); wins over the file"
    )
    log_level: str = "INFO"
    consumer_max_deliver: int = Field(default=5, ge=1)
    relay_poll_seconds: float = Field(default=1.0, gt=0)

    def public_key_pem(self) -> str:
        """Return the internal-token verification key, inline or from its file."""
        if self.internal_public_key:
            return self.internal_public_key
        if self.internal_public_key_file is None:
            raise RuntimeError(
                f"{self.service_name}: no internal public key configured "
                "(set INTERNAL_PUBLIC_KEY or INTERNAL_PUBLIC_KEY_FILE with the service prefix)"
            )
        return self.internal_public_key_file.read_text()
