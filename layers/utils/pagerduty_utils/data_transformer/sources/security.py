"""Security and compliance events: Inspector findings, AWS Config compliance changes, CloudTrail-reported
console sign-ins and root activity."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BeforeValidator, Field

from pagerduty_utils.data_transformer.sources.base import DEFERRED, AwsTimestamp, SourceModel


class InspectorResource(SourceModel):
    id: str = ""
    type: str | None = None
    tags: Annotated[dict[str, str], BeforeValidator(lambda v: v or {})] = Field(default_factory=dict)


class InspectorFinding(SourceModel):
    """``detail`` of "Inspector2 Finding"."""

    finding_arn: str = Field(alias="findingArn", pattern=r"^arn:[\w-]+:inspector2:")
    severity: str = "UNTRIAGED"
    status: str = Field(min_length=1)
    title: str = ""
    description: str | None = None
    type: str | None = None
    inspector_score: float | None = Field(default=None, alias="inspectorScore", allow_inf_nan=False)
    resources: list[InspectorResource] = Field(default_factory=list)


class InspectorFindingEvent(EventBridgeModel):
    model_config = DEFERRED

    detail_type: Literal["Inspector2 Finding"] = Field(alias="detail-type")
    detail: InspectorFinding


class ConfigEvaluation(SourceModel):
    compliance_type: str = Field(alias="complianceType", min_length=1)
    annotation: str | None = None
    result_recorded_time: AwsTimestamp | None = Field(default=None, alias="resultRecordedTime")


class ConfigComplianceChange(SourceModel):
    """``detail`` of "Config Rules Compliance Change"."""

    config_rule_name: str = Field(alias="configRuleName", min_length=1)
    resource_id: str = Field(alias="resourceId", min_length=1)
    resource_type: str = Field(alias="resourceType", min_length=1)
    new_evaluation_result: ConfigEvaluation = Field(alias="newEvaluationResult")
    old_evaluation_result: ConfigEvaluation | None = Field(default=None, alias="oldEvaluationResult")


class ConfigComplianceEvent(EventBridgeModel):
    model_config = DEFERRED

    detail_type: Literal["Config Rules Compliance Change"] = Field(alias="detail-type")
    detail: ConfigComplianceChange


class UserIdentity(SourceModel):
    type: str = ""
    arn: str | None = None
    user_name: str | None = Field(default=None, alias="userName")
    invoked_by: str | None = Field(default=None, alias="invokedBy")


class CloudTrailRecord(SourceModel):
    """``detail`` of the CloudTrail-based events ("AWS Console Sign In via CloudTrail", "AWS API Call via
    CloudTrail")."""

    event_id: str = Field(alias="eventID", min_length=1)
    event_name: str = Field(alias="eventName", min_length=1)
    event_source: str | None = Field(default=None, alias="eventSource")
    event_time: AwsTimestamp | None = Field(default=None, alias="eventTime")
    user_identity: UserIdentity = Field(alias="userIdentity")
    source_ip_address: str | None = Field(default=None, alias="sourceIPAddress")
    user_agent: str | None = Field(default=None, alias="userAgent")
    response_elements: Annotated[dict[str, Any], BeforeValidator(lambda v: v or {})] = Field(
        default_factory=dict, alias="responseElements"
    )
    additional_event_data: Annotated[dict[str, Any], BeforeValidator(lambda v: v or {})] = Field(
        default_factory=dict, alias="additionalEventData"
    )
    error_message: str | None = Field(default=None, alias="errorMessage")


class CloudTrailEvent(EventBridgeModel):
    model_config = DEFERRED

    detail_type: Literal["AWS Console Sign In via CloudTrail", "AWS API Call via CloudTrail"] = Field(
        alias="detail-type"
    )
    detail: CloudTrailRecord
