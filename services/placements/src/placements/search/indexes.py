"""Indexes on ``capacity_offers`` that the portal search needs (migrations 0007, 0009).

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

Added by migration 0009:

* ``(status, profession_code, term, free places, id)``, free places being the expression
  ``places - held_places - confirmed_places``: "most free places first" for a profession
  and term reads the page in index order instead of sorting every match (16 ms to
  0.2 ms on SQLite over 8,000 matches). It is the one index a booking's counter update
  rewrites; an index entry per transition is noise beside the booking's round trips.
* ``(status, profession_code, latitude, longitude)``: a distance search with a
  profession but no term reads that profession's offers in the latitude band only
  (30 km around Göteborg: 11.6 ms to 9 ms).

Every index begins with ``status`` because closed and withdrawn offers pile up term after
term while the search reads published ones only.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import Index, text

from placements.offers.models import capacity_offers

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

# Migration 0009. FREE_PLACES stands for the expression the search sorts by, which must
# be written exactly as ``_FREE_PLACES`` in search/repository.py for the index to serve it.
FREE_PLACES: Final = "(places - held_places - confirmed_places)"
SEARCH_INDEXES_0009: Final = {
    "ix_capacity_offers_search_free_places": (
        "status",
        "profession_code",
        "term",
        FREE_PLACES,
        "id",
    ),
    "ix_capacity_offers_search_profession_location": (
        "status",
        "profession_code",
        "latitude",
        "longitude",
    ),
}


def _column(name: str) -> Any:
    # The expression as text, as PostgreSQL reflects it, so the
    # schema comparison of models and migrations sees the same index.
    return text(name) if name == FREE_PLACES else capacity_offers.c[name]


# Declared on the table, so the models describe the schema migrations 0007 and 0009 create.
for _name, _columns in (SEARCH_INDEXES | SEARCH_INDEXES_0009).items():
    Index(_name, *(_column(column) for column in _columns))
