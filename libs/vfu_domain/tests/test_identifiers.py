"""Tests of organisationsnummer, HSA-id and municipality-code validation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from vfu_domain.codes import MunicipalityCode
from vfu_domain.identifiers import (
    HsaId,
    OrganisationNumber,
    is_valid_hsa_id,
    is_valid_organisationsnummer,
    luhn_check_digit,
    normalise_organisationsnummer,
)
from vfu_testing.identifier_strategies import hsa_ids, organisation_numbers

# Public organisation numbers of public bodies (regions, a university); no personal data.
# Examples with a third digit below 2 use month/day "00", which no personnummer has.

_digit = st.sampled_from("0123456789")


def _nine_digits(third: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(
        st.text(alphabet="0123456789", min_size=2, max_size=2),
        third,
        st.text(alphabet="0123456789", min_size=6, max_size=6),
    ).map("".join)


def _fullwidth(ascii_digits: str) -> str:
    """Return the digits as FULLWIDTH DIGIT characters, which str.isdigit() accepts."""
    return "".join(chr(0xFF10 + int(d)) for d in ascii_digits)


def _arabic_indic(ascii_digits: str) -> str:
    """Return the digits as ARABIC-INDIC DIGIT characters, which int() accepts."""
    return "".join(chr(0x0660 + int(d)) for d in ascii_digits)


nine_digits_valid_third = _nine_digits(st.sampled_from("23456789"))
nine_digits_low_third = _nine_digits(st.sampled_from("01"))


# --- luhn_check_digit -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nine", "expected"),
    [
        ("232100001", 6),  # Region Stockholm 2321000016
        ("202100297", 3),  # Karolinska institutet 2021002973
        ("212000014", 2),  # Stockholms kommun 2120000142
        ("802006874", 1),  # Sophiahemmet ideell förening 8020068741
        ("000000000", 0),
        ("550000000", 4),
    ],
)
def test_luhn_check_digit_known_values(nine: str, expected: int) -> None:
    assert luhn_check_digit(nine) == expected


@pytest.mark.parametrize(
    "bad", ["", "23210000", "2321000016", "23210000a", _fullwidth("232100001")]
)
def test_luhn_check_digit_rejects_anything_but_nine_ascii_digits(bad: str) -> None:
    with pytest.raises(ValueError, match="9 digits"):
        luhn_check_digit(bad)


# --- organisationsnummer ----------------------------------------------------------------


@pytest.mark.parametrize("value", ["2321000016", "232100-0016"])
def test_normalise_accepts_both_forms(value: str) -> None:
    assert normalise_organisationsnummer(value) == "2321000016"
    assert is_valid_organisationsnummer(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "must be 10 digits"),
        ("232100001", "must be 10 digits"),  # 9 digits
        ("23210000166", "must be 10 digits"),  # 11 digits
        ("232100-00166", "must be 10 digits"),
        ("23210-00016", "must be 10 digits"),  # hyphen in the wrong place
        ("232100--0016", "must be 10 digits"),
        ("232100 0016", "must be 10 digits"),
        ("232100\u20130016", "must be 10 digits"),  # en dash
        (" 2321000016", "must be 10 digits"),
        ("2321000016\n", "must be 10 digits"),
        ("23210OOO16", "must be 10 digits"),  # letter O for zero
        ("SE2321000016", "must be 10 digits"),
        (_fullwidth("2321000016"), "must be 10 digits"),  # full-width digits
        ("0000000000", "third digit 0"),  # Luhn-valid but third digit < 2
        ("5500000004", "third digit 0"),
        ("550000-0004", "third digit 0"),
        ("2210000000", "third digit 1"),
        ("2321000017", "check digit 7; expected 6"),
        ("232100-0010", "check digit 0; expected 6"),
        ("2021002974", "check digit 4; expected 3"),
    ],
)
def test_invalid_organisationsnummer_is_rejected(value: str, message: str) -> None:
    assert not is_valid_organisationsnummer(value)
    with pytest.raises(ValueError, match=message):
        normalise_organisationsnummer(value)


@given(nine=nine_digits_valid_third, last=_digit)
def test_property_only_the_computed_check_digit_validates(nine: str, last: str) -> None:
    check = luhn_check_digit(nine)
    assert is_valid_organisationsnummer(f"{nine}{check}")
    assert normalise_organisationsnummer(f"{nine[:6]}-{nine[6:]}{check}") == f"{nine}{check}"
    if int(last) != check:
        assert not is_valid_organisationsnummer(nine + last)


@given(nine=nine_digits_low_third)
def test_property_third_digit_below_two_never_validates(nine: str) -> None:
    assert not is_valid_organisationsnummer(f"{nine}{luhn_check_digit(nine)}")


@given(nine=nine_digits_valid_third, position=st.integers(0, 8), replacement=_digit)
def test_property_any_single_digit_error_is_detected(
    nine: str, position: int, replacement: str
) -> None:
    # The Luhn weights 1 and 2 are both bijective on 0-9 (mod 10, after digit summing),
    # so changing one digit always changes the check digit.
    changed = nine[:position] + replacement + nine[position + 1 :]
    if changed != nine:
        assert luhn_check_digit(changed) != luhn_check_digit(nine)


# --- HSA-id -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "SE2321000016-1234",
        "SE2321000016-A",
        "SE2120000142-abcXYZ09",
        "SE2321000016-" + "A" * 18,  # exactly 31 characters
    ],
)
def test_valid_hsa_ids(value: str) -> None:
    assert is_valid_hsa_id(value)


@pytest.mark.parametrize(
    "value",
    [
        "SE2321000016-" + "A" * 19,  # 32 characters, one too many
        "SX2321000016-1234",  # wrong prefix
        "se2321000016-1234",  # prefix is upper case
        "2321000016-1234",  # no prefix
        "SE2321000017-1234",  # bad check digit
        "SE0000000000-1234",  # third digit < 2
        "SE232100001-1234",  # 9-digit organisationsnummer
        "SE232100-0016-1234",  # hyphenated organisationsnummer
        "SE2321000016-",  # empty local part
        "SE2321000016",  # no local part
        "SE23210000161234",  # no separator
        "SE2321000016-12_4",  # character outside [A-Za-z0-9]
        "SE2321000016-12 4",
        "SE2321000016-ÅÄÖ",
        "SE2321000016-1234\n",
        "",
    ],
)
def test_invalid_hsa_ids(value: str) -> None:
    assert not is_valid_hsa_id(value)


# --- pydantic types ---------------------------------------------------------------------


class _Unit(BaseModel):
    org_number: OrganisationNumber
    municipality: MunicipalityCode
    hsa_id: HsaId


def test_pydantic_types_accept_and_normalise() -> None:
    unit = _Unit(org_number="232100-0016", municipality="0180", hsa_id="SE2321000016-1234")
    assert unit.org_number == "2321000016"
    assert unit.municipality == "0180"
    assert unit.hsa_id == "SE2321000016-1234"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("org_number", "2321000017", "check digit"),
        ("org_number", "0000000000", "third digit"),
        ("org_number", "12345", "must be 10 digits"),
        ("org_number", 2321000016, "valid string"),  # ints would lose leading zeros
        ("municipality", "9999", "unknown municipality code"),
        ("municipality", "180", "unknown municipality code"),
        ("municipality", _arabic_indic("0180"), "unknown municipality code"),  # Arabic-Indic
        ("municipality", 180, "valid string"),
        ("hsa_id", "SE2321000017-1234", "HSA-id"),
        ("hsa_id", "SE2321000016-" + "A" * 19, "at most 31 characters"),
    ],
)
def test_pydantic_types_reject_invalid(field: str, value: object, message: str) -> None:
    data: dict[str, object] = {
        "org_number": "2321000016",
        "municipality": "0180",
        "hsa_id": "SE2321000016-1234",
        field: value,
    }
    with pytest.raises(ValidationError, match=message) as excinfo:
        _Unit.model_validate(data)
    errors = excinfo.value.errors()
    assert len(errors) == 1
    assert errors[0]["loc"] == (field,)


def test_pydantic_json_schema_documents_the_formats() -> None:
    properties = _Unit.model_json_schema()["properties"]
    assert properties["org_number"]["pattern"] == "^([0-9]{6})-?([0-9]{4})$"
    assert properties["municipality"]["pattern"] == "^[0-9]{4}$"
    assert properties["hsa_id"]["maxLength"] == 31
    assert properties["hsa_id"]["examples"] == ["SE2321000016-1234"]
    # A pattern cannot state a check digit or a reference list: the format and enum do.
    assert properties["org_number"]["format"] == "organisationsnummer"
    assert properties["hsa_id"]["format"] == "hsa-id"
    assert len(properties["municipality"]["enum"]) == 290
    assert "0180" in properties["municipality"]["enum"]


@pytest.mark.parametrize(
    ("field", "value", "error_type"),
    [
        ("org_number", "2321000017", "invalid_organisationsnummer"),
        ("municipality", "9999", "unknown_municipality"),
        ("hsa_id", "SE2321000017-1234", "invalid_hsa_id"),
    ],
)
def test_pydantic_types_refuse_with_stable_error_types(
    field: str, value: str, error_type: str
) -> None:
    data = {"org_number": "2321000016", "municipality": "0180", "hsa_id": "SE2321000016-1"}
    with pytest.raises(ValidationError) as excinfo:
        _Unit.model_validate({**data, field: value})
    assert [error["type"] for error in excinfo.value.errors()] == [error_type]


@given(organisation_numbers())
def test_the_test_support_generates_valid_organisation_numbers(value: str) -> None:
    assert is_valid_organisationsnummer(value)


@given(hsa_ids())
def test_the_test_support_generates_valid_hsa_ids(value: str) -> None:
    assert is_valid_hsa_id(value)
