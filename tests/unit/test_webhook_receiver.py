"""The webhook receiver handler end to end with in-memory ports: API Gateway events in, HTTP answers out."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from functions.webhook_receiver.app import lambda_handler
from pagerduty_utils.jwt_tokens import TokenAuthority, TokenPolicy
from pagerduty_utils.webhook_processor.health_access import HEALTH_TOKEN_POLICY, HealthAccess
from pagerduty_utils.webhook_processor.health_snapshot import HealthSnapshotReader
from pagerduty_utils.webhook_processor.models import WebhookEnvelope
from pagerduty_utils.webhook_processor.processing import ReceiverPolicy, WebhookProcessor
from pagerduty_utils.webhook_processor.signature import sign
from pagerduty_utils.webhook_processor.wiring import ReceiverDependencies
from pdutils.testing.webhook_fakes import (
    InMemoryWebhookStateStore,
    RecordingAudit,
    RecordingCounter,
    RecordingPublisher,
    StaticSecrets,
    StaticSigningKeys,
    incident_data,
    webhook_body,
)

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO.parent / "shared" / "reference" / "pagerduty" / "webhooks-v3"
LOCAL_SECRET = "local-webhook-secret"
HEALTH_KEY = "health-token-signing-key-0123456789abcdef"
FULL_REPORT = {"status": "degraded", "checked_at": "2026-11-27T04:00:00Z", "checks": [{"name": "secret:pagerduty/x"}]}
MAX_BODY_BYTES = 64 * 1024
# The receiver's clock where a test builds its payload or token for a fixed instant rather than for now.
RECEIVED_AT = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)

# The handler flushes Powertools metrics; these tests count through a fake, so the flush finds none.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@dataclass(frozen=True)
class FakeLambdaContext:
    function_name: str = "webhook-receiver"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:webhook-receiver"
    aws_request_id: str = "c0ffee00-0000-4000-8000-000000000000"


class FixedHealth(HealthSnapshotReader):
    def __init__(self, report: dict[str, Any] | None) -> None:
        self.report = report

    def latest(self) -> dict[str, Any] | None:
        return self.report


@dataclass
class Stack:
    dependencies: ReceiverDependencies
    bus: RecordingPublisher
    audit: RecordingAudit
    health: FixedHealth

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = lambda_handler(event, FakeLambdaContext(), dependencies=self.dependencies)
        return response


def build_stack(
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    secret: str = LOCAL_SECRET,
    health_keys: StaticSigningKeys | None = None,
) -> Stack:
    bus = RecordingPublisher()
    audit = RecordingAudit()
    health = FixedHealth(None)
    processor = WebhookProcessor(
        secrets=StaticSecrets("another-active-secret", secret),
        store=InMemoryWebhookStateStore(),
        publisher=bus,
        policy=ReceiverPolicy(replay_window_seconds=3600, lease_seconds=30),
        audit=audit,
        metrics=RecordingCounter(),
        clock=clock,
    )
    tokens = TokenAuthority(health_keys, HEALTH_TOKEN_POLICY, clock=RECEIVED_AT.timestamp) if health_keys else None
    dependencies = ReceiverDependencies(
        processor=processor,
        health=health,
        max_body_bytes=MAX_BODY_BYTES,
        health_access=HealthAccess(tokens, audit=audit),
    )
    return Stack(dependencies, bus, audit, health)


@pytest.fixture
def stack() -> Stack:
    return build_stack()


@pytest.fixture(scope="module")
def webhook_event_template() -> dict[str, Any]:
    event: dict[str, Any] = json.loads((REPO / "events" / "apigateway_webhook.json").read_text())
    return event


def api_event(
    template: dict[str, Any], body: bytes | str, headers: dict[str, str], *, base64_body: bool = False
) -> dict[str, Any]:
    event = copy.deepcopy(template)
    raw = body.encode() if isinstance(body, str) else body
    event["body"] = base64.b64encode(raw).decode() if base64_body else raw.decode("utf-8", "surrogateescape")
    event["isBase64Encoded"] = base64_body
    event["headers"] = headers
    event["multiValueHeaders"] = {name: [value] for name, value in headers.items()}
    return event


def signed_event(template: dict[str, Any], body: bytes, **kwargs: Any) -> dict[str, Any]:
    return api_event(template, body, {"X-PagerDuty-Signature": sign(body, LOCAL_SECRET.encode())}, **kwargs)


def status_and_body(response: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return response["statusCode"], json.loads(response["body"])


def test_sample_event_from_events_dir_is_published(webhook_event_template: dict[str, Any]) -> None:
    occurred_at = WebhookEnvelope.model_validate_json(webhook_event_template["body"]).event.occurred_at
    stack = build_stack(clock=lambda: occurred_at + timedelta(seconds=5))
    status, body = status_and_body(stack.invoke(webhook_event_template))
    assert (status, body["status"]) == (200, "processed")
    [event] = stack.bus.published
    assert event.webhook_id == webhook_event_template["headers"]["X-Webhook-Id"]


def test_base64_body_is_verified_on_the_decoded_bytes(stack: Stack, webhook_event_template: dict[str, Any]) -> None:
    body = webhook_body(incident_data(title="Caf\u00e9 down"))
    status, _ = status_and_body(stack.invoke(signed_event(webhook_event_template, body, base64_body=True)))
    assert status == 200
    assert stack.bus.published[0].incident is not None
    assert stack.bus.published[0].incident.title == "Caf\u00e9 down"


def test_header_name_is_case_insensitive(stack: Stack, webhook_event_template: dict[str, Any]) -> None:
    body = webhook_body(incident_data())
    event = api_event(webhook_event_template, body, {"x-pagerduty-signature": sign(body, LOCAL_SECRET.encode())})
    assert stack.invoke(event)["statusCode"] == 200


def test_repeated_signature_headers_are_all_considered(stack: Stack, webhook_event_template: dict[str, Any]) -> None:
    body = webhook_body(incident_data())
    event = api_event(webhook_event_template, body, {})
    event["multiValueHeaders"] = {"X-PagerDuty-Signature": [sign(body, b"old"), sign(body, LOCAL_SECRET.encode())]}
    event["headers"] = {"X-PagerDuty-Signature": sign(body, LOCAL_SECRET.encode())}
    assert stack.invoke(event)["statusCode"] == 200


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 400),
        ({"X-PagerDuty-Signature": "garbage"}, 400),
        ({"X-PagerDuty-Signature": "v1=" + "0" * 64}, 403),
    ],
)
def test_unsigned_requests_get_problem_responses(
    stack: Stack, webhook_event_template: dict[str, Any], headers: dict[str, str], status: int
) -> None:
    response = stack.invoke(api_event(webhook_event_template, webhook_body(incident_data()), headers))
    problem = json.loads(response["body"])
    assert response["statusCode"] == status
    assert response["multiValueHeaders"]["Content-Type"] == ["application/problem+json"]
    assert problem["status"] == status
    assert problem["type"].startswith("urn:pagerduty-utils:problem:")
    assert problem["instance"] == f"urn:request:{webhook_event_template['requestContext']['requestId']}"
    assert stack.bus.published == []
    assert LOCAL_SECRET not in response["body"]


def test_oversized_body_is_refused_with_413(stack: Stack, webhook_event_template: dict[str, Any]) -> None:
    body = webhook_body(incident_data(title="x" * MAX_BODY_BYTES))
    for base64_body in (False, True):
        response = stack.invoke(signed_event(webhook_event_template, body, base64_body=base64_body))
        assert response["statusCode"] == 413


def test_signed_invalid_json_is_400(stack: Stack, webhook_event_template: dict[str, Any]) -> None:
    assert stack.invoke(signed_event(webhook_event_template, b'{"event": '))["statusCode"] == 400


def test_invalid_base64_is_400(stack: Stack, webhook_event_template: dict[str, Any]) -> None:
    event = signed_event(webhook_event_template, b"{}")
    event["isBase64Encoded"] = True
    event["body"] = "***not base64***"
    assert stack.invoke(event)["statusCode"] == 400


SIGNATURE_VECTOR = REFERENCE / "signature-vector-go-pagerduty.json"


@pytest.mark.skipif(not SIGNATURE_VECTOR.is_file(), reason="PagerDuty signature vector is not available")
def test_pagerduty_signature_vector_end_to_end(webhook_event_template: dict[str, Any]) -> None:
    """The exact bytes PagerDuty's own library signs, as API Gateway would pass them, verified and processed."""
    vector = json.loads(SIGNATURE_VECTOR.read_text())
    body = (REFERENCE / vector["body_file"]).read_bytes()
    occurred_at = WebhookEnvelope.model_validate_json(body).event.occurred_at
    headers = {case["name"].split()[0]: case["header"] for case in vector["cases"]}
    expected = {"valid": 200, "rotation": 200, "mismatch": 403, "malformed_header": 400}
    for name, status in expected.items():
        stack = build_stack(clock=lambda: occurred_at + timedelta(minutes=1), secret=vector["secret"])
        for base64_body in (False, True):
            event = api_event(
                webhook_event_template, body, {"X-PagerDuty-Signature": headers[name]}, base64_body=base64_body
            )
            assert stack.invoke(event)["statusCode"] == status, name
        assert len(stack.bus.published) == (1 if status == 200 else 0), name
    empty_body = api_event(webhook_event_template, b"", {"X-PagerDuty-Signature": headers["malformed_body"]})
    assert build_stack(secret=vector["secret"]).invoke(empty_body)["statusCode"] == 400


REFERENCE_PAYLOADS = sorted([*REFERENCE.glob("data-*.json"), *REFERENCE.glob("event-*.json")])


@pytest.mark.skipif(not REFERENCE_PAYLOADS, reason="PagerDuty reference payloads are not available")
@pytest.mark.parametrize("example", REFERENCE_PAYLOADS, ids=lambda path: path.name)
def test_every_reference_payload_is_published(
    stack: Stack, webhook_event_template: dict[str, Any], example: Path
) -> None:
    document = json.loads(example.read_bytes())
    if example.name.startswith("data-"):
        body = webhook_body(document, event_type=f"{document['type']}.updated", event_id=f"E-{example.stem}")
    else:
        document["event"]["occurred_at"] = datetime.now(UTC).isoformat()
        body = json.dumps(document).encode()
    status, answer = status_and_body(stack.invoke(signed_event(webhook_event_template, body)))
    assert (status, answer["status"]) == (200, "processed")
    assert stack.bus.published[0].data_type == (document.get("type") or document["event"]["data"]["type"])


HEALTH_REPORTS = [
    ({"status": "healthy", "checked_at": "2026-11-27T04:00:00Z", "checks": []}, 200),
    (FULL_REPORT, 200),
    ({"status": "unhealthy", "checked_at": "2026-11-27T04:00:00Z", "checks": []}, 503),
    (None, 503),
]
NO_REPORT = {"status": "unknown", "detail": "no health report available"}


@pytest.fixture
def token_stack() -> Stack:
    """A receiver with a health token key set (the previous key still active)."""
    return build_stack(health_keys=StaticSigningKeys(HEALTH_KEY, "previous-health-key-0123456789abcdef"))


def health_event(authorization: str | None = None, *, header_name: str = "Authorization") -> dict[str, Any]:
    event: dict[str, Any] = json.loads((REPO / "events" / "apigateway_health.json").read_text())
    if authorization is not None:
        event["headers"][header_name] = authorization
        event["multiValueHeaders"][header_name] = [authorization]
    return event


def health_token(
    key: str = HEALTH_KEY, *, policy: TokenPolicy = HEALTH_TOKEN_POLICY, issued_at: float | None = None
) -> str:
    moment = RECEIVED_AT.timestamp() if issued_at is None else issued_at
    authority = TokenAuthority(StaticSigningKeys(key), policy, clock=lambda: moment)
    return authority.issue("ops@example.com", lifetime_seconds=300)


@pytest.mark.parametrize(("report", "status"), HEALTH_REPORTS)
def test_health_without_credentials_serves_the_status_alone(
    token_stack: Stack, report: dict[str, Any] | None, status: int
) -> None:
    token_stack.health.report = report
    response = token_stack.invoke(health_event())
    assert response["statusCode"] == status
    assert json.loads(response["body"]) == {"status": (report or NO_REPORT)["status"]}
    assert token_stack.audit.records == []


@pytest.mark.parametrize(("report", "status"), HEALTH_REPORTS)
def test_health_with_a_valid_token_serves_the_full_report(
    token_stack: Stack, report: dict[str, Any] | None, status: int
) -> None:
    token_stack.health.report = report
    response = token_stack.invoke(health_event(f"Bearer {health_token()}"))
    assert response["statusCode"] == status
    assert json.loads(response["body"]) == (report or NO_REPORT)
    (audit,) = token_stack.audit.records
    assert (audit.action, audit.outcome, audit.context["subject"]) == ("health.token", "accepted", "ops@example.com")


def test_the_full_health_report_is_not_put_into_the_trace(token_stack: Stack, trace_metadata: dict[str, Any]) -> None:
    token_stack.health.report = FULL_REPORT
    response = token_stack.invoke(health_event(f"Bearer {health_token()}"))
    assert json.loads(response["body"]) == FULL_REPORT
    assert "secret:pagerduty/x" not in json.dumps(trace_metadata, default=str)


def test_health_header_and_scheme_are_case_insensitive_and_a_previous_key_still_verifies(token_stack: Stack) -> None:
    token_stack.health.report = FULL_REPORT
    token = health_token("previous-health-key-0123456789abcdef")
    response = token_stack.invoke(health_event(f"bearer {token}", header_name="authorization"))
    assert json.loads(response["body"]) == FULL_REPORT


# Each case builds its header when the test runs: tokens are minted when used, never at collection.
BAD_CREDENTIALS: list[tuple[Callable[[], str], str]] = [
    (lambda: f"Bearer {health_token(issued_at=RECEIVED_AT.timestamp() - 3000)}", "expired"),
    (lambda: f"Bearer {health_token('an-unknown-key-0123456789abcdef0123')}", "signature"),
    (lambda: f"Bearer {health_token(policy=TokenPolicy(issuer='pagerduty-utils', audience='elsewhere'))}", "audience"),
    (lambda: f"Basic {base64.b64encode(b'ops:password').decode()}", "not a bearer token"),
    (lambda: "Bearer ", "not a bearer token"),
    (lambda: "Bearer not.a.token", "malformed"),
]


@pytest.mark.parametrize(
    ("make_authorization", "reason"),
    BAD_CREDENTIALS,
    ids=["expired", "unknown-key", "audience", "basic", "empty-bearer", "malformed"],
)
def test_health_with_bad_credentials_is_a_401_problem_and_an_audit_record(
    token_stack: Stack, make_authorization: Callable[[], str], reason: str
) -> None:
    authorization = make_authorization()
    token_stack.health.report = FULL_REPORT
    response = token_stack.invoke(health_event(authorization))
    status, problem = status_and_body(response)
    assert (status, problem["type"]) == (401, "urn:pagerduty-utils:problem:invalid-token")
    assert response["multiValueHeaders"]["WWW-Authenticate"] == ['Bearer error="invalid_token"']
    assert "checks" not in response["body"]
    (audit,) = token_stack.audit.records
    assert (audit.action, audit.outcome) == ("health.token", "rejected")
    assert audit.reason is not None
    assert reason in audit.reason
    credentials = authorization.partition(" ")[2]
    assert not credentials or credentials not in audit.reason + response["body"]


def test_health_without_a_key_set_serves_the_status_alone_even_to_a_valid_token(stack: Stack) -> None:
    stack.health.report = FULL_REPORT
    response = stack.invoke(health_event(f"Bearer {health_token()}"))
    assert status_and_body(response) == (200, {"status": "degraded"})


header_names = st.sampled_from(["X-PagerDuty-Signature", "x-pagerduty-signature", "X-Webhook-Id", "Content-Type", "X"])
header_values = st.one_of(
    st.text(max_size=80),
    st.lists(st.from_regex(r"v[0-9]=[0-9a-f]{64}", fullmatch=True), max_size=10).map(",".join),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    headers=st.dictionaries(header_names, header_values, max_size=4),
    body=st.one_of(st.binary(max_size=512), st.just(webhook_body(incident_data()))),
    base64_body=st.booleans(),
)
def test_arbitrary_unsigned_requests_never_fail_on_our_side(
    webhook_event_template: dict[str, Any], headers: dict[str, str], body: bytes, base64_body: bool
) -> None:
    stack = build_stack()
    response = stack.invoke(api_event(webhook_event_template, body, headers, base64_body=base64_body))
    assert 400 <= response["statusCode"] < 500
    assert stack.bus.published == []


@pytest.mark.parametrize(("method", "path"), [("GET", "/nope"), ("GET", "/webhooks/pagerduty"), ("POST", "/health")])
def test_unknown_routes_are_404_problems(stack: Stack, method: str, path: str) -> None:
    event = {"path": path, "httpMethod": method, "headers": {}, "body": None, "requestContext": {"requestId": "r-404"}}
    response = stack.invoke(event)
    problem = json.loads(response["body"])
    assert response["statusCode"] == 404
    assert response["multiValueHeaders"]["Content-Type"] == ["application/problem+json"]
    assert (problem["type"], problem["instance"]) == ("urn:pagerduty-utils:problem:not-found", "urn:request:r-404")


def test_missing_configuration_is_a_500_problem_and_an_audit_record(
    webhook_event_template: dict[str, Any], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for variable in ("STATE_TABLE_NAME", "WEBHOOK_SECRETS_SECRET_ID", "EVENT_BUS_NAME"):
        monkeypatch.delenv(variable, raising=False)
    response = lambda_handler(webhook_event_template, FakeLambdaContext())
    problem = json.loads(response["body"])
    assert (response["statusCode"], problem["type"]) == (500, "urn:pagerduty-utils:problem:configuration-error")
    assert "STATE_TABLE_NAME" not in response["body"]
    audits = [record for record in caplog.records if getattr(record, "audit", False)]
    assert [(record.action, record.outcome) for record in audits] == [("configuration", "failed")]  # type: ignore[attr-defined]
    assert "STATE_TABLE_NAME" in audits[0].reason  # type: ignore[attr-defined]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=10,
)


def mostly(valid: Any, junk: st.SearchStrategy[Any] = json_values) -> st.SearchStrategy[Any]:
    """``valid`` three times out of four, else anything JSON."""
    return st.one_of(st.just(valid), st.just(valid), st.just(valid), junk)


data_documents = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["incident", "incident_note", "service", "incident_role_assignment", "unknown_type"]),
        "id": mostly("PABC123"),
        "incident": mostly({"id": "PINC001", "summary": "Disk full"}),
    },
    optional={
        "title": json_values,
        "status": json_values,
        "content": json_values,
        "html_url": st.one_of(st.text(max_size=30), st.just("https://acme.pagerduty.com/incidents/P1")),
        "incident_role_assignments": json_values,
        "service": json_values,
        "extra": json_values,
    },
)
envelopes = st.fixed_dictionaries(
    {
        "event": st.fixed_dictionaries(
            {
                "id": mostly("01EVENT"),
                "event_type": mostly("incident.triggered", st.text(max_size=20) | st.just("pagey.ping")),
                "occurred_at": mostly(RECEIVED_AT.isoformat()),
                "data": st.one_of(data_documents, data_documents, data_documents, json_values),
            },
            optional={"agent": mostly(None), "client": mostly(None), "resource_type": mostly("incident")},
        )
    }
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(envelope=envelopes)
def test_arbitrary_signed_payloads_are_answered_2xx_or_4xx(
    webhook_event_template: dict[str, Any], envelope: dict[str, Any]
) -> None:
    stack = build_stack(clock=lambda: RECEIVED_AT)
    response = stack.invoke(signed_event(webhook_event_template, json.dumps(envelope).encode()))
    status, answer = status_and_body(response)
    event(f"{status} {answer.get('status') or answer.get('type')}")
    assert status in (200, 400)
    assert len(stack.bus.published) == (1 if answer.get("status") == "processed" else 0)
