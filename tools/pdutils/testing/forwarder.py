"""pytest fixtures for the alert forwarder's state: the state table in-process (unit) or on the moto server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
import pytest
from moto import mock_aws

from pagerduty_utils.state_table import EXPIRY_ATTRIBUTE, KEY_ATTRIBUTE

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

STATE_TABLE_NAME = "pdutils-state"


@dataclass(frozen=True)
class StateTable:
    client: DynamoDBClient
    name: str


def create_state_table(client: DynamoDBClient, name: str = STATE_TABLE_NAME) -> StateTable:
    """The shared state table as template.yaml declares it: partition key ``pk``, TTL on ``expiration``."""
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": KEY_ATTRIBUTE, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": KEY_ATTRIBUTE, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": EXPIRY_ATTRIBUTE}
    )
    return StateTable(client=client, name=name)


@pytest.fixture
def in_process_state_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[StateTable]:
    """The state table in moto's in-process mock: no network, for unit tests of the DynamoDB adapters."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield create_state_table(boto3.client("dynamodb"))
