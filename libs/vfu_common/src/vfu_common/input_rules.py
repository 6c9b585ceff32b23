"""How a request model states in its JSON Schema every rule it enforces.

A client generating requests from the OpenAPI (a form builder, a code generator, a
schema-driven fuzzer) should have every request it builds accepted unless the domain
forbids it. Most rules map onto JSON Schema keywords directly (pattern, length, enum,
range, format); these helpers cover the three that pydantic does not state by itself:

* :data:`NOT_BLANK`: text whose surrounding whitespace is dropped must hold another
  character, else it is empty after stripping and refused as too short;
* :func:`never_null`: a field of a partial update that may be left out but not cleared
  (``null`` would leave a required value empty);
* :func:`cross_field_rules`: rules over several fields (an end before a start, a date
  outside a term), which JSON Schema cannot express; the model lists each rule's stable
  error type and a sentence under ``x-rules``, and refuses with exactly those types.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import Field
from pydantic.fields import FieldInfo

__all__ = ["NOT_BLANK", "RULES_KEY", "cross_field_rules", "never_null"]

#: The JSON Schema extension naming a model's cross-field rules.
RULES_KEY: Final = "x-rules"

# Whitespace as Python's str.isspace() sees it, a superset of the Unicode White_Space that
# pydantic strips (so the schema never admits a value that strips to nothing). All of it is
# in the Basic Multilingual Plane, so each is written \uXXXX, which JSON Schema's ECMA-262
# regexes and Python's both read. Not ``\S``: regex engines disagree on what it covers.
_WHITESPACE: Final = "".join(f"\\u{code:04x}" for code in range(0x10000) if chr(code).isspace())

#: For ``Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, ...), NOT_BLANK]``.
#: (An unanchored JSON Schema pattern matches anywhere: one other character suffices.)
NOT_BLANK: Final[FieldInfo] = Field(json_schema_extra={"pattern": f"[^{_WHITESPACE}]"})


def _drop_null(schema: dict[str, Any]) -> None:
    options = schema.get("anyOf")
    if not isinstance(options, list):
        return
    kept = [option for option in options if option.get("type") != "null"]
    del schema["anyOf"]
    if len(kept) == 1:
        schema.update(kept[0])
    else:
        schema["anyOf"] = kept


def never_null(**field: Any) -> Any:
    """``Field(default=None, ...)`` of a partial update, documented without ``null``.

    The Python type stays ``X | None`` (``None`` means "not sent"); the schema says
    ``X`` only, because a ``null`` sent for such a field is refused.
    """
    return Field(default=None, json_schema_extra=_drop_null, **field)


def cross_field_rules(**rules: str) -> dict[str, Any]:
    """A model's ``json_schema_extra`` listing its cross-field rules by error type."""
    return {RULES_KEY: dict(sorted(rules.items()))}
