"""Gateway settings (environment prefix GATEWAY_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """The gateway's configuration."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    agreements_url: str = "http://127.0.0.1:8001"
    placements_url: str = "http://127.0.0.1:8002"
    supervisors_url: str = "http://127.0.0.1:8003"
    internal_private_key_file: Path | None = Field(
        default=None, description="PEM file with the Ed25519 key that signs internal tokens"
    )
    internal_private_key: str | None = Field(default=None, description="The same key inline")
    dev_api_keys_file: Path | None = Field(
        default=None,
        description="JSON file mapping development API keys to an organisation and roles",
    )
    dev_api_keys: str | None = Field(default=None, description="The same mapping inline (JSON)")
    connect_timeout_seconds: float = Field(default=2.0, gt=0)
    upstream_timeout_seconds: float = Field(default=10.0, gt=0)
    retry_after_seconds: int = Field(default=5, ge=1)
    pool_size: int = Field(default=100, ge=1, description="Connections per upstream")
    log_level: str = "INFO"

    def private_key_pem(self) -> str:
        """Return the signing key for internal tokens, inline or from its file."""
        if self.internal_private_key:
            return self.internal_private_key
        if self.internal_private_key_file is None:
            raise RuntimeError(
                "gateway: set GATEWAY_INTERNAL_PRIVATE_KEY or GATEWAY_INTERNAL_PRIVATE_KEY_FILE"
            )
        return self.internal_private_key_file.read_text()

    def upstreams(self) -> dict[str, str]:
        """Service name → base URL, in routing order."""
        return {
            "agreements": self.agreements_url,
            "placements": self.placements_url,
            "supervisors": self.supervisors_url,
        }
