"""Provision a template's data resources in the embedded AWS, from the template itself.

moto's CloudFormation deploys the translated template (see ``translate``); what it ignores is then created
through the service APIs from the same translated template: SNS subscriptions, topic and queue policies, and rule
targets (``put_targets`` is idempotent, so a target moto did create is simply rewritten). Key policies are
rewritten too, in the form moto's KMS API reads.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pdutils.local.cli_arguments import DEFAULT_STACK_NAME
from pdutils.local.intrinsics import IntrinsicResolver, ResourceValues
from pdutils.local.stack_resources import stack_resource_values
from pdutils.local.target import AwsTarget
from pdutils.local.template import SamTemplate
from pdutils.local.translate import deployable_template, split_api_provisioned, translate_sam

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient


class ProvisioningError(Exception):
    """The embedded AWS could not create the stack."""


@dataclass(frozen=True)
class ProvisionedStack:
    name: str
    resources: Mapping[str, ResourceValues]
    resolver: IntrinsicResolver


def provision_stack(
    target: AwsTarget,
    template: SamTemplate,
    *,
    stack_name: str = DEFAULT_STACK_NAME,
    parameter_overrides: Mapping[str, str] | None = None,
) -> ProvisionedStack:
    parameters = template.parameter_values(parameter_overrides, local_fallbacks=True)
    account_id = target.account_id()
    translated = translate_sam(template, parameters, region=target.region)
    deployable, api_provisioned = split_api_provisioned(
        deployable_template(translated, region=target.region, account_id=account_id)
    )
    cloudformation: CloudFormationClient = target.client("cloudformation")
    cloudformation.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(deployable),
        Parameters=[
            {"ParameterKey": name, "ParameterValue": value}
            for name, value in parameters.items()
            if name in (deployable.get("Parameters") or {})
        ],
    )
    _wait_for_creation(cloudformation, stack_name)
    stack = read_stack(target, template, stack_name=stack_name, parameters=parameters, account_id=account_id)
    for logical_id, resource in {**deployable["Resources"], **api_provisioned}.items():
        provisioner = _PROVISIONERS.get(resource["Type"])
        if provisioner is not None:
            properties = stack.resolver.resolve(resource.get("Properties") or {})
            provisioner(target, stack.resources.get(logical_id), properties)
    return stack


def read_stack(
    target: AwsTarget,
    template: SamTemplate,
    *,
    stack_name: str,
    parameters: Mapping[str, str],
    account_id: str | None = None,
) -> ProvisionedStack:
    """An already deployed stack (embedded or real) of ``template``: its resources and a resolver over them."""
    account_id = account_id or target.account_id()
    cloudformation: CloudFormationClient = target.client("cloudformation")

    def resolver_over(resources: Mapping[str, ResourceValues]) -> IntrinsicResolver:
        return IntrinsicResolver(
            parameters=parameters,
            resources=resources,
            conditions=template.conditions,
            region=target.region,
            account_id=account_id,
            stack_name=stack_name,
        )

    # moto reports some resources (event buses) without a physical id: theirs is their resolved Name.
    names = resolver_over({}).resolve(
        {
            logical_id: (resource.get("Properties") or {}).get("Name")
            for logical_id, resource in template.resources.items()
        }
    )
    fallback_ids = {logical_id: name for logical_id, name in names.items() if isinstance(name, str)}
    resources = stack_resource_values(
        cloudformation, stack_name, region=target.region, account_id=account_id, fallback_ids=fallback_ids
    )
    return ProvisionedStack(name=stack_name, resources=resources, resolver=resolver_over(resources))


def _wait_for_creation(cloudformation: CloudFormationClient, stack_name: str) -> None:
    waiter = cloudformation.get_waiter("stack_create_complete")
    try:
        waiter.wait(StackName=stack_name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    except Exception as exc:
        events = cloudformation.describe_stack_events(StackName=stack_name)["StackEvents"]
        reasons = [
            f"{event.get('LogicalResourceId')}: {event.get('ResourceStatusReason')}"
            for event in events
            if "FAILED" in event.get("ResourceStatus", "")
        ]
        raise ProvisioningError(f"stack {stack_name} was not created: {'; '.join(reasons) or exc}") from exc


def _subscribe(target: AwsTarget, _: ResourceValues | None, properties: Mapping[str, Any]) -> None:
    attributes = {
        name: value if isinstance(value, str) else json.dumps(value)
        for name, value in properties.items()
        if name in ("RawMessageDelivery", "FilterPolicy", "FilterPolicyScope", "RedrivePolicy")
    }
    if "RawMessageDelivery" in attributes:
        attributes["RawMessageDelivery"] = attributes["RawMessageDelivery"].lower()
    target.client("sns").subscribe(
        TopicArn=properties["TopicArn"],
        Protocol=properties["Protocol"],
        Endpoint=properties["Endpoint"],
        Attributes=attributes,
    )


def _set_queue_policy(target: AwsTarget, _: ResourceValues | None, properties: Mapping[str, Any]) -> None:
    queues = properties.get("Queues") or [properties["Queue"]]
    for queue_url in queues:
        target.client("sqs").set_queue_attributes(
            QueueUrl=queue_url, Attributes={"Policy": json.dumps(properties["PolicyDocument"])}
        )


def _set_topic_policy(target: AwsTarget, _: ResourceValues | None, properties: Mapping[str, Any]) -> None:
    for topic_arn in properties["Topics"]:
        target.client("sns").set_topic_attributes(
            TopicArn=topic_arn, AttributeName="Policy", AttributeValue=json.dumps(properties["PolicyDocument"])
        )


def _store_key_policy_as_text(target: AwsTarget, key: ResourceValues | None, properties: Mapping[str, Any]) -> None:
    """moto's CloudFormation keeps a key policy as an object that its own KMS API cannot read: store it as text."""
    policy = properties.get("KeyPolicy")
    if key is not None and policy is not None:
        text = policy if isinstance(policy, str) else json.dumps(policy)
        target.client("kms").put_key_policy(KeyId=key.ref, PolicyName="default", Policy=text)


def _put_rule_targets(target: AwsTarget, rule: ResourceValues | None, properties: Mapping[str, Any]) -> None:
    targets = properties.get("Targets") or []
    if rule is None or not targets:
        return
    target.client("events").put_targets(
        Rule=rule.ref.rpartition("|")[2],
        EventBusName=properties.get("EventBusName") or "default",
        Targets=list(targets),
    )


_PROVISIONERS: Mapping[str, Callable[[AwsTarget, ResourceValues | None, Mapping[str, Any]], None]] = {
    "AWS::KMS::Key": _store_key_policy_as_text,
    "AWS::SNS::Subscription": _subscribe,
    "AWS::SNS::TopicPolicy": _set_topic_policy,
    "AWS::SQS::QueuePolicy": _set_queue_policy,
    "AWS::SQS::QueueInlinePolicy": _set_queue_policy,
    "AWS::Events::Rule": _put_rule_targets,
}
