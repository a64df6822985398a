"""Every sample event in events/ is accepted by the Powertools parser model of the trigger it stands for."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventModel,
    EventBridgeModel,
    SnsModel,
    SnsNotificationModel,
    SqsModel,
)
from pydantic import BaseModel

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"
LOCAL_WEBHOOK_SECRET = "local-webhook-secret"  # documented in docs/local.md

MODEL_BY_EVENT_FILE: dict[str, type[BaseModel]] = {
    "apigateway_webhook.json": APIGatewayProxyEventModel,
    "apigateway_health.json": APIGatewayProxyEventModel,
    "sns_cloudwatch_alarm.json": SnsModel,
    "sns_cloudwatch_ok.json": SnsModel,
    "sqs_alert_batch.json": SqsModel,
    "eventbridge_alarm_state_change.json": EventBridgeModel,
    "eventbridge_guardduty_finding.json": EventBridgeModel,
    "eventbridge_securityhub_finding.json": EventBridgeModel,
    "eventbridge_health_event.json": EventBridgeModel,
    "eventbridge_custom_app_event.json": EventBridgeModel,
    "schedule.json": EventBridgeModel,
}


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text())
    return event


def test_every_event_file_has_a_model() -> None:
    assert sorted(path.name for path in EVENTS_DIR.glob("*.json")) == sorted(MODEL_BY_EVENT_FILE)


@pytest.mark.parametrize(("name", "model"), MODEL_BY_EVENT_FILE.items())
def test_event_is_accepted_by_its_parser_model(name: str, model: type[BaseModel]) -> None:
    model.model_validate(load_event(name))


def test_webhook_signature_covers_the_exact_body_with_the_local_secret() -> None:
    request = APIGatewayProxyEventModel.model_validate(load_event("apigateway_webhook.json"))
    assert isinstance(request.body, str)
    expected = hmac.new(LOCAL_WEBHOOK_SECRET.encode(), request.body.encode(), hashlib.sha256).hexdigest()
    assert request.headers["X-PagerDuty-Signature"] == f"v1={expected}"
    assert request.headers["X-Webhook-Id"]
    assert request.headers["X-Webhook-Subscription"]
    assert json.loads(request.body)["event"]["event_type"] == "incident.triggered"


@pytest.mark.parametrize(("name", "state"), [("sns_cloudwatch_alarm.json", "ALARM"), ("sns_cloudwatch_ok.json", "OK")])
def test_sns_events_carry_one_alarm_in_each_state(name: str, state: str) -> None:
    notification = SnsModel.model_validate(load_event(name)).Records[0].Sns
    assert isinstance(notification.Message, str)
    alarm = json.loads(notification.Message)
    assert (alarm["AlarmName"], alarm["NewStateValue"]) == ("checkout-api-high-cpu", state)


def test_sqs_batch_wraps_sns_and_eventbridge_alerts() -> None:
    records = SqsModel.model_validate(load_event("sqs_alert_batch.json")).Records
    sources = []
    for record in records:
        assert isinstance(record.body, str)
        body = json.loads(record.body)
        if body.get("Type") == "Notification":
            notification = SnsNotificationModel.model_validate(body)
            assert isinstance(notification.Message, str)
            sources.append(json.loads(notification.Message)["AlarmArn"].split(":")[2])
        else:
            sources.append(EventBridgeModel.model_validate(body).source)
    assert sources == ["cloudwatch", "aws.guardduty", "com.example.checkout"]


def test_schedule_event_has_a_version_and_an_empty_detail() -> None:
    schedule = EventBridgeModel.model_validate(load_event("schedule.json"))
    assert (schedule.version, schedule.detail_type, schedule.detail) == ("0", "Scheduled Event", {})
