"""The envelope format and the contract registry's rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from vfu_common.events.contracts import EventPayload, all_contracts, contract_for, register
from vfu_common.events.envelope import Envelope
from vfu_common.uuid7 import new_id


@given(
    data=st.dictionaries(st.text(min_size=1, max_size=10), st.integers() | st.text(max_size=20)),
    version=st.integers(min_value=1, max_value=2**31),
)
def test_envelope_round_trips(data: dict[str, object], version: int) -> None:
    envelope = Envelope(
        type="vfu.x.y.z.v1",
        source="/t",
        data=data,
        aggregateid=str(new_id()),
        aggregatetype="y",
        aggregateversion=version,
        correlationid="c",
    )
    assert Envelope.from_bytes(envelope.to_bytes()) == envelope


def test_envelope_carries_cloudevents_attributes_and_extensions() -> None:
    envelope = Envelope(
        type="vfu.x.y.z.v1",
        source="/t",
        data={},
        aggregateid="a",
        aggregatetype="y",
        aggregateversion=1,
    )
    wire = envelope.model_dump(mode="json")
    for attribute in (
        "specversion",
        "id",
        "type",
        "source",
        "time",
        "datacontenttype",
        "data",
        "aggregateid",
        "aggregatetype",
        "aggregateversion",
    ):
        assert attribute in wire
    assert wire["specversion"] == "1.0"
    assert envelope.id.version == 7


def test_envelope_ignores_unknown_attributes() -> None:
    raw = (
        b'{"type":"vfu.x.y.z.v1","source":"/t","data":{},"aggregateid":"a",'
        b'"aggregatetype":"y","aggregateversion":1,"newattr":"later"}'
    )
    assert Envelope.from_bytes(raw).type == "vfu.x.y.z.v1"


@pytest.mark.parametrize("bad", ["vfu.a.b.c", "VFU.a.b.c.v1", "vfu.a.b.c.1", "x.a.b.c.v1"])
def test_malformed_event_types_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="vfu"):
        register(bad, EventPayload, "b")


def test_a_type_is_registered_once() -> None:
    existing = all_contracts()[0]
    with pytest.raises(ValueError, match="already registered"):
        register(existing.event_type, existing.payload, existing.aggregate_type)


def test_lookup_by_type() -> None:
    contract = contract_for("vfu.agreements.organisation.registered.v1")
    assert contract.stream_service == "agreements"
    with pytest.raises(KeyError):
        contract_for("vfu.agreements.organisation.unknown.v1")
