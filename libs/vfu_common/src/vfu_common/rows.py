"""Typed rows: the dataclass a Core query's rows become, checked against its table.

Hot paths use Core statements rather than the ORM, and their rows used to travel as
mappings indexed by column name: a typo was a ``KeyError`` at run time and nothing told a
reader what a row holds. A row dataclass names and types every column once; ``row_of``
checks at import that its fields are exactly the table's columns, so a column added to
one and not the other fails the service's start (and every test), not a request.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from sqlalchemy import Result, Table

T = TypeVar("T")


def row_of(table: Table) -> Callable[[type[T]], type[T]]:
    """Class decorator: the dataclass is the row type of ``table`` (same column names)."""

    def bind(cls: type[T]) -> type[T]:
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"{cls.__name__} must be a dataclass to be a row of {table.name}")
        fields = {field.name for field in dataclasses.fields(cls)}
        columns = {column.key for column in table.columns}
        if fields != columns:
            raise TypeError(
                f"{cls.__name__} does not match table {table.name}: "
                f"columns without a field {sorted(columns - fields)}, "
                f"fields without a column {sorted(fields - columns)}"
            )
        return cls

    return bind


def one_as(cls: type[T], result: Result[Any]) -> T | None:
    """The one row of ``result`` as ``cls``, or None when there is none."""
    row = result.mappings().one_or_none()
    return None if row is None else cls(**row)


def all_as(cls: type[T], rows: Result[Any] | Iterable[Mapping[str, Any]]) -> list[T]:
    """Every row of ``rows`` (a result, or mappings) as ``cls``."""
    mappings = rows.mappings() if isinstance(rows, Result) else rows
    return [cls(**row) for row in mappings]


def values_of(row: object) -> dict[str, Any]:
    """A row dataclass's fields as a dict (a shallow copy: for writes and serialising)."""
    return dict(vars(row))
