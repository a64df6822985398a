"""Domain errors to RFC 9457 problems, AWS errors to domain errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from botocore.exceptions import ClientError, EndpointConnectionError

from pagerduty_utils.error_handler import dependency_error, problem_for, register_error_handlers
from pagerduty_utils.exceptions import (
    ConfigurationError,
    DeliveryInProgressError,
    DependencyError,
    InvalidCredentialsError,
    MalformedSignatureError,
    PagerDutyUtilsError,
    PayloadTooLargeError,
    SignatureError,
    ValidationError,
)
from pdutils.testing.webhook_fakes import RecordingAudit


@pytest.mark.parametrize(
    ("error", "status", "slug"),
    [
        (PayloadTooLargeError("body exceeds 10 bytes"), 413, "payload-too-large"),
        (MalformedSignatureError("header is missing"), 400, "malformed-signature"),
        (SignatureError("no match"), 403, "invalid-signature"),
        (InvalidCredentialsError("token has expired"), 401, "invalid-token"),
        (ValidationError("bad field"), 400, "invalid-request"),
        (DeliveryInProgressError("busy", retry_after=30), 503, "delivery-in-progress"),
        (DependencyError("DynamoDB PutItem failed: ThrottlingException"), 503, "temporarily-unavailable"),
        (ConfigurationError("secret 'pd/hooks' cannot be read"), 500, "configuration-error"),
        (PagerDutyUtilsError("odd"), 500, "internal-error"),
        (KeyError("boom"), 500, "internal-error"),
    ],
)
def test_each_error_maps_to_one_status(error: Exception, status: int, slug: str) -> None:
    problem = problem_for(error, request_id="req-9")
    body = problem.body()
    assert (body["status"], body["type"]) == (status, f"urn:pagerduty-utils:problem:{slug}")
    assert body["instance"] == "urn:request:req-9"
    assert body["title"]


def test_only_safe_details_are_exposed() -> None:
    assert problem_for(ValidationError("bad field")).detail == "bad field"
    for hidden in (ConfigurationError("secret 'pd/hooks' cannot be read"), KeyError("token=abc"), SignatureError("x")):
        detail = problem_for(hidden).detail
        assert "pd/hooks" not in detail
        assert "abc" not in detail


def test_retry_after_header_for_retryable_errors() -> None:
    assert problem_for(DeliveryInProgressError("busy", retry_after=29.6)).headers() == {"Retry-After": "30"}
    assert problem_for(ValidationError("x")).headers() == {}


def test_invalid_credentials_say_how_to_authenticate_but_not_which_check_failed() -> None:
    problem = problem_for(InvalidCredentialsError("token is for another audience"))
    assert problem.headers() == {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    assert "audience" not in problem.detail


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}}, "PutItem")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (client_error("ResourceNotFoundException"), ConfigurationError),
        (client_error("AccessDeniedException"), ConfigurationError),
        (client_error("ProvisionedThroughputExceededException"), DependencyError),
        (client_error("InternalServerError"), DependencyError),
        (EndpointConnectionError(endpoint_url="http://x"), DependencyError),
    ],
)
def test_aws_errors_become_domain_errors(error: ClientError, expected: type[Exception]) -> None:
    translated = dependency_error("DynamoDB PutItem", error)
    assert type(translated) is expected
    assert str(translated).startswith("DynamoDB PutItem failed: ")


def test_registered_handler_answers_problems_logs_without_traces_and_audits_configuration_errors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = APIGatewayRestResolver()
    audit = RecordingAudit()
    register_error_handlers(app, logger=Logger(service="test"), audit=audit)

    @app.get("/boom")
    def boom() -> None:
        raise KeyError("token=hunter2")

    @app.get("/misconfigured")
    def misconfigured() -> None:
        raise ConfigurationError("secret 'pd/hooks' must be a non-empty JSON list")

    def call(path: str) -> dict[str, Any]:
        event = {"path": path, "httpMethod": "GET", "headers": {}, "requestContext": {"requestId": "req-5"}}
        response: dict[str, Any] = app.resolve(event, None)  # type: ignore[arg-type]
        return response

    unexpected = call("/boom")
    assert unexpected["statusCode"] == 500
    assert "hunter2" not in unexpected["body"]
    [log_line] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert log_line["error_type"] == "KeyError"
    assert log_line["raised_at"].endswith(f"test_error_handler.py:{boom.__code__.co_firstlineno + 2}")
    assert "hunter2" not in json.dumps(log_line)
    assert "Traceback" not in json.dumps(log_line)

    assert call("/misconfigured")["statusCode"] == 500
    assert [(r.action, r.outcome, r.context["request_id"]) for r in audit.records] == [
        ("configuration", "failed", "req-5")
    ]
