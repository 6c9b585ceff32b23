"""Settings of the supervisors service (environment prefix SUPERVISORS_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from vfu_common.events.contracts import TrainingLevel
from vfu_common.settings import BaseServiceSettings


class Settings(BaseServiceSettings):
    """The supervisors service's configuration."""

    model_config = SettingsConfigDict(env_prefix="SUPERVISORS_", extra="ignore")

    service_name: str = "supervisors"
    database_url: str = "sqlite+aiosqlite:///./data/supervisors.db"
    required_level_default: TrainingLevel = Field(
        default="basic",
        description="Supervisor training level every profession requires unless overridden",
    )
    # JSON in the environment, e.g.
    # SUPERVISORS_REQUIRED_LEVELS_BY_PROFESSION='{"lakare": "course_7_5hp"}'.
    required_levels_by_profession: dict[str, TrainingLevel] = Field(
        default_factory=dict,
        description="Requirement level per licensed-profession code, overriding the default",
    )
