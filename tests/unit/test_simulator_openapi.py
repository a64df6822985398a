"""The simulator's OpenAPI validation: official documented requests pass, malformed ones are explained."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pdutils.simulator.openapi import (
    PACKAGED_SPEC_DIR,
    SPEC_DIR_ENV,
    OpenAPIValidator,
    SpecUnavailableError,
    default_spec_dir,
    default_validator,
    events_prose_rules,
    is_iso8601_datetime,
    spec_files_present,
    validate_events_request,
    validate_rest_request,
    validator_for,
)

SPEC_DIR = default_spec_dir()
# PagerDuty's documented example requests: reference material beside the repository, not shipped with pdutils.
EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "pagerduty"
needs_examples = pytest.mark.skipif(
    not EXAMPLES.is_dir(), reason="PagerDuty's documented examples are not available (../shared/reference)"
)
REST_HEADERS = {
    "Authorization": "Token token=abc",
    "Accept": "application/vnd.pagerduty+json;version=2",
    "Content-Type": "application/json",
    "From": "oncall@example.com",
}


def reference_files(pattern: str) -> list[Path]:
    return sorted(EXAMPLES.glob(pattern)) if EXAMPLES.is_dir() else []


@needs_examples
@pytest.mark.parametrize("example", reference_files("events-v2/enqueue-*.json"), ids=lambda path: path.name)
def test_official_event_examples_are_accepted(example: Path) -> None:
    assert validate_events_request("/v2/enqueue", example.read_bytes()) == []


@needs_examples
def test_official_change_event_example_is_accepted() -> None:
    example = EXAMPLES / "events-v2" / "change-enqueue.json"

    assert validate_events_request("/v2/change/enqueue", example.read_bytes()) == []


@needs_examples
@pytest.mark.parametrize("example", reference_files("rest/create-incident-*.json"), ids=lambda path: path.name)
def test_official_create_incident_examples_are_accepted(example: Path) -> None:
    assert validate_rest_request("POST", "/incidents", None, REST_HEADERS, example.read_bytes()) == []


@needs_examples
def test_examples_exist_so_the_acceptance_tests_are_not_vacuous() -> None:
    assert len(reference_files("events-v2/enqueue-*.json")) == 3
    assert len(reference_files("rest/create-incident-*.json")) >= 5


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"routing_key": "k", "event_action": "trigger", "payload": {"summary": "s", "source": "h"}}, "severity"),
        ({"routing_key": "k", "event_action": "snooze", "dedup_key": "d"}, "event_action"),
        ({"routing_key": 7, "event_action": "resolve", "dedup_key": "d"}, "routing_key"),
        ({"routing_key": "k", "event_action": "acknowledge"}, "dedup_key"),
    ],
)
def test_invalid_events_are_explained(event: dict[str, Any], expected: str) -> None:
    problems = validate_events_request("/v2/enqueue", event)

    assert any(expected in problem for problem in problems), problems


def test_reference_ids_may_be_written_but_other_fields_are_still_checked() -> None:
    document = {"incident": {"title": "t", "service": {"id": "PABC123", "type": "service_reference"}}}
    assert validate_rest_request("POST", "/incidents", None, REST_HEADERS, document) == []

    document["incident"]["service"] = {"id": 5, "type": "service_reference"}
    assert validate_rest_request("POST", "/incidents", None, REST_HEADERS, document) == [
        "incident.service.id: 5 is not of type 'string'"
    ]


@needs_examples
def test_rest_validation_covers_parameters_and_headers() -> None:
    without_from = {name: value for name, value in REST_HEADERS.items() if name != "From"}
    document = json.loads((EXAMPLES / "rest" / "create-incident-simple.json").read_bytes())

    assert validate_rest_request("GET", "/incidents", {"limit": "ten"}, REST_HEADERS, None) != []
    assert validate_rest_request("GET", "/incidents", [("statuses[]", "resolved")], REST_HEADERS, None) == []
    assert "Missing required header parameter: From" in validate_rest_request(
        "POST", "/incidents", None, without_from, document
    )


def test_the_files_are_parsed_once_and_the_time_is_kept() -> None:
    validator = default_validator()
    validate_rest_request("GET", "/abilities", None, REST_HEADERS, None)
    validate_events_request("/v2/enqueue", {"routing_key": "k", "event_action": "resolve", "dedup_key": "d"})
    first = dict(validator.load_seconds)

    validate_rest_request("GET", "/abilities", None, REST_HEADERS, None)

    assert set(first) == {"rest-api-v2.openapiv3.json", "events-api-v2.openapiv3.json"}
    assert validator.load_seconds == first
    assert default_validator() is validator
    assert validator_for(SPEC_DIR / ".." / SPEC_DIR.name) is validator


def test_the_official_files_ship_with_pdutils(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SPEC_DIR_ENV, raising=False)

    assert default_spec_dir() == PACKAGED_SPEC_DIR
    assert spec_files_present(PACKAGED_SPEC_DIR)
    assert (PACKAGED_SPEC_DIR / "PROVENANCE.md").is_file()


def test_missing_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(SpecUnavailableError):
        OpenAPIValidator(tmp_path)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("2015-07-17T08:42:58.315+0000", True),
        ("2015-07-17T08:42:58Z", True),
        ("2015-07-17T08:42:58.315+02:00", True),
        ("2015-07-17", False),
        ("yesterday", False),
        (17, True),
    ],
)
def test_timestamps_follow_what_pagerduty_accepts(value: object, valid: bool) -> None:
    assert is_iso8601_datetime(value) is valid


@pytest.mark.parametrize(
    ("path", "event", "problems"),
    [
        ("/v2/enqueue", {"event_action": "trigger"}, 1),
        ("/v2/enqueue", {"event_action": "trigger", "payload": {}}, 0),
        ("/v2/enqueue", {"event_action": "resolve", "dedup_key": ""}, 1),
        ("/v2/enqueue", {"event_action": "acknowledge", "dedup_key": "d"}, 0),
        ("/v2/change/enqueue", {"event_action": "trigger"}, 0),
    ],
)
def test_prose_rules_of_the_events_api(path: str, event: dict[str, Any], problems: int) -> None:
    assert len(events_prose_rules(path, event)) == problems
