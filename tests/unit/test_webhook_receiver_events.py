"""The receiver's entry point faced with an invocation that did not come through API Gateway."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from typing import Any

import pytest

from functions.webhook_receiver.app import lambda_handler
from pagerduty_utils.error_handler import PROBLEM_CONTENT_TYPE


@dataclass(frozen=True)
class FakeLambdaContext:
    function_name: str = "webhook-receiver"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:webhook-receiver"
    aws_request_id: str = "c0ffee00-0000-4000-8000-000000000000"


@pytest.mark.parametrize(
    ("event", "fields"),
    [
        ({"source": "aws.events", "detail-type": "Scheduled Event"}, "detail-type, source"),
        ({"httpMethod": "GET"}, "httpMethod"),
        ({}, "no fields"),
        (["not", "an", "object"], "list"),
    ],
)
def test_a_non_api_gateway_event_is_refused_with_what_was_expected(event: Any, fields: str) -> None:
    response = lambda_handler(event, FakeLambdaContext())

    assert response["statusCode"] == 400
    assert response["headers"]["Content-Type"] == PROBLEM_CONTENT_TYPE
    problem = json.loads(response["body"])
    assert problem["title"] == "Invalid request"
    assert problem["detail"] == (
        "the webhook receiver takes API Gateway REST (v1) proxy events, with httpMethod and path; "
        f"this event has: {fields}"
    )


def test_an_invocation_without_metrics_raises_no_powertools_warning() -> None:
    with warnings.catch_warnings(record=True) as caught:
        lambda_handler({"source": "aws.events"}, FakeLambdaContext())

    assert [str(warning.message) for warning in caught] == []
