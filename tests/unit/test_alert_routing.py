from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from pagerduty_utils import secrets
from pagerduty_utils.alert_forwarder.routing import RoutingPlanner, secret_routing_keys
from pagerduty_utils.config_parser import RoutingRules
from pagerduty_utils.data_transformer import TransformOptions
from pagerduty_utils.exceptions import ConfigurationError
from pagerduty_utils.pagerduty_events import EventAction, Severity
from pdutils.testing.forwarder import application_alert

KEYS = {"default": "D" * 32, "security": "S" * 32}
RULES = """
rules:
  - match: {tags: {team: noisy}}
    drop: true
  - match: {tags: {team: security}}
    routing_key: security
    severity: critical
  - match: {tags: {team: payments}}
    routing_key: payments
default: {routing_key: default}
"""


def planner(rules: str = RULES) -> RoutingPlanner:
    return RoutingPlanner(RoutingRules.from_text(rules), lambda: KEYS, TransformOptions())


def test_alert_is_routed_with_the_rules_severity() -> None:
    plan = planner().plan(application_alert("breach", team="security"))
    [event] = plan.events
    assert (event.routing_key, event.dedup_key, event.event_action) == (KEYS["security"], "breach", EventAction.TRIGGER)
    assert event.payload is not None
    assert event.payload.severity is Severity.CRITICAL
    assert event.occurred_at is not None
    assert (plan.dropped, plan.unroutable) == (0, ())


def test_default_route() -> None:
    [event] = planner().plan(application_alert("slow", team="checkout")).events
    assert event.routing_key == KEYS["default"]


def test_resolve_is_planned_as_a_resolve() -> None:
    [event] = planner().plan(application_alert("slow", state="resolved")).events
    assert (event.event_action, event.payload) == (EventAction.RESOLVE, None)


def test_drop_rule_counts_the_alert() -> None:
    plan = planner().plan(application_alert("chatter", team="noisy"))
    assert (plan.events, plan.dropped) == ((), 1)


def test_name_missing_from_the_secret_is_unroutable() -> None:
    plan = planner().plan(application_alert("timeouts", team="payments"))
    assert plan.events == ()
    assert plan.unroutable == ("routing key 'payments' is not in the routing keys secret",)


def test_no_rule_and_no_default_is_unroutable() -> None:
    plan = planner("rules:\n  - match: {tags: {team: security}}\n    routing_key: security\n").plan(
        application_alert("slow", team="checkout")
    )
    assert plan.events == ()
    assert plan.unroutable[0].startswith("no routing rule matches custom alert")


@pytest.fixture
def secretsmanager(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    secrets.clear_cache()
    with mock_aws():
        yield
    secrets.clear_cache()


@pytest.mark.usefixtures("secretsmanager")
def test_routing_keys_come_from_the_json_secret() -> None:
    boto3.client("secretsmanager").create_secret(Name="keys", SecretString=json.dumps(KEYS))
    assert secret_routing_keys("keys", max_age=60)() == KEYS


@pytest.mark.usefixtures("secretsmanager")
@pytest.mark.parametrize("value", [["D" * 32], {"default": 7}])
def test_routing_keys_secret_must_map_names_to_keys(value: object) -> None:
    boto3.client("secretsmanager").create_secret(Name="keys", SecretString=json.dumps(value))
    with pytest.raises(ConfigurationError, match="routing key names to keys"):
        secret_routing_keys("keys", max_age=60)()


def sample(name: str) -> dict[str, object]:
    document: dict[str, object] = json.loads((Path(__file__).parents[2] / "events" / name).read_text())
    return document


def test_a_completed_deployment_is_planned_as_a_change_event_and_a_resolve() -> None:
    plan = planner("default: {routing_key: default}").plan(
        sample("sources/eventbridge_codedeploy_deployment_succeeded.json")
    )
    [resolve] = plan.events
    [change] = plan.changes
    assert resolve.event_action is EventAction.RESOLVE
    assert (change.routing_key, change.summary) == (
        KEYS["default"],
        "CodeDeploy SUCCESS: checkout-api/production — d-7ZA4Q2B1X",
    )
    assert change.timestamp is not None
    assert [link.text for link in change.links] == ["View the deployment in CodeDeploy"]


def test_send_as_chooses_between_a_change_event_and_an_alert() -> None:
    rules = """
rules:
  - match: {source: codedeploy}
    send_as: alert
  - match: {source: eventbridge, name: "aws.ec2/*"}
    send_as: change
default: {routing_key: default}
"""
    deployment = planner(rules).plan(sample("sources/eventbridge_codedeploy_deployment_succeeded.json"))
    assert ([event.event_action for event in deployment.events], deployment.changes) == (
        [EventAction.RESOLVE, EventAction.TRIGGER],
        (),
    )
    instance = planner(rules).plan(sample("sources/eventbridge_ec2_instance_state_change.json"))
    assert (instance.events, len(instance.changes)) == ((), 1)


def test_group_by_folds_generic_events_and_their_success_resolves() -> None:
    rules = """
rules:
  - match: {source: eventbridge}
    group_by: [detail.jobName]
default: {routing_key: default}
"""
    event = sample("sources/eventbridge_ec2_instance_state_change.json")
    failed = {**event, "id": "e-1", "detail": {"jobName": "etl", "state": "FAILED"}}
    succeeded = {**event, "id": "e-2", "detail": {"jobName": "etl", "state": "SUCCEEDED"}}
    [opened] = planner(rules).plan(failed).events
    [closed] = planner(rules).plan(succeeded).events
    assert opened.dedup_key == closed.dedup_key
    assert (opened.event_action, closed.event_action) == (EventAction.TRIGGER, EventAction.RESOLVE)


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ("rules: [{group_by: ['detail..x'], routing_key: k}]", "rules[0].group_by[0]: String should match pattern"),
        ("rules: [{send_as: page, routing_key: k}]", "rules[0].send_as: Input should be 'alert' or 'change'"),
        ("rules: [{drop: true, group_by: [subject]}]", "a drop rule cannot also set"),
    ],
)
def test_group_by_and_send_as_are_checked_at_load(rules: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        RoutingRules.from_text(rules)
