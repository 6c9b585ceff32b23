"""One OpenAPI document for the whole platform, merged from the services' own."""

from __future__ import annotations

import asyncio
import copy
import logging
from typing import Any

from vfu_common.internal_token import INTERNAL_HEADER

from gateway.auth.grants import GRANTABLE_ROLES
from gateway.proxy import Upstream

_log = logging.getLogger(__name__)
_REF_PREFIX = "#/components/schemas/"


def _rename_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_REF_PREFIX):
                name = value[len(_REF_PREFIX) :]
                out[key] = _REF_PREFIX + renames.get(name, name)
            else:
                out[key] = _rename_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rename_refs(item, renames) for item in node]
    return node


def _prefix_clashing_schemas(
    doc: dict[str, Any], existing: dict[str, Any], service: str
) -> dict[str, Any]:
    """Rename this document's schemas that clash with ``existing``, refs included.

    Compared after renaming, repeatedly: a schema identical in text may still point at a
    schema that was renamed, and then it clashes too.
    """
    renames: dict[str, str] = {}
    while True:
        candidate: dict[str, Any] = _rename_refs(doc, renames)
        incoming = candidate.get("components", {}).get("schemas", {})
        clashing = {
            name: f"{service}_{name}"
            for name, schema in incoming.items()
            if name not in renames and name in existing and existing[name] != schema
        }
        if not clashing:
            break
        renames |= clashing
    schemas = candidate.get("components", {}).get("schemas", {})
    if schemas:
        candidate["components"]["schemas"] = {renames.get(n, n): v for n, v in schemas.items()}
    return candidate


def merge_documents(
    documents: dict[str, dict[str, Any]], *, title: str, version: str
) -> dict[str, Any]:
    """Merge service documents; a schema name two services define differently is prefixed."""
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "The VFU placement platform's public API, one document for "
            "every service behind the gateway.",
        },
        "paths": {},
        "components": {
            "schemas": {},
            "securitySchemes": {
                "oauth2": {
                    "type": "oauth2",
                    "description": "OAuth2 client credentials (RFC 6749 §4.4); the scope "
                    "optionally narrows the token to some of the client's roles.",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": "/oauth/token",
                            "scopes": {role: f"act as {role}" for role in sorted(GRANTABLE_ROLES)},
                        }
                    },
                },
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An access token from POST /oauth/token, or a student "
                    "portal's API key (vfu_pk_...)",
                },
            },
        },
        "security": [{"oauth2": []}, {"bearer": []}],
        "tags": [],
    }
    schemas: dict[str, Any] = merged["components"]["schemas"]
    for service, document in sorted(documents.items()):
        doc = _prefix_clashing_schemas(copy.deepcopy(document), schemas, service)
        for name, schema in doc.get("components", {}).get("schemas", {}).items():
            schemas[name] = schema
        for path, item in doc.get("paths", {}).items():
            merged["paths"][path] = item
        merged["tags"].append(
            {"name": service, "description": doc.get("info", {}).get("description", "")}
        )
    return merged


class OpenApiAggregator:
    """Fetches and caches the merged document; retries services that were away."""

    def __init__(
        self,
        upstreams: dict[str, Upstream],
        token_factory: Any,
        *,
        title: str = "VFU platform",
        version: str = "0.1.0",
    ) -> None:
        self.upstreams = upstreams
        self.token_factory = token_factory
        self.title = title
        self.version = version
        self._cached: dict[str, Any] | None = None

    async def _fetch(self, upstream: Upstream) -> dict[str, Any]:
        async with upstream.session.get(
            upstream.base_url + "/openapi.json",
            headers={INTERNAL_HEADER: self.token_factory()},
        ) as response:
            response.raise_for_status()
            document: dict[str, Any] = await response.json()
            return document

    async def document(self) -> dict[str, Any]:
        """The merged document; cached once every service has contributed."""
        if self._cached is not None:
            return self._cached
        names = list(self.upstreams)
        results = await asyncio.gather(
            *(self._fetch(self.upstreams[n]) for n in names), return_exceptions=True
        )
        documents: dict[str, dict[str, Any]] = {}
        missing = []
        for name, result in zip(names, results, strict=True):
            if isinstance(result, BaseException):
                _log.warning("openapi: %s unavailable (%s)", name, result)
                missing.append(name)
            else:
                documents[name] = result
        merged = merge_documents(documents, title=self.title, version=self.version)
        if missing:
            merged["info"]["x-vfu-missing-services"] = missing
        else:
            self._cached = merged
        return merged
