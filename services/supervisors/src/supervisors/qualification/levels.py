"""The configured requirement levels: a default and per-profession overrides.

An agreement's supervision requirement can only raise the level for placements under it;
that stricter check belongs to the placements service's gate. Here the supervisors
service computes each supervisor's standing qualification against these defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Annotated

from fastapi import Depends, Request

from supervisors.settings import Settings


@dataclass(frozen=True)
class RequiredLevels:
    """The requirement level of each profession (a TrainingLevel)."""

    default: str
    by_profession: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def for_profession(self, profession_code: str) -> str:
        """The profession's own level when configured, else the default."""
        return self.by_profession.get(profession_code, self.default)

    @classmethod
    def from_settings(cls, settings: Settings) -> RequiredLevels:
        """The levels configured in ``settings``."""
        return cls(
            default=settings.required_level_default,
            by_profession=MappingProxyType(dict(settings.required_levels_by_profession)),
        )


async def required_levels(request: Request) -> RequiredLevels:
    """FastAPI dependency: the levels of the running app's settings."""
    settings = request.app.state.runtime.settings
    if not isinstance(settings, Settings):  # a bare BaseServiceSettings: defaults apply
        settings = Settings()
    return RequiredLevels.from_settings(settings)


RequiredLevelsDep = Annotated[RequiredLevels, Depends(required_levels)]
