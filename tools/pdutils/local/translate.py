"""Turn template.yaml into the CloudFormation template the embedded AWS can deploy.

samtranslator expands the SAM resources offline (code locations become placeholder ``s3://`` URIs, since
nothing is uploaded). Resources moto cannot or need not deploy (functions, layers, API Gateway, logs,
alarms, dashboards: the local runtime serves those itself) are dropped, and references to them are replaced
by the values they would have, so that the data resources that mention them (key policies, queue policies)
still deploy.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Mapping
from typing import Any

import boto3

from pdutils.local.intrinsics import ResourceValues
from pdutils.local.stack_resources import resource_values
from pdutils.local.template import SERVERLESS_FUNCTION, SERVERLESS_LAYER, SamTemplate

PLACEHOLDER_BUCKET = "pdutils-local-code"
# Resource types the local runtime provides itself, or that moto's CloudFormation cannot create.
LOCAL_ONLY_TYPE_PREFIXES = (
    "AWS::Lambda::",
    "AWS::ApiGateway::",
    "AWS::ApiGatewayV2::",
    "AWS::Logs::",
    "AWS::CloudWatch::",
    "AWS::Scheduler::",
    "AWS::CloudFormation::WaitConditionHandle",
)
# Resource types moto's CloudFormation ignores: ``provision`` creates them through the service APIs.
API_PROVISIONED_TYPES = frozenset(
    {"AWS::SNS::Subscription", "AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy", "AWS::SQS::QueueInlinePolicy"}
)
_CODE_PROPERTY = {SERVERLESS_FUNCTION: "CodeUri", SERVERLESS_LAYER: "ContentUri"}


def translate_sam(template: SamTemplate, parameters: Mapping[str, str], *, region: str) -> dict[str, Any]:
    """The plain CloudFormation template SAM would deploy for ``template``."""
    # Deferred: samtranslator takes most of a second to import, and only provisioning a stack translates;
    # commands that connect to a running one (``pdutils invoke``) do not.
    from samtranslator.parser.parser import Parser  # noqa: PLC0415
    from samtranslator.translator.translator import Translator  # noqa: PLC0415

    logging.getLogger("samtranslator").setLevel(logging.ERROR)  # its feature-toggle notes are noise here
    document = copy.deepcopy(dict(template.document))
    for logical_id, resource in document["Resources"].items():
        code_property = _CODE_PROPERTY.get(resource["Type"])
        if code_property:
            resource.setdefault("Properties", {})[code_property] = f"s3://{PLACEHOLDER_BUCKET}/{logical_id}.zip"
    translator = Translator(
        managed_policy_map={}, sam_parser=Parser(), boto_session=boto3.session.Session(region_name=region)
    )
    translated: dict[str, Any] = translator.translate(sam_template=document, parameter_values=dict(parameters))
    return translated


def deployable_template(translated: Mapping[str, Any], *, region: str, account_id: str) -> dict[str, Any]:
    """``translated`` without the local-only resources, references to them replaced by their values."""
    resources: Mapping[str, Any] = translated["Resources"]
    dropped = {
        logical_id: resource_values(resource["Type"], logical_id, region=region, account_id=account_id)
        for logical_id, resource in resources.items()
        if resource["Type"].startswith(LOCAL_ONLY_TYPE_PREFIXES)
    }
    kept = {
        logical_id: _without_dependencies(_replace_references(resource, dropped), dropped)
        for logical_id, resource in resources.items()
        if logical_id not in dropped
    }
    deployable = {key: value for key, value in translated.items() if key not in ("Resources", "Outputs")}
    deployable["Resources"] = {logical_id: _without_local_targets(resource) for logical_id, resource in kept.items()}
    return deployable


def split_api_provisioned(deployable: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the template for moto's CloudFormation, the resources to create through the service APIs)."""
    resources: Mapping[str, Any] = deployable["Resources"]
    by_api = {
        logical_id: resource for logical_id, resource in resources.items() if resource["Type"] in API_PROVISIONED_TYPES
    }
    removed = {logical_id: ResourceValues(logical_id) for logical_id in by_api}
    by_cloudformation = {
        logical_id: _without_dependencies(resource, removed)
        for logical_id, resource in resources.items()
        if logical_id not in by_api
    }
    return {**deployable, "Resources": by_cloudformation}, by_api


def _replace_references(value: Any, dropped: Mapping[str, ResourceValues]) -> Any:
    if isinstance(value, list):
        return [_replace_references(item, dropped) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((name, argument),) = value.items()
        if name == "Ref" and argument in dropped:
            return dropped[argument].ref
        if name == "Fn::GetAtt":
            logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
            if logical_id in dropped:
                return dropped[logical_id].attributes.get(attribute, f"{logical_id}.{attribute}")
        if name == "Fn::Sub":
            return {name: _replace_in_sub(argument, dropped)}
    return {key: _replace_references(item, dropped) for key, item in value.items()}


def _replace_in_sub(argument: Any, dropped: Mapping[str, ResourceValues]) -> Any:
    def substitute(match: re.Match[str]) -> str:
        logical_id, _, attribute = match.group(1).partition(".")
        known = dropped.get(logical_id)
        if known is None:
            return match.group(0)
        return known.attributes.get(attribute, known.ref) if attribute else known.ref

    if isinstance(argument, str):
        return re.sub(r"\$\{([^!}][^}]*)\}", substitute, argument)
    text, variables = argument
    return [_replace_in_sub(text, dropped), _replace_references(variables, dropped)]


def _without_dependencies(resource: dict[str, Any], dropped: Mapping[str, ResourceValues]) -> dict[str, Any]:
    depends_on = resource.get("DependsOn")
    if depends_on is None:
        return resource
    remaining = [name for name in ([depends_on] if isinstance(depends_on, str) else depends_on) if name not in dropped]
    trimmed = {key: value for key, value in resource.items() if key != "DependsOn"}
    return {**trimmed, "DependsOn": remaining} if remaining else trimmed


def _without_local_targets(resource: dict[str, Any]) -> dict[str, Any]:
    """An EventBridge rule keeps only targets the embedded AWS can deliver to (not Lambda functions)."""
    if resource["Type"] != "AWS::Events::Rule":
        return resource
    properties = resource.get("Properties") or {}
    targets = [target for target in properties.get("Targets") or [] if not _is_lambda_arn(target.get("Arn"))]
    return {**resource, "Properties": {**properties, "Targets": targets}}


def _is_lambda_arn(arn: Any) -> bool:
    return isinstance(arn, str) and arn.startswith("arn:aws:lambda:")
