"""Swedish reference data shipped with ``vfu_common`` as versioned seed data.

The CSV files in ``data/`` (provenance in ``data/SOURCES.md``, version in ``data/VERSION``)
are package resources: they travel inside the wheel and are read with
:mod:`importlib.resources`, so no service depends on a shared directory at run time.

Every loader is cached for the life of the process, and returns immutable values (frozen
dataclasses inside tuples or read-only mappings): the cached objects are shared by every
caller, so letting one caller mutate them would silently change them for all the others.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Final

__all__ = [
    "HEALTHCARE_REGIONS",
    "VFU_ORGANISATION_NAMESPACE",
    "County",
    "Municipality",
    "Profession",
    "University",
    "counties",
    "data_version",
    "healthcare_region_for_municipality",
    "is_known_municipality",
    "municipalities",
    "organisation_id_for_number",
    "professions",
    "universities",
]

#: The six healthcare regions (sjukvårdsregioner), north to south as usually listed.
HEALTHCARE_REGIONS: Final[tuple[str, ...]] = (
    "Norra",
    "Mellansverige",
    "Stockholm",
    "Sydöstra",
    "Södra",
    "Västra",
)

#: Namespace of the deterministic ids of reference organisations (UUIDv5 of the number).
#: Regions, municipalities and universities from this data get the id
#: ``uuid5(VFU_ORGANISATION_NAMESPACE, organisationsnummer)`` instead of a random UUIDv7,
#: so development keys, demo data and tests can name an organisation before it exists and
#: every fresh database agrees on it. Never change this value: ids already issued derive
#: from it. (It is uuid5(NAMESPACE_URL, "urn:vfu:organisation"), written out as a literal.)
VFU_ORGANISATION_NAMESPACE: Final[uuid.UUID] = uuid.UUID("a0ea818a-df07-5162-9096-d7dde234dc51")


def organisation_id_for_number(organisation_number: str) -> uuid.UUID:
    """Return the deterministic id of a reference organisation.

    Args:
        organisation_number: The 10-digit organisationsnummer, without a hyphen.

    Returns:
        ``uuid5(VFU_ORGANISATION_NAMESPACE, organisation_number)``.
    """
    return uuid.uuid5(VFU_ORGANISATION_NAMESPACE, organisation_number)


@dataclass(frozen=True, slots=True)
class County:
    """A county (län) and the region responsible for healthcare in it.

    Attributes:
        lan_code: Two-digit SCB county code, e.g. ``"01"``.
        iso_3166_2: ISO 3166-2 subdivision code, e.g. ``"SE-AB"``.
        name: County name, e.g. ``"Stockholms län"``.
        region_name: Name of the region, e.g. ``"Region Stockholm"``.
        region_org_number: The region's organisationsnummer, 10 digits.
        org_number_verified: False where only secondary sources gave the number; treat
            those as to be confirmed (see ``SOURCES.md``).
    """

    lan_code: str
    iso_3166_2: str
    name: str
    region_name: str
    region_org_number: str
    org_number_verified: bool


@dataclass(frozen=True, slots=True)
class Municipality:
    """A municipality (kommun).

    Attributes:
        code: Four-digit SCB municipality code, e.g. ``"0180"``.
        name: Municipality name.
        lan_code: Two-digit code of the county it lies in.
        healthcare_region: One of :data:`HEALTHCARE_REGIONS`.
        org_number: The municipality's organisationsnummer, 10 digits.
    """

    code: str
    name: str
    lan_code: str
    healthcare_region: str
    org_number: str


@dataclass(frozen=True, slots=True)
class Profession:
    """A licensed healthcare profession (legitimationsyrke).

    Attributes:
        code: Project slug, e.g. ``"sjukskoterska"``; not an official code.
        name_sv: Swedish name.
        name_en: English name.
    """

    code: str
    name_sv: str
    name_en: str


@dataclass(frozen=True, slots=True)
class University:
    """A higher-education institution with licensed healthcare programmes.

    Attributes:
        name: Institution name.
        org_number: Organisationsnummer, or None where no public source gave one.
        kommun_code: Code of the municipality of the institution's main seat.
    """

    name: str
    org_number: str | None
    kommun_code: str


def _read_text(filename: str) -> str:
    # ``__name__`` is this package, so the lookup works from a wheel, a zip or a checkout.
    return resources.files(__name__).joinpath("data", filename).read_text(encoding="utf-8")


def _read_csv(filename: str, columns: Sequence[str]) -> list[dict[str, str]]:
    """Read a bundled CSV and insist on its exact header.

    Checking the header turns a column renamed or reordered in a future data update into
    a clear error here instead of a ``KeyError`` or silently wrong values elsewhere.
    """
    reader = csv.DictReader(io.StringIO(_read_text(filename), newline=""))
    if reader.fieldnames != list(columns):
        raise ValueError(
            f"reference data {filename}: expected columns {list(columns)}, "
            f"found {reader.fieldnames}"
        )
    return list(reader)


def _parse_yes_no(value: str, *, filename: str) -> bool:
    # Anything but an explicit yes/no is a data error, not an implicit "no".
    if value == "yes":
        return True
    if value == "no":
        return False
    raise ValueError(f"reference data {filename}: expected 'yes' or 'no', found {value!r}")


@cache
def data_version() -> str:
    """Return the version of the bundled reference data.

    Returns:
        The first line of ``data/VERSION``, the date the data was compiled
        (``YYYY-MM-DD``).
    """
    return _read_text("VERSION").splitlines()[0].strip()


@cache
def counties() -> tuple[County, ...]:
    """Return the 21 counties in SCB code order.

    Returns:
        One :class:`County` per county.
    """
    filename = "lan.csv"
    rows = _read_csv(
        filename,
        (
            "lan_code",
            "iso_3166_2",
            "name",
            "region_name",
            "region_org_number",
            "org_number_verified",
        ),
    )
    return tuple(
        County(
            lan_code=row["lan_code"],
            iso_3166_2=row["iso_3166_2"],
            name=row["name"],
            region_name=row["region_name"],
            region_org_number=row["region_org_number"],
            org_number_verified=_parse_yes_no(row["org_number_verified"], filename=filename),
        )
        for row in rows
    )


@cache
def municipalities() -> Mapping[str, Municipality]:
    """Return the 290 municipalities keyed by their four-digit code.

    Returns:
        A read-only mapping from municipality code (e.g. ``"0180"``) to
        :class:`Municipality`, in SCB code order.

    Raises:
        ValueError: If the bundled data names a healthcare region outside
            :data:`HEALTHCARE_REGIONS` or repeats a code.
    """
    filename = "kommuner.csv"
    rows = _read_csv(filename, ("kommun_code", "name", "lan_code", "sjukvardsregion", "org_number"))
    result: dict[str, Municipality] = {}
    for row in rows:
        code = row["kommun_code"]
        region = row["sjukvardsregion"]
        # Checked here so that a typo in a region name can never reach an API response.
        if region not in HEALTHCARE_REGIONS:
            raise ValueError(f"reference data {filename}: unknown region {region!r} for {code}")
        if code in result:
            raise ValueError(f"reference data {filename}: duplicate code {code}")
        result[code] = Municipality(
            code=code,
            name=row["name"],
            lan_code=row["lan_code"],
            healthcare_region=region,
            org_number=row["org_number"],
        )
    return MappingProxyType(result)


def is_known_municipality(code: str) -> bool:
    """Tell whether a code is one of the bundled municipality codes.

    Args:
        code: Candidate four-digit municipality code, e.g. ``"0180"``.

    Returns:
        True if the code is in the reference data.
    """
    return code in municipalities()


def healthcare_region_for_municipality(code: str) -> str:
    """Return the healthcare region a municipality belongs to.

    The region is looked up per municipality, not per county, because Halland is split:
    Halmstad, Hylte and Laholm belong to Södra, Falkenberg, Varberg and Kungsbacka to
    Västra.

    Args:
        code: Four-digit municipality code, e.g. ``"1380"``.

    Returns:
        One of :data:`HEALTHCARE_REGIONS`.

    Raises:
        KeyError: If the code is not a known municipality code.
    """
    try:
        return municipalities()[code].healthcare_region
    except KeyError:
        raise KeyError(f"unknown municipality code: {code!r}") from None


@cache
def professions() -> Mapping[str, Profession]:
    """Return the 22 licensed healthcare professions keyed by their project slug.

    Returns:
        A read-only mapping from slug (e.g. ``"lakare"``) to :class:`Profession`.
    """
    rows = _read_csv("legitimationsyrken.csv", ("code", "name_sv", "name_en"))
    return MappingProxyType(
        {
            row["code"]: Profession(
                code=row["code"], name_sv=row["name_sv"], name_en=row["name_en"]
            )
            for row in rows
        }
    )


@cache
def universities() -> tuple[University, ...]:
    """Return the universities with licensed healthcare programmes.

    Returns:
        One :class:`University` per institution, in file order; ``org_number`` is None
        where the data has no number.
    """
    rows = _read_csv("larosaten.csv", ("name", "org_number", "kommun_code"))
    return tuple(
        University(
            name=row["name"],
            # An empty cell means "no public source found", which None states explicitly.
            org_number=row["org_number"] or None,
            kommun_code=row["kommun_code"],
        )
        for row in rows
    )
