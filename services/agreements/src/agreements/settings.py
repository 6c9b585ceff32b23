"""Settings of the agreements service (environment prefix AGREEMENTS_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from vfu_common.settings import BaseServiceSettings


class Settings(BaseServiceSettings):
    """The agreements service's configuration."""

    model_config = SettingsConfigDict(env_prefix="AGREEMENTS_", extra="ignore")

    service_name: str = "agreements"
    database_url: str = "sqlite+aiosqlite:///./data/agreements.db"
    scheduler_interval_seconds: float = Field(
        default=60.0, gt=0, description="How often the agreement scheduler runs its date checks"
    )
    scheduler_enabled: bool = Field(
        default=True, description="Run date-driven agreement transitions in this process"
    )
    expiry_reminder_days: int = Field(
        default=60, ge=0, description="Days before valid_to that expiry_upcoming is emitted"
    )
