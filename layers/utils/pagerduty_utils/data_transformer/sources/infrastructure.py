"""Running infrastructure, as EventBridge delivers its events: ECS tasks and deployments, RDS events, EC2 Auto
Scaling activities."""

from __future__ import annotations

from typing import Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import Field

from pagerduty_utils.data_transformer.sources.base import DEFERRED, AwsTimestamp, SourceModel


class EcsContainer(SourceModel):
    name: str = ""
    exit_code: int | None = Field(default=None, alias="exitCode")
    reason: str | None = None


class EcsTask(SourceModel):
    """``detail`` of "ECS Task State Change"."""

    cluster_arn: str = Field(alias="clusterArn", min_length=1)
    task_arn: str = Field(alias="taskArn", min_length=1)
    task_definition_arn: str | None = Field(default=None, alias="taskDefinitionArn")
    group: str | None = None
    last_status: str = Field(alias="lastStatus", min_length=1)
    stop_code: str | None = Field(default=None, alias="stopCode")
    stopped_reason: str | None = Field(default=None, alias="stoppedReason")
    containers: list[EcsContainer] = Field(default_factory=list)


class EcsTaskEvent(EventBridgeModel):
    model_config = DEFERRED

    detail_type: Literal["ECS Task State Change"] = Field(alias="detail-type")
    detail: EcsTask


class EcsDeployment(SourceModel):
    """``detail`` of "ECS Deployment State Change"; the service's ARN is the event's resource."""

    event_name: str = Field(alias="eventName", min_length=1)
    event_type: str | None = Field(default=None, alias="eventType")
    deployment_id: str | None = Field(default=None, alias="deploymentId")
    reason: str | None = None


class EcsDeploymentEvent(EventBridgeModel):
    model_config = DEFERRED

    detail_type: Literal["ECS Deployment State Change"] = Field(alias="detail-type")
    detail: EcsDeployment


class RdsEvent(SourceModel):
    """``detail`` of "RDS DB Instance Event" and "RDS DB Cluster Event"."""

    event_categories: list[str] = Field(default_factory=list, alias="EventCategories")
    source_type: str | None = Field(default=None, alias="SourceType")
    source_arn: str | None = Field(default=None, alias="SourceArn")
    source_identifier: str = Field(alias="SourceIdentifier", min_length=1)
    message: str = Field(default="", alias="Message")
    event_id: str = Field(default="", alias="EventID")
    date: AwsTimestamp | None = Field(default=None, alias="Date")


class RdsNotification(EventBridgeModel):
    model_config = DEFERRED

    detail_type: Literal["RDS DB Instance Event", "RDS DB Cluster Event"] = Field(alias="detail-type")
    detail: RdsEvent


class ScalingActivity(SourceModel):
    """``detail`` of the EC2 Auto Scaling instance launch and terminate events."""

    auto_scaling_group_name: str = Field(alias="AutoScalingGroupName", min_length=1)
    activity_id: str | None = Field(default=None, alias="ActivityId")
    status_code: str | None = Field(default=None, alias="StatusCode")
    status_message: str | None = Field(default=None, alias="StatusMessage")
    description: str | None = Field(default=None, alias="Description")
    cause: str | None = Field(default=None, alias="Cause")
    ec2_instance_id: str | None = Field(default=None, alias="EC2InstanceId")
    end_time: AwsTimestamp | None = Field(default=None, alias="EndTime")


class ScalingActivityEvent(EventBridgeModel):
    model_config = DEFERRED

    detail_type: Literal[
        "EC2 Instance Launch Successful",
        "EC2 Instance Launch Unsuccessful",
        "EC2 Instance Terminate Successful",
        "EC2 Instance Terminate Unsuccessful",
    ] = Field(alias="detail-type")
    detail: ScalingActivity
