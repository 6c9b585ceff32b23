"""Event contracts may only grow: a v1 payload gains optional fields, never loses or changes.

Each payload's JSON Schema is snapshotted in ``snapshots/<type>.json``. A new contract
needs its snapshot committed (run with VFU_UPDATE_SNAPSHOTS=1 to write missing ones and
to record additive changes); a non-additive change fails even with that flag: make a v2.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate as validate_openapi
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from vfu_common.events import asyncapi
from vfu_common.events.contracts import EventContract, platform_contracts
from vfu_devrun import openapi

SNAPSHOTS = Path(__file__).parent / "snapshots"
DOCS = Path(__file__).resolve().parents[2] / "docs"
ASYNCAPI_DOC = DOCS / "asyncapi.json"
OPENAPI_DOC = DOCS / "openapi.json"
# The AsyncAPI 3.0.0 JSON Schema, as the AsyncAPI initiative publishes it (see README.md).
ASYNCAPI_SCHEMA = Path(__file__).parent / "schemas" / "asyncapi-3.0.0.json"
SERVICES = ("agreements", "placements", "supervisors")
UPDATE = os.environ.get("VFU_UPDATE_SNAPSHOTS") == "1"


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Why ``new`` cannot replace ``old`` for existing consumers (empty when additive)."""
    problems = []
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, schema in old_props.items():
        if name not in new_props:
            problems.append(f"field {name!r} removed")
        elif new_props[name] != schema:
            problems.append(f"field {name!r} changed")
    for name in set(new.get("required", [])) - set(old.get("required", [])):
        problems.append(f"field {name!r} is newly required")
    # A referenced definition (a nested object such as a quota) obeys the same rules:
    # it may gain optional fields, never lose or change one.
    new_defs = new.get("$defs", {})
    for name, old_def in old.get("$defs", {}).items():
        new_def = new_defs.get(name)
        if new_def is None:
            problems.append(f"definition {name!r} removed")
        elif "properties" in old_def:
            problems += [f"{name}: {problem}" for problem in breaking_changes(old_def, new_def)]
        elif new_def != old_def:
            problems.append(f"definition {name!r} changed")
    return problems


def test_breaking_change_detection_in_referenced_definitions() -> None:
    item = {"properties": {"n": {"type": "integer"}}, "required": ["n"]}
    old = {"properties": {"items": {"$ref": "#/$defs/Item"}}, "$defs": {"Item": item}}
    grown = {"properties": {**item["properties"], "kind": {"default": "x"}}, "required": ["n"]}
    assert breaking_changes(old, {**old, "$defs": {"Item": grown}}) == []
    assert breaking_changes(old, {**old, "$defs": {"Item": {"properties": {}}}}) == [
        "Item: field 'n' removed"
    ]
    assert breaking_changes(old, {**old, "$defs": {}}) == ["definition 'Item' removed"]
    enum = {**old, "$defs": {"Unit": {"enum": ["a", "b"]}}}
    assert breaking_changes(enum, {**old, "$defs": {"Unit": {"enum": ["a"]}}}) == [
        "definition 'Unit' changed"
    ]


def test_breaking_change_detection() -> None:
    old = {"properties": {"a": {"type": "string"}}, "required": ["a"]}
    assert breaking_changes(old, old) == []
    assert (
        breaking_changes(old, {"properties": {"a": {"type": "string"}, "b": {}}, "required": ["a"]})
        == []
    )
    assert breaking_changes(old, {"properties": {}, "required": []}) == ["field 'a' removed"]
    assert breaking_changes(old, {"properties": {"a": {"type": "integer"}}, "required": ["a"]}) == [
        "field 'a' changed"
    ]
    assert breaking_changes(
        old, {"properties": {"a": {"type": "string"}, "b": {}}, "required": ["a", "b"]}
    ) == ["field 'b' is newly required"]


@pytest.mark.parametrize("contract", platform_contracts(), ids=lambda c: c.event_type)
def test_payload_schema_only_grows(contract: EventContract) -> None:
    path = SNAPSHOTS / f"{contract.event_type}.json"
    current = asyncapi.payload_schema(contract)
    if not path.exists():
        if UPDATE:
            path.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
            return
        pytest.fail(f"no snapshot for {contract.event_type}: run with VFU_UPDATE_SNAPSHOTS=1")
    snapshot = json.loads(path.read_text())
    problems = breaking_changes(snapshot, current)
    assert not problems, f"{contract.event_type} changed incompatibly: {problems}; add a v2"
    if current != snapshot and UPDATE:
        path.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")


def test_every_snapshot_has_a_contract() -> None:
    registered = {c.event_type for c in platform_contracts()}
    orphans = [p.stem for p in SNAPSHOTS.glob("*.json") if p.stem not in registered]
    assert not orphans, f"contracts removed (consumers may still rely on them): {orphans}"


def test_asyncapi_document_is_current() -> None:
    rendered = asyncapi.render()
    if UPDATE:
        ASYNCAPI_DOC.write_text(rendered)
    assert ASYNCAPI_DOC.read_text() == rendered, (
        "docs/asyncapi.json is stale: python -m vfu_common.events.asyncapi docs/asyncapi.json"
    )


def unresolved_references(document: Any) -> list[str]:
    """Every local ``$ref`` in ``document`` that points at nothing."""
    found: list[str] = []

    def resolves(ref: str) -> bool:
        node = document
        for part in ref.removeprefix("#/").split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
        return True

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and (not ref.startswith("#/") or not resolves(ref)):
                found.append(ref)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    return found


def test_the_reference_check_finds_a_dangling_reference() -> None:
    document = {"a": {"$ref": "#/b/c"}, "b": {"c": {}, "d": [{"$ref": "#/$defs/X"}]}}
    assert unresolved_references(document) == ["#/$defs/X"]


def test_every_reference_in_the_asyncapi_document_resolves() -> None:
    document = json.loads(ASYNCAPI_DOC.read_text())
    assert document["components"]["schemas"], "nested payload models are shared schemas"
    assert unresolved_references(document) == []


def test_openapi_document_is_current() -> None:
    rendered = openapi.render()
    if UPDATE:
        OPENAPI_DOC.write_text(rendered)
    assert OPENAPI_DOC.read_text() == rendered, (
        "docs/openapi.json is stale: python -m vfu_devrun.openapi docs/openapi.json"
    )


@pytest.fixture(scope="module")
def openapi_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(OPENAPI_DOC.read_text())
    return document


def test_openapi_document_is_valid_openapi_3_1(openapi_document: dict[str, Any]) -> None:
    validate_openapi(openapi_document)
    assert unresolved_references(openapi_document) == []


def test_the_openapi_validator_refuses_a_broken_document(
    openapi_document: dict[str, Any],
) -> None:
    broken = json.loads(json.dumps(openapi_document))
    broken["paths"]["/nothing"] = {"get": {"responses": "none"}}
    with pytest.raises(OpenAPIValidationError):
        validate_openapi(broken)


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "responses" in operation
    ]


def test_operation_ids_are_short_unique_and_name_their_service(
    openapi_document: dict[str, Any],
) -> None:
    operations = _operations(openapi_document)
    ids = [operation["operationId"] for _, _, operation in operations]
    assert len(ids) == len(set(ids)), "operationIds are unique across the platform"
    for (_, path, _), operation_id in zip(operations, ids, strict=True):
        service = path.split("/")[3]
        assert operation_id.startswith(f"{service}_"), (path, operation_id)
        assert len(operation_id) <= 40, f"{operation_id} is long"
        assert re.fullmatch(r"[a-z]+(_[a-z]+)+", operation_id), operation_id


def test_schema_names_are_unique_without_renaming(openapi_document: dict[str, Any]) -> None:
    """The gateway prefixes a schema two services define differently; none needs it."""
    renamed = [
        name for name in openapi_document["components"]["schemas"] if name.split("_")[0] in SERVICES
    ]
    assert renamed == [], f"give these models names of their own: {renamed}"


@pytest.fixture(scope="module")
def asyncapi_validator() -> Any:
    schema = json.loads(ASYNCAPI_SCHEMA.read_text())
    return jsonschema.validators.validator_for(schema)(schema)


def test_asyncapi_document_follows_the_asyncapi_3_schema(asyncapi_validator: Any) -> None:
    document = json.loads(ASYNCAPI_DOC.read_text())
    assert document["asyncapi"].startswith("3.0")
    problems = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
        for e in asyncapi_validator.iter_errors(document)
    ]
    assert problems == []


def test_the_asyncapi_schema_refuses_a_broken_document(asyncapi_validator: Any) -> None:
    document = json.loads(ASYNCAPI_DOC.read_text())
    channel = next(iter(document["channels"].values()))
    channel["address"] = 5
    assert list(asyncapi_validator.iter_errors(document))
