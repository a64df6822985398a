"""GuardDuty and Security Hub (AWS Security Finding Format) findings, as EventBridge delivers them."""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import Field, FiniteFloat

from pagerduty_utils.data_transformer.sources.base import DEFERRED, AwsTimestamp, SourceModel

# --- GuardDuty ---------------------------------------------------------------------------------------------------


class GuardDutyService(SourceModel):
    archived: bool = False
    count: int | None = None
    event_first_seen: AwsTimestamp | None = Field(default=None, alias="eventFirstSeen")
    event_last_seen: AwsTimestamp | None = Field(default=None, alias="eventLastSeen")
    action: dict[str, Any] | None = None
    resource_role: str | None = Field(default=None, alias="resourceRole")
    detector_id: str | None = Field(default=None, alias="detectorId")


class GuardDutyFinding(SourceModel):
    id: str = Field(min_length=1, max_length=300)
    arn: str | None = None
    type: str = Field(min_length=1)
    account_id: str = Field(alias="accountId")
    region: str
    severity: FiniteFloat = Field(ge=0, le=10)
    title: str = ""
    description: str = ""
    created_at: AwsTimestamp | None = Field(default=None, alias="createdAt")
    updated_at: AwsTimestamp = Field(alias="updatedAt")
    resource: dict[str, Any] = Field(default_factory=dict)
    service: GuardDutyService = GuardDutyService()

    @property
    def resource_type(self) -> str | None:
        value = self.resource.get("resourceType")
        return value if isinstance(value, str) else None

    @property
    def resource_tags(self) -> dict[str, str]:
        """Tags of the affected resource: GuardDuty lists them as ``[{key, value}]`` under ``<kind>Details``."""
        tags: dict[str, str] = {}
        for details in self.resource.values():
            for entry in details if isinstance(details, list) else [details]:
                if isinstance(entry, dict) and isinstance(entry.get("tags"), list):
                    tags.update(_key_value_tags(entry["tags"]))
        return tags

    @property
    def resource_id(self) -> str | None:
        """The most specific identifier GuardDuty gives for the affected resource (instance, bucket, key, ...)."""
        for details, key in _GUARDDUTY_RESOURCE_IDS:
            entry = self.resource.get(details)
            entry = entry[0] if isinstance(entry, list) and entry else entry
            if isinstance(entry, dict) and isinstance(entry.get(key), str):
                return str(entry[key])
        return None


_GUARDDUTY_RESOURCE_IDS = (
    ("instanceDetails", "instanceId"),
    ("s3BucketDetails", "name"),
    ("accessKeyDetails", "userName"),
    ("eksClusterDetails", "name"),
    ("rdsDbInstanceDetails", "dbInstanceIdentifier"),
    ("lambdaDetails", "functionName"),
    ("ecsClusterDetails", "name"),
)


def _key_value_tags(entries: list[Any]) -> dict[str, str]:
    return {
        str(entry["key"]): str(entry.get("value") or "")
        for entry in entries
        if isinstance(entry, dict) and isinstance(entry.get("key"), str)
    }


class GuardDutyFindingEvent(EventBridgeModel):
    model_config = DEFERRED

    detail_type: Literal["GuardDuty Finding"] = Field(alias="detail-type")
    detail: GuardDutyFinding


# --- Security Hub (AWS Security Finding Format) ------------------------------------------------------------------

SecurityHubLabel = Literal["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"]


class SecurityHubSeverity(SourceModel):
    label: SecurityHubLabel | None = Field(default=None, alias="Label")
    normalized: int | None = Field(default=None, alias="Normalized", ge=0, le=100)

    @property
    def effective_label(self) -> SecurityHubLabel:
        """``Label``, or the label ASFF assigns to the deprecated ``Normalized`` score when only that is present."""
        if self.label is not None:
            return self.label
        score = self.normalized or 0
        for floor, label in _NORMALIZED_FLOORS:
            if score >= floor:
                return label
        return "INFORMATIONAL"


_NORMALIZED_FLOORS: tuple[tuple[int, SecurityHubLabel], ...] = (
    (90, "CRITICAL"),
    (70, "HIGH"),
    (40, "MEDIUM"),
    (1, "LOW"),
)


class SecurityHubResource(SourceModel):
    type: str = Field(alias="Type")
    id: str = Field(alias="Id")
    region: str | None = Field(default=None, alias="Region")
    tags: dict[str, str] = Field(default_factory=dict, alias="Tags")


class SecurityHubWorkflow(SourceModel):
    status: str | None = Field(default=None, alias="Status")


class SecurityHubRecommendation(SourceModel):
    text: str | None = Field(default=None, alias="Text")
    url: str | None = Field(default=None, alias="Url")


class SecurityHubRemediation(SourceModel):
    recommendation: SecurityHubRecommendation | None = Field(default=None, alias="Recommendation")


class SecurityHubCompliance(SourceModel):
    status: str | None = Field(default=None, alias="Status")


class SecurityHubFinding(SourceModel):
    id: str = Field(alias="Id", min_length=1)
    product_arn: str = Field(alias="ProductArn")
    product_name: str | None = Field(default=None, alias="ProductName")
    generator_id: str = Field(alias="GeneratorId")
    aws_account_id: str = Field(alias="AwsAccountId")
    region: str | None = Field(default=None, alias="Region")
    types: list[str] = Field(default_factory=list, alias="Types")
    title: str = Field(default="", alias="Title")
    description: str = Field(default="", alias="Description")
    created_at: AwsTimestamp | None = Field(default=None, alias="CreatedAt")
    updated_at: AwsTimestamp = Field(alias="UpdatedAt")
    first_observed_at: AwsTimestamp | None = Field(default=None, alias="FirstObservedAt")
    last_observed_at: AwsTimestamp | None = Field(default=None, alias="LastObservedAt")
    severity: SecurityHubSeverity = Field(alias="Severity")
    resources: list[SecurityHubResource] = Field(default_factory=list, alias="Resources")
    workflow: SecurityHubWorkflow | None = Field(default=None, alias="Workflow")
    workflow_state: str | None = Field(default=None, alias="WorkflowState")
    record_state: str | None = Field(default=None, alias="RecordState")
    compliance: SecurityHubCompliance | None = Field(default=None, alias="Compliance")
    remediation: SecurityHubRemediation | None = Field(default=None, alias="Remediation")
    source_url: str | None = Field(default=None, alias="SourceUrl")

    @property
    def workflow_status(self) -> str | None:
        """``Workflow.Status``, falling back to the deprecated ``WorkflowState`` that older producers send."""
        if self.workflow is not None and self.workflow.status:
            return self.workflow.status
        return self.workflow_state


class SecurityHubFindings(SourceModel):
    findings: list[SecurityHubFinding] = Field(min_length=1)


class SecurityHubFindingsEvent(EventBridgeModel):
    model_config = DEFERRED

    detail_type: Literal["Security Hub Findings - Imported", "Security Hub Findings - Custom Action"] = Field(
        alias="detail-type"
    )
    detail: SecurityHubFindings
