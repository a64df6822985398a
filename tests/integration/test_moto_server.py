"""The embedded AWS speaks real HTTP: botocore serialization and conditional-write errors are moto's own."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from pdutils.moto_server import MotoEndpoint

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
