"""``POST /oauth/token``: the client credentials grant (RFC 6749 §4.4).

Errors follow RFC 6749 §5.2 (``{"error": "invalid_client"}``), not problem+json: OAuth
client libraries read that format. Client authentication is HTTP Basic (§2.3.1, id and
secret form-encoded before base64) or ``client_id``/``client_secret`` in the body, never
both. An optional ``scope`` (space-separated roles) narrows the token to those roles.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any
from urllib.parse import parse_qs, unquote_plus

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import JSONResponse
from vfu_common.db import Database

from gateway.auth.clients import authenticate_client
from gateway.auth.tokens import TokenIssuer

_log = logging.getLogger(__name__)
FORM = "application/x-www-form-urlencoded"
MAX_BODY_BYTES = 4096
GRANT_TYPE = "client_credentials"
# RFC 6749 §5.1: token responses must not be cached.
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthError(Exception):
    """An RFC 6749 §5.2 error response."""

    def __init__(
        self, error: str, description: str, *, status: int = 400, basic_used: bool = False
    ) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.basic_used = basic_used

    def response(self) -> JSONResponse:
        """The JSON error response."""
        headers = dict(_NO_STORE)
        if self.status == 401:
            # §5.2: a client that tried Basic gets the challenge for Basic.
            scheme = "Basic" if self.basic_used else "Bearer"
            headers["WWW-Authenticate"] = f'{scheme} realm="vfu"'
        body = {"error": self.error, "error_description": self.description}
        return JSONResponse(body, status_code=self.status, headers=headers)


async def _read_form(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM:
        raise OAuthError("invalid_request", f"send the parameters as {FORM}")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise OAuthError("invalid_request", "the request body is too large")
    try:
        parsed = parse_qs(body.decode(), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError) as exc:
        raise OAuthError("invalid_request", "the body is not form-encoded") from exc
    repeated = sorted(name for name, values in parsed.items() if len(values) > 1)
    if repeated:
        # §3.2: parameters must not appear more than once.
        raise OAuthError("invalid_request", f"repeated parameters: {', '.join(repeated)}")
    return {name: values[0] for name, values in parsed.items()}


def _basic_credentials(authorization: str) -> tuple[str, str]:
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        raise OAuthError("invalid_client", "use HTTP Basic authentication", status=401)
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise OAuthError(
            "invalid_client", "malformed Basic credentials", status=401, basic_used=True
        ) from exc
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise OAuthError(
            "invalid_client", "malformed Basic credentials", status=401, basic_used=True
        )
    return unquote_plus(client_id), unquote_plus(secret)


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str, bool]:
    """(client id, secret, whether Basic was used)."""
    authorization = request.headers.get("authorization")
    in_body = "client_id" in form or "client_secret" in form
    if authorization and in_body:
        raise OAuthError("invalid_request", "authenticate with one method, not two")
    if authorization:
        return (*_basic_credentials(authorization), True)
    client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    if not client_id or not secret:
        raise OAuthError("invalid_client", "client authentication is required", status=401)
    return client_id, secret, False


def _requested_roles(form: dict[str, str], granted: frozenset[str]) -> frozenset[str]:
    scope = form.get("scope")
    if scope is None:
        return granted
    requested = frozenset(scope.split())
    if not requested or not requested <= granted:
        raise OAuthError("invalid_scope", f"this client may ask for: {' '.join(sorted(granted))}")
    return requested


class TokenEndpoint:
    """Issues access tokens to registered clients."""

    def __init__(self, db: Database, issuer: TokenIssuer) -> None:
        self.db = db
        self.issuer = issuer

    async def __call__(self, request: Request) -> JSONResponse:
        try:
            return await self._token(request)
        except OAuthError as exc:
            return exc.response()

    async def _token(self, request: Request) -> JSONResponse:
        form = await _read_form(request)
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError("invalid_request", "grant_type is required")
        if grant_type != GRANT_TYPE:
            raise OAuthError("unsupported_grant_type", f"only {GRANT_TYPE} is supported")
        client_id, secret, basic = _client_credentials(request, form)
        try:
            client = await authenticate_client(self.db, client_id, secret)
        except (SQLAlchemyError, OSError) as exc:
            _log.warning("oauth: client store unavailable (%s)", exc)
            raise OAuthError("temporarily_unavailable", "try again shortly", status=503) from exc
        if client is None:
            _log.info("oauth: client authentication failed for %r", client_id[:64])
            raise OAuthError(
                "invalid_client", "unknown client or wrong secret", status=401, basic_used=basic
            )
        roles = _requested_roles(form, client.roles)
        try:
            issued = self.issuer.issue(client.client_id, client.organisation_id, roles)
        except LookupError as exc:
            raise OAuthError("temporarily_unavailable", "no signing key", status=503) from exc
        body: dict[str, Any] = {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "scope": " ".join(sorted(issued.roles)),
        }
        return JSONResponse(body, headers=_NO_STORE)
