"""Builds, deployments and stack updates, as EventBridge delivers their state changes: CodePipeline,
CodeBuild, CodeDeploy, CloudFormation."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BeforeValidator, Field

from pagerduty_utils.data_transformer.sources.base import DEFERRED, SourceModel


class PipelineExecution(SourceModel):
    """``detail`` of "CodePipeline Pipeline Execution State Change"."""

    pipeline: str = Field(min_length=1)
    execution_id: str | None = Field(default=None, alias="execution-id")
    state: str = Field(min_length=1)
    version: int | None = None


class PipelineExecutionEvent(EventBridgeModel):
    model_config = DEFERRED

    detail_type: Literal["CodePipeline Pipeline Execution State Change"] = Field(alias="detail-type")
    detail: PipelineExecution


class BuildPhase(SourceModel):
    phase_type: str | None = Field(default=None, alias="phase-type")
    phase_status: str | None = Field(default=None, alias="phase-status")
    phase_context: Annotated[list[str], BeforeValidator(lambda v: v or [])] = Field(
        default_factory=list, alias="phase-context"
    )


class BuildInformation(SourceModel):
    phases: Annotated[list[BuildPhase], BeforeValidator(lambda v: v or [])] = Field(default_factory=list)


class Build(SourceModel):
    """``detail`` of "CodeBuild Build State Change"."""

    build_status: str = Field(alias="build-status", min_length=1)
    project_name: str = Field(alias="project-name", min_length=1)
    build_id: str | None = Field(default=None, alias="build-id")
    current_phase: str | None = Field(default=None, alias="current-phase")
    additional_information: BuildInformation = Field(default_factory=BuildInformation, alias="additional-information")

    @property
    def failure(self) -> str | None:
        """What the first failed phase says went wrong (``COMMAND_EXECUTION_ERROR: ...``)."""
        failed = [
            phase for phase in self.additional_information.phases if phase.phase_status not in (None, "SUCCEEDED")
        ]
        return next((context for phase in failed for context in phase.phase_context if context.strip(": ")), None)


class BuildEvent(EventBridgeModel):
    model_config = DEFERRED

    detail_type: Literal["CodeBuild Build State Change"] = Field(alias="detail-type")
    detail: Build


class Deployment(SourceModel):
    """``detail`` of "CodeDeploy Deployment State-change Notification"."""

    application: str = Field(min_length=1)
    deployment_group: str = Field(alias="deploymentGroup", min_length=1)
    deployment_id: str = Field(alias="deploymentId", min_length=1)
    state: str = Field(min_length=1)


class DeploymentEvent(EventBridgeModel):
    model_config = DEFERRED

    detail_type: Literal["CodeDeploy Deployment State-change Notification"] = Field(alias="detail-type")
    detail: Deployment


class StackStatusDetails(SourceModel):
    status: str = Field(min_length=1)
    status_reason: str | None = Field(default=None, alias="status-reason")


class StackStatusChange(SourceModel):
    """``detail`` of "CloudFormation Stack Status Change"."""

    stack_id: str = Field(alias="stack-id", pattern=r"^arn:[\w-]+:cloudformation:[\w-]*:\d*:stack/[^/]+/")
    status_details: StackStatusDetails = Field(alias="status-details")


class StackStatusEvent(EventBridgeModel):
    model_config = DEFERRED

    detail_type: Literal["CloudFormation Stack Status Change"] = Field(alias="detail-type")
    detail: StackStatusChange
