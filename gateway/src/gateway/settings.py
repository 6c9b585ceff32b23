"""Gateway settings (environment prefix GATEWAY_)."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)


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
    database_url: str = Field(
        default="sqlite+aiosqlite:///./data/gateway.db",
        description="The gateway's own store: signing keys, OAuth clients, API keys",
    )
    token_issuer: str = Field(default="urn:vfu:gateway", description="iss of access tokens")
    token_audience: str = Field(default="urn:vfu:api", description="aud of access tokens")
    access_token_ttl_seconds: int = Field(
        default=900, ge=60, le=86_400, description="Lifetime of an access token"
    )
    token_leeway_seconds: int = Field(
        default=10, ge=0, le=300, description="Clock skew tolerated on exp/nbf/iat"
    )
    key_reload_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How often each replica reloads signing keys and revoked clients",
    )
    key_reload_floor_seconds: float = Field(
        default=2.0,
        ge=0,
        description="Least time between reloads caused by a token with an unknown kid",
    )
    api_key_cache_seconds: float = Field(
        default=5.0, ge=0, le=60, description="How long an API key lookup is cached"
    )
    external_issuer: str | None = Field(
        default=None, description="iss of an external identity provider's tokens (optional)"
    )
    external_audience: str | None = Field(
        default=None, description="aud the external provider's tokens must carry"
    )
    external_jwks_url: str | None = Field(
        default=None, description="Where the external provider publishes its JWKS"
    )
    external_algorithms: str = Field(
        default="RS256,ES256,EdDSA",
        description="Comma-separated signature algorithms accepted from the external provider",
    )
    external_organisation_claim: str = Field(
        default="org", description="Claim (dotted path) holding the organisation id"
    )
    external_roles_claim: str = Field(
        default="roles", description="Claim (dotted path) holding the roles: list or spaces"
    )
    external_jwks_refresh_seconds: float = Field(
        default=300.0, gt=0, description="How often the external JWKS is fetched again"
    )
    external_jwks_floor_seconds: float = Field(
        default=30.0,
        ge=0,
        description="Least time between JWKS fetches caused by a token with an unknown kid",
    )
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

    @model_validator(mode="after")
    def _external_provider_is_complete(self) -> Self:
        external = (self.external_issuer, self.external_audience, self.external_jwks_url)
        if any(external) and not all(external):
            raise ValueError(
                "set all of GATEWAY_EXTERNAL_ISSUER, GATEWAY_EXTERNAL_AUDIENCE and "
                "GATEWAY_EXTERNAL_JWKS_URL, or none"
            )
        # RFC 8725 §3.1: only asymmetric algorithms; a shared secret (HS*) would let anyone
        # holding the public JWKS forge tokens, and "none" needs no key at all.
        unsafe = [a for a in self.external_algorithm_list() if a not in ASYMMETRIC_ALGORITHMS]
        if unsafe:
            raise ValueError(f"GATEWAY_EXTERNAL_ALGORITHMS: not allowed: {unsafe}")
        return self

    def private_key_pem(self) -> str:
        """Return the signing key for internal tokens, inline or from its file."""
        if self.internal_private_key:
            return self.internal_private_key
        if self.internal_private_key_file is None:
            raise RuntimeError(
                "gateway: set GATEWAY_INTERNAL_PRIVATE_KEY or GATEWAY_INTERNAL_PRIVATE_KEY_FILE"
            )
        return self.internal_private_key_file.read_text()

    def external_algorithm_list(self) -> list[str]:
        """The external provider's allowed algorithms, without blanks."""
        return [a.strip() for a in self.external_algorithms.split(",") if a.strip()]

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
