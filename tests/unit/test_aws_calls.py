"""The benchmarks' AWS call counter: concurrent calls count once in the busy time; calls are recorded as made."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from pdutils.testing.aws_calls import AwsCallCounter, AwsRequest


@pytest.mark.parametrize(
    ("spans", "busy"),
    [
        ([], 0.0),
        ([(0.0, 1.0)], 1.0),
        ([(0.0, 1.0), (0.5, 2.0)], 2.0),  # overlapping
        ([(0.0, 3.0), (1.0, 2.0)], 3.0),  # one inside another
        ([(2.0, 3.0), (0.0, 1.0)], 2.0),  # apart, in any order
    ],
)
def test_busy_time_is_the_union_of_the_calls(spans: list[tuple[float, float]], busy: float) -> None:
    counter = AwsCallCounter()
    counter.spans = spans

    assert counter.busy_seconds() == pytest.approx(busy)


def test_take_starts_a_new_count_and_a_new_busy_time() -> None:
    counter = AwsCallCounter()
    counter.calls["GetItem"] += 2
    counter.spans = [(0.0, 1.0)]

    assert counter.take() == {"GetItem": 2}
    assert (counter.calls, counter.busy_seconds()) == ({}, 0.0)


def test_each_call_is_recorded_with_its_parameters_until_the_next_take() -> None:
    counter = AwsCallCounter()
    key = {"pk": {"S": "ledger#a"}}
    with counter.installed():
        client = boto3.client(
            "dynamodb", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
        )
    with Stubber(client) as stub:
        stub.add_response("get_item", {}, {"TableName": "state", "Key": key})
        client.get_item(TableName="state", Key=key)
    key["pk"]["S"] = "changed after the call"

    assert counter.requests == [
        AwsRequest(
            operation="GetItem", parameters={"TableName": "state", "Key": {"pk": {"S": "ledger#a"}}}, service="dynamodb"
        )
    ]
    counter.take()
    assert counter.requests == []
