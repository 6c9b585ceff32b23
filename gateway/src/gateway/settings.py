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
    rate_limit_per_second: float = Field(
        default=20.0, ge=0, description="Sustained requests per second per client; 0 = off"
    )
    rate_limit_burst: int = Field(default=60, ge=1, description="Requests a client may burst")
    max_body_bytes: int = Field(default=1024 * 1024, ge=0, description="Largest request body")
    cors_origins: str = Field(
        default="", description="Comma-separated origins allowed by CORS; empty = no CORS"
    )
    hsts: bool = Field(default=False, description="Send Strict-Transport-Security")
    expose_docs: bool = Field(default=True, description="Serve /docs and /openapi.json")
    breaker_failures: int = Field(
        default=5, ge=1, description="Consecutive upstream failures that open its circuit"
    )
    breaker_open_seconds: float = Field(
        default=10.0, gt=0, description="How long an open circuit refuses calls"
    )
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

    def cors_origin_list(self) -> list[str]:
        """The allowed CORS origins, without blanks or trailing slashes."""
        return [o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip()]

    def upstreams(self) -> dict[str, str]:
        """Service name → base URL, in routing order."""
        return {
            "agreements": self.agreements_url,
            "placements": self.placements_url,
            "supervisors": self.supervisors_url,
        }
