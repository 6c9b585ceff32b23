"""Settings of the placements service (environment prefix PLACEMENTS_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from vfu_common.settings import BaseServiceSettings


class Settings(BaseServiceSettings):
    """The placements service's configuration."""

    model_config = SettingsConfigDict(env_prefix="PLACEMENTS_", extra="ignore")

    service_name: str = "placements"
    database_url: str = "sqlite+aiosqlite:///./data/placements.db"
    lifecycle_interval_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How often placements are started and completed by their dates",
    )
    calendar_file: Path | None = Field(
        default=None,
        description="Development and end-to-end tests only: a file holding the ISO date "
        "the service takes as today (absent or empty: the real date)",
    )
    lifecycle_enabled: bool = Field(
        default=True, description="Run the date-driven placement lifecycle in this process"
    )
