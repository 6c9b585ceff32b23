"""Failures of authentication that are not the caller's fault."""

from __future__ import annotations


class AuthStoreUnavailableError(Exception):
    """The gateway database could not be asked about a credential: answer 503, not 401."""
