"""The review's forgeries end to end: an SNS topic on the embedded AWS delivers into the alert queue beside an
EventBridge rule's deliveries, the forwarder reads the queue, the PagerDuty simulator shows what was paged and
resolved."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from functions.alert_forwarder import app
from pagerduty_utils.alert_forwarder.wiring import Forwarder, build_forwarder
from pagerduty_utils.settings import ForwarderSettings, load_settings
from pdutils.moto_server import MotoEndpoint
from pdutils.simulator import SimulatorHandle
from pdutils.testing.forwarder import ROUTING_KEYS, ForwarderStack, LambdaContextStub
from tests.unit.fixtures.forged_alerts import (
    SECURITY_RULES,
    alarm_notification,
    alarm_state_change,
    forged_guardduty_finding,
    forged_ok,
)

pytestmark = pytest.mark.integration

ALARM_KEY = "aws/cloudwatch/123456789012/us-east-1/orders-db-replica-lag"


class AlertPaths:
    """The stack's two ways into the alert queue: an EventBridge rule's delivery, and the alert topic.

    The rule's delivery is written as EventBridge writes it (the embedded AWS's rules leave out ``account``).
    """

    def __init__(self, aws: MotoEndpoint, stack: ForwarderStack) -> None:
        self._stack = stack
        self._sns = boto3.client("sns", endpoint_url=aws.url)
        self.topic_arn = self._sns.create_topic(Name="pagerduty-alerts")["TopicArn"]
        self._sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=stack.queue_arn)

    def deliver_by_rule(self, event: dict[str, Any]) -> None:
        self._stack.publish(json.dumps(event))

    def publish(self, document: dict[str, Any]) -> None:
        self._sns.publish(TopicArn=self.topic_arn, Message=json.dumps(document))


@pytest.fixture
def paths(aws: MotoEndpoint, forwarder_stack: ForwarderStack, monkeypatch: pytest.MonkeyPatch) -> AlertPaths:
    paths = AlertPaths(aws, forwarder_stack)
    monkeypatch.setenv("ROUTING_RULES", SECURITY_RULES)
    monkeypatch.setenv("ALARM_TOPIC_ARNS", paths.topic_arn)
    return paths


@pytest.fixture
def forwarder(paths: AlertPaths, pd_sim: SimulatorHandle) -> Forwarder:
    return build_forwarder(load_settings(ForwarderSettings))


def forward_queued(stack: ForwarderStack, forwarder: Forwarder) -> None:
    event = stack.receive_batch()
    assert event["Records"], "nothing reached the alert queue"
    response = app.lambda_handler(event, LambdaContextStub(), forwarder=forwarder)
    assert stack.settle(event, response) == 0


def alarm_status(pd_sim: SimulatorHandle) -> str:
    return pd_sim.state.alerts[(ROUTING_KEYS["default"], ALARM_KEY)].status


def test_a_forged_ok_published_to_the_topic_leaves_the_incident_open(
    paths: AlertPaths, forwarder_stack: ForwarderStack, forwarder: Forwarder, pd_sim: SimulatorHandle
) -> None:
    paths.deliver_by_rule(alarm_state_change())
    forward_queued(forwarder_stack, forwarder)
    assert alarm_status(pd_sim) == "triggered"

    paths.publish(forged_ok())
    forward_queued(forwarder_stack, forwarder)
    assert alarm_status(pd_sim) == "triggered"


def test_cloudwatchs_own_notification_on_the_alarm_topic_resolves_the_incident(
    paths: AlertPaths, forwarder_stack: ForwarderStack, forwarder: Forwarder, pd_sim: SimulatorHandle
) -> None:
    paths.deliver_by_rule(alarm_state_change())
    forward_queued(forwarder_stack, forwarder)

    paths.publish(alarm_notification("OK"))
    forward_queued(forwarder_stack, forwarder)
    assert alarm_status(pd_sim) == "resolved"


def test_a_forged_guardduty_finding_published_to_the_topic_does_not_page_security(
    paths: AlertPaths, forwarder_stack: ForwarderStack, forwarder: Forwarder, pd_sim: SimulatorHandle
) -> None:
    paths.publish(forged_guardduty_finding())
    forward_queued(forwarder_stack, forwarder)

    [(routing_key, dedup_key)] = list(pd_sim.state.alerts)
    assert routing_key == ROUTING_KEYS["default"]
    assert dedup_key.startswith(f"claimed/sns:{paths.topic_arn}/aws/guardduty/")


def test_a_guardduty_finding_from_the_rule_pages_security(
    paths: AlertPaths, forwarder_stack: ForwarderStack, forwarder: Forwarder, pd_sim: SimulatorHandle
) -> None:
    paths.deliver_by_rule(forged_guardduty_finding())
    forward_queued(forwarder_stack, forwarder)

    [(routing_key, dedup_key)] = list(pd_sim.state.alerts)
    assert routing_key == ROUTING_KEYS["security"]
    assert dedup_key.startswith("aws/guardduty/")
