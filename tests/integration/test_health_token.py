"""``GET /health`` through the handler and its real adapters on the embedded AWS, with the token keys in Secrets
Manager (or SSM): the status for anyone, the full report for a token ``pdutils token`` minted, a 401 for the
rest, and rotation of the keys without breaking tokens already handed out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from functions.webhook_receiver.app import lambda_handler
from pagerduty_utils import secrets
from pagerduty_utils.settings import ReceiverSettings, load_settings
from pagerduty_utils.webhook_processor.wiring import build_dependencies
from pdutils.cli import main
from pdutils.local.stack_record import LocalStackRecord, write_record
from pdutils.moto_server import MotoEndpoint
from pdutils.testing.webhook_fakes import RecordingCounter

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore:No application metrics to publish")]

TABLE = "pagerduty-state"
TOKEN_SECRET = "pd/health-token-keys"
CURRENT_KEY = "health-token-key-current-0123456789abcdef"
NEXT_KEY = "health-token-key-next-0123456789abcdef0123"
REPORT = {
    "status": "degraded",
    "checked_at": "2026-11-27T04:00:00Z",
    "checks": [{"name": "secrets", "status": "degraded", "reason": "pd/routing-keys: AccessDeniedException"}],
}


@dataclass(frozen=True)
class FakeLambdaContext:
    function_name: str = "webhook-receiver"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:webhook-receiver"
    aws_request_id: str = "c0ffee00-0000-4000-8000-000000000002"


@dataclass(frozen=True)
class HealthEndpoint:
    aws: MotoEndpoint

    def get(self, authorization: str | None = None) -> tuple[int, dict[str, Any]]:
        """One GET /health through the handler, with dependencies built from the environment as on Lambda."""
        headers = {"Authorization": authorization} if authorization else {}
        event = {
            "resource": "/health",
            "path": "/health",
            "httpMethod": "GET",
            "headers": headers,
            "multiValueHeaders": {name: [value] for name, value in headers.items()},
            "body": None,
            "isBase64Encoded": False,
            "requestContext": {"requestId": "req-health", "resourcePath": "/health", "httpMethod": "GET"},
        }
        dependencies = build_dependencies(load_settings(ReceiverSettings), metrics=RecordingCounter())
        response = lambda_handler(event, FakeLambdaContext(), dependencies=dependencies)
        return response["statusCode"], json.loads(response["body"])

    def mint(self, *arguments: str, capsys: pytest.CaptureFixture[str]) -> str:
        """``pdutils token`` against this embedded AWS; the token it printed."""
        exit_code = main(["token", "--endpoint-url", self.aws.url, "--subject", "ops@example.com", *arguments])
        out = capsys.readouterr().out
        assert exit_code == 0
        return out.strip()


def put_token_keys(*keys: str) -> None:
    boto3.client("secretsmanager").put_secret_value(SecretId=TOKEN_SECRET, SecretString=json.dumps(list(keys)))
    secrets.clear_cache()


@pytest.fixture
def health(aws: MotoEndpoint, monkeypatch: pytest.MonkeyPatch) -> Iterator[HealthEndpoint]:
    secrets.clear_cache()
    boto3.client("dynamodb").create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    boto3.client("dynamodb").put_item(
        TableName=TABLE, Item={"pk": {"S": "health#latest"}, "report": {"S": json.dumps(REPORT)}}
    )
    boto3.client("secretsmanager").create_secret(Name=TOKEN_SECRET, SecretString=json.dumps([CURRENT_KEY]))
    for name, value in {
        "STATE_TABLE_NAME": TABLE,
        "WEBHOOK_SECRETS_SECRET_ID": "pd/webhook-secrets",
        "EVENT_BUS_NAME": "pagerduty-incidents",
        "HEALTH_TOKEN_SECRET_ID": TOKEN_SECRET,
    }.items():
        monkeypatch.setenv(name, value)
    yield HealthEndpoint(aws)
    secrets.clear_cache()


def test_without_a_token_only_the_status_is_served(health: HealthEndpoint) -> None:
    assert health.get() == (200, {"status": "degraded"})


def test_a_minted_token_unlocks_the_full_report(health: HealthEndpoint, capsys: pytest.CaptureFixture[str]) -> None:
    token = health.mint("--secret-id", TOKEN_SECRET, "--ttl", "120", capsys=capsys)
    assert health.get(f"Bearer {token}") == (200, REPORT)


def test_a_token_from_the_ssm_parameter_of_the_keys_verifies_too(
    health: HealthEndpoint, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    boto3.client("ssm").put_parameter(Name="/pd/health-token-keys", Value=json.dumps([NEXT_KEY]), Type="SecureString")
    monkeypatch.setenv("HEALTH_TOKEN_SECRET_ID", "ssm:/pd/health-token-keys")
    token = health.mint("--secret-id", "ssm:/pd/health-token-keys", capsys=capsys)
    assert health.get(f"Bearer {token}") == (200, REPORT)


def test_rotation_keeps_tokens_of_the_previous_key_until_it_is_removed(
    health: HealthEndpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    issued_before_rotation = health.mint("--secret-id", TOKEN_SECRET, capsys=capsys)
    put_token_keys(NEXT_KEY, CURRENT_KEY)
    issued_after_rotation = health.mint("--secret-id", TOKEN_SECRET, capsys=capsys)
    assert health.get(f"Bearer {issued_before_rotation}") == (200, REPORT)
    put_token_keys(NEXT_KEY)
    assert health.get(f"Bearer {issued_after_rotation}") == (200, REPORT)
    status, problem = health.get(f"Bearer {issued_before_rotation}")
    assert (status, problem["type"]) == (401, "urn:pagerduty-utils:problem:invalid-token")


def test_a_key_set_that_cannot_be_read_fails_token_requests_only(
    health: HealthEndpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    token = health.mint("--secret-id", TOKEN_SECRET, capsys=capsys)
    boto3.client("secretsmanager").delete_secret(SecretId=TOKEN_SECRET, ForceDeleteWithoutRecovery=True)
    secrets.clear_cache()
    assert health.get() == (200, {"status": "degraded"})
    status, problem = health.get(f"Bearer {token}")
    assert (status, problem["type"]) == (500, "urn:pagerduty-utils:problem:configuration-error")
    assert TOKEN_SECRET not in json.dumps(problem)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--secret-id", TOKEN_SECRET, "--ttl", "7200"], "lifetime"),
        (["--secret-id", "pd/no-such-secret"], "ResourceNotFoundException"),
    ],
)
def test_pdutils_token_explains_what_it_cannot_mint(
    health: HealthEndpoint, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    assert main(["token", "--endpoint-url", health.aws.url, *arguments]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err


def test_pdutils_token_needs_a_stack_to_read_the_keys_from(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--secret-id", TOKEN_SECRET, "--template", str(tmp_path / "template.yaml")]) == 2
    assert "no local stack is running" in capsys.readouterr().err


def test_pdutils_token_reads_the_keys_of_the_running_local_stack_by_default(
    health: HealthEndpoint, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = LocalStackRecord(
        endpoint_url=health.aws.url, region="us-east-1", stack_name="pdutils-local", simulator_url=None, api_url=None
    )
    write_record(tmp_path, record)
    arguments = ["token", "--secret-id", TOKEN_SECRET, "--template", str(tmp_path / "template.yaml")]
    assert main(arguments) == 0
    token = capsys.readouterr().out.strip()
    assert health.get(f"Bearer {token}") == (200, REPORT)


def test_pdutils_token_uses_the_running_stacks_health_token_secret_without_secret_id(
    health: HealthEndpoint, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = LocalStackRecord(
        endpoint_url=health.aws.url,
        region="us-east-1",
        stack_name="pdutils-local",
        simulator_url=None,
        api_url=None,
        health_token_secret_id=TOKEN_SECRET,
    )
    write_record(tmp_path, record)

    assert main(["token", "--template", str(tmp_path / "template.yaml")]) == 0
    token = capsys.readouterr().out.strip()
    assert health.get(f"Bearer {token}") == (200, REPORT)
