"""The gateway's own database: signing keys, OAuth clients and API keys.

Secrets are never stored: clients keep an scrypt hash of their secret, API keys a keyed
hash of theirs (ADR 13). Nothing is deleted: revoking or retiring stamps a time, so
``vfu ... list`` still shows what existed and when it stopped working.
"""

from __future__ import annotations

from sqlalchemy import Column, String, Table, Text, Uuid
from vfu_common.db import UtcDateTime, new_metadata

metadata = new_metadata()

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("algorithm", String(16), nullable=False),
    # Erased (NULL) when the key is retired: it will never sign again.
    Column("private_key_pem", Text, nullable=True),
    Column("public_jwk", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # Published in the JWKS from creation, signing only from here: every replica (and any
    # cache of the JWKS) knows the key before the first token signed with it exists.
    Column("activates_at", UtcDateTime, nullable=False),
    Column("retired_at", UtcDateTime, nullable=True),
)

oauth_clients = Table(
    "oauth_clients",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("organisation_id", Uuid, nullable=True),
    Column("roles", String(200), nullable=False),  # space-separated, like an OAuth scope
    Column("secret_hash", String(255), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(16), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("organisation_id", Uuid, nullable=True),
    Column("roles", String(200), nullable=False),
    Column("key_salt", String(64), nullable=False),
    Column("key_hash", String(128), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
)
