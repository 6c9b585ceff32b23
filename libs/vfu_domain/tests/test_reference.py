"""Tests of the bundled Swedish reference data and its loaders."""

from __future__ import annotations

import dataclasses
from collections import Counter
from importlib import resources

import pytest
from vfu_domain import reference
from vfu_domain.identifiers import is_valid_organisationsnummer
from vfu_domain.reference import (
    HEALTHCARE_REGIONS,
    counties,
    data_version,
    healthcare_region_for_municipality,
    is_known_municipality,
    municipalities,
    professions,
    universities,
)

# Per-county municipality counts as stated in data/SOURCES.md.
EXPECTED_PER_COUNTY = {
    "01": 26,
    "03": 8,
    "04": 9,
    "05": 13,
    "06": 13,
    "07": 8,
    "08": 12,
    "09": 1,
    "10": 5,
    "12": 33,
    "13": 6,
    "14": 49,
    "17": 16,
    "18": 12,
    "19": 10,
    "20": 15,
    "21": 10,
    "22": 7,
    "23": 8,
    "24": 15,
    "25": 14,
}

# Healthcare region by county as stated in data/SOURCES.md; Halland (13) is split.
EXPECTED_REGION_BY_COUNTY = {
    **dict.fromkeys(("22", "23", "24", "25"), "Norra"),
    **dict.fromkeys(("03", "04", "17", "18", "19", "20", "21"), "Mellansverige"),
    **dict.fromkeys(("01", "09"), "Stockholm"),
    **dict.fromkeys(("05", "06", "08"), "Sydöstra"),
    **dict.fromkeys(("07", "10", "12"), "Södra"),
    "14": "Västra",
}


def test_data_files_are_package_resources() -> None:
    data = resources.files(reference).joinpath("data")
    for name in (
        "lan.csv",
        "kommuner.csv",
        "legitimationsyrken.csv",
        "larosaten.csv",
        "SOURCES.md",
        "VERSION",
    ):
        assert data.joinpath(name).is_file(), name


def test_data_version() -> None:
    assert data_version() == "2026-11-22"


def test_healthcare_regions_constant() -> None:
    assert HEALTHCARE_REGIONS == (
        "Norra",
        "Mellansverige",
        "Stockholm",
        "Sydöstra",
        "Södra",
        "Västra",
    )


# --- counties ---------------------------------------------------------------------------


def test_twenty_one_counties_with_unique_codes() -> None:
    result = counties()
    assert len(result) == 21
    assert [c.lan_code for c in result] == list(EXPECTED_PER_COUNTY)
    assert len({c.iso_3166_2 for c in result}) == 21
    assert all(c.iso_3166_2.startswith("SE-") for c in result)


def test_county_row_values() -> None:
    by_code = {c.lan_code: c for c in counties()}
    assert by_code["01"] == reference.County(
        lan_code="01",
        iso_3166_2="SE-AB",
        name="Stockholms län",
        region_name="Region Stockholm",
        region_org_number="2321000016",
        org_number_verified=True,
    )
    assert by_code["25"].iso_3166_2 == "SE-BD"
    assert by_code["14"].region_name == "Västra Götalandsregionen"


def test_gotland_region_number_is_the_municipality_number() -> None:
    gotland = next(c for c in counties() if c.lan_code == "09")
    assert gotland.region_org_number == municipalities()["0980"].org_number == "2120000803"


def test_unverified_region_numbers_match_sources() -> None:
    unverified = {c.region_name for c in counties() if not c.org_number_verified}
    assert unverified == {
        "Region Östergötland",
        "Region Blekinge",
        "Region Skåne",
        "Region Halland",
        "Region Örebro län",
        "Region Gävleborg",
        "Region Västernorrland",
        "Region Västerbotten",
        "Region Norrbotten",
    }
    assert all(isinstance(c.org_number_verified, bool) for c in counties())


# --- municipalities ---------------------------------------------------------------------


def test_two_hundred_ninety_municipalities() -> None:
    assert len(municipalities()) == 290


def test_per_county_counts_match_sources() -> None:
    counts = Counter(m.lan_code for m in municipalities().values())
    assert dict(counts) == EXPECTED_PER_COUNTY


def test_municipality_codes_are_consistent() -> None:
    known_counties = {c.lan_code for c in counties()}
    for code, m in municipalities().items():
        assert m.code == code
        assert len(code) == 4
        assert code.isascii()
        assert code.isdigit()
        # SCB municipality codes begin with the county code.
        assert code[:2] == m.lan_code
        assert m.lan_code in known_counties


def test_municipality_org_numbers_are_distinct() -> None:
    assert len({m.org_number for m in municipalities().values()}) == 290


def test_municipality_row_values() -> None:
    assert municipalities()["0180"] == reference.Municipality(
        code="0180",
        name="Stockholm",
        lan_code="01",
        healthcare_region="Stockholm",
        org_number="2120000142",
    )
    assert municipalities()["0114"].name == "Upplands Väsby"
    assert municipalities()["2584"].name == "Kiruna"


@pytest.mark.parametrize(
    ("code", "name", "region"),
    [
        ("1380", "Halmstad", "Södra"),
        ("1315", "Hylte", "Södra"),
        ("1381", "Laholm", "Södra"),
        ("1382", "Falkenberg", "Västra"),
        ("1383", "Varberg", "Västra"),
        ("1384", "Kungsbacka", "Västra"),
    ],
)
def test_halland_is_split_by_municipality(code: str, name: str, region: str) -> None:
    assert municipalities()[code].name == name
    assert municipalities()[code].lan_code == "13"
    assert healthcare_region_for_municipality(code) == region


def test_regions_outside_halland_follow_the_county() -> None:
    for m in municipalities().values():
        if m.lan_code != "13":
            assert m.healthcare_region == EXPECTED_REGION_BY_COUNTY[m.lan_code], m


def test_every_region_has_municipalities() -> None:
    regions = {m.healthcare_region for m in municipalities().values()}
    assert regions == set(HEALTHCARE_REGIONS)


@pytest.mark.parametrize("code", ["9999", "0000", "180", "01800", "", "1300"])
def test_unknown_municipality_raises_key_error(code: str) -> None:
    assert not is_known_municipality(code)
    with pytest.raises(KeyError, match="unknown municipality code"):
        healthcare_region_for_municipality(code)


def test_is_known_municipality() -> None:
    assert is_known_municipality("0180")
    assert is_known_municipality("2584")
    assert not is_known_municipality("180")


# --- professions ------------------------------------------------------------------------


def test_twenty_two_professions() -> None:
    result = professions()
    assert len(result) == 22
    assert all(p.code == code for code, p in result.items())
    assert result["lakare"] == reference.Profession(
        code="lakare", name_sv="Läkare", name_en="Physician"
    )
    assert result["halso_och_sjukvardskurator"].name_sv == "Hälso- och sjukvårdskurator"
    # A protected title, not a licence.
    assert "underskoterska" not in result


# --- universities -----------------------------------------------------------------------


def test_universities() -> None:
    result = universities()
    assert len(result) == 25
    by_name = {u.name: u for u in result}
    assert by_name["Karolinska institutet"].org_number == "2021002973"
    assert by_name["Karolinska institutet"].kommun_code == "0184"
    assert by_name["Sophiahemmet Högskola"].org_number == "8020068741"
    assert by_name["Jönköping University"].org_number is None
    assert by_name["Marie Cederschiöld högskola"].org_number is None
    assert sum(u.org_number is None for u in result) == 2
    assert all(is_known_municipality(u.kommun_code) for u in result)


# --- organisation numbers in the data ----------------------------------------------------


def test_every_org_number_in_the_data_is_valid() -> None:
    numbers = [c.region_org_number for c in counties()]
    numbers += [m.org_number for m in municipalities().values()]
    numbers += [u.org_number for u in universities() if u.org_number is not None]
    assert len(numbers) == 21 + 290 + 23
    invalid = [n for n in numbers if not is_valid_organisationsnummer(n)]
    assert invalid == []
    # Stored without hyphen, so they compare equal to normalised API input.
    assert all(len(n) == 10 and n.isdigit() for n in numbers)


# --- immutability and caching -----------------------------------------------------------


def test_loaders_are_cached() -> None:
    assert counties() is counties()
    assert municipalities() is municipalities()
    assert professions() is professions()
    assert universities() is universities()


def test_loaded_data_is_read_only() -> None:
    with pytest.raises(TypeError):
        municipalities()["0180"] = municipalities()["0114"]  # type: ignore[index]
    with pytest.raises(TypeError):
        professions()["x"] = professions()["lakare"]  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        counties()[0].name = "x"  # type: ignore[misc]
