"""What each logical id of a deployed stack is: its ``Ref`` value and its ``Fn::GetAtt`` attributes.

The same lookup serves the embedded stack (moto's CloudFormation) and a stack deployed to real AWS, so the
local runtime resolves a function's environment the same way against either.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from pdutils.local.intrinsics import ResourceValues

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient


def _queue(url: str, region: str, account: str) -> ResourceValues:
    name = url.rstrip("/").rsplit("/", 1)[-1]
    return ResourceValues(url, {"Arn": f"arn:aws:sqs:{region}:{account}:{name}", "QueueName": name, "QueueUrl": url})


def _topic(arn: str, _region: str, _account: str) -> ResourceValues:
    return ResourceValues(arn, {"TopicArn": arn, "TopicName": arn.rsplit(":", 1)[-1]})


def _table(name: str, region: str, account: str) -> ResourceValues:
    return ResourceValues(name, {"Arn": f"arn:aws:dynamodb:{region}:{account}:table/{name}"})


def _key(key_id: str, region: str, account: str) -> ResourceValues:
    return ResourceValues(key_id, {"Arn": f"arn:aws:kms:{region}:{account}:key/{key_id}", "KeyId": key_id})


def _event_bus(name: str, region: str, account: str) -> ResourceValues:
    return ResourceValues(name, {"Arn": f"arn:aws:events:{region}:{account}:event-bus/{name}", "Name": name})


def _rule(physical_id: str, region: str, account: str) -> ResourceValues:
    # Rules on a custom bus have the physical id "<bus>|<rule>"; their ARN carries the bus in the path.
    bus, _, name = physical_id.rpartition("|")
    path = f"{bus}/{name}" if bus else name
    return ResourceValues(physical_id, {"Arn": f"arn:aws:events:{region}:{account}:rule/{path}"})


def _secret(arn: str, _region: str, _account: str) -> ResourceValues:
    return ResourceValues(arn, {"Id": arn})


def _function(name: str, region: str, account: str) -> ResourceValues:
    return ResourceValues(name, {"Arn": f"arn:aws:lambda:{region}:{account}:function:{name}"})


def _role(name: str, _region: str, account: str) -> ResourceValues:
    return ResourceValues(name, {"Arn": f"arn:aws:iam::{account}:role/{name}"})


_VALUES_BY_TYPE: Mapping[str, Callable[[str, str, str], ResourceValues]] = {
    "AWS::SQS::Queue": _queue,
    "AWS::SNS::Topic": _topic,
    "AWS::DynamoDB::Table": _table,
    "AWS::KMS::Key": _key,
    "AWS::Events::EventBus": _event_bus,
    "AWS::Events::Rule": _rule,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::Lambda::Function": _function,
    "AWS::IAM::Role": _role,
}


def resource_values(resource_type: str, physical_id: str, *, region: str, account_id: str) -> ResourceValues:
    """``Ref`` and attributes of one resource, derived from its physical id the way CloudFormation does."""
    build = _VALUES_BY_TYPE.get(resource_type)
    return build(physical_id, region, account_id) if build else ResourceValues(physical_id)


def stack_resource_values(
    cloudformation: CloudFormationClient,
    stack_name: str,
    *,
    region: str,
    account_id: str,
    fallback_ids: Mapping[str, str] | None = None,
) -> dict[str, ResourceValues]:
    """Every resource of ``stack_name`` by logical id.

    ``fallback_ids`` gives the physical id of resources the stack reports without one (moto leaves it out for
    event buses, whose physical id is their ``Name``).
    """
    values: dict[str, ResourceValues] = {}
    paginator = cloudformation.get_paginator("list_stack_resources")
    for page in paginator.paginate(StackName=stack_name):
        for summary in page["StackResourceSummaries"]:
            logical_id = summary.get("LogicalResourceId")
            physical_id = summary.get("PhysicalResourceId") or (fallback_ids or {}).get(logical_id or "")
            if logical_id and physical_id:
                values[logical_id] = resource_values(
                    summary["ResourceType"], physical_id, region=region, account_id=account_id
                )
    return values
