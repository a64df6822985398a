"""The local stack's AWS side: provisioning from the template, SNS/EventBridge delivery, SQS batch semantics."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pdutils.local.environment import function_environment
from pdutils.local.poller import BatchOutcome, SqsEventSource, SqsPoller, failed_message_ids
from pdutils.local.provision import ProvisionedStack, provision_stack
from pdutils.local.runner import FunctionRunner, Invocation
from pdutils.local.target import AwsTarget
from pdutils.local.template import SamTemplate
from pdutils.local.translate import API_PROVISIONED_TYPES, deployable_template, translate_sam
from pdutils.moto_server import MotoEndpoint

TESTS_DIR = Path(__file__).resolve().parents[1]
FIXTURE_TEMPLATE = TESTS_DIR / "fixtures" / "local_stack" / "template.yaml"
PROJECT_TEMPLATE = TESTS_DIR.parent / "template.yaml"
TEMPLATES = [
    pytest.param(FIXTURE_TEMPLATE, id="fixture"),
    pytest.param(
        PROJECT_TEMPLATE,
        id="project",
        marks=pytest.mark.skipif(not PROJECT_TEMPLATE.exists(), reason="no template.yaml yet"),
    ),
]

pytestmark = pytest.mark.integration


@pytest.fixture
def target(aws: MotoEndpoint) -> AwsTarget:
    return AwsTarget.embedded(aws.url)


@pytest.fixture
def fixture_stack(target: AwsTarget) -> ProvisionedStack:
    return provision_stack(target, SamTemplate.load(FIXTURE_TEMPLATE))


def exists(target: AwsTarget, resource_type: str, ref: str) -> bool:
    """Ask the service itself whether the resource is there (not CloudFormation's bookkeeping)."""
    checks: dict[str, Any] = {
        "AWS::DynamoDB::Table": lambda: target.client("dynamodb").describe_table(TableName=ref),
        "AWS::SQS::Queue": lambda: target.client("sqs").get_queue_attributes(QueueUrl=ref),
        "AWS::SNS::Topic": lambda: target.client("sns").get_topic_attributes(TopicArn=ref),
        "AWS::KMS::Key": lambda: target.client("kms").describe_key(KeyId=ref),
        "AWS::Events::EventBus": lambda: target.client("events").describe_event_bus(Name=ref),
        "AWS::Events::Rule": lambda: target.client("events").describe_rule(Name=ref.rpartition("|")[2]),
    }
    check = checks.get(resource_type)
    return check is None or bool(check())


@pytest.mark.parametrize("template_path", TEMPLATES)
def test_every_data_resource_of_the_template_exists_in_the_embedded_aws(target: AwsTarget, template_path: Path) -> None:
    template = SamTemplate.load(template_path)
    stack = provision_stack(target, template)
    translated = translate_sam(template, template.parameter_values(local_fallbacks=True), region=target.region)
    deployable = deployable_template(translated, region=target.region, account_id="123456789012")

    data_resources = {
        logical_id: resource["Type"]
        for logical_id, resource in deployable["Resources"].items()
        if resource["Type"] not in API_PROVISIONED_TYPES
        and ("Condition" not in resource or stack.resolver.condition(resource["Condition"]))
    }
    assert set(data_resources) <= set(stack.resources)
    for logical_id, resource_type in data_resources.items():
        assert exists(target, resource_type, stack.resources[logical_id].ref), logical_id
    subscriptions = target.client("sns").list_subscriptions()["Subscriptions"]
    declared = [
        resource for resource in deployable["Resources"].values() if resource["Type"] == "AWS::SNS::Subscription"
    ]
    assert len(subscriptions) == len(declared)


def receive_one(target: AwsTarget, queue_url: str) -> dict[str, Any]:
    messages = target.client("sqs").receive_message(QueueUrl=queue_url, WaitTimeSeconds=5)["Messages"]
    assert len(messages) == 1
    message: dict[str, Any] = messages[0]
    return message


def test_sns_delivers_to_the_subscribed_queue(target: AwsTarget, fixture_stack: ProvisionedStack) -> None:
    target.client("sns").publish(TopicArn=fixture_stack.resources["AlertTopic"].ref, Message="disk full")

    body = json.loads(receive_one(target, fixture_stack.resources["WorkQueue"].ref)["Body"])

    assert (body["Type"], body["Message"]) == ("Notification", "disk full")


def test_eventbridge_rule_delivers_matching_events_to_its_queue_target(
    target: AwsTarget, fixture_stack: ProvisionedStack
) -> None:
    target.client("events").put_events(
        Entries=[
            {"Source": "com.example.other", "DetailType": "Ignored", "Detail": "{}"},
            {"Source": "com.example.probe", "DetailType": "Application Alert", "Detail": json.dumps({"n": 1})},
        ]
    )

    body = json.loads(receive_one(target, fixture_stack.resources["WorkQueue"].ref)["Body"])

    assert (body["source"], body["detail"]) == ("com.example.probe", {"n": 1})


@pytest.fixture
def batch_runner(target: AwsTarget, fixture_stack: ProvisionedStack) -> Iterator[FunctionRunner]:
    function = SamTemplate.load(FIXTURE_TEMPLATE).function("BatchFunction")
    with FunctionRunner(function, function_environment(function, fixture_stack.resolver, target)) as runner:
        yield runner


@pytest.fixture
def poller(target: AwsTarget, fixture_stack: ProvisionedStack, batch_runner: FunctionRunner) -> SqsPoller:
    function = batch_runner.function
    (event,) = function.events_of_type("SQS")
    properties = fixture_stack.resolver.resolve(dict(event.properties))
    source = SqsEventSource.from_event_properties(properties, fixture_stack.resources["WorkQueue"].ref)
    return SqsPoller(target.client("sqs"), source, batch_runner, region=target.region)


def poll_until(
    poller: SqsPoller, wanted: int, *, until: Callable[[], bool] = lambda: False, timeout: float = 20
) -> list[BatchOutcome]:
    """Poll (each poll long-polls the queue) until ``wanted`` batches were delivered or ``until`` holds."""
    outcomes: list[BatchOutcome] = []
    deadline = time.monotonic() + timeout
    while len(outcomes) < wanted and not until() and time.monotonic() < deadline:
        outcome = poller.poll_once()
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes


def queue_depth(target: AwsTarget, queue_url: str) -> int:
    attributes = target.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def table_item(target: AwsTarget, stack: ProvisionedStack, message_id: str) -> dict[str, Any]:
    item: dict[str, Any] = target.client("dynamodb").get_item(
        TableName=stack.resources["StateTable"].ref, Key={"pk": {"S": f"seen#{message_id}"}}
    )["Item"]
    return item


def test_reported_failures_stay_for_redelivery_then_the_redrive_policy_dead_letters_them(
    target: AwsTarget, fixture_stack: ProvisionedStack, poller: SqsPoller
) -> None:
    sqs = target.client("sqs")
    queue_url = fixture_stack.resources["WorkQueue"].ref
    for body in ("first", "please fail", "third"):
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)

    first, redelivery = poll_until(poller, 2)

    assert first.invocation.error is None
    assert len(first.deleted) == 2
    assert len(first.kept) == 1
    assert redelivery.kept == first.kept  # the failed record came back after its visibility timeout, alone
    (failed_id,) = first.kept
    assert table_item(target, fixture_stack, failed_id)["deliveries"] == {"N": "2"}
    dead_letter_queue = fixture_stack.resources["WorkDeadLetterQueue"].ref
    # maxReceiveCount 2: once visible again, the next receive dead-letters the record instead of delivering it.
    assert poll_until(poller, 1, until=lambda: queue_depth(target, dead_letter_queue) > 0) == []
    dead = sqs.receive_message(QueueUrl=dead_letter_queue, WaitTimeSeconds=5)
    assert [message["MessageId"] for message in dead["Messages"]] == [failed_id]


def test_batch_size_caps_each_invocation(target: AwsTarget, fixture_stack: ProvisionedStack, poller: SqsPoller) -> None:
    queue_url = fixture_stack.resources["WorkQueue"].ref
    target.client("sqs").send_message_batch(
        QueueUrl=queue_url, Entries=[{"Id": str(index), "MessageBody": f"m{index}"} for index in range(7)]
    )

    outcomes = poll_until(poller, 2)

    assert all(len(outcome.deleted) <= 5 for outcome in outcomes)
    assert sum(len(outcome.deleted) for outcome in outcomes) == 7


def invocation(result: Any = None, error: dict[str, Any] | None = None) -> Invocation:
    return Invocation(request_id="r", result=result, error=error)


@pytest.mark.parametrize(
    ("outcome", "report_failures", "kept"),
    [
        (invocation(error={"errorType": "ValueError"}), True, {"a", "b"}),
        (invocation({"batchItemFailures": []}), True, set()),
        (invocation({"batchItemFailures": [{"itemIdentifier": "b"}]}), True, {"b"}),
        (invocation({"batchItemFailures": [{"itemIdentifier": "b"}]}), False, set()),
        (invocation({"batchItemFailures": [{"itemIdentifier": "zzz"}]}), True, {"a", "b"}),
        (invocation({"batchItemFailures": [{"itemIdentifier": None}]}), True, {"a", "b"}),
        (invocation({"batchItemFailures": "b"}), True, {"a", "b"}),
        (invocation(None), True, set()),
    ],
)
def test_which_records_stay_follows_lambda(outcome: Invocation, report_failures: bool, kept: set[str]) -> None:
    assert failed_message_ids(outcome, ["a", "b"], report_failures=report_failures) == kept
