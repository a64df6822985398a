from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pagerduty_utils.alert_forwarder.batch import BatchReport, MessageOutcome, Verdict
from pagerduty_utils.alert_forwarder.intake import Trigger, inbound_messages, response_for, trigger_of
from pagerduty_utils.exceptions import RetryableError, ValidationError

EVENTS = Path(__file__).parents[2] / "events"


def load(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


@pytest.mark.parametrize(
    ("name", "trigger"),
    [
        ("sqs_alert_batch.json", Trigger.SQS),
        ("sns_cloudwatch_alarm.json", Trigger.SNS),
        ("eventbridge_guardduty_finding.json", Trigger.EVENTBRIDGE),
    ],
)
def test_trigger_is_told_by_shape(name: str, trigger: Trigger) -> None:
    assert trigger_of(load(name)) is trigger


@pytest.mark.parametrize("event", [{}, {"Records": []}, {"Records": [{"eventSource": "aws:kinesis"}]}])
def test_other_invocations_are_refused(event: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="unsupported invocation"):
        trigger_of(event)


def test_sqs_records_keep_what_retry_and_dead_letters_need() -> None:
    event = load("sqs_alert_batch.json")
    event["Records"][0]["messageAttributes"] = {"tenant": {"stringValue": "blue", "dataType": "String"}}
    event["Records"][0]["attributes"]["ApproximateReceiveCount"] = "3"
    first, *rest = inbound_messages(event, Trigger.SQS)
    assert len(rest) == len(event["Records"]) - 1
    assert first.message_id == event["Records"][0]["messageId"]
    assert first.content == event["Records"][0]
    assert first.body == event["Records"][0]["body"]
    assert first.queue_arn == "arn:aws:sqs:us-east-1:123456789012:pagerduty-alerts"
    assert first.receive_count == 3
    assert first.attributes == {"tenant": {"DataType": "String", "StringValue": "blue"}}
    assert first.sent_at.tzinfo is not None


def test_direct_sns_body_is_the_notification_as_a_queue_would_carry_it() -> None:
    event = load("sns_cloudwatch_ok.json")
    [message] = inbound_messages(event, Trigger.SNS)
    assert message.message_id == event["Records"][0]["Sns"]["MessageId"]
    assert json.loads(message.body) == event["Records"][0]["Sns"]
    assert message.receipt_handle is None


def test_direct_eventbridge_body_is_the_event() -> None:
    event = load("eventbridge_health_event.json")
    [message] = inbound_messages(event, Trigger.EVENTBRIDGE)
    assert (message.message_id, json.loads(message.body)) == (event["id"], event)


def test_direct_sns_records_sharing_a_message_id_each_become_a_message() -> None:
    event = load("sns_cloudwatch_alarm.json")
    event["Records"] = [event["Records"][0], load("sns_cloudwatch_ok.json")["Records"][0], event["Records"][0]]
    shared = event["Records"][0]["Sns"]["MessageId"]
    event["Records"][1]["Sns"]["MessageId"] = shared
    messages = inbound_messages(event, Trigger.SNS)
    assert [message.message_id for message in messages] == [shared, f"{shared}#2", f"{shared}#3"]
    assert [message.content for message in messages] == event["Records"]


@pytest.mark.parametrize(
    "change",
    [
        {"SigningCertUrl": "not a url"},
        {"Timestamp": "yesterday"},
        {"MessageId": None},
    ],
)
def test_a_malformed_direct_sns_record_still_becomes_a_message_for_the_mapping_to_judge(change: dict[str, Any]) -> None:
    event = load("sns_cloudwatch_alarm.json")
    event["Records"].append({**event["Records"][0], "Sns": {**event["Records"][0]["Sns"], **change}})
    received = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    first, second = inbound_messages(event, Trigger.SNS, now=lambda: received)
    assert first.message_id != second.message_id
    assert second.content == event["Records"][1]
    assert second.sent_at == (received if "Timestamp" in change else first.sent_at)


def test_a_direct_eventbridge_event_without_an_id_or_time_still_becomes_a_message() -> None:
    event = {**load("eventbridge_health_event.json"), "id": 7, "time": "soon"}
    received = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    [message] = inbound_messages(event, Trigger.EVENTBRIDGE, now=lambda: received)
    assert (message.message_id, message.sent_at) == ("eventbridge-event", received)


def test_malformed_sqs_batch_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="malformed sqs invocation"):
        inbound_messages({"Records": [{"eventSource": "aws:sqs"}]}, Trigger.SQS)


REPORT = BatchReport(
    {
        "m1": MessageOutcome(Verdict.DELIVERED),
        "m2": MessageOutcome(Verdict.RETRY, "throttled", retry_after=4.0),
        "m3": MessageOutcome(Verdict.DEAD_LETTERED, "invalid_event"),
    }
)


def test_sqs_answer_names_only_the_retried_records() -> None:
    assert response_for(Trigger.SQS, REPORT) == {"batchItemFailures": [{"itemIdentifier": "m2"}]}


@pytest.mark.parametrize("trigger", [Trigger.SNS, Trigger.EVENTBRIDGE])
def test_direct_invocation_raises_so_lambda_retries(trigger: Trigger) -> None:
    with pytest.raises(RetryableError, match="throttled") as raised:
        response_for(trigger, REPORT)
    assert raised.value.retry_after == 4.0


@pytest.mark.parametrize("trigger", [Trigger.SNS, Trigger.EVENTBRIDGE])
def test_direct_invocation_without_retries_returns_nothing(trigger: Trigger) -> None:
    assert response_for(trigger, BatchReport({"m1": MessageOutcome(Verdict.DEAD_LETTERED)})) is None
