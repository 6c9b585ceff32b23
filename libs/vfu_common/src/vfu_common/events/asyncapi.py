"""The event contracts as an AsyncAPI 3.0 document, and JSON Schema snapshots of payloads.

``python -m vfu_common.events.asyncapi docs/asyncapi.json`` writes the document;
``tests/contracts`` checks that the committed copy is current and that no payload
changed in a non-additive way.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from vfu_common.events.contracts import EventContract, platform_contracts
from vfu_common.events.envelope import Envelope


def payload_schema(contract: EventContract) -> dict[str, Any]:
    """The JSON Schema of a contract's payload."""
    return contract.payload.model_json_schema(mode="serialization")


def _message_name(contract: EventContract) -> str:
    return contract.event_type.replace(".", "_")


SCHEMAS_REF = "#/components/schemas/"


def _hoisted(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its ``$defs`` moved into the document's ``schemas``.

    Pydantic writes nested models as ``$defs`` beside the schema that uses them and refers
    to them from its root (``#/$defs/QuotaV1``); inside an AsyncAPI message that root is
    the document's, where no ``$defs`` are. The same model is one entry, whichever
    messages use it; two different models of one name would be a contract bug.
    """
    schema = json.loads(json.dumps(schema).replace('"#/$defs/', f'"{SCHEMAS_REF}'))
    for name, definition in schema.pop("$defs", {}).items():
        if schemas.setdefault(name, definition) != definition:
            raise ValueError(f"two event schemas named {name} differ")
    return schema


def document() -> dict[str, Any]:
    """AsyncAPI 3.0: one channel (NATS subject) and one message per event type."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    envelope = _hoisted(Envelope.model_json_schema(mode="serialization"), schemas)
    for contract in platform_contracts():
        name = _message_name(contract)
        schema = json.loads(json.dumps(envelope))
        schema["properties"]["data"] = _hoisted(payload_schema(contract), schemas)
        schema["properties"]["type"] = {"const": contract.event_type}
        messages[name] = {
            "name": contract.event_type,
            "title": contract.payload.__name__,
            "summary": (contract.payload.__doc__ or "").strip().splitlines()[0],
            "contentType": "application/cloudevents+json",
            "payload": schema,
        }
        channels[name] = {
            "address": contract.event_type,
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
        }
        operations[f"publish_{name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{name}"},
            "summary": f"Published by the {contract.stream_service} service",
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "VFU platform events",
            "version": "1.0.0",
            "description": "Integration events exchanged over NATS JetStream. Subject = "
            "CloudEvents type = vfu.<service>.<aggregate>.<event>.v<major>.",
        },
        "defaultContentType": "application/cloudevents+json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def render() -> str:
    """The document as committed (stable key order, trailing newline)."""
    return json.dumps(document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    """Write the document to the given path."""
    if len(argv) != 1:
        print("usage: python -m vfu_common.events.asyncapi OUTPUT.json", file=sys.stderr)
        return 2
    Path(argv[0]).write_text(render())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
