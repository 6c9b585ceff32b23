"""The audit log every service keeps: one append-only record per mutating request.

``tables`` declares the table (and the database triggers that keep it append-only),
``middleware`` writes a record when a mutating request's response starts, and ``router``
serves ``GET /api/v1/<service>/audit``. ``create_service_app`` installs both, so no
service carries its own copy (ADR 0011).
"""
