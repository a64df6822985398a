"""The embedded AWS speaks real HTTP: botocore serialization and conditional-write errors are moto's own."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from pdutils.moto_server import MotoEndpoint
from pdutils.testing.forwarder import create_state_table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

pytestmark = pytest.mark.integration


def test_conditional_write_fails_over_http(aws: MotoEndpoint) -> None:
    client = boto3.client("dynamodb")
    assert client.meta.endpoint_url == aws.url
    client.create_table(
        TableName="state",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    item = {"pk": {"S": "dedup#1"}}
    client.put_item(TableName="state", Item=item, ConditionExpression="attribute_not_exists(pk)")
    with pytest.raises(ClientError) as raised:
        client.put_item(TableName="state", Item=item, ConditionExpression="attribute_not_exists(pk)")
    assert raised.value.response["Error"]["Code"] == "ConditionalCheckFailedException"


def test_reset_drops_resources(aws: MotoEndpoint) -> None:
    sqs = boto3.client("sqs")
    sqs.create_queue(QueueName="alerts")
    aws.reset()
    assert sqs.list_queues().get("QueueUrls", []) == []


ROUNDS = 30
WRITERS = 8


@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    """Threads switch every microsecond instead of every 5 ms: a race between the server's request threads
    shows at once instead of only on a loaded machine."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


@pytest.mark.usefixtures("frequent_thread_switches")
def test_concurrent_conditional_writes_to_one_item_have_one_winner(aws: MotoEndpoint) -> None:
    """DynamoDB applies each conditional write atomically, and the rate limiter relies on it. moto alone does
    not: in this test about a third of the rounds had several winners until the embedded AWS served DynamoDB
    requests one at a time."""
    client = boto3.client("dynamodb", config=Config(max_pool_connections=WRITERS))
    table = create_state_table(client).name
    several_winners = []
    for round_number in range(ROUNDS):
        key = {"pk": {"S": f"rate#{round_number}"}}
        winners = race_to_create(client, table, key)
        stored = client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
        assert [int(stored["tat"]["N"])] == winners[:1]
        if len(winners) != 1:
            several_winners.append(winners)
    assert several_winners == []


def race_to_create(client: DynamoDBClient, table: str, key: dict[str, Any]) -> list[int]:
    """``WRITERS`` threads released together, each setting the item's ``tat`` only if it has none; returns the
    writers whose write succeeded."""
    start, winners = threading.Barrier(WRITERS), []

    def write(writer: int) -> None:
        start.wait(timeout=30)
        try:
            client.update_item(
                TableName=table,
                Key=key,
                UpdateExpression="SET tat = :tat",
                ConditionExpression="attribute_not_exists(tat)",
                ExpressionAttributeValues={":tat": {"N": str(writer)}},
            )
        except client.exceptions.ConditionalCheckFailedException:
            return
        winners.append(writer)

    threads = [threading.Thread(target=write, args=(writer,)) for writer in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return winners
