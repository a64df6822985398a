"""Resolving CloudFormation intrinsics for the local runtime."""

from __future__ import annotations

from typing import Any

import pytest

from pdutils.local.intrinsics import IntrinsicError, IntrinsicResolver, ResourceValues

QUEUE_ARN = "arn:aws:sqs:eu-west-1:111122223333:alerts"


@pytest.fixture
def resolver() -> IntrinsicResolver:
    return IntrinsicResolver(
        parameters={"Stage": "prod", "Ids": "a,b,c"},
        resources={"Queue": ResourceValues("https://queue/alerts", {"Arn": QUEUE_ARN})},
        conditions={
            "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
            "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
        },
        region="eu-west-1",
        account_id="111122223333",
        stack_name="pd",
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": "Stage"}, "prod"),
        ({"Ref": "Queue"}, "https://queue/alerts"),
        ({"Ref": "AWS::Region"}, "eu-west-1"),
        ({"Fn::GetAtt": ["Queue", "Arn"]}, QUEUE_ARN),
        ({"Fn::GetAtt": "Queue.Arn"}, QUEUE_ARN),
        ({"Fn::Sub": "${AWS::StackName}-${Stage}-${Queue.Arn}"}, f"pd-prod-{QUEUE_ARN}"),
        ({"Fn::Sub": ["${Name}:${!Literal}", {"Name": {"Ref": "Stage"}}]}, "prod:${Literal}"),
        ({"Fn::Join": ["/", [{"Ref": "Stage"}, "x"]]}, "prod/x"),
        ({"Fn::Select": [1, {"Fn::Split": [",", {"Ref": "Ids"}]}]}, "b"),
        ({"Fn::If": ["IsProd", "big", "small"]}, "big"),
        ({"Fn::If": ["IsDev", "big", "small"]}, "small"),
        ({"Fn::Select": [1, {"Fn::Split": ["ssm:", "ssm:/pd/token"]}]}, "/pd/token"),
    ],
)
def test_intrinsics_resolve_against_parameters_resources_and_conditions(
    resolver: IntrinsicResolver, value: Any, expected: Any
) -> None:
    assert resolver.resolve(value) == expected


def test_no_value_removes_its_key_and_list_item(resolver: IntrinsicResolver) -> None:
    value = {
        "Keep": "yes",
        "Drop": {"Fn::If": ["IsDev", "x", {"Ref": "AWS::NoValue"}]},
        "List": [1, {"Ref": "AWS::NoValue"}, 2],
    }

    assert resolver.resolve(value) == {"Keep": "yes", "List": [1, 2]}


def test_unknown_resources_resolve_to_readable_placeholders(resolver: IntrinsicResolver) -> None:
    assert resolver.resolve({"Ref": "Table"}) == "<Table>"
    assert resolver.resolve({"Fn::GetAtt": ["Table", "Arn"]}) == "<Table.Arn>"
    assert resolver.resolve({"Fn::Sub": "${Table.StreamArn}"}) == "<Table.StreamArn>"


def test_an_unknown_condition_is_an_error(resolver: IntrinsicResolver) -> None:
    with pytest.raises(IntrinsicError, match="unknown condition 'Missing'"):
        resolver.resolve({"Fn::If": ["Missing", 1, 2]})
