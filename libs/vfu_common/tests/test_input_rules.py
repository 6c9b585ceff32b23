"""The helpers that make a request model's JSON Schema state its rules."""

from __future__ import annotations

import re
import sys
from typing import Annotated

import pytest
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError
from vfu_common.input_rules import NOT_BLANK, RULES_KEY, cross_field_rules, never_null

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), NOT_BLANK]


class _Change(BaseModel):
    model_config = ConfigDict(json_schema_extra=cross_field_rules(b_rule="b", a_rule="a"))

    name: Text | None = never_null()
    note: Text | None = None


def test_never_null_keeps_the_field_optional_but_documents_no_null() -> None:
    properties = _Change.model_json_schema()["properties"]
    assert properties["name"]["type"] == "string"
    assert "anyOf" not in properties["name"]
    assert {"type": "null"} in properties["note"]["anyOf"]  # a clearable field keeps null
    assert _Change().name is None  # leaving it out is still fine


def test_cross_field_rules_are_listed_by_error_type() -> None:
    assert _Change.model_json_schema()[RULES_KEY] == {"a_rule": "a", "b_rule": "b"}


def test_not_blank_refuses_in_the_schema_exactly_what_strips_to_nothing() -> None:
    pattern = re.compile(_Change.model_json_schema()["properties"]["name"]["pattern"])
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        assert (pattern.search(char) is None) == char.isspace(), hex(code)


@pytest.mark.parametrize("blank", [" ", "\u0085", "\u3000 \t"])
def test_text_that_strips_to_nothing_is_refused(blank: str) -> None:
    with pytest.raises(ValidationError):
        _Change(name=blank)
    assert re.search(_Change.model_json_schema()["properties"]["name"]["pattern"], blank) is None
