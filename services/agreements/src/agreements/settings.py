"""Settings of the agreements service (environment prefix AGREEMENTS_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict
from vfu_common.settings import BaseServiceSettings


class Settings(BaseServiceSettings):
    """The agreements service's configuration."""

    model_config = SettingsConfigDict(env_prefix="AGREEMENTS_", extra="ignore")

    service_name: str = "agreements"
    database_url: str = "sqlite+aiosqlite:///./data/agreements.db"
