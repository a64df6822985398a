"""An unroutable alert is dead-lettered with its reason, then redriven and delivered once the secret is fixed."""

from __future__ import annotations

import json

import boto3
import pytest

from functions.alert_forwarder import app
from pagerduty_utils import secrets
from pagerduty_utils.alert_forwarder.dead_letter import REASON_ATTRIBUTE
from pagerduty_utils.alert_forwarder.wiring import build_forwarder
from pagerduty_utils.settings import ForwarderSettings, load_settings
from pdutils import cli
from pdutils.moto_server import MotoEndpoint
from pdutils.simulator import SimulatorHandle
from pdutils.testing.forwarder import (
    ROUTING_KEYS,
    ROUTING_KEYS_SECRET_ID,
    ForwarderStack,
    LambdaContextStub,
    application_alert,
)

pytestmark = pytest.mark.integration

PAYMENTS_KEY = "P" * 32
RULES_WITH_PAYMENTS = """
rules:
  - match: {tags: {team: payments}}
    routing_key: payments
default: {routing_key: default}
"""


def forward_queued(stack: ForwarderStack) -> dict[str, object] | None:
    event = stack.receive_batch()
    forwarder = build_forwarder(load_settings(ForwarderSettings))
    response: dict[str, object] | None = app.lambda_handler(event, LambdaContextStub(), forwarder=forwarder)
    stack.settle(event, response)
    return response


def test_redrive_after_fixing_the_routing_keys_secret(
    forwarder_stack: ForwarderStack,
    pd_sim: SimulatorHandle,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ROUTING_RULES", RULES_WITH_PAYMENTS)
    alert = application_alert("payments-timeouts", team="payments")
    forwarder_stack.publish(json.dumps(alert))
    forward_queued(forwarder_stack)
    assert forwarder_stack.queued() == 0
    assert pd_sim.state.requests == []

    arguments = ["redrive", "--dlq", forwarder_stack.dead_letter_queue_url, "--queue", forwarder_stack.queue_url]
    capsys.readouterr()
    assert cli.main([*arguments, "--dry-run"]) == 0
    assert "dead letters seen: 1 (unroutable: 1)" in capsys.readouterr().out
    [letter] = forwarder_stack.dead_letters()
    assert letter["MessageAttributes"][REASON_ATTRIBUTE]["StringValue"] == "unroutable"
    forwarder_stack.sqs.change_message_visibility(
        QueueUrl=forwarder_stack.dead_letter_queue_url, ReceiptHandle=letter["ReceiptHandle"], VisibilityTimeout=0
    )

    boto3.client("secretsmanager").put_secret_value(
        SecretId=ROUTING_KEYS_SECRET_ID, SecretString=json.dumps({**ROUTING_KEYS, "payments": PAYMENTS_KEY})
    )
    secrets.clear_cache()
    assert cli.main(arguments) == 0
    assert f"moved to {forwarder_stack.queue_url}: 1" in capsys.readouterr().out
    assert forwarder_stack.dead_letters() == []

    assert forward_queued(forwarder_stack) == {"batchItemFailures": []}
    [accepted] = [request.body for request in pd_sim.state.requests if request.status == 202]
    assert (accepted["routing_key"], accepted["dedup_key"]) == (PAYMENTS_KEY, "payments-timeouts")
    assert forwarder_stack.queued() == 0


def test_redrive_refuses_a_bad_max(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["redrive", "--dlq", "https://q/dlq", "--queue", "https://q/alerts", "--max", "0"]) == 2
    assert "--max must be at least 1" in capsys.readouterr().err


def test_redrive_names_a_local_queue_by_name_and_endpoint(
    aws: MotoEndpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    sqs = boto3.client("sqs")
    dead_letters = sqs.create_queue(QueueName="local-dlq")["QueueUrl"]
    alerts = sqs.create_queue(QueueName="local-alerts")["QueueUrl"]
    sqs.send_message(QueueUrl=dead_letters, MessageBody="{}")

    assert cli.main(["redrive", "--endpoint-url", aws.url, "--dlq", dead_letters, "--queue", alerts]) == 0

    output = capsys.readouterr().out
    assert f"moved to queue local-alerts on {aws.url}: 1" in output
    assert alerts not in output
