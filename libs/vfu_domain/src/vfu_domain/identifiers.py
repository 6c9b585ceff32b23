"""Validation of Swedish organisation identifiers, as functions and as pydantic types.

* Organisationsnummer: 10 digits, written ``NNNNNNNNNN`` or ``NNNNNN-NNNN``. The last digit
  is a Luhn (mod 10) check digit over the first nine, and the third digit is at least 2,
  which keeps legal-entity numbers apart from personnummer (whose third and fourth digits
  are a month, 01-12). Sole traders, who use their personnummer, are therefore rejected
  on purpose: the platform deals with regions, municipalities and universities only.
* HSA-id: ``SE`` + organisationsnummer + ``-`` + a local part, at most 31 characters.

The ``Annotated`` types (:data:`OrganisationNumber`, :data:`HsaId`) can be used directly as
fields of pydantic models and API schemas; they refuse with the error types
``invalid_organisationsnummer`` and ``invalid_hsa_id``. (Reference codes such as the
municipality code are in :mod:`vfu_domain.codes`.)
"""

from __future__ import annotations

import re
from typing import Annotated, Final

from pydantic import AfterValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

__all__ = [
    "HsaId",
    "OrganisationNumber",
    "is_valid_hsa_id",
    "is_valid_organisationsnummer",
    "luhn_check_digit",
    "normalise_organisationsnummer",
]

# ``[0-9]`` rather than ``\d``: ``\d`` also matches non-ASCII digits (full-width,
# Arabic-Indic, ...), which int() would happily accept and which must never reach storage.
_NINE_DIGITS: Final = re.compile(r"[0-9]{9}")
_ORGANISATIONSNUMMER: Final = re.compile(r"([0-9]{6})-?([0-9]{4})")
_HSA_ID: Final = re.compile(r"SE([0-9]{10})-[A-Za-z0-9]+")
_HSA_ID_MAX_LENGTH: Final = 31


def luhn_check_digit(nine_digits: str) -> int:
    """Compute the Luhn (mod 10) check digit of the first nine digits of a number.

    Weights alternate 2, 1, 2, ... from the left; two-digit products contribute the sum
    of their digits.

    Args:
        nine_digits: Exactly nine ASCII digits.

    Returns:
        The check digit, 0-9.

    Raises:
        ValueError: If ``nine_digits`` is not exactly nine ASCII digits.
    """
    if not _NINE_DIGITS.fullmatch(nine_digits):
        raise ValueError(f"expected exactly 9 digits, got {nine_digits!r}")
    total = 0
    for index, char in enumerate(nine_digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        # Subtracting 9 equals summing the digits of a two-digit product (at most 18).
        total += product - 9 if product > 9 else product
    return (10 - total % 10) % 10


def normalise_organisationsnummer(value: str) -> str:
    """Validate an organisationsnummer and return it as 10 digits without a hyphen.

    Args:
        value: The number as ``NNNNNNNNNN`` or ``NNNNNN-NNNN``.

    Returns:
        The 10-digit form, e.g. ``"2321000016"`` for ``"232100-0016"``.

    Raises:
        ValueError: If the value is not in one of the two accepted forms, its third digit
            is below 2, or its check digit is wrong.
    """
    match = _ORGANISATIONSNUMMER.fullmatch(value)
    if match is None:
        raise ValueError(
            f"organisationsnummer must be 10 digits, written NNNNNNNNNN or NNNNNN-NNNN; "
            f"got {value!r}"
        )
    digits = match.group(1) + match.group(2)
    if int(digits[2]) < 2:
        raise ValueError(
            f"organisationsnummer {value!r} has third digit {digits[2]}; it must be at least "
            "2 (a third digit of 0 or 1 indicates a personnummer)"
        )
    expected = luhn_check_digit(digits[:9])
    if int(digits[9]) != expected:
        raise ValueError(
            f"organisationsnummer {value!r} has check digit {digits[9]}; expected {expected}"
        )
    return digits


def is_valid_organisationsnummer(value: str) -> bool:
    """Tell whether a value is a valid organisationsnummer.

    Args:
        value: The number as ``NNNNNNNNNN`` or ``NNNNNN-NNNN``.

    Returns:
        True if the form, the third digit (at least 2) and the Luhn check digit are all
        correct.
    """
    try:
        normalise_organisationsnummer(value)
    except ValueError:
        return False
    return True


def is_valid_hsa_id(value: str) -> bool:
    """Tell whether a value is a well-formed HSA-id.

    Args:
        value: Candidate such as ``"SE2321000016-1234"``.

    Returns:
        True if the value is ``SE``, a valid 10-digit organisationsnummer, ``-`` and a
        local part of one or more ASCII letters or digits, at most 31 characters in all.
    """
    if len(value) > _HSA_ID_MAX_LENGTH:
        return False
    match = _HSA_ID.fullmatch(value)
    return match is not None and is_valid_organisationsnummer(match.group(1))


def _organisation_number(value: str) -> str:
    try:
        return normalise_organisationsnummer(value)
    except ValueError as exc:
        raise PydanticCustomError("invalid_organisationsnummer", str(exc)) from None


def _hsa_id(value: str) -> str:
    if not is_valid_hsa_id(value):
        raise PydanticCustomError(
            "invalid_hsa_id",
            "an HSA-id is 'SE', a valid 10-digit organisationsnummer, '-' and 1 or more letters "
            f"or digits, at most {_HSA_ID_MAX_LENGTH} characters",
        )
    return value


# JSON Schema patterns are unanchored (they match anywhere in the string), hence the
# explicit ^...$ around the regexes that the validators apply with fullmatch(). A pattern
# cannot say "Luhn check digit", so each type also names its ``format``: a client that
# knows the format (the schema-driven tests register a generator for each) can produce
# valid values, and one that does not still gets the pattern.

#: An organisationsnummer; accepts ``NNNNNNNNNN`` or ``NNNNNN-NNNN``, stores 10 digits.
OrganisationNumber = Annotated[
    str,
    AfterValidator(_organisation_number),
    Field(
        description="Swedish organisationsnummer: 10 digits (a hyphen after the sixth is "
        "accepted), the third at least 2, the last a Luhn check digit over the first nine",
        examples=["2321000016"],
        json_schema_extra={
            "pattern": f"^{_ORGANISATIONSNUMMER.pattern}$",
            "format": "organisationsnummer",
        },
    ),
]

#: An HSA-id: ``SE`` + organisationsnummer + ``-`` + local part, at most 31 characters.
#: Surrounding whitespace is dropped (spreadsheet cells often carry it).
HsaId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=_HSA_ID_MAX_LENGTH),
    AfterValidator(_hsa_id),
    Field(
        description="HSA-id: 'SE', a valid organisationsnummer, '-', a local part of letters "
        "or digits; at most 31 characters",
        examples=["SE2321000016-1234"],
        json_schema_extra={
            "pattern": f"^{_HSA_ID.pattern}$",
            "format": "hsa-id",
        },
    ),
]
