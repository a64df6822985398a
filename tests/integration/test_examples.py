"""Every example in examples/ invoked with its event file, against the PagerDuty simulator and the embedded AWS.

Each example is imported from its file under a unique module name, the way Lambda would load it, and each test
asserts what a user would observe: the simulator's alerts, incidents and change events, the decrypted payload,
the answer to a signed, a tampered and an unsigned webhook, the rendered notifications.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest

from pagerduty_utils import secrets
from pagerduty_utils.api_client import DeadlineExceededError, PagerDutyAPIClientSync
from pagerduty_utils.exceptions import ValidationError
from pdutils.moto_server import MotoEndpoint
from pdutils.redis_server import RedisEndpoint
from pdutils.simulator import DEFAULT_SERVICE_ID, DEV_TOKEN, SimulatorHandle
from pdutils.simulator.state import Service
from pdutils.testing.forwarder import LambdaContextStub

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ROUTING_KEY = "R" * 32
FROM_EMAIL = "oncall@example.com"
WEBHOOK_SECRET = "example-webhook-secret"  # the secret examples/events/webhook_*.json are signed with
CONTEXT = LambdaContextStub(function_name="example")


def load_example(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import examples/<name>.py as a fresh module (its cached clients too), registered for this test only."""
    module_name = f"pagerduty_utils_examples_{name}"
    spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, module_name, module)
    spec.loader.exec_module(module)
    return module


def example_event(file_name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EXAMPLES / "events" / file_name).read_text())
    return event


def store_secret(name: str, value: str) -> str:
    boto3.client("secretsmanager").create_secret(Name=name, SecretString=value)
    return name


@pytest.fixture(autouse=True)
def fresh_secrets() -> Iterator[None]:
    """Secret values are cached per process; each test stores its own."""
    secrets.clear_cache()
    yield
    secrets.clear_cache()


@pytest.fixture
def routing_key_secret(aws: MotoEndpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROUTING_KEY_SECRET_ID", store_secret("examples/routing-key", ROUTING_KEY))


# --- send_alert.py -----------------------------------------------------------------------------------------------


def test_send_alert_triggers_then_resolves(
    pd_sim: SimulatorHandle, routing_key_secret: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = load_example("send_alert", monkeypatch)
    dedup_key = "synthetic-check/checkout-api-latency"

    triggered = example.lambda_handler(example_event("check_failed.json"), CONTEXT)
    alert = pd_sim.state.alerts[(ROUTING_KEY, dedup_key)]
    assert triggered == {"action": "trigger", "dedup_key": dedup_key, "attempts": 1}
    assert alert.status == "triggered"
    assert alert.summary == "checkout-api-latency failing: p99 4.2 s over 3 minutes (threshold 2 s)"
    assert alert.events[0]["payload"]["source"] == "https://checkout.example.com/health"

    resolved = example.lambda_handler(example_event("check_recovered.json"), CONTEXT)
    assert resolved["action"] == "resolve"
    assert pd_sim.state.alerts[(ROUTING_KEY, dedup_key)].status == "resolved"


def test_send_alert_stops_before_the_invocation_runs_out(
    pd_sim: SimulatorHandle, routing_key_secret: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = load_example("send_alert", monkeypatch)
    with pytest.raises(DeadlineExceededError):
        example.lambda_handler(example_event("check_failed.json"), LambdaContextStub(seconds_left=0.5))
    assert not [request for request in pd_sim.state.requests if request.path == "/v2/enqueue"]


# --- create_incident.py ------------------------------------------------------------------------------------------


def test_create_incident_adds_a_note_and_lists_every_page(
    pd_sim: SimulatorHandle, aws: MotoEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAGERDUTY_API_TOKEN_SECRET_ID", store_secret("examples/rest-token", DEV_TOKEN))
    monkeypatch.setenv("PAGERDUTY_FROM_EMAIL", FROM_EMAIL)
    seeding = PagerDutyAPIClientSync(DEV_TOKEN, base_url=pd_sim.base_url, from_email=FROM_EMAIL)
    already_open = {
        seeding.create_incident({"title": f"open {number}", "service_id": DEFAULT_SERVICE_ID})["id"]
        for number in range(100)
    }
    closed = seeding.create_incident({"title": "closed", "service_id": DEFAULT_SERVICE_ID})["id"]
    seeding.update_incident(closed, {"status": "resolved"})
    example = load_example("create_incident", monkeypatch)

    result = example.lambda_handler(example_event("create_incident.json"), CONTEXT)

    incident = pd_sim.state.incidents[result["incident_id"]]
    assert (incident.title, incident.urgency) == ("Checkout payments failing for EU customers", "high")
    assert incident.incident_key == "checkout/payments-eu/2026-11-27"
    assert result["html_url"].endswith(f"/incidents/{incident.id}")
    assert [note.content for note in incident.notes] == [example_event("create_incident.json")["note"]]
    assert set(result["open_incident_ids"]) == already_open | {incident.id}
    listed = [
        request.query for request in pd_sim.state.requests if (request.method, request.path) == ("GET", "/incidents")
    ]
    assert [page["offset"] for page in listed] == [["0"], ["100"]]  # 101 open incidents: two pages of 100


# --- verify_webhook.py -------------------------------------------------------------------------------------------


@pytest.fixture
def webhook_example(aws: MotoEndpoint, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The example with two active secrets, as during a rotation: the event is signed with the older one."""
    signing_secrets = json.dumps(["rotated-in-secret", WEBHOOK_SECRET])
    monkeypatch.setenv("WEBHOOK_SECRETS_SECRET_ID", store_secret("examples/webhook-secrets", signing_secrets))
    return load_example("verify_webhook", monkeypatch)


def test_verify_webhook_accepts_a_signed_delivery(webhook_example: ModuleType) -> None:
    response = webhook_example.lambda_handler(example_event("webhook_incident_acknowledged.json"), CONTEXT)
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {
        "event_id": "01HZX4M7Q8R2T6V9W3Y5A7C9E1",
        "event_type": "incident.acknowledged",
    }


def test_verify_webhook_refuses_a_tampered_body(webhook_example: ModuleType) -> None:
    event = example_event("webhook_incident_acknowledged.json")
    event["body"] = event["body"].replace('"status":"acknowledged"', '"status":"resolved"')
    response = webhook_example.lambda_handler(event, CONTEXT)
    assert response["statusCode"] == 403
    assert json.loads(response["body"])["title"] == "No valid signature"


def test_verify_webhook_refuses_an_unsigned_delivery(webhook_example: ModuleType) -> None:
    event = example_event("webhook_incident_acknowledged.json")
    for headers in (event["headers"], event["multiValueHeaders"]):
        del headers["X-PagerDuty-Signature"]
    response = webhook_example.lambda_handler(event, CONTEXT)
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["title"] == "Malformed signature header"


# --- envelope_encryption.py --------------------------------------------------------------------------------------


def test_envelope_encryption_round_trip_is_bound_to_the_incident(
    aws: MotoEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KMS_KEY_ID", boto3.client("kms").create_key()["KeyMetadata"]["KeyId"])
    example = load_example("envelope_encryption", monkeypatch)
    event = example_event("responder_contact.json")

    result = example.lambda_handler(event, CONTEXT)

    assert result["incident_id"] == "Q1EXAMPLE7PLK2"
    assert "482 913 207" not in result["sealed_details"]
    assert example.unseal("Q1EXAMPLE7PLK2", result["sealed_details"]) == event["details"]
    with pytest.raises(ValidationError):
        example.unseal("QANOTHERINCIDENT", result["sealed_details"])


# --- change_event.py ---------------------------------------------------------------------------------------------


def test_change_event_records_the_deployment(
    pd_sim: SimulatorHandle, routing_key_secret: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = load_example("change_event", monkeypatch)

    result = example.lambda_handler(example_event("codedeploy_deployment_success.json"), CONTEXT)

    assert result["status_code"] == 202
    [change] = pd_sim.state.change_events
    assert change["routing_key"] == ROUTING_KEY
    assert change["payload"]["summary"] == "checkout-api deployment to production: SUCCESS (d-7QK2X9M4B)"
    assert change["payload"]["custom_details"]["deployment_id"] == "d-7QK2X9M4B"
    assert change["links"] == [
        {
            "href": "https://us-east-1.console.aws.amazon.com/codesuite/codedeploy/deployments/d-7QK2X9M4B"
            "?region=us-east-1",
            "text": "Deployment in CodeDeploy",
        }
    ]


# --- notifications.py --------------------------------------------------------------------------------------------


def test_notifications_render_one_alert_for_every_channel(monkeypatch: pytest.MonkeyPatch) -> None:
    example = load_example("notifications", monkeypatch)

    [rendering] = example.lambda_handler(example_event("alarm_state_change.json"), CONTEXT)

    slack, teams, email = rendering["slack"], rendering["teams"], rendering["email"]
    assert slack["text"].startswith("TRIGGERED: ALARM: checkout-api-5xx")
    assert "&lt;payments &amp; orders&gt;" in slack["blocks"][0]["text"]["text"]
    card = teams["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard"
    assert {"title": "Name", "value": r"checkout\-api\-5xx"} in card["body"][2]["facts"]  # Markdown-escaped
    assert email["subject"].startswith("[TRIGGERED ERROR] ALARM: checkout-api-5xx")
    assert "&lt;payments &amp; orders&gt;" in email["html"]
    assert "<payments & orders>" in email["text"]
    assert json.loads(json.dumps(rendering)) == rendering


# --- seed_readme.py ----------------------------------------------------------------------------------------------


@pytest.fixture
def seed_readme(
    pd_sim: SimulatorHandle,
    aws: MotoEndpoint,
    redis_server: RedisEndpoint,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> ModuleType:
    """The example, with the local stack seeded and its environment set as its ``main`` does."""
    example = load_example("seed_readme", monkeypatch)
    pd_sim.state.add_service(Service("SERVICE_ID", "Checkout database"))
    for name, value in example.stack_environment(aws.url, pd_sim.base_url, redis_server.url, tmp_path).items():
        monkeypatch.setenv(name, value)
    return example


def test_seed_readme_runs_every_readme_example_and_the_configuration(
    seed_readme: ModuleType, pd_sim: SimulatorHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    results = dict(seed_readme.run_readme())

    [incident] = pd_sim.state.incidents.values()
    assert (incident.title, incident.urgency, incident.service_id) == ("Critical Database Error", "high", "SERVICE_ID")
    assert results["api_client: create_incident"]["id"] == incident.id
    assert results["encryption: encrypted_data"].startswith("pdenc1.")  # the KMS envelope: ENCRYPTION_KEY is a key id
    assert results["encryption: decrypted_data == api_key"] is True
    assert results["circuit_breaker: external_api_call()"] is None
    assert results["circuit_breaker: a failing call six times"][:5] == ["failed"] * 5
    assert results["circuit_breaker: a failing call six times"][5].startswith("refused, retry in")
    configuration = results["configuration"]
    assert configuration["pagerduty.api_timeout -> client read timeout"] == 30.0
    assert configuration["pagerduty.retry_attempts -> client attempts"] == 3
    assert configuration["pagerduty.circuit_breaker"] == {"failure_threshold": 5, "recovery_timeout": 60}
    assert (configuration["cache backend"], configuration["cache.default_ttl"]) == ("redis", 300)
    assert configuration["cached read back from a new container"] == {"id": "SERVICE_ID"}
    assert configuration["security.encryption_key -> KMS envelope"] is True
    assert configuration["security.jwt_secret -> verified subject"] == "sre@example.com"
    printed = capsys.readouterr().out
    assert 'api_client: incident service: "SERVICE_ID"' in printed
    assert "configuration: {" in printed
