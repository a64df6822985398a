"""The v3 envelope and data models: every documented shape parses, extras are kept, text is sanitized."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError as PydanticValidationError

from pagerduty_utils.webhook_processor.models import (
    DATA_MODELS,
    DataShapeError,
    IncidentData,
    WebhookEnvelope,
    parse_event_data,
)
from pdutils.testing.webhook_fakes import incident_data, webhook_body

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "pagerduty" / "webhooks-v3"
DATA_EXAMPLES = sorted(REFERENCE.glob("data-*.json"))
EVENT_EXAMPLES = sorted(REFERENCE.glob("event-*.json"))


@pytest.mark.skipif(not DATA_EXAMPLES, reason="PagerDuty reference payloads are not available")
def test_every_documented_data_type_is_modelled() -> None:
    assert {path.stem.removeprefix("data-") for path in DATA_EXAMPLES} == set(DATA_MODELS)


@pytest.mark.skipif(not DATA_EXAMPLES, reason="PagerDuty reference payloads are not available")
@pytest.mark.parametrize("example", DATA_EXAMPLES, ids=lambda path: path.name)
def test_documented_data_examples_parse(example: Path) -> None:
    document = json.loads(example.read_text())
    data = parse_event_data(document)
    assert data is not None
    assert data.type == document["type"]
    if data.type.startswith("incident"):
        assert data.incident_reference is not None
    else:
        assert data.service_reference is not None


@pytest.mark.skipif(not EVENT_EXAMPLES, reason="PagerDuty reference payloads are not available")
@pytest.mark.parametrize("example", EVENT_EXAMPLES, ids=lambda path: path.name)
def test_documented_envelopes_parse(example: Path) -> None:
    envelope = WebhookEnvelope.model_validate_json(example.read_bytes())
    assert envelope.event.occurred_at.tzinfo is not None
    assert parse_event_data(envelope.event.data) is not None


def test_extra_fields_are_kept_and_self_links_are_read() -> None:
    document = {
        **incident_data(),
        "brand_new_field": {"nested": True},
        "self": "https://api.pagerduty.com/incidents/PINC001",
    }
    data = parse_event_data(document)
    assert isinstance(data, IncidentData)
    assert data.model_extra == {"brand_new_field": {"nested": True}}
    assert data.self_url == "https://api.pagerduty.com/incidents/PINC001"
    assert data.model_dump(by_alias=True)["self"] == data.self_url


def test_text_is_sanitized_and_unsafe_links_dropped() -> None:
    document = {**incident_data(title="Disk\x00 full\nnow\u202e"), "html_url": "javascript:alert(1)"}
    data = parse_event_data(document)
    assert isinstance(data, IncidentData)
    assert data.title == "Disk full now"
    assert data.html_url is None


def test_numbers_where_text_is_documented_are_accepted() -> None:
    data = parse_event_data({**incident_data(), "conference_bridge": {"conference_number": 1000}})
    assert isinstance(data, IncidentData)
    assert data.conference_bridge is not None
    assert data.conference_bridge.conference_number == "1000"


@pytest.mark.parametrize("document", [None, {"type": "brand_new"}, {"id": "X"}])
def test_unknown_data_is_none(document: dict[str, object] | None) -> None:
    assert parse_event_data(document) is None  # type: ignore[arg-type]


def test_known_type_with_wrong_shape_says_where() -> None:
    with pytest.raises(DataShapeError, match="incident"):
        parse_event_data({"type": "incident_note", "id": "N1"})


@pytest.mark.parametrize(
    "body",
    [
        b"{}",
        b'{"event": {"id": "E1"}}',
        webhook_body(None).replace(b'"occurred_at":"', b'"occurred_at":"not-a-date'),
        webhook_body(None, event_type="Incident Triggered!"),
        webhook_body(None, event_id="../../etc"),
    ],
)
def test_invalid_envelopes_are_rejected(body: bytes) -> None:
    with pytest.raises(PydanticValidationError):
        WebhookEnvelope.model_validate_json(body)
