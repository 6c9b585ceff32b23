"""Pydantic types for the reference codes an API accepts, one home for each.

Each type states its values in the JSON Schema (an ``enum`` read from the bundled
reference data), so a client, a generated form or a schema-driven fuzzer knows exactly
what is accepted; and each refuses any other value with a stable error type
(``unknown_municipality``, ``unknown_county``, ``unknown_healthcare_region``,
``unknown_profession``), the same in every service that accepts the code.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Annotated, Final

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from vfu_domain.reference import HEALTHCARE_REGIONS, counties, municipalities, professions

__all__ = [
    "PROFESSION_CODES",
    "CountyCode",
    "HealthcareRegion",
    "MunicipalityCode",
    "ProfessionCode",
]


def _member_of(values: Collection[str], error_type: str, message: str) -> Callable[[str], str]:
    allowed: Final = frozenset(values)

    def check(value: str) -> str:
        if value not in allowed:
            raise PydanticCustomError(error_type, message, {"value": value})
        return value

    return check


_MUNICIPALITIES: Final = sorted(municipalities())
_COUNTIES: Final = sorted(county.lan_code for county in counties())
#: The profession codes, sorted (the ``enum`` of :data:`ProfessionCode`).
PROFESSION_CODES: Final = sorted(professions())

#: A four-digit SCB municipality (kommun) code present in the bundled reference data.
MunicipalityCode = Annotated[
    str,
    AfterValidator(
        _member_of(
            _MUNICIPALITIES,
            "unknown_municipality",
            "unknown municipality code {value!r}: it must be the 4 digits of a municipality "
            "(kommun) in the reference data, e.g. '0180'",
        )
    ),
    Field(
        description="Four-digit SCB municipality (kommun) code",
        examples=["0180"],
        json_schema_extra={"pattern": "^[0-9]{4}$", "enum": _MUNICIPALITIES},
    ),
]

#: A two-digit SCB county (län) code present in the bundled reference data.
CountyCode = Annotated[
    str,
    AfterValidator(
        _member_of(_COUNTIES, "unknown_county", "{value!r} is not a known county (län) code")
    ),
    Field(
        description="Two-digit SCB county (län) code",
        examples=["03"],
        json_schema_extra={"pattern": "^[0-9]{2}$", "enum": _COUNTIES},
    ),
]

#: One of the six healthcare regions (sjukvårdsregioner).
HealthcareRegion = Annotated[
    str,
    AfterValidator(
        _member_of(
            HEALTHCARE_REGIONS,
            "unknown_healthcare_region",
            "{value!r} is not one of the six healthcare regions",
        )
    ),
    Field(description="Sjukvårdsregion", json_schema_extra={"enum": list(HEALTHCARE_REGIONS)}),
]

#: A licensed healthcare profession, by the project's code for it.
ProfessionCode = Annotated[
    str,
    AfterValidator(
        _member_of(
            PROFESSION_CODES,
            "unknown_profession",
            "{value!r} is not a licensed healthcare profession code (e.g. 'sjukskoterska')",
        )
    ),
    Field(
        description="Licensed healthcare profession (legitimationsyrke)",
        examples=["sjukskoterska"],
        json_schema_extra={"enum": PROFESSION_CODES},
    ),
]
