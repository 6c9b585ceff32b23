"""Indexes on ``capacity_offers`` that the portal search needs (migration 0007).

Chosen by ``bench/search_latency.py`` over 100,000 published offers, on SQLite and
PostgreSQL, for the query shapes portals send most:

* ``(status, start_date, id)``: the default order with few or no filters, and date
  windows (``starts_on_or_after``) — the first page is read in index order.
* ``(status, term, start_date, id)``: a term, in start order. It supersedes the older
  ``(status, term, start_date)`` for the search because it carries ``id``, the tie-break
  of the order: without it SQLite preferred walking the start-date index from the first
  term and filtering, 100-200 ms where this takes 1-5 ms.
* ``(status, profession_code, term, start_date, id)``: a profession, with or without a
  term — the commonest portal question.
* ``(status, latitude, longitude, term, profession_code)``: the bounding box of a distance
  search; term and profession are tested in the index, so only matching rows are read
  (50 km around Uppsala in one term: 12 ms instead of 31 ms on SQLite).

Every index begins with ``status`` because closed and withdrawn offers pile up term after
term while the search reads published ones only. None contains a place counter, so a
booking's counter update never rewrites these indexes.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import Index

from placements.offers.tables import TABLE, capacity_offers

SEARCH_INDEXES: Final = {
    "ix_capacity_offers_search_start": ("status", "start_date", "id"),
    "ix_capacity_offers_search_term": ("status", "term", "start_date", "id"),
    "ix_capacity_offers_search_profession": (
        "status",
        "profession_code",
        "term",
        "start_date",
        "id",
    ),
    "ix_capacity_offers_search_location": (
        "status",
        "latitude",
        "longitude",
        "term",
        "profession_code",
    ),
}

# Declared on the table too, so the models and the migrations describe the same schema.
for _name, _columns in SEARCH_INDEXES.items():
    Index(_name, *(capacity_offers.c[column] for column in _columns))


def create_search_indexes(op: Any) -> None:
    """Create the indexes from the migration."""
    for name, columns in SEARCH_INDEXES.items():
        op.create_index(name, TABLE, list(columns))


def drop_search_indexes(op: Any) -> None:
    """Drop them (downgrade)."""
    for name in SEARCH_INDEXES:
        op.drop_index(name, table_name=TABLE)
