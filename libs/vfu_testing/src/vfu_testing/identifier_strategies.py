"""Hypothesis strategies for the identifier formats the OpenAPI names.

``format: organisationsnummer`` and ``format: hsa-id`` state what a pattern cannot (the
Luhn check digit, the third digit of a legal entity); a schema-driven test registers these
strategies for them, as any client generating data from the schema would need to.
The numbers are synthetic legal-entity numbers (third digit 2 or more, so never a
personnummer), not real organisations' numbers.
"""

from __future__ import annotations

import string

from hypothesis import strategies as st
from vfu_domain.identifiers import luhn_check_digit

__all__ = ["hsa_ids", "organisation_numbers"]

_DIGITS = "0123456789"


@st.composite
def _ten_digits(draw: st.DrawFn) -> str:
    nine = (
        draw(st.text(_DIGITS, min_size=2, max_size=2))
        + draw(st.sampled_from("23456789"))
        + draw(st.text(_DIGITS, min_size=6, max_size=6))
    )
    return nine + str(luhn_check_digit(nine))


def organisation_numbers() -> st.SearchStrategy[str]:
    """Valid organisationsnummer, written ``NNNNNNNNNN`` or ``NNNNNN-NNNN``."""
    return st.tuples(_ten_digits(), st.booleans()).map(
        lambda drawn: f"{drawn[0][:6]}-{drawn[0][6:]}" if drawn[1] else drawn[0]
    )


def hsa_ids() -> st.SearchStrategy[str]:
    """Valid HSA-ids: ``SE``, an organisationsnummer, ``-`` and a local part (31 at most)."""
    local = st.text(string.ascii_letters + _DIGITS, min_size=1, max_size=31 - 13)
    return st.tuples(_ten_digits(), local).map(lambda drawn: f"SE{drawn[0]}-{drawn[1]}")
