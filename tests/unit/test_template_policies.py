"""template.yaml's policies grant each function what its code calls and no more, and keep forged alerts out.

Every action a role holds must be listed below with what uses it: an SDK call found in the module named (the test
reads that module's source), or the Lambda platform acting as the role. An action the template adds without a use,
or a use the code no longer makes, fails. The resource policies on the alert path are evaluated for the senders an
attacker inside the account would try, with the same explicit-deny-first logic IAM applies.
"""

from __future__ import annotations

import fnmatch
import importlib
import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from pagerduty_utils.state_table import KeyPrefix
from pdutils.local.intrinsics import IntrinsicResolver
from pdutils.local.stack_resources import resource_values
from pdutils.local.template import SamTemplate
from tests.unit.test_template import (
    ACTIONS_WITHOUT_RESOURCE_TYPES,
    TEMPLATE_PATH,
    iam_statements,
    possible_strings,
    role_statements,
)

REGION = "us-east-1"
ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
STACK = "pagerduty"


@dataclass(frozen=True)
class Calls:
    """The action is used by an SDK call (``method``, snake case) made in ``module``."""

    module: str
    method: str


@dataclass(frozen=True)
class Platform:
    """The action is used by AWS on the role's behalf (Lambda, its event source mapping, a service's encryption)."""

    reason: str


Use = Calls | Platform

POWERTOOLS_SECRETS = "aws_lambda_powertools.utilities.parameters.secrets"
POWERTOOLS_SSM = "aws_lambda_powertools.utilities.parameters.ssm"
POWERTOOLS_CIRCUITS = "aws_lambda_powertools.utilities.circuit_breaker.persistence.dynamodb"
LAMBDA_BASICS: dict[str, Use] = {
    "logs:CreateLogStream": Platform("Lambda writes the function's log group"),
    "logs:PutLogEvents": Platform("Lambda writes the function's log group"),
    "xray:PutTraceSegments": Platform("active tracing"),
    "xray:PutTelemetryRecords": Platform("active tracing"),
    "kms:Decrypt": Platform("Lambda decrypts the environment, DynamoDB the table key, SQS/SNS their messages"),
    "secretsmanager:GetSecretValue": Calls(POWERTOOLS_SECRETS, "get_secret_value"),
    "ssm:GetParameter": Calls(POWERTOOLS_SSM, "get_parameter"),
}
ROLE_USES: dict[str, dict[str, Use]] = {
    "AlertForwarderRole": {
        **LAMBDA_BASICS,
        "sqs:ReceiveMessage": Platform("the SQS event source mapping polls the alert queue as the role"),
        "sqs:DeleteMessage": Platform("the event source mapping deletes the records that succeeded"),
        "sqs:GetQueueAttributes": Platform("the event source mapping reads the queue's attributes"),
        "sqs:ChangeMessageVisibility": Calls(
            "pagerduty_utils.alert_forwarder.queue_backoff", "change_message_visibility_batch"
        ),
        "sqs:SendMessage": Calls("pagerduty_utils.alert_forwarder.dead_letter", "send_message_batch"),
        "kms:GenerateDataKey": Platform("SQS encrypts the dead letters the forwarder sends"),
        "dynamodb:BatchGetItem": Calls("pagerduty_utils.alert_forwarder.delivery_ledger", "batch_get_item"),
        "dynamodb:GetItem": Calls(POWERTOOLS_CIRCUITS, "get_item"),
        "dynamodb:PutItem": Calls(POWERTOOLS_CIRCUITS, "put_item"),
        "dynamodb:UpdateItem": Calls("pagerduty_utils.alert_forwarder.delivery_ledger", "update_item"),
    },
    "WebhookReceiverRole": {
        **LAMBDA_BASICS,
        "events:PutEvents": Calls("pagerduty_utils.webhook_processor.event_publisher", "put_events"),
        "sns:Publish": Calls("pagerduty_utils.webhook_processor.event_publisher", "publish"),
        "kms:GenerateDataKey": Platform("SNS encrypts the notifications published to the encrypted topic"),
        "dynamodb:GetItem": Calls("pagerduty_utils.webhook_processor.health_snapshot", "get_item"),
        "dynamodb:PutItem": Calls("pagerduty_utils.webhook_processor.incident_state", "put_item"),
        "dynamodb:UpdateItem": Calls("pagerduty_utils.webhook_processor.incident_state", "update_item"),
        "dynamodb:DeleteItem": Calls("pagerduty_utils.webhook_processor.incident_state", "delete_item"),
    },
    "HealthCheckerRole": {
        **LAMBDA_BASICS,
        "secretsmanager:DescribeSecret": Calls("pagerduty_utils.secrets", "describe_secret"),
        "ssm:DescribeParameters": Calls("pagerduty_utils.secrets", "describe_parameters"),
        "kms:DescribeKey": Calls("pagerduty_utils.health_monitor.checks.kms_key", "describe_key"),
        "kms:GenerateDataKey": Calls("pagerduty_utils.health_monitor.checks.kms_key", "generate_data_key"),
        "sqs:GetQueueAttributes": Calls("pagerduty_utils.health_monitor.checks.queues", "get_queue_attributes"),
        "cloudwatch:GetMetricData": Calls("pagerduty_utils.health_monitor.checks.queues", "get_metric_data"),
        "sns:Publish": Calls("pagerduty_utils.health_monitor.operations", "publish"),
        "dynamodb:GetItem": Calls("pagerduty_utils.health_monitor.snapshot", "get_item"),
        "dynamodb:PutItem": Calls("pagerduty_utils.health_monitor.snapshot", "put_item"),
        "dynamodb:UpdateItem": Calls("pagerduty_utils.health_monitor.snapshot", "update_item"),
        "dynamodb:BatchGetItem": Calls("pagerduty_utils.health_monitor.checks.circuits", "batch_get_item"),
    },
}
# The state-table items each role may touch (pagerduty_utils.state_table.KeyPrefix).
ROLE_KEY_PREFIXES = {
    "AlertForwarderRole": {KeyPrefix.ALERT, KeyPrefix.RATE_LIMIT, KeyPrefix.CIRCUIT, KeyPrefix.HELD},
    "WebhookReceiverRole": {KeyPrefix.WEBHOOK, KeyPrefix.INCIDENT, KeyPrefix.HEALTH},
    "HealthCheckerRole": {KeyPrefix.HEALTH, KeyPrefix.CIRCUIT},
}
RETAINED_TYPES = {"AWS::KMS::Key", "AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::Logs::LogGroup"}


@pytest.fixture(scope="module")
def sam_template() -> SamTemplate:
    return SamTemplate.load(TEMPLATE_PATH)


@pytest.fixture(scope="module")
def resources(sam_template: SamTemplate) -> dict[str, Any]:
    return dict(sam_template.resources)


def role_actions(resources: dict[str, Any], role_id: str) -> set[str]:
    return {
        action for statement in role_statements(resources, role_id) for action in possible_strings(statement["Action"])
    }


def condition_keys(statement: dict[str, Any]) -> set[str]:
    """Every condition key the statement can test, following both branches of an ``Fn::If`` condition block."""
    condition = statement.get("Condition", {})
    blocks = condition["Fn::If"][1:] if "Fn::If" in condition else [condition]
    return {key for block in blocks for operator in block.values() for key in operator}


@pytest.mark.parametrize("role_id", ROLE_USES)
def test_each_role_holds_exactly_the_actions_its_function_uses(resources: dict[str, Any], role_id: str) -> None:
    granted = role_actions(resources, role_id)
    assert granted - set(ROLE_USES[role_id]) == set(), "granted, but nothing uses it"
    assert set(ROLE_USES[role_id]) - granted == set(), "used, but not granted"


CALLS = sorted(
    {(use.module, use.method) for uses in ROLE_USES.values() for use in uses.values() if isinstance(use, Calls)}
)


@pytest.mark.parametrize(("module", "method"), CALLS, ids=[f"{module}.{method}" for module, method in CALLS])
def test_each_call_a_permission_is_kept_for_is_still_made(module: str, method: str) -> None:
    assert f".{method}(" in inspect.getsource(importlib.import_module(module))


def test_no_statement_grants_a_wildcard_action_or_a_wildcard_resource_it_could_avoid(
    resources: dict[str, Any],
) -> None:
    statements = list(iam_statements(resources))
    assert len(statements) > 20
    for owner, statement in statements:
        actions = set(possible_strings(statement["Action"]))
        assert not {action for action in actions if "*" in action}, owner
        if "*" in possible_strings(statement["Resource"]):
            assert actions <= ACTIONS_WITHOUT_RESOURCE_TYPES, owner


@pytest.mark.parametrize("role_id", ROLE_USES)
def test_the_stack_key_is_used_only_through_a_service_or_under_an_encryption_context(
    resources: dict[str, Any], role_id: str
) -> None:
    for statement in role_statements(resources, role_id):
        actions = set(possible_strings(statement["Action"]))
        if not any(action.startswith("kms:") for action in actions) or actions == {"kms:DescribeKey"}:
            continue
        keys = condition_keys(statement)
        assert "kms:ViaService" in keys or any(key.startswith("kms:EncryptionContext:") for key in keys), statement


@pytest.mark.parametrize("role_id", ROLE_USES)
def test_each_role_reaches_only_its_own_items_of_the_state_table(resources: dict[str, Any], role_id: str) -> None:
    prefixes: set[str] = set()
    for statement in role_statements(resources, role_id):
        if not any(action.startswith("dynamodb:") for action in possible_strings(statement["Action"])):
            continue
        (operator,) = statement["Condition"]
        assert operator in {"ForAllValues:StringLike", "ForAllValues:StringEquals"}
        leading_keys = statement["Condition"][operator]["dynamodb:LeadingKeys"]
        assert leading_keys
        prefixes.update(key.split("#", 1)[0] for key in leading_keys)
    assert prefixes == {prefix.value for prefix in ROLE_KEY_PREFIXES[role_id]}


def test_the_health_checker_describes_secrets_it_does_not_read(resources: dict[str, Any]) -> None:
    described = [
        statement
        for statement in role_statements(resources, "HealthCheckerRole")
        if statement["Action"] == "secretsmanager:DescribeSecret"
    ]
    assert {statement["Resource"]["Fn::If"][1]["Ref"] for statement in described} == {
        "PagerDutyApiTokenSecret",
        "RoutingKeysSecret",
        "WebhookSecretsSecret",
        "HealthTokenSecret",
    }


def test_stateful_resources_survive_stack_deletion_and_replacement(resources: dict[str, Any]) -> None:
    stateful = {name: resource for name, resource in resources.items() if resource["Type"] in RETAINED_TYPES}
    assert len(stateful) == 9
    for name, resource in stateful.items():
        assert (resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy")) == ("Retain", "Retain"), name


# ---------------------------------------------------------------- who may put an alert on the path


@dataclass(frozen=True)
class TemplateResolver(IntrinsicResolver):
    """The local runtime's resolver, with list parameters referenced as lists (as CloudFormation does)."""

    list_parameters: frozenset[str] = field(default_factory=frozenset)

    def _ref(self, name: Any) -> Any:
        value = super()._ref(name)
        return value.split(",") if name in self.list_parameters else value


def physical_id(resource_type: str, logical_id: str) -> str:
    if resource_type == "AWS::SQS::Queue":
        return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{STACK}-{logical_id}"
    if resource_type == "AWS::SNS::Topic":
        return f"arn:aws:sns:{REGION}:{ACCOUNT}:{STACK}-{logical_id}"
    return f"{STACK}-{logical_id}"


def resolver_for(sam_template: SamTemplate, **overrides: str) -> TemplateResolver:
    return TemplateResolver(
        parameters=sam_template.parameter_values(overrides),
        resources={
            logical_id: resource_values(
                resource["Type"], physical_id(resource["Type"], logical_id), region=REGION, account_id=ACCOUNT
            )
            for logical_id, resource in sam_template.resources.items()
        },
        conditions=sam_template.conditions,
        region=REGION,
        account_id=ACCOUNT,
        stack_name=STACK,
        list_parameters=frozenset(
            name for name, parameter in sam_template.parameters.items() if parameter["Type"] == "CommaDelimitedList"
        ),
    )


@dataclass(frozen=True)
class Sender:
    """A request's sender as a resource policy sees it: an IAM principal, or an AWS service acting for a resource."""

    principal_arn: str | None = None
    service: str | None = None
    source_arn: str | None = None

    def context(self) -> dict[str, str]:
        keys = {"aws:PrincipalIsAWSService": "true" if self.service else "false"}
        if self.principal_arn:
            keys["aws:PrincipalArn"] = self.principal_arn
        if self.source_arn:
            keys["aws:SourceArn"] = self.source_arn
            keys["aws:SourceAccount"] = self.source_arn.split(":")[4]
        return keys


def role(name: str) -> Sender:
    return Sender(principal_arn=f"arn:aws:iam::{ACCOUNT}:role/{name}")


def decision(statements: list[dict[str, Any]], action: str, sender: Sender) -> str:
    """``deny`` (an explicit deny matches), ``allow`` (an allow does), else ``implicit`` (identity policies decide)."""
    matching = [
        statement
        for statement in statements
        if action in possible_strings(statement["Action"])
        and principal_matches(statement["Principal"], sender)
        and conditions_hold(statement.get("Condition", {}), sender.context())
    ]
    effects = {statement["Effect"] for statement in matching}
    return "deny" if "Deny" in effects else "allow" if "Allow" in effects else "implicit"


def principal_matches(principal: Any, sender: Sender) -> bool:
    if principal == "*":
        return True
    if "Service" in principal:
        return sender.service in possible_strings(principal["Service"])
    accounts = {arn.split(":")[4] for arn in possible_strings(principal["AWS"]) if arn.endswith(":root")}
    return sender.principal_arn is not None and sender.principal_arn.split(":")[4] in accounts


def conditions_hold(condition: Mapping[str, Mapping[str, Any]], context: Mapping[str, str]) -> bool:
    return all(
        condition_holds(operator, context.get(key), expected)
        for operator, tests in condition.items()
        for key, expected in tests.items()
    )


def condition_holds(operator: str, actual: str | None, expected: Any) -> bool:
    """IAM's operators as the template uses them: a negated operator holds when the key is absent."""
    negated = "Not" in operator
    if actual is None:
        return negated
    base = operator.replace("Not", "")
    candidates = [str(value) for value in (expected if isinstance(expected, list) else [expected])]
    if base in {"StringEquals", "ArnEquals", "Bool"}:
        matched = actual in candidates
    elif base in {"StringLike", "ArnLike"}:
        matched = any(fnmatch.fnmatchcase(actual, pattern) for pattern in candidates)
    else:
        raise AssertionError(f"condition operator {operator!r} not understood by this test")
    return matched != negated


def resolved_statements(sam_template: SamTemplate, logical_id: str, *path: str, **overrides: str) -> Any:
    value: Any = sam_template.resources[logical_id]["Properties"]
    for name in path:
        value = value[name]
    return resolver_for(sam_template, **overrides).resolve(value)["Statement"]


ALARM = Sender(service="cloudwatch.amazonaws.com", source_arn=f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:api-5xx")
FOREIGN_ALARM = Sender(
    service="cloudwatch.amazonaws.com", source_arn=f"arn:aws:cloudwatch:{REGION}:{OTHER_ACCOUNT}:alarm:api-5xx"
)
PUBLISHERS = {"AlertPublisherArns": f"arn:aws:iam::{ACCOUNT}:role/checkout-*,arn:aws:iam::{ACCOUNT}:user/oncall"}


@pytest.mark.parametrize(
    ("sender", "overrides", "expected"),
    [
        pytest.param(ALARM, {}, "allow", id="alarm-of-this-account"),
        pytest.param(FOREIGN_ALARM, {}, "deny", id="alarm-of-another-account"),
        pytest.param(
            Sender(service="events.amazonaws.com", source_arn=f"arn:aws:events:{REGION}:{ACCOUNT}:rule/forged"),
            {},
            "deny",
            id="another-service",
        ),
        pytest.param(role("admin"), {}, "deny", id="account-principal-without-publishers"),
        pytest.param(role("checkout-api"), {}, "deny", id="publisher-not-named"),
        pytest.param(role("checkout-api"), PUBLISHERS, "allow", id="named-publisher-pattern"),
        pytest.param(Sender(principal_arn=f"arn:aws:iam::{ACCOUNT}:user/oncall"), PUBLISHERS, "allow", id="named"),
        pytest.param(role("admin"), PUBLISHERS, "deny", id="account-principal-not-named"),
    ],
)
def test_only_alarms_of_this_account_and_named_publishers_publish_alerts(
    sam_template: SamTemplate, sender: Sender, overrides: dict[str, str], expected: str
) -> None:
    statements = resolved_statements(sam_template, "AlertTopicPolicy", "PolicyDocument", **overrides)
    assert decision(statements, "sns:Publish", sender) == expected


def rule_arn(name: str) -> str:
    return f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{name}"


STACK_TOPIC = Sender(service="sns.amazonaws.com", source_arn=f"arn:aws:sns:{REGION}:{ACCOUNT}:{STACK}-AlertTopic")
STACK_RULE = Sender(service="events.amazonaws.com", source_arn=rule_arn(f"{STACK}-GuardDutyFindingRule"))
FOREIGN_RULE = Sender(service="events.amazonaws.com", source_arn=rule_arn("forged-guardduty"))
OTHER_TOPIC = Sender(service="sns.amazonaws.com", source_arn=f"arn:aws:sns:{REGION}:{ACCOUNT}:other-topic")
OPERATORS = {"AlertRedriveArns": f"arn:aws:iam::{ACCOUNT}:role/sre-*"}


@pytest.mark.parametrize(
    ("queue_policy", "sender", "overrides", "expected"),
    [
        ("AlertQueuePolicy", STACK_TOPIC, {}, "allow"),
        ("AlertQueuePolicy", STACK_RULE, {}, "allow"),
        ("AlertQueuePolicy", FOREIGN_RULE, {}, "deny"),
        ("AlertQueuePolicy", OTHER_TOPIC, {}, "deny"),
        ("AlertQueuePolicy", role("admin"), {}, "deny"),
        ("AlertQueuePolicy", role(f"{STACK}-AlertForwarderRole"), {}, "deny"),
        ("AlertQueuePolicy", role("sre-oncall"), OPERATORS, "implicit"),
        ("AlertQueuePolicy", role("admin"), OPERATORS, "deny"),
        ("AlertDeadLetterQueuePolicy", STACK_TOPIC, {}, "allow"),
        ("AlertDeadLetterQueuePolicy", STACK_RULE, {}, "allow"),
        ("AlertDeadLetterQueuePolicy", FOREIGN_RULE, {}, "deny"),
        ("AlertDeadLetterQueuePolicy", role(f"{STACK}-AlertForwarderRole"), {}, "implicit"),
        ("AlertDeadLetterQueuePolicy", role("sre-oncall"), OPERATORS, "deny"),
        ("AlertDeadLetterQueuePolicy", role("admin"), {}, "deny"),
    ],
)
def test_only_the_stack_and_named_operators_send_to_the_alert_queues(
    sam_template: SamTemplate, queue_policy: str, sender: Sender, overrides: dict[str, str], expected: str
) -> None:
    statements = resolved_statements(sam_template, queue_policy, "PolicyDocument", **overrides)
    assert decision(statements, "sqs:SendMessage", sender) == expected


@pytest.mark.parametrize(
    ("sender", "expected"),
    [
        (role(f"{STACK}-WebhookReceiverRole"), "implicit"),
        (role(f"{STACK}-AlertForwarderRole"), "deny"),
        (role("admin"), "deny"),
        (Sender(service="events.amazonaws.com", source_arn=rule_arn("forward-to-incidents")), "deny"),
    ],
)
def test_only_the_webhook_receiver_publishes_incident_events(
    sam_template: SamTemplate, sender: Sender, expected: str
) -> None:
    statements = resolved_statements(sam_template, "IncidentEventBus", "Policy")
    assert decision(statements, "events:PutEvents", sender) == expected
