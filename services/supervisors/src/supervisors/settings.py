"""Settings of the supervisors service (environment prefix SUPERVISORS_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict
from vfu_common.settings import BaseServiceSettings


class Settings(BaseServiceSettings):
    """The supervisors service's configuration."""

    model_config = SettingsConfigDict(env_prefix="SUPERVISORS_", extra="ignore")

    service_name: str = "supervisors"
    database_url: str = "sqlite+aiosqlite:///./data/supervisors.db"
