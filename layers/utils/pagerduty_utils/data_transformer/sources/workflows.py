"""Jobs and workflows, as EventBridge delivers their state changes: Step Functions, Glue, AWS Backup."""

from __future__ import annotations

from typing import Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import Field

from pagerduty_utils.data_transformer.sources.base import DEFERRED, SourceModel


class StepFunctionsExecution(SourceModel):
    """``detail`` of "Step Functions Execution Status Change"."""

    execution_arn: str = Field(alias="executionArn", min_length=1)
    state_machine_arn: str = Field(alias="stateMachineArn", min_length=1)
    name: str | None = None
    status: str = Field(min_length=1)
    error: str | None = None
    cause: str | None = None


class StepFunctionsEvent(EventBridgeModel):
    model_config = DEFERRED

    detail_type: Literal["Step Functions Execution Status Change"] = Field(alias="detail-type")
    detail: StepFunctionsExecution


class GlueJobRun(SourceModel):
    """``detail`` of "Glue Job State Change"."""

    job_name: str = Field(alias="jobName", min_length=1)
    job_run_id: str | None = Field(default=None, alias="jobRunId")
    state: str = Field(min_length=1)
    severity: str | None = None
    message: str | None = None


class GlueJobEvent(EventBridgeModel):
    model_config = DEFERRED

    detail_type: Literal["Glue Job State Change"] = Field(alias="detail-type")
    detail: GlueJobRun


class BackupJob(SourceModel):
    """``detail`` of "Backup Job State Change"."""

    backup_job_id: str = Field(alias="backupJobId", min_length=1)
    state: str = Field(min_length=1)
    resource_arn: str | None = Field(default=None, alias="resourceArn")
    resource_type: str | None = Field(default=None, alias="resourceType")
    backup_vault_name: str | None = Field(default=None, alias="backupVaultName")
    status_message: str | None = Field(default=None, alias="statusMessage")


class BackupJobEvent(EventBridgeModel):
    model_config = DEFERRED

    detail_type: Literal["Backup Job State Change"] = Field(alias="detail-type")
    detail: BackupJob
