from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pagerduty_utils.api_client import InvalidEventError
from pagerduty_utils.api_client.limits import (
    MAX_DEDUP_KEY_CHARACTERS,
    MAX_EVENT_BYTES,
    MAX_SUMMARY_CHARACTERS,
    fit_alert,
    fit_change,
    fit_dedup_key,
)
from pagerduty_utils.pagerduty_events import (
    AlertEvent,
    AlertPayload,
    ChangeEvent,
    EventAction,
    Image,
    Link,
    Severity,
)

ROUTING_KEY = "R" * 32


def trigger(**changes: object) -> AlertEvent:
    payload = AlertPayload.model_validate(
        {"summary": "CPU high on i-123", "source": "i-123", "severity": Severity.CRITICAL}
    )
    event = AlertEvent.model_validate(
        {"routing_key": ROUTING_KEY, "event_action": EventAction.TRIGGER, "dedup_key": "alarm/cpu", "payload": payload}
    )
    return event.model_copy(update=changes)


def test_trigger_body_has_pagerduty_field_names() -> None:
    payload = AlertPayload.model_validate(
        {"summary": "s", "source": "src", "severity": "error", "class": "cpu", "custom_details": {"a": 1}}
    )
    body = fit_alert(trigger(payload=payload, links=(Link(href="https://x.example/a", text="A"),))).body
    assert body == {
        "routing_key": ROUTING_KEY,
        "event_action": "trigger",
        "dedup_key": "alarm/cpu",
        "payload": {"summary": "s", "source": "src", "severity": "error", "class": "cpu", "custom_details": {"a": 1}},
        "links": [{"href": "https://x.example/a", "text": "A"}],
    }


def test_long_summary_is_truncated_with_an_ellipsis() -> None:
    payload = AlertPayload.model_validate({"summary": "x" * 5000, "source": "s", "severity": Severity.INFO})
    summary = fit_alert(trigger(payload=payload)).body["payload"]["summary"]
    assert len(summary) == MAX_SUMMARY_CHARACTERS
    assert summary.endswith("…")


def test_long_dedup_key_is_hashed_stably_and_short_keys_are_kept() -> None:
    long_key = "arn:aws:cloudwatch:" + "k" * 400
    hashed = fit_dedup_key(long_key)
    assert len(hashed) <= MAX_DEDUP_KEY_CHARACTERS
    assert hashed == fit_dedup_key(long_key)
    assert hashed != fit_dedup_key(long_key + "x")
    assert hashed.startswith("arn:aws:cloudwatch:")
    assert fit_dedup_key("short") == "short"
    resolve = AlertEvent.model_validate(
        {"routing_key": ROUTING_KEY, "event_action": EventAction.RESOLVE, "dedup_key": long_key}
    )
    assert fit_alert(resolve).body["dedup_key"] == hashed


def test_trigger_without_dedup_key_gets_one_so_retries_do_not_duplicate() -> None:
    first = fit_alert(trigger(dedup_key=None)).body["dedup_key"]
    assert len(first) == 32
    assert first != fit_alert(trigger(dedup_key=None)).body["dedup_key"]


@pytest.mark.parametrize("action", [EventAction.ACKNOWLEDGE, EventAction.RESOLVE])
def test_acknowledge_and_resolve_need_a_dedup_key(action: EventAction) -> None:
    with pytest.raises(InvalidEventError, match="dedup_key"):
        fit_alert(AlertEvent.model_validate({"routing_key": ROUTING_KEY, "event_action": action}))


def test_resolve_sends_only_what_pagerduty_reads() -> None:
    event = AlertEvent.model_validate(
        {
            "routing_key": ROUTING_KEY,
            "event_action": EventAction.RESOLVE,
            "dedup_key": "k",
            "payload": trigger().payload,
        }
    )
    assert fit_alert(event).body == {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": "k"}


def test_trigger_without_payload_is_refused() -> None:
    with pytest.raises(InvalidEventError, match="payload"):
        fit_alert(
            AlertEvent.model_validate(
                {"routing_key": ROUTING_KEY, "event_action": EventAction.TRIGGER, "dedup_key": "k"}
            )
        )


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")
def test_severity_outside_the_enum_is_refused() -> None:
    payload = AlertPayload.model_construct(summary="s", source="s", severity="fatal")
    with pytest.raises(InvalidEventError, match="severity"):
        fit_alert(trigger(payload=payload))


def test_only_https_images_are_sent() -> None:
    images = (Image(src="https://img.example/ok.png"), Image(src="http://img.example/plain.png"), Image(src="data:x"))
    body = fit_alert(trigger(images=images)).body
    assert body["images"] == [{"src": "https://img.example/ok.png"}]
    assert "images" not in fit_alert(trigger(images=images[1:])).body


def test_oversized_custom_details_are_replaced_by_a_notice() -> None:
    payload = AlertPayload.model_validate(
        {"summary": "s", "source": "s", "severity": Severity.INFO, "custom_details": {"log": "x" * MAX_EVENT_BYTES}}
    )
    fitted = fit_alert(trigger(payload=payload))
    assert "over PagerDuty's" in fitted.body["payload"]["custom_details"]["notice"]
    assert len(fitted.content) <= MAX_EVENT_BYTES
    assert json.loads(fitted.content) == fitted.body


def test_event_too_large_without_custom_details_is_refused() -> None:
    links = tuple(Link(href=f"https://x.example/{index}", text="y" * 1000) for index in range(600))
    with pytest.raises(InvalidEventError, match="bytes"):
        fit_alert(trigger(links=links))


def test_size_counts_utf8_bytes() -> None:
    payload = AlertPayload.model_validate(
        {"summary": "s", "source": "s", "severity": Severity.INFO, "custom_details": {"t": "é" * 300_000}}
    )
    fitted = fit_alert(trigger(payload=payload))
    assert len(fitted.content) <= MAX_EVENT_BYTES
    assert "notice" in fitted.body["payload"]["custom_details"]


def test_change_event_body_nests_fields_under_payload() -> None:
    event = ChangeEvent(
        routing_key=ROUTING_KEY,
        summary="y" * 2000,
        source="deploy-bot",
        custom_details={"build": 2},
        links=(Link(href="https://ci.example/2"),),
    )
    fitted = fit_change(event)
    body = fitted.body
    assert set(body) == {"routing_key", "payload", "links"}
    assert body["payload"]["source"] == "deploy-bot"
    assert len(body["payload"]["summary"]) == MAX_SUMMARY_CHARACTERS
    assert json.loads(fitted.content) == body


@given(st.text(min_size=0, max_size=2000))
def test_any_dedup_key_fits_and_maps_to_one_key(dedup_key: str) -> None:
    fitted = fit_dedup_key(dedup_key)
    assert len(fitted) <= MAX_DEDUP_KEY_CHARACTERS
    assert fitted == fit_dedup_key(dedup_key)
    assert (fitted == dedup_key) == (len(dedup_key) <= MAX_DEDUP_KEY_CHARACTERS)


@given(st.text(min_size=1, max_size=3000))
def test_any_summary_fits_and_keeps_its_start(summary: str) -> None:
    fitted = fit_alert(trigger(payload=AlertPayload(summary=summary, source="s", severity=Severity.INFO)))
    sent = fitted.body["payload"]["summary"]
    assert len(sent) <= MAX_SUMMARY_CHARACTERS
    assert summary.startswith(sent.removesuffix("…"))


@settings(max_examples=25, deadline=None)
@given(st.dictionaries(st.text(max_size=20), st.text(max_size=300_000), max_size=4))
def test_any_custom_details_fit_in_512_kb(details: dict[str, str]) -> None:
    payload = AlertPayload(summary="s", source="s", severity=Severity.INFO, custom_details=details)
    fitted = fit_alert(trigger(payload=payload))
    assert len(fitted.content) <= MAX_EVENT_BYTES
    assert json.loads(fitted.content) == fitted.body
